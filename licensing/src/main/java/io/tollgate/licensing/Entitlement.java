package io.tollgate.licensing;

import java.util.Objects;
import java.util.Optional;

/**
 * The decision for one plugin version on this device: the license that entitles it, or why none does.
 *
 * @param plugin   plugin (model) name
 * @param version  plugin version (OSGi syntax)
 * @param license  the entitling license; empty when refused
 * @param refusal  why it is refused; empty when entitled
 * @param reason   full sentence for logs, {@code /admin/plugins} and error bodies, starting with
 *                 {@code refusal.words()}, e.g. "no license: no license on this box covers plugin fashion-mnist
 *                 (install one with bin/tollgate license install FILE)"; {@code ""} when entitled
 * @since 1.0
 */
public record Entitlement(String plugin, String version, Optional<License> license, Optional<Refusal> refusal,
                          String reason) {
    public Entitlement {
        Objects.requireNonNull(plugin, "plugin");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(license, "license");
        Objects.requireNonNull(refusal, "refusal");
        Objects.requireNonNull(reason, "reason");
        if (license.isPresent() == refusal.isPresent()) {
            throw new IllegalArgumentException("exactly one of license and refusal");
        }
    }

    public static Entitlement granted(String plugin, String version, License license) {
        return new Entitlement(plugin, version, Optional.of(license), Optional.empty(), "");
    }

    public static Entitlement refused(String plugin, String version, Refusal refusal, String reason) {
        return new Entitlement(plugin, version, Optional.empty(), Optional.of(refusal), reason);
    }

    public boolean entitled() {
        return license.isPresent();
    }
}

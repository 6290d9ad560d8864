package io.tollgate.licensing;

import java.time.Instant;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The entitlement rules (docs/licensing.md, "Which license wins"): pure functions of their arguments, no I/O.
 *
 * @since 1.0
 */
public final class LicenseRules {
    /**
     * The order a candidate license is checked in; its refusal is the first check it fails. When no candidate is
     * usable, the refusal reported is the one of the candidate that got furthest down this list (the "closest"
     * one): a license for this device that only lacks {@code allow_code} says CODE_NOT_ALLOWED, not the REVOKED
     * of an older license beside it.
     */
    public static final List<Refusal> PRECEDENCE = List.of(Refusal.REVOKED, Refusal.WRONG_DEVICE,
            Refusal.VERSION_NOT_COVERED, Refusal.NOT_YET_VALID, Refusal.EXPIRED, Refusal.CODE_NOT_ALLOWED);

    /** Best first: latest expiry, then latest issue time, then license id (so the choice is deterministic). */
    private static final Comparator<License> BEST = Comparator.comparing(License::expires)
            .thenComparing(License::issuedAt).thenComparing(License::id).reversed();

    private LicenseRules() {
    }

    /**
     * The whole install-time decision for one plugin version.
     *
     * @param plugin                    plugin (model) name, the descriptor's {@code name}
     * @param version                   plugin version (OSGi syntax)
     * @param carriesCode               whether the plugin jar carries code (class files or native libraries)
     * @param signerFingerprint         the jar's signer ({@link PluginSignatures#verify}), or null when unsigned
     *                                  (then the answer is UNSIGNED; a TAMPERED jar is refused by the caller from
     *                                  the exception before asking)
     * @param trustedVendorFingerprints the box's trusted vendor keys
     * @param licenses                  every verified license on the box (others' plugins and vendors included)
     * @param revoked                   revoked license ids ({@link LicenseFiles#readRevocations}, merged)
     * @param deviceId                  this box's device id
     * @param deviceKeyFingerprint      this box's device key fingerprint ({@link Pem#fingerprint})
     * @param now                       the time to decide at
     * @return granted with the best usable license (latest expiry, then latest issued_at), or refused: UNSIGNED,
     *         UNKNOWN_VENDOR, NO_LICENSE (no license of the signer's names the plugin), else the closest candidate's
     *         refusal ({@link #PRECEDENCE}); the reason is a full sentence starting with the refusal's words
     */
    public static Entitlement decide(String plugin, String version, boolean carriesCode, String signerFingerprint,
                                     Set<String> trustedVendorFingerprints, Collection<License> licenses,
                                     Set<String> revoked, String deviceId, String deviceKeyFingerprint,
                                     Instant now) {
        String what = "plugin " + plugin + " " + version;
        if (signerFingerprint == null) {
            return Entitlement.refused(plugin, version, Refusal.UNSIGNED, Refusal.UNSIGNED.words() + ": " + what
                    + " carries no vendor signature (only vendor-signed plugins are installed)");
        }
        if (!trustedVendorFingerprints.contains(signerFingerprint)) {
            return Entitlement.refused(plugin, version, Refusal.UNKNOWN_VENDOR, Refusal.UNKNOWN_VENDOR.words() + ": "
                    + what + " is signed by key " + signerFingerprint + ", which is not a trusted vendor of this box"
                    + " (trust it with bin/tollgate vendor trust PUB.pem)");
        }
        License best = null;
        License closest = null;
        int closestStep = -1;
        for (License license : licenses) {
            if (!license.plugin().equals(plugin) || !license.vendorKey().equals(signerFingerprint)) {
                continue;
            }
            Optional<Refusal> refusal = check(license, version, carriesCode, revoked, deviceId,
                    deviceKeyFingerprint, now);
            if (refusal.isEmpty()) {
                if (best == null || BEST.compare(license, best) < 0) {
                    best = license;
                }
                continue;
            }
            int step = PRECEDENCE.indexOf(refusal.get());
            if (step > closestStep || (step == closestStep && BEST.compare(license, closest) < 0)) {
                closest = license;
                closestStep = step;
            }
        }
        if (best != null) {
            return Entitlement.granted(plugin, version, best);
        }
        if (closest == null) {
            return Entitlement.refused(plugin, version, Refusal.NO_LICENSE, Refusal.NO_LICENSE.words()
                    + ": no license on this box covers plugin " + plugin + " from vendor key " + signerFingerprint
                    + " (install one with bin/tollgate license install FILE)");
        }
        Refusal refusal = PRECEDENCE.get(closestStep);
        return Entitlement.refused(plugin, version, refusal, reason(refusal, closest, what, deviceId));
    }

    /**
     * The time-only part, for a license already chosen (cheap: two comparisons; used per request).
     *
     * @return empty when {@code notBefore <= now < expires}; else NOT_YET_VALID or EXPIRED
     */
    public static Optional<Refusal> validity(License license, Instant now) {
        if (now.isBefore(license.notBefore())) {
            return Optional.of(Refusal.NOT_YET_VALID);
        }
        if (!now.isBefore(license.expires())) {
            return Optional.of(Refusal.EXPIRED);
        }
        return Optional.empty();
    }

    /** A full sentence for a refusal of a chosen license, starting with the refusal's words (for logs and bodies). */
    public static String reason(Refusal refusal, License license) {
        return reason(refusal, license, "plugin " + license.plugin(), "");
    }

    private static Optional<Refusal> check(License license, String version, boolean carriesCode, Set<String> revoked,
                                           String deviceId, String deviceKeyFingerprint, Instant now) {
        if (revoked.contains(license.id())) {
            return Optional.of(Refusal.REVOKED);
        }
        if (license.bound() && (!license.deviceId().equals(deviceId)
                || !license.deviceKey().equals(deviceKeyFingerprint))) {
            return Optional.of(Refusal.WRONG_DEVICE);
        }
        if (!Versions.covers(license.versions(), version)) {
            return Optional.of(Refusal.VERSION_NOT_COVERED);
        }
        Optional<Refusal> time = validity(license, now);
        if (time.isPresent()) {
            return time;
        }
        if (carriesCode && !license.allowCode()) {
            return Optional.of(Refusal.CODE_NOT_ALLOWED);
        }
        return Optional.empty();
    }

    private static String reason(Refusal refusal, License l, String what, String deviceId) {
        String lic = "license " + l.id();
        String tail = switch (refusal) {
            case REVOKED -> lic + " for " + what + " was revoked by its vendor " + l.vendor();
            case WRONG_DEVICE -> lic + " for " + what + " is bound to device " + l.deviceId() + " (key "
                    + l.deviceKey() + ")" + (deviceId == null || deviceId.isEmpty() ? "" : ", this is " + deviceId);
            case VERSION_NOT_COVERED -> lic + " covers versions " + l.versions() + " of " + l.plugin() + ", not "
                    + what;
            case NOT_YET_VALID -> lic + " for " + what + " is valid from " + l.notBefore();
            case EXPIRED -> lic + " for " + what + " expired at " + l.expires();
            case CODE_NOT_ALLOWED -> lic + " does not allow code and " + what + " carries code";
            default -> lic + " for " + what;
        };
        return refusal.words() + ": " + tail;
    }
}

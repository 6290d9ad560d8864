package io.tollgate.serving.testing;

import io.tollgate.licensing.Entitlement;
import io.tollgate.licensing.Entitlements;
import io.tollgate.licensing.License;
import io.tollgate.licensing.Refusal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A small in-memory {@link Entitlements} (our own interface, implemented here as the launcher's store implements it,
 * minus files and signatures): licenses are added and removed by the test, each plugin is entitled by the best license
 * naming it that is valid at the time asked (latest expiry, then latest issued), and listeners hear of every change.
 * {@link #everything()} entitles any plugin with a free unbound license, for tests and benchmarks that are not about
 * licensing. Published in the test-jar.
 */
public final class InMemoryEntitlements implements Entitlements {
    private final Map<String, License> licenses = new ConcurrentHashMap<>();
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    private final Map<String, Refusal> revoked = new ConcurrentHashMap<>();
    private final java.util.Set<String> revokedVersions = ConcurrentHashMap.newKeySet();
    private volatile boolean entitleAll;

    /** Entitles every plugin, with a free license ({@code free-<plugin>}: no quota, no expiry). */
    public static InMemoryEntitlements everything() {
        InMemoryEntitlements e = new InMemoryEntitlements();
        e.entitleAll = true;
        return e;
    }

    /** A license for {@code plugin}: unbound, versions [0,∞), from now-1h to {@code expires}, {@code quota} (-1: none). */
    public static License license(String id, String plugin, Instant expires, long quota) {
        Instant now = Instant.now();
        return new License(id, "Test Vendor", "ab".repeat(32), "acme", "", "", plugin, "[0.0.0,999.0.0)",
                now.minusSeconds(3600), expires, "inference", quota, License.UNLIMITED, false, now);
    }

    public void add(License license) {
        licenses.put(license.id(), license);
        changed();
    }

    public void remove(String licenseId) {
        licenses.remove(licenseId);
        changed();
    }

    /** Revokes a license: it no longer entitles anything. */
    public void revoke(String licenseId) {
        revoked.put(licenseId, Refusal.REVOKED);
        changed();
    }

    /** Revokes what entitles version {@code version} of {@code plugin} only (a license for a version range). */
    public void revoke(String plugin, String version) {
        revokedVersions.add(plugin + "@" + version);
        changed();
    }

    private void changed() {
        for (Runnable r : listeners) {
            r.run();
        }
    }

    @Override
    public Entitlement check(String plugin, String version, long nowMillis) {
        Instant now = Instant.ofEpochMilli(nowMillis);
        if (revokedVersions.contains(plugin + "@" + version)) {
            return Entitlement.refused(plugin, version, Refusal.REVOKED, Refusal.REVOKED.words() + ": the license for "
                    + plugin + " " + version + " was revoked by its vendor");
        }
        List<License> named = new ArrayList<>();
        for (License l : licenses.values()) {
            if (l.plugin().equals(plugin)) {
                named.add(l);
            }
        }
        Optional<License> best = named.stream()
                .filter(l -> !revoked.containsKey(l.id()) && !now.isBefore(l.notBefore()) && now.isBefore(l.expires()))
                .max(Comparator.comparing(License::expires).thenComparing(License::issuedAt));
        if (best.isPresent()) {
            return Entitlement.granted(plugin, version, best.get());
        }
        if (named.isEmpty()) {
            if (entitleAll) {
                return Entitlement.granted(plugin, version, new License("free-" + plugin, "Test Vendor", "ab".repeat(32),
                        "acme", "", "", plugin, "[0.0.0,999.0.0)", Instant.EPOCH, Instant.MAX, "inference",
                        License.UNLIMITED, License.UNLIMITED, false, Instant.EPOCH));
            }
            return Entitlement.refused(plugin, version, Refusal.NO_LICENSE, Refusal.NO_LICENSE.words()
                    + ": no license on this box covers plugin " + plugin);
        }
        License l = named.get(0);
        if (revoked.containsKey(l.id())) {
            return Entitlement.refused(plugin, version, Refusal.REVOKED, Refusal.REVOKED.words() + ": license "
                    + l.id() + " was revoked by its vendor");
        }
        if (now.isBefore(l.notBefore())) {
            return Entitlement.refused(plugin, version, Refusal.NOT_YET_VALID, Refusal.NOT_YET_VALID.words()
                    + ": license " + l.id() + " is valid from " + l.notBefore());
        }
        return Entitlement.refused(plugin, version, Refusal.EXPIRED, Refusal.EXPIRED.words() + ": license " + l.id()
                + " expired at " + l.expires());
    }

    @Override
    public List<License> licenses() {
        return List.copyOf(licenses.values());
    }

    @Override
    public List<String> refusedFiles() {
        return List.of();
    }

    @Override
    public void addListener(Runnable listener) {
        if (!listeners.contains(listener)) {
            listeners.add(listener);
        }
    }

    @Override
    public void removeListener(Runnable listener) {
        listeners.remove(listener);
    }
}

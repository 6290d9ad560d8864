package io.tollgate.endpoint.internal;

import io.tollgate.licensing.Entitlements;
import io.tollgate.licensing.License;
import io.tollgate.licensing.QuotaUsage;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The per-license gauges of {@code /metrics} (docs/licensing.md, "Quotas and expiry on the appliance"), from the
 * launcher's {@link Entitlements} (the licenses on the box) and serving's {@link QuotaUsage} (what each has used on
 * this device). Both are optional: without them the series are absent.
 *
 * <pre>
 * tollgate_license_quota_remaining{license,plugin}   prepaid quantity left (licenses with a quota only)
 * tollgate_license_expires_seconds{license,plugin}   expiry, Unix seconds (licenses that expire only)
 * tollgate_license_state{license,state}              1 for the license's state: active, not_yet_valid, expired,
 *                                                     exhausted, revoked, wrong_device, clock_rolled_back,
 *                                                     grace_expired (as GET /admin/licenses says)
 * </pre>
 *
 * <p>Threads: rendered on an event loop; reads the services' in-memory state only.
 */
final class LicenseMetrics {
    static final List<String> STATES = List.of("active", "not_yet_valid", "expired", "exhausted", "revoked",
            "wrong_device", "clock_rolled_back", "grace_expired");

    private final AtomicReference<Entitlements> entitlements = new AtomicReference<>();
    private final AtomicReference<QuotaUsage> quota = new AtomicReference<>();

    void entitlements(Entitlements e) {
        entitlements.set(e);
    }

    void entitlementsGone(Entitlements e) {
        entitlements.compareAndSet(e, null);
    }

    void quota(QuotaUsage q) {
        quota.set(q);
    }

    void quotaGone(QuotaUsage q) {
        quota.compareAndSet(q, null);
    }

    void render(StringBuilder out, Instant now) {
        Entitlements e = entitlements.get();
        if (e == null) {
            return;
        }
        List<License> all;
        try {
            all = e.licenses().stream().sorted(Comparator.comparing(License::id)).toList();
        } catch (RuntimeException ex) {
            return;     // the service going away while we ask: report it as absent
        }
        QuotaUsage q = quota.get();
        EndpointMetrics.header(out, "tollgate_license_quota_remaining", "gauge",
                "Prepaid quantity of the license's meter left on this device (licenses with a quota).");
        long[] used = new long[all.size()];
        for (int i = 0; i < all.size(); i++) {
            License l = all.get(i);
            used[i] = -1;
            if (l.hasQuota() && q != null) {
                try {
                    used[i] = q.used(l.id());
                } catch (RuntimeException ex) {
                    used[i] = -1;
                }
            }
            if (l.hasQuota() && used[i] >= 0) {
                out.append("tollgate_license_quota_remaining{").append(labels(l)).append("} ")
                        .append(Math.max(0, l.quota() - used[i])).append('\n');
            }
        }
        EndpointMetrics.header(out, "tollgate_license_expires_seconds", "gauge",
                "When the license expires, Unix time in seconds (licenses that expire).");
        for (License l : all) {
            if (!l.expires().equals(Instant.MAX)) {
                out.append("tollgate_license_expires_seconds{").append(labels(l)).append("} ")
                        .append(l.expires().getEpochSecond()).append('\n');
            }
        }
        EndpointMetrics.header(out, "tollgate_license_state", "gauge",
                "1 for the license's state: active, not_yet_valid, expired, exhausted (quota used up), revoked,"
                        + " wrong_device (bound to another device), clock_rolled_back or grace_expired (refused until"
                        + " the clock is right or usage sync reaches the cloud).");
        for (int i = 0; i < all.size(); i++) {
            License l = all.get(i);
            String offline = offlineState(q, l);
            String stored = e instanceof io.tollgate.guard.LicenseStore store ? store.stateOf(l, now) : "valid";
            String state = "revoked".equals(stored) ? "revoked" : "wrong device".equals(stored) ? "wrong_device"
                    : now.isBefore(l.notBefore()) ? "not_yet_valid" : !now.isBefore(l.expires()) ? "expired"
                    : offline != null ? offline
                    : l.hasQuota() && used[i] >= l.quota() ? "exhausted" : "active";
            for (String s : STATES) {
                out.append("tollgate_license_state{license=\"").append(EndpointMetrics.escape(l.id()))
                        .append("\",state=\"").append(s).append("\"} ").append(s.equals(state) ? 1 : 0).append('\n');
            }
        }
    }

    private static String offlineState(QuotaUsage q, License l) {
        String why = LicenseRoutes.offlineRefusal(q, l);
        return why == null ? null : why.startsWith(io.tollgate.licensing.Refusal.CLOCK_ROLLBACK.words())
                ? "clock_rolled_back" : "grace_expired";
    }

    private static String labels(License l) {
        return "license=\"" + EndpointMetrics.escape(l.id()) + "\",plugin=\"" + EndpointMetrics.escape(l.plugin()) + "\"";
    }
}

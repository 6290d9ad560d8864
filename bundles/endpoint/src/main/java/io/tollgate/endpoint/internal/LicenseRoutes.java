package io.tollgate.endpoint.internal;

import io.netty.handler.codec.http.HttpResponseStatus;
import io.tollgate.guard.LicenseFolder;
import io.tollgate.guard.LicenseStore;
import io.tollgate.licensing.Entitlements;
import io.tollgate.licensing.License;
import io.tollgate.licensing.LicenseException;
import io.tollgate.licensing.QuotaUsage;
import io.tollgate.licensing.Refusal;
import java.io.IOException;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /admin/licenses} and {@code POST /admin/licenses} (admin role; docs/licensing.md, "On the appliance"):
 * the licenses of the box with their state on this device, and installing one. The state comes from the framework's
 * one {@link Entitlements} service (the launcher's license store); used and remaining quota from {@link QuotaUsage}
 * when the serving side registers it.
 *
 * <p>An install verifies the file against the trusted vendors, writes it atomically to the licenses folder and makes
 * the store read it at once (a plugin waiting for it starts); it runs on its own thread, not the event loop.
 */
final class LicenseRoutes {
    private static final Logger LOG = LoggerFactory.getLogger(LicenseRoutes.class);
    /**
     * The most a {@code POST /admin/licenses} body may hold: a license file's limit (1 MiB, {@code LicenseFiles}),
     * applied while the body is read ({@link RouteBodyLimit}), not after {@code max.body.bytes} were buffered.
     */
    static final int MAX_BODY_BYTES = 1 << 20;
    private volatile Entitlements entitlements;
    private volatile QuotaUsage quotas;
    private final ExecutorService installs = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "tollgate-endpoint-licenses");
        t.setDaemon(true);
        return t;
    });

    void entitlements(Entitlements e) {
        entitlements = e;
    }

    void entitlementsGone(Entitlements e) {
        if (entitlements == e) {
            entitlements = null;
        }
    }

    void quotas(QuotaUsage q) {
        quotas = q;
    }

    void quotasGone(QuotaUsage q) {
        if (quotas == q) {
            quotas = null;
        }
    }

    void close() {
        installs.shutdownNow();
    }

    /** {@code GET /admin/licenses}: {"licenses":[...], "refused_files":[...]}. */
    HttpReply list() throws RequestException {
        Entitlements e = store();
        QuotaUsage q = quotas;
        Instant now = Instant.now();
        return HttpReply.json(HttpResponseStatus.OK, JsonBodies.bytes(g -> {
            g.writeStartObject();
            g.writeArrayFieldStart("licenses");
            for (License l : e.licenses()) {
                g.writeStartObject();
                long used = q == null ? -1 : q.used(l.id());
                fields(g, l, e, now, l.hasQuota() && used >= l.quota(), offlineRefusal(q, l));
                if (q != null) {
                    g.writeNumberField("used", used);
                    if (l.hasQuota()) {
                        g.writeNumberField("remaining", Math.max(0, l.quota() - used));
                    } else {
                        g.writeNullField("remaining");
                    }
                }
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeArrayFieldStart("refused_files");
            for (String f : e.refusedFiles()) {
                g.writeString(f);
            }
            g.writeEndArray();
            g.writeEndObject();
        }));
    }

    /** {@code POST /admin/licenses}: 201 and the license's fields; 400 with the reason, nothing written. */
    CompletionStage<HttpReply> install(byte[] body, String caller) throws RequestException {
        Entitlements e = store();
        if (!(e instanceof LicenseStore store)) {
            throw new RequestException(RequestException.Kind.NOT_IMPLEMENTED, "licenses cannot be installed here: the"
                    + " framework's Entitlements service is not the launcher's license store; use bin/tollgate"
                    + " license install FILE");
        }
        if (body.length == 0) {
            throw RequestException.badRequest("the body is empty: POST the license file (.lic) or revocation list as"
                    + " it is");
        }
        return CompletableFuture.supplyAsync(() -> {
            LicenseFolder.Installed done;
            try {
                done = LicenseFolder.install(store.licenseFolders().get(0), body, store.trustedVendors());
            } catch (LicenseException x) {
                String reason = LicenseStore.reason(x);
                LOG.warn("POST /admin/licenses by {} refused, nothing was installed: {}", caller, reason);
                throw new java.util.concurrent.CompletionException(RequestException.badRequest("the license is"
                        + " refused, nothing was installed: " + reason));
            } catch (IOException x) {
                throw new java.util.concurrent.CompletionException(x);
            }
            store.reload();     // at once: the reply says what the box decided
            Instant now = Instant.now();
            if (done.license() == null) {
                LOG.info("POST /admin/licenses by {}: installed the revocation list {} ({} revoked)", caller,
                        done.file().getFileName(), done.revoked().size());
                return HttpReply.json(HttpResponseStatus.CREATED, JsonBodies.bytes(g -> {
                    g.writeStartObject();
                    g.writeStringField("file", done.file().getFileName().toString());
                    g.writeArrayFieldStart("revoked");
                    for (String id : done.revoked()) {
                        g.writeString(id);
                    }
                    g.writeEndArray();
                    g.writeEndObject();
                }));
            }
            License l = done.license();
            LOG.info("POST /admin/licenses by {}: installed license {} (plugin {} {}, tenant {}) as {}; {}", caller,
                    l.id(), l.plugin(), l.versions(), l.tenant(), done.file().getFileName(), store.stateOf(l, now));
            return HttpReply.json(HttpResponseStatus.CREATED, JsonBodies.bytes(g -> {
                g.writeStartObject();
                fields(g, l, store, now, false, offlineRefusal(quotas, l));
                g.writeStringField("file", done.file().getFileName().toString());
                g.writeEndObject();
            }));
        }, installs);
    }

    private Entitlements store() throws RequestException {
        Entitlements e = entitlements;
        if (e == null) {
            throw new RequestException(RequestException.Kind.NOT_IMPLEMENTED, "licensing is not available: no"
                    + " Entitlements service in the framework (the launcher registers it)");
        }
        return e;
    }

    /**
     * Why serving refuses {@code l} for offline reasons now (clock rolled back, offline grace expired), or null: the
     * serving side's answer ({@link QuotaUsage#offlineRefusal}).
     */
    static String offlineRefusal(QuotaUsage q, License l) {
        if (q == null) {
            return null;
        }
        try {
            return q.offlineRefusal(l).orElse(null);
        } catch (RuntimeException ex) {
            return null;    // the service going away while we ask
        }
    }

    /**
     * @param exhausted the license's quota is used up: a "valid" license says "exhausted" instead
     * @param offline   why serving refuses it for offline reasons, or null: a "valid" license says "clock rolled
     *                  back" or "offline grace expired" instead, with the whole reason in {@code reason}
     */
    private static void fields(com.fasterxml.jackson.core.JsonGenerator g, License l, Entitlements e, Instant now,
                               boolean exhausted, String offline) throws IOException {
        g.writeStringField("id", l.id());
        g.writeStringField("plugin", l.plugin());
        g.writeStringField("versions", l.versions());
        g.writeStringField("tenant", l.tenant());
        g.writeStringField("vendor", l.vendor());
        g.writeStringField("vendor_key", l.vendorKey());
        if (l.bound()) {
            g.writeStringField("device", l.deviceId());
        } else {
            g.writeNullField("device");
        }
        String state = e instanceof LicenseStore s ? s.stateOf(l, now)
                : io.tollgate.licensing.LicenseRules.validity(l, now).map(r -> r.words()).orElse("valid");
        if ("valid".equals(state) && offline != null) {
            g.writeStringField("state", offline.startsWith(Refusal.CLOCK_ROLLBACK.words())
                    ? Refusal.CLOCK_ROLLBACK.words() : Refusal.GRACE_EXPIRED.words());
            g.writeStringField("reason", offline);
        } else {
            g.writeStringField("state", exhausted && "valid".equals(state) ? "exhausted" : state);
        }
        g.writeStringField("not_before", l.notBefore().toString());
        if (l.expires().equals(Instant.MAX)) {
            g.writeNullField("expires");
        } else {
            g.writeStringField("expires", l.expires().toString());
        }
        g.writeStringField("meter", l.meter());
        if (l.hasQuota()) {
            g.writeNumberField("quota", l.quota());
        } else {
            g.writeNullField("quota");
        }
        if (l.graceDays() == License.UNLIMITED) {
            g.writeNullField("grace_days");
        } else {
            g.writeNumberField("grace_days", l.graceDays());
        }
        g.writeBooleanField("allow_code", l.allowCode());
    }
}

package io.tollgate.serving.internal;

import io.tollgate.licensing.Entitlement;
import io.tollgate.licensing.Entitlements;
import io.tollgate.licensing.License;
import io.tollgate.licensing.QuotaUsage;
import io.tollgate.metering.MeteringException;
import io.tollgate.metering.UsageJournal;
import io.tollgate.serving.InferenceException;
import io.tollgate.serving.InferenceException.Reason;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The license check on the request path and the quota ledger (docs/licensing.md, "Quotas and expiry on the
 * appliance").
 *
 * <p>Entitlement: each model version caches the {@link Entitlement} the {@link Entitlements} service gave it, with the
 * window its license is valid in ({@code notBefore <= now < expires}) and the generation of the licensing state it was
 * taken in; a request re-asks only when the window is left or the licensing state changed (the service's listener
 * bumps {@link #changed()}). Refusals are not cached: they are rare and {@code Entitlements.check} is itself a cached
 * lookup.
 *
 * <p>Quota: per license id, an account holds what is claimed: the quantity the usage journal counted for the license
 * when the account opened ({@link UsageJournal#licenseQuantity}, which survives restarts and retention) plus every
 * quantity admitted since. Admission claims the request's quantity atomically (compare-and-set), so concurrent requests
 * can never claim more than the quota; a request that is not served (engine failure, metering refusal) gives its claim
 * back. The request that would cross the quota is refused whole: a box never serves units nobody paid for.
 *
 * <p>Threads: {@link #admit} runs on the caller's thread (a Netty event loop: no I/O, no locks but the account
 * opening once per license); the rest from any thread.
 */
final class LicenseGate implements QuotaUsage {
    private static final Logger LOG = LoggerFactory.getLogger(LicenseGate.class);

    /** An entitlement granted to one model version, valid within [{@code from}, {@code until}) at {@code generation}. */
    record Cached(long generation, long from, long until, Entitlement entitlement) {
    }

    /** What {@link #admit} gives a request: the license id for its usage record and its claim on a quota. */
    static final class Grant {
        private final String licenseId;
        private final Account account;
        private final long quantity;

        Grant(String licenseId, Account account, long quantity) {
            this.licenseId = licenseId;
            this.account = account;
            this.quantity = quantity;
        }

        String licenseId() {
            return licenseId;
        }

        /** The request was not served: its claim goes back to the quota. Call at most once. */
        void cancel() {
            if (account != null) {
                account.claimed.addAndGet(-quantity);
            }
        }

        /** The request was served and its usage record is in the journal. */
        void commit() {
            if (account != null) {
                account.served.addAndGet(quantity);
            }
        }
    }

    /** One license's quota on this device. */
    static final class Account {
        final String licenseId;
        final String meter;
        /** Counted in the journal when the account opened, plus everything admitted since (served or in flight). */
        final AtomicLong claimed;
        /** Counted in the journal when the account opened, plus everything served since. */
        final AtomicLong served;
        /** Set at the first 402, so that the log gets one line per exhaustion, not one per refused request. */
        final java.util.concurrent.atomic.AtomicBoolean exhaustedLogged = new java.util.concurrent.atomic.AtomicBoolean();

        Account(String licenseId, String meter, long counted) {
            this.licenseId = licenseId;
            this.meter = meter;
            this.claimed = new AtomicLong(counted);
            this.served = new AtomicLong(counted);
        }
    }

    private final UsageJournal journal;
    private final OfflineChecks offline;
    private final AtomicLong generation = new AtomicLong();
    private final Map<String, Account> accounts = new ConcurrentHashMap<>();
    private volatile Entitlements entitlements;

    LicenseGate(UsageJournal journal, OfflineChecks offline) {
        this.journal = journal;
        this.offline = offline;
    }

    /** The wall clock requests are checked at (ms since the epoch). */
    long now() {
        return offline.now();
    }

    void bind(Entitlements e) {
        entitlements = e;
        changed();
    }

    /** Forgets {@code e} unless another service replaced it meanwhile. */
    void unbind(Entitlements e) {
        if (entitlements == e) {
            entitlements = null;
        }
        changed();
    }

    Entitlements entitlements() {
        return entitlements;
    }

    /** Licenses, vendors or revocations changed: every cached entitlement is asked again. */
    void changed() {
        generation.incrementAndGet();
    }

    /** Why nothing is served, when no licensing service is bound; empty when one is. */
    Optional<String> unavailable() {
        return entitlements == null ? Optional.of("no licensing service (io.tollgate.licensing.Entitlements) is "
                + "registered, so no model is served: the launcher registers it at start-up (docs/licensing.md)")
                : Optional.empty();
    }

    /**
     * The entitlement of {@code v} at {@code nowMillis}, from its cache when still valid.
     *
     * @throws InferenceException MODEL_NOT_READY when no licensing service is bound
     */
    Entitlement entitlement(ModelVersion v, long nowMillis) throws InferenceException {
        long gen = generation.get();
        Cached c = v.licenseCache();
        if (c != null && c.generation() == gen && nowMillis >= c.from() && nowMillis < c.until()) {
            return c.entitlement();
        }
        Entitlements e = entitlements;
        if (e == null) {
            throw new InferenceException(Reason.MODEL_NOT_READY, unavailable().orElseThrow());
        }
        Entitlement ent = e.check(v.name(), v.licensedVersion(), nowMillis);
        if (ent.entitled()) {
            License l = ent.license().orElseThrow();
            v.licenseCache(new Cached(gen, millis(l.notBefore()), millis(l.expires()), ent));
        }
        return ent;
    }

    /**
     * Admits one request of {@code quantity} items for {@code v}: the version must be entitled now, and when its
     * license has a quota the quantity is claimed from it.
     *
     * @throws InferenceException NOT_LICENSED (403) with the entitlement's reason, or offline grace expired / clock
     *                            rolled back ({@link OfflineChecks}); PAYMENT_REQUIRED (402) naming the
     *                            license when its quota cannot cover the request; METERING_UNAVAILABLE (503) when the
     *                            quota's use cannot be counted; MODEL_NOT_READY (503) without a licensing service
     */
    Grant admit(ModelVersion v, long quantity, long nowMillis) throws InferenceException {
        Entitlement ent = entitlement(v, nowMillis);
        if (!ent.entitled()) {
            throw new InferenceException(Reason.NOT_LICENSED, v.label() + " is not licensed on this box: "
                    + ent.reason());
        }
        License l = ent.license().orElseThrow();
        String offlineRefusal = offline.refusal(l, nowMillis);
        if (offlineRefusal != null) {
            throw new InferenceException(Reason.NOT_LICENSED, v.label() + " is not licensed on this box: "
                    + offlineRefusal);
        }
        if (!l.meter().equals(v.descriptor().meter())) {
            // Counting another meter than the model bills would mis-bill it (images counted as inferences), with or
            // without a quota: refuse, saying why.
            throw new InferenceException(Reason.NOT_LICENSED, v.label() + " is not licensed on this box: license "
                    + l.id() + " counts meter '" + l.meter() + "' but the model bills meter '" + v.descriptor().meter()
                    + "'; install a license for meter '" + v.descriptor().meter() + "'");
        }
        if (!l.hasQuota()) {
            return new Grant(l.id(), null, 0);
        }
        Account a = account(l, v);
        while (true) {
            long claimed = a.claimed.get();
            if (claimed + quantity > l.quota()) {
                long left = Math.max(0, l.quota() - claimed);
                if (left == 0 && a.exhaustedLogged.compareAndSet(false, true)) {
                    LOG.warn("quota exhausted: license {} ({}, plugin {}) has used all {} {} on this device; its "
                            + "requests are answered 402 until a top-up license is installed", l.id(), l.vendor(),
                            l.plugin(), l.quota(), l.meter());
                }
                throw new InferenceException(Reason.PAYMENT_REQUIRED, "quota exhausted: license " + l.id() + " ("
                        + l.vendor() + ", plugin " + l.plugin() + ") has " + left + " of " + l.quota() + " "
                        + l.meter() + " left on this device" + (left > 0 ? " and this request needs " + quantity : "")
                        + "; install a top-up license (bin/tollgate license install FILE)");
            }
            if (a.claimed.compareAndSet(claimed, claimed + quantity)) {
                return new Grant(l.id(), a, quantity);
            }
        }
    }

    /**
     * For a request no version could take ({@code notReady}, MODEL_NOT_READY): when no candidate version is entitled
     * now (e.g. the launcher refused the refreshed plugin after its license expired or was revoked), the client is
     * told the licensing reason (NOT_LICENSED, 403) rather than "not ready"; else {@code notReady} as it is. Off the
     * hot path: only for requests that are refused anyway.
     */
    InferenceException explain(InferenceException notReady, List<ModelVersion> candidates, long nowMillis) {
        Entitlements e = entitlements;
        if (e == null || candidates.isEmpty() || notReady.reason() != Reason.MODEL_NOT_READY) {
            return notReady;
        }
        String reason = null;
        ModelVersion first = null;
        for (ModelVersion v : candidates) {
            Entitlement ent;
            try {
                ent = e.check(v.name(), v.licensedVersion(), nowMillis);
            } catch (RuntimeException ex) {
                return notReady;
            }
            if (ent.entitled()) {
                return notReady;
            }
            if (reason == null) {
                reason = ent.reason();
                first = v;
            }
        }
        return new InferenceException(Reason.NOT_LICENSED, first.label() + " is not licensed on this box: " + reason);
    }

    private Account account(License l, ModelVersion v) throws InferenceException {
        Account a = accounts.get(l.id());
        if (a != null) {
            return a;
        }
        if (!l.meter().equals(v.descriptor().meter())) {
            // Counting another meter than the model bills would serve it for free: refuse, saying why.
            throw new InferenceException(Reason.NOT_LICENSED, v.label() + " is not licensed on this box: license "
                    + l.id() + " counts meter '" + l.meter() + "' but the model bills meter '" + v.descriptor().meter()
                    + "'");
        }
        synchronized (accounts) {
            a = accounts.get(l.id());
            if (a == null) {
                long counted;
                try {
                    counted = journal.licenseQuantity(l.id(), l.meter());
                } catch (MeteringException e) {
                    throw new InferenceException(Reason.METERING_UNAVAILABLE, "metering unavailable: license "
                            + l.id() + " has a quota and " + e.getMessage() + "; the request was not served");
                }
                a = new Account(l.id(), l.meter(), counted);
                accounts.put(l.id(), a);
                LOG.info("license {} ({}): {} of {} {} used on this device", l.id(), l.plugin(), counted, l.quota(),
                        l.meter());
            }
            return a;
        }
    }

    /**
     * Quantity of the license's meter served on this device: the journal's count plus what this serving instance
     * served since; for a license whose use cannot be counted, its whole quota (nothing is left: it is refused).
     */
    @Override
    public long used(String licenseId) {
        Account a = accounts.get(licenseId);
        if (a != null) {
            return a.served.get();
        }
        Entitlements e = entitlements;
        License l = e == null ? null : e.licenses().stream().filter(x -> x.id().equals(licenseId)).findFirst()
                .orElse(null);
        if (l == null) {
            return 0;
        }
        try {
            return journal.licenseQuantity(l.id(), l.meter());
        } catch (MeteringException ex) {
            return l.hasQuota() ? l.quota() : 0;
        }
    }

    /** Clock roll-back or offline grace, as a request for a model under {@code l} would be refused now. */
    @Override
    public Optional<String> offlineRefusal(License l) {
        return Optional.ofNullable(offline.refusal(l, offline.now()));
    }

    private static long millis(Instant t) {
        if (t.equals(Instant.MAX) || t.getEpochSecond() >= Long.MAX_VALUE / 1000 - 1) {
            return Long.MAX_VALUE;
        }
        if (t.getEpochSecond() <= Long.MIN_VALUE / 1000 + 1) {
            return Long.MIN_VALUE;
        }
        return t.toEpochMilli();
    }
}

package io.tollgate.endpoint.internal;

import io.tollgate.endpoint.keys.ApiKey;
import io.tollgate.serving.InferenceException;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * Per-tenant admission of infer requests (issue 11, "per-tenant admission"; decision 2026-11-30 "Per-tenant limits
 * in the endpoint configuration"): a request rate (a token bucket: {@code rate} per second, at most {@code burst}
 * saved up) and a number of requests in flight, per tenant (the tenant of the caller's API key). A refused request is
 * {@link InferenceException.Reason#RATE_LIMITED}: 429 with {@code Retry-After}, never queued.
 *
 * <p>Threads: {@link #admit} runs on the event loops, {@link Ticket#close} wherever the inference completes. The hot
 * path is a map lookup and one CAS on the bucket plus one increment on the in-flight count: no lock. The bucket is
 * kept as its "theoretical arrival time" (GCRA, the form of a token bucket that fits in one {@code long}).
 */
final class TenantLimits {
    /** A limit: {@code rate} requests per second with {@code burst} saved up (0 = no rate limit), {@code concurrent}
     * requests in flight (0 = no limit). */
    record Limit(double rate, int burst, int concurrent) {
        static final Limit NONE = new Limit(0, 0, 0);

        Limit {
            if (rate < 0 || Double.isNaN(rate) || Double.isInfinite(rate)) {
                throw new IllegalArgumentException("rate must be 0 (no limit) or a positive number of requests per "
                        + "second, not " + rate);
            }
            if (burst < 0) {
                throw new IllegalArgumentException("burst must be 0 (the rate, rounded up) or more, not " + burst);
            }
            if (concurrent < 0) {
                throw new IllegalArgumentException("concurrent must be 0 (no limit) or more, not " + concurrent);
            }
            if (rate > 0 && burst == 0) {
                burst = (int) Math.max(1, Math.ceil(rate));
            }
        }

        boolean none() {
            return rate == 0 && concurrent == 0;
        }

        @Override
        public String toString() {
            return (rate == 0 ? "no rate limit" : "rate " + fmt(rate) + "/s burst " + burst) + ", "
                    + (concurrent == 0 ? "no concurrency limit" : "concurrent " + concurrent);
        }
    }

    /** The refusal: a {@code RATE_LIMITED} inference exception that knows its {@code Retry-After}. */
    static final class Refused extends InferenceException {
        private static final long serialVersionUID = 1L;

        /** @param retryAfterSeconds whole seconds until the request would be admitted (at least 1) */
        Refused(String message, long retryAfterSeconds) {
            super(Reason.RATE_LIMITED, message, retryAfterSeconds);
        }
    }

    /** What {@link #admit} hands out: closing it ends the request's place in the concurrency limit. */
    interface Ticket extends AutoCloseable {
        @Override
        void close();
    }

    private static final Ticket FREE = () -> { };

    /** One tenant's state. */
    private static final class Bucket {
        final String tenant;
        final Limit limit;
        /** Nanoseconds per token; 0 without a rate limit. */
        final long interval;
        /** How far ahead of now the theoretical arrival time may run: burst tokens. */
        final long tolerance;
        final AtomicLong tat;
        final AtomicInteger inFlight = new AtomicInteger();
        final LongAdder refusedRate = new LongAdder();
        final LongAdder refusedConcurrency = new LongAdder();
        final Ticket release = this::release;

        Bucket(String tenant, Limit limit, long now) {
            this.tenant = tenant;
            this.limit = limit;
            this.interval = limit.rate() == 0 ? 0 : Math.max(1, Math.round(1e9 / limit.rate()));
            this.tolerance = interval * limit.burst();
            this.tat = new AtomicLong(now);
        }

        private void release() {
            inFlight.decrementAndGet();
        }
    }

    private final Limit defaults;
    private final Map<String, Limit> overrides;
    private final LongSupplier nanoTime;
    private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();

    TenantLimits(Limit defaults, Map<String, Limit> overrides, LongSupplier nanoTime) {
        this.defaults = defaults;
        this.overrides = Map.copyOf(overrides);
        this.nanoTime = nanoTime;
    }

    /** No limits at all: every request is admitted. */
    static TenantLimits none() {
        return new TenantLimits(Limit.NONE, Map.of(), System::nanoTime);
    }

    /** The limits of the endpoint configuration ({@code tenant.*} keys). */
    static TenantLimits of(EndpointConfig c) {
        Limit defaults;
        try {
            defaults = new Limit(c.tenant_rate_per_second(), c.tenant_rate_burst(), c.tenant_max_concurrent());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("tenant.rate.per.second, tenant.rate.burst, tenant.max.concurrent: "
                    + e.getMessage());
        }
        return new TenantLimits(defaults, parse(c.tenant_limits(), defaults), System::nanoTime);
    }

    /** Whether any tenant has a limit. */
    boolean enabled() {
        return !defaults.none() || overrides.values().stream().anyMatch(l -> !l.none());
    }

    /** The limit of {@code tenant}: its override, else the default. */
    Limit limit(String tenant) {
        return overrides.getOrDefault(tenant, defaults);
    }

    /**
     * Admits a request of {@code tenant} or refuses it. The caller closes the ticket once the request is answered.
     *
     * @throws Refused over the rate (Retry-After: until the next token) or the concurrency limit (Retry-After: 1)
     */
    Ticket admit(String tenant) throws Refused {
        Bucket b = buckets.get(tenant);
        if (b == null) {
            Limit l = limit(tenant);
            if (l.none()) {
                return FREE;   // unlimited tenants keep no state: nothing to grow
            }
            b = buckets.computeIfAbsent(tenant, t -> new Bucket(t, l, nanoTime.getAsLong()));
        }
        if (b.interval > 0) {
            long now = nanoTime.getAsLong();
            while (true) {
                long tat = b.tat.get();
                long next = Math.max(tat, now) + b.interval;
                long ahead = next - now;
                if (ahead > b.tolerance) {
                    b.refusedRate.increment();
                    long waitNanos = ahead - b.tolerance;
                    long seconds = Math.max(1, (waitNanos + 999_999_999L) / 1_000_000_000L);
                    throw new Refused("tenant '" + tenant + "' is over its request rate limit (" + fmt(b.limit.rate())
                            + " requests per second, burst " + b.limit.burst() + "); retry in " + seconds
                            + " s, or ask the operator to raise tenant.limits in the io.tollgate.endpoint "
                            + "configuration", seconds);
                }
                if (b.tat.compareAndSet(tat, next)) {
                    break;
                }
            }
        }
        if (b.limit.concurrent() > 0) {
            if (b.inFlight.incrementAndGet() > b.limit.concurrent()) {
                b.inFlight.decrementAndGet();
                b.refusedConcurrency.increment();
                throw new Refused("tenant '" + tenant + "' has " + b.limit.concurrent() + " requests in flight, its "
                        + "concurrency limit; wait for an answer before sending more, or ask the operator to raise "
                        + "tenant.limits in the io.tollgate.endpoint configuration", 1);
            }
            return b.release;
        }
        return FREE;
    }

    /**
     * The {@code tollgate_tenant_*} series: one per tenant that has a limit and has sent a request (tenants come from
     * the key file, so the label set is bounded by it).
     */
    void render(StringBuilder out) {
        Map<String, Bucket> sorted = new TreeMap<>(buckets);
        EndpointMetrics.header(out, "tollgate_tenant_requests_refused_total", "counter",
                "Infer requests refused with 429 by the tenant's admission limit, by tenant and limit (rate or "
                        + "concurrency).");
        sorted.forEach((t, b) -> {
            String tenant = EndpointMetrics.escape(t);
            out.append("tollgate_tenant_requests_refused_total{tenant=\"").append(tenant)
                    .append("\",limit=\"rate\"} ").append(b.refusedRate.sum()).append('\n');
            out.append("tollgate_tenant_requests_refused_total{tenant=\"").append(tenant)
                    .append("\",limit=\"concurrency\"} ").append(b.refusedConcurrency.sum()).append('\n');
        });
        EndpointMetrics.header(out, "tollgate_tenant_requests_in_flight", "gauge",
                "Infer requests of the tenant admitted and not yet answered (tenants with a concurrency limit).");
        sorted.forEach((t, b) -> {
            if (b.limit.concurrent() > 0) {
                out.append("tollgate_tenant_requests_in_flight{tenant=\"").append(EndpointMetrics.escape(t))
                        .append("\"} ").append(b.inFlight.get()).append('\n');
            }
        });
    }

    /**
     * Parses {@code tenant.limits}: entries separated by {@code ;}, each {@code TENANT: rate=R burst=B concurrent=C}
     * (any of the three, separated by spaces or commas; an unset one is the default's).
     *
     * @throws IllegalArgumentException saying which entry is wrong and what it should look like
     */
    static Map<String, Limit> parse(String text) {
        return parse(text, Limit.NONE);
    }

    static Map<String, Limit> parse(String text, Limit defaults) {
        Map<String, Limit> out = new TreeMap<>();
        if (text == null || text.isBlank()) {
            return out;
        }
        String example = "; write entries like 'line7: rate=5 burst=10 concurrent=2; line8: concurrent=4'";
        for (String entry : text.split(";")) {
            if (entry.isBlank()) {
                continue;
            }
            int colon = entry.indexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("tenant.limits entry '" + entry.trim() + "' has no 'TENANT:'"
                        + example);
            }
            String tenant = entry.substring(0, colon).trim();
            if (!ApiKey.TENANT.matcher(tenant).matches()) {
                throw new IllegalArgumentException("tenant.limits entry '" + entry.trim() + "': '" + tenant
                        + "' is not a tenant (1 to 64 characters of A-Z a-z 0-9 . _ - starting with a letter or a "
                        + "digit)");
            }
            if (out.containsKey(tenant)) {
                throw new IllegalArgumentException("tenant.limits names tenant '" + tenant + "' twice");
            }
            double rate = defaults.rate();
            int burst = defaults.burst();
            int concurrent = defaults.concurrent();
            boolean burstSet = false;
            for (String part : entry.substring(colon + 1).trim().split("[\\s,]+")) {
                if (part.isEmpty()) {
                    continue;
                }
                int eq = part.indexOf('=');
                String key = eq < 0 ? part : part.substring(0, eq).trim().toLowerCase(Locale.ROOT);
                String value = eq < 0 ? "" : part.substring(eq + 1).trim();
                try {
                    switch (key) {
                        case "rate" -> rate = Double.parseDouble(value);
                        case "burst" -> {
                            burst = Integer.parseInt(value);
                            burstSet = true;
                        }
                        case "concurrent" -> concurrent = Integer.parseInt(value);
                        default -> throw new IllegalArgumentException("tenant.limits entry '" + entry.trim()
                                + "': unknown setting '" + part + "' (rate, burst or concurrent)" + example);
                    }
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("tenant.limits entry '" + entry.trim() + "': '" + part
                            + "' needs a number" + example);
                }
            }
            if (!burstSet && rate != defaults.rate()) {
                burst = 0;   // a rate of its own without a burst of its own: the burst follows that rate
            }
            try {
                out.put(tenant, new Limit(rate, burst, concurrent));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("tenant.limits entry '" + entry.trim() + "': " + e.getMessage());
            }
        }
        return out;
    }

    /** "2" for 2.0, "0.5" for 0.5. */
    private static String fmt(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }

    /** "default limit ..., overrides for line7 (...)", for the start-up log line. */
    String describe() {
        StringBuilder s = new StringBuilder("per tenant ").append(defaults);
        overrides.forEach((t, l) -> s.append("; tenant ").append(t).append(": ").append(l));
        return s.toString();
    }
}

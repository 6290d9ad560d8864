package io.tollgate.endpoint.internal;

import io.tollgate.metering.JournalStatus;
import io.tollgate.sync.SyncStatus;
import io.tollgate.sync.SyncStatusProvider;
import io.tollgate.metering.UsageJournal;
import io.tollgate.serving.InferenceException;
import io.tollgate.serving.ModelState;
import io.tollgate.serving.ModelStatus;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of the endpoint, rendered in the Prometheus text format (version 0.0.4). Recording is a few
 * {@link LongAdder} increments, safe from any thread; rendering walks them on demand.
 */
final class EndpointMetrics {
    /** How an infer request ended, as the {@code outcome} label says it. */
    enum Outcome {
        OK, BAD_REQUEST, MODEL_NOT_FOUND, MODEL_NOT_READY, OVERLOADED, METERING_UNAVAILABLE, NOT_LICENSED,
        PAYMENT_REQUIRED, TIMEOUT, RATE_LIMITED, ENGINE_FAILURE, SHUTTING_DOWN, REMOTE_UNAVAILABLE, REMOTE_FAILED,
        REMOTE_TIMEOUT, REMOTE_REJECTED, LOOP_DETECTED, ERROR;

        final String label = name().toLowerCase(Locale.ROOT);

        static Outcome of(Throwable failure) {
            Throwable t = ErrorMapper.unwrap(failure);
            if (t instanceof InferenceException ie) {
                return valueOf(ie.reason().name());
            }
            if (t instanceof RequestException re) {
                switch (re.kind()) {
                    case BAD_REQUEST:
                    case BODY_TOO_LARGE:
                        return BAD_REQUEST;
                    case NOT_FOUND:
                        return MODEL_NOT_FOUND;
                    case SHUTTING_DOWN:
                        return SHUTTING_DOWN;
                    default:
                        return ERROR;
                }
            }
            return ERROR;
        }
    }

    /** Upper bounds of the latency histogram, in seconds. */
    static final double[] BUCKETS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

    /** Label for requests naming a model the registry does not know, so unknown names cannot grow the series. */
    static final String UNKNOWN_MODEL = "_unknown";

    private static final class ModelCounters {
        final LongAdder[] outcomes = adders(Outcome.values().length);
        final LongAdder[] buckets = adders(BUCKETS.length + 1);
        final LongAdder sumNanos = new LongAdder();
    }

    private final Map<String, ModelCounters> models = new ConcurrentHashMap<>();
    private final Map<Integer, LongAdder> responses = new ConcurrentHashMap<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger connections = new AtomicInteger();
    private final LongAdder connectionsRefused = new LongAdder();
    private final LongAdder bodiesRefused = new LongAdder();
    private volatile java.util.function.LongSupplier bodyBytesHeld = () -> 0;
    private final Map<String, LongAdder> timeouts = new ConcurrentHashMap<>();
    /** The usage journal whose status the tollgate_usage_* gauges show; null while there is none. */
    private final AtomicReference<UsageJournal> journal = new AtomicReference<>();

    private static LongAdder[] adders(int n) {
        LongAdder[] a = new LongAdder[n];
        for (int i = 0; i < n; i++) {
            a[i] = new LongAdder();
        }
        return a;
    }

    /** The sync uplink whose status the tollgate_sync_* gauges show; null while there is none. */
    private final AtomicReference<SyncStatusProvider> sync = new AtomicReference<>();

    /** The tollgate_license_* gauges. */
    private final LicenseMetrics licenses = new LicenseMetrics();

    LicenseMetrics licenses() {
        return licenses;
    }

    /** The readiness checks that {@code /v2/health/ready} and the {@code tollgate_ready} gauges read. */
    private final ReadinessChecks readiness = new ReadinessChecks();

    ReadinessChecks readiness() {
        return readiness;
    }

    void sync(SyncStatusProvider p) {
        sync.set(p);
    }

    void syncGone(SyncStatusProvider p) {
        sync.compareAndSet(p, null);
    }

    void journal(UsageJournal j) {
        journal.set(j);
    }

    /** Forgets {@code j} unless another journal has replaced it meanwhile (a greedy rebind binds first). */
    void journalGone(UsageJournal j) {
        journal.compareAndSet(j, null);
    }

    void requestStarted() {
        inFlight.incrementAndGet();
    }

    void requestFinished() {
        inFlight.decrementAndGet();
    }

    /** HTTP requests accepted and not yet answered (the response not yet written). */
    int inFlight() {
        return inFlight.get();
    }

    /** A connection opened; returns how many are open now, this one included. */
    int connectionOpened() {
        return connections.incrementAndGet();
    }

    void connectionClosed() {
        connections.decrementAndGet();
    }

    /** A connection over {@code max.connections}, answered 503 and closed. */
    void connectionRefused() {
        connectionsRefused.increment();
    }

    /** Where {@code tollgate_http_body_bytes_held} reads from. */
    void bodyBytesHeld(java.util.function.LongSupplier held) {
        bodyBytesHeld = held;
    }

    /** A request body refused because {@code max.inflight.body.bytes} were held. */
    void bodyRefused() {
        bodiesRefused.increment();
    }

    /** A read deadline expired; {@code phase} is idle, headers or body. */
    void timeout(String phase) {
        timeouts.computeIfAbsent(phase, p -> new LongAdder()).increment();
    }

    void response(int status) {
        responses.computeIfAbsent(status, s -> new LongAdder()).increment();
    }

    void inference(String model, Outcome outcome, long nanos) {
        ModelCounters c = models.computeIfAbsent(model, m -> new ModelCounters());
        c.outcomes[outcome.ordinal()].increment();
        double seconds = nanos / 1e9;
        int b = 0;
        while (b < BUCKETS.length && seconds > BUCKETS[b]) {
            b++;
        }
        c.buckets[b].increment();
        c.sumNanos.add(nanos);
    }

    /** The exposition text; {@code registry} gives the model gauges. */
    String render(List<ModelStatus> registry) {
        StringBuilder out = new StringBuilder(4096);
        Map<String, ModelCounters> sorted = new TreeMap<>(models);

        header(out, "tollgate_inference_requests_total", "counter",
                "Infer requests answered, by model and outcome (ok or the failure reason).");
        sorted.forEach((model, c) -> {
            for (Outcome o : Outcome.values()) {
                long n = c.outcomes[o.ordinal()].sum();
                if (n > 0 || o == Outcome.OK) {
                    out.append("tollgate_inference_requests_total{model=\"").append(escape(model))
                            .append("\",outcome=\"").append(o.label).append("\"} ").append(n).append('\n');
                }
            }
        });

        header(out, "tollgate_inference_request_duration_seconds", "histogram",
                "Time from receiving an infer request to its response being ready, by model.");
        sorted.forEach((model, c) -> {
            String m = escape(model);
            long cumulative = 0;
            for (int b = 0; b <= BUCKETS.length; b++) {
                cumulative += c.buckets[b].sum();
                String le = b < BUCKETS.length ? Double.toString(BUCKETS[b]) : "+Inf";
                out.append("tollgate_inference_request_duration_seconds_bucket{model=\"").append(m)
                        .append("\",le=\"").append(le).append("\"} ").append(cumulative).append('\n');
            }
            out.append("tollgate_inference_request_duration_seconds_sum{model=\"").append(m).append("\"} ")
                    .append(c.sumNanos.sum() / 1e9).append('\n');
            out.append("tollgate_inference_request_duration_seconds_count{model=\"").append(m).append("\"} ")
                    .append(cumulative).append('\n');
        });

        header(out, "tollgate_http_requests_in_flight", "gauge", "HTTP requests received and not yet answered.");
        out.append("tollgate_http_requests_in_flight ").append(inFlight.get()).append('\n');

        header(out, "tollgate_http_connections_open", "gauge", "Open HTTP connections (max.connections bounds them).");
        out.append("tollgate_http_connections_open ").append(connections.get()).append('\n');
        header(out, "tollgate_http_connections_refused_total", "counter",
                "Connections over max.connections, answered 503 and closed.");
        out.append("tollgate_http_connections_refused_total ").append(connectionsRefused.sum()).append('\n');
        header(out, "tollgate_http_body_bytes_held", "gauge",
                "Bytes of request bodies held now, from their first byte until their answer (max.inflight.body.bytes).");
        out.append("tollgate_http_body_bytes_held ").append(bodyBytesHeld.getAsLong()).append('\n');
        header(out, "tollgate_http_bodies_refused_total", "counter",
                "Request bodies answered 503 because max.inflight.body.bytes were held at once.");
        out.append("tollgate_http_bodies_refused_total ").append(bodiesRefused.sum()).append('\n');
        header(out, "tollgate_http_read_timeouts_total", "counter",
                "Connections closed by a read deadline, by phase: idle (idle.timeout.ms), headers (header.timeout.ms), "
                        + "body (body.timeout.ms).");
        for (String phase : List.of("idle", "headers", "body")) {
            LongAdder n = timeouts.get(phase);
            out.append("tollgate_http_read_timeouts_total{phase=\"").append(phase).append("\"} ")
                    .append(n == null ? 0 : n.sum()).append('\n');
        }

        header(out, "tollgate_http_responses_total", "counter", "HTTP responses sent, by status code.");
        new TreeMap<>(responses).forEach((code, n) ->
                out.append("tollgate_http_responses_total{code=\"").append(code).append("\"} ").append(n.sum())
                        .append('\n'));

        header(out, "tollgate_model_ready", "gauge", "1 when the model version is READY, else 0.");
        for (ModelStatus s : registry) {
            out.append("tollgate_model_ready{").append(modelLabels(s)).append("} ")
                    .append(s.state() == ModelState.READY ? 1 : 0).append('\n');
        }
        header(out, "tollgate_model_state", "gauge", "1 for the lifecycle state the model version is in.");
        for (ModelStatus s : registry) {
            out.append("tollgate_model_state{").append(modelLabels(s)).append(",state=\"")
                    .append(s.state().name().toLowerCase(Locale.ROOT)).append("\"} 1\n");
        }
        header(out, "tollgate_model_in_flight", "gauge", "Requests the serving layer is running for the model version.");
        for (ModelStatus s : registry) {
            out.append("tollgate_model_in_flight{").append(modelLabels(s)).append("} ").append(s.inFlight()).append('\n');
        }
        header(out, "tollgate_model_served_total", "counter", "Requests the model version served since it was loaded.");
        for (ModelStatus s : registry) {
            out.append("tollgate_model_served_total{").append(modelLabels(s)).append("} ").append(s.served())
                    .append('\n');
        }
        renderJournal(out);
        licenses.render(out, java.time.Instant.now());
        renderSync(out);
        renderReadiness(out);
        return out.toString();
    }

    /** One {@code status()} call: a snapshot taken under the journal's lock, no disk access. */
    private void renderJournal(StringBuilder out) {
        UsageJournal j = journal.get();
        JournalStatus s = null;
        if (j != null) {
            try {
                s = j.status();
            } catch (RuntimeException e) {
                s = null; // a journal going away while we ask: report it as absent
            }
        }
        boolean up = s != null && !s.closed();
        header(out, "tollgate_usage_journal_up", "gauge",
                "1 while a usage journal is open; 0 means metered requests are refused.");
        out.append("tollgate_usage_journal_up ").append(up ? 1 : 0).append('\n');
        if (s == null) {
            return;
        }
        gauge(out, "tollgate_usage_last_seq", "Sequence number of the newest usage journal record (usage, seal or start).",
                s.lastSeq());
        gauge(out, "tollgate_usage_first_seq", "Lowest sequence number still in the usage journal on disk.", s.firstSeq());
        gauge(out, "tollgate_usage_last_sealed_seq", "Highest sequence number covered by a signed seal.",
                s.lastSealedSeq());
        gauge(out, "tollgate_usage_released_seq", "Highest sequence number the cloud acknowledged (released).",
                s.releasedSeq());
        gauge(out, "tollgate_usage_disk_bytes", "Bytes the usage journal takes, as counted against its disk budget.",
                s.diskUsedBytes());
        gauge(out, "tollgate_usage_disk_budget_bytes", "The usage journal's configured disk budget (disk.budget.bytes).",
                s.diskBudgetBytes());
        gauge(out, "tollgate_usage_disk_warning", "1 from 80% of the usage journal's disk budget on.",
                s.diskWarning() ? 1 : 0);
        gauge(out, "tollgate_usage_refusing", "1 while the usage journal refuses records (disk budget reached or "
                + "disk full; metered requests get 503).", s.refusing() ? 1 : 0);
    }

    /** One gauge per readiness check, 1 when ready, with its name and whether the appliance needs it. */
    private void renderReadiness(StringBuilder out) {
        List<ReadinessChecks.State> states = readiness.states();
        header(out, "tollgate_ready", "gauge", "1 when the appliance is ready (every required check is), else 0.");
        out.append("tollgate_ready ").append(ReadinessChecks.ready(states) ? 1 : 0).append('\n');
        header(out, "tollgate_ready_check", "gauge", "1 when this part of the appliance is ready, else 0 (the reason is "
                + "in /v2/health/ready and the log); required=\"false\" parts do not make the appliance unready.");
        for (ReadinessChecks.State s : states) {
            out.append("tollgate_ready_check{check=\"").append(escape(s.name())).append("\",required=\"")
                    .append(s.required()).append("\"} ").append(s.ready() ? 1 : 0).append('\n');
        }
    }

    /** The uplink's status snapshot: link state, backlog and how far the cloud has acknowledged. */
    private void renderSync(StringBuilder out) {
        SyncStatusProvider p = sync.get();
        SyncStatus s = null;
        if (p != null) {
            try {
                s = p.syncStatus();
            } catch (RuntimeException e) {
                s = null; // an uplink going away while we ask: report it as absent
            }
        }
        if (s == null) {
            return;
        }
        header(out, "tollgate_sync_link", "gauge", "1 for the usage uplink's current link state (DISABLED: no broker "
                + "configured, CONNECTING, ONLINE, STOPPED).");
        for (SyncStatus.LinkState state : SyncStatus.LinkState.values()) {
            out.append("tollgate_sync_link{state=\"").append(state.name()).append("\"} ")
                    .append(s.link() == state ? 1 : 0).append('\n');
        }
        gauge(out, "tollgate_sync_acked_seq", "Highest sequence number the cloud acknowledged as stored.", s.ackedSeq());
        gauge(out, "tollgate_sync_backlog_records", "Usage journal records not yet acknowledged by the cloud.",
                s.backlog());
        gauge(out, "tollgate_sync_oldest_unacked_age_seconds", "Age of the oldest record the cloud has not "
                + "acknowledged (0 when none).", s.oldestUnackedAgeMs() / 1000);
        gauge(out, "tollgate_sync_last_ack_timestamp_seconds", "When the last ack arrived (Unix time; 0 = never).",
                s.lastAckEpochMs() / 1000);
        header(out, "tollgate_sync_records_sent_total", "counter", "Records published to the broker (resends included).");
        out.append("tollgate_sync_records_sent_total ").append(s.recordsSent()).append('\n');
        header(out, "tollgate_sync_bytes_sent_total", "counter", "Batch bytes published to the broker.");
        out.append("tollgate_sync_bytes_sent_total ").append(s.bytesSent()).append('\n');
        header(out, "tollgate_sync_connects_total", "counter", "Successful connections to the broker.");
        out.append("tollgate_sync_connects_total ").append(s.connects()).append('\n');
        header(out, "tollgate_sync_acks_rejected_total", "counter", "Acks ignored because their signature was missing "
                + "or did not verify with the cloud key (someone else publishes on the ack topic).");
        out.append("tollgate_sync_acks_rejected_total ").append(s.acksRejected()).append('\n');
        gauge(out, "tollgate_sync_broker_max_packet_bytes", "The broker's maximum packet size from CONNACK (0: none "
                + "stated); usage batches are sized to fit it.", s.brokerMaxPacketBytes());
        header(out, "tollgate_sync_disconnects_after_publish_total", "counter", "Connections the broker dropped after "
                + "a publish before taking any batch on them (each one backs off longer).");
        out.append("tollgate_sync_disconnects_after_publish_total ").append(s.disconnectsAfterPublish()).append('\n');
        header(out, "tollgate_sync_size_limited", "gauge", "1 while the broker's maximum packet size limits sending; "
                + "the reason label says how (batches split, or a record too large that holds sending).");
        out.append("tollgate_sync_size_limited");
        if (!s.sizeLimit().isEmpty()) {
            out.append("{reason=\"").append(escape(s.sizeLimit())).append("\"} 1\n");
        } else {
            out.append(" 0\n");
        }
        header(out, "tollgate_sync_cmd_total", "counter", "Messages on the cloud's command topic (license files, "
                + "revocation lists) by command and result (installed, duplicate, refused, disabled, failed).");
        for (SyncStatus.CommandCount c : s.commands()) {
            out.append("tollgate_sync_cmd_total{command=\"").append(escape(c.command())).append("\",result=\"")
                    .append(escape(c.result())).append("\"} ").append(c.count()).append('\n');
        }
    }

    private static void gauge(StringBuilder out, String name, String help, long value) {
        header(out, name, "gauge", help);
        out.append(name).append(' ').append(value).append('\n');
    }

    private static String modelLabels(ModelStatus s) {
        return "model=\"" + escape(s.name()) + "\",version=\"" + escape(s.version()) + "\"";
    }

    static void header(StringBuilder out, String name, String type, String help) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    /** Label value escaping of the text format: backslash, double quote and line feed. */
    /**
     * The remote routes (hybrid overflow): {@code tollgate_route_requests_total} and
     * {@code tollgate_route_failures_total} labelled by model and route, and {@code tollgate_route_breaker_state}
     * labelled by route only (one series per state, 1 for the current one): the models routed to one route name share
     * its breaker (decision 2026-12-01 "Hybrid overflow defects").
     */
    static void renderRoutes(StringBuilder out, List<io.tollgate.serving.RouteStatus> routes) {
        if (routes.isEmpty()) {
            return;
        }
        out.append("# HELP tollgate_route_requests_total Requests sent to a model's remote route.\n")
                .append("# TYPE tollgate_route_requests_total counter\n");
        for (io.tollgate.serving.RouteStatus r : routes) {
            out.append("tollgate_route_requests_total{").append(routeLabels(r)).append("} ").append(r.requests())
                    .append('\n');
        }
        out.append("# HELP tollgate_route_failures_total Remote calls that failed (5xx, timeout, connection,"
                + " invalid answer; not a 4xx).\n").append("# TYPE tollgate_route_failures_total counter\n");
        for (io.tollgate.serving.RouteStatus r : routes) {
            out.append("tollgate_route_failures_total{").append(routeLabels(r)).append("} ").append(r.failures())
                    .append('\n');
        }
        out.append("# HELP tollgate_route_breaker_state The circuit breaker state of a route (1 for the current).\n")
                .append("# TYPE tollgate_route_breaker_state gauge\n");
        java.util.Map<String, String> breakers = new java.util.TreeMap<>();
        for (io.tollgate.serving.RouteStatus r : routes) {
            breakers.putIfAbsent(r.route(), r.breaker());
        }
        for (java.util.Map.Entry<String, String> b : breakers.entrySet()) {
            for (String state : List.of("closed", "open", "half_open")) {
                out.append("tollgate_route_breaker_state{route=\"").append(escape(b.getKey())).append("\",state=\"")
                        .append(state).append("\"} ").append(state.equals(b.getValue()) ? 1 : 0).append('\n');
            }
        }
    }

    private static String routeLabels(io.tollgate.serving.RouteStatus r) {
        return "model=\"" + escape(r.model()) + "\",route=\"" + escape(r.route()) + "\"";
    }

    static String escape(String value) {
        if (value.indexOf('\\') < 0 && value.indexOf('"') < 0 && value.indexOf('\n') < 0) {
            return value;
        }
        return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}

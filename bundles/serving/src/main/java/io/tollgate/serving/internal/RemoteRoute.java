package io.tollgate.serving.internal;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tollgate.model.DataType;
import io.tollgate.model.ModelDescriptor;
import io.tollgate.model.ModelNames;
import io.tollgate.model.Tensor;
import io.tollgate.model.TensorSpec;
import io.tollgate.serving.InferenceException.Reason;
import io.tollgate.serving.InferenceRequest;
import io.tollgate.serving.InferenceResponse;
import io.tollgate.serving.RemoteRouteException;
import io.tollgate.serving.RouteStatus;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One model's remote route (hybrid overflow): sends an inference to another Open Inference Protocol v2 server (another
 * Tollgate, Triton, KServe) with the JDK's {@link HttpClient} (HTTP/1.1; TLS with the route's CA; the route's own API
 * key as {@code Authorization: Bearer}, never the caller's), behind a {@link CircuitBreaker}.
 *
 * <p>Tensors go in the binary tensor extension by default (exact, and what Triton and Tollgate speak), JSON with
 * {@code "binary_data": false}. Redirects are refused (a route names its server; a redirect could send the key
 * elsewhere); an answer larger than {@code max_response_bytes} is cut off and refused; the whole call is bounded by
 * {@code timeout_ms}.
 *
 * <p>Status mapping (the {@link RemoteRouteException} reasons): a remote 4xx is {@code REMOTE_REJECTED} with the
 * same status and the remote's message prefixed by the route's name (a 429 with the remote's {@code Retry-After},
 * bounded to 1..60 s), except 401/403/407 (the remote refused this
 * box's key: the owner's mistake, not the caller's), which like a 5xx, 3xx, connection failure or invalid answer are
 * {@code REMOTE_FAILED} (502); no answer within the timeout is {@code REMOTE_TIMEOUT} (504); an open circuit is
 * {@code REMOTE_UNAVAILABLE} (503). Every failure but a 4xx counts toward the breaker.
 *
 * <p>Threads: calls complete on the serving layer's {@code tollgate-remote-N} threads (the HttpClient's executor);
 * nothing here blocks a caller.
 */
final class RemoteRoute {
    private static final Logger LOG = LoggerFactory.getLogger(RemoteRoute.class);
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    /**
     * The engine named by a descriptor made from a remote's metadata. Its max_batch_size is inferred from the metadata
     * ({@link Integer#MAX_VALUE} when the first input's first dimension is -1, else 0) unless the descriptor is
     * {@link #batchDeclared(ModelDescriptor)}: then it is the remote's configured {@code max_batch_size}.
     */
    static final String REMOTE_ENGINE = "remote";
    static final String HEADER_LENGTH = "Inference-Header-Content-Length";
    /** How long fetched metadata is used before it is fetched again. */
    static final long METADATA_TTL_MS = 60_000;
    /** The largest metadata answer read (a model's metadata is a few kB; Triton's largest are far below this). */
    static final long MAX_METADATA_BYTES = 1L << 20;
    /** The most inputs or outputs a remote's metadata may declare. */
    static final int MAX_METADATA_TENSORS = 4096;

    private final RouteConfig config;
    private final String model;
    private final HttpClient client;
    private final CircuitBreaker breaker;
    /** Where answers are handled (and so metered): the serving layer's {@code tollgate-remote-N} threads. */
    private final Executor executor;
    private final LongAdder requests = new LongAdder();
    private final LongAdder failures = new LongAdder();
    /** {@link System#nanoTime()} of the last log of a remote's 429, 0 before any. */
    private final java.util.concurrent.atomic.AtomicLong lastRateLimitLog = new java.util.concurrent.atomic.AtomicLong();
    private volatile ModelDescriptor metadata;
    /**
     * The descriptor (this very object, compared by identity) whose max_batch_size the remote's
     * {@code GET /v2/models/{m}/config} declared, or null when the current metadata's is inferred. Identity, not a
     * value: a declared 8 and an inferred value are both just ints in the public record.
     */
    private volatile ModelDescriptor batchDeclared;
    private volatile long metadataAt;
    private volatile CompletableFuture<ModelDescriptor> fetching;
    /** Why the last metadata fetch failed, or null after a valid one (or before any ended). */
    private volatile RemoteRouteException metadataFailure;

    RemoteRoute(RouteConfig config, String model, Executor executor) throws ModelConfigs.Fault {
        this(config, model, executor, new CircuitBreaker(config.name(), config.failureThreshold(), config.openMs(),
                System::nanoTime));
    }

    /**
     * @param breaker the circuit breaker of the route's name, shared by every model routed to it ({@link RouteTable})
     */
    RemoteRoute(RouteConfig config, String model, Executor executor, CircuitBreaker breaker)
            throws ModelConfigs.Fault {
        this.config = config;
        this.model = model;
        HttpClient.Builder b = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofMillis(config.timeoutMs()))
                .executor(executor);
        if (config.caFile() != null) {
            b.sslContext(trustOf(config.caFile()));
        }
        this.client = b.build();
        // at shutdown the pool refuses work: the answer is then handled on the completing thread, never dropped
        this.executor = task -> {
            try {
                executor.execute(task);
            } catch (java.util.concurrent.RejectedExecutionException stopping) {
                task.run();
            }
        };
        this.breaker = breaker;
    }

    /** The local model this route serves. */
    String model() {
        return model;
    }

    RouteConfig config() {
        return config;
    }

    String accelerator() {
        return "remote:" + config.name();
    }

    CircuitBreaker breaker() {
        return breaker;
    }

    RouteStatus status() {
        return new RouteStatus(model, config.name(), config.mode().text, config.url(),
                breaker.state().name().toLowerCase(java.util.Locale.ROOT), requests.sum(), failures.sum());
    }

    /** The remote model's metadata as last fetched (its name replaced by the local one), or null. */
    ModelDescriptor metadata() {
        ModelDescriptor m = metadata;
        if (m == null || System.currentTimeMillis() - metadataAt > METADATA_TTL_MS) {
            refreshMetadata();
        }
        return m;
    }

    /**
     * Why this box has no metadata of the remote model: the last fetch's failure (REMOTE_FAILED naming what was
     * wrong, a remote 4xx as REMOTE_REJECTED, REMOTE_TIMEOUT), or null when the last fetch was valid or none ended.
     */
    RemoteRouteException metadataFailure() {
        return metadataFailure;
    }

    /**
     * Whether {@code d} is this route's metadata with a max_batch_size the remote's model configuration declared
     * ({@code 0}: no batch dimension; {@code N > 0}: the first dimension of every input and output is the batch),
     * rather than one inferred from the metadata's shapes.
     */
    boolean batchDeclared(ModelDescriptor d) {
        return d != null && d == batchDeclared;
    }

    /**
     * Fetches the metadata in the background unless a fetch is running; the future completes with it, or
     * exceptionally with a {@link RemoteRouteException}. An answer that is not valid metadata (not JSON, no
     * {@code inputs}/{@code outputs} arrays, a wrong type, an invalid version name, larger than
     * {@link #MAX_METADATA_BYTES}) is a REMOTE_FAILED naming what was wrong and counts toward the breaker.
     *
     * <p>The remote's model configuration ({@code GET /v2/models/{m}/config}, which Triton and Tollgate serve) is
     * fetched alongside, best effort ({@link #declaredMaxBatchSize}): when it declares {@code max_batch_size}, the
     * descriptor carries that value and is {@link #batchDeclared(ModelDescriptor)}; when it is missing (a plain KServe
     * server's 404), unusable or not answered within half of {@code timeout_ms}, the descriptor's is inferred as
     * before. It is never a metadata failure and never counts toward the breaker.
     */
    CompletableFuture<ModelDescriptor> refreshMetadata() {
        CompletableFuture<ModelDescriptor> f = fetching;
        if (f != null && !f.isDone()) {
            return f;
        }
        HttpRequest.Builder get = request(URI.create(config.url() + "/v2/models/" + encode(config.remoteModel())))
                .GET();
        long limit = Math.min(config.maxResponseBytes(), MAX_METADATA_BYTES);
        CompletableFuture<ModelDescriptor> next = new CompletableFuture<>();
        fetching = next;
        CompletableFuture<Integer> declared = declaredMaxBatchSize(limit);
        client.sendAsync(get.build(), info -> new LimitedBody(limit, config.name(), "the remote's metadata of"
                        + " model '" + config.remoteModel() + "' is larger than " + limit + " bytes and was cut off"))
                .orTimeout(config.timeoutMs(), TimeUnit.MILLISECONDS)
                .whenComplete((r, e) -> {
                    RemoteRouteException failure;
                    // the remote answered, if with too much (LimitedBody's refusal): not a transport failure
                    boolean answered = e == null || unwrap(e) instanceof RemoteRouteException;
                    if (e != null) {
                        failure = transportFailure(e);
                    } else if (r.statusCode() != 200) {
                        failure = answerFailure(r);
                    } else {
                        try {
                            ModelDescriptor inferred = descriptor(r.body());
                            // completes within half of timeout_ms at most, never exceptionally
                            declared.thenAccept(n -> publish(inferred, n, next));
                            return;
                        } catch (RemoteRouteException x) {
                            failure = x;
                        }
                    }
                    // an answer that is not metadata (garbage, too large, a 5xx) counts like a failed call; a 4xx
                    // names a wrong route.model and does not. A fetch nobody answered (refused, timed out) does not
                    // either: fetches run in the background (a readiness poll starts one) and the inferences
                    // themselves count those. The metadata fetched before stays in use.
                    metadataFailure = failure;
                    if (answered && failure.reason() == Reason.REMOTE_FAILED) {
                        breaker.failure(failure.getMessage());
                    }
                    LOG.debug("route '{}': metadata of '{}' not fetched: {}", config.name(), config.remoteModel(),
                            failure.getMessage());
                    next.completeExceptionally(failure);
                });
        return next;
    }

    /**
     * Makes {@code inferred} (or it with the declared max_batch_size) the metadata in use and completes {@code next}.
     * A descriptor equal to the one in use keeps the one in use: requests in flight hold it, and its declared mark
     * stays theirs.
     */
    private void publish(ModelDescriptor inferred, Integer declaredMaxBatch, CompletableFuture<ModelDescriptor> next) {
        ModelDescriptor d = declaredMaxBatch == null ? inferred : withMaxBatchSize(inferred, declaredMaxBatch);
        ModelDescriptor before = metadata;
        boolean wasDeclared = batchDeclared(before);
        if (before != null && before.equals(d) && wasDeclared == (declaredMaxBatch != null)) {
            d = before;
        } else {
            batchDeclared = declaredMaxBatch == null ? null : d;
            metadata = d;
            if (wasDeclared != (declaredMaxBatch != null) && before != null) {
                LOG.info("route '{}': the max_batch_size of model '{}' is now {}", config.name(),
                        config.remoteModel(), declaredMaxBatch == null ? "inferred from its metadata (its"
                                + " configuration is not available)" : declaredMaxBatch + ", as its configuration"
                                + " declares");
            }
        }
        metadataAt = System.currentTimeMillis();
        metadataFailure = null;
        next.complete(d);
    }

    private static ModelDescriptor withMaxBatchSize(ModelDescriptor d, int maxBatchSize) {
        return new ModelDescriptor(d.name(), d.version(), d.platform(), d.engine(), d.file(), d.inputs(), d.outputs(),
                maxBatchSize, d.labels(), d.meter(), d.licenseFeature(), d.parameters());
    }

    /**
     * The remote model's {@code max_batch_size} as its model configuration declares it ({@code GET
     * /v2/models/{m}/config}, Triton's JSON form of {@code config.pbtxt}: an object with {@code "max_batch_size"} a
     * whole number from 0 to {@link Integer#MAX_VALUE}), fetched with the metadata's rules (this route's key, no
     * redirect, at most {@code limit} bytes) within half of {@code timeout_ms}, so a remote that never answers it
     * still leaves a first request half its budget.
     *
     * @return completes (never exceptionally) with the declared value, or null when the remote has no configuration
     *         (a 404: plain KServe), answers anything else than a usable one, or not in time (logged at debug)
     */
    private CompletableFuture<Integer> declaredMaxBatchSize(long limit) {
        long bound = Math.max(1, config.timeoutMs() / 2);
        HttpRequest get = request(URI.create(config.url() + "/v2/models/" + encode(config.remoteModel())
                + "/config")).timeout(Duration.ofMillis(bound)).GET().build();
        return client.sendAsync(get, info -> new LimitedBody(limit, config.name(), "the remote's configuration of"
                        + " model '" + config.remoteModel() + "' is larger than " + limit + " bytes and was cut off"))
                .orTimeout(bound, TimeUnit.MILLISECONDS)
                .handle((r, e) -> {
                    String unusable;
                    if (e != null) {
                        Throwable t = unwrap(e);
                        unusable = t instanceof HttpTimeoutException || t instanceof TimeoutException
                                ? "not answered within " + bound + " ms (half of route.timeout_ms)"
                                : t instanceof RemoteRouteException x ? x.getMessage()
                                : t.getClass().getSimpleName() + ": "
                                        + redact(printable(String.valueOf(t.getMessage())));
                    } else if (r.statusCode() != 200) {
                        unusable = "answered " + r.statusCode();
                    } else {
                        try {
                            return maxBatchSizeOf(r.body());
                        } catch (IllegalArgumentException x) {
                            unusable = x.getMessage();
                        }
                    }
                    LOG.debug("route '{}': the configuration of '{}' is not used ({}); its max_batch_size is"
                            + " inferred from its metadata", config.name(), config.remoteModel(), unusable);
                    return null;
                });
    }

    /**
     * The {@code max_batch_size} of a model configuration in Triton's JSON form.
     *
     * @throws IllegalArgumentException saying what is wrong when {@code body} is not a JSON object with
     *                                  {@code "max_batch_size"} a whole number from 0 to {@link Integer#MAX_VALUE}
     */
    static int maxBatchSizeOf(byte[] body) {
        JsonNode doc;
        try {
            doc = JSON.readTree(body);
        } catch (IOException e) {
            throw new IllegalArgumentException("it is not JSON");
        }
        if (doc == null || !doc.isObject()) {
            throw new IllegalArgumentException("it is " + (doc == null ? "empty" : "a JSON " + kind(doc))
                    + ", not an object");
        }
        JsonNode n = doc.get("max_batch_size");
        if (n == null || n.isNull()) {
            throw new IllegalArgumentException("it has no \"max_batch_size\"");
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < 0) {
            throw new IllegalArgumentException("\"max_batch_size\" is " + printable(n.toString())
                    + ", not a whole number from 0 to " + Integer.MAX_VALUE);
        }
        return n.intValue();
    }

    /**
     * Sends {@code request} to the remote. The response names the local model, the remote's version, the request's
     * id and {@code remote:<route>} as its accelerator; its compute time is the round trip.
     *
     * @return completes with the answer, or exceptionally with a {@link RemoteRouteException}
     */
    CompletableFuture<InferenceResponse> infer(InferenceRequest request) {
        return infer(request, null, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.timeoutMs()));
    }

    /**
     * Sends {@code request} to the remote; the answer is validated in full before it completes (so before it is
     * metered): every requested output present, each output's datatype the one {@code expected} declares for it,
     * shape and data consistent for the datatype, the version one this box accepts (the requested version when one
     * was asked, else a valid name by {@link ModelNames}); else REMOTE_FAILED (502), counted by the breaker.
     *
     * @param expected   the model as this box knows it (the local descriptor, else the remote's metadata), or null
     * @param deadlineNs {@link System#nanoTime()} by which the whole call (with any metadata fetch before it) must
     *                   be answered: the route's {@code timeout_ms} from the request's start; past it REMOTE_TIMEOUT
     * @return completes with the answer, or exceptionally with a {@link RemoteRouteException}
     */
    CompletableFuture<InferenceResponse> infer(InferenceRequest request, ModelDescriptor expected, long deadlineNs) {
        RemoteRouteException badVersion = checkVersion(request.version(), config.name());
        if (badVersion != null) {
            return CompletableFuture.failedFuture(badVersion);   // never sent: the route addresses its model only
        }
        try {
            forwarded(request, config.name());   // a client's mistake: a 400 before any call or breaker count
        } catch (RemoteRouteException badParameter) {
            return CompletableFuture.failedFuture(badParameter);
        }
        long budgetMs = TimeUnit.NANOSECONDS.toMillis(deadlineNs - System.nanoTime());
        if (budgetMs <= 0) {
            RemoteRouteException late = timedOut();
            requests.increment();
            failures.increment();
            breaker.failure(late.getMessage());
            return CompletableFuture.failedFuture(late);
        }
        if (!breaker.tryAcquire()) {
            return CompletableFuture.failedFuture(new RemoteRouteException(Reason.REMOTE_UNAVAILABLE, config.name(), 0,
                    "route '" + config.name() + "' to " + config.url() + " is not used for "
                            + (breaker.retryInMs() + 999) / 1000 + " s: its circuit breaker is open after repeated"
                            + " failures; retry later"));
        }
        requests.increment();
        byte[][] body;
        try {
            body = encodeRequest(request);
        } catch (RemoteRouteException e) {
            breaker.success();   // nothing went to the remote: the trial slot goes back
            return CompletableFuture.failedFuture(e);
        }
        String path = "/v2/models/" + encode(config.remoteModel())
                + (request.version() == null ? "" : "/versions/" + encode(request.version())) + "/infer";
        HttpRequest.Builder post = request(URI.create(config.url() + path))
                .timeout(Duration.ofMillis(budgetMs))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body[0]));
        if (!request.via().isEmpty()) {
            post.header("Via", String.join(", ", request.via()));    // RouteHops: the boxes it passed through
        }
        if (body[1] != null) {
            post.header(HEADER_LENGTH, new String(body[1], StandardCharsets.US_ASCII))
                    .header("Content-Type", "application/octet-stream");
        } else {
            post.header("Content-Type", "application/json");
        }
        long start = System.nanoTime();
        CompletableFuture<InferenceResponse> result = new CompletableFuture<>();
        client.sendAsync(post.build(), limited())
                .orTimeout(budgetMs, TimeUnit.MILLISECONDS)
                .whenCompleteAsync((r, e) -> {
                    RemoteRouteException failure;
                    if (e != null) {
                        failure = transportFailure(e);
                    } else if (r.statusCode() == 200) {
                        try {
                            InferenceResponse answer = decodeResponse(r, request, System.nanoTime() - start);
                            validate(answer, request, expected);
                            breaker.success();
                            result.complete(answer);
                            return;
                        } catch (RemoteRouteException x) {
                            failure = x;
                        }
                    } else {
                        failure = answerFailure(r);
                    }
                    if (failure.reason() == Reason.REMOTE_REJECTED || failure.reason() == Reason.LOOP_DETECTED) {
                        breaker.success();   // the remote works; the request was wrong, or the routes loop
                    } else {
                        failures.increment();
                        breaker.failure(failure.getMessage());
                    }
                    result.completeExceptionally(failure);
                }, executor);
        return result;
    }

    /**
     * The 400 for a version named in the request path that is not a version name ({@link ModelNames}: {@code ..},
     * {@code .}, empty, with {@code /} or a control character...), or null for none or a valid one. A route sends
     * the version as one path segment of {@code /v2/models/<route.model>/versions/<v>/infer}: with this rule it can
     * never address anything but the route's model.
     */
    static RemoteRouteException checkVersion(String version, String route) {
        if (version == null) {
            return null;
        }
        java.util.Optional<String> problem = ModelNames.problem(version);
        return problem.isEmpty() ? null : new RemoteRouteException(Reason.BAD_REQUEST, route, 0, "version '"
                + printable(version) + "' in the request path " + problem.get() + "; a version is " + ModelNames.RULE
                + " (nothing was sent to route '" + route + "')");
    }

    private HttpRequest.Builder request(URI uri) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofMillis(config.timeoutMs()));
        if (!config.apiKey().isEmpty()) {
            b.header("Authorization", "Bearer " + config.apiKey());
        }
        return b;
    }

    // ---- failures ------------------------------------------------------------------------------

    private static Throwable unwrap(Throwable e) {
        Throwable t = e;
        while ((t instanceof CompletionException || t instanceof java.util.concurrent.ExecutionException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private RemoteRouteException transportFailure(Throwable e) {
        Throwable t = unwrap(e);
        if (t instanceof RemoteRouteException r) {
            return r;
        }
        if (t instanceof HttpTimeoutException || t instanceof TimeoutException) {
            return timedOut();
        }
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof javax.net.ssl.SSLException) {
                Throwable root = c;
                while (root.getCause() != null && root.getCause() != root) {
                    root = root.getCause();
                }
                return new RemoteRouteException(Reason.REMOTE_FAILED, config.name(), 0, "route '" + config.name()
                        + "': TLS with " + config.url() + " failed (" + c.getClass().getSimpleName() + ": "
                        + redact(printable(String.valueOf(root.getMessage()))) + "); the remote's certificate must"
                        + " chain to " + (config.caFile() == null ? "the JVM's CAs (or set route.ca_file)"
                        : "route.ca_file " + config.caFile()) + " and name the host of route.url");
            }
        }
        String what = t instanceof ConnectException ? "cannot connect to " + config.url()
                : "the call to " + config.url() + " failed";
        return new RemoteRouteException(Reason.REMOTE_FAILED, config.name(), 0, "route '" + config.name() + "': "
                + what + " (" + t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": "
                + redact(printable(t.getMessage()))) + ")");
    }

    private RemoteRouteException timedOut() {
        return new RemoteRouteException(Reason.REMOTE_TIMEOUT, config.name(), 0, "route '" + config.name()
                + "': " + config.url() + " did not answer within " + config.timeoutMs() + " ms (route.timeout_ms,"
                + " the whole call with any metadata fetch)");
    }

    /** The exception for a remote answer other than 200. */
    RemoteRouteException answerFailure(HttpResponse<byte[]> r) {
        int status = r.statusCode();
        String remote = redact(remoteMessage(r.body()));
        String prefix = "route '" + config.name() + "': ";
        if (status >= 300 && status < 400) {
            return new RemoteRouteException(Reason.REMOTE_FAILED, config.name(), status, prefix + config.url()
                    + " answered " + status + " (a redirect" + r.headers().firstValue("Location").map(l -> " to "
                    + printable(l)).orElse("") + "), which is refused: set route.url to the server itself");
        }
        if (status == 401 || status == 403 || status == 407) {
            return new RemoteRouteException(Reason.REMOTE_FAILED, config.name(), status, prefix + config.url()
                    + " refused this appliance's key (" + status + ": " + remote + "); the box owner must check"
                    + " route.api_key_file");
        }
        if (status == 429) {
            // the remote is rate-limiting this box (its key or its load): not the caller's mistake nor a failure of
            // the remote; the caller retries when the remote says
            long retry = retryAfterSeconds(r.headers().firstValue("Retry-After").orElse(null));
            RemoteRouteException limited = new RemoteRouteException(Reason.REMOTE_REJECTED, config.name(), status,
                    retry, prefix + config.url() + " is rate-limiting this appliance (429 Too Many Requests: "
                    + remote + "); retry after " + retry + " s");
            long now = System.nanoTime();
            long last = lastRateLimitLog.get();
            // once per 10 s at most: a remote that limits this box answers every request of a burst so
            if ((last == 0 || now - last > TimeUnit.SECONDS.toNanos(10)) && lastRateLimitLog.compareAndSet(last, now)) {
                LOG.warn("{} (answered 429 to the caller; not a breaker failure; logged once per 10 s)",
                        limited.getMessage());
            }
            return limited;
        }
        if (status >= 400 && status < 500) {
            return new RemoteRouteException(Reason.REMOTE_REJECTED, config.name(), status, prefix + remote);
        }
        if (status == 508) {
            // the request came back to a box it passed through (RouteHops): the remote works, the routes loop
            return new RemoteRouteException(Reason.LOOP_DETECTED, config.name(), status, prefix + remote);
        }
        return new RemoteRouteException(Reason.REMOTE_FAILED, config.name(), status, prefix + config.url()
                + " answered " + status + ": " + remote);
    }

    /** The longest {@code Retry-After} a remote's 429 is passed on with, in seconds. */
    static final long MAX_RETRY_AFTER_S = 60;

    /**
     * A remote's {@code Retry-After} in its seconds form, bounded to 1..{@link #MAX_RETRY_AFTER_S}: a remote never
     * makes callers of this box wait longer (nor retry at once); 1 when absent or not whole seconds (the HTTP-date
     * form too: this box does not trust a remote's clock).
     */
    static long retryAfterSeconds(String header) {
        if (header == null || !header.trim().matches("[0-9]{1,18}")) {
            return header != null && header.trim().matches("[0-9]+") ? MAX_RETRY_AFTER_S : 1;
        }
        return Math.max(1, Math.min(MAX_RETRY_AFTER_S, Long.parseLong(header.trim())));
    }

    private static final java.util.regex.Pattern BEARER = java.util.regex.Pattern.compile(
            "(?i)(bearer)\\s+[^\\s\"',;]+");

    /**
     * {@code text} from the remote without this route's API key or any {@code Bearer <token>}: a remote that echoes
     * the key this box sent never shows it to the caller or the log.
     */
    String redact(String text) {
        String out = text;
        String key = config.apiKey();
        if (!key.isEmpty()) {
            out = out.replace(key, "[redacted]");
        }
        return BEARER.matcher(out).replaceAll("$1 [redacted]");
    }

    private static String remoteMessage(byte[] body) {
        if (body == null || body.length == 0) {
            return "(no message)";
        }
        try {
            JsonNode n = JSON.readTree(body);
            if (n != null && n.path("error").isTextual()) {
                return printable(n.path("error").textValue());
            }
        } catch (IOException e) {
            // not JSON: the start of the text
        }
        return printable(new String(body, 0, Math.min(body.length, 300), StandardCharsets.UTF_8));
    }

    /** At most 500 characters, control characters replaced: a remote's text never breaks a log line. */
    static String printable(String s) {
        StringBuilder b = new StringBuilder(Math.min(s.length(), 500));
        for (int i = 0; i < s.length() && b.length() < 500; i++) {
            char c = s.charAt(i);
            b.append(c < 0x20 || c == 0x7f ? ' ' : c);
        }
        return b.toString();
    }

    private RemoteRouteException invalid(String what) {
        return new RemoteRouteException(Reason.REMOTE_FAILED, config.name(), 200, "route '" + config.name() + "': "
                + config.url() + " gave an invalid inference answer: " + what);
    }

    // ---- encoding ------------------------------------------------------------------------------

    /**
     * The request parameters a remote is sent: Triton's {@code priority} and {@code timeout} (µs), the only ones it
     * must know to queue the request as the caller asked. Every other key stays here: a client's own keys must not
     * reach a third-party server, and this box's keys (the tenant, {@code binary_data_output}, which the route sets
     * itself) are none of the remote's business.
     */
    static final List<String> FORWARDED_PARAMETERS = List.of("priority", "timeout");

    /**
     * {@link #FORWARDED_PARAMETERS} the request carries, in that order, each a whole number of 0 or more as Triton
     * reads them.
     *
     * @throws RemoteRouteException BAD_REQUEST naming the parameter when one is another value (nothing is sent)
     */
    static Map<String, Long> forwarded(InferenceRequest request, String route) throws RemoteRouteException {
        Map<String, Long> out = new java.util.LinkedHashMap<>();
        for (String key : FORWARDED_PARAMETERS) {
            Object value = request.parameters().get(key);
            if (value == null) {
                continue;
            }
            long n = -1;
            if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
                n = ((Number) value).longValue();
            } else if (value instanceof java.math.BigInteger b && b.bitLength() < 64) {
                n = b.longValue();
            }
            if (n < 0) {
                throw new RemoteRouteException(Reason.BAD_REQUEST, route, 0, "parameters." + key + " is "
                        + printable(String.valueOf(value)) + "; it must be a whole number, 0 or more"
                        + ("timeout".equals(key) ? " (microseconds)" : "") + " (nothing was sent to route '" + route
                        + "')");
            }
            out.put(key, n);
        }
        return out;
    }

    /** {body, header length as ASCII digits (null for JSON only)}. */
    byte[][] encodeRequest(InferenceRequest request) throws RemoteRouteException {
        boolean binary = config.binaryData();
        ByteArrayOutputStream tail = new ByteArrayOutputStream();
        byte[] header;
        try (ByteArrayOutputStream out = new ByteArrayOutputStream();
             JsonGenerator g = JSON.getFactory().createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("id", request.id());
            g.writeObjectFieldStart("parameters");
            for (Map.Entry<String, Long> p : forwarded(request, config.name()).entrySet()) {
                g.writeNumberField(p.getKey(), p.getValue());
            }
            if (binary) {
                g.writeBooleanField("binary_data_output", true);
            }
            g.writeEndObject();
            g.writeArrayFieldStart("inputs");
            for (Tensor t : request.inputs()) {
                g.writeStartObject();
                g.writeStringField("name", t.name());
                g.writeStringField("datatype", t.type().name());
                g.writeArrayFieldStart("shape");
                for (long d : t.shape()) {
                    g.writeNumber(d);
                }
                g.writeEndArray();
                if (binary) {
                    int before = tail.size();
                    writeBinary(t, tail);
                    g.writeObjectFieldStart("parameters");
                    g.writeNumberField("binary_data_size", tail.size() - before);
                    g.writeEndObject();
                } else {
                    g.writeFieldName("data");
                    writeJsonData(g, t);
                }
                g.writeEndObject();
            }
            g.writeEndArray();
            if (!request.requestedOutputs().isEmpty()) {
                g.writeArrayFieldStart("outputs");
                for (String o : request.requestedOutputs()) {
                    g.writeStartObject();
                    g.writeStringField("name", o);
                    Integer k = request.classification().get(o);
                    if (binary || k != null) {
                        g.writeObjectFieldStart("parameters");
                        if (k != null) {
                            // the remote classifies with its labels (Triton's classification extension): decision
                            // 2026-12-01 "Hybrid overflow defects"
                            g.writeNumberField("classification", k);
                        }
                        if (binary) {
                            g.writeBooleanField("binary_data", true);
                        }
                        g.writeEndObject();
                    }
                    g.writeEndObject();
                }
                g.writeEndArray();
            }
            g.writeEndObject();
            g.flush();
            header = out.toByteArray();
        } catch (IOException e) {
            throw invalid("cannot encode the request: " + e);   // never: in memory
        }
        if (!binary) {
            return new byte[][] {header, null};
        }
        byte[] body = new byte[header.length + tail.size()];
        System.arraycopy(header, 0, body, 0, header.length);
        System.arraycopy(tail.toByteArray(), 0, body, header.length, tail.size());
        return new byte[][] {body, Integer.toString(header.length).getBytes(StandardCharsets.US_ASCII)};
    }

    private static void writeBinary(Tensor t, ByteArrayOutputStream out) {
        if (t.type() == DataType.BYTES) {
            for (byte[] e : t.strings()) {
                out.write(e.length & 0xff);
                out.write(e.length >>> 8 & 0xff);
                out.write(e.length >>> 16 & 0xff);
                out.write(e.length >>> 24 & 0xff);
                out.write(e, 0, e.length);
            }
            return;
        }
        ByteBuffer d = t.data();
        byte[] bytes = new byte[d.remaining()];
        d.get(bytes);
        out.write(bytes, 0, bytes.length);
    }

    private void writeJsonData(JsonGenerator g, Tensor t) throws IOException, RemoteRouteException {
        g.writeStartArray();
        if (t.type() == DataType.BYTES) {
            for (byte[] e : t.strings()) {
                g.writeString(new String(e, StandardCharsets.UTF_8));
            }
            g.writeEndArray();
            return;
        }
        ByteBuffer d = t.data();
        long n = t.elementCount();
        for (long i = 0; i < n; i++) {
            switch (t.type()) {
                case BOOL -> g.writeBoolean(d.get() != 0);
                case UINT8 -> g.writeNumber(d.get() & 0xff);
                case INT8 -> g.writeNumber(d.get());
                case UINT16 -> g.writeNumber(d.getShort() & 0xffff);
                case INT16 -> g.writeNumber(d.getShort());
                case UINT32 -> g.writeNumber(d.getInt() & 0xffffffffL);
                case INT32 -> g.writeNumber(d.getInt());
                case UINT64 -> g.writeNumber(Long.toUnsignedString(d.getLong()));
                case INT64 -> g.writeNumber(d.getLong());
                case FP32 -> g.writeNumber(d.getFloat());
                case FP64 -> g.writeNumber(d.getDouble());
                default -> throw new RemoteRouteException(Reason.BAD_REQUEST, config.name(), 0, "route '"
                        + config.name() + "' sends JSON (binary_data false), which cannot carry " + t.type()
                        + " input '" + t.name() + "'; the box owner may set binary_data true");
            }
        }
        g.writeEndArray();
    }

    // ---- decoding ------------------------------------------------------------------------------

    InferenceResponse decodeResponse(HttpResponse<byte[]> r, InferenceRequest request, long nanos)
            throws RemoteRouteException {
        byte[] body = r.body();
        int headerLength = body.length;
        String h = r.headers().firstValue(HEADER_LENGTH).orElse(null);
        if (h != null) {
            try {
                headerLength = Integer.parseInt(h.trim());
            } catch (NumberFormatException e) {
                throw invalid(HEADER_LENGTH + " is '" + printable(h) + "'");
            }
            if (headerLength < 0 || headerLength > body.length) {
                throw invalid(HEADER_LENGTH + " is " + headerLength + " but the body has " + body.length + " bytes");
            }
        }
        JsonNode doc;
        try {
            doc = JSON.readTree(body, 0, headerLength);
        } catch (IOException e) {
            throw invalid("not JSON");
        }
        if (doc == null || !doc.path("outputs").isArray()) {
            throw invalid("no \"outputs\" array");
        }
        int offset = headerLength;
        List<Tensor> outputs = new ArrayList<>();
        for (JsonNode o : doc.path("outputs")) {
            String name = o.path("name").asText("");
            DataType type;
            try {
                type = DataType.parse(o.path("datatype").asText(null));
            } catch (IllegalArgumentException e) {
                throw invalid("output '" + printable(name) + "': " + e.getMessage());
            }
            JsonNode shapeNode = o.path("shape");
            if (name.isEmpty() || !shapeNode.isArray()) {
                throw invalid("an output without a name or shape");
            }
            long[] shape = new long[shapeNode.size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = shapeNode.get(i).asLong(-1);
                if (shape[i] < 0) {
                    throw invalid("output '" + printable(name) + "' has a negative dimension");
                }
            }
            JsonNode size = o.path("parameters").path("binary_data_size");
            try {
                if (size.isIntegralNumber()) {
                    long n = size.longValue();
                    if (n < 0 || n > body.length - offset) {
                        throw invalid("output '" + printable(name) + "' has binary_data_size " + n + " beyond the body");
                    }
                    ByteBuffer bytes = ByteBuffer.wrap(body, offset, (int) n).slice().order(ByteOrder.LITTLE_ENDIAN);
                    offset += (int) n;
                    outputs.add(type == DataType.BYTES ? Tensor.ofBytes(name, shape, strings(bytes))
                            : Tensor.of(name, type, shape, bytes));
                } else {
                    outputs.add(fromJson(name, type, shape, o.path("data"),
                            "base64".equals(o.path("parameters").path("content_type").asText())));
                }
            } catch (IllegalArgumentException | ArithmeticException e) {
                throw invalid("output '" + printable(name) + "': " + printable(String.valueOf(e.getMessage())));
            }
        }
        JsonNode answeredName = doc.get("model_name");
        if (answeredName != null && !answeredName.isNull() && !(answeredName.isTextual()
                && (answeredName.textValue().equals(config.remoteModel())
                || answeredName.textValue().startsWith(config.remoteModel() + "__isvc-")))) {
            // another model's answer (a remote serving something else under the name, a proxy's mix-up): never
            // handed on or billed as this one's; a server that leaves the name out is taken at its path, and KServe
            // ModelMesh's own form of the name (<name>__isvc-<id>) is the name
            throw invalid("model '" + printable(config.remoteModel()) + "' was asked but the answer names "
                    + (answeredName.isTextual() ? "model '" + printable(answeredName.textValue()) + "'"
                    : "a JSON " + kind(answeredName) + " as its model_name"));
        }
        JsonNode named = doc.get("model_version");
        if (named != null && !named.isNull() && !named.isValueNode()) {
            throw invalid("its model_version is a JSON " + kind(named) + ", not a string");
        }
        String version = named == null || named.isNull() ? "" : named.asText("");
        String asked = request.version() == null || request.version().isBlank() ? null : request.version();
        if (version.isEmpty()) {
            // a KServe server may leave model_version out: the version asked (in the path sent), else the one the
            // remote's metadata names, checked when fetched; never a text the remote chose here
            ModelDescriptor known = metadata;
            if (asked != null) {
                version = asked;
            } else if (known != null) {
                version = known.version();
            } else {
                throw invalid("it names no model_version and the remote's metadata, which would name it, is not"
                        + " known yet");
            }
        } else if (asked != null && !asked.equals(version)) {
            throw invalid("version " + printable(asked) + " was asked but the answer names version '"
                    + printable(version) + "'");
        } else if (asked == null) {
            java.util.Optional<String> problem = ModelNames.problem(version);
            if (problem.isPresent()) {
                throw invalid("its model_version '" + printable(version) + "' " + problem.get() + " (a version is "
                        + ModelNames.RULE + ")");
            }
        }
        return new InferenceResponse(model, version, request.id(), outputs, Math.max(0, nanos), accelerator());
    }

    /**
     * Refuses an answer this box could not hand on (so never meters): no output at all; the same output name twice; an
     * output that was not requested when the request named its outputs (with none named, Triton returns them all); a
     * requested
     * output missing; an output {@code expected} does not declare; when {@code expected} declares that the model
     * batches ({@code max_batch_size > 0} in a local descriptor, or in the remote's configuration:
     * {@link #batchDeclared(ModelDescriptor)}; a remote's metadata alone does not say), an output whose first
     * dimension is not the request's batch (the first dimension of its first input); an output of another datatype
     * than {@code expected} declares (so a numeric output a
     * classification was asked of comes back numeric), or of another rank, or with a fixed dimension of another size
     * than it declares; data that does not fill its shape (checked as the tensors are built). An answer naming
     * another {@code model_name} than the one asked is refused as it is decoded.
     */
    void validate(InferenceResponse answer, InferenceRequest request, ModelDescriptor expected)
            throws RemoteRouteException {
        if (answer.outputs().isEmpty()) {
            // with none requested Triton answers every output, with some those: none at all answers nothing
            throw invalid("it holds no output (an inference answer has at least one)");
        }
        java.util.Set<String> names = new java.util.HashSet<>();
        for (Tensor t : answer.outputs()) {
            if (!names.add(t.name())) {
                throw invalid("output '" + printable(t.name()) + "' comes twice");
            }
        }
        for (String name : request.requestedOutputs()) {
            if (!names.contains(name)) {
                throw invalid("requested output '" + printable(name) + "' is missing");
            }
        }
        for (Tensor t : answer.outputs()) {
            if (!request.requestedOutputs().isEmpty() && !request.requestedOutputs().contains(t.name())) {
                throw invalid("output '" + printable(t.name()) + "' was not requested (requested: "
                        + printable(String.join(", ", request.requestedOutputs())) + ")");
            }
        }
        if (expected != null) {
            // Only a declared max_batch_size is checked: a remote's metadata alone cannot say whether its model
            // batches (a -1 first dimension is also a model without batching whose first axis is dynamic, a
            // detector's boxes [-1,6]), and a right answer refused would open the breaker (decision 2026-12-02,
            // hybrid review). The remote's configuration (/config) declares it (decision 2026-12-02, route /config).
            boolean declared = expected.maxBatchSize() > 0
                    && (!REMOTE_ENGINE.equals(expected.engine()) || batchDeclared(expected));
            long batch = declared && !request.inputs().isEmpty() ? request.inputs().get(0).batchSize() : -1;
            for (Tensor t : answer.outputs()) {
                if (expected.outputs().stream().noneMatch(spec -> spec.name().equals(t.name()))) {
                    throw invalid("output '" + printable(t.name()) + "' is one the model does not declare (it"
                            + " declares " + printable(expected.outputs().stream().map(TensorSpec::name)
                            .collect(java.util.stream.Collectors.joining(", "))) + ")");
                }
                if (batch < 0) {
                    continue;
                }
                long[] shape = t.shape();
                if (shape.length == 0) {
                    throw invalid("output '" + printable(t.name()) + "' has no batch dimension (shape []) but the"
                            + " model batches and the request is a batch of " + batch);
                }
                if (shape[0] != batch) {
                    throw invalid("output '" + printable(t.name()) + "' has the first dimension " + shape[0]
                            + " (shape " + java.util.Arrays.toString(shape) + ") but the request is a batch of "
                            + batch + " (the model batches: every output's first dimension is the batch)");
                }
            }
        }
        for (Tensor t : answer.outputs()) {
            Integer k = request.classification().get(t.name());
            if (k != null) {
                checkClassified(t, k);
            }
        }
        if (expected == null) {
            return;
        }
        for (Tensor t : answer.outputs()) {
            if (request.classification().containsKey(t.name())) {
                continue;   // checked above: BYTES "score:index[:label]"
            }
            for (TensorSpec spec : expected.outputs()) {
                if (spec.name().equals(t.name()) && spec.type() != t.type()) {
                    throw invalid("output '" + printable(t.name()) + "' is " + t.type() + " but the model declares "
                            + spec.type());
                }
                if (spec.name().equals(t.name()) && !spec.accepts(t.shape())) {
                    // a client that read this box's metadata trusts the shape: another rank or a fixed dimension of
                    // another size is another model's answer (-1 dimensions take any size)
                    throw invalid("output '" + printable(t.name()) + "' has the shape "
                            + java.util.Arrays.toString(t.shape()) + " but the model declares "
                            + java.util.Arrays.toString(spec.shape()) + " (-1: any size)");
                }
            }
        }
    }

    private static final java.util.regex.Pattern CLASS_ENTRY = java.util.regex.Pattern.compile(
            "(nan|-?inf|-nan|[-+]?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?):[0-9]+(:.*)?", java.util.regex.Pattern.DOTALL);

    /**
     * An output a classification was asked of comes back as Triton answers it: BYTES, at most {@code k} entries per
     * row (the last dimension), each {@code score:index} or {@code score:index:label} in UTF-8.
     */
    private void checkClassified(Tensor t, int k) throws RemoteRouteException {
        if (t.type() != DataType.BYTES) {
            throw invalid("output '" + printable(t.name()) + "' was asked as a classification of " + k + " classes"
                    + " but came back " + t.type() + ", not BYTES \"score:index:label\" entries");
        }
        long[] shape = t.shape();
        if (shape.length == 0 || shape[shape.length - 1] > k) {
            throw invalid("output '" + printable(t.name()) + "' was asked as a classification of " + k + " classes"
                    + " but has the shape " + java.util.Arrays.toString(shape));
        }
        java.nio.charset.CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder();
        for (byte[] e : t.strings()) {
            String entry;
            try {
                entry = utf8.decode(ByteBuffer.wrap(e)).toString();
            } catch (java.nio.charset.CharacterCodingException x) {
                throw invalid("output '" + printable(t.name()) + "' has a classification entry that is not UTF-8");
            }
            if (!CLASS_ENTRY.matcher(entry).matches()) {
                throw invalid("output '" + printable(t.name()) + "' has the classification entry '" + printable(entry)
                        + "'; expected score:index or score:index:label");
            }
        }
    }

    private static List<byte[]> strings(ByteBuffer b) {
        List<byte[]> out = new ArrayList<>();
        while (b.hasRemaining()) {
            if (b.remaining() < 4) {
                throw new IllegalArgumentException("a BYTES element's length is cut off");
            }
            int n = b.getInt();
            if (n < 0 || n > b.remaining()) {
                throw new IllegalArgumentException("a BYTES element of " + n + " bytes is cut off");
            }
            byte[] e = new byte[n];
            b.get(e);
            out.add(e);
        }
        return out;
    }

    private static Tensor fromJson(String name, DataType type, long[] shape, JsonNode data, boolean base64) {
        List<JsonNode> flat = new ArrayList<>();
        flatten(data, flat);
        if (type == DataType.BYTES) {
            List<byte[]> elements = new ArrayList<>(flat.size());
            for (JsonNode n : flat) {
                elements.add(base64 ? java.util.Base64.getDecoder().decode(n.asText())
                        : n.asText().getBytes(StandardCharsets.UTF_8));
            }
            return Tensor.ofBytes(name, shape, elements);
        }
        if (type == DataType.FP16 || type == DataType.BF16) {
            throw new IllegalArgumentException(type + " data in JSON is not read by a route; the remote should send"
                    + " binary data");
        }
        ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(flat.size(), type.byteSize()))
                .order(ByteOrder.LITTLE_ENDIAN);
        for (JsonNode n : flat) {
            switch (type) {
                case BOOL -> b.put((byte) (n.asBoolean() ? 1 : 0));
                case UINT8, INT8 -> b.put((byte) n.asInt());
                case UINT16, INT16 -> b.putShort((short) n.asInt());
                case UINT32, INT32 -> b.putInt((int) n.asLong());
                case UINT64, INT64 -> b.putLong(n.isTextual() ? Long.parseUnsignedLong(n.asText()) : n.asLong());
                case FP32 -> b.putFloat(number(n).floatValue());
                default -> b.putDouble(number(n));
            }
        }
        b.flip();
        return Tensor.of(name, type, shape, b);
    }

    private static Double number(JsonNode n) {
        if (n.isTextual()) {
            return Double.valueOf(n.textValue());   // "NaN", "Infinity", "-Infinity"
        }
        if (!n.isNumber()) {
            throw new IllegalArgumentException("a data element is " + n.getNodeType() + ", not a number");
        }
        return n.doubleValue();
    }

    private static void flatten(JsonNode n, List<JsonNode> out) {
        if (n.isArray()) {
            for (JsonNode e : n) {
                flatten(e, out);
            }
        } else if (!n.isMissingNode()) {
            out.add(n);
        }
    }

    /**
     * The metadata answer as a descriptor of the local model (engine {@code remote}), checked in full: a JSON object
     * with {@code inputs} and {@code outputs} arrays of tensors (a non-empty name, a known datatype, a shape of whole
     * numbers from -1), {@code versions} (when present) an array of valid version names, {@code platform} (when
     * present) a string.
     *
     * @throws RemoteRouteException REMOTE_FAILED naming what was wrong
     */
    ModelDescriptor descriptor(byte[] body) throws RemoteRouteException {
        JsonNode doc;
        try {
            doc = JSON.readTree(body);
        } catch (IOException e) {
            throw invalidMetadata("it is not JSON");
        }
        if (doc == null || !doc.isObject()) {
            throw invalidMetadata("it is " + (doc == null ? "empty" : "a JSON " + kind(doc)) + ", not an object");
        }
        String version = "1";   // a remote that lists no versions (KServe may not): as GET /v2/models/{m} shows it
        JsonNode versions = doc.get("versions");
        if (versions != null && !versions.isNull()) {
            if (!versions.isArray()) {
                throw invalidMetadata("\"versions\" is a JSON " + kind(versions) + ", not an array of names");
            }
            for (JsonNode v : versions) {
                java.util.Optional<String> problem = v.isTextual() ? ModelNames.problem(v.textValue())
                        : java.util.Optional.of("is a JSON " + kind(v) + ", not a string");
                if (problem.isPresent()) {
                    throw invalidMetadata("a version in \"versions\" " + problem.get() + " (a version is "
                            + ModelNames.RULE + ")");
                }
                version = v.textValue();
            }
        }
        JsonNode platform = doc.get("platform");
        if (platform != null && !platform.isNull() && !platform.isTextual()) {
            throw invalidMetadata("\"platform\" is a JSON " + kind(platform) + ", not a string");
        }
        List<TensorSpec> inputs = specs(doc, "inputs");
        List<TensorSpec> outputs = specs(doc, "outputs");
        boolean batched = !inputs.isEmpty() && inputs.get(0).shape().length > 0 && inputs.get(0).shape()[0] == -1;
        try {
            return new ModelDescriptor(model, version, platform == null || platform.isNull() ? ""
                    : printable(platform.textValue()), REMOTE_ENGINE, "", inputs, outputs,
                    batched ? Integer.MAX_VALUE : 0,
                    List.of(), "inference", "", Map.of());
        } catch (IllegalArgumentException e) {
            throw invalidMetadata(printable(String.valueOf(e.getMessage())));
        }
    }

    private List<TensorSpec> specs(JsonNode doc, String field) throws RemoteRouteException {
        JsonNode array = doc.get(field);
        if (array == null || array.isNull()) {
            throw invalidMetadata("it has no \"" + field + "\" array");
        }
        if (!array.isArray()) {
            throw invalidMetadata("\"" + field + "\" is a JSON " + kind(array) + ", not an array");
        }
        if (array.size() > MAX_METADATA_TENSORS) {
            throw invalidMetadata("\"" + field + "\" declares " + array.size() + " tensors, more than "
                    + MAX_METADATA_TENSORS);
        }
        List<TensorSpec> out = new ArrayList<>();
        for (int i = 0; i < array.size(); i++) {
            JsonNode t = array.get(i);
            String at = field + "[" + i + "]";
            if (!t.isObject()) {
                throw invalidMetadata(at + " is a JSON " + kind(t) + ", not a tensor object");
            }
            JsonNode name = t.get("name");
            if (name == null || !name.isTextual() || name.textValue().isEmpty()) {
                throw invalidMetadata(at + " has no \"name\" string");
            }
            // tensor names may hold '/' (TensorFlow's "dense/BiasAdd:0"), not control characters
            if (name.textValue().length() > 1024 || !name.textValue().chars().allMatch(c -> c >= 0x20 && c != 0x7f)) {
                throw invalidMetadata(at + "'s name is longer than 1024 characters or holds control characters");
            }
            JsonNode type = t.get("datatype");
            DataType dataType;
            try {
                dataType = DataType.parse(type == null || !type.isTextual() ? null : type.textValue());
            } catch (IllegalArgumentException | NullPointerException e) {
                throw invalidMetadata(at + " ('" + printable(name.textValue()) + "') has no known \"datatype\" ("
                        + (type == null ? "none" : printable(type.toString())) + ")");
            }
            JsonNode shape = t.get("shape");
            if (shape == null || !shape.isArray()) {
                throw invalidMetadata(at + " ('" + printable(name.textValue()) + "') has no \"shape\" array");
            }
            long[] dims = new long[shape.size()];
            for (int d = 0; d < dims.length; d++) {
                JsonNode n = shape.get(d);
                if (!n.isIntegralNumber() || !n.canConvertToLong() || n.longValue() < -1) {
                    throw invalidMetadata(at + " ('" + printable(name.textValue()) + "') has the dimension "
                            + printable(n.toString()) + "; a dimension is a whole number, -1 for any");
                }
                dims[d] = n.longValue();
            }
            try {
                out.add(new TensorSpec(name.textValue(), dataType, dims));
            } catch (IllegalArgumentException e) {
                throw invalidMetadata(at + ": " + printable(String.valueOf(e.getMessage())));
            }
        }
        return out;
    }

    private static String kind(JsonNode n) {
        return n.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
    }

    private RemoteRouteException invalidMetadata(String what) {
        return new RemoteRouteException(Reason.REMOTE_FAILED, config.name(), 200, "route '" + config.name() + "': "
                + config.url() + " gave invalid metadata for model '" + config.remoteModel() + "': " + what);
    }

    /**
     * The billed quantity of a request served by the remote when the model is not here: the first input's first
     * dimension when the model batches, else 1. Whether it batches is the remote's configured
     * {@code max_batch_size} (above 0) when its {@code /config} declared one, else inferred from its metadata
     * ({@code -1} as the first input's first dimension).
     */
    static long quantity(InferenceRequest request, ModelDescriptor remote) {
        if (remote == null || remote.maxBatchSize() == 0 || request.inputs().isEmpty()) {
            return 1;
        }
        return Math.max(0, request.inputs().get(0).batchSize());
    }

    // ---- plumbing ------------------------------------------------------------------------------

    private static String encode(String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** A body handler that refuses an answer above the route's {@code max_response_bytes}. */
    private HttpResponse.BodyHandler<byte[]> limited() {
        long limit = config.maxResponseBytes();
        return info -> new LimitedBody(limit, config.name());
    }

    /** Collects a response body up to {@code limit} bytes; cancels the exchange beyond it. */
    static final class LimitedBody implements HttpResponse.BodySubscriber<byte[]> {
        private final CompletableFuture<byte[]> result = new CompletableFuture<>();
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final long limit;
        private final String route;
        private final String tooLarge;
        private Flow.Subscription subscription;

        LimitedBody(long limit, String route) {
            this(limit, route, "the remote's answer is larger than " + limit + " bytes (route.max_response_bytes) and"
                    + " was cut off");
        }

        /** @param tooLarge what the refusal says after {@code route '<name>': } when the answer is over the limit */
        LimitedBody(long limit, String route, String tooLarge) {
            this.limit = limit;
            this.route = route;
            this.tooLarge = tooLarge;
        }

        @Override
        public java.util.concurrent.CompletionStage<byte[]> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            if (result.isDone()) {
                return;
            }
            for (ByteBuffer b : items) {
                if (out.size() + (long) b.remaining() > limit) {
                    subscription.cancel();
                    result.completeExceptionally(new RemoteRouteException(Reason.REMOTE_FAILED, route, 0, "route '"
                            + route + "': " + tooLarge));
                    return;
                }
                byte[] chunk = new byte[b.remaining()];
                b.get(chunk);
                out.write(chunk, 0, chunk.length);
            }
        }

        @Override
        public void onError(Throwable t) {
            result.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            result.complete(out.toByteArray());
        }
    }

    /** The largest {@code route.ca_file} read, in bytes (Debian's whole CA bundle is about 220 KB). */
    static final int MAX_CA_BYTES = io.tollgate.config.ConfigFile.MAX_PEM_BYTES;

    /**
     * An SSL context that trusts the PEM certificates in {@code caFile} only. The file must be a regular file (a
     * symbolic link to one is followed) of at most {@link #MAX_CA_BYTES} bytes: a FIFO would block the thread that
     * reads the model configurations for ever, a device such as {@code /dev/zero} would never end.
     *
     * @throws ModelConfigs.Fault naming {@code route.ca_file} when the file is missing, not a regular file, too large,
     *                            unreadable or holds no PEM certificate
     */
    static SSLContext trustOf(Path caFile) throws ModelConfigs.Fault {
        byte[] pem;
        try {
            pem = io.tollgate.config.ConfigFile.read(caFile, MAX_CA_BYTES);
        } catch (IOException e) {
            throw new ModelConfigs.Fault("route.ca_file", "field 'route.ca_file' names " + caFile + ", which cannot"
                    + " be used: " + (e instanceof java.nio.file.NoSuchFileException ? "it is missing"
                    : e.getMessage()));
        }
        try (InputStream in = new java.io.ByteArrayInputStream(pem)) {
            Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
            if (certs.isEmpty()) {
                throw new ModelConfigs.Fault("route.ca_file", "field 'route.ca_file' names " + caFile + ", which"
                        + " holds no PEM certificate");
            }
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int i = 0;
            for (Certificate c : certs) {
                store.setCertificateEntry("ca-" + i++, c);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, tmf.getTrustManagers(), null);
            return ssl;
        } catch (ModelConfigs.Fault f) {
            throw f;
        } catch (IOException | java.security.GeneralSecurityException e) {
            throw new ModelConfigs.Fault("route.ca_file", "field 'route.ca_file' names " + caFile + ", which cannot"
                    + " be read as PEM certificates: " + e.getMessage());
        }
    }
}

package io.tollgate.endpoint.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.tollgate.model.DataType;
import io.tollgate.model.TensorSpec;
import io.tollgate.serving.InferenceResponse;
import io.tollgate.serving.InferenceService;
import io.tollgate.serving.ModelRegistry;
import io.tollgate.serving.ModelStatus;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * {@code POST /v2/models/{m}[/versions/{v}]/infer}. Threads: a body under {@link #OFFLOAD_BYTES} is decoded on the
 * event loop (a hand-off would cost more than the decode); a larger one on the decode threads
 * ({@code tollgate-endpoint-decode-*}), so a connection's 60 MB body does not hold up the small requests of every
 * other connection on its event loop. The serving layer runs the inference on its own threads; the response is
 * encoded back on the channel's event loop.
 */
final class InferRoute {
    private final InferenceService service;
    private final ModelRegistry registry;
    private final EndpointMetrics metrics;
    private final InferRequestDecoder decoder = new InferRequestDecoder();
    private final InferResponseEncoder encoder = new InferResponseEncoder();

    /** Bodies of at least this many bytes are copied and decoded off the event loop. */
    static final int OFFLOAD_BYTES = 256 * 1024;

    private final Executor decodeThreads;
    private volatile TenantLimits limits = TenantLimits.none();

    InferRoute(InferenceService service, ModelRegistry registry, EndpointMetrics metrics, Executor decodeThreads) {
        this.decodeThreads = decodeThreads;
        this.service = service;
        this.registry = registry;
        this.metrics = metrics;
    }

    void tenantLimits(TenantLimits limits) {
        this.limits = limits;
    }

    TenantLimits tenantLimits() {
        return limits;
    }

    /** Admits the request by its tenant's limits ({@link TenantLimits}), then runs it; the ticket ends with it. */
    CompletionStage<HttpReply> infer(Exchange ex, String model, String version) {
        long start = System.nanoTime();
        TenantLimits.Ticket ticket;
        try {
            ticket = limits.admit(ex.caller.tenant());
        } catch (TenantLimits.Refused refused) {
            record(model, EndpointMetrics.Outcome.RATE_LIMITED, start);
            return CompletableFuture.failedFuture(refused);
        }
        CompletionStage<HttpReply> reply;
        try {
            reply = admitted(ex, model, version, start);
        } catch (RuntimeException | Error e) {
            ticket.close();
            throw e;
        }
        return reply.whenComplete((r, failure) -> ticket.close());
    }

    private CompletionStage<HttpReply> admitted(Exchange ex, String model, String version, long start) {
        ByteBuf content = ex.request.content();
        if (content.readableBytes() < OFFLOAD_BYTES) {
            return infer(ex, model, version, ByteBufUtil.getBytes(content), start);
        }
        ByteBuf held = content.retain();   // the router releases the request when it returns; this copy needs it
        try {
            // the copy, the decode and the hand-off to serving all run on the decode thread (a thenCompose after
            // supplyAsync could run on the event loop when the copy finished first)
            return CompletableFuture.supplyAsync(() -> {
                try {
                    int jsonLength = binarySplit(ex, held);
                    if (jsonLength >= 0) {
                        // binary tensors: only the JSON header goes to the heap; the tensor bytes are copied once,
                        // into a direct buffer that ONNX Runtime reads in place (no second copy, no humongous array)
                        byte[] json = ByteBufUtil.getBytes(held, held.readerIndex(), jsonLength);
                        ByteBuffer binary = ByteBuffer.allocateDirect(held.readableBytes() - jsonLength)
                                .order(ByteOrder.LITTLE_ENDIAN);
                        held.getBytes(held.readerIndex() + jsonLength, binary);
                        return infer(ex, model, version, json, jsonLength, binary.flip(), start);
                    }
                    byte[] body = ByteBufUtil.getBytes(held);
                    return infer(ex, model, version, body, start);
                } finally {
                    held.release();
                }
            }, decodeThreads).thenCompose(reply -> reply);
        } catch (RejectedExecutionException stopping) {
            held.release();
            return CompletableFuture.failedFuture(new RequestException(RequestException.Kind.SHUTTING_DOWN,
                    "the endpoint is shutting down; retry against another instance or after the restart"));
        }
    }

    /**
     * The JSON length of a body with a binary section whose header is well-formed and fits the body, or -1 (no
     * binary section, or a bad header that the whole-body path reports).
     */
    private static int binarySplit(Exchange ex, ByteBuf body) {
        String header = ex.request.headers().get(InferResponseEncoder.HEADER_LENGTH);
        if (header == null) {
            return -1;
        }
        try {
            int length = Integer.parseInt(header.trim());
            return length >= 0 && length < body.readableBytes() ? length : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private CompletionStage<HttpReply> infer(Exchange ex, String model, String version, byte[] body, long start) {
        try {
            return infer(ex, model, version, body, jsonLength(ex, body.length), null, start);
        } catch (RequestException e) {
            record(model, EndpointMetrics.Outcome.of(e), start);
            return CompletableFuture.failedFuture(e);
        }
    }

    /** @param binary the binary section apart from {@code body}, or null when {@code body} holds all of it */
    private CompletionStage<HttpReply> infer(Exchange ex, String model, String version, byte[] body, int jsonLength,
                                             ByteBuffer binary, long start) {
        InferRequestDecoder.Decoded decoded;
        try {
            // from the moment the client's id is read and checked, errors and logs name it instead of ours
            // the tenant is the caller's (its API key's), whatever the body or headers say
            decoded = binary == null
                    ? decoder.decode(model, version, body, jsonLength, ex.requestId, id -> ex.requestId = id,
                            ex.caller.tenant())
                    : decoder.decode(model, version, body, jsonLength, binary, ex.requestId, id -> ex.requestId = id,
                            ex.caller.tenant());
            checkClassification(decoded, model, version);
        } catch (RequestException e) {
            record(model, EndpointMetrics.Outcome.of(e), start);
            return CompletableFuture.failedFuture(e);
        }
        CompletionStage<InferenceResponse> running;
        try {
            List<String> via = via(ex);     // the boxes it passed through by their routes (serving's RouteHops)
            running = service.infer(via.isEmpty() ? decoded.request() : decoded.request().withVia(via));
        } catch (RuntimeException e) {
            running = CompletableFuture.failedFuture(e); // a broken service must not break the event loop
        }
        InferRequestDecoder.Decoded request = decoded;
        return running
                .thenApplyAsync(response -> encode(response, request), ex.eventLoop)
                .whenComplete((reply, failure) -> record(model,
                        failure == null ? EndpointMetrics.Outcome.OK : EndpointMetrics.Outcome.of(failure), start));
    }

    /** Entries of a request's Via header a route sends on: at most this many, each at most {@link #VIA_ENTRY}. */
    static final int VIA_ENTRIES = 32;
    static final int VIA_ENTRY = 256;
    /** How a Tollgate's entry names it (serving's RouteHops): those are kept whatever else is dropped. */
    private static final java.util.regex.Pattern TOLLGATE = java.util.regex.Pattern.compile("tollgate-[0-9a-f]{16}");

    /**
     * The entries of the request's {@code Via} headers (RFC 9110 §7.6.3: comma-separated, in order) a route can send
     * on, or empty. A request is never refused for its Via (a proxy in front of the box may write what it likes):
     * entries longer than {@link #VIA_ENTRY} characters or with a character outside printable ASCII are dropped, and
     * past {@link #VIA_ENTRIES} only the Tollgate boxes' entries are kept (at most 9: serving refuses 8 or more), which
     * is all the loop check reads.
     */
    static List<String> via(Exchange ex) {
        List<String> headers = ex.request.headers().getAll("Via");
        if (headers.isEmpty()) {
            return List.of();
        }
        List<String> entries = new java.util.ArrayList<>();
        for (String h : headers) {
            for (String e : h.split(",")) {
                String entry = e.trim();
                if (!entry.isEmpty() && entry.length() <= VIA_ENTRY
                        && entry.chars().allMatch(c -> c >= 0x20 && c < 0x7f)) {
                    entries.add(entry);
                }
            }
        }
        if (entries.size() > VIA_ENTRIES) {
            entries = entries.stream().filter(e -> TOLLGATE.matcher(receivedBy(e)).matches()).limit(9).toList();
        }
        return entries;
    }

    /** The received-by part of a Via entry ({@code [protocol-name/]protocol-version received-by [comment]}). */
    private static String receivedBy(String entry) {
        String[] parts = entry.split("[ \t]+");
        return parts.length >= 2 ? parts[1] : "";
    }

    private static int jsonLength(Exchange ex, int bodyLength) throws RequestException {
        String header = ex.request.headers().get(InferResponseEncoder.HEADER_LENGTH);
        if (header == null) {
            return bodyLength;
        }
        try {
            return Integer.parseInt(header.trim());
        } catch (NumberFormatException e) {
            throw RequestException.badRequest(InferResponseEncoder.HEADER_LENGTH + " is '" + header
                    + "'; it must be the byte length of the JSON part of the body");
        }
    }

    /** Refuses a classification of a non-numeric output before the model runs (and is billed). */
    private void checkClassification(InferRequestDecoder.Decoded decoded, String model, String version)
            throws RequestException {
        Optional<ModelStatus> status = Optional.empty();
        for (InferRequestDecoder.OutputRequest o : decoded.outputs().values()) {
            if (o.classification() == 0) {
                continue;
            }
            if (status.isEmpty()) {
                status = registry.model(model, version);
                if (status.isEmpty()) {
                    return; // the serving layer answers MODEL_NOT_FOUND
                }
            }
            for (TensorSpec spec : status.get().descriptor().outputs()) {
                if (spec.name().equals(o.name()) && (spec.type() == DataType.BYTES || spec.type() == DataType.BOOL)) {
                    throw RequestException.badRequest("output '" + o.name() + "' is " + spec.type()
                            + "; classification needs a numeric output");
                }
            }
        }
    }

    private HttpReply encode(InferenceResponse response, InferRequestDecoder.Decoded request) {
        List<String> labels = List.of();
        boolean batched = false;
        boolean classifies = false;
        for (InferRequestDecoder.OutputRequest o : request.outputs().values()) {
            classifies |= o.classification() > 0;
        }
        if (classifies) {
            Optional<ModelStatus> status = registry.model(response.model(), response.version());
            if (status.isPresent()) {
                labels = status.get().descriptor().labels();
                batched = status.get().descriptor().maxBatchSize() > 0;
            }
        }
        try {
            return encoder.encode(response, request, labels, batched);
        } catch (RequestException e) {
            throw new CompletionException(e);
        }
    }

    private void record(String model, EndpointMetrics.Outcome outcome, long start) {
        String label = outcome == EndpointMetrics.Outcome.OK || known(model) ? model : EndpointMetrics.UNKNOWN_MODEL;
        metrics.inference(label, outcome, System.nanoTime() - start);
    }

    private boolean known(String model) {
        if (registry.model(model, null).isPresent()) {
            return true;
        }
        for (ModelStatus s : registry.models()) {
            if (s.name().equals(model)) {
                return true;
            }
        }
        return false;
    }
}

package io.tollgate.endpoint.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import io.tollgate.model.DataType;
import io.tollgate.model.Tensor;
import io.tollgate.serving.InferenceRequest;
import io.tollgate.serving.InferenceResponse;
import io.tollgate.serving.InferenceService;
import io.tollgate.serving.ModelRegistry;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The endpoint's warm-up (issue 11, the first seconds after READY): synthetic infer requests, JSON and binary tensors
 * in turn, written as raw HTTP bytes into an {@link EmbeddedChannel} that carries the very handlers of a connection
 * ({@link EndpointChannelInitializer#requestHandlers}: codec, deadlines, access, aggregation, router, the tensor reader
 * and writer), so the JIT compiles that path before the first client's request instead of during the first seconds of
 * load (measured: a third of the CPU samples of the first 10 s were interpreted code of this path).
 *
 * <p>What it never touches: serving (its router's {@link InferenceService} answers a fixed tensor here: nothing is
 * queued, run, licensed or metered, no usage record is written), the endpoint's {@link EndpointMetrics} and request ids
 * (its router has its own), the API keys (its own guard in protected mode; the channel's peer is loopback). It is
 * bounded by a request count and by time, never fails the endpoint (a failure is a WARN) and runs on its own thread
 * ({@code tollgate-endpoint-warmup}) while the models load; the endpoint is not ready until it ends.
 */
final class EndpointWarmup {
    private static final Logger LOG = LoggerFactory.getLogger(EndpointWarmup.class);

    /** The model name of the synthetic requests; never looked up in serving. */
    static final String MODEL = "tollgate-warmup";
    /** Enough for the per-request methods to pass the JIT's first thresholds (C1 compiles after ~200 calls). */
    static final int MAX_REQUESTS = 600;
    /** Run whatever the time budget: one JSON and one binary request. */
    static final int MIN_REQUESTS = 2;
    /** The input: 784 FP32 numbers (a 28×28 image), the size of the example plugin's and of many small models. */
    private static final int INPUT_ELEMENTS = 784;
    private static final int OUTPUT_ELEMENTS = 10;
    private static final SocketAddress LOOPBACK = new InetSocketAddress(InetAddress.getLoopbackAddress(), 40000);

    /** What one warm-up did. */
    record Result(int requests, int failed, long nanos, String problem) {
    }

    private final ConnectionLimits limits;
    private final RequestRouter router;
    private final EndpointMetrics metrics = new EndpointMetrics();
    private final byte[] json;
    private final byte[] binary;

    /** @param registry the endpoint's registry (read only: the router asks it about models it does not know) */
    EndpointWarmup(ConnectionLimits limits, ModelRegistry registry, String serverVersion) {
        this.limits = limits;
        this.router = new RequestRouter(new FixedAnswer(), registry, metrics, serverVersion,
                new AccessGuard(() -> KeySet.NONE), new BodyBudget(Long.MAX_VALUE), Runnable::run);
        this.json = request(jsonBody(), null);
        byte[][] parts = binaryBody();
        this.binary = request(concat(parts[0], parts[1]), parts[0].length);
    }

    /**
     * Runs {@link #MIN_REQUESTS}, then more up to {@link #MAX_REQUESTS} until {@code budgetMillis} (from the start) is
     * spent; stops at the first answer
     * that is not 200 (the path is not the one clients take then, so more of it would warm nothing useful). Once.
     */
    Result run(long budgetMillis) {
        long start = System.nanoTime();
        long deadline = start + TimeUnit.MILLISECONDS.toNanos(budgetMillis);
        int done = 0;
        String problem = null;
        EmbeddedChannel channel = channel();
        try {
            // the first two (one JSON, one binary) whatever the time: they load and initialise the path's classes,
            // which the first client would otherwise wait for
            while (done < MAX_REQUESTS && (done < MIN_REQUESTS || System.nanoTime() < deadline) && problem == null
                    && !Thread.currentThread().isInterrupted()) {   // the endpoint stopping interrupts it
                if (!channel.isActive()) {
                    channel.finishAndReleaseAll();
                    channel = channel();
                }
                problem = exchange(channel, (done & 1) == 0 ? json : binary);
                done++;
            }
        } catch (RuntimeException | LinkageError e) {
            problem = e.toString();
        } finally {
            channel.finishAndReleaseAll();
            router.licenses().close();      // threads it would start only for admin routes: none ran, none stay
            router.repository().close();
        }
        return new Result(done, problem == null ? 0 : 1, System.nanoTime() - start, problem);
    }

    /** Runs, logs one line and returns what it did. */
    Result runAndLog(long budgetMillis) {
        Result r = run(budgetMillis);
        long millis = TimeUnit.NANOSECONDS.toMillis(r.nanos());
        if (r.problem() == null) {
            LOG.info("endpoint warm-up: {} synthetic infer requests (JSON and binary tensors) through the HTTP "
                    + "pipeline in {} ms (warmup.ms={}), before ready; not served, metered or counted", r.requests(),
                    millis, budgetMillis);
        } else {
            LOG.warn("endpoint warm-up stopped after {} requests in {} ms: {}; the endpoint serves all the same (its"
                    + " first requests are slower)", r.requests(), millis, r.problem());
        }
        return r;
    }

    /** The router's metrics: they must stay apart from the endpoint's (tests check that they moved). */
    EndpointMetrics metrics() {
        return metrics;
    }

    private EmbeddedChannel channel() {
        EmbeddedChannel channel = new LoopbackChannel();
        EndpointChannelInitializer.requestHandlers(channel.pipeline(), limits, metrics, router);
        try {
            channel.register();
        } catch (Exception e) {
            throw new IllegalStateException("cannot register the warm-up channel: " + e, e);
        }
        return channel;
    }

    /** One request on a kept-alive connection; null when it was answered 200, else what went wrong. */
    private static String exchange(EmbeddedChannel channel, byte[] request) {
        channel.writeInbound(Unpooled.wrappedBuffer(request));
        channel.runPendingTasks();
        StringBuilder head = new StringBuilder();
        Object out;
        while ((out = channel.readOutbound()) != null) {
            try {
                if (head.length() < 12 && out instanceof ByteBuf b) {
                    head.append(b.toString(b.readerIndex(), Math.min(b.readableBytes(), 12), StandardCharsets.US_ASCII));
                }
            } finally {
                ReferenceCountUtil.release(out);
            }
        }
        String status = head.length() >= 12 ? head.substring(9, 12) : "";
        return "200".equals(status) ? null : "a synthetic request was answered '" + head + "' instead of 200";
    }

    private static byte[] request(byte[] body, Integer jsonLength) {
        StringBuilder h = new StringBuilder("POST /v2/models/").append(MODEL).append("/infer HTTP/1.1\r\n")
                .append("Host: localhost\r\n")
                .append("Content-Type: ").append(jsonLength == null ? "application/json" : "application/octet-stream")
                .append("\r\n");
        if (jsonLength != null) {
            h.append(InferResponseEncoder.HEADER_LENGTH).append(": ").append(jsonLength).append("\r\n");
        }
        h.append("Content-Length: ").append(body.length).append("\r\n\r\n");
        return concat(h.toString().getBytes(StandardCharsets.US_ASCII), body);
    }

    /** Numbers as clients write them: fractions of a few digits, some whole, some with an exponent. */
    private static byte[] jsonBody() {
        StringBuilder b = new StringBuilder("{\"id\":\"warmup\",\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\","
                + "\"shape\":[1,1,28,28],\"data\":[");
        for (int i = 0; i < INPUT_ELEMENTS; i++) {
            if (i > 0) {
                b.append(',');
            }
            switch (i % 4) {
                case 0 -> b.append(i % 255);
                case 1 -> b.append(String.format(Locale.ROOT, "%.6f", (i % 255) / 255.0));
                case 2 -> b.append((i % 255) / 255.0);
                default -> b.append(String.format(Locale.ROOT, "%.3e", i / 7.0));
            }
        }
        b.append("]}],\"outputs\":[{\"name\":\"output\"}]}");
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** {JSON header, tensor bytes}: the binary tensor extension in, a binary output asked for. */
    private static byte[][] binaryBody() {
        ByteBuffer data = ByteBuffer.allocate(INPUT_ELEMENTS * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < INPUT_ELEMENTS; i++) {
            data.putFloat((i % 255) / 255f);
        }
        String header = "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,1,28,28],"
                + "\"parameters\":{\"binary_data_size\":" + data.capacity() + "}}],"
                + "\"outputs\":[{\"name\":\"output\",\"parameters\":{\"binary_data\":true}}]}";
        return new byte[][] {header.getBytes(StandardCharsets.UTF_8), data.array()};
    }

    private static byte[] concat(byte[] a, byte[] b) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(a.length + b.length);
        out.writeBytes(a);
        out.writeBytes(b);
        return out.toByteArray();
    }

    /** An embedded channel whose peer is loopback, as a local client's (protected mode admits it). */
    private static final class LoopbackChannel extends EmbeddedChannel {
        LoopbackChannel() {
            super(false, false);
        }

        @Override
        protected SocketAddress remoteAddress0() {
            return isActive() ? LOOPBACK : null;
        }
    }

    /**
     * The serving layer's stand-in: answers every request at once with a fixed FP32 [1,10] tensor named as the output
     * the request asked for. It holds no model and writes nothing.
     */
    private static final class FixedAnswer implements InferenceService {
        private final float[] values = new float[OUTPUT_ELEMENTS];

        FixedAnswer() {
            for (int i = 0; i < values.length; i++) {
                values[i] = i / (float) values.length;
            }
        }

        @Override
        public CompletionStage<InferenceResponse> infer(InferenceRequest request) {
            String name = request.requestedOutputs().isEmpty() ? "output" : request.requestedOutputs().get(0);
            Tensor out = Tensor.of(name, DataType.FP32, new long[] {1, OUTPUT_ELEMENTS},
                    floats(values));
            return CompletableFuture.completedFuture(new InferenceResponse(request.model(), "1", request.id(),
                    List.of(out), 0L, "cpu"));
        }

        private static ByteBuffer floats(float[] values) {
            ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : values) {
                b.putFloat(v);
            }
            return b.flip();
        }
    }
}

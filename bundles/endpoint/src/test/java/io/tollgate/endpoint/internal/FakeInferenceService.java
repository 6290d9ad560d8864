package io.tollgate.endpoint.internal;

import io.tollgate.model.Tensor;
import io.tollgate.serving.InferenceException;
import io.tollgate.serving.InferenceRequest;
import io.tollgate.serving.InferenceResponse;
import io.tollgate.serving.InferenceService;
import io.tollgate.serving.ModelState;
import io.tollgate.serving.ModelStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Identity inference on its own threads, as the serving layer would run it: every input comes back as the output
 * of the same name (only the requested ones when outputs are named). Request parameters steer it:
 * {@code "fail": "<Reason>"} fails with that reason, {@code "delay_ms": n} answers n ms later.
 */
final class FakeInferenceService implements InferenceService {
    private final FakeModelRegistry registry;
    private final ExecutorService workers = Executors.newFixedThreadPool(4, r -> {
        Thread t = new Thread(r, "fake-serving");
        t.setDaemon(true);
        return t;
    });
    final AtomicInteger calls = new AtomicInteger();
    volatile InferenceRequest last;

    /** The thread that called {@link #infer} last: the one that decoded the request. */
    volatile String lastCallerThread;

    FakeInferenceService(FakeModelRegistry registry) {
        this.registry = registry;
    }

    @Override
    public CompletionStage<InferenceResponse> infer(InferenceRequest request) {
        calls.incrementAndGet();
        last = request;
        lastCallerThread = Thread.currentThread().getName();
        CompletableFuture<InferenceResponse> result = new CompletableFuture<>();
        workers.execute(() -> {
            try {
                Object delay = request.parameters().get("delay_ms");
                if (delay instanceof Number n) {
                    Thread.sleep(n.longValue());
                }
                result.complete(run(request));
            } catch (InferenceException e) {
                result.completeExceptionally(e);
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        return result;
    }

    private InferenceResponse run(InferenceRequest request) throws InferenceException {
        Object fail = request.parameters().get("fail");
        if (fail != null) {
            InferenceException.Reason reason = InferenceException.Reason.valueOf(fail.toString());
            if (reason.name().startsWith("REMOTE_")) {   // a route's failure: REMOTE_REJECTED carries the remote's 409
                // "remote_status"/"retry_after": another status the remote answered, with its Retry-After seconds
                Object status = request.parameters().get("remote_status");
                Object retry = request.parameters().get("retry_after");
                throw new io.tollgate.serving.RemoteRouteException(reason, "plant-b",
                        status instanceof Number n ? n.intValue() : 409,
                        retry instanceof Number n ? n.longValue() : 0, "fake failure " + reason
                        + " for model '" + request.model() + "'");
            }
            throw new InferenceException(reason, "fake failure " + reason + " for model '" + request.model() + "'");
        }
        if ("remote-classified".equals(request.parameters().get("mode"))) {
            // a route's remote that was asked the classification: it answers BYTES entries with its own labels
            List<Tensor> classified = new ArrayList<>();
            for (java.util.Map.Entry<String, Integer> c : request.classification().entrySet()) {
                classified.add(Tensor.ofBytes(c.getKey(), new long[] {1, c.getValue()}, java.util.Collections.nCopies(
                        c.getValue(), "0.500000:3:remote-label".getBytes(java.nio.charset.StandardCharsets.UTF_8))));
            }
            return new InferenceResponse(request.model(), "7", request.id(), classified, 1234, "remote:plant-b");
        }
        if ("crash".equals(request.parameters().get("mode"))) {
            throw new IllegalStateException("fake crash inside the serving layer");
        }
        Optional<ModelStatus> status = registry.model(request.model(), request.version());
        if (status.isEmpty()) {
            throw new InferenceException(InferenceException.Reason.MODEL_NOT_FOUND,
                    "model '" + request.model() + "' is not installed");
        }
        if (status.get().state() != ModelState.READY) {
            throw new InferenceException(InferenceException.Reason.MODEL_NOT_READY,
                    "model '" + request.model() + "' is " + status.get().state());
        }
        List<Tensor> outputs = new ArrayList<>();
        for (Tensor t : request.inputs()) {
            if (request.requestedOutputs().isEmpty() || request.requestedOutputs().contains(t.name())) {
                outputs.add(t);
            }
        }
        return new InferenceResponse(request.model(), status.get().version(), request.id(), outputs, 1234, "cpu");
    }

    void close() throws InterruptedException {
        workers.shutdownNow();
        workers.awaitTermination(5, TimeUnit.SECONDS);
    }
}

package io.tollgate.endpoint.internal;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.tollgate.serving.InferenceException;
import io.tollgate.serving.RepositoryControl;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /v2/repository/models/{m}/load} and {@code .../unload} (admin role; Triton's model repository extension):
 * explicit model control through the serving layer's {@link RepositoryControl}. A load waits until the model is ready
 * or refused, so it runs on its own thread, never the event loop. Both answer 200 with an empty object, as Triton does;
 * a refusal is the serving layer's reason mapped in {@link ErrorMapper} (404 for a model no plugin holds, 503 with the
 * reason for one that did not become ready).
 */
final class RepositoryRoutes {
    private static final Logger LOG = LoggerFactory.getLogger(RepositoryRoutes.class);
    private volatile RepositoryControl control;
    /** Loads and unloads in progress at most: more are answered 503 at once rather than queued here. */
    static final int MAX_CALLS = 4;
    /**
     * One thread per call in progress, up to {@link #MAX_CALLS}, none queued: the serving layer orders the calls and
     * bounds each one's wait from when it came; a queue here (one thread did every call) made a call wait for all the
     * calls before it, each up to that bound, before its own began.
     */
    private final ExecutorService work = new java.util.concurrent.ThreadPoolExecutor(0, MAX_CALLS, 30,
            java.util.concurrent.TimeUnit.SECONDS, new java.util.concurrent.SynchronousQueue<>(), r -> {
                Thread t = new Thread(r, "tollgate-endpoint-repository");
                t.setDaemon(true);
                return t;
            });

    void control(RepositoryControl c) {
        control = c;
    }

    void controlGone(RepositoryControl c) {
        if (control == c) {
            control = null;
        }
    }

    /** The serving layer's repository control, or null while there is none. */
    RepositoryControl control() {
        return control;
    }

    void close() {
        work.shutdownNow();
    }

    CompletionStage<HttpReply> load(String model, byte[] body, String caller) throws RequestException {
        checkBody(body, "load");
        RepositoryControl c = bound("load", model);
        return run(() -> {
            c.load(model);
            LOG.info("model '{}' loaded through the API by {}", LogText.of(model), LogText.of(caller));
        });
    }

    CompletionStage<HttpReply> unload(String model, byte[] body, String caller) throws RequestException {
        checkBody(body, "unload");
        RepositoryControl c = bound("unload", model);
        return run(() -> {
            c.unload(model);
            LOG.info("model '{}' unloaded through the API by {}", LogText.of(model), LogText.of(caller));
        });
    }

    private interface Action {
        void run() throws InferenceException;
    }

    private CompletionStage<HttpReply> run(Action action) {
        CompletableFuture<HttpReply> reply = new CompletableFuture<>();
        try {
            work.execute(() -> {
                try {
                    action.run();
                    reply.complete(HttpReply.json(HttpResponseStatus.OK, "{}".getBytes(
                            java.nio.charset.StandardCharsets.UTF_8)));
                } catch (InferenceException | RuntimeException e) {
                    reply.completeExceptionally(e);
                }
            });
        } catch (RejectedExecutionException e) {
            if (work.isShutdown()) {
                reply.completeExceptionally(new RequestException(RequestException.Kind.SHUTTING_DOWN,
                        "the endpoint is shutting down; retry after the restart"));
            } else {
                LOG.warn("a repository load or unload is answered 503: {} are in progress already", MAX_CALLS);
                reply.completeExceptionally(new InferenceException(InferenceException.Reason.OVERLOADED, MAX_CALLS
                        + " repository loads or unloads are in progress already; retry after they finish"
                        + " (POST /v2/repository/index shows the state)", 5));
            }
        }
        return reply;
    }

    private RepositoryControl bound(String action, String model) throws RequestException {
        RepositoryControl c = control;
        if (c == null) {
            throw new RequestException(RequestException.Kind.SHUTTING_DOWN, "cannot " + action + " model '" + model
                    + "': the serving layer's repository control is not available (serving is starting or stopping);"
                    + " retry shortly");
        }
        return c;
    }

    /**
     * Triton's load takes {@code parameters.config} (a configuration to load with) and {@code file:} contents; Tollgate
     * takes a model's configuration only from its plugin and {@code conf/models/{m}.json}, so a body that carries them
     * is refused rather than ignored. Any other body (Triton's {@code unload_dependents}) is accepted.
     */
    private static void checkBody(byte[] body, String action) throws RequestException {
        if (body.length == 0) {
            return;
        }
        String expected = "the " + action + " request body must be empty or a JSON object such as {\"parameters\":{}}";
        try (JsonParser p = JsonBodies.FACTORY.createParser(body)) {
            JsonToken first = p.nextToken();
            if (first == null) {
                return;
            }
            if (first != JsonToken.START_OBJECT) {
                throw RequestException.badRequest(expected);
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken v = p.nextToken();
                if ("parameters".equals(field) && v == JsonToken.START_OBJECT) {
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String name = p.currentName();
                        if (name.equals("config") || name.startsWith("file:")) {
                            throw RequestException.badRequest("parameter '" + name + "' is not supported: Tollgate"
                                    + " loads a model from its installed plugin, with the configuration in"
                                    + " conf/models/{model}.json (written there, it applies without a load); send the"
                                    + " request without it");
                        }
                        p.nextToken();
                        p.skipChildren();
                    }
                } else {
                    p.skipChildren();
                }
            }
            InferRequestDecoder.requireEnd(p, "the " + action + " request");
        } catch (JsonProcessingException e) {
            throw InferRequestDecoder.malformed(e);
        } catch (IOException e) {
            throw new RequestException(RequestException.Kind.BAD_REQUEST, "cannot read the request body", e);
        }
    }
}

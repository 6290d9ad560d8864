package io.tollgate.endpoint.internal;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.tollgate.model.ModelDescriptor;
import io.tollgate.model.TensorSpec;
import io.tollgate.serving.ModelConfig;
import io.tollgate.serving.RepositoryControl;
import io.tollgate.serving.InferenceException;
import io.tollgate.serving.ModelRegistry;
import io.tollgate.serving.ModelState;
import io.tollgate.serving.ModelStatus;
import io.tollgate.serving.PluginStatus;
import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * The read-only routes: health, server and model metadata, model readiness, the model repository index and
 * the admin plugin list. Each answers from the {@link ModelRegistry} at once, on the event loop.
 */
final class MetadataRoutes {
    /** Protocol extensions this endpoint implements, as Triton names them. */
    static final List<String> EXTENSIONS = List.of("classification", "model_repository", "binary_tensor_data",
            "statistics");

    private final ModelRegistry registry;
    private final String serverVersion;
    private final ReadinessChecks readiness;

    MetadataRoutes(ModelRegistry registry, String serverVersion, ReadinessChecks readiness) {
        this.registry = registry;
        this.serverVersion = serverVersion;
        this.readiness = readiness;
    }

    HttpReply live() {
        return HttpReply.json(HttpResponseStatus.OK, JsonBodies.bytes(g -> {
            g.writeStartObject();
            g.writeBooleanField("live", true);
            g.writeEndObject();
        }));
    }

    /**
     * {@code GET /v2/health/ready}: 200 when every required part is ready, else 503; the body lists each check:
     * {@code {"ready":false,"checks":[{"name":"metering","required":true,"ready":false,"reason":"..."}]}}.
     */
    HttpReply ready() {
        List<ReadinessChecks.State> states = readiness.states();
        boolean ready = ReadinessChecks.ready(states);
        return HttpReply.json(ready ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE,
                JsonBodies.bytes(g -> {
                    g.writeStartObject();
                    g.writeBooleanField("ready", ready);
                    g.writeArrayFieldStart("checks");
                    for (ReadinessChecks.State s : states) {
                        g.writeStartObject();
                        g.writeStringField("name", s.name());
                        g.writeBooleanField("required", s.required());
                        g.writeBooleanField("ready", s.ready());
                        if (!s.ready()) {
                            g.writeStringField("reason", s.reason());
                        }
                        g.writeEndObject();
                    }
                    g.writeEndArray();
                    g.writeEndObject();
                }));
    }

    HttpReply server() {
        return HttpReply.json(HttpResponseStatus.OK, JsonBodies.bytes(g -> {
            g.writeStartObject();
            g.writeStringField("name", "tollgate");
            g.writeStringField("version", serverVersion);
            g.writeArrayFieldStart("extensions");
            for (String e : EXTENSIONS) {
                g.writeString(e);
            }
            g.writeEndArray();
            g.writeEndObject();
        }));
    }

    HttpReply model(String name, String version) throws RequestException {
        ModelStatus status = find(name, version);
        // as Triton: the versions that are available (loaded); not one loading, failed, unloading, or unloaded by
        // the version policy (issue 11), which the repository index lists with its state and reason
        List<String> versions = registry.models().stream()
                .filter(m -> m.name().equals(name) && m.state() == ModelState.READY)
                .map(ModelStatus::version)
                .distinct()
                .toList();
        return HttpReply.json(HttpResponseStatus.OK, JsonBodies.bytes(g -> {
            g.writeStartObject();
            g.writeStringField("name", status.name());
            g.writeArrayFieldStart("versions");
            for (String v : versions) {
                g.writeString(v);
            }
            g.writeEndArray();
            g.writeStringField("platform", platform(status.descriptor()));
            tensors(g, "inputs", status.descriptor().inputs());
            tensors(g, "outputs", status.descriptor().outputs());
            g.writeEndObject();
        }));
    }

    /**
     * The metadata's {@code platform} as Triton names it and as {@code /config} shows it (the serving layer's
     * {@code ModelConfigs.platform}): an ONNX plugin (descriptor platform or engine {@code onnx}, the plugin format's
     * word) is {@code onnxruntime_onnx}; a capability plugin is {@code pipeline} (its stages' engine is not its
     * platform); any other (a TensorRT plan's {@code tensorrt_plan}, a remote's own) as the descriptor says.
     */
    static String platform(ModelDescriptor d) {
        if (d.isPipeline()) {
            return "pipeline";
        }
        return "onnx".equals(d.platform()) || "onnx".equals(d.engine()) ? "onnxruntime_onnx" : d.platform();
    }

    /**
     * For a model that exists here only as a remote route without valid metadata: the route's failure to answer
     * instead of its metadata ({@link ModelRegistry#metadataFailure}).
     */
    Optional<io.tollgate.serving.InferenceException> routeMetadataFailure(String name) {
        return registry.metadataFailure(name);
    }

    HttpReply modelReady(String name, String version) throws RequestException {
        ModelStatus status = find(name, version);
        // a READY version that does not serve (unloaded, not selected by the version policy) carries the reason
        boolean ready = status.state() == ModelState.READY && (status.error() == null || status.error().isEmpty());
        return HttpReply.json(ready ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE,
                JsonBodies.bytes(g -> {
                    g.writeStartObject();
                    g.writeStringField("name", status.name());
                    g.writeStringField("version", status.version());
                    g.writeBooleanField("ready", ready);
                    g.writeEndObject();
                }));
    }

    /** {@code POST /v2/repository/index}; an optional body {@code {"ready": true}} lists only ready models. */
    HttpReply repositoryIndex(byte[] body) throws RequestException {
        return repositoryIndex(body, null);
    }

    /**
     * As above; with the serving layer's {@link RepositoryControl} (when bound) the index also lists the models
     * unloaded or not selected by their version policy, with Triton's states ({@code READY}, {@code LOADING},
     * {@code UNLOADING}, {@code UNAVAILABLE}) and the reason.
     */
    HttpReply repositoryIndex(byte[] body, RepositoryControl control) throws RequestException {
        boolean readyOnly = false;
        if (body.length > 0) {
            try (JsonParser p = JsonBodies.FACTORY.createParser(body)) {
                if (p.nextToken() != JsonToken.START_OBJECT) {
                    throw RequestException.badRequest("the repository index request must be a JSON object such as "
                            + "{\"ready\":true}, or empty");
                }
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String field = p.currentName();
                    JsonToken v = p.nextToken();
                    if ("ready".equals(field)) {
                        if (v != JsonToken.VALUE_TRUE && v != JsonToken.VALUE_FALSE) {
                            throw RequestException.badRequest("\"ready\" must be true or false"
                                    + InferRequestDecoder.location(p.currentTokenLocation()));
                        }
                        readyOnly = v == JsonToken.VALUE_TRUE;
                    } else {
                        p.skipChildren();
                    }
                }
                InferRequestDecoder.requireEnd(p, "the repository index request");
            } catch (JsonProcessingException e) {
                throw InferRequestDecoder.malformed(e);
            } catch (IOException e) {
                throw new RequestException(RequestException.Kind.BAD_REQUEST, "cannot read the request body", e);
            }
        }
        boolean onlyReady = readyOnly;
        if (control != null) {
            List<RepositoryControl.IndexEntry> entries = control.index(onlyReady);
            return HttpReply.json(HttpResponseStatus.OK, JsonBodies.bytes(g -> {
                g.writeStartArray();
                for (RepositoryControl.IndexEntry e : entries) {
                    g.writeStartObject();
                    g.writeStringField("name", e.name());
                    g.writeStringField("version", e.version());
                    g.writeStringField("state", e.state());
                    g.writeStringField("reason", e.reason());
                    g.writeEndObject();
                }
                g.writeEndArray();
            }));
        }
        List<ModelStatus> models = registry.models();
        return HttpReply.json(HttpResponseStatus.OK, JsonBodies.bytes(g -> {
            g.writeStartArray();
            for (ModelStatus m : models) {
                if (onlyReady && m.state() != ModelState.READY) {
                    continue;
                }
                g.writeStartObject();
                g.writeStringField("name", m.name());
                g.writeStringField("version", m.version());
                g.writeStringField("state", m.state().name());
                g.writeStringField("reason", m.error() == null ? "" : m.error());
                g.writeEndObject();
            }
            g.writeEndArray();
        }));
    }

    /**
     * {@code GET /v2/models/{m}[/versions/{v}]/config}: the effective configuration in Triton's shape
     * ({@link ModelConfigJson}), of {@code version} or else of the version unversioned requests go to.
     */
    HttpReply config(String name, String version) throws RequestException, InferenceException {
        ModelStatus status = find(name, version);
        Optional<ModelConfig> config = registry.config(name, version);
        if (config.isEmpty()) {
            throw RequestException.notFound(noConfiguration(name, version, status));
        }
        if (version != null && status.state() != ModelState.READY) {
            // as Triton answers a version that is not available (UNAVAILABLE "... is not at ready state": 503), with
            // why: loading, failed, unloading, or unloaded by the version policy (issue 11)
            String why = status.error() == null || status.error().isEmpty() ? "it is " + status.state()
                    : status.error();
            // (503 through the error mapper, so the body carries the request id as every other error does)
            throw new InferenceException(InferenceException.Reason.MODEL_NOT_READY, "model '" + name + "' version "
                    + version + " is not at ready state: " + why + " (POST /v2/repository/index lists its versions'"
                    + " states)");
        }
        return HttpReply.json(HttpResponseStatus.OK, ModelConfigJson.bytes(config.get(), status.descriptor().meter()));
    }

    /**
     * Why a model (version) the registry knows has no configuration here, true for the state it is in (issue 11: a
     * route-only model was said to have a refused plugin). A model served only through its route (no plugin here): its
     * configuration is the remote's (decisions.md, "A route-only model's /config and /stats"). Else the version's own
     * error: a plugin the guard refused, one that failed before its descriptor was read.
     */
    private String noConfiguration(String name, String version, ModelStatus status) {
        String which = "model '" + name + "'" + (version == null ? "" : " " + version);
        Optional<io.tollgate.serving.RouteStatus> route = status.plugin() == null || status.plugin().isEmpty()
                ? registry.routes().stream().filter(r -> r.model().equals(name)).findFirst() : Optional.empty();
        if (route.isPresent()) {
            return which + " is not installed here: it is served through route '" + route.get().route() + "', so its"
                    + " configuration is the remote server's (GET /v2/models/" + name + " gives the remote's metadata,"
                    + " GET /v2/models/" + name + "/stats this box's statistics of the requests it routed)";
        }
        String error = status.error() == null ? "" : status.error();
        return which + " has no configuration here" + (error.isEmpty() ? "" : ": " + error)
                + " (GET /admin/plugins says more)";
    }

    private volatile AcceleratorRoutes accelerators;

    /** Where {@link #plugins()} finds each model's placement (issue 12). */
    void accelerators(AcceleratorRoutes a) {
        accelerators = a;
    }

    HttpReply plugins() {
        AcceleratorRoutes placements = accelerators;
        List<PluginStatus> plugins = registry.plugins();
        java.util.Map<String, String> configErrors = registry.configErrors();
        return HttpReply.json(HttpResponseStatus.OK, JsonBodies.bytes(g -> {
            g.writeStartArray();
            for (PluginStatus p : plugins) {
                g.writeStartObject();
                g.writeNumberField("id", p.bundleId());
                g.writeStringField("symbolic_name", p.symbolicName());
                g.writeStringField("version", p.version());
                g.writeStringField("location", p.location());
                g.writeStringField("model", p.model());
                g.writeStringField("model_version", p.modelVersion());
                g.writeStringField("state", p.state() == null ? "" : p.state().name());
                g.writeStringField("error", p.error() == null ? "" : p.error());
                Optional<ModelStatus> model = p.model() == null || p.model().isEmpty() ? Optional.empty()
                        : registry.model(p.model(), p.modelVersion());
                if (model.isPresent()) {
                    // the unit its usage records and its license count: inference, images, tokens, audio_seconds...
                    g.writeStringField("meter", model.get().descriptor().meter());
                }
                if (placements != null && p.state() == io.tollgate.serving.ModelState.READY) {
                    placements.writePlacement(g, p.model(), p.modelVersion());
                }
                if (model.isPresent() && model.get().descriptor().isPipeline()
                        && p.state() == io.tollgate.serving.ModelState.READY) {
                    stages(g, model.get(), placements);
                }
                String configError = configErrors.get(p.model());
                if (configError != null) {
                    g.writeStringField("config_error", configError);
                }
                g.writeEndObject();
            }
            g.writeEndArray();
        }));
    }

    /**
     * A capability plugin's {@code "stages": [{name, accelerator, engine}]}, in the descriptor's order. Placement puts
     * every stage of a version where the version is placed (one reservation for all of them), so each stage shows
     * the version's accelerator and the engine it was loaded with (the placement's, else the descriptor's).
     */
    private static void stages(JsonGenerator g, ModelStatus m, AcceleratorRoutes placements) throws IOException {
        Optional<io.tollgate.accelerator.Placement> placed = placements == null ? Optional.empty()
                : placements.placementOf(m.name(), m.version());
        String accelerator = placed.map(io.tollgate.accelerator.Placement::acceleratorId)
                .orElse(m.accelerator() == null ? "" : m.accelerator());
        String engine = placed.map(io.tollgate.accelerator.Placement::engine).orElse(m.descriptor().engine());
        g.writeArrayFieldStart("stages");
        for (String stage : m.descriptor().pipeline().stages().keySet()) {
            g.writeStartObject();
            g.writeStringField("name", stage);
            g.writeStringField("accelerator", accelerator);
            g.writeStringField("engine", engine);
            g.writeEndObject();
        }
        g.writeEndArray();
    }

    private ModelStatus find(String name, String version) throws RequestException {
        Optional<ModelStatus> status = registry.model(name, version);
        if (status.isPresent()) {
            return status.get();
        }
        Optional<String> unloaded = registry.unavailable(name);
        if (unloaded.isPresent()) {
            // Triton: 404 "Request for unknown model: 'm' has no available versions"; this also says why and what to do
            throw RequestException.notFound(unloaded.get());
        }
        if (version == null) {
            throw RequestException.notFound("model '" + name + "' is not installed; POST /v2/repository/index lists "
                    + "the installed models");
        }
        throw RequestException.notFound("model '" + name + "' has no version '" + version + "'; GET /v2/models/"
                + name + " lists its versions");
    }

    private static void tensors(JsonGenerator g, String field, List<TensorSpec> specs) throws IOException {
        g.writeArrayFieldStart(field);
        for (TensorSpec s : specs) {
            g.writeStartObject();
            g.writeStringField("name", s.name());
            g.writeStringField("datatype", s.type().name());
            g.writeArrayFieldStart("shape");
            for (long d : s.shape()) {
                g.writeNumber(d);
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        g.writeEndArray();
    }
}

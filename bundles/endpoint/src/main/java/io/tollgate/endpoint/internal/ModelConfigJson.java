package io.tollgate.endpoint.internal;

import com.fasterxml.jackson.core.JsonGenerator;
import io.tollgate.model.DataType;
import io.tollgate.model.TensorSpec;
import io.tollgate.serving.ModelConfig;
import io.tollgate.serving.ModelConfig.DynamicBatching;
import io.tollgate.serving.ModelConfig.InstanceGroup;
import io.tollgate.serving.ModelConfig.QueuePolicy;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@link ModelConfig} in the JSON shape of Triton's {@code GET /v2/models/{m}/config}: the field names of
 * {@code model_config.proto}, enums by name ({@code TYPE_FP32}, {@code KIND_CPU}, {@code REJECT}), 64-bit numbers as
 * JSON numbers (as Triton writes them, so perf_analyzer reads {@code max_batch_size} as an integer), parameters as
 * {@code {"key": {"string_value": "..."}}}. The same shape, in part, is what the owner's {@code conf/models/{m}.json}
 * holds. Differences from Triton: versions are Tollgate's (strings such as {@code "1.0.0"}), and
 * {@code default_model_version} is Tollgate's own field (docs/api.md).
 */
final class ModelConfigJson {
    private ModelConfigJson() {
    }

    static byte[] bytes(ModelConfig c) {
        return JsonBodies.bytes(g -> write(g, c, null), 1024);
    }

    /**
     * The configuration with the model's {@code meter} (the unit its usage records count: {@code inference},
     * {@code images}, {@code tokens}, {@code audio_seconds}...) as parameter {@code meter} when the descriptor's own
     * parameters do not name one.
     */
    static byte[] bytes(ModelConfig c, String meter) {
        return JsonBodies.bytes(g -> write(g, c, meter), 1024);
    }

    static void write(JsonGenerator g, ModelConfig c) throws IOException {
        write(g, c, null);
    }

    static void write(JsonGenerator g, ModelConfig c, String meter) throws IOException {
        g.writeStartObject();
        g.writeStringField("name", c.name());
        g.writeStringField("platform", c.platform());
        g.writeStringField("backend", c.backend());
        versionPolicy(g, c.versionPolicy());
        g.writeNumberField("max_batch_size", c.maxBatchSize());
        tensors(g, "input", c.input());
        tensors(g, "output", c.output());
        if (c.dynamicBatching() != null) {
            batching(g, c.dynamicBatching());
        }
        g.writeArrayFieldStart("instance_group");
        for (InstanceGroup group : c.instanceGroup()) {
            g.writeStartObject();
            g.writeStringField("name", group.name());
            g.writeStringField("kind", group.kind().name());
            g.writeNumberField("count", group.count());
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeStringField("default_model_version", c.defaultModelVersion());
        warmups(g, c);
        g.writeObjectFieldStart("parameters");
        Map<String, String> parameters = new TreeMap<>(c.parameters());
        if (meter != null) {
            parameters.putIfAbsent("meter", meter);
        }
        for (Map.Entry<String, String> p : parameters.entrySet()) {
            g.writeObjectFieldStart(p.getKey());
            g.writeStringField("string_value", p.getValue());
            g.writeEndObject();
        }
        g.writeEndObject();
        g.writeEndObject();
    }

    /**
     * Triton's {@code model_warmup}: each sample with every input as the warm-up fills it ({@code dims} without the
     * batch dimension, each variable dimension 1; {@code zero_data} or {@code random_data}); absent when there
     * is none.
     */
    private static void warmups(JsonGenerator g, ModelConfig c) throws IOException {
        if (c.modelWarmup().isEmpty()) {
            return;   // as Triton: no field when no warm-up runs (a pipeline, or "model_warmup": [] in an override)
        }
        g.writeArrayFieldStart("model_warmup");
        for (ModelConfig.ModelWarmup w : c.modelWarmup()) {
            g.writeStartObject();
            g.writeStringField("name", w.name());
            g.writeNumberField("batch_size", w.batchSize());
            g.writeObjectFieldStart("inputs");
            for (TensorSpec s : c.input()) {
                g.writeObjectFieldStart(s.name());
                g.writeStringField("data_type", dataType(s.type()));
                g.writeArrayFieldStart("dims");
                for (long d : s.shape()) {
                    g.writeNumber(d < 0 ? 1 : d);
                }
                g.writeEndArray();
                g.writeBooleanField(w.randomData() ? "random_data" : "zero_data", true);
                g.writeEndObject();
            }
            g.writeEndObject();
            g.writeNumberField("count", w.count());
            g.writeEndObject();
        }
        g.writeEndArray();
    }

    /** Triton's data type name: {@code TYPE_} and the protocol's name; BYTES is {@code TYPE_STRING}. */
    static String dataType(DataType type) {
        return type == DataType.BYTES ? "TYPE_STRING" : "TYPE_" + type.name();
    }

    private static void versionPolicy(JsonGenerator g, ModelConfig.VersionPolicy policy) throws IOException {
        g.writeObjectFieldStart("version_policy");
        switch (policy.kind()) {
            case LATEST:
                g.writeObjectFieldStart("latest");
                g.writeNumberField("num_versions", policy.latestNumVersions());
                g.writeEndObject();
                break;
            case ALL:
                g.writeObjectFieldStart("all");
                g.writeEndObject();
                break;
            default:
                g.writeObjectFieldStart("specific");
                g.writeArrayFieldStart("versions");
                for (String v : policy.versions()) {
                    g.writeString(v);
                }
                g.writeEndArray();
                g.writeEndObject();
        }
        g.writeEndObject();
    }

    private static void tensors(JsonGenerator g, String field, List<TensorSpec> specs) throws IOException {
        g.writeArrayFieldStart(field);
        for (TensorSpec s : specs) {
            g.writeStartObject();
            g.writeStringField("name", s.name());
            g.writeStringField("data_type", dataType(s.type()));
            g.writeArrayFieldStart("dims");
            for (long d : s.shape()) {
                g.writeNumber(d);
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        g.writeEndArray();
    }

    private static void batching(JsonGenerator g, DynamicBatching b) throws IOException {
        g.writeObjectFieldStart("dynamic_batching");
        g.writeArrayFieldStart("preferred_batch_size");
        for (int size : b.preferredBatchSize()) {
            g.writeNumber(size);
        }
        g.writeEndArray();
        g.writeNumberField("max_queue_delay_microseconds", b.maxQueueDelayMicroseconds());
        g.writeNumberField("priority_levels", b.priorityLevels());
        g.writeNumberField("default_priority_level", b.defaultPriorityLevel());
        g.writeFieldName("default_queue_policy");
        queuePolicy(g, b.defaultQueuePolicy());
        g.writeObjectFieldStart("priority_queue_policy");
        for (Map.Entry<Integer, QueuePolicy> e : new TreeMap<>(b.priorityQueuePolicy()).entrySet()) {
            g.writeFieldName(String.valueOf(e.getKey()));
            queuePolicy(g, e.getValue());
        }
        g.writeEndObject();
        g.writeEndObject();
    }

    private static void queuePolicy(JsonGenerator g, QueuePolicy p) throws IOException {
        g.writeStartObject();
        g.writeStringField("timeout_action", p.timeoutAction().name());
        g.writeNumberField("default_timeout_microseconds", p.defaultTimeoutMicroseconds());
        g.writeBooleanField("allow_timeout_override", p.allowTimeoutOverride());
        g.writeNumberField("max_queue_size", p.maxQueueSize());
        g.writeEndObject();
    }
}

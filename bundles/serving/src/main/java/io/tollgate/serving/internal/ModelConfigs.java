package io.tollgate.serving.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tollgate.accelerator.AcceleratorKind;
import io.tollgate.model.ModelDescriptor;
import io.tollgate.model.ModelNames;
import io.tollgate.model.TensorSpec;
import io.tollgate.serving.ModelConfig;
import io.tollgate.serving.ModelConfig.DynamicBatching;
import io.tollgate.serving.ModelConfig.InstanceGroup;
import io.tollgate.serving.ModelConfig.ModelWarmup;
import io.tollgate.serving.ModelConfig.QueuePolicy;
import io.tollgate.serving.ModelConfig.VersionPolicy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The effective {@link ModelConfig} of a model version, from three layers, lowest first (decision 2026-11-30 "Model
 * configuration: three layers, a partial override, unknown fields refused"):
 * <ol>
 *   <li>built-in defaults (no dynamic batching, one CPU instance, version policy {@code latest 1});</li>
 *   <li>the plugin descriptor ({@code TOLLGATE-INF/model.json}): {@code max_batch_size}, {@code dynamic_batching},
 *       {@code instance_group}, {@code version_policy}, {@code default_model_version};</li>
 *   <li>the box owner's {@code conf/models/{model}.json}: a partial document in the JSON shape
 *       {@code GET /v2/models/{m}/config} returns, holding only the fields it sets.</li>
 * </ol>
 * The layers merge as JSON documents: an object merges field by field (except {@code version_policy}, one of three
 * kinds, which is replaced whole), an array or a value replaces, and
 * {@code null} removes (e.g. {@code "dynamic_batching": null} turns batching off). Every field a layer names must be
 * one this class knows (a typo is refused with the field's path, never ignored); the fields the plugin alone decides
 * ({@code name}, {@code platform}, {@code backend}, {@code input}, {@code output}, {@code parameters}) are refused in
 * the override, except a {@code name} equal to the model's. The override may lower {@code max_batch_size} but never
 * raise it above the descriptor's nor turn batching on or off by it: the batch dimension is what a request is billed
 * by.
 *
 * <p>Stateless and thread-safe; every refusal is a {@link Fault} naming the field, the value and what is expected.
 */
final class ModelConfigs {
    /** Fields a descriptor may carry besides its own (DescriptorReader reads {@code max_batch_size} itself). */
    static final Set<String> DESCRIPTOR_FIELDS = Set.of("dynamic_batching", "instance_group", "version_policy",
            "default_model_version", "model_warmup");
    /** Fields an override may set. */
    static final Set<String> OVERRIDABLE = Set.of("max_batch_size", "dynamic_batching", "instance_group",
            "version_policy", "default_model_version", "model_warmup");
    /** Fields of the config the plugin alone decides: in an override only a {@code name} equal to the model's. */
    static final Set<String> PLUGIN_ONLY = Set.of("name", "platform", "backend", "input", "output", "parameters");

    private static final Set<String> BATCHING_FIELDS = Set.of("preferred_batch_size", "max_queue_delay_microseconds",
            "priority_levels", "default_priority_level", "default_queue_policy", "priority_queue_policy");
    private static final Set<String> QUEUE_FIELDS = Set.of("timeout_action", "default_timeout_microseconds",
            "allow_timeout_override", "max_queue_size");
    private static final Set<String> INSTANCE_FIELDS = Set.of("name", "count", "kind");
    private static final Set<String> WARMUP_FIELDS = Set.of("name", "batch_size", "count", "inputs");
    private static final Set<String> WARMUP_INPUT_FIELDS = Set.of("data_type", "dims", "zero_data", "random_data");
    /** Runs of the default warm-up sample: enough for ONNX Runtime's first-run allocations and the JIT's first tiers. */
    static final int DEFAULT_WARMUP_COUNT = 10;
    /** The name of the warm-up sample a model gets when its configuration names none. */
    static final String DEFAULT_WARMUP_NAME = "tollgate_default_zero";
    /** At most this many runs per sample: a warm-up delays READY, a typo such as 1000000 must not hold it for hours. */
    static final int MAX_WARMUP_COUNT = 1000;
    private static final Set<String> POLICY_KINDS = Set.of("latest", "all", "specific");
    /**
     * The version policy when neither descriptor nor override sets one: {@code all}, as Tollgate served every installed
     * version before 1.3 (Triton's default is {@code latest 1}; decision 2026-11-30 "Version policy default all").
     */
    static final VersionPolicy DEFAULT_POLICY = new VersionPolicy(VersionPolicy.Kind.ALL, 0, List.of());

    /** Objects that hold one of several kinds (protobuf's oneof): an override replaces them whole. */
    private static final Set<String> ONE_OF = Set.of("version_policy");
    /** Far above what a 2-core box runs usefully; stops a typo such as 1000 from opening a thousand sessions. */
    static final int MAX_INSTANCES = 64;

    private ModelConfigs() {
    }

    /** Why a layer was refused: {@code field} is its JSON path, e.g. {@code dynamic_batching.preferred_batch_size[1]}. */
    static final class Fault extends Exception {
        private static final long serialVersionUID = 1L;
        private final String field;

        Fault(String field, String message) {
            super(message);
            this.field = field;
        }

        String field() {
            return field;
        }
    }

    /** The descriptor's layer: its {@code max_batch_size} and the config fields it carries, as written. */
    static ObjectNode descriptorLayer(JsonNode descriptorRoot) {
        ObjectNode layer = JsonNodeFactory.instance.objectNode();
        if (descriptorRoot == null || !descriptorRoot.isObject()) {
            return layer;
        }
        for (String f : List.of("max_batch_size", "dynamic_batching", "instance_group", "version_policy",
                "default_model_version", "model_warmup")) {
            JsonNode v = descriptorRoot.get(f);
            if (v != null) {
                layer.set(f, v.deepCopy());
            }
        }
        return layer;
    }

    /** The layer of a descriptor built without its JSON (tests, refused plugins): its {@code max_batch_size}. */
    static ObjectNode layerOf(ModelDescriptor descriptor) {
        ObjectNode layer = JsonNodeFactory.instance.objectNode();
        layer.put("max_batch_size", descriptor.maxBatchSize());
        return layer;
    }

    /** Checks a descriptor's layer on its own (field names, types, ranges), as the plugin loads. */
    static void checkDescriptorLayer(JsonNode layer) throws Fault {
        checkNames(layer, false);
        parse("model", merge(defaults(), layer), List.of(), List.of(), Map.of(), "onnx", "onnx");
    }

    /**
     * Checks an override document on its own (field names and types; the checks that need the plugin run in
     * {@link #effective}).
     */
    static void checkOverride(JsonNode override, String model) throws Fault {
        if (override == null || !override.isObject()) {
            throw new Fault("", "the document must be a JSON object such as {\"max_batch_size\": 8}, not "
                    + describe(override));
        }
        JsonNode name = override.get("name");
        if (name != null && !(name.isTextual() && name.textValue().equals(model))) {
            throw new Fault("name", "field 'name' is " + describe(name) + " but the file configures model '" + model
                    + "' (its file name); remove 'name' or make it '" + model + "'");
        }
        checkNames(override, true);
    }

    /**
     * The effective configuration of {@code descriptor} (inputs and outputs as the loaded model declares them):
     * defaults, then {@code descriptorLayer}, then {@code override} (null for none).
     *
     * @throws Fault when the merged document breaks a rule; {@code descriptorLayer} alone is assumed checked
     */
    static ModelConfig effective(ModelDescriptor descriptor, JsonNode descriptorLayer, JsonNode override)
            throws Fault {
        ObjectNode merged = merge(defaults(), descriptorLayer);
        int declaredMaxBatch = intOr(merged.get("max_batch_size"), 0);
        if (override != null) {
            checkOverride(override, descriptor.name());
            ObjectNode copy = override.deepCopy();
            copy.remove("name");
            merged = merge(merged, copy);
            JsonNode mbs = copy.get("max_batch_size");
            if (mbs != null && !mbs.isNull()) {
                int wanted = wholeNumber(mbs, "max_batch_size", 0, Integer.MAX_VALUE).intValue();
                if (declaredMaxBatch == 0 && wanted != 0) {
                    throw new Fault("max_batch_size", "field 'max_batch_size' is " + wanted + " but the plugin"
                            + " declares no batch dimension (max_batch_size 0); it cannot be turned on here");
                }
                if (declaredMaxBatch > 0 && (wanted < 1 || wanted > declaredMaxBatch)) {
                    throw new Fault("max_batch_size", "field 'max_batch_size' is " + wanted + "; expected 1.."
                            + declaredMaxBatch + " (the plugin's max_batch_size: an override may lower it, not raise"
                            + " it or turn batching off)");
                }
            } else if (mbs != null) {
                merged.put("max_batch_size", declaredMaxBatch);
            }
        }
        if (descriptor.isPipeline()) {
            // no warm-up runs into a pipeline (zero tensors are no PNG, no WAV): its configuration shows none
            merged.putArray("model_warmup");
        }
        // a capability plugin (issue 13) shows as Triton shows a python-backend model: its own backend, here
        // "pipeline" for platform and backend (its stages run on the descriptor's engine, which /config does not show)
        return parse(descriptor.name(), merged, descriptor.inputs(), descriptor.outputs(), descriptor.parameters(),
                descriptor.isPipeline() ? PIPELINE_BACKEND : descriptor.platform(),
                descriptor.isPipeline() ? PIPELINE_BACKEND : descriptor.engine());
    }

    /**
     * Checks that this box can honour every {@code instance_group[i].kind} the override names: {@code KIND_GPU} needs a
     * GPU among {@code box} (the kinds of the box's accelerators; Triton refuses it too when it sees no GPU),
     * {@code KIND_CPU} and {@code KIND_AUTO} (a GPU where there is one, else the CPU) are always honoured. An override
     * is this box's owner speaking about this box; a plugin's descriptor travels to boxes of every kind and is not
     * checked here (decision 2026-12-02 "Instance kinds a box cannot honour").
     *
     * @param override the override document (its other fields are checked elsewhere)
     * @param box      the kinds of this box's accelerators ({@code CPU} at least)
     * @throws Fault naming {@code instance_group[i].kind}
     */
    static void checkKinds(JsonNode override, Set<AcceleratorKind> box) throws Fault {
        JsonNode groups = override == null ? null : override.get("instance_group");
        if (groups == null || !groups.isArray()) {
            return;
        }
        for (int i = 0; i < groups.size(); i++) {
            JsonNode k = groups.get(i).get("kind");
            if (k != null && k.isTextual() && InstanceGroup.Kind.KIND_GPU.name().equals(k.textValue())
                    && !box.contains(AcceleratorKind.GPU)) {
                String field = "instance_group[" + i + "].kind";
                throw new Fault(field, "field '" + field + "' is 'KIND_GPU' but this box has no GPU (its accelerators:"
                        + " " + box.stream().map(AcceleratorKind::key).sorted().toList() + "; Triton refuses it too);"
                        + " use KIND_CPU, or KIND_AUTO for a GPU where the box has one");
            }
        }
    }

    /** The {@code platform} and {@code backend} of a capability plugin's model configuration. */
    static final String PIPELINE_BACKEND = "pipeline";

    /**
     * The longest a request may wait for others to join its batch, in µs (10 s): a batching delay is a latency budget
     * of micro- to milliseconds; a larger value would hold a lone request (and its caller's concurrency slot) for
     * minutes (found by the review of 2026-11-30: 2^63-1 µs hung requests).
     */
    static final long MAX_QUEUE_DELAY_US = 10_000_000L;

    /** Instances of a model whose configuration names no {@code instance_group}. */
    static final int DEFAULT_CPU_INSTANCES = 2;

    /** The built-in defaults as a document. */
    static ObjectNode defaults() {
        ObjectNode d = JsonNodeFactory.instance.objectNode();
        d.put("max_batch_size", 0);
        d.putObject("version_policy").putObject("all");
        // Two CPU instances, as Triton gives a CPU model without an instance_group, so an unconfigured model keeps two
        // engine runs at once (what the two workers of a 2-core box ran before the scheduler; decision 2026-11-30).
        d.putArray("instance_group").addObject().put("count", DEFAULT_CPU_INSTANCES).put("kind", "KIND_CPU");
        // A few zero-filled runs before READY, so the first requests after READY are not the slow ones (issue 11;
        // decision 2026-12-01 "Model warm-up by default"); "model_warmup": [] in an override turns it off.
        d.putArray("model_warmup").addObject().put("name", DEFAULT_WARMUP_NAME).put("batch_size", 1)
                .put("count", DEFAULT_WARMUP_COUNT);
        return d;
    }

    /** {@code over} merged onto a copy of {@code base}: objects field by field, arrays and values replace, null removes. */
    static ObjectNode merge(ObjectNode base, JsonNode over) {
        ObjectNode out = base.deepCopy();
        if (over == null || !over.isObject()) {
            return out;
        }
        Iterator<Map.Entry<String, JsonNode>> it = over.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode v = e.getValue();
            JsonNode old = out.get(e.getKey());
            if (v.isNull()) {
                out.remove(e.getKey());
            } else if (v.isObject() && old != null && old.isObject() && !ONE_OF.contains(e.getKey())) {
                out.set(e.getKey(), merge((ObjectNode) old, v));
            } else {
                out.set(e.getKey(), v.deepCopy());
            }
        }
        return out;
    }

    /** The Triton platform of a descriptor's platform/engine ({@code onnx} is {@code onnxruntime_onnx}). */
    static String platform(String platform, String engine) {
        return "onnx".equals(platform) || "onnx".equals(engine) ? "onnxruntime_onnx" : platform;
    }

    /** The Triton backend of a descriptor's engine ({@code onnx} is {@code onnxruntime}). */
    static String backend(String engine) {
        return "onnx".equals(engine) ? "onnxruntime" : engine;
    }

    // ---- checks --------------------------------------------------------------------------------

    private static void checkNames(JsonNode layer, boolean override) throws Fault {
        if (layer == null || !layer.isObject()) {
            return;
        }
        Iterator<String> names = layer.fieldNames();
        while (names.hasNext()) {
            String f = names.next();
            if (override && PLUGIN_ONLY.contains(f)) {
                if ("name".equals(f)) {
                    continue;
                }
                throw new Fault(f, "field '" + f + "' comes from the plugin and cannot be overridden; remove it"
                        + " (fields an override may set: " + new TreeSet<>(OVERRIDABLE) + ")");
            }
            if (!OVERRIDABLE.contains(f)) {
                throw new Fault(f, "field '" + f + "' is not a model configuration field Tollgate knows; expected one"
                        + " of " + new TreeSet<>(OVERRIDABLE) + " (a typo? see docs/plugins.md)");
            }
        }
        JsonNode batching = layer.get("dynamic_batching");
        if (batching != null && batching.isObject()) {
            unknown(batching, BATCHING_FIELDS, "dynamic_batching.");
            JsonNode dq = batching.get("default_queue_policy");
            if (dq != null && dq.isObject()) {
                unknown(dq, QUEUE_FIELDS, "dynamic_batching.default_queue_policy.");
            }
            JsonNode pq = batching.get("priority_queue_policy");
            if (pq != null && pq.isObject()) {
                Iterator<Map.Entry<String, JsonNode>> it = pq.fields();
                while (it.hasNext()) {
                    Map.Entry<String, JsonNode> e = it.next();
                    if (!canonicalLevel(e.getKey())) {
                        String field = "dynamic_batching.priority_queue_policy."
                                + DescriptorReader.printable(e.getKey());
                        throw new Fault(field, "field '" + field + "' names priority level '"
                                + DescriptorReader.printable(e.getKey()) + "'; expected a level 1..priority_levels"
                                + " written as a plain decimal number (no sign, leading zero, blank or other digits:"
                                + " '01' and '1' would be two policies for one level)");
                    }
                    if (e.getValue().isObject()) {
                        unknown(e.getValue(), QUEUE_FIELDS, "dynamic_batching.priority_queue_policy." + e.getKey()
                                + ".");
                    }
                }
            }
        }
        JsonNode groups = layer.get("instance_group");
        if (groups != null && groups.isArray()) {
            for (int i = 0; i < groups.size(); i++) {
                if (groups.get(i).isObject()) {
                    unknown(groups.get(i), INSTANCE_FIELDS, "instance_group[" + i + "].");
                }
            }
        }
        JsonNode policy = layer.get("version_policy");
        if (policy != null && policy.isObject()) {
            unknown(policy, POLICY_KINDS, "version_policy.");
        }
        JsonNode warmups = layer.get("model_warmup");
        if (warmups != null && warmups.isArray()) {
            for (int i = 0; i < warmups.size(); i++) {
                if (warmups.get(i).isObject()) {
                    unknown(warmups.get(i), WARMUP_FIELDS, "model_warmup[" + i + "].");
                }
            }
        }
    }

    private static void unknown(JsonNode node, Set<String> known, String prefix) throws Fault {
        Iterator<String> names = node.fieldNames();
        while (names.hasNext()) {
            String f = names.next();
            if (!known.contains(f)) {
                throw new Fault(prefix + f, "field '" + prefix + f + "' is not one Tollgate knows; expected one of "
                        + new TreeSet<>(known) + " (a typo, or a Triton field Tollgate does not support: see"
                        + " docs/api.md)");
            }
        }
    }

    // ---- parse the merged document ---------------------------------------------------------------

    private static ModelConfig parse(String name, JsonNode doc, List<TensorSpec> inputs, List<TensorSpec> outputs, Map<String, String> parameters,
                                     String platform, String engine) throws Fault {
        int maxBatch = wholeNumber(doc.get("max_batch_size"), "max_batch_size", 0, Integer.MAX_VALUE, 0L).intValue();
        VersionPolicy policy = versionPolicy(doc.get("version_policy"));
        String defaultVersion = versionName(doc.get("default_model_version"), "default_model_version", "");
        DynamicBatching batching = batching(doc.get("dynamic_batching"), maxBatch);
        List<InstanceGroup> groups = instanceGroups(doc.get("instance_group"), name);
        List<ModelWarmup> warmups = warmups(doc.get("model_warmup"), maxBatch, inputs);
        return new ModelConfig(name, platform(platform, engine), backend(engine), maxBatch, dims(inputs, maxBatch),
                dims(outputs, maxBatch), policy, defaultVersion, batching, groups, parameters, warmups);
    }

    /** Triton's {@code dims}: the spec's shape without its batch dimension when the model batches. */
    private static List<TensorSpec> dims(List<TensorSpec> specs, int maxBatch) {
        if (maxBatch == 0) {
            return specs;
        }
        List<TensorSpec> out = new ArrayList<>(specs.size());
        for (TensorSpec s : specs) {
            long[] shape = s.shape();
            out.add(new TensorSpec(s.name(), s.type(), shape.length == 0 ? shape
                    : Arrays.copyOfRange(shape, 1, shape.length)));
        }
        return out;
    }

    private static VersionPolicy versionPolicy(JsonNode n) throws Fault {
        if (n == null || n.isNull()) {
            return DEFAULT_POLICY;
        }
        String expected = "one of {\"latest\":{\"num_versions\":N}}, {\"all\":{}} or {\"specific\":{\"versions\":"
                + "[\"1.0.0\"]}}";
        if (!n.isObject() || n.size() != 1) {
            throw fault("version_policy", n, expected);
        }
        String kind = n.fieldNames().next();
        JsonNode body = n.get(kind);
        if (!body.isObject()) {
            throw fault("version_policy." + kind, body, "an object; " + expected);
        }
        switch (kind) {
            case "latest":
                unknown(body, Set.of("num_versions"), "version_policy.latest.");
                int num = wholeNumber(body.get("num_versions"), "version_policy.latest.num_versions", 1,
                        Integer.MAX_VALUE, 1L).intValue();
                return new VersionPolicy(VersionPolicy.Kind.LATEST, num, List.of());
            case "all":
                unknown(body, Set.of(), "version_policy.all.");
                return new VersionPolicy(VersionPolicy.Kind.ALL, 0, List.of());
            default:
                unknown(body, Set.of("versions"), "version_policy.specific.");
                JsonNode vs = body.get("versions");
                String ex = "a non-empty array of versions, e.g. [\"1.0.0\", \"2.0.0\"]";
                if (vs == null || !vs.isArray() || vs.isEmpty()) {
                    throw fault("version_policy.specific.versions", vs, ex);
                }
                List<String> versions = new ArrayList<>();
                for (int i = 0; i < vs.size(); i++) {
                    String v = versionName(vs.get(i), "version_policy.specific.versions[" + i + "]", null);
                    versions.add(normalVersion(v));
                }
                return new VersionPolicy(VersionPolicy.Kind.SPECIFIC, 0, versions);
        }
    }

    /** {@code 1} and {@code 1.0} name {@code 1.0.0}, as a request's version does. */
    static String normalVersion(String v) {
        try {
            return org.osgi.framework.Version.parseVersion(v).toString();
        } catch (IllegalArgumentException e) {
            return v;
        }
    }

    private static DynamicBatching batching(JsonNode n, int maxBatch) throws Fault {
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isObject()) {
            throw fault("dynamic_batching", n, "an object such as {\"preferred_batch_size\":[8,16],"
                    + "\"max_queue_delay_microseconds\":100}, {} for the defaults, or null for no batching");
        }
        if (maxBatch == 0) {
            throw new Fault("dynamic_batching", "field 'dynamic_batching' is set but max_batch_size is 0: a model"
                    + " without a batch dimension cannot merge requests; remove dynamic_batching");
        }
        List<Integer> preferred = new ArrayList<>();
        JsonNode p = n.get("preferred_batch_size");
        if (p != null && !p.isNull()) {
            if (!p.isArray()) {
                throw fault("dynamic_batching.preferred_batch_size", p, "an array of batch sizes 1.." + maxBatch);
            }
            for (int i = 0; i < p.size(); i++) {
                int size = wholeNumber(p.get(i), "dynamic_batching.preferred_batch_size[" + i + "]", 1, maxBatch)
                        .intValue();
                if (!preferred.contains(size)) {
                    preferred.add(size);
                }
            }
            preferred.sort(null);
        }
        long delay = wholeNumber(n.get("max_queue_delay_microseconds"), "dynamic_batching.max_queue_delay_microseconds",
                0, MAX_QUEUE_DELAY_US, 0L);
        int levels = wholeNumber(n.get("priority_levels"), "dynamic_batching.priority_levels", 0, 1000, 0L)
                .intValue();
        int defaultLevel = wholeNumber(n.get("default_priority_level"), "dynamic_batching.default_priority_level", 0,
                levels, 0L).intValue();
        if (levels > 0 && defaultLevel == 0) {
            throw new Fault("dynamic_batching.default_priority_level", "field 'dynamic_batching.default_priority_level'"
                    + " is 0 but priority_levels is " + levels + "; expected a level 1.." + levels);
        }
        QueuePolicy defaultPolicy = queuePolicy(n.get("default_queue_policy"), "dynamic_batching.default_queue_policy");
        Map<Integer, QueuePolicy> perLevel = new HashMap<>();
        JsonNode pq = n.get("priority_queue_policy");
        if (pq != null && !pq.isNull()) {
            if (!pq.isObject()) {
                throw fault("dynamic_batching.priority_queue_policy", pq, "an object keyed by priority level, e.g."
                        + " {\"1\":{\"max_queue_size\":16}}");
            }
            Iterator<Map.Entry<String, JsonNode>> it = pq.fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                String field = "dynamic_batching.priority_queue_policy." + DescriptorReader.printable(e.getKey());
                int level = canonicalLevel(e.getKey()) ? Integer.parseInt(e.getKey()) : -1;
                if (level < 1 || level > levels) {
                    throw new Fault(field, "field '" + field + "' names priority level '"
                            + DescriptorReader.printable(e.getKey()) + "'; expected a level 1.." + levels
                            + " (priority_levels) written as a plain decimal number");
                }
                if (perLevel.put(level, queuePolicy(e.getValue(), field)) != null) {
                    // unreachable while keys are canonical (JSON keys are unique): kept so two can never both count
                    throw new Fault(field, "field '" + field + "' is a second policy for priority level " + level);
                }
            }
        }
        return new DynamicBatching(preferred, delay, levels, defaultLevel, defaultPolicy, perLevel);
    }

    /**
     * True when {@code key} is a priority level as Triton's JSON writes one: ASCII digits, no sign, no leading zero, at
     * most 9 digits ({@link Integer#parseInt} alone took {@code "01"}, {@code "+1"} and non-ASCII digits).
     */
    static boolean canonicalLevel(String key) {
        return key.matches("[1-9][0-9]{0,8}");
    }

    private static QueuePolicy queuePolicy(JsonNode n, String field) throws Fault {
        if (n == null || n.isNull()) {
            return QueuePolicy.DEFAULT;
        }
        if (!n.isObject()) {
            throw fault(field, n, "an object such as {\"timeout_action\":\"REJECT\",\"default_timeout_microseconds\":"
                    + "100000,\"allow_timeout_override\":true,\"max_queue_size\":64}");
        }
        unknown(n, QUEUE_FIELDS, field + ".");
        QueuePolicy.TimeoutAction action = QueuePolicy.TimeoutAction.REJECT;
        JsonNode a = n.get("timeout_action");
        if (a != null && !a.isNull()) {
            if (!a.isTextual() || !Set.of("REJECT", "DELAY").contains(a.textValue())) {
                throw fault(field + ".timeout_action", a, "\"REJECT\" or \"DELAY\"");
            }
            action = QueuePolicy.TimeoutAction.valueOf(a.textValue());
        }
        long timeout = wholeNumber(n.get("default_timeout_microseconds"), field + ".default_timeout_microseconds", 0,
                Long.MAX_VALUE, 0L);
        boolean override = true;
        JsonNode o = n.get("allow_timeout_override");
        if (o != null && !o.isNull()) {
            if (!o.isBoolean()) {
                throw fault(field + ".allow_timeout_override", o, "true or false");
            }
            override = o.booleanValue();
        }
        int size = wholeNumber(n.get("max_queue_size"), field + ".max_queue_size", 0, Integer.MAX_VALUE, 0L)
                .intValue();
        return new QueuePolicy(action, timeout, override, size);
    }

    private static List<InstanceGroup> instanceGroups(JsonNode n, String model) throws Fault {
        String expected = "a non-empty array such as [{\"count\":2,\"kind\":\"KIND_CPU\"}]";
        if (n == null || n.isNull() || !n.isArray() || n.isEmpty()) {
            throw fault("instance_group", n, expected);
        }
        List<InstanceGroup> groups = new ArrayList<>();
        int total = 0;
        for (int i = 0; i < n.size(); i++) {
            String at = "instance_group[" + i + "]";
            JsonNode g = n.get(i);
            if (!g.isObject()) {
                throw fault(at, g, "an object such as {\"count\":2,\"kind\":\"KIND_CPU\"}");
            }
            unknown(g, INSTANCE_FIELDS, at + ".");
            String name = text(g.get("name"), at + ".name");
            int count = wholeNumber(g.get("count"), at + ".count", 1, MAX_INSTANCES, 1L).intValue();
            total += count;
            InstanceGroup.Kind kind = InstanceGroup.Kind.KIND_CPU;
            JsonNode k = g.get("kind");
            if (k != null && !k.isNull()) {
                try {
                    kind = InstanceGroup.Kind.valueOf(k.asText());
                } catch (IllegalArgumentException e) {
                    kind = null;
                }
                if (!k.isTextual() || kind == null) {
                    throw fault(at + ".kind", k, "one of " + Arrays.toString(InstanceGroup.Kind.values()));
                }
            }
            groups.add(new InstanceGroup(name.isEmpty() ? model + "_" + i : name, count, kind));
        }
        if (total > MAX_INSTANCES) {
            throw new Fault("instance_group", "field 'instance_group' asks for " + total + " instances in all; expected"
                    + " at most " + MAX_INSTANCES);
        }
        return groups;
    }

    /**
     * Triton's {@code model_warmup}: an array of samples {@code {"name", "batch_size", "count", "inputs"}}; each
     * {@code inputs} entry (optional: every input is filled anyway) names a model input and holds {@code zero_data} or
     * {@code random_data} true, and may repeat the input's {@code data_type} and {@code dims} (ignored: the model's are
     * used). {@code inputs} names are checked against {@code modelInputs} when those are known.
     */
    private static List<ModelWarmup> warmups(JsonNode n, int maxBatch, List<TensorSpec> modelInputs) throws Fault {
        if (n == null || n.isNull()) {
            return List.of();
        }
        if (!n.isArray()) {
            throw fault("model_warmup", n, "an array such as [{\"name\":\"zero\",\"batch_size\":1,\"count\":10}] (or []"
                    + " for no warm-up)");
        }
        List<ModelWarmup> out = new ArrayList<>();
        for (int i = 0; i < n.size(); i++) {
            String at = "model_warmup[" + i + "]";
            JsonNode w = n.get(i);
            if (!w.isObject()) {
                throw fault(at, w, "an object such as {\"name\":\"zero\",\"batch_size\":1,\"count\":10}");
            }
            unknown(w, WARMUP_FIELDS, at + ".");
            String name = text(w.get("name"), at + ".name");
            int batch = wholeNumber(w.get("batch_size"), at + ".batch_size", 1, Math.max(1, maxBatch), 1L).intValue();
            int count = wholeNumber(w.get("count"), at + ".count", 1, MAX_WARMUP_COUNT, 1L).intValue();
            boolean random = false;
            JsonNode inputs = w.get("inputs");
            if (inputs != null && !inputs.isNull()) {
                if (!inputs.isObject()) {
                    throw fault(at + ".inputs", inputs, "an object of input name to {\"zero_data\":true} or"
                            + " {\"random_data\":true}");
                }
                Iterator<Map.Entry<String, JsonNode>> it = inputs.fields();
                while (it.hasNext()) {
                    Map.Entry<String, JsonNode> e = it.next();
                    String in = at + ".inputs." + e.getKey();
                    if (!modelInputs.isEmpty() && modelInputs.stream().noneMatch(t -> t.name().equals(e.getKey()))) {
                        throw new Fault(in, "field '" + in + "' names no input of the model; its inputs: "
                                + modelInputs.stream().map(TensorSpec::name).toList());
                    }
                    if (!e.getValue().isObject()) {
                        throw fault(in, e.getValue(), "{\"zero_data\":true} or {\"random_data\":true}");
                    }
                    unknown(e.getValue(), WARMUP_INPUT_FIELDS, in + ".");
                    boolean r = e.getValue().path("random_data").asBoolean(false);
                    if (r && e.getValue().path("zero_data").asBoolean(false)) {
                        throw new Fault(in, "field '" + in + "' sets both zero_data and random_data; choose one");
                    }
                    random |= r;
                }
            }
            out.add(new ModelWarmup(name.isEmpty() ? "warmup_" + i : name, batch, random, count));
        }
        return out;
    }

    // ---- values ----------------------------------------------------------------------------------

    private static Long wholeNumber(JsonNode n, String field, long min, long max) throws Fault {
        return wholeNumber(n, field, min, max, null);
    }

    /**
     * A whole number in {@code min..max}; protobuf's JSON mapping writes 64-bit numbers as strings, so a string of
     * digits is taken too. {@code fallback} when absent (null: required).
     */
    private static Long wholeNumber(JsonNode n, String field, long min, long max, Long fallback) throws Fault {
        String expected = "a whole number " + min + ".." + (max == Long.MAX_VALUE || max == Integer.MAX_VALUE
                ? "" : String.valueOf(max)) + (max == Long.MAX_VALUE || max == Integer.MAX_VALUE ? " or more" : "");
        expected = expected.replace(".. or more", " or more");
        if (n == null || n.isNull()) {
            if (fallback == null) {
                throw new Fault(field, "field '" + field + "' is missing; expected " + expected);
            }
            return fallback;
        }
        long v;
        if (n.isIntegralNumber() && n.canConvertToLong()) {
            v = n.longValue();
        } else if (n.isTextual() && n.textValue().matches("-?[0-9]{1,18}")) {
            v = Long.parseLong(n.textValue());
        } else {
            throw fault(field, n, expected);
        }
        if (v < min || v > max) {
            throw fault(field, n, expected);
        }
        return v;
    }

    /**
     * A version name ({@link ModelNames}' rule, as a version in a request path: never empty, {@code .}, {@code ..},
     * with {@code /}, a backslash, a quote or an unprintable character, nor blank at either end), or a whole number
     * (Triton's integer versions); {@code absent} when missing or null (null: required).
     */
    private static String versionName(JsonNode n, String field, String absent) throws Fault {
        String expected = "a version name such as \"1.0.0\" (" + ModelNames.RULE + ")"
                + (absent == null ? "" : "; to set none, remove the field or make it null");
        if (n == null || n.isNull()) {
            if (absent == null) {
                throw fault(field, n, expected);
            }
            return absent;
        }
        if (n.isIntegralNumber() && n.canConvertToLong() && n.longValue() >= 0) {
            return n.asText();
        }
        if (!n.isTextual()) {
            throw fault(field, n, expected);
        }
        java.util.Optional<String> problem = ModelNames.problem(n.textValue());
        if (problem.isPresent()) {
            throw new Fault(field, "field '" + field + "' is " + describe(n) + ", which " + problem.get()
                    + "; expected " + expected);
        }
        return n.textValue();
    }

    private static int intOr(JsonNode n, int fallback) {
        return n != null && n.canConvertToInt() ? n.intValue() : fallback;
    }

    private static String text(JsonNode n, String field) throws Fault {
        if (n == null || n.isNull()) {
            return "";
        }
        if (n.isTextual()) {
            return n.textValue().trim();
        }
        if (n.isIntegralNumber()) {
            return n.asText();
        }
        throw fault(field, n, "a string");
    }

    private static Fault fault(String field, JsonNode value, String expected) {
        return new Fault(field, "field '" + field + "' is " + describe(value) + "; expected " + expected);
    }

    private static String describe(JsonNode value) {
        return value == null || value.isMissingNode() ? "missing" : DescriptorReader.describe(value);
    }
}

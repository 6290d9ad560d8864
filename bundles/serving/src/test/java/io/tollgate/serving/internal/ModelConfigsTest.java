package io.tollgate.serving.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tollgate.model.DataType;
import io.tollgate.model.ModelDescriptor;
import io.tollgate.model.TensorSpec;
import io.tollgate.serving.ModelConfig;
import io.tollgate.serving.ModelConfig.InstanceGroup;
import io.tollgate.serving.ModelConfig.QueuePolicy;
import io.tollgate.serving.ModelConfig.VersionPolicy;
import java.util.List;
import java.util.Map;
import org.junit.Test;

/** Defaults ← descriptor ← the owner's override, and every refusal naming its field. */
public class ModelConfigsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static ModelDescriptor descriptor(int maxBatch) {
        return new ModelDescriptor("fashion-mnist", "1.0.0", "onnx", "onnx", "model.onnx",
                List.of(new TensorSpec("image", DataType.FP32, new long[] {-1, 1, 28, 28})),
                List.of(new TensorSpec("probs", DataType.FP32, new long[] {-1, 10})), maxBatch, List.of(), "", "",
                Map.of("intra_op_threads", "1"));
    }

    private static JsonNode json(String text) {
        try {
            return JSON.readTree(text.replace('\'', '"'));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static ModelConfig effective(String descriptorLayer, String override) throws ModelConfigs.Fault {
        JsonNode layer = json(descriptorLayer);
        ModelConfigs.checkDescriptorLayer(layer);
        return ModelConfigs.effective(descriptor(layer.path("max_batch_size").asInt(0)), layer,
                override == null ? null : json(override));
    }

    @Test
    public void defaultsForADescriptorWithOnlyMaxBatchSize() throws Exception {
        ModelConfig c = effective("{'max_batch_size':256}", null);
        assertEquals("fashion-mnist", c.name());
        assertEquals("onnxruntime_onnx", c.platform());
        assertEquals("onnxruntime", c.backend());
        assertEquals(256, c.maxBatchSize());
        assertArrayEquals("dims exclude the batch dimension", new long[] {1, 28, 28}, c.input().get(0).shape());
        assertArrayEquals(new long[] {10}, c.output().get(0).shape());
        assertEquals("Tollgate serves every installed version unless told otherwise",
                new VersionPolicy(VersionPolicy.Kind.ALL, 0, List.of()), c.versionPolicy());
        assertEquals("", c.defaultModelVersion());
        assertNull("no dynamic batching unless asked", c.dynamicBatching());
        assertEquals(List.of(new InstanceGroup("fashion-mnist_0", 2, InstanceGroup.Kind.KIND_CPU)), c.instanceGroup());
        assertEquals(Map.of("intra_op_threads", "1"), c.parameters());
    }

    @Test
    public void noBatchDimensionKeepsTheFullShape() throws Exception {
        ModelConfig c = effective("{}", null);
        assertEquals(0, c.maxBatchSize());
        assertArrayEquals(new long[] {-1, 1, 28, 28}, c.input().get(0).shape());
    }

    @Test
    public void descriptorFieldsInTritonShape() throws Exception {
        ModelConfig c = effective("{'max_batch_size':64,'dynamic_batching':{'preferred_batch_size':[16,8],"
                + "'max_queue_delay_microseconds':500,'priority_levels':2,'default_priority_level':2,"
                + "'default_queue_policy':{'timeout_action':'DELAY','default_timeout_microseconds':'1000',"
                + "'allow_timeout_override':false,'max_queue_size':32},"
                + "'priority_queue_policy':{'1':{'max_queue_size':4}}},"
                + "'instance_group':[{'name':'cpu','count':2,'kind':'KIND_CPU'}],"
                + "'version_policy':{'latest':{'num_versions':2}},'default_model_version':'1.0'}", null);
        ModelConfig.DynamicBatching b = c.dynamicBatching();
        assertEquals("sorted ascending", List.of(8, 16), b.preferredBatchSize());
        assertEquals(500, b.maxQueueDelayMicroseconds());
        assertEquals(2, b.priorityLevels());
        assertEquals(2, b.defaultPriorityLevel());
        assertEquals(new QueuePolicy(QueuePolicy.TimeoutAction.DELAY, 1000, false, 32), b.defaultQueuePolicy());
        assertEquals(new QueuePolicy(QueuePolicy.TimeoutAction.REJECT, 0, true, 4), b.policy(1));
        assertEquals(b.defaultQueuePolicy(), b.policy(2));
        assertEquals(2, c.instanceCount());
        assertEquals("cpu", c.instanceGroup().get(0).name());
        assertEquals(new VersionPolicy(VersionPolicy.Kind.LATEST, 2, List.of()), c.versionPolicy());
        assertEquals("1.0", c.defaultModelVersion());
    }

    @Test
    public void emptyDynamicBatchingTakesTritonsDefaults() throws Exception {
        ModelConfig.DynamicBatching b = effective("{'max_batch_size':8,'dynamic_batching':{}}", null).dynamicBatching();
        assertEquals(List.of(), b.preferredBatchSize());
        assertEquals(0, b.maxQueueDelayMicroseconds());
        assertEquals(0, b.priorityLevels());
        assertEquals(QueuePolicy.DEFAULT, b.defaultQueuePolicy());
    }

    @Test
    public void overrideMergesFieldByField() throws Exception {
        ModelConfig c = effective("{'max_batch_size':64,'dynamic_batching':{'preferred_batch_size':[8],"
                        + "'max_queue_delay_microseconds':500},'instance_group':[{'count':2}]}",
                "{'name':'fashion-mnist','dynamic_batching':{'max_queue_delay_microseconds':100},"
                        + "'version_policy':{'all':{}}}");
        assertEquals(64, c.maxBatchSize());
        assertEquals("kept from the descriptor", List.of(8), c.dynamicBatching().preferredBatchSize());
        assertEquals("from the override", 100, c.dynamicBatching().maxQueueDelayMicroseconds());
        assertEquals(2, c.instanceCount());
        assertEquals(VersionPolicy.Kind.ALL, c.versionPolicy().kind());
    }

    @Test
    public void overrideReplacesArraysAndNullRemoves() throws Exception {
        ModelConfig c = effective("{'max_batch_size':64,'dynamic_batching':{'preferred_batch_size':[8,16]},"
                + "'instance_group':[{'count':2},{'count':3}]}", "{'dynamic_batching':null,"
                + "'instance_group':[{'count':1}],'max_batch_size':16,"
                + "'version_policy':{'specific':{'versions':['1','2.0.0']}}}");
        assertNull(c.dynamicBatching());
        assertEquals(1, c.instanceCount());
        assertEquals(16, c.maxBatchSize());
        assertEquals(List.of("1.0.0", "2.0.0"), c.versionPolicy().versions());
    }

    @Test
    public void layerOfAnOldDescriptorIsItsMaxBatchSize() throws Exception {
        ModelConfig c = ModelConfigs.effective(descriptor(32), ModelConfigs.layerOf(descriptor(32)), null);
        assertEquals(32, c.maxBatchSize());
    }

    /** Issue 11: Triton's model_warmup, a default sample unless configured, [] or null turns it off. */
    @Test
    public void modelWarmupDefaultsToAFewZeroRunsAndIsOverridable() throws Exception {
        assertEquals(List.of(new ModelConfig.ModelWarmup(ModelConfigs.DEFAULT_WARMUP_NAME, 1, false,
                ModelConfigs.DEFAULT_WARMUP_COUNT)), effective("{'max_batch_size':64}", null).modelWarmup());
        assertEquals(List.of(), effective("{'max_batch_size':64}", "{'model_warmup':[]}").modelWarmup());
        assertEquals(List.of(), effective("{'max_batch_size':64}", "{'model_warmup':null}").modelWarmup());
        assertEquals(List.of(new ModelConfig.ModelWarmup("big", 16, true, 3)), effective("{'max_batch_size':64}",
                "{'model_warmup':[{'name':'big','batch_size':16,'count':3,'inputs':{'image':{'data_type':'TYPE_FP32',"
                        + "'dims':[1,28,28],'random_data':true}}}]}").modelWarmup());
        refusedOverride("{'model_warmup':[{'batch_size':65}]}", "model_warmup[0].batch_size", "65");
        refusedOverride("{'model_warmup':[{'count':0}]}", "model_warmup[0].count");
        refusedOverride("{'model_warmup':[{'inputs':{'nope':{'zero_data':true}}}]}", "model_warmup[0].inputs.nope",
                "names no input", "image");
        refusedOverride("{'model_warmup':[{'name':'x','sample':1}]}", "model_warmup[0].sample");
        refusedOverride("{'model_warmup':{'name':'x'}}", "model_warmup", "an array");
    }

    // ---- refusals: each names its field ------------------------------------------------------------

    private static void refusedOverride(String override, String field, String... phrases) {
        try {
            effective("{'max_batch_size':64,'dynamic_batching':{'priority_levels':2,'default_priority_level':1}}",
                    override);
            fail("accepted " + override);
        } catch (ModelConfigs.Fault f) {
            assertEquals(f.getMessage(), field, f.field());
            for (String p : phrases) {
                assertTrue(f.getMessage() + " should say " + p, f.getMessage().contains(p));
            }
        }
    }

    private static void refusedDescriptor(String layer, String field) {
        try {
            effective(layer, null);
            fail("accepted " + layer);
        } catch (ModelConfigs.Fault f) {
            assertEquals(f.getMessage(), field, f.field());
            assertTrue(f.getMessage(), f.getMessage().contains("'" + field + "'"));
        }
    }

    @Test
    public void unknownFieldsAreRefusedWithTheirName() {
        refusedOverride("{'max_batch_sise':8}", "max_batch_sise", "not a model configuration field");
        refusedOverride("{'dynamic_batching':{'max_queue_delay_microseconds':9223372036854775807}}",
                "dynamic_batching.max_queue_delay_microseconds", "10000000");
        refusedOverride("{'dynamic_batching':{'preserve_ordering':true}}", "dynamic_batching.preserve_ordering",
                "expected one of");
        refusedOverride("{'dynamic_batching':{'default_queue_policy':{'max_queue':1}}}",
                "dynamic_batching.default_queue_policy.max_queue");
        refusedOverride("{'dynamic_batching':{'priority_queue_policy':{'1':{'timeout':1}}}}",
                "dynamic_batching.priority_queue_policy.1.timeout");
        refusedOverride("{'instance_group':[{'count':1,'gpus':[0]}]}", "instance_group[0].gpus");
        refusedOverride("{'version_policy':{'newest':{}}}", "version_policy.newest");
        refusedOverride("{'version_policy':{'latest':{'num':1}}}", "version_policy.latest.num");
    }

    @Test
    public void pluginFieldsCannotBeOverridden() {
        refusedOverride("{'platform':'tensorrt_plan'}", "platform", "comes from the plugin");
        refusedOverride("{'input':[]}", "input", "comes from the plugin");
        refusedOverride("{'output':[]}", "output");
        refusedOverride("{'backend':'x'}", "backend");
        refusedOverride("{'parameters':{}}", "parameters");
        refusedOverride("{'name':'other'}", "name", "configures model 'fashion-mnist'");
    }

    @Test
    public void maxBatchSizeMayOnlyBeLowered() {
        refusedOverride("{'max_batch_size':128}", "max_batch_size", "expected 1..64");
        refusedOverride("{'max_batch_size':0}", "max_batch_size", "expected 1..64");
        refusedOverride("{'max_batch_size':-1}", "max_batch_size");
        refusedOverride("{'max_batch_size':'many'}", "max_batch_size");
        try {
            effective("{}", "{'max_batch_size':8}");
            fail();
        } catch (ModelConfigs.Fault f) {
            assertEquals("max_batch_size", f.field());
            assertTrue(f.getMessage(), f.getMessage().contains("no batch dimension"));
        }
    }

    @Test
    public void everyInvalidValueIsRefused() {
        refusedOverride("[]", "", "must be a JSON object");
        refusedOverride("{'dynamic_batching':[]}", "dynamic_batching");
        refusedOverride("{'dynamic_batching':{'preferred_batch_size':8}}", "dynamic_batching.preferred_batch_size");
        refusedOverride("{'dynamic_batching':{'preferred_batch_size':[8,65]}}",
                "dynamic_batching.preferred_batch_size[1]", "1..64");
        refusedOverride("{'dynamic_batching':{'preferred_batch_size':[0]}}", "dynamic_batching.preferred_batch_size[0]");
        refusedOverride("{'dynamic_batching':{'max_queue_delay_microseconds':-1}}",
                "dynamic_batching.max_queue_delay_microseconds");
        refusedOverride("{'dynamic_batching':{'max_queue_delay_microseconds':1.5}}",
                "dynamic_batching.max_queue_delay_microseconds");
        refusedOverride("{'dynamic_batching':{'priority_levels':-1}}", "dynamic_batching.priority_levels");
        refusedOverride("{'dynamic_batching':{'default_priority_level':3}}", "dynamic_batching.default_priority_level");
        refusedOverride("{'dynamic_batching':{'default_priority_level':0}}", "dynamic_batching.default_priority_level");
        refusedOverride("{'dynamic_batching':{'priority_queue_policy':{'3':{}}}}",
                "dynamic_batching.priority_queue_policy.3", "1..2");
        refusedOverride("{'dynamic_batching':{'priority_queue_policy':[]}}", "dynamic_batching.priority_queue_policy");
        refusedOverride("{'dynamic_batching':{'default_queue_policy':{'timeout_action':'DROP'}}}",
                "dynamic_batching.default_queue_policy.timeout_action", "REJECT");
        refusedOverride("{'dynamic_batching':{'default_queue_policy':{'default_timeout_microseconds':-5}}}",
                "dynamic_batching.default_queue_policy.default_timeout_microseconds");
        refusedOverride("{'dynamic_batching':{'default_queue_policy':{'allow_timeout_override':'yes'}}}",
                "dynamic_batching.default_queue_policy.allow_timeout_override");
        refusedOverride("{'dynamic_batching':{'default_queue_policy':{'max_queue_size':-1}}}",
                "dynamic_batching.default_queue_policy.max_queue_size");
        refusedOverride("{'dynamic_batching':{'default_queue_policy':7}}", "dynamic_batching.default_queue_policy");
        refusedOverride("{'instance_group':[]}", "instance_group");
        refusedOverride("{'instance_group':{'count':2}}", "instance_group");
        refusedOverride("{'instance_group':[3]}", "instance_group[0]");
        refusedOverride("{'instance_group':[{'count':0}]}", "instance_group[0].count");
        refusedOverride("{'instance_group':[{'count':65}]}", "instance_group[0].count");
        refusedOverride("{'instance_group':[{'count':40},{'count':40}]}", "instance_group", "80 instances");
        refusedOverride("{'instance_group':[{'kind':'KIND_TPU'}]}", "instance_group[0].kind", "KIND_CPU");
        refusedOverride("{'instance_group':[{'name':[1]}]}", "instance_group[0].name");
        refusedOverride("{'version_policy':'latest'}", "version_policy");
        refusedOverride("{'version_policy':{'latest':{},'all':{}}}", "version_policy");
        refusedOverride("{'version_policy':{'latest':{'num_versions':0}}}", "version_policy.latest.num_versions");
        refusedOverride("{'version_policy':{'latest':7}}", "version_policy.latest");
        refusedOverride("{'version_policy':{'all':{'x':1}}}", "version_policy.all.x");
        refusedOverride("{'version_policy':{'specific':{'versions':[]}}}", "version_policy.specific.versions");
        refusedOverride("{'version_policy':{'specific':{'versions':[true]}}}", "version_policy.specific.versions[0]");
        refusedOverride("{'default_model_version':{}}", "default_model_version");
    }

    @Test
    public void descriptorRefusals() {
        refusedDescriptor("{'dynamic_batching':{}}", "dynamic_batching");     // max_batch_size 0
        refusedDescriptor("{'max_batch_size':8,'dynamic_batching':{'preferred_batch_size':[9]}}",
                "dynamic_batching.preferred_batch_size[0]");
        refusedDescriptor("{'instance_group':[{'count':-1}]}", "instance_group[0].count");
        refusedDescriptor("{'version_policy':{'sometimes':{}}}", "version_policy.sometimes");
    }
    // ---- red-team review 2026-12-02: values that were accepted although wrong ---------------------

    @Test
    public void defaultModelVersionMustBeAVersionName() throws Exception {
        for (String bad : new String[] {"../../x", "", "a/b", "a\\b", "..", ".", " 1.0.0", "1.0.0\u0001",
                "1.0.0\u202e"}) {
            com.fasterxml.jackson.databind.node.ObjectNode o = JSON.createObjectNode();
            o.put("default_model_version", bad);
            refusedOverride(o.toString().replace('"', '\''), "default_model_version", "version name");
        }
        refusedDescriptor("{'default_model_version':'../x'}", "default_model_version");
        refusedOverride("{'default_model_version':{'v':1}}", "default_model_version");
        assertEquals("a version as Triton names it", "2", effective("{}", "{'default_model_version':2}")
                .defaultModelVersion());
        assertEquals("null removes it", "", effective("{'default_model_version':'1.0.0'}",
                "{'default_model_version':null}").defaultModelVersion());
    }

    @Test
    public void specificVersionsMustBeVersionNames() {
        refusedOverride("{'version_policy':{'specific':{'versions':['1.0.0','../x']}}}",
                "version_policy.specific.versions[1]", "version name");
        refusedOverride("{'version_policy':{'specific':{'versions':['a/b']}}}", "version_policy.specific.versions[0]");
    }

    @Test
    public void priorityQueuePolicyKeysAreCanonicalLevelsInRange() throws Exception {
        // the base layer has priority_levels 2
        for (String key : new String[] {"01", "+1", "\u0661", "1.0", " 1", "0", "3", "-1", "00", "1e0"}) {
            com.fasterxml.jackson.databind.node.ObjectNode o = JSON.createObjectNode();
            o.putObject("dynamic_batching").putObject("priority_queue_policy").putObject(key).put("max_queue_size", 1);
            refusedOverride(o.toString(), "dynamic_batching.priority_queue_policy." + key, "priority level");
        }
        // "1" and "01" were two policies for level 1 (which won depended on the map)
        refusedOverride("{'dynamic_batching':{'priority_queue_policy':{'1':{'max_queue_size':1},"
                + "'01':{'max_queue_size':2}}}}", "dynamic_batching.priority_queue_policy.01");
        try {
            ModelConfigs.checkOverride(json("{'dynamic_batching':{'priority_queue_policy':{'01':{}}}}"),
                    "fashion-mnist");
            fail("a key that is no canonical level is refused before any version is held");
        } catch (ModelConfigs.Fault f) {
            assertEquals("dynamic_batching.priority_queue_policy.01", f.field());
        }
        ModelConfig c = effective("{'max_batch_size':64,'dynamic_batching':{'priority_levels':2,"
                + "'default_priority_level':1}}", "{'dynamic_batching':{'priority_queue_policy':{'2':"
                + "{'max_queue_size':5}}}}");
        assertEquals(5, c.dynamicBatching().priorityQueuePolicy().get(2).maxQueueSize());
    }

    @Test
    public void anInstanceKindThisBoxCannotHonourIsRefused() throws Exception {
        java.util.Set<io.tollgate.accelerator.AcceleratorKind> cpuOnly =
                java.util.EnumSet.of(io.tollgate.accelerator.AcceleratorKind.CPU);
        try {
            ModelConfigs.checkKinds(json("{'instance_group':[{'count':1,'kind':'KIND_CPU'},"
                    + "{'count':1,'kind':'KIND_GPU'}]}"), cpuOnly);
            fail("KIND_GPU on a box without a GPU");
        } catch (ModelConfigs.Fault f) {
            assertEquals("instance_group[1].kind", f.field());
            assertTrue(f.getMessage(), f.getMessage().contains("no GPU"));
        }
        ModelConfigs.checkKinds(json("{'instance_group':[{'count':1,'kind':'KIND_AUTO'},{'count':1}]}"), cpuOnly);
        ModelConfigs.checkKinds(json("{'instance_group':[{'count':1,'kind':'KIND_GPU'}]}"), java.util.EnumSet.of(
                io.tollgate.accelerator.AcceleratorKind.CPU, io.tollgate.accelerator.AcceleratorKind.GPU));
        ModelConfigs.checkKinds(json("{'max_batch_size':4}"), cpuOnly);
        ModelConfigs.checkKinds(json("{'instance_group':null}"), cpuOnly);
    }
}

package io.tollgate.serving.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.model.DataType;
import io.tollgate.model.ModelDescriptor;
import io.tollgate.model.TensorSpec;
import java.util.List;
import java.util.Map;
import org.junit.Test;

/** The descriptor's {@code pipeline} field (issue 13): what is read, and each refusal naming its field. */
public class PipelineDescriptorTest {
    private static final String IO = "\"inputs\":[{\"name\":\"image\",\"datatype\":\"BYTES\",\"shape\":[-1]}],"
            + "\"outputs\":[{\"name\":\"text\",\"datatype\":\"BYTES\",\"shape\":[-1]}]";
    private static final String PIPELINE = "\"pipeline\":{\"class\":\"io.acme.ocr.OcrPipeline\","
            + "\"stages\":{\"det\":\"models/det.onnx\",\"cls\":\"models/cls.onnx\",\"rec\":\"models/rec.onnx\"}}";

    private static FakePluginSource plugin(String members) {
        FakePluginSource p = new FakePluginSource(7, "io.acme.ocr", "1.0.0");
        p.put("TOLLGATE-INF/model.json", "{\"name\":\"ocr\",\"version\":\"1.0.0\",\"platform\":\"onnx\","
                + "\"engine\":\"onnx\"," + members + "}");
        p.put("TOLLGATE-INF/models/det.onnx", "det");
        p.put("TOLLGATE-INF/models/cls.onnx", "cls");
        p.put("TOLLGATE-INF/models/rec.onnx", "rec");
        return p;
    }

    private static String refusal(FakePluginSource p) {
        try {
            ModelDescriptor d = DescriptorReader.read(p);
            fail("expected a refusal, read " + d);
            return null;
        } catch (PluginException e) {
            return e.getMessage();
        }
    }

    private static void assertRefused(String members, String... fragments) {
        String message = refusal(plugin(members));
        for (String f : fragments) {
            assertTrue("'" + f + "' in: " + message, message.contains(f));
        }
        assertTrue(message, message.startsWith("plugin io.acme.ocr 1.0.0: TOLLGATE-INF/model.json"));
    }

    @Test
    public void readsThePipelineAndItsStagesInOrder() throws Exception {
        ModelDescriptor d = DescriptorReader.read(plugin(PIPELINE + ",\"max_batch_size\":0,\"meter\":\"images\","
                + "\"parameters\":{\"det_threshold\":\"0.3\"}," + IO));
        assertTrue(d.isPipeline());
        assertEquals("io.acme.ocr.OcrPipeline", d.pipeline().className());
        assertEquals(List.of("det", "cls", "rec"), List.copyOf(d.pipeline().stages().keySet()));
        assertEquals("models/rec.onnx", d.pipeline().stages().get("rec"));
        assertEquals("models/det.onnx", d.file());   // file defaults to the first stage
        assertEquals("images", d.meter());
        assertEquals(0, d.maxBatchSize());
        assertEquals(Map.of("det_threshold", "0.3"), d.parameters());
        assertEquals(List.of(new TensorSpec("image", DataType.BYTES, new long[] {-1})), d.inputs());
    }

    @Test
    public void anExplicitFileIsKept() throws Exception {
        FakePluginSource p = plugin(PIPELINE + ",\"file\":\"models/rec.onnx\"," + IO);
        assertEquals("models/rec.onnx", DescriptorReader.read(p).file());
    }

    @Test
    public void aPlainModelHasNoPipeline() throws Exception {
        FakePluginSource p = plugin("\"file\":\"models/det.onnx\"");
        assertNull(DescriptorReader.read(p).pipeline());
    }

    @Test
    public void refusesAPipelineThatIsNotAnObject() {
        assertRefused("\"pipeline\":\"io.acme.ocr.OcrPipeline\"," + IO, "field 'pipeline' is 'io.acme.ocr.OcrPipeline'",
                "expected an object");
    }

    @Test
    public void refusesAMissingOrBadClass() {
        assertRefused("\"pipeline\":{\"stages\":{\"det\":\"models/det.onnx\"}}," + IO,
                "field 'pipeline.class' is missing");
        assertRefused("\"pipeline\":{\"class\":\"io.acme/Ocr\",\"stages\":{\"det\":\"models/det.onnx\"}}," + IO,
                "field 'pipeline.class' is 'io.acme/Ocr'", "fully qualified Java class name");
    }

    @Test
    public void refusesMissingOrEmptyStages() {
        assertRefused("\"pipeline\":{\"class\":\"a.B\"}," + IO, "field 'pipeline.stages' is missing");
        assertRefused("\"pipeline\":{\"class\":\"a.B\",\"stages\":{}}," + IO, "field 'pipeline.stages' is {}",
                "at least one stage");
        assertRefused("\"pipeline\":{\"class\":\"a.B\",\"stages\":[\"models/det.onnx\"]}," + IO,
                "field 'pipeline.stages' is [");
    }

    @Test
    public void refusesAStagePathOutsideThePlugin() {
        assertRefused("\"pipeline\":{\"class\":\"a.B\",\"stages\":{\"det\":\"../det.onnx\"}}," + IO,
                "field 'pipeline.stages.det' is '../det.onnx'", "no '..'");
        assertRefused("\"pipeline\":{\"class\":\"a.B\",\"stages\":{\"det\":\"/etc/passwd\"}}," + IO,
                "field 'pipeline.stages.det' is '/etc/passwd'");
        assertRefused("\"pipeline\":{\"class\":\"a.B\",\"stages\":{\"det\":7}}," + IO,
                "field 'pipeline.stages.det' is 7");
    }

    @Test
    public void refusesAStageFileMissingFromThePlugin() {
        String message = refusal(plugin("\"pipeline\":{\"class\":\"a.B\",\"stages\":{\"det\":\"models/x.onnx\"}},"
                + IO));
        assertTrue(message, message.contains("model file TOLLGATE-INF/models/x.onnx (field 'pipeline.stages.det'"
                + " of TOLLGATE-INF/model.json) is missing from the plugin"));
    }

    @Test
    public void refusesABadStageName() {
        assertRefused("\"pipeline\":{\"class\":\"a.B\",\"stages\":{\"de t\":\"models/det.onnx\"}}," + IO,
                "field 'pipeline.stages' has a stage named 'de t'");
    }

    @Test
    public void refusesBatchingOfAPipeline() {
        assertRefused(PIPELINE + ",\"max_batch_size\":8," + IO, "field 'max_batch_size' is 8",
                "a pipeline batches its own stages");
        assertRefused(PIPELINE + ",\"dynamic_batching\":{}," + IO, "field 'dynamic_batching' is {}",
                "a pipeline batches its own stages");
    }

    @Test
    public void refusesAPipelineWithoutItsInterface() {
        assertRefused(PIPELINE + ",\"outputs\":[{\"name\":\"text\",\"datatype\":\"BYTES\",\"shape\":[-1]}]",
                "field 'inputs' is missing");
        assertRefused(PIPELINE + ",\"inputs\":[{\"name\":\"image\",\"datatype\":\"BYTES\",\"shape\":[-1]}]",
                "field 'outputs' is missing");
    }

    @Test
    public void refusesAnEncryptedPipeline() {
        assertRefused(PIPELINE + ",\"encryption\":{\"scheme\":\"AES-256-GCM\",\"key_id\":\"k\"}," + IO,
                "field 'encryption'", "not supported");
    }

    @Test
    public void theConfigShowsThePipelineBackend() throws Exception {
        DescriptorReader.Described d = DescriptorReader.describe(plugin(PIPELINE + "," + IO));
        io.tollgate.serving.ModelConfig c = ModelConfigs.effective(d.descriptor(), d.configLayer(), null);
        assertEquals("pipeline", c.platform());
        assertEquals("pipeline", c.backend());
        assertEquals(0, c.maxBatchSize());
        assertEquals("no warm-up runs into a pipeline, so its configuration shows none", List.of(), c.modelWarmup());
        com.fasterxml.jackson.databind.node.ObjectNode override = com.fasterxml.jackson.databind.node.JsonNodeFactory
                .instance.objectNode();
        override.putArray("model_warmup").addObject().put("name", "w").put("count", 3);
        assertEquals("nor with an override asking for one", List.of(),
                ModelConfigs.effective(d.descriptor(), d.configLayer(), override).modelWarmup());
    }
}

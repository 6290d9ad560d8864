package io.tollgate.serving.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.model.DataType;
import io.tollgate.model.ModelDescriptor;
import io.tollgate.model.TensorSpec;
import java.util.List;
import java.util.Map;
import org.junit.Test;

public class DescriptorReaderTest {
    private static final String PREFIX = "plugin io.acme.x 1.0.0: TOLLGATE-INF/model.json: ";
    private static final String FULL = "{\"name\":\"fashion-mnist\",\"version\":\"1.0.0\",\"platform\":\"onnx\","
            + "\"engine\":\"onnx\",\"file\":\"model.onnx\",\"max_batch_size\":256,"
            + "\"inputs\":[{\"name\":\"image\",\"datatype\":\"FP32\",\"shape\":[-1,1,28,28]}],"
            + "\"outputs\":[{\"name\":\"probs\",\"datatype\":\"fp32\",\"shape\":[-1,10]}],"
            + "\"labels_file\":\"labels.txt\",\"meter\":\"image\",\"license_feature\":\"vision\","
            + "\"parameters\":{\"intra_op_threads\":\"1\",\"inter_op_threads\":2,\"fast\":true}}";

    private static FakePluginSource plugin(String json) {
        FakePluginSource p = new FakePluginSource(7, "io.acme.x", "1.0.0");
        p.put("TOLLGATE-INF/model.json", json);
        p.put("TOLLGATE-INF/labels.txt", "T-shirt/top\r\nTrouser\n\n");
        return p;
    }

    private static String refusal(String json) {
        return refusal(plugin(json));
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

    /** The minimal descriptor with {@code extra} (a JSON member list, may be empty) appended. */
    private static String minimal(String extra) {
        return "{\"name\":\"m\",\"version\":\"1.0.0\",\"platform\":\"onnx\",\"file\":\"model.onnx\""
                + (extra.isEmpty() ? "" : "," + extra) + "}";
    }

    @Test
    public void readsEveryField() throws Exception {
        ModelDescriptor d = DescriptorReader.read(plugin(FULL));
        assertEquals("fashion-mnist", d.name());
        assertEquals("1.0.0", d.version());
        assertEquals("onnx", d.platform());
        assertEquals("onnx", d.engine());
        assertEquals("model.onnx", d.file());
        assertEquals(256, d.maxBatchSize());
        assertEquals(List.of(new TensorSpec("image", DataType.FP32, new long[] {-1, 1, 28, 28})), d.inputs());
        assertEquals(List.of(new TensorSpec("probs", DataType.FP32, new long[] {-1, 10})), d.outputs());
        assertEquals(List.of("T-shirt/top", "Trouser"), d.labels());
        assertEquals("image", d.meter());
        assertEquals("vision", d.licenseFeature());
        assertEquals(Map.of("intra_op_threads", "1", "inter_op_threads", "2", "fast", "true"), d.parameters());
    }

    @Test
    public void appliesDefaults() throws Exception {
        ModelDescriptor d = DescriptorReader.read(plugin(minimal("")));
        assertEquals("onnx", d.engine());          // engine defaults to the platform
        assertEquals(0, d.maxBatchSize());
        assertTrue(d.inputs().isEmpty());
        assertTrue(d.outputs().isEmpty());
        assertTrue(d.labels().isEmpty());
        assertEquals("inference", d.meter());
        assertEquals("", d.licenseFeature());
        assertTrue(d.parameters().isEmpty());
    }

    @Test
    public void normalisesTheVersion() throws Exception {
        ModelDescriptor d = DescriptorReader.read(plugin(minimal("").replace("\"1.0.0\"", "\"2.1\"")));
        assertEquals("2.1.0", d.version());
    }

    @Test
    public void readsInlineLabels() throws Exception {
        ModelDescriptor d = DescriptorReader.read(plugin(minimal("\"labels\":[\"cat\",\"dog\"]")));
        assertEquals(List.of("cat", "dog"), d.labels());
    }

    @Test
    public void resolvesFilesAgainstTheDescriptorFolderNamedByTollgateModel() throws Exception {
        FakePluginSource p = new FakePluginSource(7, "io.acme.x", "1.0.0");
        p.descriptorPath = "models/x/descriptor.json";
        p.put("models/x/descriptor.json", minimal("\"labels_file\":\"classes.txt\""));
        p.put("models/x/classes.txt", "\uFEFFa\nb");
        p.put("models/x/model.onnx", "bytes");
        ModelDescriptor d = DescriptorReader.read(p);
        assertEquals(List.of("a", "b"), d.labels());
        assertArrayEquals("bytes".getBytes(), DescriptorReader.readModelFile(p, d));
    }

    @Test
    public void refusesAMissingDescriptor() {
        FakePluginSource p = new FakePluginSource(7, "io.acme.x", "1.0.0");
        assertEquals("plugin io.acme.x 1.0.0: TOLLGATE-INF/model.json is missing; a model plugin must contain it"
                + " (or name another path in its Tollgate-Model header)", refusal(p));
    }

    @Test
    public void refusesInvalidJsonWithTheLocation() {
        String m = refusal("{\"name\":\"m\",\n\"version\": }");
        assertTrue(m, m.startsWith("plugin io.acme.x 1.0.0: TOLLGATE-INF/model.json is not valid JSON at line 2,"
                + " column "));
        assertTrue(m, m.contains("Unexpected character ('}'"));
    }

    @Test
    public void refusesDuplicateKeys() {
        String m = refusal("{\"name\":\"m\",\"name\":\"n\"}");
        assertTrue(m, m.contains("is not valid JSON") && m.contains("Duplicate field 'name'"));
    }

    @Test
    public void refusesContentAfterTheObject() {
        String m = refusal("{\"name\":\"m\"}\n{\"name\":\"n\"}");
        assertTrue(m, m.startsWith("plugin io.acme.x 1.0.0: TOLLGATE-INF/model.json is not valid JSON at line 2,"));
        assertTrue(m, m.contains("Trailing token"));
    }

    @Test
    public void refusesANonObject() {
        assertEquals("plugin io.acme.x 1.0.0: TOLLGATE-INF/model.json must hold a JSON object such as"
                + " {\"name\":\"fashion-mnist\",\"version\":\"1.0.0\",\"platform\":\"onnx\",\"file\":\"model.onnx\"}"
                + " but holds [1,2]", refusal("[1,2]"));
    }

    @Test
    public void refusesMissingRequiredFields() {
        assertEquals(PREFIX + "field 'name' is missing; expected a string",
                refusal("{\"version\":\"1.0.0\",\"platform\":\"onnx\",\"file\":\"m.onnx\"}"));
        assertEquals(PREFIX + "field 'version' is missing; expected a string",
                refusal("{\"name\":\"m\",\"platform\":\"onnx\",\"file\":\"m.onnx\"}"));
        assertEquals(PREFIX + "field 'platform' is missing; expected a string",
                refusal("{\"name\":\"m\",\"version\":\"1.0.0\",\"file\":\"m.onnx\"}"));
        assertEquals(PREFIX + "field 'file' is missing; expected a string",
                refusal("{\"name\":\"m\",\"version\":\"1.0.0\",\"platform\":\"onnx\"}"));
    }

    @Test
    public void refusesWrongTypesAndBlankStrings() {
        assertEquals(PREFIX + "field 'name' is 42; expected a non-empty string",
                refusal(minimal("").replace("\"name\":\"m\"", "\"name\":42")));
        assertEquals(PREFIX + "field 'platform' is ' '; expected a non-empty string",
                refusal(minimal("").replace("\"platform\":\"onnx\"", "\"platform\":\" \"")));
        assertEquals(PREFIX + "field 'engine' is 1; expected a string", refusal(minimal("\"engine\":1")));
        assertEquals(PREFIX + "field 'meter' is []; expected a string", refusal(minimal("\"meter\":[]")));
    }

    @Test
    public void acceptsTheModelNamesTritonAccepts() throws Exception {
        // Triton takes any directory name: upper case, spaces, punctuation, other scripts; names are case-sensitive
        for (String name : new String[] {"ResNet50", "yolov8n-Seg", "fashion mnist", "bert_base.v2", "détecteur",
                "模型", "a+b (v2) #1", "resnet50"}) {
            String json = minimal("").replace("\"name\":\"m\"", "\"name\":\"" + name + "\"");
            assertEquals(name, DescriptorReader.read(plugin(json)).name());
        }
    }

    @Test
    public void refusesAModelNameThatNoDirectoryOrHeaderCanHold() {
        String rule = "; expected " + io.tollgate.model.ModelNames.RULE;
        String[][] cases = {
                {"a/b", "(the name contains '/')"},
                {"..", "(the name is '..', which names a directory itself)"},
                {"a\\\"b", "(the name contains '\"')"},
                {"a\\u202eb", "(the name contains the unprintable character U+202E)"},
                {"a\\u0007b", "(the name contains the unprintable character U+0007)"},
        };
        for (String[] c : cases) {
            String m = refusal(minimal("").replace("\"name\":\"m\"", "\"name\":\"" + c[0] + "\""));
            assertTrue(m, m.startsWith(PREFIX + "field 'name' is '"));
            assertTrue(m, m.endsWith(rule + " " + c[1]));
        }
        String m = refusal(minimal("").replace("\"name\":\"m\"", "\"name\":\"" + "x".repeat(129) + "\""));
        assertTrue(m, m.endsWith("(the name has 129 characters, more than 128)"));
    }

    @Test
    public void aLabelsFileThatInflatesPastTheSmallEntryLimitIsRefusedNotRead() {
        FakePluginSource p = plugin(minimal("\"labels_file\":\"labels.txt\""));
        p.put("TOLLGATE-INF/labels.txt", "a\n".repeat((int) (DescriptorReader.MAX_SMALL_ENTRY_BYTES / 2) + 1));
        assertEquals("plugin io.acme.x 1.0.0: TOLLGATE-INF/labels.txt inflates to more than 4194304 bytes; a descriptor"
                + " or labels file is never that large (a zip bomb?)", refusal(p));
    }

    @Test
    public void valuesFromThePluginCannotForgeALogLine() {
        String m = refusal(minimal("").replace("\"name\":\"m\"",
                "\"name\":\"hn\\n2026-11-30 [main] ERROR io.tollgate.FAKE forged\\u001b[31m\""));
        assertTrue(m, m.startsWith(PREFIX + "field 'name' is 'hn\\u000a2026-11-30 [main] ERROR io.tollgate.FAKE"
                + " forged\\u001b[31m'"));
        assertTrue(m, m.chars().noneMatch(Character::isISOControl));
    }

    @Test
    public void acceptsZeroSizeDimensions() throws Exception {
        ModelDescriptor d = DescriptorReader.read(plugin(minimal(
                "\"outputs\":[{\"name\":\"out\",\"datatype\":\"UINT8\",\"shape\":[0]}],"
                        + "\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[-1,0,3]}]")));
        assertEquals(0, d.outputs().get(0).shape()[0]);
        assertEquals(0, d.inputs().get(0).shape()[1]);
    }

    @Test
    public void refusesAVersionThatIsNotAVersion() {
        assertEquals(PREFIX + "field 'version' is '1.0.0-beta'; expected major.minor.micro with an optional"
                + " .qualifier, e.g. \"1.0.0\"", refusal(minimal("").replace("1.0.0", "1.0.0-beta")));
    }

    @Test
    public void refusesAFilePathOutsideThePlugin() {
        String expected = "; expected a path inside the plugin relative to TOLLGATE-INF/ (no '..', no leading '/')";
        assertEquals(PREFIX + "field 'file' is '../model.onnx'" + expected,
                refusal(minimal("").replace("\"model.onnx\"", "\"../model.onnx\"")));
        assertEquals(PREFIX + "field 'file' is '/model.onnx'" + expected,
                refusal(minimal("").replace("\"model.onnx\"", "\"/model.onnx\"")));
        assertEquals(PREFIX + "field 'labels_file' is 'a/../../x.txt'" + expected,
                refusal(minimal("\"labels_file\":\"a/../../x.txt\"")));
    }

    @Test
    public void refusesABadMaxBatchSize() {
        String expected = "; expected a whole number >= 0 (0 = the model has no batch dimension)";
        assertEquals(PREFIX + "field 'max_batch_size' is -1" + expected, refusal(minimal("\"max_batch_size\":-1")));
        assertEquals(PREFIX + "field 'max_batch_size' is 2.5" + expected, refusal(minimal("\"max_batch_size\":2.5")));
        assertEquals(PREFIX + "field 'max_batch_size' is '8'" + expected, refusal(minimal("\"max_batch_size\":\"8\"")));
        assertEquals(PREFIX + "field 'max_batch_size' is 99999999999" + expected,
                refusal(minimal("\"max_batch_size\":99999999999")));
    }

    @Test
    public void refusesAnUnknownDatatypeNamingTheChoices() {
        assertEquals(PREFIX + "field 'inputs[0].datatype' is 'FP33'; expected one of [BOOL, UINT8, UINT16, UINT32,"
                        + " UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64, BF16, BYTES]",
                refusal(minimal("\"inputs\":[{\"name\":\"image\",\"datatype\":\"FP33\",\"shape\":[1]}]")));
        assertTrue(refusal(minimal("\"outputs\":[{\"name\":\"p\",\"shape\":[1]}]"))
                .startsWith(PREFIX + "field 'outputs[0].datatype' is missing; expected one of [BOOL,"));
        assertTrue(refusal(minimal("\"outputs\":[{\"name\":\"p\",\"datatype\":3,\"shape\":[1]}]"))
                .startsWith(PREFIX + "field 'outputs[0].datatype' is 3; expected one of [BOOL,"));
    }

    @Test
    public void refusesMalformedTensorLists() {
        assertEquals(PREFIX + "field 'inputs' is {\"name\":\"x\"}; expected an array of {\"name\":...,"
                + " \"datatype\":..., \"shape\":[...]}", refusal(minimal("\"inputs\":{\"name\":\"x\"}")));
        assertEquals(PREFIX + "field 'inputs[1]' is 'x'; expected an object {\"name\":..., \"datatype\":...,"
                        + " \"shape\":[...]}",
                refusal(minimal("\"inputs\":[{\"name\":\"a\",\"datatype\":\"FP32\",\"shape\":[1]},\"x\"]")));
        assertEquals(PREFIX + "field 'inputs[0].name' is missing; expected a string",
                refusal(minimal("\"inputs\":[{\"datatype\":\"FP32\",\"shape\":[1]}]")));
        assertEquals(PREFIX + "field 'outputs[1].name' is 'a'; expected a name not used by another entry of 'outputs'",
                refusal(minimal("\"outputs\":[{\"name\":\"a\",\"datatype\":\"FP32\",\"shape\":[1]},"
                        + "{\"name\":\"a\",\"datatype\":\"FP32\",\"shape\":[2]}]")));
    }

    @Test
    public void refusesBadShapes() {
        String dims = "; expected an array of dimensions, each a size >= 0 or -1 for a dynamic one, e.g. [-1,1,28,28]";
        assertEquals(PREFIX + "field 'inputs[0].shape' is missing" + dims,
                refusal(minimal("\"inputs\":[{\"name\":\"a\",\"datatype\":\"FP32\"}]")));
        assertEquals(PREFIX + "field 'inputs[0].shape' is '1x28'" + dims,
                refusal(minimal("\"inputs\":[{\"name\":\"a\",\"datatype\":\"FP32\",\"shape\":\"1x28\"}]")));
        String dim = "; expected a size >= 0 or -1 for a dynamic dimension";
        assertEquals(PREFIX + "field 'inputs[0].shape[0]' is -2" + dim,
                refusal(minimal("\"inputs\":[{\"name\":\"a\",\"datatype\":\"FP32\",\"shape\":[-2]}]")));
        assertEquals(PREFIX + "field 'inputs[0].shape[0]' is 'N'" + dim,
                refusal(minimal("\"inputs\":[{\"name\":\"a\",\"datatype\":\"FP32\",\"shape\":[\"N\"]}]")));
    }

    @Test
    public void refusesBadLabels() {
        assertEquals("plugin io.acme.x 1.0.0: TOLLGATE-INF/model.json: fields 'labels' and 'labels_file' are both"
                + " given; give one of them", refusal(minimal("\"labels\":[\"a\"],\"labels_file\":\"labels.txt\"")));
        assertEquals(PREFIX + "field 'labels' is 'a,b'; expected an array of strings", refusal(minimal("\"labels\":\"a,b\"")));
        assertEquals(PREFIX + "field 'labels[1]' is 2; expected a string", refusal(minimal("\"labels\":[\"a\",2]")));
        assertEquals("plugin io.acme.x 1.0.0: labels file TOLLGATE-INF/classes.txt (field 'labels_file' of"
                        + " TOLLGATE-INF/model.json) is missing from the plugin",
                refusal(minimal("\"labels_file\":\"classes.txt\"")));
    }

    @Test
    public void refusesBadParameters() {
        assertEquals(PREFIX + "field 'parameters' is [\"a\"]; expected an object of string values, e.g."
                + " {\"intra_op_threads\":\"1\"}", refusal(minimal("\"parameters\":[\"a\"]")));
        assertEquals(PREFIX + "field 'parameters.threads' is {\"n\":1}; expected a string, number or boolean",
                refusal(minimal("\"parameters\":{\"threads\":{\"n\":1}}")));
        assertEquals(PREFIX + "field 'parameters.threads' is null; expected a string, number or boolean",
                refusal(minimal("\"parameters\":{\"threads\":null}")));
    }

    @Test
    public void refusesADescriptorThatContradictsTheCapability() {
        FakePluginSource p = plugin(minimal(""));
        p.declaredModel = "other";
        p.declaredModelVersion = "1.0.0";
        assertEquals("plugin io.acme.x 1.0.0: TOLLGATE-INF/model.json describes model 'm' 1.0.0 but the bundle's"
                + " tollgate.model capability declares 'other' 1.0.0; make the Provide-Capability header and the"
                + " descriptor agree", refusal(p));
        p.declaredModel = "m";
        p.declaredModelVersion = "1.1.0";
        assertTrue(refusal(p).contains("declares 'm' 1.1.0"));
        p.declaredModelVersion = "1.0";      // the same version written differently is fine
        try {
            DescriptorReader.read(p);
        } catch (PluginException e) {
            fail(e.getMessage());
        }
    }

    @Test
    public void refusesAMissingModelFile() throws Exception {
        FakePluginSource p = plugin(minimal(""));
        ModelDescriptor d = DescriptorReader.read(p);
        try {
            DescriptorReader.readModelFile(p, d);
            fail("no model file, but it was read");
        } catch (PluginException e) {
            assertEquals("plugin io.acme.x 1.0.0: model file TOLLGATE-INF/model.onnx (field 'file' of"
                    + " TOLLGATE-INF/model.json) is missing from the plugin", e.getMessage());
        }
    }

    @Test
    public void reportsAnUnreadableEntry() {
        FakePluginSource p = new FakePluginSource(7, "io.acme.x", "1.0.0") {
            @Override
            public byte[] read(String path) throws java.io.IOException {
                throw new java.io.IOException("zip END header not found");
            }
        };
        assertEquals("plugin io.acme.x 1.0.0: TOLLGATE-INF/model.json cannot be read: java.io.IOException: zip END"
                + " header not found", refusal(p));
    }

    @Test
    public void parsesLabelFiles() {
        assertEquals(List.of("a", "", "b"), DescriptorReader.parseLabels("\uFEFFa\r\n\r\nb \n\n".getBytes()));
        assertEquals(List.of(), DescriptorReader.parseLabels(new byte[0]));
    }
}

package io.tollgate.serving.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.model.ModelDescriptor;
import io.tollgate.model.PrebuiltEngine;
import java.util.List;
import org.junit.Test;

/** Descriptor fields {@code precision} and {@code engines} (prebuilt TensorRT engines per firmware profile, issue 12). */
public class PrebuiltEngineDescriptorTest {
    private static final String PREFIX = "plugin io.acme.x 1.0.0: TOLLGATE-INF/model.json: ";

    private static FakePluginSource plugin(String extra) {
        FakePluginSource p = new FakePluginSource(7, "io.acme.x", "1.0.0");
        p.put("TOLLGATE-INF/model.json", "{\"name\":\"m\",\"version\":\"1.0.0\",\"platform\":\"onnx\","
                + "\"engine\":\"tensorrt\",\"file\":\"model.onnx\"" + (extra.isEmpty() ? "" : "," + extra) + "}");
        return p;
    }

    private static String refusal(String extra) {
        try {
            ModelDescriptor d = DescriptorReader.read(plugin(extra));
            fail("expected a refusal, read " + d);
            return null;
        } catch (PluginException e) {
            return e.getMessage();
        }
    }

    @Test
    public void readsPrecisionAndPrebuiltEngines() throws Exception {
        ModelDescriptor d = DescriptorReader.read(plugin("\"precision\":\"FP16\",\"engines\":["
                + "{\"profile\":\"jetson-orin-nano-jp6\",\"file\":\"engines/nano.plan\",\"precision\":\"fp16\",\"tensorrt\":\"10.3\"},"
                + "{\"profile\":\"jetson-agx-orin-jp6\",\"file\":\"engines/agx.plan\",\"precision\":\"int8\",\"tensorrt\":\"10.x\"}]"));
        assertEquals("tensorrt", d.engine());
        assertEquals("fp16", d.precision());
        assertEquals(List.of(new PrebuiltEngine("jetson-orin-nano-jp6", "engines/nano.plan", "fp16", "10.3"),
                new PrebuiltEngine("jetson-agx-orin-jp6", "engines/agx.plan", "int8", "10.x")), d.engines());
    }

    @Test
    public void defaultsToFp32AndNoPrebuiltEngines() throws Exception {
        ModelDescriptor d = DescriptorReader.read(plugin(""));
        assertEquals("fp32", d.precision());
        assertEquals(List.of(), d.engines());
    }

    @Test
    public void refusalsNameTheFieldAndWhatIsExpected() {
        assertEquals(PREFIX + "field 'precision' is 'fp8'; expected one of \"fp32\", \"fp16\", \"int8\"",
                refusal("\"precision\":\"fp8\""));
        String notArray = refusal("\"engines\":{}");
        assertTrue(notArray, notArray.startsWith(PREFIX + "field 'engines' is ") && notArray.contains("an array of"));
        assertEquals(PREFIX + "field 'engines[0].profile' is missing; expected a string",
                refusal("\"engines\":[{\"file\":\"a.plan\",\"precision\":\"fp16\",\"tensorrt\":\"10.3\"}]"));
        assertEquals(PREFIX + "field 'engines[0].precision' is missing; expected one of \"fp32\", \"fp16\", \"int8\"",
                refusal("\"engines\":[{\"profile\":\"x86-nvidia\",\"file\":\"a.plan\",\"tensorrt\":\"10.3\"}]"));
        String version = refusal("\"engines\":[{\"profile\":\"x86-nvidia\",\"file\":\"a.plan\",\"precision\":\"fp16\","
                + "\"tensorrt\":\"ten\"}]");
        assertTrue(version, version.contains("'engines[0].tensorrt'") && version.contains("e.g. \"10.3\""));
        String escape = refusal("\"engines\":[{\"profile\":\"x86-nvidia\",\"file\":\"../../etc/passwd\","
                + "\"precision\":\"fp16\",\"tensorrt\":\"10.3\"}]");
        assertTrue(escape, escape.contains("'engines[0].file'"));
        String twice = refusal("\"engines\":[{\"profile\":\"x86-nvidia\",\"file\":\"a.plan\",\"precision\":\"fp16\","
                + "\"tensorrt\":\"10.3\"},{\"profile\":\"x86-nvidia\",\"file\":\"b.plan\",\"precision\":\"fp16\","
                + "\"tensorrt\":\"10.4\"}]");
        assertTrue(twice, twice.contains("'engines[1]'") && twice.contains("listed twice"));
    }
}

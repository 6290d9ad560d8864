package io.tollgate.tools.plugin;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import io.tollgate.tools.ToolRun;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** {@code plugin pack --engine tensorrt --precision fp16} (issue 12). */
public class PluginEngineOptionsTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private ToolRun pack(Path jar, String... extra) {
        List<String> args = new ArrayList<>(List.of("plugin", "pack", "--model",
                PluginCommandsTest.MODEL.toString(), "--name", "garments", "--version", "1.0.0", "--output",
                jar.toString()));
        args.addAll(List.of(extra));
        return ToolRun.of(args.toArray(String[]::new));
    }

    @Test
    public void tensorrtPluginKeepsItsOnnxModelAndResolvesWithEitherEngine() throws Exception {
        Path jar = tmp.getRoot().toPath().resolve("trt.jar");
        ToolRun packed = pack(jar, "--engine", "tensorrt", "--precision", "FP16");
        assertEquals(packed.toString(), 0, packed.code());
        assertTrue(packed.out(), packed.out().contains("  engine   tensorrt, fp16 (on a box without it: onnx on the"
                + " CPU)\n"));
        ToolRun inspected = ToolRun.of("plugin", "inspect", jar.toString());
        assertEquals(inspected.toString(), 0, inspected.code());
        String out = inspected.out();
        assertTrue(out, out.contains("\"platform\": \"onnx\""));
        assertTrue(out, out.contains("\"engine\": \"tensorrt\""));
        assertTrue(out, out.contains("\"precision\": \"fp16\""));
        assertTrue(out, out.contains("(|(tollgate.engine=tensorrt)(tollgate.engine=onnx))"));
    }

    @Test
    public void defaultPluginIsUnchanged() throws Exception {
        Path jar = tmp.getRoot().toPath().resolve("onnx.jar");
        assertEquals(0, pack(jar).code());
        String out = ToolRun.of("plugin", "inspect", jar.toString()).out();
        assertTrue(out, out.contains("\"engine\": \"onnx\""));
        assertFalse(out, out.contains("\"precision\""));
        assertTrue(out, out.contains("tollgate.engine;filter:=\"(tollgate.engine=onnx)\""));
    }

    @Test
    public void badEngineOrPrecisionIsAUsageErrorAndWritesNoJar() {
        Path jar = tmp.getRoot().toPath().resolve("bad.jar");
        ToolRun engine = pack(jar, "--engine", "openvino");
        assertEquals(engine.toString(), 2, engine.code());
        assertTrue(engine.err(), engine.err().contains("--engine 'openvino' is not one of [onnx, tensorrt]"));
        ToolRun precision = pack(jar, "--engine", "tensorrt", "--precision", "fp8");
        assertEquals(2, precision.code());
        assertTrue(precision.err(), precision.err().contains("--precision 'fp8' is not one of fp32, fp16, int8"));
        ToolRun onnxHalf = pack(jar, "--precision", "fp16");
        assertEquals(2, onnxHalf.code());
        assertTrue(onnxHalf.err(), onnxHalf.err().contains("--precision fp16 needs --engine tensorrt"));
        assertFalse(jar.toFile().exists());
    }
}

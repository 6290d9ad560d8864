package io.tollgate.engine.onnx.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions;
import io.tollgate.engine.onnx.OnnxModelInspector;
import io.tollgate.engine.onnx.testing.ExternalDataModels;
import io.tollgate.engine.spi.EngineException;
import io.tollgate.engine.spi.EngineException.Reason;
import io.tollgate.engine.spi.LoadedModel;
import io.tollgate.model.DataType;
import io.tollgate.model.Tensor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * A model never reads a file (docs/decisions.md, 2026-11-30 "Models never read files"): ONNX Runtime 1.29 refuses
 * absolute and escaping external data paths of a model given as bytes, but reads any file below the working
 * directory — where {@code data/device/device.key.pem} is when the appliance runs from its home.
 */
public class OnnxExternalDataTest {
    private static final String SECRET = "-----BEGIN PRIVATE KEY----- device";

    private Path secret;
    private String location;

    @Before
    public void writeSecret() throws Exception {
        // Below the working directory (the module folder under Maven): the case ORT itself lets through.
        Path dir = Files.createDirectories(Path.of("target", "external-data-test"));
        secret = dir.resolve("device.key.pem");
        Files.writeString(secret, SECRET);
        location = "target/external-data-test/device.key.pem";
    }

    @After
    public void removeSecret() throws Exception {
        Files.deleteIfExists(secret);
    }

    @Test
    public void theScanFindsExternalInitializersAndAttributes() {
        assertEquals(Optional.of(List.of("tensor 'secret' -> '" + location + "'")),
                OnnxExternalData.references(ExternalDataModels.identityOfInitializer(location, SECRET.length())));
        assertEquals(Optional.of(List.of("tensor 'secret' -> '../../data/device/device.key.pem'")),
                OnnxExternalData.references(ExternalDataModels.constantAttribute("../../data/device/device.key.pem", 8)));
        assertEquals(Optional.of(List.of()), OnnxExternalData.references(ExternalDataModels.identityOfEmbedded(new byte[4])));
        for (String model : List.of("add.onnx", "echo.onnx", "string_lookup.onnx", "unknown_op.onnx", "sequence_output.onnx")) {
            assertEquals(model, Optional.of(List.of()), OnnxExternalData.references(TestModels.bytes(model)));
        }
        assertEquals(Optional.empty(), OnnxExternalData.references("not a model".getBytes(StandardCharsets.US_ASCII)));
        byte[] add = TestModels.bytes("add.onnx");
        assertEquals(Optional.empty(), OnnxExternalData.references(Arrays.copyOf(add, add.length - 3)));
    }

    @Test
    public void theEngineRefusesAModelThatReadsAFileAndNeverShowsIt() throws Exception {
        OnnxEngine engine = new OnnxEngine();
        for (byte[] model : List.of(ExternalDataModels.identityOfInitializer(location, SECRET.length()),
                ExternalDataModels.constantAttribute(location, SECRET.length()))) {
            try (LoadedModel loaded = engine.load(TestModels.artifact("leak.onnx", model, Map.of()))) {
                List<Tensor> out = loaded.run(List.of(Tensor.of("x", DataType.UINT8, new long[] {1},
                        java.nio.ByteBuffer.wrap(new byte[1]))), Set.of());
                fail("the model loaded and output " + out);
            } catch (EngineException e) {
                assertEquals(Reason.UNSUPPORTED, e.reason());
                assertTrue(e.getMessage(), e.getMessage().startsWith("model test model leak.onnx refers to tensor data"
                        + " outside the model file (tensor '"));
                assertTrue(e.getMessage(), e.getMessage().contains("-> '" + location + "'"));
                assertFalse(e.getMessage(), e.getMessage().contains(SECRET));
            }
        }
        assertEquals(0, engine.openModels());
        // The same tensor inside the model loads and runs: the refusal is about where the bytes are.
        try (LoadedModel loaded = engine.load(TestModels.artifact("inside.onnx",
                ExternalDataModels.identityOfEmbedded("hello".getBytes(StandardCharsets.US_ASCII)), Map.of()))) {
            Tensor x = Tensor.of("x", DataType.UINT8, new long[] {1}, java.nio.ByteBuffer.wrap(new byte[1]));
            java.nio.ByteBuffer data = loaded.run(List.of(x), Set.of()).get(0).data();
            byte[] out = new byte[data.remaining()];
            data.get(out);
            assertEquals("hello", new String(out, StandardCharsets.US_ASCII));
        }
    }

    @Test
    public void inspectorsSayWhyBeforeOnnxRuntimeLoads() {
        Optional<String> why = OnnxModelInspector.refusal(ExternalDataModels.identityOfInitializer(location, 3));
        assertTrue(why.toString(), why.orElseThrow().startsWith("refers to tensor data outside the model file"));
        assertEquals(Optional.empty(), OnnxModelInspector.refusal(TestModels.bytes("add.onnx")));
        assertTrue(OnnxModelInspector.refusal(new byte[] {(byte) 0xFF}).orElseThrow().startsWith("cannot be checked"));
        try {
            new OnnxModelInspector().inspect(ExternalDataModels.identityOfInitializer(location, 3), "leak.onnx");
            fail("inspected");
        } catch (EngineException e) {
            assertEquals(Reason.UNSUPPORTED, e.reason());
        }
    }

    /** Past the scan (if it ever missed a tensor), ORT looks in an empty folder, not the working directory. */
    @Test
    public void theBackstopLeavesOnnxRuntimeNothingToRead() throws Exception {
        try (SessionOptions options = new SessionOptions()) {
            OrtSession session = OnnxSignatureReader.create(OnnxSignatureReader.environment(),
                    ExternalDataModels.identityOfInitializer(location, SECRET.length()), options, "leak.onnx");
            session.close();
            fail("ORT read " + location);
        } catch (EngineException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("does not exist"));
            assertFalse(e.getMessage(), e.getMessage().contains(SECRET));
        }
    }
}

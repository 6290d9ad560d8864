package io.tollgate.engine.tensorrt.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class EngineCacheKeyTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private static final GpuDevice ORIN = new GpuDevice(0, "Orin", "8.7", 8L << 30);
    private static final byte[] MODEL = "onnx model bytes".getBytes(StandardCharsets.UTF_8);

    @Test
    public void sameInputsGiveTheSameFile() {
        EngineCacheKey a = EngineCacheKey.of(ORIN, "10.3.0", "fp16", MODEL, "gpu");
        EngineCacheKey b = EngineCacheKey.of(new GpuDevice(0, "Orin", "8.7", 8L << 30), "10.3.0", "fp16",
                "onnx model bytes".getBytes(StandardCharsets.UTF_8), "gpu");
        assertEquals(a, b);
        assertEquals(a.fileName(), b.fileName());
        // the device index and memory size do not matter: the same GPU model at another index runs the same plan
        assertEquals(a.fileName(), EngineCacheKey.of(new GpuDevice(1, "Orin", "8.7", 1), "10.3.0", "fp16", MODEL,
                "gpu").fileName());
        assertTrue(a.fileName(), a.fileName().startsWith("sm87-trt10.3.0-fp16-gpu-") && a.fileName().endsWith(".plan"));
    }

    @Test
    public void eachPartChangesTheFile() {
        EngineCacheKey base = EngineCacheKey.of(ORIN, "10.3.0", "fp16", MODEL, "gpu");
        List<EngineCacheKey> variants = List.of(
                EngineCacheKey.of(new GpuDevice(0, "NVIDIA RTX A2000", "8.7", 8L << 30), "10.3.0", "fp16", MODEL, "gpu"),
                EngineCacheKey.of(new GpuDevice(0, "Orin", "8.6", 8L << 30), "10.3.0", "fp16", MODEL, "gpu"),
                EngineCacheKey.of(ORIN, "10.4.0", "fp16", MODEL, "gpu"),
                EngineCacheKey.of(ORIN, "10.3.0", "fp32", MODEL, "gpu"),
                EngineCacheKey.of(ORIN, "10.3.0", "fp16", "other model".getBytes(StandardCharsets.UTF_8), "gpu"),
                EngineCacheKey.of(ORIN, "10.3.0", "fp16", MODEL, "dla:0"));
        Set<String> names = new HashSet<>();
        names.add(base.fileName());
        for (EngineCacheKey v : variants) {
            assertNotEquals(v.toString(), base.fileName(), v.fileName());
            assertTrue("two variants share a file: " + v, names.add(v.fileName()));
        }
    }

    @Test
    public void modelHashIsTheSha256OfTheBytes() {
        // sha256("abc"), FIPS 180-2 test vector
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                EngineCacheKey.sha256("abc".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    public void cacheStoresAndFindsAPlanAndLeavesNoTemporaryFile() throws IOException {
        Path dir = tmp.getRoot().toPath().resolve("data/engines");
        EngineCache cache = new EngineCache(dir);
        EngineCacheKey key = EngineCacheKey.of(ORIN, "10.3.0", "fp16", MODEL, "gpu");
        assertFalse(cache.get(key).isPresent());
        byte[] plan = {1, 2, 3, 4};
        cache.put(key, plan);
        assertArrayEquals(plan, cache.get(key).orElseThrow());
        assertFalse(cache.get(EngineCacheKey.of(ORIN, "10.3.0", "fp32", MODEL, "gpu")).isPresent());
        try (var files = Files.list(dir)) {
            assertEquals(List.of(key.fileName()), files.map(p -> p.getFileName().toString()).toList());
        }
    }
}

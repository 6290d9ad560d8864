package io.tollgate.engine.tensorrt.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Objects;

/**
 * What a serialized TensorRT engine depends on, and so the name of its file in the engine cache. A plan runs only on
 * the GPU model (compute capability) and TensorRT release that built it, in the precision it was built in, for the
 * exact model bytes: any of them changing gives another key and a new build.
 *
 * @param gpuName           GPU name, e.g. {@code Orin}
 * @param computeCapability e.g. {@code 8.7}
 * @param tensorrtVersion   e.g. {@code 10.3.0}
 * @param precision         {@code fp32}, {@code fp16} or {@code int8}
 * @param modelSha256       SHA-256 of the ONNX model bytes, lower-case hex
 * @param device            {@code gpu} or {@code dla:<core>} (a DLA plan differs from a GPU plan)
 */
record EngineCacheKey(String gpuName, String computeCapability, String tensorrtVersion, String precision,
                      String modelSha256, String device) {
    EngineCacheKey {
        Objects.requireNonNull(gpuName, "gpuName");
        Objects.requireNonNull(computeCapability, "computeCapability");
        Objects.requireNonNull(tensorrtVersion, "tensorrtVersion");
        Objects.requireNonNull(precision, "precision");
        Objects.requireNonNull(modelSha256, "modelSha256");
        Objects.requireNonNull(device, "device");
    }

    /** The key of {@code model} built for {@code gpu} by TensorRT {@code tensorrtVersion} in {@code precision}. */
    static EngineCacheKey of(GpuDevice gpu, String tensorrtVersion, String precision, byte[] model, String device) {
        return new EngineCacheKey(gpu.name(), gpu.computeCapability(), tensorrtVersion, precision, sha256(model),
                device);
    }

    /**
     * The cache file name: readable parts for an operator listing {@code data/engines/}, then a digest of every
     * field so two keys never share a file. E.g. {@code sm87-trt10.3.0-fp16-gpu-3f2a...-9c1e....plan}.
     */
    String fileName() {
        String digest = sha256(String.join("\n", gpuName, computeCapability, tensorrtVersion, precision, modelSha256,
                device).getBytes(StandardCharsets.UTF_8));
        return "sm" + computeCapability.replace(".", "") + "-trt" + safe(tensorrtVersion) + "-" + precision + "-"
                + safe(device) + "-" + modelSha256.substring(0, 12) + "-" + digest.substring(0, 16) + ".plan";
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM lacks SHA-256", e);
        }
    }

    private static String safe(String s) {
        return s.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9.]", "");
    }
}

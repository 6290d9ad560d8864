package io.tollgate.runtime;

/** Run in a JVM of its own by {@link OrtNativeCacheTest}: loads ONNX Runtime and prints its version. */
public final class OrtLoadProbe {
    private OrtLoadProbe() {
    }

    public static void main(String[] args) {
        System.out.println(ai.onnxruntime.OrtEnvironment.getEnvironment().getVersion());
    }
}

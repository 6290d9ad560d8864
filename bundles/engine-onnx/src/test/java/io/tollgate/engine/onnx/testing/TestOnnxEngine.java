package io.tollgate.engine.onnx.testing;

import io.tollgate.engine.onnx.internal.OnnxEngine;
import io.tollgate.engine.onnx.internal.OnnxSettings;
import io.tollgate.engine.spi.InferenceEngine;
import java.util.Map;

/**
 * The real ONNX Runtime engine for other modules' tests and the benchmarks in {@code bench/}, outside a framework.
 * Published in tollgate-engine-onnx's test-jar, so that nobody else imports this bundle's private classes.
 */
public final class TestOnnxEngine {
    private TestOnnxEngine() {
    }

    /**
     * The engine as the component makes it from its configuration (PID io.tollgate.engine.onnx), e.g.
     * {@code Map.of("intra.op.threads", "1", "inter.op.threads", "1")}; absent keys keep the defaults.
     *
     * @throws IllegalArgumentException naming the key when a value is invalid
     * @throws IllegalStateException    when ONNX Runtime cannot run on this machine
     */
    public static InferenceEngine create(Map<String, ?> configuration) {
        return new OnnxEngine(OnnxSettings.fromProperties(configuration));
    }
}

package io.tollgate.plugins.vad;

import io.tollgate.engine.onnx.internal.OnnxEngine;
import io.tollgate.engine.spi.LoadedModel;
import io.tollgate.engine.spi.ModelArtifact;
import io.tollgate.model.ModelDescriptor;
import io.tollgate.model.PipelineSpec;
import io.tollgate.model.Tensor;
import io.tollgate.pipeline.PipelineContext;
import io.tollgate.pipeline.PipelineRequest;
import io.tollgate.pipeline.PipelineStage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The plugin's real model on the real ONNX engine, as serving loads it: the Silero VAD v5 file the build fetched
 * (target/npm, from npm @ricky0123/vad-web) and the plugin's descriptor parameters.
 */
final class SileroStage implements AutoCloseable {
    static final Path MODEL = Path.of("target/npm/package/dist/silero_vad_v5.onnx");
    static final Path TOLLGATE_INF = Path.of("src/main/tollgate-inf");

    final OnnxEngine engine = new OnnxEngine();
    final LoadedModel model;
    final PipelineStage stage;

    SileroStage() throws Exception {
        if (!Files.isRegularFile(MODEL)) {
            throw new IllegalStateException(MODEL.toAbsolutePath() + " is missing: the build fetches it with npm pack"
                    + " (mvn generate-resources in plugins/voice-activity)");
        }
        ModelDescriptor d = new ModelDescriptor("voice-activity", "1.0.0", "onnx", "onnx", "models/silero_vad_v5.onnx",
                List.of(), List.of(), 0, List.of(), "audio_seconds", "",
                Map.of("intra.op.threads", "1", "inter.op.threads", "1"), "fp32", List.of(),
                new PipelineSpec(VoiceActivityPipeline.class.getName(), Map.of("vad", "models/silero_vad_v5.onnx")));
        model = engine.load(new ModelArtifact(d, Files.readAllBytes(MODEL), "test silero_vad_v5.onnx"));
        stage = PipelineStage.of("vad", model);
    }

    PipelineContext context(Path work) {
        return PipelineContext.of("voice-activity", "1.0.0", Map.of("vad", stage),
                path -> Files.readAllBytes(TOLLGATE_INF.resolve(path)), Map.of(), work);
    }

    VoiceActivityPipeline open(Path work) throws Exception {
        VoiceActivityPipeline p = new VoiceActivityPipeline();
        p.open(context(work));
        return p;
    }

    @Override
    public void close() {
        model.close();
    }

    static PipelineRequest request(String tenant, List<Tensor> inputs, Map<String, Object> parameters,
                                   String... outputs) {
        return new PipelineRequest("r-" + System.nanoTime(), tenant, inputs, List.of(outputs), parameters);
    }

    static Tensor audio(byte[] wav) {
        return Tensor.ofBytes("audio", new long[] {1}, List.of(wav));
    }

    static Tensor pcm(float[] samples) {
        return Tensor.ofFloats("pcm", new long[] {samples.length}, samples);
    }

    static Tensor output(List<Tensor> out, String name) {
        return out.stream().filter(t -> t.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no output " + name + " in " + out));
    }

    static float[] floats(Tensor t) {
        float[] f = new float[(int) t.elementCount()];
        t.data().asFloatBuffer().get(f);
        return f;
    }

    /** The {@code segments} output as [start, end] pairs in seconds. */
    static List<double[]> segments(List<Tensor> out) {
        float[] f = floats(output(out, "segments"));
        List<double[]> s = new ArrayList<>();
        for (int i = 0; i < f.length; i += 2) {
            s.add(new double[] {f[i], f[i + 1]});
        }
        return s;
    }

    static String show(List<double[]> segments) {
        StringBuilder b = new StringBuilder("[");
        for (double[] s : segments) {
            b.append(String.format(" %.3f-%.3f", s[0], s[1]));
        }
        return b.append(" ]").toString();
    }
}

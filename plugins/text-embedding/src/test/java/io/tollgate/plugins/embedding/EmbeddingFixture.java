package io.tollgate.plugins.embedding;

import io.tollgate.engine.onnx.internal.OnnxEngine;
import io.tollgate.engine.spi.LoadedModel;
import io.tollgate.engine.spi.ModelArtifact;
import io.tollgate.model.ModelDescriptor;
import io.tollgate.model.PipelineSpec;
import io.tollgate.model.Tensor;
import io.tollgate.pipeline.PipelineContext;
import io.tollgate.pipeline.PipelineException;
import io.tollgate.pipeline.PipelineRequest;
import io.tollgate.pipeline.PipelineStage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The plugin as serving would run it, outside the appliance: the model and tokenizer where the build unpacked them
 * (system property {@code embedding.model.dir}), loaded by the real ONNX engine.
 */
final class EmbeddingFixture implements AutoCloseable {
    static final String MODEL_FILE = "all-minilm-l6-v2-q.onnx";
    static final String TOKENIZER_FILE = "all-minilm-l6-v2-q-tokenizer.json";

    final Path modelDir;
    final byte[] modelBytes;
    final OnnxEngine engine;
    final LoadedModel loaded;
    final PipelineStage stage;

    EmbeddingFixture() throws Exception {
        modelDir = Paths.get(System.getProperty("embedding.model.dir", "target/minilm"));
        modelBytes = Files.readAllBytes(modelDir.resolve(MODEL_FILE));
        ModelDescriptor d = new ModelDescriptor("text-embedding", "1.0.0", "onnx", "onnx", "models/" + MODEL_FILE,
                List.of(), List.of(), 0, List.of(), "tokens", "", Map.of(), "fp32", List.of(),
                new PipelineSpec(TextEmbeddingPipeline.class.getName(), Map.of("encoder", "models/" + MODEL_FILE)));
        engine = new OnnxEngine();
        loaded = engine.load(new ModelArtifact(d, modelBytes, "test " + MODEL_FILE));
        stage = PipelineStage.of(TextEmbeddingPipeline.STAGE, loaded);
    }

    /** Reads plugin files as TOLLGATE-INF/ holds them in the bundle (bnd.bnd renames the tokenizer). */
    byte[] resource(String path) throws IOException {
        switch (path) {
            case "tokenizer.json":
                return Files.readAllBytes(modelDir.resolve(TOKENIZER_FILE));
            case "models/" + MODEL_FILE:
                return modelBytes;
            default:
                throw new NoSuchFileException(path);
        }
    }

    PipelineContext context(Map<String, String> parameters, Path workFolder) {
        return PipelineContext.of("text-embedding", "1.0.0", Map.of(TextEmbeddingPipeline.STAGE, stage),
                this::resource, parameters, workFolder);
    }

    TextEmbeddingPipeline open(Path workFolder) throws PipelineException {
        TextEmbeddingPipeline p = new TextEmbeddingPipeline();
        p.open(context(Map.of("tokenizer", "tokenizer.json", "max_seq_length", "256"), workFolder));
        return p;
    }

    static PipelineRequest request(String... texts) {
        List<byte[]> b = new ArrayList<>();
        for (String t : texts) {
            b.add(t.getBytes(StandardCharsets.UTF_8));
        }
        return bytesRequest(b);
    }

    static PipelineRequest bytesRequest(List<byte[]> elements) {
        return new PipelineRequest("r1", "t1", List.of(Tensor.ofBytes("text", new long[] {elements.size()}, elements)),
                List.of(), Map.of());
    }

    static float[][] rows(Tensor embedding) {
        long[] s = embedding.shape();
        float[] all = new float[(int) (s[0] * s[1])];
        embedding.data().asFloatBuffer().get(all);
        float[][] r = new float[(int) s[0]][(int) s[1]];
        for (int i = 0; i < r.length; i++) {
            System.arraycopy(all, i * r[i].length, r[i], 0, r[i].length);
        }
        return r;
    }

    static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }

    static double maxAbsDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    @Override
    public void close() {
        loaded.close();
    }
}

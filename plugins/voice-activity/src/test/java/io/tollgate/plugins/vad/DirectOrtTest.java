package io.tollgate.plugins.vad;

import static io.tollgate.plugins.vad.SileroStage.floats;
import static io.tollgate.plugins.vad.SileroStage.output;
import static io.tollgate.plugins.vad.SileroStage.pcm;
import static io.tollgate.plugins.vad.SileroStage.request;
import static org.junit.Assert.assertEquals;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.tollgate.plugins.vad.SpeechTrack.Part;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.Test;

/**
 * The pipeline's probabilities, for a stream sent in odd chunks, equal ONNX Runtime run directly on the model the way
 * silero-vad's OnnxWrapper runs it: one 512-sample window at a time, the last 64 samples of the previous window in
 * front (zeros first), the state fed back, the last part window zero-padded.
 */
public class DirectOrtTest {
    @Test
    public void probabilitiesEqualOnnxRuntimeRunDirectly() throws Exception {
        SpeechTrack track = SpeechTrack.of(16000, 5, Part.noise(0.7),
                Part.speech("en", "direct comparison with onnx runtime"), Part.silence(0.9));
        float[] x = track.samples;
        int windows = (x.length + 511) / 512;
        float[] direct = new float[windows];
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions();
             OrtSession session = env.createSession(Files.readAllBytes(SileroStage.MODEL), o)) {
            float[] state = new float[256];
            float[] context = new float[64];
            float[] padded = Arrays.copyOf(x, windows * 512);
            for (int w = 0; w < windows; w++) {
                float[] in = new float[576];
                System.arraycopy(context, 0, in, 0, 64);
                System.arraycopy(padded, w * 512, in, 64, 512);
                try (OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(in), new long[] {1, 576});
                     OnnxTensor st = OnnxTensor.createTensor(env, FloatBuffer.wrap(state), new long[] {2, 1, 128});
                     OnnxTensor sr = OnnxTensor.createTensor(env, LongBuffer.wrap(new long[] {16000}), new long[0]);
                     OrtSession.Result r = session.run(Map.of("input", input, "state", st, "sr", sr))) {
                    direct[w] = ((float[][]) r.get("output").get().getValue())[0][0];
                    state = ((OnnxTensor) r.get("stateN").get()).getFloatBuffer().array().clone();
                }
                context = Arrays.copyOfRange(in, 512, 576);
            }
        }
        List<Float> piped = new ArrayList<>();
        SileroStage silero = new SileroStage();
        Path work = Files.createTempDirectory("vad-direct");
        try (VoiceActivityPipeline p = silero.open(work)) {
            int[] sizes = {700, 333, 5000, 1};
            int at = 0;
            for (int i = 0; at < x.length; i++) {
                int n = Math.min(sizes[i % sizes.length], x.length - at);
                Map<String, Object> params = at + n == x.length ? Map.of("stream_id", "d", "end_of_stream", true)
                        : Map.of("stream_id", "d");
                float[] prob = floats(output(p.run(request("t", List.of(pcm(Arrays.copyOfRange(x, at, at + n))),
                        params, "segments", "probabilities")), "probabilities"));
                for (float f : prob) {
                    piped.add(f);
                }
                at += n;
            }
        } finally {
            silero.close();
            Files.deleteIfExists(work);
        }
        assertEquals(windows, piped.size());
        double maxDiff = 0;
        for (int w = 0; w < windows; w++) {
            maxDiff = Math.max(maxDiff, Math.abs(direct[w] - piped.get(w)));
        }
        System.out.printf("%d windows: largest difference to direct ORT %.2e%n", windows, maxDiff);
        assertEquals("largest difference", 0, maxDiff, 1e-5);
    }
}

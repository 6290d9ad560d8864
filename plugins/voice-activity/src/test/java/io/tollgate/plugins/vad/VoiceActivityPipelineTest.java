package io.tollgate.plugins.vad;

import static io.tollgate.plugins.vad.SileroStage.audio;
import static io.tollgate.plugins.vad.SileroStage.floats;
import static io.tollgate.plugins.vad.SileroStage.output;
import static io.tollgate.plugins.vad.SileroStage.pcm;
import static io.tollgate.plugins.vad.SileroStage.request;
import static io.tollgate.plugins.vad.SileroStage.segments;
import static io.tollgate.plugins.vad.SileroStage.show;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.tollgate.model.Tensor;
import io.tollgate.pipeline.PipelineRequest;
import io.tollgate.plugins.vad.SpeechTrack.Part;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * The pipeline in-process on the real ONNX Runtime with the real Silero VAD v5 model, on speech espeak-ng synthesizes
 * for the test between stretches of silence and white noise.
 */
public class VoiceActivityPipelineTest {
    /** How far a segment's start and end may be from the truth (issue 13). */
    static final double TOLERANCE_S = 0.100;

    static SileroStage silero;
    static VoiceActivityPipeline pipeline;
    static SpeechTrack track;
    static Path work;

    @BeforeClass
    public static void setUp() throws Exception {
        silero = new SileroStage();
        work = Files.createTempDirectory("vad-test");
        pipeline = silero.open(work);
        track = SpeechTrack.of(16000, 13,
                Part.silence(1.0),
                Part.speech("en", "the quick brown fox jumps over the lazy dog"),
                Part.noise(1.2),
                Part.speech("en-us", "please read the serial number printed on the part"),
                Part.silence(1.5),
                Part.speech("en+f3", "seven four nine two zero one"),
                Part.noise(2.0),
                Part.speech("de", "guten morgen wie geht es dir"),
                Part.silence(0.8),
                Part.noise(0.7));
    }

    @AfterClass
    public static void tearDown() throws Exception {
        if (pipeline != null) {
            pipeline.close();
        }
        if (silero != null) {
            silero.close();
        }
        if (work != null) {
            Files.deleteIfExists(work);
        }
    }

    static List<double[]> run(byte[] wav, Map<String, Object> parameters) throws Exception {
        return segments(pipeline.run(request("t1", List.of(audio(wav)), parameters)));
    }

    /** Every phrase is one segment within ±100 ms of its truth; no segment in silence or noise. */
    static void assertMatchesTruth(SpeechTrack t, List<double[]> found) {
        String msg = "truth " + show(t.truth) + ", found " + show(found);
        assertEquals(msg, t.truth.size(), found.size());
        for (int i = 0; i < found.size(); i++) {
            double[] truth = t.truth.get(i);
            double[] seg = found.get(i);
            assertTrue("phrase " + i + " start: " + msg, Math.abs(seg[0] - truth[0]) <= TOLERANCE_S);
            assertTrue("phrase " + i + " end: " + msg, Math.abs(seg[1] - truth[1]) <= TOLERANCE_S);
        }
        for (double[] noise : t.noiseOnly) {
            for (double[] seg : found) {
                boolean inside = seg[1] > noise[0] + TOLERANCE_S && seg[0] < noise[1] - TOLERANCE_S;
                assertTrue("segment in the noise " + Arrays.toString(noise) + ": " + msg, !inside);
            }
        }
    }

    static double maxError(SpeechTrack t, List<double[]> found) {
        double max = 0;
        for (int i = 0; i < found.size(); i++) {
            max = Math.max(max, Math.abs(found.get(i)[0] - t.truth.get(i)[0]));
            max = Math.max(max, Math.abs(found.get(i)[1] - t.truth.get(i)[1]));
        }
        return max;
    }

    @Test
    public void segmentsSynthesizedSpeechWithin100msOfTheTruth() throws Exception {
        List<double[]> found = run(track.wav16(), Map.of());
        System.out.printf("16 kHz WAV, %.1f s: truth %s, found %s, max error %.0f ms%n", track.seconds(),
                show(track.truth), show(found), maxError(track, found) * 1000);
        assertMatchesTruth(track, found);
    }
}

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
        run(track.wav16(), Map.of());   // warm-up: the figure below is for a served model, not for the JIT
        long t0 = System.nanoTime();
        List<double[]> found = run(track.wav16(), Map.of());
        double ms = (System.nanoTime() - t0) / 1e6;
        System.out.printf("16 kHz WAV, %.1f s: truth %s, found %s, max error %.0f ms; %.0f ms to run (%.2f ms per"
                + " window)%n", track.seconds(), show(track.truth), show(found), maxError(track, found) * 1000, ms,
                ms / Math.ceil(track.samples.length / 512.0));
        assertMatchesTruth(track, found);
    }

    @Test
    public void base64FloatStereoAndPcmGiveTheSameSegments() throws Exception {
        List<double[]> reference = run(track.wav16(), Map.of());
        byte[] base64 = Base64.getEncoder().encode(track.wav16());
        assertSame("base64 WAV", reference, run(base64, Map.of()));
        assertSame("32-bit float WAV", reference, run(SpeechTrack.wav(track.samples, 16000, 1, true), Map.of()));
        assertSame("stereo WAV", reference, run(SpeechTrack.wav(track.samples, 16000, 2, false), Map.of()));
        assertSame("pcm FP32", reference, segments(pipeline.run(request("t1", List.of(pcm(track.samples)), Map.of()))));
    }

    static void assertSame(String what, List<double[]> expected, List<double[]> actual) {
        assertEquals(what + ": " + show(expected) + " vs " + show(actual), show(expected), show(actual));
    }

    @Test
    public void eightKilohertzIsSegmentedToo() throws Exception {
        SpeechTrack t8 = SpeechTrack.of(8000, 13,
                Part.silence(1.0),
                Part.speech("en", "the quick brown fox jumps over the lazy dog"),
                Part.noise(1.2),
                Part.speech("en-us", "please read the serial number printed on the part"),
                Part.silence(1.0));
        List<double[]> found = run(t8.wav16(), Map.of());
        System.out.printf("8 kHz WAV: truth %s, found %s, max error %.0f ms%n", show(t8.truth), show(found),
                maxError(t8, found) * 1000);
        assertMatchesTruth(t8, found);
        List<double[]> pcm8 = segments(pipeline.run(request("t1", List.of(pcm(t8.samples)), Map.of("sample_rate", 8000))));
        assertSame("pcm at 8 kHz", found, pcm8);
    }

    @Test
    public void probabilitiesComeWhenAskedForOnePerWindow() throws Exception {
        List<Tensor> without = pipeline.run(request("t1", List.of(audio(track.wav16())), Map.of()));
        assertTrue("probabilities only when asked for",
                without.stream().noneMatch(t -> t.name().equals("probabilities")));
        List<Tensor> out = pipeline.run(request("t1", List.of(audio(track.wav16())), Map.of(), "segments",
                "probabilities"));
        float[] p = floats(output(out, "probabilities"));
        assertEquals((track.samples.length + 511) / 512, p.length);
        double inSpeech = 0;
        double outside = 0;
        int nIn = 0;
        int nOut = 0;
        for (int w = 0; w < p.length; w++) {
            double mid = (w * 512 + 256) / 16000.0;
            boolean speech = track.truth.stream().anyMatch(t -> mid > t[0] + 0.1 && mid < t[1] - 0.1);
            boolean quiet = track.truth.stream().allMatch(t -> mid < t[0] - 0.3 || mid > t[1] + 0.3);
            if (speech) {
                inSpeech += p[w];
                nIn++;
            } else if (quiet) {
                outside = Math.max(outside, p[w]);
                nOut++;
            }
        }
        System.out.printf("mean probability in speech %.3f over %d windows; max away from speech %.3f over %d%n",
                inSpeech / nIn, nIn, outside, nOut);
        assertTrue("speech windows", inSpeech / nIn > 0.8);
        assertTrue("silence and noise windows", outside < 0.35);
    }

    @Test
    public void quantityIsSecondsRoundedUp() throws Exception {
        assertEquals(17, pipeline.quantity(request("t1", List.of(audio(track.wav16())), Map.of())));
        assertEquals(17, pipeline.quantity(request("t1",
                List.of(audio(Base64.getEncoder().encode(track.wav16()))), Map.of())));
        assertEquals(1, pipeline.quantity(request("t1", List.of(pcm(new float[16000])), Map.of())));
        assertEquals(2, pipeline.quantity(request("t1", List.of(pcm(new float[16001])), Map.of())));
        assertEquals(1, pipeline.quantity(request("t1", List.of(pcm(new float[1])), Map.of())));
        assertEquals(2, pipeline.quantity(request("t1", List.of(pcm(new float[8001])), Map.of("sample_rate", "8000"))));
    }

    /** Sends {@code samples} as one stream in chunks of the given sizes (cycled); the last ends the stream. */
    static List<double[]> stream(VoiceActivityPipeline p, String tenant, String id, float[] samples, int[] sizes)
            throws Exception {
        List<double[]> found = new ArrayList<>();
        int at = 0;
        for (int i = 0; at < samples.length; i++) {
            int n = Math.min(sizes[i % sizes.length], samples.length - at);
            boolean last = at + n == samples.length;
            Map<String, Object> params = last ? Map.of("stream_id", id, "end_of_stream", true) : Map.of("stream_id", id);
            float[] chunk = Arrays.copyOfRange(samples, at, at + n);
            PipelineRequest r = request(tenant, List.of(pcm(chunk)), params);
            assertEquals((n + 15999) / 16000, p.quantity(r));
            List<Tensor> out = p.run(r);
            assertEquals("offset of chunk " + i, (float) (at / 16000.0), floats(output(out, "offset"))[0], 1e-6f);
            float[] open = floats(output(out, "open_segment"));
            assertTrue(open.length <= 1 && (!last || open.length == 0));
            found.addAll(segments(out));
            at += n;
        }
        return found;
    }

    static void assertWithinOneWindow(String what, List<double[]> expected, List<double[]> actual) {
        String msg = what + ": " + show(expected) + " vs " + show(actual);
        assertEquals(msg, expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(msg, expected.get(i), actual.get(i), 512 / 16000.0 + 1e-6);
        }
    }

    @Test
    public void aStreamInOddChunksGivesTheSegmentsOfOneRequest() throws Exception {
        List<double[]> whole = segments(pipeline.run(request("t1", List.of(pcm(track.samples)), Map.of())));
        List<double[]> chunked = stream(pipeline, "t1", "mic-1", track.samples, new int[] {1, 511, 513, 4097, 777,
                16000, 30011, 100, 9999});
        System.out.println("one request " + show(whole) + "; in odd chunks " + show(chunked));
        assertWithinOneWindow("odd chunks", whole, chunked);
        assertEquals("end_of_stream forgets the stream", 0, pipeline.openStreams());
        // as WAV files too: the chunks of a stream are independent WAV files
        List<double[]> wavChunks = new ArrayList<>();
        int n = 40000;
        for (int at = 0; at < track.samples.length; at += n) {
            float[] part = Arrays.copyOfRange(track.samples, at, Math.min(track.samples.length, at + n));
            boolean last = at + n >= track.samples.length;
            Map<String, Object> params = last ? Map.of("stream_id", "wav-1", "end_of_stream", "true")
                    : Map.of("stream_id", "wav-1");
            wavChunks.addAll(segments(pipeline.run(request("t1", List.of(audio(SpeechTrack.wav(part, 16000, 1,
                    false))), params))));
        }
        assertWithinOneWindow("WAV chunks", whole, wavChunks);
    }

    @Test
    public void anOpenSegmentIsReportedUntilItEnds() throws Exception {
        double[] first = track.truth.get(0);
        int cut = (int) ((first[0] + first[1]) / 2 * 16000);   // in the middle of the first phrase
        List<Tensor> out = pipeline.run(request("t1", List.of(pcm(Arrays.copyOf(track.samples, cut))),
                Map.of("stream_id", "open-1")));
        assertEquals(0, output(out, "segments").elementCount());
        float[] open = floats(output(out, "open_segment"));
        assertEquals(1, open.length);
        assertEquals(first[0], open[0], TOLERANCE_S);
        List<Tensor> rest = pipeline.run(request("t1", List.of(pcm(Arrays.copyOfRange(track.samples, cut,
                track.samples.length))), Map.of("stream_id", "open-1", "end_of_stream", true)));
        List<double[]> segs = segments(rest);
        assertEquals(open[0], segs.get(0)[0], 1e-6);
        assertEquals(track.truth.size(), segs.size());
    }

    @Test
    public void interleavedStreamsAndTenantsDoNotMix() throws Exception {
        SpeechTrack other = SpeechTrack.of(16000, 7,
                Part.noise(0.6),
                Part.speech("en-us", "hello there"),
                Part.silence(2.3),
                Part.speech("en", "one two three four five six"),
                Part.noise(1.1));
        List<double[]> wholeA = segments(pipeline.run(request("t1", List.of(pcm(track.samples)), Map.of())));
        List<double[]> wholeB = segments(pipeline.run(request("t1", List.of(pcm(other.samples)), Map.of())));
        // four streams at once from four threads: two ids, one of them also used by another tenant
        String[][] streams = {{"t1", "a"}, {"t1", "b"}, {"t2", "a"}, {"t2", "z"}};
        float[][] audio = {track.samples, other.samples, other.samples, track.samples};
        List<List<double[]>> results = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int i = 0; i < streams.length; i++) {
            List<double[]> r = new java.util.concurrent.CopyOnWriteArrayList<>();
            results.add(r);
            int k = i;
            Thread t = new Thread(() -> {
                try {
                    r.addAll(stream(pipeline, streams[k][0], streams[k][1], audio[k], new int[] {3001 + 97 * k, 1234}));
                } catch (Throwable e) {
                    errors.add(e);
                }
            });
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join(120_000);
        }
        assertEquals("errors: " + errors, List.of(), errors);
        assertWithinOneWindow("t1/a", wholeA, results.get(0));
        assertWithinOneWindow("t1/b", wholeB, results.get(1));
        assertWithinOneWindow("t2/a", wholeB, results.get(2));
        assertWithinOneWindow("t2/z", wholeA, results.get(3));
        assertEquals(0, pipeline.openStreams());
    }

    @Test
    public void parametersChangeTheSegmentation() throws Exception {
        // a long silence needed to end a segment joins all phrases separated by less than 2 s
        List<double[]> joined = run(track.wav16(), Map.of("min_silence_ms", 2000, "speech_pad_ms", 0));
        System.out.println("min_silence_ms 2000: " + show(joined));
        assertEquals(show(joined), 2, joined.size());
        // a minimum speech length above every phrase drops them all
        assertEquals(0, run(track.wav16(), Map.of("min_speech_ms", 10000)).size());
        // no padding: each segment is 30 ms shorter on both sides
        List<double[]> padded = run(track.wav16(), Map.of());
        List<double[]> bare = run(track.wav16(), Map.of("speech_pad_ms", "0"));
        assertEquals(padded.size(), bare.size());
        for (int i = 0; i < bare.size(); i++) {
            assertEquals(padded.get(i)[0] + 0.030, bare.get(i)[0], 1e-4);
            assertEquals(padded.get(i)[1] - 0.030, bare.get(i)[1], 1e-4);
        }
    }
}

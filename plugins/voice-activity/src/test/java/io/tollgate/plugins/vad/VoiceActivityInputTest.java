package io.tollgate.plugins.vad;

import static io.tollgate.plugins.vad.SileroStage.audio;
import static io.tollgate.plugins.vad.SileroStage.floats;
import static io.tollgate.plugins.vad.SileroStage.output;
import static io.tollgate.plugins.vad.SileroStage.pcm;
import static io.tollgate.plugins.vad.SileroStage.request;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.model.Tensor;
import io.tollgate.pipeline.PipelineException;
import io.tollgate.pipeline.PipelineRequest;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/** What the pipeline refuses, and how: INVALID_INPUT (400) from quantity and run, with a message saying what to do. */
public class VoiceActivityInputTest {
    static SileroStage silero;
    static VoiceActivityPipeline pipeline;
    static Path work;
    static final float[] TONE = new float[16000];

    @BeforeClass
    public static void setUp() throws Exception {
        silero = new SileroStage();
        work = Files.createTempDirectory("vad-input");
        pipeline = silero.open(work);
        for (int i = 0; i < TONE.length; i++) {
            TONE[i] = (float) (0.3 * Math.sin(2 * Math.PI * 440 * i / 16000.0));
        }
    }

    @AfterClass
    public static void tearDown() throws Exception {
        pipeline.close();
        silero.close();
        Files.deleteIfExists(work);
    }

    /** Both quantity (before billing) and run refuse it as the client's mistake, with {@code expected} in the message. */
    static void refused(PipelineRequest r, String... expected) throws Exception {
        for (int phase = 0; phase < 2; phase++) {
            try {
                if (phase == 0) {
                    pipeline.quantity(r);
                } else {
                    pipeline.run(r);
                }
                fail((phase == 0 ? "quantity" : "run") + " accepted " + r.inputs() + " " + r.parameters());
            } catch (PipelineException e) {
                assertEquals(e.getMessage(), PipelineException.Reason.INVALID_INPUT, e.reason());
                for (String s : expected) {
                    assertTrue("'" + s + "' in: " + e.getMessage(), e.getMessage().contains(s));
                }
            }
        }
    }

    static int indexOf(byte[] b, String chunk) {
        byte[] c = chunk.getBytes(StandardCharsets.US_ASCII);
        outer:
        for (int i = 12; i + c.length <= b.length; i++) {
            for (int j = 0; j < c.length; j++) {
                if (b[i + j] != c[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("no " + chunk + " chunk");
    }

    static PipelineRequest wav(byte[] bytes, Map<String, Object> params) {
        return request("t1", List.of(audio(bytes)), params);
    }

    @Test
    public void notAWav() throws Exception {
        refused(wav("hello, this is text".getBytes(StandardCharsets.UTF_8), Map.of()), "not a WAV file",
                "0x68656c6c6f2c2074...", "RIFF....WAVE");
        refused(wav(Base64.getEncoder().encode("not audio at all".getBytes(StandardCharsets.UTF_8)), Map.of()),
                "not a WAV file");
        byte[] mp3ish = {(byte) 0xff, (byte) 0xfb, (byte) 0x90, 0x64, 0, 0, 0, 0, 0, 0, 0, 0};
        refused(wav(mp3ish, Map.of()), "not a WAV file");
    }

    @Test
    public void otherRatesChannelsAndEncodings() throws Exception {
        refused(wav(SpeechTrack.wav(TONE, 44100, 1, false), Map.of()), "44100 Hz", "accepted sample rates: 16000 or 8000");
        refused(wav(SpeechTrack.wav(TONE, 22050, 1, true), Map.of()), "22050 Hz");
        refused(wav(SpeechTrack.wav(TONE, 16000, 3, false), Map.of()), "3 channel(s)", "1 channel (mono) or 2");
        byte[] eightBit = SpeechTrack.wav(TONE, 16000, 1, false);
        // the same file claiming 8-bit samples: fmt chunk bits per sample (offset 34) and block align (32)
        eightBit[34] = 8;
        eightBit[32] = 1;
        eightBit[28] = (byte) (16000 & 0xff);
        eightBit[29] = (byte) (16000 >> 8);
        refused(wav(eightBit, Map.of()), "8-bit", "PCM_SIGNED 16-bit or PCM_FLOAT 32-bit");
    }

    @Test
    public void emptyAndTruncated() throws Exception {
        refused(wav(new byte[0], Map.of()), "empty");
        refused(wav(SpeechTrack.wav(new float[0], 16000, 1, false), Map.of()), "empty (0 samples)");
        refused(request("t1", List.of(pcm(new float[0])), Map.of()), "empty (0 samples)");
        byte[] whole = SpeechTrack.wav(TONE, 16000, 1, false);
        refused(wav(Arrays.copyOf(whole, 30), Map.of()), "WAV");
        // a file cut in its data: what is there is served (javax.sound reads the samples present)
        byte[] three = SpeechTrack.wav(new float[3 * 16000], 16000, 1, false);
        byte[] cut = Arrays.copyOf(three, three.length - 2 * 16000 * 2 - 2);   // 1 s (less a sample) of the 3 s
        assertEquals("billed for the audio there, not for the header's length", 1, pipeline.quantity(wav(cut, Map.of())));
        assertEquals(0, floats(output(pipeline.run(wav(cut, Map.of())), "offset"))[0], 0f);
    }

    @Test
    public void tooLong() throws Exception {
        refused(request("t1", List.of(pcm(new float[600 * 16000 + 1])), Map.of()), "601 s", "at most 600 s",
                "stream_id");
    }

    @Test
    public void exactlyOneInput() throws Exception {
        byte[] wav = SpeechTrack.wav(TONE, 16000, 1, false);
        refused(request("t1", List.of(audio(wav), pcm(TONE)), Map.of()), "exactly one", "both");
        refused(request("t1", List.of(), Map.of()), "exactly one", "neither");
        refused(request("t1", List.of(Tensor.ofBytes("audio", new long[] {2}, List.of(wav, wav))), Map.of()),
                "one element");
        refused(request("t1", List.of(Tensor.ofFloats("pcm", new long[] {2, 8}, new float[16])), Map.of()),
                "FP32 [N]");
    }

    @Test
    public void samplesOutOfRange() throws Exception {
        float[] loud = TONE.clone();
        loud[100] = 1.5f;
        refused(request("t1", List.of(pcm(loud)), Map.of()), "sample 100 is 1.5", "[-1, 1]");
        loud[100] = Float.NaN;
        refused(request("t1", List.of(pcm(loud)), Map.of()), "sample 100 is NaN");
    }

    /** Run refuses it as the client's mistake (quantity reads a WAV's header only; a refused run is not billed). */
    static void refusedByRun(PipelineRequest r, String... expected) throws Exception {
        pipeline.quantity(r);
        try {
            pipeline.run(r);
            fail("run accepted " + r.inputs() + " " + r.parameters());
        } catch (PipelineException e) {
            assertEquals(e.getMessage(), PipelineException.Reason.INVALID_INPUT, e.reason());
            for (String s : expected) {
                assertTrue("'" + s + "' in: " + e.getMessage(), e.getMessage().contains(s));
            }
        }
    }

    @Test
    public void floatWavSamplesOutOfRangeAreRefusedAsPcmIs() throws Exception {
        float[] loud = TONE.clone();
        loud[100] = 5.0f;
        refusedByRun(wav(SpeechTrack.wav(loud, 16000, 1, true), Map.of()), "input 'audio': sample 100 is 5.0;"
                + " samples must be in [-1, 1]");
        refused(request("t1", List.of(pcm(loud)), Map.of()), "input 'pcm': sample 100 is 5.0; samples must be in"
                + " [-1, 1]");
        loud[100] = -1.5f;
        refusedByRun(wav(SpeechTrack.wav(loud, 16000, 2, true), Map.of()), "sample 100 is -1.5");
        loud[100] = Float.POSITIVE_INFINITY;
        refusedByRun(wav(SpeechTrack.wav(loud, 16000, 1, true), Map.of()), "sample 100 is Infinity");
        loud[100] = 1.0f;
        pipeline.run(wav(SpeechTrack.wav(loud, 16000, 1, true), Map.of()));   // 1.0 itself is in range
    }

    @Test
    public void aHeaderClaimingMoreThanTheFileHoldsIsServedForWhatIsThere() throws Exception {
        for (boolean floats : new boolean[] {false, true}) {
            byte[] wav = SpeechTrack.wav(TONE, 16000, 1, floats);   // 1 s
            for (long claim : new long[] {0xFFFFFFF0L, 0x7FFFFFF0L, 3 * 16000 * 4}) {
                int data = indexOf(wav, "data") + 4;
                ByteBuffer.wrap(wav, data, 4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) claim);
                for (byte[] body : List.of(wav, Base64.getEncoder().encode(wav))) {
                    PipelineRequest r = request("t1", List.of(audio(body)), Map.of(), "segments", "probabilities");
                    assertEquals("billed for the 1 s there (claim " + claim + ")", 1, pipeline.quantity(r));
                    List<Tensor> out = pipeline.run(r);
                    assertEquals("ran the 16000 samples there: 32 windows (claim " + claim + ")", 32,
                            output(out, "probabilities").elementCount());
                }
            }
        }
    }

    @Test
    public void badParameters() throws Exception {
        byte[] wav = SpeechTrack.wav(TONE, 16000, 1, false);
        refused(wav(wav, Map.of("threshold", "abc")), "'threshold' is \"abc\"", "from 0.05 to 0.95");
        refused(wav(wav, Map.of("threshold", 1.2)), "'threshold' is 1.2");
        refused(wav(wav, Map.of("threshold", 0.3, "neg_threshold", 0.4)), "'neg_threshold' is 0.4", "to 0.3");
        refused(wav(wav, Map.of("min_silence_ms", 2.5)), "whole number");
        refused(wav(wav, Map.of("min_silence_ms", 100, "speech_pad_ms", 60)), "'speech_pad_ms' is 60", "from 0 to 50");
        refused(wav(wav, Map.of("stream_id", "has space")), "'stream_id' is \"has space\"", "1-128 characters");
        refused(wav(wav, Map.of("stream_id", "x".repeat(129))), "'stream_id'");
        refused(wav(wav, Map.of("stream_id", 5)), "'stream_id' is 5");
        refused(wav(wav, Map.of("end_of_stream", true)), "'end_of_stream' needs a 'stream_id'");
        refused(wav(wav, Map.of("stream_id", "s", "end_of_stream", "maybe")), "true or false");
        refused(wav(wav, Map.of("sample_rate", 16000)), "'sample_rate' applies to input 'pcm' only");
        for (Object rate : List.of(22050, 44100, 12000, 4000, "abc", 16000.5, true)) {
            refused(request("t1", List.of(pcm(TONE)), Map.of("sample_rate", rate)), "parameter 'sample_rate' is "
                    + VadSettings.quote(rate) + "; sample_rate must be 16000 or 8000");
        }
        assertEquals("16000 samples at 8 kHz", 2, pipeline.quantity(request("t1", List.of(pcm(TONE)),
                Map.of("sample_rate", "8000"))));
        assertEquals("nothing of a refused request stays", 0, pipeline.openStreams());
    }

    @Test
    public void aStreamKeepsItsRate() throws Exception {
        pipeline.run(request("t1", List.of(pcm(TONE)), Map.of("stream_id", "rate-1")));
        Map<String, Object> p = new HashMap<>(Map.of("stream_id", "rate-1", "sample_rate", 8000));
        try {
            pipeline.run(request("t1", List.of(pcm(TONE)), p));
            fail("8 kHz accepted on a 16 kHz stream");
        } catch (PipelineException e) {
            assertEquals(PipelineException.Reason.INVALID_INPUT, e.reason());
            assertTrue(e.getMessage(), e.getMessage().contains("stream 'rate-1' is at 16000 Hz"));
        }
        List<Tensor> out = pipeline.run(request("t1", List.of(pcm(TONE)), Map.of("stream_id", "rate-1",
                "end_of_stream", true)));
        assertEquals("the refused request left the stream as it was", 1.0f, floats(output(out, "offset"))[0], 0f);
    }
}

package io.tollgate.plugins.vad;

import static org.junit.Assert.fail;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import javax.sound.sampled.AudioFileFormat;
import javax.sound.sampled.AudioFormat;
import javax.sound.sampled.AudioInputStream;
import javax.sound.sampled.AudioSystem;
import javax.sound.sampled.UnsupportedAudioFileException;

/**
 * A test recording made on the spot: phrases spoken by espeak-ng (Debian package {@code espeak-ng}, 22050 Hz),
 * resampled by javax.sound.sampled (sinc interpolation) to the track's rate and quantized to 16-bit, placed between
 * stretches of digital silence and of low white noise. The truth of each phrase is where its samples are above
 * {@link #SPEECH_AMPLITUDE} (espeak's own leading and trailing silence trimmed).
 */
final class SpeechTrack {
    /** |sample| above this counts as speech for the truth (about -40 dBFS). */
    static final float SPEECH_AMPLITUDE = 0.01f;
    /** Standard deviation of the white noise stretches (about -46 dBFS). */
    static final float NOISE_SIGMA = 0.005f;

    /** One part of a track: silence, noise, or a phrase. */
    record Part(String kind, double seconds, String text, String voice) {
        static Part silence(double seconds) {
            return new Part("silence", seconds, null, null);
        }

        static Part noise(double seconds) {
            return new Part("noise", seconds, null, null);
        }

        static Part speech(String voice, String text) {
            return new Part("speech", 0, text, voice);
        }
    }

    final int rate;
    final float[] samples;                    // quantized to 16-bit steps (k / 32768)
    final List<double[]> truth = new ArrayList<>();       // per phrase: start, end (s)
    final List<double[]> noiseOnly = new ArrayList<>();   // noise stretches: start, end (s)

    private SpeechTrack(int rate, float[] samples) {
        this.rate = rate;
        this.samples = samples;
    }

    static SpeechTrack of(int rate, long seed, Part... parts) throws Exception {
        Random random = new Random(seed);
        List<float[]> pieces = new ArrayList<>();
        List<double[]> truth = new ArrayList<>();
        List<double[]> noise = new ArrayList<>();
        long at = 0;
        for (Part p : parts) {
            float[] piece;
            switch (p.kind()) {
                case "silence" -> piece = new float[(int) Math.round(p.seconds() * rate)];
                case "noise" -> {
                    piece = new float[(int) Math.round(p.seconds() * rate)];
                    for (int i = 0; i < piece.length; i++) {
                        piece[i] = (float) (random.nextGaussian() * NOISE_SIGMA);
                    }
                    noise.add(new double[] {(double) at / rate, (double) (at + piece.length) / rate});
                }
                default -> {
                    piece = speak(p.voice(), p.text(), rate);
                    int first = 0;
                    while (Math.abs(piece[first]) <= SPEECH_AMPLITUDE) {
                        first++;
                    }
                    int last = piece.length - 1;
                    while (Math.abs(piece[last]) <= SPEECH_AMPLITUDE) {
                        last--;
                    }
                    truth.add(new double[] {(double) (at + first) / rate, (double) (at + last + 1) / rate});
                }
            }
            pieces.add(piece);
            at += piece.length;
        }
        float[] all = new float[(int) at];
        int pos = 0;
        for (float[] piece : pieces) {
            for (float v : piece) {
                all[pos++] = Math.max(-32768, Math.min(32767, Math.round(v * 32768f))) / 32768f;
            }
        }
        SpeechTrack t = new SpeechTrack(rate, all);
        t.truth.addAll(truth);
        t.noiseOnly.addAll(noise);
        return t;
    }

    /** The track as a 16-bit PCM mono WAV file. */
    byte[] wav16() throws IOException {
        return wav(samples, rate, 1, false);
    }

    double seconds() {
        return (double) samples.length / rate;
    }

    /** A WAV file of {@code channels} identical channels, 16-bit PCM or 32-bit float, written by javax.sound. */
    static byte[] wav(float[] mono, float rate, int channels, boolean floats) throws IOException {
        int bytes = floats ? 4 : 2;
        ByteBuffer b = ByteBuffer.allocate(mono.length * channels * bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : mono) {
            for (int c = 0; c < channels; c++) {
                if (floats) {
                    b.putFloat(v);
                } else {
                    b.putShort((short) Math.max(-32768, Math.min(32767, Math.round(v * 32768f))));
                }
            }
        }
        AudioFormat f = new AudioFormat(floats ? AudioFormat.Encoding.PCM_FLOAT : AudioFormat.Encoding.PCM_SIGNED,
                rate, bytes * 8, channels, bytes * channels, rate, false);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        AudioSystem.write(new AudioInputStream(new ByteArrayInputStream(b.array()), f, mono.length),
                AudioFileFormat.Type.WAVE, out);
        return out.toByteArray();
    }

    /** espeak-ng's voice {@code voice} saying {@code text}, at {@code rate}. */
    static float[] speak(String voice, String text, int rate) throws Exception {
        Path wav = Files.createTempFile("espeak", ".wav");
        try {
            Process p;
            try {
                p = new ProcessBuilder("espeak-ng", "-v", voice, "-w", wav.toString(), text)
                        .redirectErrorStream(true).start();
            } catch (IOException e) {
                fail("espeak-ng is not installed (" + e.getMessage() + "): the voice-activity tests synthesize their"
                        + " speech with it. Install it: apt-get install espeak-ng (.ci/run does)");
                throw e;
            }
            String log = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                fail("espeak-ng -v " + voice + " failed: " + log);
            }
            try (AudioInputStream in = AudioSystem.getAudioInputStream(wav.toFile())) {
                AudioFormat target = new AudioFormat(AudioFormat.Encoding.PCM_SIGNED, rate, 16, 1, 2, rate, false,
                        Map.of("interpolation", "sinc"));
                byte[] pcm = AudioSystem.getAudioInputStream(target, in).readAllBytes();
                ByteBuffer b = ByteBuffer.wrap(pcm).order(ByteOrder.LITTLE_ENDIAN);
                float[] out = new float[pcm.length / 2];
                for (int i = 0; i < out.length; i++) {
                    out[i] = b.getShort() / 32768f;
                }
                return out;
            } catch (UnsupportedAudioFileException e) {
                throw new IOException("espeak-ng wrote a WAV javax.sound cannot read", e);
            }
        } finally {
            Files.deleteIfExists(wav);
        }
    }
}

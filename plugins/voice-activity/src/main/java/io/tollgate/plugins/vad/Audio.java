package io.tollgate.plugins.vad;

import io.tollgate.pipeline.PipelineException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import javax.sound.sampled.AudioFormat;
import javax.sound.sampled.AudioInputStream;
import javax.sound.sampled.AudioSystem;
import javax.sound.sampled.UnsupportedAudioFileException;

/**
 * Mono audio at a rate Silero VAD accepts, decoded from what a client sends.
 *
 * @param samples    mono samples in [-1, 1] (PCM 16-bit is divided by 32768; a stereo WAV is the mean of its two
 *                   channels)
 * @param sampleRate 16000 or 8000 (Hz)
 */
record Audio(float[] samples, int sampleRate) {

    /** Longest audio of one request: 600 s (longer recordings go as a stream, in parts). */
    static final int MAX_SECONDS = 600;

    /** The header of a WAV file (RIFF container, WAVE form), from its first 12 bytes. */
    static boolean isWav(byte[] b) {
        return b.length >= 12 && b[0] == 'R' && b[1] == 'I' && b[2] == 'F' && b[3] == 'F'
                && b[8] == 'W' && b[9] == 'A' && b[10] == 'V' && b[11] == 'E';
    }

    /**
     * The WAV file in {@code element}: raw bytes, or their base64 (what a WAV sent in a JSON body is).
     *
     * @throws PipelineException INVALID_INPUT when it is neither, naming what the bytes start with
     */
    static byte[] wavBytes(byte[] element) throws PipelineException {
        if (isWav(element)) {
            return element;
        }
        byte[] decoded = null;
        try {
            decoded = Base64.getMimeDecoder().decode(element);
        } catch (IllegalArgumentException notBase64) {
            // answered below
        }
        if (decoded != null && isWav(decoded)) {
            return decoded;
        }
        if (element.length == 0) {
            throw PipelineException.invalidInput("input 'audio' is empty; send a WAV file (RIFF/WAVE), raw or base64");
        }
        throw PipelineException.invalidInput("input 'audio' is not a WAV file: it starts with " + preview(element)
                + " where a WAV file starts with 'RIFF....WAVE' (raw bytes or base64 of them); send 16-bit PCM or"
                + " 32-bit float WAV, mono or stereo, 16000 or 8000 Hz");
    }

    /**
     * The format and length of a WAV file, from its header only (cheap: the billed quantity is computed on the
     * endpoint's thread). The length is {@link #presentFrames}: what {@link #decodeWav} decodes.
     *
     * @return {@code [sampleRate, frames]}
     */
    static long[] wavHeader(byte[] wav) throws PipelineException {
        ByteArrayInputStream bytes = new ByteArrayInputStream(wav);
        try (AudioInputStream in = open(bytes)) {
            AudioFormat f = in.getFormat();
            checkFormat(f);
            return new long[] {(long) f.getSampleRate(), presentFrames(in, f, bytes)};
        } catch (IOException e) {
            throw PipelineException.invalidInput("input 'audio': the WAV file cannot be read: " + e.getMessage());
        }
    }

    /**
     * The frames a WAV file holds: its data chunk's length, or the bytes that follow the header when the file holds
     * fewer (a truncated file, or a header lying about its length, e.g. 4 GB over 1 s of samples). Both the billed
     * quantity and the run use this one count, so a lying header is served, and billed, for what is there.
     */
    private static long presentFrames(AudioInputStream in, AudioFormat f, ByteArrayInputStream file) {
        // the bytes after the header, counted on the file itself: javax.sound's float-WAV reader reports the header's
        // claim as available()
        long present = file.available() / f.getFrameSize();
        long declared = in.getFrameLength();
        return declared == AudioSystem.NOT_SPECIFIED ? present : Math.min(declared, present);
    }

    /**
     * Decodes a WAV file with javax.sound.sampled: PCM signed 16-bit or IEEE float 32-bit, 1 or 2 channels (2 are
     * averaged), 16000 or 8000 Hz.
     *
     * <p>The samples decoded are those the file holds: a header whose data chunk claims more bytes than follow it
     * (a truncated file, or a lying length such as 4 GB) is served, and billed, for the samples present
     * ({@link #presentFrames}, the count {@link #wavHeader} gives the billed quantity).
     *
     * @throws PipelineException INVALID_INPUT for another encoding, rate or channel count (the message says what was
     *                           sent and what is accepted), an empty file, more than {@link #MAX_SECONDS} of samples
     *                           present, or a sample outside [-1, 1] (a float WAV)
     */
    static Audio decodeWav(byte[] wav) throws PipelineException {
        ByteArrayInputStream bytes = new ByteArrayInputStream(wav);
        try (AudioInputStream in = open(bytes)) {
            AudioFormat f = in.getFormat();
            checkFormat(f);
            int rate = (int) f.getSampleRate();
            long present = presentFrames(in, f, bytes);   // what is there, never only the header's claim
            checkLength(present, rate);
            int frames = (int) present;
            int channels = f.getChannels();
            byte[] data = in.readNBytes(frames * f.getFrameSize());
            if (data.length != frames * f.getFrameSize()) {
                throw new IOException("it holds " + data.length + " bytes of samples where " + frames * f.getFrameSize()
                        + " were available");
            }
            ByteBuffer b = ByteBuffer.wrap(data).order(f.isBigEndian() ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
            boolean floats = f.getEncoding().equals(AudioFormat.Encoding.PCM_FLOAT);
            float[] out = new float[frames];
            for (int i = 0; i < frames; i++) {
                float sum = 0;
                for (int c = 0; c < channels; c++) {
                    float v = floats ? b.getFloat() : b.getShort() / 32768f;
                    checkSample(v, i, "audio");   // each channel: two out-of-range channels must not average in
                    sum += v;
                }
                out[i] = sum / channels;
            }
            return new Audio(out, rate);
        } catch (IOException e) {
            throw PipelineException.invalidInput("input 'audio': the WAV file cannot be read: " + e.getMessage());
        }
    }

    /**
     * Samples sent as the FP32 input {@code pcm}.
     *
     * @throws PipelineException INVALID_INPUT when empty, too long, or a sample is not finite or outside [-1, 1]
     */
    static Audio ofPcm(float[] samples, int sampleRate) throws PipelineException {
        checkLength(samples.length, sampleRate);
        for (int i = 0; i < samples.length; i++) {
            checkSample(samples[i], i, "pcm");
        }
        return new Audio(samples, sampleRate);
    }

    /**
     * The one range check of every sample, whichever input it came in (a float WAV's or {@code pcm}'s).
     *
     * @throws PipelineException INVALID_INPUT when {@code v} is not finite or outside [-1, 1]
     */
    static void checkSample(float v, int index, String input) throws PipelineException {
        if (!(v >= -1f && v <= 1f)) {
            throw PipelineException.invalidInput("input '" + input + "': sample " + index + " is " + v
                    + "; samples must be in [-1, 1] (16-bit PCM divided by 32768)");
        }
    }

    /** Seconds of {@code frames} samples at {@code rate}, rounded up: the billed quantity. */
    static long secondsRoundedUp(long frames, int rate) {
        return (frames + rate - 1) / rate;
    }

    static void checkLength(long frames, int rate) throws PipelineException {
        if (frames <= 0) {
            throw PipelineException.invalidInput("the audio is empty (0 samples); send at least one sample");
        }
        if (frames > (long) MAX_SECONDS * rate) {
            throw PipelineException.invalidInput("the audio is " + secondsRoundedUp(frames, rate) + " s long; one"
                    + " request takes at most " + MAX_SECONDS + " s: send longer audio in parts with a stream_id");
        }
    }

    private static AudioInputStream open(ByteArrayInputStream wav) throws PipelineException, IOException {
        try {
            return AudioSystem.getAudioInputStream(wav);
        } catch (UnsupportedAudioFileException e) {
            throw PipelineException.invalidInput("input 'audio' has a RIFF/WAVE header that javax.sound cannot read ("
                    + e.getMessage() + "); send 16-bit PCM or 32-bit float WAV, mono or stereo, 16000 or 8000 Hz");
        }
    }

    private static void checkFormat(AudioFormat f) throws PipelineException {
        boolean pcm16 = f.getEncoding().equals(AudioFormat.Encoding.PCM_SIGNED) && f.getSampleSizeInBits() == 16;
        boolean float32 = f.getEncoding().equals(AudioFormat.Encoding.PCM_FLOAT) && f.getSampleSizeInBits() == 32;
        String sent = f.getEncoding() + " " + f.getSampleSizeInBits() + "-bit, " + f.getChannels() + " channel(s), "
                + Math.round(f.getSampleRate()) + " Hz";
        if (!pcm16 && !float32) {
            throw PipelineException.invalidInput("input 'audio' is " + sent + "; accepted: PCM_SIGNED 16-bit or"
                    + " PCM_FLOAT 32-bit, 1 or 2 channels, 16000 or 8000 Hz (convert with e.g."
                    + " 'sox in.wav -b 16 -r 16000 -c 1 out.wav')");
        }
        if (f.getChannels() != 1 && f.getChannels() != 2) {
            throw PipelineException.invalidInput("input 'audio' is " + sent + "; accepted: 1 channel (mono) or 2"
                    + " (stereo, averaged to mono)");
        }
        float rate = f.getSampleRate();
        if (rate != 16000f && rate != 8000f) {
            throw PipelineException.invalidInput("input 'audio' is " + sent + "; accepted sample rates: 16000 or"
                    + " 8000 Hz (resample with e.g. 'sox in.wav -r 16000 out.wav')");
        }
    }

    private static String preview(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < Math.min(8, b.length); i++) {
            s.append(String.format("%02x", b[i] & 0xff));
        }
        return "0x" + s + (b.length > 8 ? "..." : "") + " (" + b.length + " bytes)";
    }
}

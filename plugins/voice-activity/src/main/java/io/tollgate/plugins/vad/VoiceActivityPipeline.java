package io.tollgate.plugins.vad;

import io.tollgate.model.DataType;
import io.tollgate.model.Tensor;
import io.tollgate.pipeline.Pipeline;
import io.tollgate.pipeline.PipelineContext;
import io.tollgate.pipeline.PipelineException;
import io.tollgate.pipeline.PipelineRequest;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Voice activity detection (issue 13): audio in, speech segments out, with Silero VAD v5 (stage {@code vad}).
 *
 * <p>Inputs, exactly one of:
 * <ul>
 *   <li>{@code audio} BYTES [1]: a WAV file (RIFF/WAVE, decoded by javax.sound.sampled), raw bytes or their base64;
 *       PCM signed 16-bit or IEEE float 32-bit; mono, or stereo averaged to mono; 16000 or 8000 Hz;</li>
 *   <li>{@code pcm} FP32 [N]: mono samples in [-1, 1] at 16000 Hz (parameter {@code sample_rate}: 8000 for 8 kHz).</li>
 * </ul>
 * At most {@link Audio#MAX_SECONDS} s per request.
 *
 * <p>Outputs (times in seconds from the start of the stream, FP32):
 * <ul>
 *   <li>{@code segments} [K, 2]: start and end of each speech segment that ended in this request;</li>
 *   <li>{@code open_segment} [0 or 1]: the start of a segment that began and has not ended (a stream without
 *       {@code end_of_stream} only);</li>
 *   <li>{@code offset} [1]: where this request's audio starts in the stream (0 for a new or forgotten stream);</li>
 *   <li>{@code probabilities} [W]: the speech probability of each window this request ran (512 samples at 16 kHz, 256
 *       at 8 kHz), only when the request names it in its outputs.</li>
 * </ul>
 *
 * <p>Parameters: {@code threshold}, {@code neg_threshold}, {@code min_speech_ms}, {@code min_silence_ms},
 * {@code speech_pad_ms} (see {@link VadSettings}); {@code stream_id} (1-128 characters {@code [A-Za-z0-9_.:-]}): the
 * model's recurrent state, its context samples, the samples short of a whole window and an open segment carry over to
 * the next request with the same id from the same tenant ({@link StreamTable}); {@code end_of_stream} true ends the
 * stream (its open segment ends with the audio) and forgets it. Without {@code stream_id} a request is a whole stream.
 * A request for a stream that is busy with another request is refused at once (INVALID_INPUT: {@code stream <id> is
 * busy with another request; ...}); it never waits. Streams are bounded per tenant and in all ({@link StreamTable}).
 *
 * <p>Quantity (meter {@code audio_seconds}): the seconds of this request's audio, rounded up.
 */
public final class VoiceActivityPipeline implements Pipeline {
    static final String STAGE = "vad";
    static final String AUDIO = "audio";
    static final String PCM = "pcm";
    static final String SEGMENTS = "segments";
    static final String OPEN_SEGMENT = "open_segment";
    static final String OFFSET = "offset";
    static final String PROBABILITIES = "probabilities";
    private static final Pattern STREAM_ID = Pattern.compile("[A-Za-z0-9_.:-]{1,128}");
    private static final Logger LOG = LoggerFactory.getLogger(VoiceActivityPipeline.class);

    private volatile SileroVad vad;
    private final StreamTable streams;

    public VoiceActivityPipeline() {
        this(new StreamTable());
    }

    VoiceActivityPipeline(StreamTable streams) {
        this.streams = streams;
    }

    @Override
    public void open(PipelineContext context) throws PipelineException {
        if (!context.stages().containsKey(STAGE)) {
            throw new PipelineException(PipelineException.Reason.FAILED, "the voice-activity pipeline needs a stage"
                    + " named '" + STAGE + "' (Silero VAD v5); the descriptor declares " + context.stages().keySet());
        }
        vad = new SileroVad(context.stage(STAGE));
        LOG.info("voice-activity {}: Silero VAD v5 on {}", context.version(), context.stage(STAGE).accelerator());
    }

    /** Checks the input and the parameters (a client's mistake is answered before anything is billed). */
    @Override
    public long quantity(PipelineRequest request) throws PipelineException {
        try {
            return checkedQuantity(request);
        } catch (PipelineException e) {
            // the endpoint answers 400 with the message and, as for every client mistake, logs no WARN for it
            LOG.debug("voice-activity request {} of tenant {} refused: {}", request.id(), request.tenant(),
                    e.getMessage());
            throw e;
        }
    }

    private long checkedQuantity(PipelineRequest request) throws PipelineException {
        Input in = input(request);
        long frames;
        int rate;
        if (in.wav != null) {
            // the header only (cheap, on the endpoint's thread): the frames present, as run decodes them; a float
            // WAV's sample values are checked by run (a refused run is not billed)
            long[] header = Audio.wavHeader(in.wav);
            rate = (int) header[0];
            frames = header[1];
            Audio.checkLength(frames, rate);
        } else {
            rate = in.pcm.sampleRate();
            frames = in.pcm.samples().length;   // checked: not empty, at most 600 s, samples in [-1, 1]
        }
        VadSettings.of(request.parameters(), rate);
        if (streamId(request.parameters()) != null) {
            VadSettings.flag(request.parameters(), "end_of_stream");
        }
        return Audio.secondsRoundedUp(frames, rate);
    }

    @Override
    public List<Tensor> run(PipelineRequest request) throws PipelineException {
        SileroVad model = vad;
        if (model == null) {
            throw new PipelineException(PipelineException.Reason.FAILED, "the voice-activity pipeline is not open");
        }
        Input in = input(request);
        Audio audio = in.wav != null ? Audio.decodeWav(in.wav) : in.pcm;
        VadSettings settings = VadSettings.of(request.parameters(), audio.sampleRate());
        String streamId = streamId(request.parameters());
        boolean end = streamId == null || VadSettings.flag(request.parameters(), "end_of_stream");
        boolean wantProbabilities = request.requestedOutputs().contains(PROBABILITIES);
        if (streamId == null) {
            StreamTable.Stream s = new StreamTable.Stream(new StreamTable.Key(request.tenant(), ""), audio.sampleRate());
            return feed(model, s, audio, settings, true, wantProbabilities);
        }
        StreamTable.Key key = new StreamTable.Key(request.tenant(), streamId);
        while (true) {
            StreamTable.Stream s = streams.acquire(key, audio.sampleRate());
            if (!s.tryTake()) {
                // never wait: a waiting request would hold a serving worker, and requests of one stream sent at once
                // have no defined order anyway
                throw PipelineException.invalidInput("stream " + streamId + " is busy with another request; send a"
                        + " stream's chunks one after another");
            }
            try {
                if (s.closed) {
                    continue;   // ended or forgotten between acquire and take: take the next one
                }
                if (s.rate() != audio.sampleRate()) {
                    throw PipelineException.invalidInput("stream '" + streamId + "' is at " + s.rate() + " Hz; this"
                            + " request's audio is at " + audio.sampleRate() + " Hz: a stream keeps one sample rate"
                            + " (end it with end_of_stream, or use another stream_id)");
                }
                try {
                    return feed(model, s, audio, settings, end, wantProbabilities);
                } finally {
                    if (end) {
                        streams.remove(s);
                    } else {
                        streams.touch(s);
                    }
                }
            } finally {
                s.release();
            }
        }
    }

    /** Runs the stream's windows over {@code audio}; the stream's state moves on even when the answer is lost. */
    private static List<Tensor> feed(SileroVad model, StreamTable.Stream s, Audio audio, VadSettings settings,
                                     boolean end, boolean wantProbabilities) throws PipelineException {
        int rate = audio.sampleRate();
        int window = SileroVad.window(rate);
        long offset = s.samples;
        float[] x = concat(s.leftover, audio.samples());
        int whole = x.length / window;
        int padded = end && x.length % window != 0 ? whole + 1 : whole;
        if (padded > whole) {
            x = Arrays.copyOf(x, padded * window);   // the last part window, zero-padded as get_speech_timestamps does
        }
        s.samples += audio.samples().length;
        float[] probabilities = new float[padded];
        List<long[]> segments = new ArrayList<>();
        for (int w = 0; w < padded; w++) {
            float p = model.probability(s.recurrence, x, w * window);
            probabilities[w] = p;
            long[] closed = s.segmenter.accept(s.windows++, p, window, settings, s.samples);
            if (closed != null) {
                segments.add(closed);
            }
        }
        s.leftover = padded > whole ? new float[0] : Arrays.copyOfRange(x, whole * window, x.length);
        OptionalLong open = OptionalLong.empty();
        if (end) {
            long[] last = s.segmenter.finish(s.samples, settings);
            if (last != null) {
                segments.add(last);
            }
        } else {
            open = s.segmenter.openStart(settings);
        }
        float[] flat = new float[segments.size() * 2];
        for (int i = 0; i < segments.size(); i++) {
            flat[2 * i] = (float) ((double) segments.get(i)[0] / rate);
            flat[2 * i + 1] = (float) ((double) segments.get(i)[1] / rate);
        }
        List<Tensor> out = new ArrayList<>(4);
        out.add(Tensor.ofFloats(SEGMENTS, new long[] {segments.size(), 2}, flat));
        out.add(Tensor.ofFloats(OPEN_SEGMENT, new long[] {open.isPresent() ? 1 : 0},
                open.isPresent() ? new float[] {(float) ((double) open.getAsLong() / rate)} : new float[0]));
        out.add(Tensor.ofFloats(OFFSET, new long[] {1}, new float[] {(float) ((double) offset / rate)}));
        if (wantProbabilities) {
            out.add(Tensor.ofFloats(PROBABILITIES, new long[] {padded}, probabilities));
        }
        return out;
    }

    @Override
    public void close() {
        streams.clear();
    }

    /** Open streams (for tests). */
    int openStreams() {
        return streams.size();
    }

    private static float[] concat(float[] a, float[] b) {
        if (a.length == 0) {
            return b;
        }
        float[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /** The request's audio: a WAV file's bytes (decoded in run) or PCM samples (checked), exactly one. */
    private record Input(byte[] wav, Audio pcm) {
    }

    private static Input input(PipelineRequest request) throws PipelineException {
        Optional<Tensor> audio = request.input(AUDIO);
        Optional<Tensor> pcm = request.input(PCM);
        if (audio.isPresent() == pcm.isPresent()) {
            throw PipelineException.invalidInput("send exactly one of the inputs '" + AUDIO + "' (BYTES [1]: a WAV"
                    + " file) and '" + PCM + "' (FP32 [N]: 16 kHz mono samples in [-1, 1]); this request has "
                    + (audio.isPresent() ? "both" : "neither"));
        }
        Object rateParam = request.parameters().get("sample_rate");
        if (audio.isPresent()) {
            Tensor t = audio.get();
            if (t.type() != DataType.BYTES || t.elementCount() != 1) {
                throw PipelineException.invalidInput("input '" + AUDIO + "' must be BYTES with one element (one WAV"
                        + " file); it is " + t.type() + " " + Arrays.toString(t.shape()));
            }
            if (rateParam != null) {
                throw PipelineException.invalidInput("parameter 'sample_rate' applies to input '" + PCM + "' only; a"
                        + " WAV file states its own rate");
            }
            return new Input(Audio.wavBytes(t.strings().get(0)), null);
        }
        Tensor t = pcm.get();
        if (t.type() != DataType.FP32 || t.shape().length != 1) {
            throw PipelineException.invalidInput("input '" + PCM + "' must be FP32 [N] (mono samples); it is "
                    + t.type() + " " + Arrays.toString(t.shape()));
        }
        int rate = sampleRate(rateParam);
        FloatBuffer f = t.data().asFloatBuffer();
        float[] samples = new float[f.remaining()];
        f.get(samples);
        return new Input(null, Audio.ofPcm(samples, rate));
    }

    /** Parameter {@code sample_rate} of input {@code pcm}: 16000 (default) or 8000, as a number or its text. */
    private static int sampleRate(Object v) throws PipelineException {
        if (v == null) {
            return 16000;
        }
        double d;
        try {
            d = v instanceof Number n ? n.doubleValue() : Double.parseDouble(v.toString().trim());
        } catch (NumberFormatException e) {
            d = Double.NaN;
        }
        if (d != 16000 && d != 8000) {
            throw PipelineException.invalidInput("parameter 'sample_rate' is " + VadSettings.quote(v)
                    + "; sample_rate must be 16000 or 8000 (Hz; the rates Silero VAD v5 takes)");
        }
        return (int) d;
    }

    private static String streamId(Map<String, Object> parameters) throws PipelineException {
        Object v = parameters.get("stream_id");
        if (v == null) {
            if (parameters.containsKey("end_of_stream")) {
                throw PipelineException.invalidInput("parameter 'end_of_stream' needs a 'stream_id': a request without"
                        + " one is a whole stream already");
            }
            return null;
        }
        String id = v.toString();
        if (!(v instanceof String) || !STREAM_ID.matcher(id).matches()) {
            throw PipelineException.invalidInput("parameter 'stream_id' is " + VadSettings.quote(v) + "; it must be"
                    + " a string of 1-128 characters A-Z a-z 0-9 _ . : -");
        }
        return id;
    }
}

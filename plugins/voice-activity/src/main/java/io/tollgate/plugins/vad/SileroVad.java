package io.tollgate.plugins.vad;

import io.tollgate.model.DataType;
import io.tollgate.model.Tensor;
import io.tollgate.model.TensorSpec;
import io.tollgate.pipeline.PipelineException;
import io.tollgate.pipeline.PipelineStage;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Silero VAD v5 on one pipeline stage: the speech probability of one window, the recurrent state carried in a
 * {@link Recurrence} from window to window.
 *
 * <p>The model's interface (silero_vad_v5.onnx): inputs {@code input} FP32 [1, context + window], {@code state} FP32
 * [2, 1, 128], {@code sr} INT64 scalar (16000 or 8000); outputs {@code output} FP32 [1, 1] (probability of speech in
 * the window) and {@code stateN} FP32 [2, 1, 128]. A window is 512 samples at 16 kHz (256 at 8 kHz), and v5 expects
 * the last 64 samples (32 at 8 kHz) of the previous window in front of it, zeros before the first: what silero-vad's
 * own {@code OnnxWrapper.__call__} (utils_vad.py) and vad-web's {@code Silero.process} do.
 */
final class SileroVad {
    static final String INPUT = "input";
    static final String STATE = "state";
    static final String RATE = "sr";
    static final String OUTPUT = "output";
    static final String STATE_OUT = "stateN";
    static final int STATE_SIZE = 2 * 128;
    private static final long[] STATE_SHAPE = {2, 1, 128};
    private static final Set<String> OUTPUTS = Set.of(OUTPUT, STATE_OUT);

    private final PipelineStage stage;

    /**
     * @throws PipelineException FAILED when the stage does not have Silero v5's inputs and outputs (the message says
     *                           which it has)
     */
    SileroVad(PipelineStage stage) throws PipelineException {
        this.stage = stage;
        Map<String, TensorSpec> in = stage.inputs().stream().collect(Collectors.toMap(TensorSpec::name, s -> s));
        Map<String, TensorSpec> out = stage.outputs().stream().collect(Collectors.toMap(TensorSpec::name, s -> s));
        boolean ok = in.size() == 3 && type(in, INPUT) == DataType.FP32 && type(in, STATE) == DataType.FP32
                && type(in, RATE) == DataType.INT64 && type(out, OUTPUT) == DataType.FP32
                && type(out, STATE_OUT) == DataType.FP32;
        if (!ok) {
            throw new PipelineException(PipelineException.Reason.FAILED, "stage " + stage.name() + " is not Silero"
                    + " VAD v5: it has inputs " + stage.inputs() + " and outputs " + stage.outputs() + " where"
                    + " input:FP32[1,N], state:FP32[2,1,128], sr:INT64[] -> output:FP32[1,1], stateN:FP32[2,1,128]"
                    + " are expected");
        }
    }

    private static DataType type(Map<String, TensorSpec> specs, String name) {
        TensorSpec s = specs.get(name);
        return s == null ? null : s.type();
    }

    /** Samples per window at {@code rate}: 512 at 16 kHz, 256 at 8 kHz. */
    static int window(int rate) {
        return rate == 16000 ? 512 : 256;
    }

    /** Samples of the previous window the model sees before each window: 64 at 16 kHz, 32 at 8 kHz. */
    static int context(int rate) {
        return rate == 16000 ? 64 : 32;
    }

    /** The recurrent part of a stream: the model's state and the context samples; zeros for a new stream. */
    static final class Recurrence {
        final int rate;
        float[] state = new float[STATE_SIZE];
        final float[] context;

        Recurrence(int rate) {
            this.rate = rate;
            this.context = new float[context(rate)];
        }
    }

    /**
     * The probability of speech in {@code window(rate)} samples of {@code samples} from {@code from}, updating
     * {@code r}'s state and context.
     *
     * @throws PipelineException FAILED when the stage fails
     */
    float probability(Recurrence r, float[] samples, int from) throws PipelineException {
        int window = window(r.rate);
        int ctx = r.context.length;
        float[] x = new float[ctx + window];
        System.arraycopy(r.context, 0, x, 0, ctx);
        System.arraycopy(samples, from, x, ctx, window);
        List<Tensor> out = stage.run(List.of(
                Tensor.ofFloats(INPUT, new long[] {1, ctx + window}, x),
                Tensor.ofFloats(STATE, STATE_SHAPE, r.state),
                Tensor.ofLongs(RATE, new long[0], new long[] {r.rate})), OUTPUTS);
        float p = Float.NaN;
        float[] next = null;
        for (Tensor t : out) {
            FloatBuffer f = t.data().asFloatBuffer();
            if (t.name().equals(OUTPUT) && f.remaining() == 1) {
                p = f.get(0);
            } else if (t.name().equals(STATE_OUT) && f.remaining() == STATE_SIZE) {
                next = new float[STATE_SIZE];
                f.get(next);
            }
        }
        if (Float.isNaN(p) || next == null) {
            throw new PipelineException(PipelineException.Reason.FAILED, "stage " + stage.name() + " answered "
                    + out.stream().map(t -> t.name() + Arrays.toString(t.shape())).toList() + " where output[1,1] and"
                    + " stateN[2,1,128] were expected");
        }
        r.state = next;
        System.arraycopy(x, x.length - ctx, r.context, 0, ctx);
        return p;
    }
}

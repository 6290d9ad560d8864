package io.tollgate.plugins.vad;

import io.tollgate.pipeline.PipelineException;
import java.util.Locale;
import java.util.Map;

/**
 * The segmentation settings of one request, from its parameters, with silero-vad's {@code get_speech_timestamps}
 * defaults.
 *
 * @param threshold        probability at or above which a window is speech: parameter {@code threshold}, 0.05-0.95,
 *                         default 0.5
 * @param negThreshold     probability below which a window is silence: {@code neg_threshold}, 0.01-threshold,
 *                         default max(threshold - 0.15, 0.01)
 * @param minSpeechMs      shorter segments are dropped: {@code min_speech_ms}, 0-10000, default 250
 * @param minSilenceMs     silence that ends a segment: {@code min_silence_ms}, 0-10000, default 100
 * @param speechPadMs      added before and after each segment: {@code speech_pad_ms}, 0-min_silence_ms/2, default
 *                         min(30, min_silence_ms / 2)
 * @param sampleRate       Hz, for the sample counts below
 */
record VadSettings(double threshold, double negThreshold, int minSpeechMs, int minSilenceMs, int speechPadMs,
                   int sampleRate) {

    static VadSettings defaults(int sampleRate) {
        return new VadSettings(0.5, 0.35, 250, 100, 30, sampleRate);
    }

    /**
     * Reads the settings from a request's parameters; other parameters are left alone.
     *
     * @throws PipelineException INVALID_INPUT naming the parameter, the value sent and the range accepted
     */
    static VadSettings of(Map<String, Object> p, int sampleRate) throws PipelineException {
        double threshold = number(p, "threshold", 0.5, 0.05, 0.95);
        double neg = number(p, "neg_threshold", Math.max(threshold - 0.15, 0.01), 0.01, threshold);
        int minSpeech = (int) integer(p, "min_speech_ms", 250, 0, 10_000);
        int minSilence = (int) integer(p, "min_silence_ms", 100, 0, 10_000);
        // Not over half the silence that ends a segment: then two padded segments never overlap, and a stream can
        // give out a segment as soon as it closes (SpeechSegmenter).
        int pad = (int) integer(p, "speech_pad_ms", Math.min(30, minSilence / 2), 0, minSilence / 2);
        return new VadSettings(threshold, neg, minSpeech, minSilence, pad, sampleRate);
    }

    long minSpeechSamples() {
        return (long) sampleRate * minSpeechMs / 1000;
    }

    long minSilenceSamples() {
        return (long) sampleRate * minSilenceMs / 1000;
    }

    long speechPadSamples() {
        return (long) sampleRate * speechPadMs / 1000;
    }

    static double number(Map<String, Object> p, String key, double fallback, double min, double max)
            throws PipelineException {
        Object v = p.get(key);
        if (v == null) {
            return fallback;
        }
        double d;
        try {
            d = v instanceof Number n ? n.doubleValue() : Double.parseDouble(v.toString().trim());
        } catch (NumberFormatException e) {
            d = Double.NaN;
        }
        if (!(d >= min && d <= max)) {
            throw PipelineException.invalidInput("parameter '" + key + "' is " + quote(v) + "; it must be a number"
                    + " from " + fmt(min) + " to " + fmt(max));
        }
        return d;
    }

    static long integer(Map<String, Object> p, String key, long fallback, long min, long max)
            throws PipelineException {
        Object v = p.get(key);
        if (v == null) {
            return fallback;
        }
        double d = number(p, key, fallback, min, max);
        if (d != Math.rint(d)) {
            throw PipelineException.invalidInput("parameter '" + key + "' is " + quote(v) + "; it must be a whole"
                    + " number from " + min + " to " + max);
        }
        return (long) d;
    }

    static boolean flag(Map<String, Object> p, String key) throws PipelineException {
        Object v = p.get(key);
        if (v == null) {
            return false;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        String s = v.toString().trim().toLowerCase(Locale.ROOT);
        if (s.equals("true") || s.equals("false")) {
            return s.equals("true");
        }
        throw PipelineException.invalidInput("parameter '" + key + "' is " + quote(v) + "; it must be true or false");
    }

    static String quote(Object v) {
        return v instanceof String ? "\"" + v + "\"" : String.valueOf(v);
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
    }
}

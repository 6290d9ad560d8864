package io.tollgate.plugins.vad;

import java.util.OptionalLong;

/**
 * Turns per-window speech probabilities into speech segments, one window at a time, so that a stream split across
 * requests gives the segments the whole audio gives at once.
 *
 * <p>The rules are silero-vad's {@code get_speech_timestamps} (utils_vad.py) without a maximum segment length: speech
 * starts at the first window whose probability is {@code >= threshold}; it ends at the first window below
 * {@code neg_threshold} after which no window reaches {@code threshold} for {@code min_silence} samples; a segment not
 * longer than {@code min_speech} samples is dropped; an open segment at the end of the audio ends there. Each kept
 * segment is widened by {@code speech_pad} samples on both sides (never before 0, never past the audio seen).
 * Because {@link VadSettings} keeps {@code speech_pad <= min_silence / 2}, two padded segments never overlap, so a
 * segment can be given out as soon as it closes (get_speech_timestamps has to split the gap between two segments
 * when it is shorter than two pads; here it never is).
 *
 * <p>Positions are in samples from the start of the stream. Not thread-safe: a stream is used by one request at a
 * time.
 */
final class SpeechSegmenter {
    private boolean triggered;
    private long start;
    private long tempEnd = -1;   // -1: no candidate end (get_speech_timestamps' temp_end == 0)

    /**
     * Takes the probability of window {@code index} (0-based, of {@code window} samples, counted from the start of
     * the stream).
     *
     * @param seen samples of the stream seen so far (the end of a segment is padded up to it at most)
     * @return the segment {@code [start, end)} in samples, padded, when this window closed one that is kept; else null
     */
    long[] accept(long index, float probability, int window, VadSettings s, long seen) {
        long at = index * window;
        if (probability >= s.threshold() && tempEnd >= 0) {
            tempEnd = -1;
        }
        if (probability >= s.threshold() && !triggered) {
            triggered = true;
            start = at;
            return null;
        }
        if (probability < s.negThreshold() && triggered) {
            if (tempEnd < 0) {
                tempEnd = at;
            }
            if (at - tempEnd < s.minSilenceSamples()) {
                return null;
            }
            long end = tempEnd;
            long begin = start;
            triggered = false;
            tempEnd = -1;
            if (end - begin > s.minSpeechSamples()) {
                return pad(begin, end, s, seen);
            }
        }
        return null;
    }

    /**
     * Ends the audio after {@code total} samples: the open segment, if any and long enough, ends there.
     *
     * @return the last segment, padded, or null
     */
    long[] finish(long total, VadSettings s) {
        long[] last = null;
        if (triggered && total - start > s.minSpeechSamples()) {
            last = pad(start, total, s, total);
        }
        triggered = false;
        tempEnd = -1;
        return last;
    }

    /** Where the open segment starts (padded), if speech has started and not ended. */
    OptionalLong openStart(VadSettings s) {
        return triggered ? OptionalLong.of(Math.max(0, start - s.speechPadSamples())) : OptionalLong.empty();
    }

    private static long[] pad(long begin, long end, VadSettings s, long seen) {
        return new long[] {Math.max(0, begin - s.speechPadSamples()), Math.min(seen, end + s.speechPadSamples())};
    }
}

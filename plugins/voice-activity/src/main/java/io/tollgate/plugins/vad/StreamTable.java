package io.tollgate.plugins.vad;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The open streams of one pipeline, keyed by (tenant, stream id) so that one tenant can neither read nor disturb
 * another's stream. Bounded: at most {@link #MAX_STREAMS}; a stream unused for {@link #IDLE_NANOS} is forgotten, and
 * when the table is full the stream unused the longest is forgotten for a new one. A forgotten stream starts afresh
 * on its next request (its answer's {@code offset} is then 0). Thread-safe; the table's lock is held only to look up,
 * add and remove, never while a stream runs.
 */
final class StreamTable {
    static final int MAX_STREAMS = 1024;
    static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(60);
    private static final Logger LOG = LoggerFactory.getLogger(StreamTable.class);

    record Key(String tenant, String id) {
    }

    /** What a stream carries from one request to the next. Guarded by its own monitor. */
    static final class Stream {
        final Key key;
        final SileroVad.Recurrence recurrence;
        final SpeechSegmenter segmenter = new SpeechSegmenter();
        float[] leftover = new float[0];   // the samples after the last whole window
        long samples;                      // samples of the stream so far (windows * window + leftover.length)
        long windows;                      // windows run so far
        volatile boolean closed;           // ended or forgotten: a request holding it must take a fresh one
        private long lastUsed;

        Stream(Key key, int rate) {
            this.key = key;
            this.recurrence = new SileroVad.Recurrence(rate);
        }

        int rate() {
            return recurrence.rate;
        }
    }

    private final LongSupplier nanoTime;
    private final Map<Key, Stream> streams = new LinkedHashMap<>(16, 0.75f, true);   // access order: eldest = LRU

    StreamTable() {
        this(System::nanoTime);
    }

    StreamTable(LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
    }

    /** The stream of {@code key}, a new one (at {@code rate}) when there is none or it was forgotten. */
    synchronized Stream acquire(Key key, int rate) {
        long now = nanoTime.getAsLong();
        expire(now);
        Stream s = streams.get(key);
        if (s == null) {
            if (streams.size() >= MAX_STREAMS) {
                Iterator<Stream> eldest = streams.values().iterator();
                Stream lru = eldest.next();
                eldest.remove();
                lru.closed = true;
                LOG.warn("voice-activity: {} streams open; forgot stream '{}' of tenant '{}' (unused for {} ms) for"
                        + " a new one; it starts afresh on its next request", MAX_STREAMS, lru.key.id(),
                        lru.key.tenant(), TimeUnit.NANOSECONDS.toMillis(now - lru.lastUsed));
            }
            s = new Stream(key, rate);
            streams.put(key, s);
        }
        s.lastUsed = now;
        return s;
    }

    /** Forgets {@code s} (its end of stream), unless a newer stream took its key meanwhile. */
    synchronized void remove(Stream s) {
        streams.remove(s.key, s);
        s.closed = true;
    }

    /** Marks {@code s} used now (after a request that ran long). */
    synchronized void touch(Stream s) {
        if (streams.get(s.key) == s) {   // get: moves it to the young end of the access order
            s.lastUsed = nanoTime.getAsLong();
        }
    }

    synchronized int size() {
        return streams.size();
    }

    synchronized void clear() {
        streams.values().forEach(s -> s.closed = true);
        streams.clear();
    }

    private void expire(long now) {
        Iterator<Stream> it = streams.values().iterator();
        while (it.hasNext()) {
            Stream s = it.next();
            if (now - s.lastUsed < IDLE_NANOS) {
                break;   // access order: all later ones were used more recently
            }
            it.remove();
            s.closed = true;
            LOG.info("voice-activity: stream '{}' of tenant '{}' expired after {} s unused", s.key.id(),
                    s.key.tenant(), TimeUnit.NANOSECONDS.toSeconds(now - s.lastUsed));
        }
    }
}

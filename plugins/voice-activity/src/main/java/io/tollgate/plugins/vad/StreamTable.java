package io.tollgate.plugins.vad;

import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The open streams of one pipeline, keyed by (tenant, stream id) so that one tenant can neither read nor disturb
 * another's stream. Bounded: a stream unused for {@link #IDLE_NANOS} is forgotten; a tenant holds at most
 * {@link #MAX_STREAMS_PER_TENANT} streams, and a new stream of a tenant at its quota makes that tenant's own least
 * recently used stream give way; the table holds at most {@link #MAX_STREAMS}, and when it is full the least recently
 * used stream of the tenant holding the most streams gives way (so a tenant never loses a stream to another tenant
 * while it holds fewer streams than that tenant). A forgotten stream starts afresh on its next request (its answer's
 * {@code offset} is then 0). Forgotten streams are logged as one WARN per tenant at most once a minute (a count), so
 * a client cycling through stream ids cannot flood the log. Thread-safe; the table's lock is held only to look up,
 * add and remove, never while a stream runs.
 */
final class StreamTable {
    static final int MAX_STREAMS = 1024;
    static final int MAX_STREAMS_PER_TENANT = 256;
    static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(60);
    static final long WARN_EVERY_NANOS = TimeUnit.SECONDS.toNanos(60);
    private static final Logger LOG = LoggerFactory.getLogger(StreamTable.class);

    record Key(String tenant, String id) {
    }

    /** What a stream carries from one request to the next. Guarded by {@link #busy}: one request at a time. */
    static final class Stream {
        final Key key;
        final SileroVad.Recurrence recurrence;
        final SpeechSegmenter segmenter = new SpeechSegmenter();
        final AtomicBoolean busy = new AtomicBoolean();   // a request is running on it
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

        /** Takes the stream for one request; false when another request is running on it (never waits). */
        boolean tryTake() {
            return busy.compareAndSet(false, true);
        }

        void release() {
            busy.set(false);
        }
    }

    /** A tenant's streams (access order: eldest = its least recently used) and its forgotten streams not yet logged. */
    private static final class Tenant {
        final Map<Key, Stream> streams = new LinkedHashMap<>(16, 0.75f, true);
        long forgotten;           // since the last WARN
        long warnedAt;
        boolean warned;
    }

    private final LongSupplier nanoTime;
    private final Map<Key, Stream> streams = new LinkedHashMap<>(16, 0.75f, true);   // access order: eldest = LRU
    private final Map<String, Tenant> tenants = new HashMap<>();
    private long warnings;   // WARN lines written (for tests)

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
            Tenant t = tenants.computeIfAbsent(key.tenant(), k -> new Tenant());
            if (t.streams.size() >= MAX_STREAMS_PER_TENANT) {
                forget(t.streams.values().iterator().next(), now, "its quota of " + MAX_STREAMS_PER_TENANT);
            } else if (streams.size() >= MAX_STREAMS) {
                Tenant largest = t;
                for (Tenant other : tenants.values()) {
                    if (other.streams.size() > largest.streams.size()) {
                        largest = other;
                    }
                }
                forget(largest.streams.values().iterator().next(), now, "a full table (" + MAX_STREAMS
                        + " streams; the tenant holding the most gives way)");
            }
            s = new Stream(key, rate);
            streams.put(key, s);
            t.streams.put(key, s);
        } else {
            tenants.get(key.tenant()).streams.get(key);   // moves it to the young end of its tenant's order too
        }
        s.lastUsed = now;
        return s;
    }

    /** Forgets {@code s} (its end of stream), unless a newer stream took its key meanwhile. */
    synchronized void remove(Stream s) {
        if (streams.remove(s.key, s)) {
            untrack(s);
        }
        s.closed = true;
    }

    /** Marks {@code s} used now (after a request that ran long). */
    synchronized void touch(Stream s) {
        if (streams.get(s.key) == s) {   // get: moves it to the young end of the access order
            tenants.get(s.key.tenant()).streams.get(s.key);
            s.lastUsed = nanoTime.getAsLong();
        }
    }

    synchronized int size() {
        return streams.size();
    }

    /** Open streams of {@code tenant}. */
    synchronized int size(String tenant) {
        Tenant t = tenants.get(tenant);
        return t == null ? 0 : t.streams.size();
    }

    /** WARN lines written about forgotten streams (for tests). */
    synchronized long warnings() {
        return warnings;
    }

    synchronized void clear() {
        streams.values().forEach(s -> s.closed = true);
        streams.clear();
        tenants.clear();
    }

    /** Forgets a stream for a new one; counted, and logged as one WARN per tenant at most every minute. */
    private void forget(Stream lru, long now, String why) {
        streams.remove(lru.key);
        lru.closed = true;
        Tenant t = tenants.get(lru.key.tenant());
        t.streams.remove(lru.key);
        t.forgotten++;
        if (!t.warned || now - t.warnedAt >= WARN_EVERY_NANOS) {
            LOG.warn("voice-activity: forgot {} stream(s) of tenant '{}' {} to open new ones (the last for {}; the"
                    + " tenant now holds {}); a forgotten stream starts afresh on its next request (at most one such"
                    + " line per tenant a minute)", t.forgotten, lru.key.tenant(),
                    t.warned ? "in the last " + TimeUnit.NANOSECONDS.toSeconds(now - t.warnedAt) + " s" : "so far", why, t.streams.size());
            warnings++;
            t.forgotten = 0;
            t.warned = true;
            t.warnedAt = now;
        }
    }

    /** Drops {@code s} from its tenant's streams; a tenant with none left and nothing to report is dropped too. */
    private void untrack(Stream s) {
        Tenant t = tenants.get(s.key.tenant());
        if (t == null) {
            return;
        }
        t.streams.remove(s.key);
        if (t.streams.isEmpty() && t.forgotten == 0 && (!t.warned || nanoTime.getAsLong() - t.warnedAt >= WARN_EVERY_NANOS)) {
            tenants.remove(s.key.tenant());
        }
    }

    private void expire(long now) {
        Iterator<Stream> it = streams.values().iterator();
        while (it.hasNext()) {
            Stream s = it.next();
            if (now - s.lastUsed < IDLE_NANOS) {
                break;   // access order: all later ones were used more recently
            }
            it.remove();
            untrack(s);
            s.closed = true;
            // DEBUG, not INFO: a client cycling through stream ids would otherwise write a line per id
            LOG.debug("voice-activity: stream '{}' of tenant '{}' expired after {} s unused", s.key.id(),
                    s.key.tenant(), TimeUnit.NANOSECONDS.toSeconds(now - s.lastUsed));
        }
    }
}

package io.tollgate.metering.internal;

import java.io.File;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import net.openhft.chronicle.queue.RollCycle;

/**
 * The journal's files as the writer sees them: for each Chronicle cycle file its seq range and how many bytes of it
 * hold data, so that the disk budget, seq-to-index lookups and retention need no file system calls.
 *
 * <p>Threads: not thread-safe. Built by {@link JournalRecovery} on the opening thread, then only used under the
 * chain lock ({@link ChainWriter}).
 */
final class JournalFileIndex {
    /** One Chronicle cycle file: its seq range and how many bytes of it hold data. */
    static final class Cycle {
        final int cycle;
        final File file;
        final long firstSeq;
        long lastSeq;
        long extent;

        Cycle(int cycle, File file, long firstSeq, long lastSeq, long extent) {
            this.cycle = cycle;
            this.file = file;
            this.firstSeq = firstSeq;
            this.lastSeq = lastSeq;
            this.extent = extent;
        }
    }

    /** A record's seq and its Chronicle index. */
    record Position(long seq, long index) {
    }

    private final long metadataBytes;
    /** Cycle number to its file; ordered oldest first. */
    private final TreeMap<Integer, Cycle> cycles = new TreeMap<>();
    /** First seq of each cycle to its cycle number, for seq to Chronicle index lookups. */
    private final TreeMap<Long, Integer> cycleByFirstSeq = new TreeMap<>();
    private Cycle active;
    /**
     * Data bytes of every file but the active one, including files that retention has taken off the map but not
     * deleted yet: they still occupy the disk.
     */
    private long closedBytes;

    /** @param metadataBytes size of Chronicle's {@code metadata.cq4t}, counted against the budget as well */
    JournalFileIndex(long metadataBytes) {
        this.metadataBytes = metadataBytes;
    }

    /** Adds a file found on disk at start; the last one added becomes the active one. */
    void addRecovered(Cycle c) {
        cycles.put(c.cycle, c);
        cycleByFirstSeq.put(c.firstSeq, c.cycle);
        if (active != null) {
            closedBytes += active.extent;
        }
        active = c;
    }

    boolean isEmpty() {
        return cycles.isEmpty();
    }

    /** The file being written, or null before the first record. */
    Cycle active() {
        return active;
    }

    /** True when a record in {@code cycle} goes to the file already being written (no roll). */
    boolean isActive(int cycle) {
        return active != null && active.cycle == cycle;
    }

    /** The appender rolled to a new file whose first record is {@code seq}. */
    void rolled(int cycle, File file, long seq) {
        if (active != null) {
            closedBytes += active.extent;
        }
        active = new Cycle(cycle, file, seq, seq, 0);
        cycles.put(cycle, active);
        cycleByFirstSeq.put(seq, cycle);
    }

    /** Record {@code seq} ends at byte {@code end} of the active file. */
    void written(long seq, long end) {
        active.lastSeq = seq;
        active.extent = end;
    }

    /** After a failed write turned out to have reached the file: the active file ends at {@code seq}. */
    void resynced(long seq) {
        if (active != null) {
            active.lastSeq = seq;
        }
    }

    /** Bytes counted against the disk budget: metadata, every file's data, files awaiting deletion included. */
    long usedBytes() {
        return metadataBytes + closedBytes + (active == null ? 0 : active.extent);
    }

    /** The first seq still on disk (0 when there is none). */
    long firstSeq() {
        return cycles.isEmpty() ? 0 : cycles.firstEntry().getValue().firstSeq;
    }

    /**
     * Where reading from {@code fromSeq} starts: that seq, or the first one still on disk when it was deleted after
     * release; null when the journal has no files.
     */
    Position locate(long fromSeq, RollCycle rollCycle) {
        if (cycleByFirstSeq.isEmpty()) {
            return null;
        }
        Map.Entry<Long, Integer> e = cycleByFirstSeq.floorEntry(Math.max(fromSeq, 1));
        if (e == null) {
            e = cycleByFirstSeq.firstEntry();
        }
        long seq = Math.max(fromSeq, e.getKey());
        return new Position(seq, rollCycle.toIndex(e.getValue(), seq - e.getKey()));
    }

    /**
     * Takes off the map, oldest first, every file whose records all have {@code seq <= releasedSeq}, stopping at the
     * first file that still holds an unreleased record and never taking the file being written. Their bytes stay
     * counted until {@link #deleted} says they are gone.
     */
    List<Cycle> detachReleased(long releasedSeq) {
        List<Cycle> out = new ArrayList<>();
        Iterator<Cycle> it = cycles.values().iterator();
        while (it.hasNext()) {
            Cycle c = it.next();
            if (c == active || c.lastSeq > releasedSeq) {
                break;
            }
            it.remove();
            cycleByFirstSeq.remove(c.firstSeq);
            out.add(c);
        }
        return out;
    }

    /** Last seq of the oldest file when it is not the one being written; -1 otherwise. */
    long oldestClosedLastSeq() {
        if (cycles.isEmpty()) {
            return -1;
        }
        Cycle c = cycles.firstEntry().getValue();
        return c == active ? -1 : c.lastSeq;
    }

    /** A file {@link #detachReleased} handed out is gone (or given up on): its bytes no longer count. */
    void deleted(Cycle c) {
        closedBytes -= c.extent;
    }
}

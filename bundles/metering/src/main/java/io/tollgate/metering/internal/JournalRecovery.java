package io.tollgate.metering.internal;

import io.tollgate.metering.internal.RecordFormat.PreviousRun;
import io.tollgate.metering.internal.RecordFormat.SealReason;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.TailerDirection;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Start-up: reads what earlier runs left in the journal directory, so the chain can continue from it. Builds the
 * map of journal files (seq range and data extent of each) and finds the chain head (seq and hash of the last
 * complete record), and says how the previous run ended: with a SHUTDOWN seal (clean) or not (docs/usage-records.md,
 * "Start-up and crashes").
 *
 * <p>Threads: runs once, on the thread that opens the journal, before any other journal thread exists.
 */
final class JournalRecovery {
    private static final Logger LOG = LoggerFactory.getLogger(JournalRecovery.class);

    /** What an earlier run left: its files, the chain head ({@code 0} and zero hash for a new journal), how it ended. */
    record Result(JournalFileIndex files, long headSeq, byte[] headHash, PreviousRun previousRun) {
    }

    private JournalRecovery() {
    }

    /**
     * @param dir           the journal directory, for messages
     * @param metadataBytes size of Chronicle's metadata file, counted against the disk budget
     * @throws IOException when the files cannot be continued safely (the message says what to run)
     */
    static Result recover(SingleChronicleQueue queue, Path dir, String deviceId, long metadataBytes)
            throws IOException {
        JournalFileIndex files = new JournalFileIndex(metadataBytes);
        Result fresh = new Result(files, 0, RecordFormat.zeroHash(), PreviousRun.NEW_JOURNAL);
        int first = queue.firstCycle();
        int last = queue.lastCycle();
        if (first == Integer.MAX_VALUE || last < 0) {
            return fresh;
        }
        RollCycle rollCycle = queue.rollCycle();
        try (ExcerptTailer t = queue.createTailer()) {
            for (Long c : queue.listCyclesBetween(first, last)) {
                int cycle = c.intValue();
                long n = t.excerptsInCycle(cycle);
                if (n <= 0) {
                    continue;
                }
                byte[] firstRecord = readAt(t, rollCycle.toIndex(cycle, 0), null);
                File file = t.currentFile();
                long[] extent = new long[1];
                byte[] lastRecord = readAt(t, rollCycle.toIndex(cycle, n - 1), extent);
                long firstSeq = RecordFormat.seqOf(firstRecord);
                long lastSeq = RecordFormat.seqOf(lastRecord);
                if (lastSeq - firstSeq != n - 1) {
                    LOG.error("Journal file {} holds {} records but its seqs run {}..{}; the journal is damaged, "
                            + "run 'tollgate usage verify'", file, n, firstSeq, lastSeq);
                }
                files.addRecovered(new JournalFileIndex.Cycle(cycle, file, firstSeq, lastSeq, extent[0]));
            }
        }
        if (files.isEmpty()) {
            return fresh;
        }
        byte[] tail;
        try (ExcerptTailer back = queue.createTailer().direction(TailerDirection.BACKWARD).toEnd()) {
            try (DocumentContext dc = back.readingDocument()) {
                if (!dc.isPresent()) {
                    throw new IOException("the usage journal in " + dir + " has files but no readable last record; "
                            + "run 'tollgate usage verify'");
                }
                tail = dc.wire().bytes().toByteArray();
            }
        }
        RecordFormat.Decoded d;
        try {
            d = RecordFormat.decode(tail);
        } catch (IllegalArgumentException e) {
            throw new IOException("the last record of the usage journal in " + dir + " cannot be decoded ("
                    + e.getMessage() + "); the chain cannot be continued safely: run 'tollgate usage verify' and "
                    + "move the damaged journal away", e);
        }
        long headSeq = d.seq();
        if (headSeq != files.active().lastSeq) {
            throw new IOException("the usage journal in " + dir + " ends at seq " + headSeq + " but its last file's "
                    + "index ends at seq " + files.active().lastSeq + "; run 'tollgate usage verify'");
        }
        if (!d.deviceId().equals(deviceId)) {
            LOG.warn("The usage journal was written by device '{}' and continues as device '{}' (from seq {}); "
                    + "the cloud will see the change", d.deviceId(), deviceId, headSeq + 1);
        }
        boolean clean = d.kind() == RecordFormat.KIND_SEAL && d.statement().reason() == SealReason.SHUTDOWN;
        if (!clean) {
            LOG.warn("The usage journal did not end with a shutdown seal (last record seq {}): the previous run "
                    + "stopped without closing it; continuing the chain", headSeq);
        }
        return new Result(files, headSeq, d.hash(), clean ? PreviousRun.CLEAN_SHUTDOWN : PreviousRun.UNCLEAN_SHUTDOWN);
    }

    /** The record at {@code index}; when {@code endOffset} is given, the offset after it goes into its first slot. */
    private static byte[] readAt(ExcerptTailer t, long index, long[] endOffset) throws IOException {
        if (!t.moveToIndex(index)) {
            throw new IOException("journal index " + Long.toHexString(index) + " is missing");
        }
        try (DocumentContext dc = t.readingDocument()) {
            if (!dc.isPresent()) {
                throw new IOException("journal index " + Long.toHexString(index) + " has no record");
            }
            Bytes<?> b = dc.wire().bytes();
            if (endOffset != null) {
                endOffset[0] = b.readLimit();
            }
            return b.toByteArray();
        }
    }
}

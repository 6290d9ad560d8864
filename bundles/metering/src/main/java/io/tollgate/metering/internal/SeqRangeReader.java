package io.tollgate.metering.internal;

import io.tollgate.metering.MeteringException;
import io.tollgate.metering.MeteringException.Reason;
import io.tollgate.metering.UsageRecord;
import java.util.ArrayList;
import java.util.List;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;

/**
 * Reads records of the open journal by seq ({@code UsageJournal.readFrom}), checking that each one read is the seq
 * expected; for the sync bundle, which ships them.
 *
 * <p>Threads: any thread (the sync sender, status callers), concurrently with appends. It takes the chain lock only
 * to learn where to start and where the head is; reading happens on a tailer of its own, outside the lock.
 */
final class SeqRangeReader {
    private final ChainWriter chain;
    private final SingleChronicleQueue queue;

    SeqRangeReader(ChainWriter chain, SingleChronicleQueue queue) {
        this.chain = chain;
        this.queue = queue;
    }

    List<UsageRecord> read(long fromSeq, int max) throws MeteringException {
        ChainWriter.ReadRange range = chain.readRange(fromSeq, max);
        if (range == null) {
            return List.of();
        }
        long expected = range.firstSeq();
        long index = range.index();
        long upTo = range.lastSeq();
        List<UsageRecord> out = new ArrayList<>((int) Math.min(max, upTo - expected + 1));
        try (ExcerptTailer t = queue.createTailer()) {
            if (!t.moveToIndex(index)) {
                throw new MeteringException(Reason.IO_FAILURE, "usage record seq " + expected + " is not at journal "
                        + "index " + Long.toHexString(index) + "; run 'tollgate usage verify'");
            }
            while (out.size() < max && expected <= upTo) {
                try (DocumentContext dc = t.readingDocument()) {
                    if (!dc.isPresent()) {
                        break;
                    }
                    byte[] bytes = dc.wire().bytes().toByteArray();
                    RecordFormat.Decoded d = RecordFormat.decode(bytes);
                    if (d.seq() != expected) {
                        throw new MeteringException(Reason.IO_FAILURE, "usage journal out of step: expected seq "
                                + expected + " but read seq " + d.seq() + "; run 'tollgate usage verify'");
                    }
                    out.add(new UsageRecord(d.seq(), d.recordKind(), d.wallTimeNanos(), bytes));
                    expected++;
                }
            }
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new MeteringException(Reason.IO_FAILURE, "reading usage record seq " + expected + " failed: "
                    + e.getMessage(), e);
        }
        return out;
    }
}

package io.tollgate.sync.internal;

import io.tollgate.metering.MeteringException;
import io.tollgate.metering.UsageJournal;
import io.tollgate.metering.UsageRecord;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the next records from the journal and encodes them into one batch payload (docs/sync-protocol.md, "Batch"):
 * up to {@code max.records}, halved until the body fits its 256 KiB limit; a single record over the limit is sent
 * alone anyway (it cannot be split; the cloud decides what to do with it).
 *
 * <p>Threads: the sender thread only (the encoder is not thread-safe).
 */
final class BatchAssembler {
    private static final Logger LOG = LoggerFactory.getLogger(BatchAssembler.class);

    /** Records {@code firstSeq .. firstSeq + records - 1}, encoded. */
    record Batch(long firstSeq, int records, byte[] payload) {
        long lastSeq() {
            return firstSeq + records - 1;
        }
    }

    private final UsageJournal journal;
    private final int maxRecords;
    private final BatchEncoder encoder;

    BatchAssembler(UsageJournal journal, UplinkOptions o) {
        this.journal = journal;
        this.maxRecords = o.maxRecords();
        this.encoder = new BatchEncoder(o.encoding());
    }

    /** The batch starting at {@code fromSeq} (or the first record still in the journal); null when none is there. */
    Batch next(long fromSeq) throws MeteringException {
        List<UsageRecord> records = journal.readFrom(fromSeq, maxRecords);
        if (records.isEmpty()) {
            return null;
        }
        byte[] payload = encoder.encode(records);
        while (payload == null && records.size() > 1) {
            records = records.subList(0, records.size() / 2);
            payload = encoder.encode(records);
        }
        if (payload == null) {
            payload = encoder.encodeUnbounded(records);
            LOG.warn("Usage record seq {} alone exceeds the batch body limit of {} bytes; sending it anyway",
                    records.get(0).seq(), BatchEncoder.MAX_BODY_BYTES);
        }
        return new Batch(records.get(0).seq(), records.size(), payload);
    }
}

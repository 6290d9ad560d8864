package io.tollgate.sync.internal;

import io.tollgate.metering.MeteringException;
import io.tollgate.metering.UsageJournal;
import io.tollgate.metering.UsageRecord;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the next records from the journal and encodes them into one batch payload (docs/sync-protocol.md, "Batch"):
 * up to {@code max.records}, fewer until the body fits its 256 KiB limit and the whole payload fits the broker's
 * maximum packet size (CONNACK). A single record over the protocol's body limit is sent alone anyway (the cloud
 * decides); a single record over the broker's packet limit is not sent at all — the broker would only drop the
 * connection again (issue 8) — and the batch says so ({@link Batch#tooLarge}).
 *
 * <p>Threads: the sender thread only (the encoder is not thread-safe).
 */
final class BatchAssembler {
    private static final Logger LOG = LoggerFactory.getLogger(BatchAssembler.class);

    /**
     * Records {@code firstSeq .. firstSeq + records - 1}, encoded; {@code payload} null when the one record at
     * {@code firstSeq} cannot fit the broker's limit ({@code bytes} is then its payload size, else the payload's).
     *
     * @param split true when the broker's limit made this batch hold fewer records than were ready
     */
    record Batch(long firstSeq, int records, byte[] payload, int bytes, boolean split) {
        Batch(long firstSeq, int records, byte[] payload) {
            this(firstSeq, records, payload, payload.length, false);
        }

        long lastSeq() {
            return firstSeq + records - 1;
        }

        boolean tooLarge() {
            return payload == null;
        }
    }

    private final UsageJournal journal;
    private final int maxRecords;
    private final BatchEncoder encoder;
    /** Records in the last batch the broker's limit cut short (0: none); the next read asks for twice that. */
    private int fitHint;

    BatchAssembler(UsageJournal journal, UplinkOptions o) {
        this.journal = journal;
        this.maxRecords = o.maxRecords();
        this.encoder = new BatchEncoder(o.encoding());
    }

    /** The batch starting at {@code fromSeq} (or the first record still in the journal); null when none is there. */
    Batch next(long fromSeq) throws MeteringException {
        return next(fromSeq, Integer.MAX_VALUE);
    }

    /**
     * The batch starting at {@code fromSeq} whose payload is at most {@code maxPayloadBytes}; null when no record is
     * there.
     */
    Batch next(long fromSeq, int maxPayloadBytes) throws MeteringException {
        boolean limited = maxPayloadBytes != Integer.MAX_VALUE;
        // under a small broker limit, do not read and encode max.records to send a few dozen of them
        int want = limited && fitHint > 0 ? (int) Math.min(maxRecords, 2L * fitHint) : maxRecords;
        List<UsageRecord> records = journal.readFrom(fromSeq, want);
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
        boolean split = false;
        while (payload.length > maxPayloadBytes && records.size() > 1) {
            // scale by the overshoot (compression is not linear, so aim 10 % low), at least one record fewer
            int n = records.size();
            int fit = (int) Math.min(n - 1, Math.max(1, (long) n * maxPayloadBytes / payload.length * 9 / 10));
            records = records.subList(0, fit);
            payload = encoder.encodeUnbounded(records);
            split = true;
        }
        if (payload.length > maxPayloadBytes) {
            fitHint = 0;
            return new Batch(records.get(0).seq(), 1, null, payload.length, false);
        }
        fitHint = split || (limited && want < maxRecords) ? records.size() : 0;
        return new Batch(records.get(0).seq(), records.size(), payload, payload.length, fitHint > 0);
    }
}

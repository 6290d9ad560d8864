package io.tollgate.metering.internal;

/** When journal writes are forced to disk (see docs/usage-records.md, "Durability"). */
public enum JournalSync {
    /** Never: records are in the page cache when append returns; a killed JVM loses nothing, a power cut may. */
    NONE,
    /** The sealer thread forces the journal file to disk after each seal, off the request path. */
    BATCH,
    /** Every append msyncs its record before returning. */
    EVERY_RECORD;

    static JournalSync parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("sync.mode '" + s + "' is not one of NONE, BATCH, EVERY_RECORD");
        }
    }
}

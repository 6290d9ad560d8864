package io.tollgate.sync.files;

import io.tollgate.sync.internal.AckedSeqFile;
import io.tollgate.sync.internal.UplinkNoteFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The sync state in {@code DIR/sync}, read-only: the ack cursor the uplink persists (the highest seq the cloud
 * acknowledged). Safe while the appliance runs: the uplink replaces the file atomically.
 */
public final class SyncStateFiles {
    private final AckedSeqFile cursor;
    private final UplinkNoteFile note;

    private SyncStateFiles(Path dataDir) {
        this.cursor = new AckedSeqFile(dataDir.resolve("sync"));
        this.note = new UplinkNoteFile(dataDir.resolve("sync"));
    }

    /** The sync state of the appliance whose data directory is {@code dataDir}. */
    public static SyncStateFiles of(Path dataDir) {
        return new SyncStateFiles(dataDir);
    }

    /** {@code DIR/sync/acked-seq}. */
    public Path cursorFile() {
        return cursor.path();
    }

    /** Whether the cursor file exists (it does once the cloud acknowledged a first batch). */
    public boolean hasCursor() {
        return Files.exists(cursor.path());
    }

    /**
     * The highest seq the cloud acknowledged; 0 when nothing was acknowledged yet.
     *
     * @throws IOException when the file cannot be read or holds no seq (the message says how to recover)
     */
    public long ackedSeq() throws IOException {
        return cursor.read();
    }

    /**
     * Why the uplink last could not send as configured (e.g. the broker's maximum packet size), as the running or
     * last run of the appliance wrote it to {@code DIR/sync/uplink-note}; "" when there is nothing to say.
     *
     * @since 1.1
     */
    public String uplinkNote() throws IOException {
        return note.read();
    }
}

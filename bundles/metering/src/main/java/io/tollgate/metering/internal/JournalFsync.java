package io.tollgate.metering.internal;

import java.io.File;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Forces the journal files written since its last call to disk (sync mode BATCH after each seal, and every mode at
 * clean shutdown): the file being written and, after a roll, the one before it.
 *
 * <p>Threads: the sealer thread, then the closing thread once the sealer has stopped; never two at once. It takes
 * no lock: an fsync can take milliseconds.
 */
final class JournalFsync {
    private static final Logger LOG = LoggerFactory.getLogger(JournalFsync.class);

    private final Supplier<File> lastWritten;
    private File lastForced;

    /** @param lastWritten the file the last record went to (read without a lock) */
    JournalFsync(Supplier<File> lastWritten) {
        this.lastWritten = lastWritten;
    }

    void force() {
        File current = lastWritten.get();
        if (current == null) {
            return;
        }
        try {
            if (lastForced != null && !lastForced.equals(current) && lastForced.exists()) {
                force(lastForced);
            }
            force(current);
            lastForced = current;
        } catch (IOException e) {
            LOG.error("Forcing the usage journal {} to disk failed: records since the last sync may not survive "
                    + "a power cut", current, e);
        }
    }

    private static void force(File f) throws IOException {
        try (FileChannel ch = FileChannel.open(f.toPath(), StandardOpenOption.WRITE)) {
            ch.force(false);
        }
    }
}

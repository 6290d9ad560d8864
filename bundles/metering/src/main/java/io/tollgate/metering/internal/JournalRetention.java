package io.tollgate.metering.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Retention: deletes the journal files whose records the cloud has all acknowledged, oldest first, never the file
 * being written and never one after the first file that still holds an unreleased record (docs/usage-records.md,
 * "Disk budget and retention"). A task of its own, like Kura's {@code HouseKeeperTask}: {@link #run} never throws,
 * and it is not a side effect of the write path.
 *
 * <p>Threads: runs on the thread that released records, i.e. the sync bundle's sender thread calling
 * {@code UsageJournal.releaseUpTo}; never on a request thread. It holds the chain lock twice, each time for O(1)
 * bookkeeping: to take the released files off the map, and after the deletions to give their bytes back to the
 * disk budget. Deleting files (milliseconds per file on a slow or busy disk) and refreshing Chronicle's directory
 * listing happen with no lock held, so appending threads never wait for them (docs/decisions.md, 2026-11-30
 * "Retention deletes files off the append lock"). Concurrent runs are safe: each takes a disjoint set of files.
 */
final class JournalRetention implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(JournalRetention.class);

    /** Deletes one journal file; tests replace it to hold a deletion open. */
    @FunctionalInterface
    interface Deleter {
        void delete(Path file) throws IOException;
    }

    /** What production uses. */
    static final Deleter DELETE_FILE = Files::deleteIfExists;

    private final ChainWriter chain;
    private final SingleChronicleQueue queue;
    private final Deleter deleter;

    JournalRetention(ChainWriter chain, SingleChronicleQueue queue, Deleter deleter) {
        this.chain = chain;
        this.queue = queue;
        this.deleter = deleter;
    }

    /** Deletes every file that the released seq lets go. */
    @Override
    public void run() {
        try {
            List<JournalFileIndex.Cycle> released = chain.detachReleasedFiles();
            if (released.isEmpty()) {
                return;
            }
            try {
                for (JournalFileIndex.Cycle c : released) {
                    delete(c);
                }
                refreshDirectoryListing();
            } finally {
                // Counted until here: the space was in use until the deletion (or given up on, see delete).
                chain.filesDeleted(released);
            }
        } catch (RuntimeException e) {
            LOG.error("Usage journal retention failed; released files may stay on disk until the next release", e);
        }
    }

    private void delete(JournalFileIndex.Cycle c) {
        try {
            deleter.delete(c.file.toPath());
            LOG.info("Deleted released usage journal file {}", c.file);
        } catch (IOException | RuntimeException e) {
            LOG.error("Could not delete released usage journal file {}; delete it by hand", c.file, e);
        }
    }

    /** Lets Chronicle forget the deleted cycles; its listing update is lock-free and safe beside the appender. */
    private void refreshDirectoryListing() {
        try {
            queue.refreshDirectoryListing();
        } catch (IllegalStateException e) {
            LOG.debug("Not refreshing the journal's directory listing: {}", e.toString()); // closed meanwhile
        }
    }
}

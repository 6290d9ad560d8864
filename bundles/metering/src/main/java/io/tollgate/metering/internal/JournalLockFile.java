package io.tollgate.metering.internal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One writer per journal directory: an exclusive OS lock on {@code journal.lock}. A second appender (another
 * appliance process on the same data directory) would fork the hash chain. The OS drops the lock when a process
 * dies, so a crash does not block the restart.
 *
 * <p>Threads: taken by the thread that opens the journal, released by the one that closes it (or by the opener when
 * opening fails). Never touched in between.
 */
final class JournalLockFile {
    private static final Logger LOG = LoggerFactory.getLogger(JournalLockFile.class);
    /** Held exclusively while a journal is open for writing. */
    static final String NAME = "journal.lock";

    private final FileLock lock;

    private JournalLockFile(FileLock lock) {
        this.lock = lock;
    }

    /** Takes the lock on {@code dir}, or fails at once saying that another writer holds it. */
    static JournalLockFile acquire(Path dir) throws IOException {
        FileChannel ch = FileChannel.open(dir.resolve(NAME), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        if (lock == null) {
            ch.close();
            throw new IOException("another usage journal is open for writing in " + dir + " (this or another "
                    + "process holds " + NAME + "); one appliance per data directory");
        }
        return new JournalLockFile(lock);
    }

    void release() {
        try {
            lock.release();
            lock.channel().close();
        } catch (IOException e) {
            LOG.warn("Releasing the usage journal lock failed", e);
        }
    }
}

package io.tollgate.endpoint.internal;

import io.tollgate.endpoint.keys.ApiKeyFile;
import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the endpoint's {@link KeySet} in step with the key file, without a restart: the file is read once at start
 * and again whenever its identity, size or modification time changes (a poll every {@code keys.poll.ms} on a thread
 * of its own, {@code tollgate-endpoint-keys}: file I/O never runs on an event loop). The tools replace the file by
 * a rename, so each change is a new inode and a half-written file is never seen.
 *
 * <ul>
 * <li>no file: {@link KeySet#NONE} (protected mode);</li>
 * <li>a file that cannot be read, is not a valid key file, or may be written by group or others (whoever can write
 * it can make keys): logged at ERROR once per change; the last good set stays in force, or, when there is none
 * yet, {@link KeySet#unreadable} (every request but health refused) until the file is fixed.</li>
 * </ul>
 * Threads: the poller writes {@link #current}, event loops read it (a volatile reference to an immutable set).
 */
final class KeyFileWatcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KeyFileWatcher.class);
    private static final String PROTECTED_MODE = ": protected mode, only clients on this box (loopback) are served; "
            + "remote clients get 403 until a key is added with bin/tollgate keys add";
    private static final boolean POSIX = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");

    /** What identifies one version of the file. */
    private record Stamp(Object fileKey, long size, long modified, Object permissions) {
        static final Stamp ABSENT = new Stamp(null, -1, -1, null);
    }

    private final ApiKeyFile file;
    private final ScheduledExecutorService poller;
    private volatile KeySet current;
    private Stamp stamp;

    /** Reads the file now; polls it every {@code pollMs} from then on (never when {@code pollMs} is 0: tests). */
    KeyFileWatcher(Path path, long pollMs) {
        this.file = ApiKeyFile.at(path);
        this.current = null;
        poll();
        if (pollMs > 0) {
            poller = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "tollgate-endpoint-keys");
                t.setDaemon(true);
                return t;
            });
            poller.scheduleWithFixedDelay(this::pollQuietly, pollMs, pollMs, TimeUnit.MILLISECONDS);
        } else {
            poller = null;
        }
    }

    /** The key set in force. */
    KeySet current() {
        return current;
    }

    Path path() {
        return file.path();
    }

    private void pollQuietly() {
        try {
            poll();
        } catch (RuntimeException e) {
            LOG.error("checking the API key file {} failed; the keys in force stay", file.path(), e);
        }
    }

    /** Reads the file again when it changed; for the poller and for tests. */
    synchronized void poll() {
        Stamp now = stamp();
        if (Objects.equals(now, stamp)) {
            return;
        }
        stamp = now;
        if (now == Stamp.ABSENT) {
            publish(KeySet.NONE, "no API key file at " + file.path() + PROTECTED_MODE);
            return;
        }
        try {
            checkPermissions();
            KeySet next = KeySet.of(file.read());
            publish(next, next.protectedMode() ? "no API key in " + file.path() + PROTECTED_MODE
                    : "API keys from " + file.path() + ": " + next.describe());
        } catch (IOException | RuntimeException e) {
            String problem = e.getMessage();
            if (current == null || current.problem() != null) {
                current = KeySet.unreadable(problem);
                LOG.error("API keys NOT loaded: {}; every request except /v2/health is refused with 503 until the file "
                        + "is fixed (bin/tollgate keys list shows the problem)", problem);
            } else {
                LOG.error("API keys NOT reloaded: {}; the {} read before stay in force until the file is fixed",
                        problem, current.protectedMode() ? "absence of keys" : "keys");
            }
        }
    }

    private void publish(KeySet next, String message) {
        boolean first = current == null;
        current = next;
        if (first) {
            LOG.info(message);
        } else {
            LOG.info("reloaded: {}", message);
        }
    }

    private Stamp stamp() {
        try {
            if (POSIX) {
                // permissions too: a chmod 600 changes neither the content nor the modification time
                PosixFileAttributes a = Files.readAttributes(file.path(), PosixFileAttributes.class);
                return new Stamp(a.fileKey(), a.size(), a.lastModifiedTime().toMillis(), a.permissions());
            }
            BasicFileAttributes a = Files.readAttributes(file.path(), BasicFileAttributes.class);
            return new Stamp(a.fileKey(), a.size(), a.lastModifiedTime().toMillis(), null);
        } catch (NoSuchFileException e) {
            return Stamp.ABSENT;
        } catch (IOException e) {
            // attributes unreadable: read the file anyway (once per distinct error), reporting what the read says
            return new Stamp(e.toString(), -2, -2, null);
        }
    }

    private void checkPermissions() throws IOException {
        if (!POSIX || !Files.isRegularFile(file.path())) {
            return; // a FIFO or device (a link to /dev/zero is rw-rw-rw-): the read refuses it for what it is
        }
        Set<PosixFilePermission> p = Files.getPosixFilePermissions(file.path());
        if (p.contains(PosixFilePermission.GROUP_WRITE) || p.contains(PosixFilePermission.OTHERS_WRITE)) {
            throw new IOException(file.path() + " may be written by group or others (" + PosixFilePermissions.toString(p)
                    + "), so anyone could add a key; chmod 600 " + file.path());
        }
        if (p.contains(PosixFilePermission.GROUP_READ) || p.contains(PosixFilePermission.OTHERS_READ)) {
            LOG.warn("{} may be read by group or others ({}); it holds only hashes, but chmod 600 keeps tenants and "
                    + "roles private", file.path(), PosixFilePermissions.toString(p));
        }
    }

    @Override
    public void close() {
        if (poller != null) {
            poller.shutdownNow();
        }
    }
}

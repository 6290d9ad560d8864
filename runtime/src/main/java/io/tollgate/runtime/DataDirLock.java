package io.tollgate.runtime;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The data folder belongs to one appliance at a time: {@code DATA/tollgate.lock}, locked (an OS file lock, released
 * by the OS when the process ends, even after kill -9) for the life of the process and holding its pid. A second
 * {@code run} on the same folder would open the same journal, cursor and framework cache; it stops before anything
 * else with the first one's pid.
 *
 * <p>Threads: taken once by the launcher's thread; the lock lives until the JVM exits.
 */
final class DataDirLock {
    static final String FILE = "tollgate.lock";

    private final FileChannel channel;
    private final FileLock lock;

    private DataDirLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the lock of {@code data} (which exists) and writes this process's pid into it.
     *
     * @throws StartFailure ({@link StartFailure#DATA_IN_USE}) when another process holds it
     */
    static DataDirLock take(Path data) throws IOException, StartFailure {
        Path file = data.resolve(FILE);
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        FileLock l;
        try {
            l = ch.tryLock();
        } catch (java.nio.channels.OverlappingFileLockException thisJvm) {
            l = null;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        if (l == null) {
            ch.close();
            String pid = holder(file);
            throw new StartFailure(StartFailure.DATA_IN_USE, "data directory " + data + " in use by pid " + pid
                    + " (another Tollgate); stop it first, or give this one its own folder with --data DIR");
        }
        ch.truncate(0);
        ch.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
        ch.force(false);
        return new DataDirLock(ch, l);
    }

    private static String holder(Path file) {
        try {
            String pid = Files.readString(file, StandardCharsets.US_ASCII).trim();
            return pid.isEmpty() ? "(unknown)" : pid;
        } catch (IOException e) {
            return "(unknown)";
        }
    }

    /** Releases the lock (tests; the appliance keeps it until it exits). */
    void release() throws IOException {
        lock.release();
        channel.close();
    }
}

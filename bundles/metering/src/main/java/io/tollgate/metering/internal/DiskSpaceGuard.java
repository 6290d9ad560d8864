package io.tollgate.metering.internal;

import io.tollgate.metering.MeteringException;
import io.tollgate.metering.MeteringException.Reason;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refuses new usage records while the file system under the journal has less free space than {@code
 * disk.reserve.bytes}, and accepts them again once it has (docs/decisions.md, 2026-11-30 "Full disk and
 * budget recovery"). The journal's files are memory-mapped: a write to a page the file system cannot back is not an
 * {@code ENOSPC} but a SIGBUS, which the JVM turns into an asynchronous {@link InternalError} that can surface
 * outside any try block and kill the thread. So the check has to come before the write, with a reserve that covers
 * what the journal may touch until the next poll: the pretoucher's 1 MiB ahead, a new cycle file's index area
 * (about 200 KiB) and the records written in one poll interval.
 *
 * <p>Threads: {@link #poll} runs on the journal's {@code tollgate-usage-disk} thread every {@link #POLL_MILLIS} ms
 * and, before a write that opens a new cycle file, on the appending thread under the chain lock (one statfs, a few
 * microseconds). {@link #check}, {@link #refusal} and {@link #freeBytes} read volatile fields only: they are what
 * appending threads and the readiness check call.
 */
final class DiskSpaceGuard {
    private static final Logger LOG = LoggerFactory.getLogger(DiskSpaceGuard.class);
    /** How often free space is polled; also the time service takes to resume once space is freed. */
    static final long POLL_MILLIS = 250;

    /** Free bytes for an unprivileged writer on the journal's file system; tests replace it. */
    @FunctionalInterface
    interface FreeSpace {
        long usableBytes() throws IOException;
    }

    private final Path dir;
    private final long reserveBytes;
    private final FreeSpace free;
    /** Null while there is room; else the reason appends are refused. */
    private volatile String refusal;
    private volatile long freeBytes = -1;
    private boolean pollFailedLogged;

    DiskSpaceGuard(Path dir, long reserveBytes, FreeSpace free) {
        this.dir = dir;
        this.reserveBytes = reserveBytes;
        this.free = free;
    }

    /** The file store of {@code dir}, asked each time (the store itself may be remounted). */
    static FreeSpace fileStoreOf(Path dir) {
        return () -> Files.getFileStore(dir).getUsableSpace();
    }

    long reserveBytes() {
        return reserveBytes;
    }

    /** Free bytes at the last poll (-1 before the first one or when it failed). */
    long freeBytes() {
        return freeBytes;
    }

    /** The reason appends are refused, or null. */
    String refusal() {
        return refusal;
    }

    /** Reads the free space now and updates the refusal; never throws. Returns true when appends are accepted. */
    synchronized boolean poll() {
        long f;
        try {
            f = free.usableBytes();
        } catch (IOException | RuntimeException e) {
            // Not knowing is no reason to stop serving: keep the last state and say so once.
            if (!pollFailedLogged) {
                pollFailedLogged = true;
                LOG.warn("Cannot read the free space of the usage journal's file system {}: {}", dir, e.toString());
            }
            freeBytes = -1;
            return refusal == null;
        }
        pollFailedLogged = false;
        freeBytes = f;
        if (f < reserveBytes) {
            if (refusal == null) {
                LOG.error("Disk full under the usage journal: {} has {} bytes free, the journal needs {} "
                        + "(disk.reserve.bytes); refusing new usage records until space is freed", dir, f,
                        reserveBytes);
            }
            refusal = "disk full on " + dir + " (" + f + " bytes free, needs " + reserveBytes + "); free space on "
                    + "that file system (the usage journal resumes by itself)";
            return false;
        }
        if (refusal != null) {
            refusal = null;
            LOG.info("Free space under the usage journal again ({} bytes free on {}, reserve {}): accepting usage "
                    + "records", f, dir, reserveBytes);
        }
        return true;
    }

    /** Refuses while the last poll found less than the reserve free. */
    void check() throws MeteringException {
        String r = refusal;
        if (r != null) {
            throw new MeteringException(Reason.DISK_FULL, r);
        }
    }
}

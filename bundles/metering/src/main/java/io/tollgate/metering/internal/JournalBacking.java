package io.tollgate.metering.internal;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Makes the file system back the pages of a journal file before Chronicle writes them through its memory mapping, so
 * that a full disk is an {@link IOException} here ({@code ENOSPC} from a plain {@code pwrite}) and never a SIGBUS there.
 * A journal file is sparse: a page is given disk space (tmpfs: memory) on its first write, and when the file system has
 * none left, a write through the mapping is a SIGBUS. The JVM turns that into an asynchronous {@link InternalError}
 * thrown at some later instruction of the thread (possibly after it took the chain lock and before it released it) or,
 * when the faulting access ran inside the VM (an interpreted {@code Unsafe.compareAndSetLong}), crashes the process:
 * both were seen on a tmpfs that another writer filled (issue 11 note, 2026-12-02; {@code DiskFullTest}). The free-space
 * poll ({@link DiskSpaceGuard}) cannot close that window: another writer can fill the disk between two polls.
 *
 * <p>How: a page that reads as all zeros may be a hole; writing the same zeros back through a {@link FileChannel}
 * allocates it, or fails with {@code ENOSPC}. A page holding any other byte is allocated already and is left alone.
 * Writing back what was read is only safe while nobody writes the page meanwhile: every write to a journal data file
 * (Chronicle's appender) runs under the chain lock, and so does every call here; the pretoucher's compare-and-swap of 0
 * with 0 stores what is already there. Pages are backed ahead of the last record ({@link #ensure}); the first time a
 * file is seen, also its first {@value #HEAD_BYTES} bytes, where Chronicle keeps the header and the index-to-index
 * array whose later entries land on pages never written before (a 1-second test journal showed holes at 4-32 KiB and
 * 36-64 KiB of a new cycle file). {@link #backWholeFile} does the same for {@code metadata.cq4t} while nothing else
 * uses it (before the appender exists).
 *
 * <p>What stays open: Chronicle's own writes when it creates the next cycle file (its header, before this class sees
 * the file) rely on the free-space poll made just before them, under the chain lock.
 *
 * <p>Threads: not thread-safe; every call under the chain lock ({@link ChainWriter}).
 */
final class JournalBacking implements AutoCloseable {
    static final int PAGE = 4096;
    /** The start of a file that is backed when the file is first seen: header, index-to-index and first index array. */
    static final long HEAD_BYTES = 1 << 20;
    private static final int STEP = 64 * 1024;
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(STEP);

    private final ByteBuffer read = ByteBuffer.allocateDirect(STEP);
    private File file;
    private FileChannel channel;
    /** Pages of {@link #file} below this offset are backed (from the tail page on; see the class comment). */
    private long backedUpTo;

    /**
     * Offset below which the pages of {@code f} after its last record are backed; 0 for a file not seen yet.
     */
    long backedUpTo(File f) {
        return f == file || f.equals(file) ? backedUpTo : 0;
    }

    /**
     * Backs the pages of {@code f} from the one holding {@code tail} up to {@code upTo} (bytes, file offsets), and its
     * first {@value #HEAD_BYTES} bytes (at most up to {@code tail}) when {@code f} is a file not seen before.
     *
     * @throws IOException when the file system has no room for them ({@code No space left on device}) or the file
     *                     cannot be opened or written; the pages backed before the failure stay backed
     */
    void ensure(File f, long tail, long upTo) throws IOException {
        long to = (upTo + PAGE - 1) & -PAGE;
        if (f != file && !f.equals(file)) {
            close();
            channel = FileChannel.open(f.toPath(), StandardOpenOption.READ, StandardOpenOption.WRITE);
            file = f;
            backedUpTo = 0;
            backZeroPages(channel, read, 0, Math.min(tail, HEAD_BYTES), true);
            // the first time, the pages after the tail are read too: a run that crashed may have left bytes there
            backZeroPages(channel, read, tail & -PAGE, to, true);
            backedUpTo = Math.max(to, (tail + PAGE - 1) & -PAGE);
        } else if (to > backedUpTo) {
            // past what was backed before nothing has been written (the appender stays below it): plain zeros
            backZeroPages(channel, read, backedUpTo, to, false);
            backedUpTo = to;
        }
    }

    /** Backs every page of {@code f} that reads as zeros; only while nothing else writes {@code f}. */
    static void backWholeFile(Path f) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            backZeroPages(ch, ByteBuffer.allocateDirect(STEP), 0, ch.size(), true);
        }
    }

    /**
     * Writes zeros over each page of [{@code from}, {@code to}) (page-aligned outward) that reads as zeros, or lies past
     * the end of the file (the file grows to {@code to}); with {@code check} false, over every page (known to be
     * zeros: no read).
     */
    private static void backZeroPages(FileChannel ch, ByteBuffer buf, long from, long to, boolean check)
            throws IOException {
        long pos = from & -PAGE;
        while (pos < to) {
            int len = (int) Math.min(STEP, ((to + PAGE - 1) & -PAGE) - pos);
            if (!check) {
                ByteBuffer z = ZEROS.duplicate().limit(len);
                while (z.hasRemaining()) {
                    ch.write(z, pos + len - z.remaining());
                }
                pos += len;
                continue;
            }
            buf.clear().limit(len);
            int n = 0;
            while (n < len) {
                int r = ch.read(buf, pos + n);
                if (r < 0) {
                    break;
                }
                n += r;
            }
            while (buf.position() < len) {
                buf.put((byte) 0);   // past the end of the file: zeros, written below
            }
            for (int page = 0; page < len; page += PAGE) {
                ByteBuffer p = buf.duplicate().position(page).limit(page + PAGE);
                if (p.mismatch(ZEROS.duplicate().limit(PAGE)) == -1) {
                    ByteBuffer z = ZEROS.duplicate().limit(PAGE);
                    while (z.hasRemaining()) {
                        ch.write(z, pos + page + PAGE - z.remaining());
                    }
                }
            }
            pos += len;
        }
    }

    @Override
    public void close() throws IOException {
        FileChannel c = channel;
        channel = null;
        file = null;
        backedUpTo = 0;
        if (c != null) {
            c.close();
        }
    }
}

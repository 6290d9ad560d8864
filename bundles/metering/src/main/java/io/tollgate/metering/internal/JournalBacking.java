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
 * with 0 stores what is already there. The first time a file is seen (a new hourly file, or the last one at start),
 * all of it up to the tail is read and its zero pages are backed too: Chronicle's header and its index-to-index and
 * index arrays are reserved as holes and filled entry by entry later (a new cycle file showed holes at 4-32 KiB and
 * 36-64 KiB). {@link #backWholeFile} does the same for {@code metadata.cq4t} while nothing else uses it (before the
 * appender exists).
 *
 * <p>What stays open: the write that starts a new cycle file (Chronicle's header and index arrays, and that record,
 * before this class can see the file) relies on the free-space poll made just before it, under the chain lock.
 * Copy-on-write file systems and ZFS with compression (which stores zero blocks as holes) do not reserve space for
 * written zeros: there the reserve ({@code disk.reserve.bytes}) is the only protection.
 *
 * <p>Threads: not thread-safe; every call under the chain lock ({@link ChainWriter}).
 */
final class JournalBacking implements AutoCloseable {
    static final int PAGE = 4096;
    private static final int STEP = 64 * 1024;
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(STEP);

    private final ByteBuffer read = ByteBuffer.allocateDirect(STEP);
    private File file;
    private FileChannel channel;
    /** Pages of {@link #file} below this offset are backed. */
    private long backedUpTo;

    /**
     * Offset below which the pages of {@code f} after its last record are backed; 0 for a file not seen yet.
     */
    long backedUpTo(File f) {
        return f == file || f.equals(file) ? backedUpTo : 0;
    }

    /**
     * Backs the pages of {@code f} up to {@code upTo} (bytes, file offsets; {@code tail} is the offset after its last
     * record). The first time {@code f} is seen, every page up to there is read and the ones that read as zeros are
     * written back (the header's and index arrays' holes below the tail, in a file a run before this one wrote or whose
     * zeros a power cut lost, and whatever a run that crashed left after it); later calls write zeros past what was
     * backed before, where nothing has been written (the appender stays below it).
     *
     * @throws IOException when the file system has no room for them ({@code No space left on device}) or the file
     *                     cannot be opened or written; what was backed before stays so, and a file seen for the first
     *                     time is read again at the next call
     */
    void ensure(File f, long tail, long upTo) throws IOException {
        long to = (upTo + PAGE - 1) & -PAGE;
        long written = (tail + PAGE - 1) & -PAGE;
        if (f == file || f.equals(file)) {
            if (to > backedUpTo) {
                if (backedUpTo < written) {   // never expected (appends stay below what is backed): read first
                    backZeroPages(channel, read, backedUpTo, written, true);
                    backedUpTo = written;
                }
                backZeroPages(channel, read, backedUpTo, to, false);
                backedUpTo = to;
            }
            return;
        }
        close();
        FileChannel c = FileChannel.open(f.toPath(), StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            backZeroPages(c, read, 0, Math.max(to, written), true);
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
        channel = c;
        file = f;
        backedUpTo = Math.max(to, written);
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

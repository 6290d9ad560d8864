package io.tollgate.metering.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.Assume;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.RuleChain;
import org.junit.rules.TemporaryFolder;

/**
 * {@link JournalBacking} on real files: holes get disk space, bytes already written stay as they are, and a full file
 * system is an {@link IOException} (the write through the mapping that would follow would be a SIGBUS).
 */
public class JournalBackingTest {
    private static final int KIB = 1024;

    public TemporaryFolder tmp = new TemporaryFolder();
    public Tmpfs tmpfs = new Tmpfs();
    /** The tmpfs is unmounted before the folder it is mounted on is deleted. */
    @Rule
    public RuleChain rules = RuleChain.outerRule(tmp).around(tmpfs);


    /** Bytes the file system has given {@code f} ({@code stat %b} blocks of 512 bytes). */
    private static long allocated(Path f) throws Exception {
        Process p = new ProcessBuilder("stat", "-c", "%b", f.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        assertEquals(out, 0, p.waitFor());
        return Long.parseLong(out) * 512;
    }

    @Test
    public void backsTheHeadAndThePagesAheadWithoutChangingAByte() throws Exception {
        Path f = tmp.newFile("20261202-15F.cq4").toPath();
        byte[] header = "header".getBytes();
        byte[] record = "a record at the tail".getBytes();
        long tail;
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(4L * KIB * KIB);          // sparse, as Chronicle creates a cycle file
            raf.write(header);
            raf.seek(96 * KIB + 100);
            raf.write(record);
            tail = raf.getFilePointer();
        }
        Assume.assumeTrue("this file system allocates a sparse file's holes lazily", allocated(f) < 64 * KIB);
        JournalBacking b = new JournalBacking();
        try {
            b.ensure(f.toFile(), tail, tail + 256 * KIB);
            long upTo = b.backedUpTo(f.toFile());
            assertTrue("backed up to " + upTo, upTo >= tail + 256 * KIB && upTo % JournalBacking.PAGE == 0);
            assertEquals(0, b.backedUpTo(new File(f + ".other")));
            assertTrue("head and ahead backed: " + allocated(f), allocated(f) >= upTo);

            b.ensure(f.toFile(), tail, tail + 128 * KIB);   // already backed: nothing to do
            assertEquals(upTo, b.backedUpTo(f.toFile()));
        } finally {
            b.close();
        }
        assertEquals("the file keeps its size", 4L * KIB * KIB, Files.size(f));
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "r")) {
            byte[] h = new byte[header.length];
            raf.readFully(h);
            assertArrayEquals(header, h);
            byte[] r = new byte[record.length];
            raf.seek(96 * KIB + 100);
            raf.readFully(r);
            assertArrayEquals(record, r);
        }
    }

    @Test
    public void pagesPastTheEndOfTheFileAreWrittenAsZeros() throws Exception {
        Path f = tmp.newFile("short.cq4").toPath();
        Files.write(f, new byte[] {1, 2, 3});
        JournalBacking b = new JournalBacking();
        try {
            b.ensure(f.toFile(), 3, 10 * KIB);
        } finally {
            b.close();
        }
        byte[] all = Files.readAllBytes(f);
        assertEquals("grown to the page after 10 KiB", 12 * KIB, all.length);
        assertEquals(1, all[0]);
        assertEquals(3, all[2]);
        for (int i = 3; i < all.length; i++) {
            assertEquals("byte " + i, 0, all[i]);
        }
    }

    @Test
    public void aFullFileSystemIsAnIoExceptionAndNothingChanges() throws Exception {
        Path mnt = tmp.newFolder("tmpfs").toPath();
        tmpfs.mount(mnt, "1m");
        Path f = mnt.resolve("20261202-15F.cq4");
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(8L * KIB * KIB);
            raf.write(7);
        }
        Tmpfs.fill(mnt.resolve("filler"));
        JournalBacking b = new JournalBacking();
        try {
            for (int attempt = 0; attempt < 2; attempt++) {   // a retry on the same file reads it again
                try {
                    b.ensure(f.toFile(), 1, 512 * KIB);
                    fail("backed 512 KiB on a full file system");
                } catch (IOException e) {
                    assertTrue(e.toString(), e.getMessage().contains("No space left on device"));
                }
                assertEquals(0, b.backedUpTo(f.toFile()));
            }
            Files.delete(mnt.resolve("filler"));
            b.ensure(f.toFile(), 1, 512 * KIB);   // once there is room
            assertTrue(b.backedUpTo(f.toFile()) >= 512 * KIB);
        } finally {
            b.close();
        }
        assertEquals("the byte written before is kept", 7, Files.readAllBytes(f)[0]);
        assertEquals(8L * KIB * KIB, Files.size(f));
    }
}

package io.tollgate.sync.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class AckedSeqFileTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    @Test
    public void missingIsZeroAndWritesReplaceAtomically() throws Exception {
        Path dir = tmp.getRoot().toPath().resolve("sync");
        AckedSeqFile f = new AckedSeqFile(dir);
        assertEquals(0, f.read());
        f.write(4096);
        assertEquals(4096, f.read());
        assertEquals("4096\n", Files.readString(dir.resolve("acked-seq")));
        f.write(5000);
        assertEquals(5000, new AckedSeqFile(dir).read());
        assertFalse("no temporary file left", Files.exists(dir.resolve("acked-seq.tmp")));
    }

    @Test
    public void garbageIsAnErrorThatSaysWhatToDo() throws Exception {
        Path dir = tmp.newFolder("sync").toPath();
        Files.writeString(dir.resolve("acked-seq"), "12ab\n");
        try {
            new AckedSeqFile(dir).read();
            fail();
        } catch (IOException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("delete it"));
        }
    }
}

package io.tollgate.runtime;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** One appliance per data folder: the lock file holds the pid, a second taker is refused with it. */
public class DataDirLockTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    @Test
    public void aSecondTakerIsRefusedWithTheHoldersPidUntilTheLockIsReleased() throws Exception {
        Path data = tmp.getRoot().toPath();
        DataDirLock first = DataDirLock.take(data);
        String pid = Long.toString(ProcessHandle.current().pid());
        assertEquals(pid, Files.readString(data.resolve(DataDirLock.FILE), StandardCharsets.US_ASCII).trim());
        try {
            DataDirLock.take(data);
            fail("a second lock on one data folder");
        } catch (StartFailure expected) {
            assertEquals(StartFailure.DATA_IN_USE, expected.exitCode());
            assertTrue(expected.getMessage(), expected.getMessage().startsWith("data directory " + data
                    + " in use by pid " + pid + " (another Tollgate)"));
        }
        first.release();
        DataDirLock.take(data).release();
    }
}

package io.tollgate.tools;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The host record next to the device key, and the refusal of a key made on another host. */
public class DeviceHostTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    @Test
    public void thisHostIsItsMachineIdElseItsName() throws Exception {
        Path id = tmp.newFile("machine-id").toPath();
        Files.writeString(id, "3d1219c7c4c5404aaa1f6d2a48adfda4\n");
        assertEquals("machine-id 3d1219c7c4c5404aaa1f6d2a48adfda4",
                DeviceHost.current(List.of(tmp.getRoot().toPath().resolve("missing"), id)));
        Files.writeString(id, "\n");
        assertTrue(DeviceHost.current(List.of(id)).startsWith("hostname "));
    }

    @Test
    public void aKeyIsRecordedOnceAndRefusedOnAnotherHost() throws Exception {
        Path data = tmp.getRoot().toPath();
        assertFalse("no key, nothing to record", DeviceHost.recordIfMissing(data, "machine-id a"));
        Files.createDirectories(data.resolve("device"));
        Files.writeString(data.resolve("device").resolve(DeviceHost.KEY_FILE), "key");
        assertNull("a key without a record is this host's", DeviceHost.problem(data, "machine-id b"));
        assertTrue(DeviceHost.recordIfMissing(data, "machine-id a"));
        assertFalse("written once", DeviceHost.recordIfMissing(data, "machine-id b"));
        assertEquals("machine-id a\n", Files.readString(data.resolve("device").resolve(DeviceHost.FILE)));
        assertNull(DeviceHost.problem(data, "machine-id a"));
        String problem = DeviceHost.problem(data, "machine-id b");
        assertTrue(problem, problem.startsWith("the device key in " + data.resolve("device") + " was created on another "
                + "host (machine-id a; this host is machine-id b)"));
        assertTrue(problem, problem.contains("bin/tollgate device init --data " + data));
    }
}

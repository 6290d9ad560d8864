package io.tollgate.tools.device;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.tollgate.licensing.Pem;
import io.tollgate.licensing.wrap.ModelKeyWrap;
import io.tollgate.tools.ToolRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** {@code tollgate device wrap-key} and {@code device init}: the X25519 key vendors wrap model keys for. */
public class DeviceWrapKeyCommandTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    @Test
    public void wrapKeyPrintsThePublicKeyMadeOnceWithAPrivateFile() throws Exception {
        Path data = tmp.getRoot().toPath().resolve("data");
        ToolRun first = ToolRun.of("device", "wrap-key", "--data", data.toString());
        assertEquals(first.toString(), 0, first.code());
        Path pub = data.resolve("device").resolve(ModelKeyWrap.PUBLIC_FILE);
        assertEquals(Files.readString(pub), first.out());
        assertTrue(first.out(), first.out().startsWith("-----BEGIN PUBLIC KEY-----\n"));
        assertEquals(64, Pem.fingerprint(ModelKeyWrap.readPublicKey(pub)).length());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(
                data.resolve("device").resolve(ModelKeyWrap.PRIVATE_FILE))));
        assertEquals("never replaced", first.out(), ToolRun.of("device", "wrap-key", "--data", data.toString()).out());

        Path other = tmp.getRoot().toPath().resolve("other");
        assertEquals(0, ToolRun.of("device", "init", "--data", other.toString()).code());
        assertTrue("device init makes it too", Files.isRegularFile(other.resolve("device").resolve(
                ModelKeyWrap.PRIVATE_FILE)));
    }
}

package io.tollgate.runtime;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** DATA/profile.jvm-options: what bin/tollgate run reads instead of running its profile step (a second JVM). */
public class ProfileJvmOptionsCacheTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    @Test
    public void withoutBinTollgatesKeyNothingIsWritten() throws Exception {
        Path data = tmp.newFolder("data").toPath();
        assertFalse(ProfileJvmOptionsCache.update(data, null, null, "x86-cpu", List.of("-XX:MaxRAMPercentage=25")));
        assertFalse(Files.exists(data.resolve(ProfileJvmOptionsCache.FILE)));
    }

    @Test
    public void theProfileStepsOptionsAreKeptUnderTheKeyReadableByAll() throws Exception {
        Path data = tmp.newFolder("data").toPath();
        assertFalse(ProfileJvmOptionsCache.update(data, "k1", "tools", "jetson-orin-nano-jp6",
                List.of("-Xms256m", "-Xmx1g")));
        Path f = data.resolve(ProfileJvmOptionsCache.FILE);
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
        String text = Files.readString(f);
        assertTrue(text, text.contains("\nkey=k1\nprofile=jetson-orin-nano-jp6\noption=-Xms256m\noption=-Xmx1g\n"));
        assertEquals(new ProfileJvmOptionsCache.Entry("k1", "jetson-orin-nano-jp6", List.of("-Xms256m", "-Xmx1g")),
                ProfileJvmOptionsCache.read(data));
        assertFalse("no temporary file left", Files.exists(data.resolve("." + ProfileJvmOptionsCache.FILE + ".part")));
    }

    @Test
    public void cachedOptionsOfAnotherProfileAreStaleAndRewritten() throws Exception {
        Path data = tmp.newFolder("data").toPath();
        ProfileJvmOptionsCache.update(data, "k1", "tools", "jetson-orin-nano-jp6", List.of("-Xms256m", "-Xmx1g"));
        // the same key (no file changed), but detection chose another profile: the hardware changed
        assertTrue(ProfileJvmOptionsCache.update(data, "k1", "cache", "x86-cpu", List.of("-XX:MaxRAMPercentage=25")));
        assertEquals(new ProfileJvmOptionsCache.Entry("k1", "x86-cpu", List.of("-XX:MaxRAMPercentage=25")),
                ProfileJvmOptionsCache.read(data));
        // the next start took them from the file: up to date
        assertFalse(ProfileJvmOptionsCache.update(data, "k1", "cache", "x86-cpu", List.of("-XX:MaxRAMPercentage=25")));
    }

    @Test
    public void aNewKeyReplacesTheEntry() throws Exception {
        Path data = tmp.newFolder("data").toPath();
        ProfileJvmOptionsCache.update(data, "k1", "tools", "x86-cpu", List.of("-XX:MaxRAMPercentage=25"));
        assertFalse(ProfileJvmOptionsCache.update(data, "k2", "tools", "x86-nvidia", List.of()));
        assertEquals(new ProfileJvmOptionsCache.Entry("k2", "x86-nvidia", List.of()), ProfileJvmOptionsCache.read(data));
    }

    @Test
    public void aFileWithoutKeyIsNoEntry() throws Exception {
        Path data = tmp.newFolder("data").toPath();
        Files.writeString(data.resolve(ProfileJvmOptionsCache.FILE), "option=-Xmx1g\n");
        assertNull(ProfileJvmOptionsCache.read(data));
    }
}

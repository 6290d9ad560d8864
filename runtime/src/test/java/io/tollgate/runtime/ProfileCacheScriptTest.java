package io.tollgate.runtime;

import static org.junit.Assert.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.Test;

/**
 * bin/tollgate run's command line with a crafted DATA/profile.jvm-options and a group-writable DATA/cds
 * (src/test/sh/profile-cache-test.sh, with a stand-in java that prints its arguments: the script is what is tested).
 */
public class ProfileCacheScriptTest {
    @Test
    public void aCraftedCacheNeverReachesTheJavaCommandLineAndDataIsOwnerOnly() throws Exception {
        Path script = Path.of("src/test/sh/profile-cache-test.sh").toAbsolutePath();
        Path out = Files.createTempFile("profile-cache-test", ".out");
        Process p = new ProcessBuilder("bash", script.toString()).redirectErrorStream(true)
                .redirectOutput(out.toFile()).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("profile-cache-test.sh did not end in 60 s");
        }
        String text = Files.readString(out, StandardCharsets.UTF_8);
        Files.deleteIfExists(out);
        assertEquals(text, 0, p.exitValue());
    }
}

package io.tollgate.runtime;

import static org.junit.Assert.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.Test;

/**
 * The first start's profile step runs with -XX:TieredStopAtLevel=1 and the appliance never does
 * (src/test/sh/profile-step-flags-test.sh, with a stand-in java that records its arguments).
 */
public class ProfileStepFlagsScriptTest {
    @Test
    public void theProfileStepIsC1OnlyAndTheApplianceIsNot() throws Exception {
        Path script = Path.of("src/test/sh/profile-step-flags-test.sh").toAbsolutePath();
        Path out = Files.createTempFile("profile-step-flags-test", ".out");
        Process p = new ProcessBuilder("bash", script.toString()).redirectErrorStream(true)
                .redirectOutput(out.toFile()).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("profile-step-flags-test.sh did not end in 60 s");
        }
        String text = Files.readString(out, StandardCharsets.UTF_8);
        Files.deleteIfExists(out);
        assertEquals(text, 0, p.exitValue());
    }
}

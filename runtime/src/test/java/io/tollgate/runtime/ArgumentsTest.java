package io.tollgate.runtime;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.List;
import java.util.Set;
import org.junit.Test;

public class ArgumentsTest {
    @Test
    public void parsesValuesFlagsAndEqualsForm() throws Exception {
        Arguments a = Arguments.parse(List.of("--port", "9000", "--data=/tmp/d", "--json", "file.jar"),
                Set.of("--port", "--data"), Set.of("--json"));
        assertEquals("9000", a.get("--port"));
        assertEquals("/tmp/d", a.get("--data"));
        assertTrue(a.flag("--json"));
        assertEquals(List.of("file.jar"), a.positional());
    }

    @Test
    public void unknownOptionIsNamed() {
        try {
            Arguments.parse(List.of("--prot", "9000"), Set.of("--port"), Set.of());
            fail();
        } catch (UsageException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("--prot") && e.getMessage().contains("--port"));
        }
    }

    @Test
    public void missingValueIsReported() {
        try {
            Arguments.parse(List.of("--port"), Set.of("--port"), Set.of());
            fail();
        } catch (UsageException e) {
            assertEquals("option --port needs a value", e.getMessage());
        }
    }

    @Test
    public void badMqttUrlIsRefused() {
        try {
            ApplianceLauncher.fromArguments(List.of("--mqtt", "localhost:1883"));
            fail();
        } catch (UsageException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("tcp://"));
        }
    }

    @Test
    public void badPortIsRefusedBeforeStarting() {
        try {
            ApplianceLauncher.fromArguments(List.of("--port", "http"));
            fail();
        } catch (UsageException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("'http'"));
        }
    }
}

package io.tollgate.metering.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.metering.JournalStatus;
import java.lang.annotation.Annotation;
import java.nio.file.Files;
import java.nio.file.Path;
import net.openhft.chronicle.core.time.SetTimeProvider;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.rollcycles.TestRollCycles;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The DS constructors with typed configuration, as SCR calls them. */
public class ComponentConfigurationTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    static JournalConfig config(String dir, long budget, String sync, String roll) {
        return new JournalConfig() {
            @Override
            public String directory() {
                return dir;
            }

            @Override
            public long disk_budget_bytes() {
                return budget;
            }

            @Override
            public long disk_reserve_bytes() {
                return JournalOptions.DEFAULT_DISK_RESERVE_BYTES;
            }

            @Override
            public int seal_every_records() {
                return 256;
            }

            @Override
            public long seal_every_ms() {
                return 1000;
            }

            @Override
            public String sync_mode() {
                return sync;
            }

            @Override
            public String roll_cycle() {
                return roll;
            }

            @Override
            public Class<? extends Annotation> annotationType() {
                return JournalConfig.class;
            }
        };
    }

    @Test
    public void defaultsLiveUnderTheTollgateDataDirectory() throws Exception {
        Path data = tmp.newFolder("data").toPath();
        String before = System.getProperty(DataPaths.DATA_PROPERTY);
        System.setProperty(DataPaths.DATA_PROPERTY, data.toString());
        try {
            FileDeviceIdentity device = new FileDeviceIdentity(DeviceIdentityTest.config(Path.of(""), ""));
            assertTrue(Files.exists(data.resolve("device/device.key.pem")));
            try (ChronicleUsageJournal j = new ChronicleUsageJournal(device, config("", 2L << 30, "batch", "FAST_HOURLY"))) {
                j.append(Fixtures.event("acme", 1));
                JournalStatus s = j.status();
                assertEquals(device.deviceId(), s.deviceId());
                assertEquals(2L << 30, s.diskBudgetBytes());
            }
            assertTrue(Files.exists(data.resolve("usage/metadata.cq4t")));
            assertTrue(UsageVerifier.verify(data.resolve("usage"), device.publicKey()).ok());
        } finally {
            if (before == null) {
                System.clearProperty(DataPaths.DATA_PROPERTY);
            } else {
                System.setProperty(DataPaths.DATA_PROPERTY, before);
            }
        }
    }

    @Test
    public void badValuesAreRefusedWithTheKeyToFix() throws Exception {
        String dir = tmp.newFolder("usage").toString();
        assertRefused(config(dir, 1000, "BATCH", "FAST_HOURLY"), "disk.budget.bytes must be at least 1 MiB");
        assertRefused(config(dir, 2L << 30, "sometimes", "FAST_HOURLY"), "sync.mode 'sometimes' is not one of NONE, BATCH, EVERY_RECORD");
        assertRefused(config(dir, 2L << 30, "NONE", "fortnightly"), "roll.cycle 'fortnightly' is not a Chronicle RollCycles name");
    }

    @Test
    public void misspeltKeysAreRefusedWithTheRightSpellingNotIgnored() throws Exception {
        String dir = tmp.newFolder("usage").toString();
        try {
            new ChronicleUsageJournal(Fixtures.KEY, config(dir, 2L << 30, "BATCH", "FAST_HOURLY"),
                    java.util.Map.of("disk_budget_bytes", "1048576", "service.pid", "io.tollgate.metering.journal")).close();
            fail("a misspelt key must stop the journal, not leave the default budget in place");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("configuration io.tollgate.metering.journal has an "
                    + "unknown key 'disk_budget_bytes' (did you mean 'disk.budget.bytes'?)"));
        }
        try {
            new FileDeviceIdentity(DeviceIdentityTest.config(tmp.newFolder("device").toPath(), ""),
                    java.util.Map.of("device.idd", "x"));
            fail("a misspelt key must stop the device identity");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("'device.idd' (did you mean 'device.id'?)"));
        }
    }

    private static void assertRefused(JournalConfig c, String why) throws Exception {
        try {
            new ChronicleUsageJournal(Fixtures.KEY, c).close();
            fail("accepted a configuration that should fail with " + why);
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains(why));
        }
    }

    @Test
    public void anExistingJournalKeepsItsRollCycle() throws Exception {
        Path dir = tmp.newFolder("usage").toPath();
        SetTimeProvider time = new SetTimeProvider(java.time.Instant.parse("2026-01-01T00:00:00Z"));
        try (ChronicleUsageJournal j = new ChronicleUsageJournal(Fixtures.KEY,
                Fixtures.options(dir).withRollCycle(TestRollCycles.TEST_SECONDLY, time))) {
            j.append(Fixtures.event("acme", 1));
            time.advanceMillis(1000);
            j.append(Fixtures.event("acme", 2));
        }
        try (ChronicleUsageJournal j = new ChronicleUsageJournal(Fixtures.KEY,
                Fixtures.options(dir).withRollCycle(RollCycles.FAST_HOURLY, time))) {
            time.advanceMillis(1000);
            assertEquals(8, j.append(Fixtures.event("acme", 3)));
            assertEquals(3, j.readFrom(3, 1).get(0).seq());
            assertEquals(4, j.readFrom(4, 1).get(0).seq());
            j.releaseUpTo(3);
            assertEquals(4, j.status().firstSeq());
        }
        assertTrue(UsageVerifier.verify(dir, Fixtures.KEY.publicKey()).ok());
    }
}

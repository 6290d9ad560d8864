package io.tollgate.metering.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import io.tollgate.metering.internal.RecordFormat.Decoded;
import io.tollgate.metering.internal.RecordFormat.PreviousRun;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * kill -9 at random moments: a child JVM appends and prints every seq it got back; the test kills it
 * (ProcessHandle.destroyForcibly, SIGKILL on Linux) several times, restarting it on the same journal, and
 * then proves that every printed seq is in the journal exactly once, with the request it was printed
 * for, and that the whole chain verifies.
 */
public class CrashRecoveryTest {
    private static final int RUNS = 6;
    private static final Pattern LINE = Pattern.compile("^(\\d+) (\\S+) \\.$");

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    @Test
    public void everyReturnedSeqSurvivesKillNineExactlyOnce() throws Exception {
        Path dir = tmp.newFolder("usage").toPath();
        long seed = System.nanoTime();
        Random random = new Random(seed);
        Map<Long, String> printed = new HashMap<>();
        for (int run = 0; run < RUNS; run++) {
            List<String> lines = runAndKill(dir, "run" + run, 100 + random.nextInt(900));
            int accepted = 0;
            for (String l : lines) {
                Matcher m = LINE.matcher(l);
                if (!m.matches()) {
                    continue; // a line cut by the kill: its append may or may not have returned
                }
                String before = printed.put(Long.parseLong(m.group(1)), m.group(2));
                assertEquals("seq " + m.group(1) + " was handed out twice (seed " + seed + ")", null, before);
                accepted++;
            }
            assertTrue("run " + run + " appended something before it was killed (seed " + seed + ")", accepted > 0);
        }
        try (ChronicleUsageJournal j = new ChronicleUsageJournal(Fixtures.KEY, Fixtures.options(dir))) {
            assertTrue(j.status().lastSeq() > printed.size());
        }
        Map<Long, Decoded> journal = new HashMap<>();
        for (Decoded d : Fixtures.readAll(dir)) {
            assertEquals("seq " + d.seq() + " appears once", null, journal.put(d.seq(), d));
        }
        for (Map.Entry<Long, String> e : printed.entrySet()) {
            Decoded d = journal.get(e.getKey());
            assertNotNull("printed seq " + e.getKey() + " is in the journal (seed " + seed + ")", d);
            assertNotNull("seq " + e.getKey() + " is a usage record", d.usage());
            assertEquals("seq " + e.getKey() + " holds the request it was returned for", e.getValue(),
                    d.usage().requestId());
        }
        List<Decoded> starts = journal.values().stream().filter(d -> d.kind() == RecordFormat.KIND_START)
                .sorted((a, b) -> Long.compare(a.seq(), b.seq())).collect(Collectors.toList());
        assertEquals(RUNS + 1, starts.size());
        assertEquals(PreviousRun.NEW_JOURNAL, starts.get(0).previousRun());
        for (int i = 1; i < starts.size(); i++) {
            assertEquals("start " + i + " follows a kill", PreviousRun.UNCLEAN_SHUTDOWN, starts.get(i).previousRun());
        }
        UsageVerifier.Report r = UsageVerifier.verify(dir, Fixtures.KEY.publicKey());
        assertTrue(r.summary() + " (seed " + seed + ")", r.ok());
        assertEquals(0, r.unsealed());
        for (int run = 0; run < RUNS; run++) {
            String prefix = "req-run" + run + "-";
            long inJournal = journal.values().stream()
                    .filter(d -> d.usage() != null && d.usage().requestId().startsWith(prefix)).count();
            long acknowledged = printed.values().stream().filter(v -> v.startsWith(prefix)).count();
            // One append at a time: at most the one the kill interrupted between return and print is unprinted.
            assertTrue("run " + run + ": " + inJournal + " records in the journal, " + acknowledged
                    + " acknowledged (seed " + seed + ")", inJournal - acknowledged == 0 || inJournal - acknowledged == 1);
        }
        System.out.println("crash test: " + printed.size() + " acknowledged appends over " + RUNS + " kills; "
                + r.summary());
    }

    private List<String> runAndKill(Path dir, String run, long killAfterMillis) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("--add-") || a.startsWith("-Dchronicle"))
                .collect(Collectors.toList()));
        cmd.add("-XX:TieredStopAtLevel=1");
        cmd.add("-Xmx256m");
        cmd.add("-cp");
        cmd.add(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
        cmd.add(CrashChild.class.getName());
        cmd.add(dir.toString());
        cmd.add(run);
        File log = tmp.newFile(run + ".log");
        Process p = new ProcessBuilder(cmd).redirectError(log).start();
        List<String> lines = new CopyOnWriteArrayList<>();
        Object firstLine = new Object();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String l;
                while ((l = in.readLine()) != null) {
                    lines.add(l);
                    if (lines.size() == 1) {
                        synchronized (firstLine) {
                            firstLine.notifyAll();
                        }
                    }
                }
            } catch (java.io.IOException e) {
                // the pipe closes when the child dies
            }
        });
        reader.start();
        long deadline = System.currentTimeMillis() + 30_000;
        synchronized (firstLine) {
            while (lines.isEmpty() && p.isAlive() && System.currentTimeMillis() < deadline) {
                firstLine.wait(100);
            }
        }
        assertTrue("child " + run + " started appending; see " + log, !lines.isEmpty());
        Thread.sleep(killAfterMillis);
        // SIGKILL through the process handle: Process.destroyForcibly() would also close our end of the
        // pipe and drop the lines still buffered in it.
        p.toHandle().destroyForcibly();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals("killed by SIGKILL", 137, p.exitValue());
        reader.join(10_000);
        return lines;
    }
}

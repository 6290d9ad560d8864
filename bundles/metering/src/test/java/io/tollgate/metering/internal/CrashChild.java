package io.tollgate.metering.internal;

import java.io.PrintStream;
import java.nio.file.Paths;

/**
 * Child process of {@link CrashRecoveryTest}: opens the journal, appends until killed, and prints
 * "seq requestId ." for every append that returned. Never closes the journal.
 */
public final class CrashChild {
    private CrashChild() {
    }

    public static void main(String[] args) throws Exception {
        String run = args[1];
        PrintStream out = System.out;
        ChronicleUsageJournal j = new ChronicleUsageJournal(Fixtures.KEY,
                Fixtures.options(Paths.get(args[0])).withSeals(50, 20));
        for (int i = 0; ; i++) {
            String req = "req-" + run + "-" + i;
            long seq = j.append(new io.tollgate.metering.UsageEvent("tenant-" + run, "fashion-mnist", "1.0.0",
                    "io.tollgate.plugin.fashion-mnist", "1.0.0", "", "inference", 1, 1000, "cpu", req, "OK"));
            out.println(seq + " " + req + " .");
            out.flush();
        }
    }
}

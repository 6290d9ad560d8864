package io.tollgate.it;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The built distribution ({@code runtime/target/tollgate}) driven as a user drives it: {@code bin/tollgate}
 * commands and a running appliance as a child process. Every process it starts is killed by {@link #close()}.
 */
final class Distribution implements AutoCloseable {
    private final Path home = TollgateExam.dist();
    private final List<Process> processes = new ArrayList<>();

    /** A finished command: exit code and what it printed. */
    record Result(int exit, String out, String err) {
    }

    /** Runs {@code bin/tollgate args...} to completion (2 minutes at most). */
    Result run(String... args) throws IOException, InterruptedException {
        Path out = Files.createTempFile("tollgate-cmd", ".out");
        Path err = Files.createTempFile("tollgate-cmd", ".err");
        try {
            Process p = command(args).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(2, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new AssertionError("bin/tollgate " + String.join(" ", args) + " did not finish in 2 minutes");
            }
            return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** Starts {@code bin/tollgate run args...} in the background; its output goes to {@code log}. */
    Process start(Path log, String... args) throws IOException {
        List<String> all = new ArrayList<>(List.of("run"));
        all.addAll(List.of(args));
        Process p = command(all.toArray(new String[0])).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        processes.add(p);
        return p;
    }

    private ProcessBuilder command(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(home.resolve("bin/tollgate").toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("TOLLGATE_JAVA_OPTS", "-Xmx512m");
        return pb;
    }

    Path home() {
        return home;
    }

    static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    @Override
    public void close() {
        for (Process p : processes) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    static void deleteTree(File dir) {
        File[] children = dir.listFiles();
        if (children != null) {
            for (File c : children) {
                deleteTree(c);
            }
        }
        dir.delete();
    }
}

package io.tollgate.accelerators.internal;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What {@code nvidia-smi --query-gpu=index,name,memory.total,compute_cap --format=csv,noheader,nounits} says of the
 * box's NVIDIA GPUs: the memory and compute capability the driver's {@code /proc} files leave out. Run at most once
 * per inventory read, bounded by {@link #TIMEOUT_SECONDS}; its absence or failure is a reason, never an error.
 */
final class NvidiaSmi {
    /** The most an nvidia-smi run may take, in seconds (it can hang on a wedged driver). */
    static final long TIMEOUT_SECONDS = 5;
    static final List<String> COMMAND = List.of("nvidia-smi",
            "--query-gpu=index,name,memory.total,compute_cap", "--format=csv,noheader,nounits");

    /** One GPU as nvidia-smi reports it: memory in bytes (0 when it says {@code [N/A]}), capability "" when unknown. */
    record Gpu(int index, String name, long memoryBytes, String computeCapability) {
    }

    /** The GPUs, or why there are none; {@code reason} is "" when the query ran. */
    record Result(List<Gpu> gpus, String reason) {
        static Result unavailable(String reason) {
            return new Result(List.of(), reason);
        }
    }

    /** Runs the query; tests give recorded output instead. */
    @FunctionalInterface
    interface Query {
        Result run();
    }

    /** Not asked (an inventory read from a fixture root: the host's GPUs are not the fixture's). */
    static final Query NOT_ASKED = () -> Result.unavailable("nvidia-smi not asked (inventory of a recorded root)");

    private NvidiaSmi() {
    }

    /** The query on this box: {@code nvidia-smi} from {@code PATH}, else unavailable saying so. */
    static Result onPath() {
        Path exe = find(System.getenv("PATH"));
        if (exe == null) {
            return Result.unavailable("nvidia-smi is not on PATH");
        }
        List<String> command = new ArrayList<>(COMMAND);
        command.set(0, exe.toString());
        Process p;
        try {
            p = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            return Result.unavailable("cannot run " + exe + ": " + e.getMessage());
        }
        try (InputStream out = p.getInputStream()) {
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return Result.unavailable(exe + " did not answer within " + TIMEOUT_SECONDS + " s");
            }
            String text = new String(out.readAllBytes(), StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                return Result.unavailable(exe + " exited " + p.exitValue() + ": " + firstLine(text));
            }
            return parse(text);
        } catch (IOException e) {
            return Result.unavailable("cannot read " + exe + "'s output: " + e.getMessage());
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            return Result.unavailable("interrupted while waiting for " + exe);
        }
    }

    /** {@code nvidia-smi} in the folders of {@code path} ({@code PATH}'s syntax), or null. */
    static Path find(String path) {
        if (path == null) {
            return null;
        }
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path exe = Path.of(dir, "nvidia-smi");
            if (Files.isRegularFile(exe) && Files.isExecutable(exe)) {
                return exe;
            }
        }
        return null;
    }

    /**
     * Parses the query's output: one line per GPU, {@code index, name, memory.total (MiB), compute_cap}.
     * {@code [N/A]} memory is 0; a line that is not of this shape makes the whole result unavailable, naming it.
     */
    static Result parse(String text) {
        List<Gpu> out = new ArrayList<>();
        for (String line : text.split("\r?\n")) {
            if (line.isBlank()) {
                continue;
            }
            String[] f = line.split(",");
            if (f.length != 4) {
                return Result.unavailable("nvidia-smi line '" + line.strip() + "' is not index, name, memory.total,"
                        + " compute_cap");
            }
            try {
                int index = Integer.parseInt(f[0].strip());
                String mem = f[2].strip();
                long bytes = mem.startsWith("[") ? 0 : Long.parseLong(mem) * 1024 * 1024;
                String cc = f[3].strip();
                out.add(new Gpu(index, f[1].strip(), bytes, cc.startsWith("[") ? "" : cc));
            } catch (NumberFormatException e) {
                return Result.unavailable("nvidia-smi line '" + line.strip() + "' has no number where one belongs");
            }
        }
        return new Result(List.copyOf(out), "");
    }

    private static String firstLine(String text) {
        String t = text.strip();
        int nl = t.indexOf('\n');
        return t.isEmpty() ? "(no output)" : nl < 0 ? t : t.substring(0, nl);
    }
}

package io.tollgate.accelerators.internal;

import io.tollgate.accelerator.Accelerator;
import io.tollgate.accelerator.AcceleratorKind;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads what the box says about its accelerators from files under a root ({@code /} on a box, a fixture folder in
 * tests): the CPU from {@code /proc/meminfo} and {@code /proc/cpuinfo}; CUDA GPUs from the NVIDIA driver's
 * {@code /proc/driver/nvidia/gpus/<bus>/information}; a Jetson's iGPU and DLA cores from the device tree
 * ({@code /proc/device-tree/compatible}, {@code model}, and {@code nvdla*} nodes whose {@code status} is
 * {@code okay}). The accelerators it returns carry no budget (0); {@link PlacementSettings} sets them.
 *
 * <p>The driver's information file names the GPU but not its memory nor compute capability: those come from
 * {@link NvidiaSmi} ({@code nvidia-smi --query-gpu=...}, when it is on {@code PATH}; the i-th GPU in bus order is
 * nvidia-smi's index i, both being PCI bus order). Without it a GPU has 0 total memory until
 * {@code memory.budget.gpu.mb} gives it a budget; the log and its name in {@code /admin/accelerators} say why.
 * Stateless.
 */
final class InventoryReader {
    private static final Logger LOG = LoggerFactory.getLogger(InventoryReader.class);

    private final Path root;

    private final NvidiaSmi.Query smi;

    /**
     * @param root the folder standing for {@code /}; nvidia-smi is asked only when it is {@code /} itself (a recorded
     *             root's GPUs are not this host's)
     */
    InventoryReader(Path root) {
        this(root, root.toAbsolutePath().normalize().getNameCount() == 0 ? NvidiaSmi::onPath : NvidiaSmi.NOT_ASKED);
    }

    /** @param smi asks nvidia-smi (tests: recorded output), run only when the driver lists a GPU */
    InventoryReader(Path root, NvidiaSmi.Query smi) {
        this.root = root;
        this.smi = smi;
    }

    /** The accelerators found: GPUs and DLAs first (by id), the CPU last. */
    List<Accelerator> read() {
        List<Accelerator> out = new ArrayList<>();
        long memTotal = memTotalBytes();
        Jetson jetson = jetson();
        if (jetson != null) {
            // Jetson: the iGPU and DLAs share the system memory with the CPU.
            out.add(new Accelerator("cuda:0", AcceleratorKind.GPU, jetson.model + " (iGPU)", jetson.computeCapability,
                    memTotal, 0, 0));
            for (int i = 0; i < jetson.dlaCores; i++) {
                out.add(new Accelerator("dla:" + i, AcceleratorKind.DLA, jetson.model + " (DLA " + i + ")",
                        "", memTotal, 0, 0));
            }
        } else {
            out.addAll(nvidiaGpus());
        }
        out.add(new Accelerator(Accelerator.CPU_ID, AcceleratorKind.CPU, cpuModel(), "", memTotal, 0, cpuCores()));
        return List.copyOf(out);
    }

    /** {@code MemTotal} of {@code proc/meminfo}, in bytes; 0 when unreadable. */
    long memTotalBytes() {
        for (String line : lines(root.resolve("proc/meminfo"))) {
            if (line.startsWith("MemTotal:")) {
                String[] f = line.substring("MemTotal:".length()).trim().split("\\s+");
                try {
                    long v = Long.parseLong(f[0]);
                    return f.length > 1 && f[1].equalsIgnoreCase("kB") ? v * 1024 : v;
                } catch (NumberFormatException e) {
                    LOG.warn("{}: MemTotal '{}' is no number; the CPU's memory is unknown", root.resolve("proc/meminfo"),
                            line);
                    return 0;
                }
            }
        }
        return 0;
    }

    private String cpuModel() {
        for (String line : lines(root.resolve("proc/cpuinfo"))) {
            String l = line.toLowerCase(Locale.ROOT);
            if (l.startsWith("model name") || l.startsWith("hardware")) {
                int colon = line.indexOf(':');
                if (colon > 0) {
                    return line.substring(colon + 1).trim();
                }
            }
        }
        return "CPU";
    }

    private int cpuCores() {
        int processors = 0;
        for (String line : lines(root.resolve("proc/cpuinfo"))) {
            if (line.startsWith("processor")) {
                processors++;
            }
        }
        return processors > 0 ? processors : Runtime.getRuntime().availableProcessors();
    }

    private List<Accelerator> nvidiaGpus() {
        Path gpus = root.resolve("proc/driver/nvidia/gpus");
        if (!Files.isDirectory(gpus)) {
            return List.of();
        }
        List<Accelerator> out = new ArrayList<>();
        List<Path> buses;
        try (Stream<Path> s = Files.list(gpus)) {
            buses = s.sorted().toList();
        } catch (IOException e) {
            LOG.warn("cannot list {}: {}; no CUDA GPU is used", gpus, e.toString());
            return List.of();
        }
        for (Path bus : buses) {
            String model = "";
            int minor = out.size();
            for (String line : lines(bus.resolve("information"))) {
                int colon = line.indexOf(':');
                if (colon < 0) {
                    continue;
                }
                String key = line.substring(0, colon).trim();
                String value = line.substring(colon + 1).trim();
                if (key.equals("Model")) {
                    model = value;
                } else if (key.equals("Device Minor")) {
                    try {
                        minor = Integer.parseInt(value);
                    } catch (NumberFormatException e) {
                        LOG.warn("{}: Device Minor '{}' is no number", bus.resolve("information"), value);
                    }
                }
            }
            if (!model.isEmpty()) {
                out.add(new Accelerator("cuda:" + minor, AcceleratorKind.GPU, model, "", 0, 0, 0));
            }
        }
        if (!out.isEmpty()) {
            out = withMemory(out, smi.run());
        }
        out.sort(java.util.Comparator.comparing(Accelerator::id));
        return out;
    }

    /**
     * The GPUs (in bus order) with nvidia-smi's memory and compute capability, the i-th GPU taking index i; a GPU it
     * gives no memory for keeps 0 and its name says why (shown in /admin/accelerators), as does one WARN line.
     */
    static List<Accelerator> withMemory(List<Accelerator> byBus, NvidiaSmi.Result smi) {
        List<Accelerator> out = new ArrayList<>();
        List<String> unknown = new ArrayList<>();
        for (int i = 0; i < byBus.size(); i++) {
            Accelerator a = byBus.get(i);
            final int index = i;
            NvidiaSmi.Gpu g = smi.gpus().stream().filter(x -> x.index() == index).findFirst().orElse(null);
            String why = g == null ? (smi.reason().isEmpty() ? "nvidia-smi does not list index " + i : smi.reason())
                    : g.memoryBytes() == 0 ? "nvidia-smi reports no memory.total" : "";
            if (why.isEmpty()) {
                out.add(new Accelerator(a.id(), a.kind(), a.name(), g.computeCapability(), g.memoryBytes(), 0,
                        a.cores()));
            } else {
                unknown.add(a.id() + " (" + why + ")");
                out.add(new Accelerator(a.id(), a.kind(), a.name() + " [memory unknown: " + why
                        + "; set memory.budget.gpu.mb]", g == null ? "" : g.computeCapability(), 0, 0, a.cores()));
            }
        }
        if (!unknown.isEmpty()) {
            LOG.warn("GPU memory unknown for {}: nothing is placed on such a GPU until memory.budget.gpu.mb in"
                    + " conf/io.tollgate.accelerators.cfg gives it a budget", String.join(", ", unknown));
        }
        return out;
    }

    private record Jetson(String model, String computeCapability, int dlaCores) {
    }

    /** The Jetson this is, from the device tree, or null when it is none. */
    private Jetson jetson() {
        Path dt = root.resolve("proc/device-tree");
        List<String> compatible = nulSeparated(dt.resolve("compatible"));
        String soc = compatible.stream().filter(c -> c.startsWith("nvidia,tegra")).findFirst().orElse(null);
        if (soc == null) {
            return null;
        }
        String model = String.join(" ", nulSeparated(dt.resolve("model")));
        // CUDA compute capability of each Tegra SoC's iGPU (NVIDIA's CUDA GPUs table).
        String cc = switch (soc) {
            case "nvidia,tegra234" -> "8.7";   // Orin
            case "nvidia,tegra194" -> "7.2";   // Xavier
            case "nvidia,tegra186" -> "6.2";   // TX2
            case "nvidia,tegra210" -> "5.3";   // Nano, TX1
            default -> "";
        };
        return new Jetson(model.isEmpty() ? soc : model, cc, dlaCores(dt));
    }

    /** The {@code nvdla*} device-tree nodes that are enabled (status "okay", or no status). */
    private int dlaCores(Path dt) {
        if (!Files.isDirectory(dt)) {
            return 0;
        }
        try (Stream<Path> s = Files.find(dt, 4, (p, a) -> a.isDirectory()
                && p.getFileName().toString().startsWith("nvdla"))) {
            return (int) s.filter(p -> {
                List<String> status = nulSeparated(p.resolve("status"));
                return status.isEmpty() || status.get(0).equals("okay");
            }).count();
        } catch (IOException | UncheckedIOException e) {
            LOG.warn("cannot walk {}: {}; no DLA is used", dt, e.toString());
            return 0;
        }
    }

    private static List<String> nulSeparated(Path file) {
        if (!Files.isRegularFile(file)) {
            return List.of();
        }
        try {
            String text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
            return Stream.of(text.split("\0")).map(String::trim).filter(s -> !s.isEmpty()).toList();
        } catch (IOException e) {
            LOG.warn("cannot read {}: {}", file, e.toString());
            return List.of();
        }
    }

    private static List<String> lines(Path file) {
        if (!Files.isRegularFile(file)) {
            return List.of();
        }
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            LOG.warn("cannot read {}: {}", file, e.toString());
            return List.of();
        }
    }
}

package io.tollgate.tools.profile;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a box says about itself, read from files under a root ({@code /} on a real box, a folder of recorded files in
 * tests): the device-tree model and {@code /etc/nv_tegra_release} on a Jetson, the NVIDIA driver's
 * {@code /proc/driver/nvidia} on x86, the CPU architecture ({@code /proc/cpuinfo}, else {@code os.arch}) and the
 * memory ({@code /proc/meminfo}). Nothing is executed (no {@code nvidia-smi}): a profile is chosen before the JVM
 * options are known, and a file read cannot hang.
 *
 * @param arch           {@code x86_64} or {@code aarch64} (other values as {@code os.arch} spells them)
 * @param memTotalMiB    {@code MemTotal} of /proc/meminfo in MiB; 0 when unknown
 * @param deviceTreeModel /proc/device-tree/model without its trailing NUL; null when absent (not a device-tree box)
 * @param l4tRelease     the L4T major release of a Jetson, e.g. {@code R36} (JetPack 6); null when absent
 * @param nvidiaGpus     the model names the NVIDIA driver lists under /proc/driver/nvidia/gpus/{@literal *}/information
 * @param nvidiaDriver   the driver version from /proc/driver/nvidia/version; null when no driver is loaded
 * @param evidence       one line per fact: what was read where (for {@code profile detect} and the start-up log)
 */
public record DeviceFacts(String arch, long memTotalMiB, String deviceTreeModel, String l4tRelease,
        List<String> nvidiaGpus, String nvidiaDriver, List<String> evidence) {

    private static final Pattern L4T = Pattern.compile("^#\\s*(R\\d+)\\s*\\(release\\)(?:,\\s*REVISION:\\s*([\\w.]+))?");
    private static final Pattern DRIVER = Pattern.compile("Kernel Module\\s+(?:for\\s+\\S+\\s+)?([0-9][0-9.]*)");
    private static final Pattern MEM_TOTAL = Pattern.compile("(?m)^MemTotal:\\s+(\\d+)\\s*kB");

    public DeviceFacts {
        nvidiaGpus = List.copyOf(nvidiaGpus);
        evidence = List.copyOf(evidence);
    }

    /**
     * Reads the facts under {@code root}. A file that is absent or unreadable is a fact too ("no NVIDIA driver"),
     * never an error.
     *
     * @param osArch the JVM's {@code os.arch}, used only when {@code ROOT/proc/cpuinfo} names no architecture
     */
    public static DeviceFacts read(Path root, String osArch) {
        List<String> why = new ArrayList<>();
        String cpuinfo = text(root.resolve("proc/cpuinfo"));
        String arch = archFromCpuinfo(cpuinfo);
        if (arch != null) {
            why.add("arch " + arch + " (" + path(root, "proc/cpuinfo") + ")");
        } else {
            arch = normalizeArch(osArch);
            why.add("arch " + arch + " (os.arch " + osArch + "; " + path(root, "proc/cpuinfo") + " names none)");
        }
        long memMiB = 0;
        String meminfo = text(root.resolve("proc/meminfo"));
        Matcher m = meminfo == null ? null : MEM_TOTAL.matcher(meminfo);
        if (m != null && m.find()) {
            memMiB = Long.parseLong(m.group(1)) / 1024;
            why.add("memory " + memMiB + " MiB (" + path(root, "proc/meminfo") + " MemTotal)");
        } else {
            why.add("memory unknown (no MemTotal in " + path(root, "proc/meminfo") + ")");
        }
        String model = text(root.resolve("proc/device-tree/model"));
        if (model != null) {
            model = model.replace("\0", "").trim();
            why.add("device-tree model \"" + model + "\" (" + path(root, "proc/device-tree/model") + ")");
        } else {
            why.add("no device-tree model (" + path(root, "proc/device-tree/model") + " absent)");
        }
        String l4t = null;
        String release = text(root.resolve("etc/nv_tegra_release"));
        if (release != null) {
            Matcher r = L4T.matcher(release.lines().findFirst().orElse(""));
            if (r.find()) {
                l4t = r.group(1);
                why.add("L4T " + l4t + (r.group(2) != null ? "." + r.group(2) : "") + " (" + path(root,
                        "etc/nv_tegra_release") + ")");
            } else {
                why.add("L4T unknown (" + path(root, "etc/nv_tegra_release") + " does not start with \"# R<n> (release)\")");
            }
        } else {
            why.add("no L4T (" + path(root, "etc/nv_tegra_release") + " absent: not a Jetson)");
        }
        List<String> gpus = new ArrayList<>();
        Path gpuDir = root.resolve("proc/driver/nvidia/gpus");
        if (Files.isDirectory(gpuDir)) {
            try (DirectoryStream<Path> each = Files.newDirectoryStream(gpuDir)) {
                List<Path> sorted = new ArrayList<>();
                each.forEach(sorted::add);
                sorted.sort(null);
                for (Path g : sorted) {
                    String info = text(g.resolve("information"));
                    if (info != null) {
                        gpus.add(info.lines().filter(l -> l.startsWith("Model:")).map(l -> l.substring(6).trim())
                                .findFirst().orElse("NVIDIA GPU " + g.getFileName()));
                    }
                }
            } catch (IOException e) {
                // unreadable: no GPU we could use
            }
        }
        why.add(gpus.isEmpty() ? "no NVIDIA GPU (" + path(root, "proc/driver/nvidia/gpus") + " lists none)"
                : "NVIDIA GPU(s) " + gpus + " (" + path(root, "proc/driver/nvidia/gpus") + ")");
        String driver = null;
        String version = text(root.resolve("proc/driver/nvidia/version"));
        if (version != null) {
            Matcher d = DRIVER.matcher(version);
            driver = d.find() ? d.group(1) : version.lines().findFirst().orElse("").trim();
            why.add("NVIDIA driver " + driver + " (" + path(root, "proc/driver/nvidia/version") + ")");
        }
        return new DeviceFacts(arch, memMiB, model, l4t, gpus, driver, why);
    }

    /** {@code x86_64}, {@code aarch64}, {@code riscv64}, or null when /proc/cpuinfo names none of them. */
    static String archFromCpuinfo(String cpuinfo) {
        if (cpuinfo == null) {
            return null;
        }
        for (String line : cpuinfo.lines().toList()) {
            String l = line.toLowerCase(Locale.ROOT);
            if (l.startsWith("cpu architecture") && l.substring(l.indexOf(':') + 1).trim().equals("8")) {
                return "aarch64";
            }
            if (l.startsWith("vendor_id") || (l.startsWith("flags") && l.contains(" lm "))) {
                return "x86_64";
            }
            if (l.startsWith("isa") && l.substring(l.indexOf(':') + 1).trim().startsWith("rv64")) {
                return "riscv64";
            }
        }
        return null;
    }

    /** {@code os.arch} as Linux spells it: {@code amd64} is {@code x86_64}, {@code arm64} is {@code aarch64}. */
    static String normalizeArch(String osArch) {
        String a = String.valueOf(osArch).toLowerCase(Locale.ROOT);
        switch (a) {
            case "amd64": case "x86-64": case "x86_64": return "x86_64";
            case "arm64": case "aarch64": return "aarch64";
            default: return a;
        }
    }

    private static String path(Path root, String relative) {
        return "/" + relative + (root.toAbsolutePath().normalize().getParent() == null ? "" : " under " + root);
    }

    private static String text(Path file) {
        try {
            return Files.isRegularFile(file) ? Files.readString(file, StandardCharsets.ISO_8859_1) : null;
        } catch (IOException e) {
            return null;
        }
    }
}

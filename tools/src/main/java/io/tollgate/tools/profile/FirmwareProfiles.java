package io.tollgate.tools.profile;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The profiles of a distribution ({@code profiles/*.profile}) and the choice of one for a box: an explicit override
 * ({@code run --profile NAME}, else {@code TOLLGATE_PROFILE}, else {@code name} in {@code conf/io.tollgate.profile.cfg}),
 * else detection: among the profiles whose {@code match.*} conditions all hold for the box's {@link DeviceFacts}, the
 * one with the most conditions (the most specific: a Jetson profile's arch + L4T + device-tree model beats
 * {@code arm64-cpu}'s arch alone). Every folder entry is read at once: one malformed file stops the start, whichever
 * profile would be chosen (docs/hardware.md, "Profiles").
 */
public final class FirmwareProfiles {
    /** The launcher's own configuration file, {@code conf/io.tollgate.profile.cfg}: {@code name=} (empty = detect). */
    public static final String PROFILE_PID = "io.tollgate.profile";
    /** The environment variable naming a profile. */
    public static final String ENV = "TOLLGATE_PROFILE";

    private final Path dir;
    private final Map<String, FirmwareProfile> byName;

    private FirmwareProfiles(Path dir, Map<String, FirmwareProfile> byName) {
        this.dir = dir;
        this.byName = byName;
    }

    /**
     * Reads every {@code *.profile} in {@code dir}.
     *
     * @throws ProfileException UNKNOWN when the folder is missing or holds no profile, MALFORMED for the first bad file
     */
    public static FirmwareProfiles load(Path dir) throws ProfileException {
        if (!Files.isDirectory(dir)) {
            throw new ProfileException(ProfileException.Reason.UNKNOWN, "no firmware profiles folder at " + dir
                    + "; the distribution is incomplete (it ships profiles/*.profile)");
        }
        Map<String, FirmwareProfile> all = new TreeMap<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + FirmwareProfile.SUFFIX)) {
            List<Path> sorted = new ArrayList<>();
            files.forEach(sorted::add);
            sorted.sort(null);
            for (Path f : sorted) {
                FirmwareProfile p = FirmwareProfile.read(f);
                all.put(p.name(), p);
            }
        } catch (IOException e) {
            throw new ProfileException(ProfileException.Reason.UNKNOWN, "cannot list the firmware profiles in " + dir
                    + ": " + e.getMessage());
        }
        if (all.isEmpty()) {
            throw new ProfileException(ProfileException.Reason.UNKNOWN, "no firmware profile (*"
                    + FirmwareProfile.SUFFIX + ") in " + dir + "; the distribution is incomplete");
        }
        return new FirmwareProfiles(dir, all);
    }

    public Path folder() {
        return dir;
    }

    /** Every profile, by name. */
    public List<FirmwareProfile> all() {
        return List.copyOf(byName.values());
    }

    /** How one profile's {@code match.*} conditions fare on a box: each condition as held or failed, in words. */
    public record Verdict(FirmwareProfile profile, List<String> held, List<String> failed) {
        public boolean matches() {
            return failed.isEmpty();
        }
    }

    /** {@code profile}'s conditions checked against {@code facts}. */
    public static Verdict verdict(FirmwareProfile profile, DeviceFacts facts) {
        List<String> held = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        for (Map.Entry<String, String> c : new TreeMap<>(profile.match()).entrySet()) {
            String want = c.getValue();
            boolean ok;
            String have;
            switch (c.getKey()) {
                case "arch":
                    ok = want.equals(facts.arch());
                    have = facts.arch();
                    break;
                case "device.tree.model":
                    ok = facts.deviceTreeModel() != null && Pattern.compile(want, Pattern.CASE_INSENSITIVE)
                            .matcher(facts.deviceTreeModel()).find();
                    have = facts.deviceTreeModel() == null ? "none" : "\"" + facts.deviceTreeModel() + "\"";
                    break;
                case "l4t.release":
                    ok = want.equals(facts.l4tRelease());
                    have = facts.l4tRelease() == null ? "none" : facts.l4tRelease();
                    break;
                case "nvidia.gpu":
                    ok = Boolean.parseBoolean(want) == !facts.nvidiaGpus().isEmpty();
                    have = facts.nvidiaGpus().isEmpty() ? "none" : facts.nvidiaGpus().toString();
                    break;
                case "memory.min.mb":
                    ok = facts.memTotalMiB() >= Long.parseLong(want);
                    have = facts.memTotalMiB() + " MiB";
                    break;
                default:
                    throw new IllegalStateException("match." + c.getKey());
            }
            (ok ? held : failed).add("match." + c.getKey() + "=" + want + " (box: " + have + ")");
        }
        return new Verdict(profile, held, failed);
    }

    /** Which profile and why. */
    public record Choice(String name, String source) {
    }

    /**
     * The override in force: {@code option} ({@code --profile}), else the {@value #ENV} environment variable, else
     * {@code name} in {@code conf/io.tollgate.profile.cfg}; null when none (detect).
     */
    public static Choice override(String option, Map<String, String> env, Path confDir) throws ProfileException {
        if (option != null && !option.isBlank()) {
            return new Choice(option.trim(), "--profile");
        }
        String e = env.get(ENV);
        if (e != null && !e.isBlank()) {
            return new Choice(e.trim(), ENV);
        }
        Path cfg = confDir == null ? null : confDir.resolve(PROFILE_PID + ".cfg");
        if (cfg != null && Files.isRegularFile(cfg)) {
            Properties p = new Properties();
            try (Reader r = Files.newBufferedReader(cfg, StandardCharsets.UTF_8)) {
                p.load(r);
            } catch (IOException | IllegalArgumentException x) {
                throw new ProfileException(ProfileException.Reason.MALFORMED, "cannot read " + cfg + ": " + x.getMessage());
            }
            for (String key : p.stringPropertyNames()) {
                if (!key.equals("name")) {
                    throw new ProfileException(ProfileException.Reason.MALFORMED, cfg + ": unknown key '" + key
                            + "'; it holds only name= (a profile name, empty = detect)");
                }
            }
            String n = p.getProperty("name", "").trim();
            if (!n.isEmpty()) {
                return new Choice(n, cfg.toString());
            }
        }
        return null;
    }

    /**
     * The chosen profile.
     *
     * @param how        "--profile", "TOLLGATE_PROFILE", the conf file, or "detected"
     * @param why        the facts and, when detected, the conditions that chose it
     * @param mismatches for an override: the conditions of the profile this box fails (empty when detected)
     */
    public record Selection(FirmwareProfile profile, String how, List<String> why, List<String> mismatches) {
        /** One line for the log: {@code firmware profile x86-cpu (detected: match.arch=x86_64 ...)}. */
        public String summary() {
            return "firmware profile " + profile.name() + " (" + (how.equals("detected") ? "detected: "
                    + String.join(", ", why) : "chosen by " + how) + ")";
        }
    }

    /**
     * Chooses a profile for a box.
     *
     * @param override null to detect
     * @throws ProfileException UNKNOWN for an override naming no profile; NO_MATCH when none matches or two tie
     */
    public Selection select(DeviceFacts facts, Choice override) throws ProfileException {
        if (override != null) {
            FirmwareProfile p = byName.get(override.name());
            if (p == null) {
                throw new ProfileException(ProfileException.Reason.UNKNOWN, "firmware profile '" + override.name()
                        + "' (" + override.source() + ") is not in " + dir + "; the profiles are " + byName.keySet()
                        + " (bin/tollgate profile list)");
            }
            return new Selection(p, override.source(), facts.evidence(), verdict(p, facts).failed());
        }
        List<Verdict> matching = all().stream().map(p -> verdict(p, facts)).filter(Verdict::matches)
                .sorted(Comparator.comparingInt((Verdict v) -> -v.held().size())).toList();
        if (matching.isEmpty()) {
            throw new ProfileException(ProfileException.Reason.NO_MATCH, "no firmware profile in " + dir
                    + " matches this box (" + String.join("; ", facts.evidence()) + "); choose one with run --profile "
                    + "NAME or TOLLGATE_PROFILE (bin/tollgate profile list), or add one (docs/hardware.md)");
        }
        Verdict best = matching.get(0);
        if (matching.size() > 1 && matching.get(1).held().size() == best.held().size()) {
            throw new ProfileException(ProfileException.Reason.NO_MATCH, "firmware profiles "
                    + best.profile().name() + " and " + matching.get(1).profile().name() + " both match this box with "
                    + best.held().size() + " conditions; make one more specific, or choose with run --profile NAME");
        }
        return new Selection(best.profile(), "detected", best.held(), List.of());
    }
}

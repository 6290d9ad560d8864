package io.tollgate.tools.profile;

import io.tollgate.tools.ConfCommand;
import io.tollgate.tools.ExitCodes;
import io.tollgate.tools.ToolException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tollgate profile detect|show|list}: the firmware profile of this box, what was detected and why, and the
 * configuration it gives with the owner's {@code conf/} on top (docs/hardware.md, "Profiles"). The hidden
 * {@code profile jvm-options} prints the chosen profile's JVM options one per line: {@code bin/tollgate run} asks it
 * before starting the appliance's JVM, and stops there (its exit code, the reason on stderr) when no profile applies.
 */
@Command(name = "profile", description = "The firmware profile: per device class settings, detected at start-up.",
        subcommands = {ProfileCommand.Detect.class, ProfileCommand.Show.class, ProfileCommand.ListProfiles.class,
            ProfileCommand.JvmOptions.class})
public final class ProfileCommand {
    /**
     * {@code run}'s exit code when no firmware profile applies (docs/operations.md, "Start-up failures and exit
     * codes"); {@code profile jvm-options}, run's first step in {@code bin/tollgate}, exits with it too.
     */
    public static final int NO_PROFILE_EXIT = 14;

    /** Options every profile command shares. */
    abstract static class ProfileOptions extends ConfCommand {
        @Option(names = "--profile", paramLabel = "NAME", description = "Use this profile instead of detecting one "
                + "(as run --profile; default: TOLLGATE_PROFILE, else name in CONF/io.tollgate.profile.cfg, else "
                + "detection).")
        String profile;

        @Option(names = "--profiles", paramLabel = "DIR", hidden = true,
                description = "The profiles folder (default: TOLLGATE_HOME/profiles).")
        Path profiles;

        @Option(names = "--root", paramLabel = "DIR", hidden = true,
                description = "Read the box's files under DIR instead of / (tests: recorded files of a device class).")
        Path root;

        FirmwareProfiles catalog() throws ProfileException {
            return FirmwareProfiles.load(profilesFolder(profiles));
        }

        DeviceFacts facts() {
            return DeviceFacts.read(root != null ? root : Paths.get(System.getProperty("tollgate.profile.root", "/")),
                    System.getProperty("os.arch"));
        }

        FirmwareProfiles.Selection select(FirmwareProfiles catalog, DeviceFacts facts) throws ProfileException {
            return catalog.select(facts, FirmwareProfiles.override(profile, System.getenv(), conf()));
        }

        /** The profile chosen for this box; none is a failure with {@code exitCode} and the reason. */
        FirmwareProfiles.Selection chosen(int exitCode) throws ToolException {
            try {
                return select(catalog(), facts());
            } catch (ProfileException e) {
                throw new ToolException(exitCode, e.getMessage());
            }
        }
    }

    /** {@code <tollgate.home>/profiles} unless {@code given}. */
    public static Path profilesFolder(Path given) {
        if (given != null) {
            return given;
        }
        String home = System.getProperty("tollgate.home", "");
        return home.isBlank() ? Paths.get("profiles") : Paths.get(home, "profiles");
    }

    /** A profile problem as the command's failure: exit 1, the reason on one line. */
    static ToolException failure(ProfileException e) {
        return new ToolException(ExitCodes.FAILED, e.getMessage());
    }

    /** {@code profile detect}. */
    @Command(name = "detect", description = {"What this box says about itself (device tree, L4T release, the NVIDIA "
            + "driver, CPU and memory), how each profile's conditions fare, and which profile is chosen and why."})
    public static final class Detect extends ProfileOptions {
        @Override
        public Integer call() throws Exception {
            PrintStream out = out();
            DeviceFacts facts = facts();
            out.println("this box:");
            facts.evidence().forEach(l -> out.println("  " + l));
            FirmwareProfiles catalog;
            try {
                catalog = catalog();
            } catch (ProfileException e) {
                throw failure(e);
            }
            out.println("profiles in " + catalog.folder() + ":");
            for (FirmwareProfile p : catalog.all()) {
                FirmwareProfiles.Verdict v = FirmwareProfiles.verdict(p, facts);
                out.println("  " + p.name() + ": " + (v.matches() ? "matches, " + v.held().size() + " condition(s): "
                        + String.join(", ", v.held()) : "no: " + String.join(", ", v.failed())));
            }
            FirmwareProfiles.Selection s;
            try {
                s = select(catalog, facts);
            } catch (ProfileException e) {
                throw failure(e);
            }
            printChoice(out, s);
            return ExitCodes.OK;
        }
    }

    static void printChoice(PrintStream out, FirmwareProfiles.Selection s) {
        if (s.how().equals("detected")) {
            out.println("chosen: " + s.profile().name() + " (detected: the most specific match, "
                    + String.join(", ", s.why()) + ")");
        } else {
            out.println("chosen: " + s.profile().name() + " (by " + s.how() + ")");
            if (!s.mismatches().isEmpty()) {
                out.println("warning: this box does not match " + s.profile().name() + ": "
                        + String.join(", ", s.mismatches()) + "; what it lacks falls back (a GPU: models run on the CPU)");
            }
        }
    }

    /** {@code profile show}. */
    @Command(name = "show", description = {"The configuration this box starts with: every key of every PID, its value "
            + "and its source (the profile, or the conf file that overrides it), and the JVM options."})
    public static final class Show extends ProfileOptions {
        @Override
        public Integer call() throws Exception {
            PrintStream out = out();
            FirmwareProfiles.Selection s = chosen(ExitCodes.FAILED);
            printChoice(out, s);
            out.println("jvm.options: " + String.join(" ", s.profile().jvmOptions()) + "  (profile "
                    + s.profile().name() + "; TOLLGATE_JAVA_OPTS come after them and win)");
            List<EffectiveConfiguration.Entry> entries = EffectiveConfiguration.of(s.profile(), conf());
            String pid = null;
            for (EffectiveConfiguration.Entry e : entries) {
                if (!e.pid().equals(pid)) {
                    pid = e.pid();
                    out.println(pid + ":");
                }
                out.println("  " + e.key() + "=" + e.value() + "  (" + e.source()
                        + (e.profileValue() != null ? ", over profile " + s.profile().name() + "'s " + e.profileValue()
                        : "") + ")");
            }
            return ExitCodes.OK;
        }
    }

    /** {@code profile list}. */
    @Command(name = "list", description = "Every profile: name, what it is for, its conditions, and whether this box "
            + "matches them.")
    public static final class ListProfiles extends ProfileOptions {
        @Override
        public Integer call() throws Exception {
            FirmwareProfiles catalog;
            try {
                catalog = catalog();
            } catch (ProfileException e) {
                throw failure(e);
            }
            DeviceFacts facts = facts();
            for (FirmwareProfile p : catalog.all()) {
                boolean matches = FirmwareProfiles.verdict(p, facts).matches();
                out().println(p.name() + (matches ? "  [matches this box]" : "") + "  " + p.description());
                out().println("  match: " + new java.util.TreeMap<>(p.match()));
            }
            return ExitCodes.OK;
        }
    }

    /** {@code profile jvm-options}: for {@code bin/tollgate run}, before it starts the appliance's JVM. */
    @Command(name = "jvm-options", hidden = true, description = "The chosen profile's JVM options, one per line.")
    public static final class JvmOptions extends ProfileOptions {
        /**
         * Where the options go instead of stdout: {@code bin/tollgate} reads them from a file, because the JVM itself
         * writes to stdout when TOLLGATE_JAVA_OPTS ask it to ({@code -Xlog:gc}, {@code -XX:+PrintCompilation}), and
         * those lines must never become options of the appliance's JVM.
         */
        @Option(names = "--out", paramLabel = "FILE", description = "Write the options to FILE (one per line, "
                + "replaced) instead of stdout.")
        Path outFile;

        @Override
        public Integer call() throws Exception {
            List<String> options = chosen(NO_PROFILE_EXIT).profile().jvmOptions();
            if (outFile == null) {
                options.forEach(out()::println);
                return ExitCodes.OK;
            }
            try {
                java.nio.file.Files.write(outFile, options, java.nio.charset.StandardCharsets.UTF_8);
            } catch (java.io.IOException e) {
                throw new ToolException(ExitCodes.IO_ERROR, "cannot write the JVM options to " + outFile + ": " + e);
            }
            return ExitCodes.OK;
        }
    }

    /** For the launcher's log and checks: the profile chosen for {@code conf} with {@code option} (run --profile). */
    public static FirmwareProfiles.Selection choose(Path home, Path conf, String option, Path root,
            Map<String, String> env) throws ProfileException {
        FirmwareProfiles catalog = FirmwareProfiles.load(home.resolve("profiles"));
        return catalog.select(DeviceFacts.read(root, System.getProperty("os.arch")),
                FirmwareProfiles.override(option, env, conf));
    }
}

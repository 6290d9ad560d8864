package io.tollgate.runtime;

import io.tollgate.tools.BrokerUrls;
import io.tollgate.tools.ExitCodes;
import io.tollgate.tools.PathValues;
import io.tollgate.tools.ToolException;
import io.tollgate.tools.profile.FirmwareProfiles;
import io.tollgate.tools.profile.ProfileCommand;
import io.tollgate.tools.profile.ProfileException;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code tollgate run}: starts the appliance in the foreground and returns once it has stopped. */
@Command(name = "run", description = {
    "Start the appliance in the foreground; SIGTERM or Ctrl-C stops it cleanly (exit code 143 after SIGTERM).",
    "Configuration comes from conf/*.cfg; the options below override it for this run."})
final class RunCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "--port", paramLabel = "N", description = "HTTP port of the inference endpoint (0 = any free port; "
            + "default: conf/io.tollgate.endpoint.cfg, else 8000).")
    private String port;

    private String plugins = "plugins";
    private String licenses = "licenses";
    private String data = "data";
    private String conf;

    @Option(names = "--mqtt", paramLabel = "URL",
            description = "Send usage to this MQTT broker, e.g. ssl://broker:8883 (tcp:// only to this box: "
                    + "tcp://127.0.0.1:1883).")
    private String mqtt;

    private String cloudKey;

    private long startTimeoutMs = ApplianceLauncher.DEFAULT_START_TIMEOUT_MS;

    @Option(names = "--start-timeout", paramLabel = "SECONDS", description = "How long the endpoint, serving, the "
            + "usage journal and the device key may take to start before run gives up with exit 13 (default: 60).")
    private void startTimeout(String value) {
        long s;
        try {
            s = Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            s = -1;
        }
        if (s < 1 || s > 3600) {
            throw new ParameterException(spec.commandLine(), "--start-timeout must be a number of seconds from 1 to "
                    + "3600, not '" + value + "'");
        }
        startTimeoutMs = s * 1000;
    }

    @Option(names = "--cloud-key", paramLabel = "FILE", description = "The cloud's Ed25519 public key (PEM) every ack "
            + "must be signed with; needed with a broker (default: cloud.public.key.file of conf/io.tollgate.sync.cfg, "
            + "which bin/tollgate device enroll sets).")
    private void cloudKey(String value) {
        cloudKey = PathValues.nonEmpty(spec, "--cloud-key", value).toAbsolutePath().normalize().toString();
    }

    @Option(names = "--demo", description = "Also start an embedded MQTT broker and the billing endpoint "
            + "(http://127.0.0.1:8080) on this box, and send usage there (bin/tollgate does this).")
    private boolean demo;

    @Option(names = "--profile", paramLabel = "NAME", description = "The firmware profile (bin/tollgate profile list) "
            + "instead of the one detected (default: TOLLGATE_PROFILE, else name in conf/io.tollgate.profile.cfg, else "
            + "detection; bin/tollgate profile detect says why).")
    private String profile;

    @Option(names = "--home", paramLabel = "DIR", hidden = true,
            description = "The distribution folder (default: system property tollgate.home, else .).")
    private String home;

    @Option(names = "--check", hidden = true,
            description = "Check the options and exit (bin/tollgate run --demo does, before it starts the broker).")
    private boolean checkOnly;

    @Option(names = "--plugins", paramLabel = "DIR",
            description = "Plugin folder, watched for jars to install, replace and remove (default: plugins).")
    private void plugins(String value) {
        plugins = PathValues.nonEmpty(spec, "--plugins", value).toString();
    }

    @Option(names = "--licenses", paramLabel = "DIR",
            description = "Licenses folder (*.lic, *.revocations), watched: a license added, replaced or removed "
                    + "takes effect without a restart (default: licenses).")
    private void licenses(String value) {
        licenses = PathValues.nonEmpty(spec, "--licenses", value).toString();
    }

    @Option(names = "--data", paramLabel = "DIR",
            description = "Data folder: usage journal, device key, sync cursor (default: data).")
    private void data(String value) {
        data = PathValues.nonEmpty(spec, "--data", value).toString();
    }

    @Option(names = "--conf", paramLabel = "DIR",
            description = "Configuration folder, one <pid>.cfg per component; must exist (default: conf).")
    private void conf(String value) {
        conf = PathValues.nonEmpty(spec, "--conf", value).toString();
    }

    @Override
    public Integer call() throws Exception {
        if (demo) {
            throw new ToolException(ExitCodes.USAGE, "--demo is run by bin/tollgate, which starts the broker and the "
                    + "billing endpoint beside the appliance; start it with bin/tollgate run --demo");
        }
        ApplianceLauncher launcher = launcher();
        if (!checkOnly) {
            launcher.startAndAwait();
        }
        return ExitCodes.OK;
    }

    /**
     * The launcher these options describe, after checking them: relative folders are resolved against the
     * distribution folder; a bad value is exit 2, a folder that is missing (--conf) or a file is exit 3.
     */
    ApplianceLauncher launcher() throws ToolException {
        Path h = Paths.get(home != null ? home : System.getProperty("tollgate.home", ".")).toAbsolutePath().normalize();
        Path confDir = resolve(h, conf != null ? conf : "conf");
        Path pluginsDir = resolve(h, plugins);
        Path dataDir = resolve(h, data);
        Path licensesDir = resolve(h, licenses);
        if (conf != null && !Files.isDirectory(confDir)) {
            // the appliance would start on defaults: most likely not what was meant
            PathValues.notAFile("--conf", confDir);
            throw new ToolException(ExitCodes.IO_ERROR, "--conf " + confDir + ": no such directory");
        }
        PathValues.notAFile("--plugins", pluginsDir);
        PathValues.notAFile("--data", dataDir);
        PathValues.notAFile("--licenses", licensesDir);
        Map<String, Map<String, String>> overrides = new HashMap<>();
        if (port != null) {
            overrides.computeIfAbsent(ConfigFiles.ENDPOINT_PID, k -> new HashMap<>()).put("port", checkedPort());
        }
        if (mqtt != null) {
            String wrong = BrokerUrls.problem(mqtt, allowPlain(confDir));
            if (wrong != null) {
                throw new ParameterException(spec.commandLine(), "--mqtt " + wrong);
            }
            overrides.computeIfAbsent(ConfigFiles.SYNC_PID, k -> new HashMap<>()).put("broker.url", mqtt);
        }
        if (cloudKey != null) {
            overrides.computeIfAbsent(ConfigFiles.SYNC_PID, k -> new HashMap<>()).put("cloud.public.key.file", cloudKey);
        }
        // Asked for on this run's command line, the uplink is required: a broker URL the uplink refuses stops the
        // start (exit 12) instead of an appliance that keeps every record on the box unnoticed.
        ApplianceLauncher launcher = new ApplianceLauncher(h, confDir, pluginsDir, dataDir, overrides)
                .startTimeoutMs(startTimeoutMs).uplinkRequired(mqtt != null).licenses(licensesDir);
        launcher.checkSyncConfig();
        launcher.profile(profile(h, confDir));
        return launcher;
    }

    /**
     * The firmware profile for this run (docs/hardware.md, "Profiles"); exit 14 with the reason when none applies. The
     * box's files are read under the system property {@code tollgate.profile.root} (tests), else {@code /}.
     */
    private FirmwareProfiles.Selection profile(Path home, Path confDir) throws StartFailure {
        try {
            return ProfileCommand.choose(home, confDir, profile,
                    Paths.get(System.getProperty("tollgate.profile.root", "/")), System.getenv());
        } catch (ProfileException e) {
            throw new StartFailure(StartFailure.PROFILE, e.getMessage());
        }
    }

    /** {@code allow.plain} of the sync configuration, which lets tcp:// go beyond loopback (sync's own rule). */
    private static boolean allowPlain(Path confDir) throws ToolException {
        Path file = confDir.resolve(ConfigFiles.SYNC_PID + ".cfg");
        if (!Files.isRegularFile(file)) {
            return false;
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (IOException e) {
            throw new ToolException(ExitCodes.IO_ERROR, "cannot read " + file + ": " + PathValues.reason(e), e);
        }
        return "true".equalsIgnoreCase(p.getProperty("allow.plain", "").trim());
    }

    private String checkedPort() {
        try {
            int p = Integer.parseInt(port);
            if (p >= 0 && p <= 65535) {
                return port;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new ParameterException(spec.commandLine(), "--port must be a number from 0 to 65535, not '" + port + "'");
    }

    private static Path resolve(Path home, String dir) {
        Path p = Paths.get(dir);
        return (p.isAbsolute() ? p : home.resolve(p)).normalize();
    }
}

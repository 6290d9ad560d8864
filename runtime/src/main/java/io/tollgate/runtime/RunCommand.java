package io.tollgate.runtime;

import io.tollgate.tools.ExitCodes;
import io.tollgate.tools.ToolException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code tollgate run}: starts the appliance in the foreground and returns once it has stopped. */
@Command(name = "run", description = {
    "Start the appliance in the foreground; SIGTERM or Ctrl-C stops it cleanly.",
    "Configuration comes from conf/*.cfg; the options below override it for this run."})
final class RunCommand implements Callable<Integer> {
    @Option(names = "--port", paramLabel = "N", description = "HTTP port of the inference endpoint (0 = any free port; "
            + "default: conf/io.tollgate.endpoint.cfg, else 8000).")
    private String port;

    @Option(names = "--plugins", paramLabel = "DIR", defaultValue = "plugins",
            description = "Plugin folder, watched for jars to install, replace and remove (default: ${DEFAULT-VALUE}).")
    private String plugins;

    @Option(names = "--data", paramLabel = "DIR", defaultValue = "data",
            description = "Data folder: usage journal, device key, sync cursor (default: ${DEFAULT-VALUE}).")
    private String data;

    @Option(names = "--conf", paramLabel = "DIR", defaultValue = "conf",
            description = "Configuration folder, one <pid>.cfg per component (default: ${DEFAULT-VALUE}).")
    private String conf;

    @Option(names = "--mqtt", paramLabel = "URL",
            description = "Send usage to this MQTT broker, e.g. tcp://broker:1883 or ssl://broker:8883.")
    private String mqtt;

    @Option(names = "--demo", description = "Also start an embedded MQTT broker and the billing endpoint "
            + "(http://127.0.0.1:8080) on this box, and send usage there (bin/tollgate does this).")
    private boolean demo;

    @Option(names = "--home", paramLabel = "DIR", hidden = true,
            description = "The distribution folder (default: system property tollgate.home, else .).")
    private String home;

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (demo) {
            throw new ToolException(ExitCodes.USAGE, "--demo is run by bin/tollgate, which starts the broker and the "
                    + "billing endpoint beside the appliance; start it with bin/tollgate run --demo");
        }
        launcher().startAndAwait();
        return ExitCodes.OK;
    }

    /** The launcher these options describe; relative folders are resolved against the distribution folder. */
    ApplianceLauncher launcher() {
        Path h = Paths.get(home != null ? home : System.getProperty("tollgate.home", ".")).toAbsolutePath().normalize();
        Map<String, Map<String, String>> overrides = new HashMap<>();
        if (port != null) {
            overrides.computeIfAbsent(ConfigFiles.ENDPOINT_PID, k -> new HashMap<>()).put("port", checkedPort());
        }
        if (mqtt != null) {
            if (!mqtt.matches("(tcp|ssl|ws|wss)://[^/\\s]+")) {
                throw new ParameterException(spec.commandLine(),
                        "--mqtt must look like tcp://host:1883 or ssl://host:8883, not '" + mqtt + "'");
            }
            overrides.computeIfAbsent(ConfigFiles.SYNC_PID, k -> new HashMap<>()).put("broker.url", mqtt);
        }
        return new ApplianceLauncher(h, resolve(h, conf), resolve(h, plugins), resolve(h, data), overrides);
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

package io.tollgate.runtime;

import java.io.PrintStream;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.List;

/**
 * Entry point of {@code bin/tollgate}: {@code run} starts the appliance, the other commands are
 * offline tools that work on the distribution's folders.
 */
public final class Main {
    static final String USAGE = String.join("\n",
            "usage: tollgate <command> [options]",
            "",
            "  run [--port N] [--plugins DIR] [--data DIR] [--conf DIR] [--mqtt URL] [--demo]",
            "        start the appliance in the foreground (SIGTERM or Ctrl-C stops it cleanly);",
            "        --mqtt sends usage to that broker; --demo also starts an embedded broker and",
            "        the billing endpoint (http://127.0.0.1:8080) on this box",
            "  plugin pack --model FILE.onnx --name NAME --version X.Y.Z [--labels FILE]",
            "        [--max-batch N] [--meter NAME] [--license-feature F] --output FILE.jar",
            "        package an ONNX model as an installable plugin bundle",
            "  plugin inspect FILE.jar   show a plugin's manifest capabilities and descriptor",
            "  usage verify|summary|export [--data DIR] ...   work with the usage journal",
            "  device id|pubkey [--data DIR]                   show this device's identity",
            "  sync status [--data DIR]                        what has reached the cloud",
            "  version                                         print the version",
            "");

    private Main() {
    }

    public static void main(String[] args) {
        int code = run(Arrays.asList(args), System.out, System.err);
        if (code != Integer.MIN_VALUE) {
            System.exit(code);
        }
    }

    /**
     * Runs one command.
     *
     * @return the exit code, or {@link Integer#MIN_VALUE} when the appliance runs on in the foreground
     */
    static int run(List<String> args, PrintStream out, PrintStream err) {
        if (args.isEmpty() || args.get(0).equals("help") || args.get(0).equals("--help")) {
            out.print(USAGE);
            return args.isEmpty() ? 2 : 0;
        }
        try {
            switch (args.get(0)) {
                case "run":
                    ApplianceLauncher.fromArguments(args.subList(1, args.size())).startAndAwait();
                    return 0;
                case "plugin":
                    return PluginCommands.run(args.subList(1, args.size()), out, err);
                case "usage":
                case "device":
                    return delegate("io.tollgate.metering.internal.cli.MeteringCli", args, out, err);
                case "sync":
                    return delegate("io.tollgate.sync.internal.cli.SyncCli", args, out, err);
                case "version":
                    out.println("tollgate " + version());
                    return 0;
                default:
                    throw new UsageException("unknown command '" + args.get(0) + "'");
            }
        } catch (UsageException e) {
            err.println("tollgate: " + e.getMessage());
            err.print(USAGE);
            return 2;
        } catch (CommandException e) {
            err.println("tollgate: " + e.getMessage());
            return 1;
        } catch (Exception e) {
            err.println("tollgate: " + e);
            e.printStackTrace(err);
            return 1;
        }
    }

    /** Calls {@code static int run(String[], PrintStream, PrintStream)} of a tool that ships in a bundle jar. */
    private static int delegate(String className, List<String> args, PrintStream out, PrintStream err) throws Exception {
        Class<?> tool;
        try {
            tool = Class.forName(className);
        } catch (ClassNotFoundException e) {
            throw new CommandException("'" + args.get(0) + "' commands are not part of this build (" + className + " missing)");
        }
        // Tools work on the distribution's own data folder unless --data says otherwise.
        if (System.getProperty("tollgate.data") == null && System.getProperty("tollgate.home") != null) {
            System.setProperty("tollgate.data", java.nio.file.Paths.get(System.getProperty("tollgate.home"), "data").toString());
        }
        Method m = tool.getMethod("run", String[].class, PrintStream.class, PrintStream.class);
        return (Integer) m.invoke(null, args.toArray(new String[0]), out, err);
    }

    static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }
}

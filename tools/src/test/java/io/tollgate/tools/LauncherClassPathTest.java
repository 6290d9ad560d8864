package io.tollgate.tools;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.Test;
import picocli.CommandLine;

/**
 * {@code bin/tollgate run} starts with only {@code lib/} on the class path (this jar, picocli, the launcher): no
 * bundle jar. The whole command tree must build and answer {@code --help} there, which holds as long as command
 * classes name no bundle type (see {@link TollgateCommand}). Checked on a class loader that sees exactly this
 * module's classes and picocli.
 */
public class LauncherClassPathTest {
    @Test
    public void theTreeBuildsAndHelpsWithoutAnyBundleOnTheClassPath() throws Exception {
        URL tools = Tools.class.getProtectionDomain().getCodeSource().getLocation();
        URL picocli = CommandLine.class.getProtectionDomain().getCodeSource().getLocation();
        try (URLClassLoader launcher = new URLClassLoader(new URL[] {tools, picocli},
                ClassLoader.getPlatformClassLoader())) {
            assertBundlesAreInvisible(launcher);
            Method execute = launcher.loadClass(Tools.class.getName())
                    .getMethod("execute", String[].class, PrintStream.class, PrintStream.class, Object[].class);
            for (List<String> args : List.of(List.of("--help"), List.of("usage", "export", "--help"),
                    List.of("plugin", "pack", "--help"), List.of("device", "init", "--help"),
                    List.of("device", "enroll", "--help"), List.of("version"),
                    List.of("usage", "export", "--bogus"))) {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                ByteArrayOutputStream err = new ByteArrayOutputStream();
                int code = (Integer) execute.invoke(null, args.toArray(new String[0]),
                        new PrintStream(out, true, StandardCharsets.UTF_8),
                        new PrintStream(err, true, StandardCharsets.UTF_8), new Object[0]);
                String what = args + ": " + out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
                assertEquals(what, args.contains("--bogus") ? ExitCodes.USAGE : ExitCodes.OK, code);
                assertTrue(what, args.contains("--bogus") || out.size() > 0);
            }
        }
    }

    private static void assertBundlesAreInvisible(ClassLoader launcher) {
        for (String bundleClass : List.of("io.tollgate.metering.files.JournalFiles", "io.tollgate.model.TensorSpec")) {
            try {
                launcher.loadClass(bundleClass);
                throw new AssertionError(bundleClass + " is visible; the test would prove nothing");
            } catch (ClassNotFoundException expected) {
                // as on the launcher's class path
            }
        }
    }
}

package io.tollgate.runtime;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.status.Status;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.After;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.slf4j.Logger;

/**
 * The distribution's {@code conf/logback.xml}, as {@code bin/tollgate run} loads it: every line on stderr and in
 * {@code logs/tollgate.log}, rotated by size into a fixed number of files (a small size limit here).
 */
public class LogConfigurationTest {
    private static final Path CONFIG = Paths.get("src/dist/conf/logback.xml");
    private static final String[] PROPERTIES = {"tollgate.home", "tollgate.log.max.file.size", "tollgate.log.files",
        "tollgate.log.level", "tollgate.log.check.increment", "tollgate.log.level.endpoint"};

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private LoggerContext context;
    private PrintStream err;

    @After
    public void tearDown() {
        if (context != null) {
            context.stop();
        }
        if (err != null) {
            System.setErr(err);
        }
        for (String p : PROPERTIES) {
            System.clearProperty(p);
        }
    }

    @Test
    public void linesGoToStderrAndToLogsTollgateLogRotatedBySizeKeepingAFixedNumberOfFiles() throws Exception {
        Path home = tmp.getRoot().toPath();
        System.setProperty("tollgate.home", home.toString());
        System.setProperty("tollgate.log.max.file.size", "2KB");
        System.setProperty("tollgate.log.files", "2");
        System.setProperty("tollgate.log.check.increment", "20 milliseconds");
        System.setProperty("tollgate.log.level.endpoint", "debug");
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        err = System.err;
        System.setErr(new PrintStream(stderr, true, StandardCharsets.UTF_8));
        context = new LoggerContext();
        context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        configurator.doConfigure(CONFIG.toFile());
        List<Status> errors = context.getStatusManager().getCopyOfStatusList().stream()
                .filter(s -> s.getLevel() >= Status.WARN).collect(Collectors.toList());
        assertTrue("logback: " + errors, errors.isEmpty());

        Logger log = context.getLogger("io.tollgate.test");
        context.getLogger("io.tollgate.endpoint.internal.HttpEndpoint").debug("one area at debug");
        context.getLogger("io.tollgate.serving.internal.ServingService").debug("not this one");
        String padding = "x".repeat(200);
        for (int i = 0; i < 120; i++) {
            log.info("line {} {}", i, padding);
            log.debug("not at info level {}", i);
            if (i % 10 == 9) {
                Thread.sleep(50);    // the size is looked at every tollgate.log.check.increment
            }
        }
        String status = context.getStatusManager().getCopyOfStatusList().toString();
        assertFalse(status, status.contains("ERROR in"));
        context.stop();

        Path logs = home.resolve("logs");
        List<String> files;
        try (Stream<Path> s = Files.list(logs)) {
            files = s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
        assertEquals("the current file and tollgate.log.files rotated ones; logback: " + status, List.of("tollgate.1.log", "tollgate.2.log",
                "tollgate.log"), files);
        for (String f : files) {
            assertTrue(f + " is " + Files.size(logs.resolve(f)) + " bytes", Files.size(logs.resolve(f)) < 2 * 2048 + 4096);
        }
        String current = Files.readString(logs.resolve("tollgate.log"));
        assertTrue(current, current.contains(" INFO io.tollgate.test - line 119 "));
        assertFalse(current, current.contains("not at info level"));
        String console = stderr.toString(StandardCharsets.UTF_8);
        assertTrue(console, console.contains(" DEBUG io.tollgate.endpoint.internal.HttpEndpoint - one area at debug"));
        assertFalse(console, console.contains("not this one"));
        assertTrue("every line on stderr too", console.contains(" INFO io.tollgate.test - line 0 ")
                && console.contains(" INFO io.tollgate.test - line 119 "));
    }
}

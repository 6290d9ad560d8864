package io.tollgate.cloud;

import static org.junit.Assert.fail;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** A real mosquitto (Debian's /usr/sbin/mosquitto) on a free loopback port, for one test. */
public final class Mosquitto implements AutoCloseable {
    private static final Path BINARY = Path.of("/usr/sbin/mosquitto");

    private Process process;
    private final int port;
    private final Path dir;

    private Mosquitto(Process process, int port, Path dir) {
        this.process = process;
        this.port = port;
        this.dir = dir;
    }

    public static Mosquitto start() throws IOException, InterruptedException {
        if (!Files.isExecutable(BINARY)) {
            fail("mosquitto is not installed at " + BINARY + ": run `apt-get install mosquitto` (CI installs it)");
        }
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path dir = Files.createTempDirectory("tollgate-mosquitto");
        Path conf = dir.resolve("mosquitto.conf");
        // user root: started as root, mosquitto would otherwise drop to user mosquitto, who cannot read the temp dir
        Files.writeString(conf, "listener " + port + " 127.0.0.1\nallow_anonymous true\npersistence false\n"
                + ("root".equals(System.getProperty("user.name")) ? "user root\n" : "")
                + "log_dest stdout\n");
        Mosquitto m = new Mosquitto(null, port, dir);
        m.launch();
        return m;
    }

    /**
     * Starts mosquitto with {@code conf} (e.g. one broker-config wrote, listening on {@code port}), plus the lines a
     * test run needs: {@code user root} when run as root (the files stay readable) and logging to the test's log.
     */
    public static Mosquitto start(Path conf, int port) throws IOException, InterruptedException {
        if (!Files.isExecutable(BINARY)) {
            fail("mosquitto is not installed at " + BINARY + ": run `apt-get install mosquitto` (CI installs it)");
        }
        Path dir = Files.createTempDirectory("tollgate-mosquitto");
        Files.writeString(dir.resolve("mosquitto.conf"), Files.readString(conf) + "\npersistence false\n"
                + ("root".equals(System.getProperty("user.name")) ? "user root\n" : "") + "log_dest stdout\n");
        Mosquitto m = new Mosquitto(null, port, dir);
        m.launch();
        return m;
    }

    /** A free TCP port on loopback. */
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private void launch() throws IOException, InterruptedException {
        Process p = new ProcessBuilder(BINARY.toString(), "-c", dir.resolve("mosquitto.conf").toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("mosquitto.log").toFile())).start();
        process = p;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                fail("mosquitto exited at start (" + p.exitValue() + "): " + log());
            }
            try (Socket s = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException notYet) {
                Thread.sleep(50);
            }
        }
        close();
        fail("mosquitto did not listen on port " + port + " within 10 s");
    }

    /** SIGKILL: no clean shutdown, sessions gone (persistence is off). */
    public void kill() throws InterruptedException {
        process.destroyForcibly().waitFor();
    }

    /** SIGTERM and wait for the exit. */
    public void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }

    /** Starts mosquitto again on the same port and configuration (after {@link #kill} or {@link #stop}). */
    public void restart() throws IOException, InterruptedException {
        if (process.isAlive()) {
            throw new IllegalStateException("mosquitto is still running; kill() or stop() it first");
        }
        launch();
    }

    /** Everything mosquitto logged, across restarts. */
    public String log() throws IOException {
        return Files.readString(dir.resolve("mosquitto.log"));
    }

    public String uri() {
        return "tcp://127.0.0.1:" + port;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        if (process != null) {
            stop();
        }
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }
}

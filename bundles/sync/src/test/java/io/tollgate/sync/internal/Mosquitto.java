package io.tollgate.sync.internal;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A real mosquitto broker (Debian's /usr/sbin/mosquitto) on a free loopback port, for tests. {@link #kill()} and
 * {@link #start()} again simulate a broker crash and restart on the same port (no persistence: sessions are gone).
 */
final class Mosquitto implements AutoCloseable {
    static final String BINARY = "/usr/sbin/mosquitto";

    private final Path dir;
    private final int port;
    private Process process;

    Mosquitto(Path dir) throws IOException {
        this(dir, "");
    }

    /** @param listenerOptions extra lines for the listener (e.g. TLS: cafile, certfile, keyfile, require_certificate) */
    Mosquitto(Path dir, String listenerOptions) throws IOException {
        this(dir, listenerOptions, true);
    }

    /**
     * @param listenerOptions extra lines (e.g. TLS, or {@code password_file})
     * @param anonymous       whether clients without a user name are let in
     */
    Mosquitto(Path dir, String listenerOptions, boolean anonymous) throws IOException {
        if (!Files.isExecutable(Path.of(BINARY))) {
            throw new IllegalStateException(BINARY + " is missing: apt-get install mosquitto");
        }
        this.dir = dir;
        this.port = freePort();
        Files.createDirectories(dir);
        StringBuilder conf = new StringBuilder()
                .append("listener ").append(port).append(" 127.0.0.1\n")
                .append(listenerOptions)
                .append("allow_anonymous ").append(anonymous).append('\n')
                .append("persistence false\n")
                .append("log_dest stdout\n");
        if ("root".equals(System.getProperty("user.name"))) {
            conf.append("user root\n");
        }
        Files.writeString(dir.resolve("mosquitto.conf"), conf.toString(), StandardCharsets.US_ASCII);
        start();
    }

    String url() {
        return "tcp://127.0.0.1:" + port;
    }

    String sslUrl() {
        return "ssl://localhost:" + port;
    }

    int port() {
        return port;
    }

    /** Starts the broker and waits until it accepts connections. */
    void start() throws IOException {
        File log = dir.resolve("mosquitto.log").toFile();
        process = new ProcessBuilder(BINARY, "-c", dir.resolve("mosquitto.conf").toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log)).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("mosquitto exited with " + process.exitValue() + "; see " + log + ":\n"
                        + Files.readString(log.toPath()));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException e) {
                sleep(50);
            }
        }
        throw new IOException("mosquitto did not listen on port " + port + " within 10 s; see " + log);
    }

    /** SIGKILL: the broker dies without a goodbye, as in a crash. */
    void kill() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
            process = null;
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null) {
            process.destroy();
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
            process = null;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

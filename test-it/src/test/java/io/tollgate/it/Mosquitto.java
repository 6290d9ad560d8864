package io.tollgate.it;

import static org.junit.Assert.fail;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real broker for end-to-end tests: Debian's {@code /usr/sbin/mosquitto} on a free loopback port with a
 * temp config (no persistence, so a SIGKILL loses every session, as a crashed broker without a store does).
 * It can be killed, stopped and started again on the same port; {@code mosquitto_sub}/{@code mosquitto_pub}
 * (Debian's mosquitto-clients) act as the test's own MQTT client. Everything it started dies in {@link #close()}.
 */
final class Mosquitto implements AutoCloseable {
    private static final Path BINARY = Path.of("/usr/sbin/mosquitto");
    private static final Path SUB = Path.of("/usr/bin/mosquitto_sub");
    private static final Path PUB = Path.of("/usr/bin/mosquitto_pub");

    private final Path dir;
    private final int port;
    private final List<Process> clients = new ArrayList<>();
    private Process process;

    private Mosquitto(Path dir, int port) {
        this.dir = dir;
        this.port = port;
    }

    /** Starts a broker on a free port; its config and log live in a new folder under {@code parent}. */
    static Mosquitto start(Path parent) throws IOException, InterruptedException {
        return start(parent, "");
    }

    /** As {@link #start(Path)}, with {@code extraConf} lines added (e.g. {@code max_packet_size 4096}). */
    static Mosquitto start(Path parent, String extraConf) throws IOException, InterruptedException {
        if (!Files.isExecutable(BINARY)) {
            fail("mosquitto is not installed at " + BINARY + ": run `apt-get install mosquitto mosquitto-clients`");
        }
        Mosquitto m = new Mosquitto(Files.createTempDirectory(parent, "mosquitto"), TollgateExam.freePort());
        // user root: started as root, mosquitto would otherwise drop to user mosquitto, who cannot read the temp dir
        Files.writeString(m.dir.resolve("mosquitto.conf"), "listener " + m.port + " 127.0.0.1\nallow_anonymous true\n"
                + "persistence false\nmax_queued_messages 100000\n"
                + ("root".equals(System.getProperty("user.name")) ? "user root\n" : "") + "log_dest stdout\n" + System.getProperty("tollgate.it.mosquitto.extra", "").replace(";", "\n") + "\n" + extraConf
                + "\n");
        m.start();
        return m;
    }

    /**
     * Starts a broker with {@code conf} (e.g. what {@code tollgate-billing broker-config} wrote for {@code port}) plus
     * what a test run needs: no persistence, {@code user root} when run as root, the log in the test's folder.
     */
    static Mosquitto startWith(Path parent, Path conf, int port) throws IOException, InterruptedException {
        if (!Files.isExecutable(BINARY)) {
            fail("mosquitto is not installed at " + BINARY + ": run `apt-get install mosquitto mosquitto-clients`");
        }
        Mosquitto m = new Mosquitto(Files.createTempDirectory(parent, "mosquitto"), port);
        Files.writeString(m.dir.resolve("mosquitto.conf"), Files.readString(conf) + "\npersistence false\n"
                + ("root".equals(System.getProperty("user.name")) ? "user root\n" : "") + "log_dest stdout\n");
        m.start();
        return m;
    }

    /** SIGHUP: mosquitto re-reads its password and ACL files. */
    void reload() throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(process.pid())).start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            fail("kill -HUP " + process.pid() + " failed");
        }
    }

    /** The broker's log so far. */
    String log() throws IOException {
        return Files.readString(dir.resolve("mosquitto.log"));
    }

    /**
     * {@code mosquitto_pub -V mqttv5 -q 1 [-u user -P password] -t topic -m payload}; returns its exit code and output
     * (a refused connection is a non-zero exit).
     */
    String[] publishAs(String user, String password, String topic, String payload) throws IOException,
            InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(PUB.toString(), "-h", "127.0.0.1", "-p", Integer.toString(port), "-V",
                "mqttv5", "-q", "1", "-t", topic, "-m", payload, "-i", "it-pub"));
        if (user != null) {
            cmd.addAll(List.of("-u", user, "-P", password));
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        clients.add(p);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("mosquitto_pub to " + topic + " hung");
        }
        return new String[] {Integer.toString(p.exitValue()), new String(p.getInputStream().readAllBytes(),
                StandardCharsets.UTF_8)};
    }

    /** (Re)starts the broker on its port; waits until it accepts connections. */
    void start() throws IOException, InterruptedException {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("mosquitto is already running on port " + port);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (true) {
            Path log = dir.resolve("mosquitto.log");
            Files.writeString(log, "==== start\n", StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND);
            process = new ProcessBuilder(BINARY.toString(), "-c", dir.resolve("mosquitto.conf").toString())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            while (process.isAlive() && System.nanoTime() < deadline) {
                try (Socket s = new Socket("127.0.0.1", port)) {
                    return;
                } catch (IOException notYet) {
                    Thread.sleep(20);
                }
            }
            if (System.nanoTime() >= deadline) {
                process.destroyForcibly();
                fail("mosquitto did not listen on port " + port + " within 15 s; log:\n" + Files.readString(log));
            }
            Thread.sleep(200);   // exited: the port may still be held by the process just killed; try again
        }
    }

    /** SIGKILL: no goodbye to the clients, sessions lost. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            throw new AssertionError("mosquitto survived SIGKILL for 10 s");
        }
    }

    /** SIGTERM: a clean broker shutdown (the link is down until {@link #start()}). */
    void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    String uri() {
        return "tcp://127.0.0.1:" + port;
    }

    int port() {
        return port;
    }

    /**
     * {@code mosquitto_sub} on {@code topic} (QoS 1) writing every payload raw, back to back, to {@code out};
     * it exits after {@code count} messages or {@code timeoutS} seconds. Returns once it is subscribed.
     */
    Process capture(String topic, int count, int timeoutS, Path out) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(SUB.toString(), "-h", "127.0.0.1", "-p", Integer.toString(port), "-q", "1",
                "-t", topic, "-N", "-C", Integer.toString(count), "-W", Integer.toString(timeoutS), "-i",
                "it-capture-" + port).redirectOutput(out.toFile())
                .redirectError(ProcessBuilder.Redirect.appendTo(dir.resolve("clients.log").toFile())).start();
        clients.add(p);
        Thread.sleep(500);   // mosquitto_sub says nothing when its SUBACK arrives; it is there well within this
        if (!p.isAlive()) {
            fail("mosquitto_sub exited at once (" + p.exitValue() + "): " + Files.readString(dir.resolve("clients.log")));
        }
        return p;
    }

    /** {@code mosquitto_pub -q 1 -t topic -f payload}, MQTT 5; fails the test unless it exits 0. */
    void publish(String topic, Path payload) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(PUB.toString(), "-h", "127.0.0.1", "-p", Integer.toString(port), "-V", "mqttv5",
                "-q", "1", "-t", topic, "-f", payload.toString()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("clients.log").toFile())).start();
        clients.add(p);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            fail("mosquitto_pub to " + topic + " failed; log:\n" + Files.readString(dir.resolve("clients.log")));
        }
    }

    @Override
    public void close() {
        for (Process c : clients) {
            c.destroyForcibly();
        }
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        ApplianceProcess.deleteTree(dir);
    }
}

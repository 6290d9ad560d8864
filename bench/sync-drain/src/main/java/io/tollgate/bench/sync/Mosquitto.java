package io.tollgate.bench.sync;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Debian's /usr/sbin/mosquitto in the foreground on a free loopback port (the sync tests' configuration). */
final class Mosquitto implements AutoCloseable {
    static final String BINARY = "/usr/sbin/mosquitto";

    private final Path dir;
    private final int port;
    private final Process process;

    Mosquitto(Path dir) throws IOException, InterruptedException {
        if (!Files.isExecutable(Path.of(BINARY))) {
            throw new IllegalStateException(BINARY + " is missing: apt-get install mosquitto");
        }
        this.dir = dir;
        Files.createDirectories(dir);
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        StringBuilder conf = new StringBuilder()
                .append("listener ").append(port).append(" 127.0.0.1\n")
                .append("allow_anonymous true\n")
                .append("persistence false\n")
                .append("log_dest stdout\n");
        if ("root".equals(System.getProperty("user.name"))) {
            conf.append("user root\n");
        }
        Files.writeString(dir.resolve("mosquitto.conf"), conf.toString(), StandardCharsets.US_ASCII);
        File log = dir.resolve("mosquitto.log").toFile();
        process = new ProcessBuilder(BINARY, "-c", dir.resolve("mosquitto.conf").toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log)).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            if (!process.isAlive()) {
                throw new IOException("mosquitto exited with " + process.exitValue() + "; see " + log + ":\n"
                        + Files.readString(log.toPath()));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException e) {
                if (System.nanoTime() > deadline) {
                    process.destroyForcibly();
                    throw new IOException("mosquitto did not listen on port " + port + " within 10 s; see " + log);
                }
                Thread.sleep(50);
            }
        }
    }

    String url() {
        return "tcp://127.0.0.1:" + port;
    }

    /** User + system CPU time of the broker process so far (from /proc/PID/stat, 100 ticks/s), in ms. */
    long cpuMillis() throws IOException {
        String stat = Files.readString(Path.of("/proc/" + process.pid() + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        // after the command: state(0) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(11) stime(12)
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
        }
    }
}

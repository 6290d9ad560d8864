package io.tollgate.it;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One instance of the cloud billing endpoint ({@code cloud/target/tollgate-billing}, system property
 * {@code tollgate.billing.dist}) run as an operator runs it: {@code bin/tollgate-billing run ...} as a child
 * process. The same instance (client id, HTTP port, data folder, database) can be killed, stopped and started
 * again. Its output is appended to a log file.
 */
final class BillingProcess {
    private final String name;
    private final String mqtt;
    private final Path data;
    private final String db;
    private final String clientId;
    private final int httpPort;
    private final Path log;
    private Http http;
    private String adminToken;
    private String mqttUsername;
    private Path mqttPasswordFile;
    private Process process;

    /**
     * @param db JDBC URL, or null for the embedded H2 ledger under {@code data}
     */
    BillingProcess(String name, String mqtt, Path data, String db, Path log) throws IOException {
        this.name = name;
        this.mqtt = mqtt;
        this.data = data;
        this.db = db;
        this.clientId = "it-billing-" + name;
        this.httpPort = TollgateExam.freePort();
        this.log = log;
        this.http = new Http(httpPort);
    }

    /** Connect to the broker as {@code username} with the password in {@code passwordFile} (a broker-config broker). */
    BillingProcess withMqttLogin(String username, Path passwordFile) {
        this.mqttUsername = username;
        this.mqttPasswordFile = passwordFile;
        return this;
    }

    /**
     * {@code bin/tollgate-billing ARGS...} to completion, exit 0 expected; returns its stdout (stderr goes to
     * {@code log}).
     */
    static String cli(Path log, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(home().resolve("bin/tollgate-billing").toString()));
        cmd.addAll(List.of(args));
        appendLog(log, cmd);
        Path out = Files.createTempFile("tollgate-billing-cli", ".out");
        try {
            Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile())
                    .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", cmd) + " failed; log:\n" + tail(log));
            }
            return Files.readString(out);
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /** {@code token create --role ROLE [--tenant T] --data DIR}: the new bearer token. */
    static String createToken(Path data, String role, String tenant, Path log) throws Exception {
        List<String> args = new ArrayList<>(List.of("token", "create", "--role", role, "--data", data.toString()));
        if (tenant != null) {
            args.addAll(List.of("--tenant", tenant));
        }
        return cli(log, args.toArray(String[]::new)).trim();
    }

    /** The admin token this instance's API calls send (made on the first start). */
    String adminToken() {
        return adminToken;
    }

    int httpPort() {
        return httpPort;
    }

    static Path home() {
        Path home = Path.of(System.getProperty("tollgate.billing.dist", "../cloud/target/tollgate-billing"))
                .toAbsolutePath().normalize();
        if (!Files.isExecutable(home.resolve("bin/tollgate-billing"))) {
            throw new IllegalStateException("no billing distribution at " + home
                    + "; run 'mvn -q -B install -DskipTests' first");
        }
        return home;
    }

    /**
     * The cloud's public ack key in a billing data folder ({@code <data>/cloud/cloud.pub.pem}, made at the first
     * start): what an appliance needs as {@code --cloud-key} (acks are always verified).
     */
    static Path cloudKey(Path data) {
        return data.resolve("cloud/cloud.pub.pem");
    }

    Path cloudKey() {
        return cloudKey(data);
    }

    /** Its HTTP API, e.g. {@code http://127.0.0.1:40123}. */
    String url() {
        return "http://127.0.0.1:" + httpPort;
    }

    /**
     * {@code bin/tollgate-billing device register --id ID --public-key PEM --data DIR [--db URL] [--tenant T]...}
     * (no tenant: the appliance's {@code default}, what its requests without an API key bill).
     */
    static void register(String device, Path publicKey, Path data, String db, Path log, String... tenants)
            throws Exception {
        List<String> cmd = new ArrayList<>(List.of(home().resolve("bin/tollgate-billing").toString(), "device",
                "register", "--id", device, "--public-key", publicKey.toString(), "--data", data.toString()));
        for (String t : tenants) {
            cmd.addAll(List.of("--tenant", t));
        }
        if (db != null) {
            cmd.addAll(List.of("--db", db));
        }
        appendLog(log, cmd);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", cmd) + " failed; log:\n" + tail(log));
        }
    }

    /** {@code bin/tollgate-billing run ...}; returns when {@code /health} answers 200 and MQTT is connected. */
    BillingProcess start() throws Exception {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("billing " + name + " is already running");
        }
        List<String> cmd = new ArrayList<>(List.of(home().resolve("bin/tollgate-billing").toString(), "run",
                "--mqtt", mqtt, "--http-host", "127.0.0.1", "--http-port", Integer.toString(httpPort),
                "--data", data.toString(), "--client-id", clientId));
        if (db != null) {
            cmd.addAll(List.of("--db", db));
        }
        if (mqttUsername != null) {
            cmd.addAll(List.of("--mqtt-username", mqttUsername, "--mqtt-password-file", mqttPasswordFile.toString()));
        }
        if (adminToken == null) {
            adminToken = createToken(data, "admin", null, log);
            http = new Http(httpPort, adminToken);
        }
        appendLog(log, cmd);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().put("TOLLGATE_BILLING_JAVA_OPTS", "-Xmx384m");
        process = pb.start();
        long end = System.currentTimeMillis() + 60_000;
        String last = "no answer";
        while (System.currentTimeMillis() < end) {
            if (!process.isAlive()) {
                throw new AssertionError("billing " + name + " exited with " + process.exitValue() + "; log:\n"
                        + tail(log));
            }
            try {
                Http.Response r = http.get("/health");
                if (r.status() == 200 && "connected".equals(r.json().path("mqtt").asText())) {
                    return this;
                }
                last = r.status() + " " + r.body();
            } catch (IOException notYet) {
                last = notYet.toString();
            }
            Thread.sleep(100);
        }
        throw new AssertionError("billing " + name + " not up within 60 s (last: " + last + "); log:\n" + tail(log));
    }

    /** SIGKILL, as a crashed or OOM-killed instance. */
    void kill() throws InterruptedException {
        process.toHandle().destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new AssertionError("billing " + name + " survived SIGKILL for 30 s");
        }
    }

    /** SIGTERM; returns the exit code. */
    int stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError("billing " + name + " did not exit within 30 s of SIGTERM");
        }
        return process.exitValue();
    }

    /** Kills the process if it still runs (for {@code @After}). */
    void killQuietly() {
        if (process != null && process.isAlive()) {
            process.toHandle().destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** {@code GET /health}'s counters (batches, stored, duplicates, quarantined, acks, resends). */
    JsonNode counters() throws Exception {
        return get("/health").path("counters");
    }

    JsonNode get(String path) throws Exception {
        return Http.JSON.readTree(getText(path));
    }

    /** POST on its API with the admin token; the response as it came (status and body). */
    Http.Response post(String path, String body) throws Exception {
        return http.post(path, body);
    }

    /** GET on its API, 200 expected; the body as text (e.g. the JSON lines of {@code /v1/export/cloudevents}). */
    String getText(String path) throws Exception {
        Http.Response r = http.get(path);
        if (r.status() != 200) {
            throw new AssertionError("billing " + name + ": GET " + path + " answered " + r.status() + " " + r.body());
        }
        return r.body();
    }

    String name() {
        return name;
    }

    private static void appendLog(Path log, List<String> cmd) throws IOException {
        Files.writeString(log, "\n==== " + String.join(" ", cmd) + "\n", StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    static String tail(Path log) {
        try {
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - 40), all.size()));
        } catch (IOException e) {
            return "(log unreadable: " + e + ")";
        }
    }
}

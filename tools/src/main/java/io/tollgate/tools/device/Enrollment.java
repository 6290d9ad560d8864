package io.tollgate.tools.device;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tollgate.metering.files.DeviceFiles;
import io.tollgate.tools.BrokerUrls;
import io.tollgate.tools.ExitCodes;
import io.tollgate.tools.PathValues;
import io.tollgate.tools.ToolException;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * {@code device enroll}: registers this device with the billing service over HTTP ({@code POST /v1/devices}, contract
 * C1 of issue 9) and configures its uplink with what comes back: the cloud's ack key pinned in
 * {@code <conf>/cloud.pub.pem}, the MQTT password (when the billing hands one out) in
 * {@code <data>/secrets/mqtt-password} (0600, folder 0700), and {@code <conf>/io.tollgate.sync.cfg} updated in place
 * (its comments and other keys kept).
 */
final class Enrollment {
    static final String SYNC_CFG = "io.tollgate.sync.cfg";
    static final String CLOUD_KEY = "cloud.pub.pem";
    static final String PASSWORD_FILE = "secrets/mqtt-password";
    private static final Pattern TENANT = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    /** What {@code device enroll} was given. */
    record Request(String billing, String token, List<String> tenants, String mqtt, Path tlsCa, boolean allowPlain,
                   Path data, Path conf) {
    }

    private Enrollment() {
    }

    /** Plain arguments, so that the command class names no type of this one (LauncherClassPathTest). */
    /** The tenant the endpoint bills requests without an API key to (loopback clients in protected mode). */
    static final String KEYLESS_TENANT = "default";

    static int enroll(String billing, String token, List<String> tenants, String mqtt, Path tlsCa, boolean allowPlain,
                      Path data, Path conf, PrintStream out, PrintStream err) throws ToolException {
        return enroll(new Request(billing, token, List.copyOf(tenants), mqtt, tlsCa, allowPlain, data, conf), out, err);
    }

    /**
     * The token from {@code --token} or {@code --token-file} (exactly one): a token file must be readable by its
     * owner only (0600 or 0400), as the device's other secrets are.
     */
    static String token(String token, Path tokenFile) throws ToolException {
        if ((token == null) == (tokenFile == null)) {
            throw new ToolException(ExitCodes.USAGE, "give the billing API token with --token T or --token-file FILE "
                    + "(one of them)");
        }
        if (token != null) {
            return token;
        }
        try {
            String mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(tokenFile));
            if (!mode.equals("rw-------") && !mode.equals("r--------")) {
                throw new ToolException(ExitCodes.FAILED, "--token-file " + tokenFile + " has mode " + mode
                        + "; make it readable by its owner only (chmod 600 " + tokenFile + ")");
            }
            String t = Files.readString(tokenFile, StandardCharsets.UTF_8).trim();
            if (t.isEmpty()) {
                throw new ToolException(ExitCodes.FAILED, "--token-file " + tokenFile + " is empty");
            }
            return t;
        } catch (IOException e) {
            throw new ToolException(ExitCodes.IO_ERROR, "cannot read --token-file " + tokenFile + ": "
                    + PathValues.reason(e), e);
        }
    }

    static int enroll(Request r, PrintStream out, PrintStream err) throws ToolException {
        URI endpoint = devicesUri(r.billing(), r.allowPlain());
        checkLocalOptions(r);
        String id;
        String publicKeyPem;
        try {
            DeviceFiles device = DeviceFiles.of(r.data());
            id = device.init();
            publicKeyPem = device.publicKeyPem();
        } catch (IOException e) {
            throw new ToolException(ExitCodes.IO_ERROR, "cannot create or read the device identity in "
                    + r.data().resolve("device") + ": " + PathValues.reason(e), e);
        }
        JsonNode answer = post(endpoint, r.token(), body(id, publicKeyPem, r.tenants()));
        String cloudPem = answer.path("cloud_public_key_pem").asText("");
        if (!cloudPem.contains("-----BEGIN PUBLIC KEY-----")) {
            throw new ToolException(ExitCodes.FAILED, "the billing service at " + r.billing() + " registered device "
                    + id + " but sent no cloud_public_key_pem, which the device needs to verify acks; update the "
                    + "billing service, or use the offline route in docs/operations.md (tollgate-billing cloud pubkey)");
        }
        JsonNode mqtt = answer.path("mqtt");
        String username = mqtt.path("username").asText("");
        String password = mqtt.path("password").asText("");
        boolean credentials = mqtt.isObject() && !password.isEmpty();

        Path keyFile = r.conf().resolve(CLOUD_KEY);
        Path passwordFile = r.data().resolve(PASSWORD_FILE);
        Map<String, String> settings = new LinkedHashMap<>();
        if (r.mqtt() != null) {
            settings.put("broker.url", r.mqtt());
        }
        settings.put("cloud.public.key.file", "${tollgate.conf}/" + CLOUD_KEY);
        settings.put("mqtt.username", credentials && !username.isEmpty() ? username : "{device}");
        settings.put("mqtt.password.file", credentials ? "${tollgate.data}/" + PASSWORD_FILE : "");
        if (r.tlsCa() != null) {
            settings.put("tls.ca.file", r.tlsCa().toAbsolutePath().normalize().toString());
        }
        try {
            Files.createDirectories(r.conf());
            boolean replaced = Files.exists(keyFile)
                    && !Files.readString(keyFile, StandardCharsets.US_ASCII).equals(cloudPem);
            writeAtomically(keyFile, cloudPem, "rw-r--r--");
            if (replaced) {
                err.println("device enroll: replaced the cloud key in " + keyFile + " with the one " + r.billing()
                        + " sent");
            }
            if (credentials) {
                Path secrets = passwordFile.getParent();
                Files.createDirectories(secrets);
                Files.setPosixFilePermissions(secrets, PosixFilePermissions.fromString("rwx------"));
                writeAtomically(passwordFile, password + "\n", "rw-------");
            }
            updateSyncConfig(r.conf().resolve(SYNC_CFG), settings);
        } catch (IOException e) {
            throw new ToolException(ExitCodes.IO_ERROR, "device " + id + " is registered, but its configuration could "
                    + "not be written: " + e.getMessage() + "; fix that and run device enroll again", e);
        }
        out.println("Enrolled device " + id + " with " + r.billing() + " (tenants "
                + String.join(", ", tenants(answer, r.tenants())) + ").");
        out.println("Cloud key pinned in " + keyFile + ".");
        out.println(credentials ? "MQTT user " + settings.get("mqtt.username") + ", password in " + passwordFile
                + " (0600)." : "The billing service sent no MQTT credentials: the device connects without a password.");
        out.println("Updated " + r.conf().resolve(SYNC_CFG) + ": " + String.join(", ", settings.keySet()) + ".");
        out.println(r.mqtt() != null ? "Start it: bin/tollgate run" : "Set broker.url there (or re-run with --mqtt "
                + "URL), then: bin/tollgate run");
        List<String> bound = tenants(answer, r.tenants());
        if (!bound.contains(KEYLESS_TENANT)) {
            // requests without an API key (loopback in protected mode) bill "default": not bound, never billed
            err.println("device enroll: note: requests without an API key are billed to tenant '" + KEYLESS_TENANT
                    + "', which device " + id + " is not bound to (" + String.join(", ", bound) + "): the billing "
                    + "service would quarantine them, not bill them. Give every client a key of a bound tenant "
                    + "(bin/tollgate keys add --tenant " + bound.get(0) + " --role infer), or enroll with --tenant "
                    + KEYLESS_TENANT + " as well.");
        }
        return ExitCodes.OK;
    }

    /** {@code <billing>/v1/devices}; plain http only to loopback unless {@code allowPlain}. */
    static URI devicesUri(String billing, boolean allowPlain) throws ToolException {
        URI uri;
        try {
            uri = new URI(billing.trim());
        } catch (URISyntaxException e) {
            uri = null;
        }
        String scheme = uri == null || uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (uri == null || uri.getHost() == null || !(scheme.equals("http") || scheme.equals("https"))
                || uri.getRawQuery() != null || uri.getRawFragment() != null) {
            throw new ToolException(ExitCodes.USAGE, "--billing must look like https://billing.example.com, not "
                    + ToolException.quote(billing));
        }
        if (scheme.equals("http") && !allowPlain && !BrokerUrls.isLoopback(uri.getHost())) {
            throw new ToolException(ExitCodes.USAGE, "--billing " + billing + " is plain http to a host that is not "
                    + "loopback: the token and the cloud key would cross the network unprotected; use https://, or "
                    + "--allow-plain if this network is trusted");
        }
        String base = uri.toString().replaceAll("/+$", "");
        return URI.create(base + "/v1/devices");
    }

    private static void checkLocalOptions(Request r) throws ToolException {
        if (r.token() == null || r.token().isBlank()) {
            throw new ToolException(ExitCodes.USAGE, "--token must not be empty (tollgate-billing token create "
                    + "--role enroll prints one)");
        }
        for (String t : r.tenants()) {
            if (!TENANT.matcher(t).matches()) {
                throw new ToolException(ExitCodes.USAGE, "--tenant " + ToolException.quote(t) + " must be 1 to 63 "
                        + "of a-z 0-9 . _ - starting with a letter or digit");
            }
        }
        if (r.mqtt() != null) {
            String wrong = BrokerUrls.problem(r.mqtt(), false);
            if (wrong != null) {
                throw new ToolException(ExitCodes.USAGE, "--mqtt " + wrong);
            }
        }
        if (r.tlsCa() != null) {
            if (r.mqtt() != null && !r.mqtt().toLowerCase(Locale.ROOT).startsWith("ssl://")) {
                throw new ToolException(ExitCodes.USAGE, "--tls-ca is for an ssl:// broker, but --mqtt is " + r.mqtt());
            }
            if (!Files.isRegularFile(r.tlsCa()) || !Files.isReadable(r.tlsCa())) {
                throw new ToolException(ExitCodes.IO_ERROR, "cannot read --tls-ca " + r.tlsCa());
            }
        }
        PathValues.notAFile("--data", r.data());
        PathValues.notAFile("--conf", r.conf());
    }

    private static String body(String id, String publicKeyPem, List<String> tenants) {
        ObjectNode o = JSON.createObjectNode();
        o.put("id", id);
        o.put("public_key_pem", publicKeyPem);
        if (!tenants.isEmpty()) {
            ArrayNode a = o.putArray("tenants");
            tenants.forEach(a::add);
        }
        return o.toString();
    }

    private static JsonNode post(URI endpoint, String token, String body) throws ToolException {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        HttpRequest req = HttpRequest.newBuilder(endpoint).timeout(TIMEOUT)
                .header("Authorization", "Bearer " + token.trim())
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)).build();
        HttpResponse<String> resp;
        try {
            resp = client.send(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (HttpConnectTimeoutException | ConnectException e) {
            throw new ToolException(ExitCodes.FAILED, "cannot reach the billing service at " + endpoint + ": "
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage())
                    + "; check --billing and that the service runs", e);
        } catch (HttpTimeoutException e) {
            throw new ToolException(ExitCodes.FAILED, "the billing service at " + endpoint + " did not answer within "
                    + TIMEOUT.toSeconds() + " s", e);
        } catch (IOException e) {
            throw new ToolException(ExitCodes.FAILED, "cannot reach the billing service at " + endpoint + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ToolException(ExitCodes.FAILED, "interrupted while enrolling", e);
        }
        int status = resp.statusCode();
        if (status == 200 || status == 201) {
            try {
                return JSON.readTree(resp.body());
            } catch (IOException e) {
                throw new ToolException(ExitCodes.FAILED, "the billing service at " + endpoint + " answered " + status
                        + " with a body that is not JSON", e);
            }
        }
        String why = switch (status) {
            case 401 -> "refused the token (401)";
            case 403 -> "does not let this token enroll this device (403)";
            case 409 -> "already has this device id with another key (409)";
            default -> "answered " + status;
        };
        throw new ToolException(ExitCodes.FAILED, "the billing service at " + endpoint + " " + why + ": "
                + errorMessage(resp.body()));
    }

    /** The billing's {@code {"error": "..."}}, else the body's first 200 characters. */
    private static String errorMessage(String body) {
        try {
            JsonNode n = JSON.readTree(body);
            if (n != null && n.path("error").isTextual()) {
                return n.get("error").asText();
            }
        } catch (IOException notJson) {
            // fall through: show the raw body
        }
        String b = body == null ? "" : body.strip().replaceAll("\\s+", " ");
        return b.isEmpty() ? "(no message)" : b.length() > 200 ? b.substring(0, 200) + "..." : b;
    }

    private static List<String> tenants(JsonNode answer, List<String> asked) {
        List<String> out = new ArrayList<>();
        answer.path("tenants").forEach(t -> out.add(t.asText()));
        if (out.isEmpty()) {
            out.addAll(asked.isEmpty() ? List.of("default") : asked);
        }
        return out;
    }

    /** Writes through a temporary file in the same folder, created with {@code mode}, then moved into place. */
    static void writeAtomically(Path file, String content, String mode) throws IOException {
        Path tmp = Files.createTempFile(file.getParent(), "." + file.getFileName(), ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(mode)));
        try {
            Files.writeString(tmp, content, StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Sets {@code settings} in a {@code .cfg} (Java properties): a line {@code key=...} is replaced where it stands,
     * a key not there yet is appended; comments and other keys stay as they are.
     */
    static void updateSyncConfig(Path cfg, Map<String, String> settings) throws IOException {
        List<String> lines = Files.exists(cfg) ? new ArrayList<>(Files.readAllLines(cfg, StandardCharsets.UTF_8))
                : new ArrayList<>(List.of("# Usage uplink (PID io.tollgate.sync); keys: bundles/sync/README.md"));
        Map<String, String> left = new LinkedHashMap<>(settings);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).stripLeading();
            if (line.startsWith("#") || line.startsWith("!")) {
                continue;
            }
            for (String key : settings.keySet()) {
                if (line.matches(Pattern.quote(key) + "\\s*[=:\\s].*") || line.equals(key)) {
                    lines.set(i, key + "=" + escape(settings.get(key)));
                    left.remove(key);
                }
            }
        }
        if (!left.isEmpty()) {
            lines.add("# set by bin/tollgate device enroll");
            left.forEach((k, v) -> lines.add(k + "=" + escape(v)));
        }
        writeAtomically(cfg, String.join("\n", lines) + "\n", "rw-r--r--");
    }

    /** A properties value: backslashes doubled (Java properties would read them as escapes). */
    private static String escape(String v) {
        return v.replace("\\", "\\\\");
    }
}

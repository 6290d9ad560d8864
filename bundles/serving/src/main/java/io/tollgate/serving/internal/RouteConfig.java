package io.tollgate.serving.internal;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Iterator;
import java.util.Set;
import java.util.TreeSet;

/**
 * A model's route (hybrid overflow), the {@code route} object of the box owner's {@code conf/models/{model}.json}
 * (docs/scheduling.md, "Hybrid overflow"):
 * <pre>
 * "route": {"mode": "local-first", "name": "plant-b", "url": "https://10.0.0.7:8443",
 *           "api_key_file": "keys/plant-b.key", "ca_file": "plant-b-ca.pem", "timeout_ms": 5000,
 *           "model": "fashion-mnist", "circuit_breaker": {"failure_threshold": 5, "open_ms": 30000}}
 * </pre>
 * Secrets are file references (never inline): the key file is a path (relative to the configuration folder,
 * {@code conf/}, the parent of {@code conf/models}) that stays inside it (no absolute path elsewhere, no {@code ..} out
 * of it, no symbolic link on the way or at the end, not a hard link), a regular file readable by its owner only (mode 0600
 * or 0400), as {@code conf/}'s other secrets. Other relative paths ({@code ca_file}) are resolved against
 * {@code conf/} too.
 *
 * @param mode             where requests go
 * @param name             the route's name: in usage records ({@code remote:<name>}), errors and {@code /metrics}
 * @param url              the remote OIP v2 server's base URL (http or https), without a trailing slash
 * @param apiKey           the key sent as {@code Authorization: Bearer}, or "" for none
 * @param caFile           the PEM certificates the remote's TLS certificate must chain to, or null for the JVM's
 * @param timeoutMs        how long one remote call may take, from sending to the whole answer, in ms
 * @param remoteModel      the model's name on the remote
 * @param failureThreshold consecutive failures that open the circuit
 * @param openMs           how long an open circuit refuses at once before one trial request, in ms
 * @param maxResponseBytes the largest remote answer accepted, in bytes
 * @param binaryData       send tensors with the binary tensor extension (Triton, Tollgate); false sends JSON
 */
record RouteConfig(Mode mode, String name, String url, String apiKey, Path caFile, long timeoutMs, String remoteModel,
                   int failureThreshold, long openMs, long maxResponseBytes, boolean binaryData) {

    /** Where a model's requests go. */
    enum Mode {
        /** Only here (the default): no route. */
        LOCAL("local"),
        /** Here; to the remote when the queue is full, the model (version) is not here, or the engine failed. */
        LOCAL_FIRST("local-first"),
        /** Always to the remote. */
        REMOTE("remote");

        final String text;

        Mode(String text) {
            this.text = text;
        }
    }

    static final long DEFAULT_TIMEOUT_MS = 10_000;
    static final long MAX_TIMEOUT_MS = 600_000;
    static final int DEFAULT_FAILURE_THRESHOLD = 5;
    static final long DEFAULT_OPEN_MS = 30_000;
    /** The endpoint's own body limit ({@code max.body.bytes} of io.tollgate.endpoint, 64 MiB by default). */
    static final long DEFAULT_MAX_RESPONSE_BYTES = 64L << 20;
    static final int MAX_KEY_BYTES = 4096;

    private static final Set<String> FIELDS = Set.of("mode", "name", "url", "api_key_file", "ca_file", "timeout_ms",
            "model", "circuit_breaker", "max_response_bytes", "binary_data");
    private static final Set<String> BREAKER_FIELDS = Set.of("failure_threshold", "open_ms");

    /** {@code "route"} as written; the key is never part of the text (logs, {@code /admin/plugins}). */
    @Override
    public String toString() {
        return "route '" + name + "' (" + mode.text + ", " + url + ", model '" + remoteModel + "', timeout "
                + timeoutMs + " ms" + (apiKey.isEmpty() ? "" : ", with an API key") + ")";
    }

    /**
     * Reads and checks {@code node}, the {@code route} of {@code model}'s file; reads the files it names.
     *
     * @param confDir the folder relative file names are resolved against
     * @return the route, or null for {@code "mode": "local"} (no route)
     * @throws ModelConfigs.Fault naming the field ({@code route.url}, ...) and what is expected
     */
    static RouteConfig parse(JsonNode node, String model, Path confDir) throws ModelConfigs.Fault {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isObject()) {
            throw fault("route", "an object such as {\"mode\":\"local-first\",\"name\":\"plant-b\",\"url\":"
                    + "\"https://10.0.0.7:8443\"}", node);
        }
        unknown(node, FIELDS, "route.");
        Mode mode = Mode.LOCAL;
        JsonNode m = node.get("mode");
        if (m != null && !m.isNull()) {
            mode = null;
            for (Mode candidate : Mode.values()) {
                if (m.isTextual() && candidate.text.equals(m.textValue())) {
                    mode = candidate;
                }
            }
            if (mode == null) {
                throw fault("route.mode", "one of \"local\", \"local-first\" or \"remote\"", m);
            }
        }
        if (mode == Mode.LOCAL) {
            return null;
        }
        String name = text(node.get("name"), "route.name");
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
            throw fault("route.name", "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"
                    + " (it names the route in usage records as remote:<name>)", node.get("name"));
        }
        String url = checkUrl(text(node.get("url"), "route.url"));
        String apiKey = "";
        JsonNode keyFile = node.get("api_key_file");
        if (keyFile != null && !keyFile.isNull()) {
            apiKey = readKey(confDir, text(keyFile, "route.api_key_file"));
        }
        Path ca = null;
        JsonNode caFile = node.get("ca_file");
        if (caFile != null && !caFile.isNull()) {
            if (!url.startsWith("https:")) {
                throw new ModelConfigs.Fault("route.ca_file", "field 'route.ca_file' is set but route.url is " + url
                        + "; a CA file is for an https URL");
            }
            ca = confDir.resolve(text(caFile, "route.ca_file")).normalize();
            RemoteRoute.trustOf(ca);   // refuses a missing or unreadable file, or one without a certificate
        }
        long timeout = number(node.get("timeout_ms"), "route.timeout_ms", 1, MAX_TIMEOUT_MS, DEFAULT_TIMEOUT_MS);
        String remoteModel = model;
        JsonNode rm = node.get("model");
        if (rm != null && !rm.isNull()) {
            remoteModel = text(rm, "route.model");
            if (!remoteModel.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,127}")) {
                throw fault("route.model", "the model's name on the remote: letters, digits, '.', '_' or '-'", rm);
            }
        }
        int threshold = DEFAULT_FAILURE_THRESHOLD;
        long openMs = DEFAULT_OPEN_MS;
        JsonNode cb = node.get("circuit_breaker");
        if (cb != null && !cb.isNull()) {
            if (!cb.isObject()) {
                throw fault("route.circuit_breaker", "an object such as {\"failure_threshold\":5,\"open_ms\":30000}",
                        cb);
            }
            unknown(cb, BREAKER_FIELDS, "route.circuit_breaker.");
            threshold = (int) number(cb.get("failure_threshold"), "route.circuit_breaker.failure_threshold", 1, 1000,
                    DEFAULT_FAILURE_THRESHOLD);
            openMs = number(cb.get("open_ms"), "route.circuit_breaker.open_ms", 100, 3_600_000, DEFAULT_OPEN_MS);
        }
        long maxResponse = number(node.get("max_response_bytes"), "route.max_response_bytes", 1024,
                Integer.MAX_VALUE - 8, DEFAULT_MAX_RESPONSE_BYTES);
        boolean binary = true;
        JsonNode b = node.get("binary_data");
        if (b != null && !b.isNull()) {
            if (!b.isBoolean()) {
                throw fault("route.binary_data", "true (tensors in the binary tensor extension, as Triton and"
                        + " Tollgate speak it) or false (JSON only, e.g. for a KServe server without it)", b);
            }
            binary = b.booleanValue();
        }
        return new RouteConfig(mode, name, url, apiKey, ca, timeout, remoteModel, threshold, openMs, maxResponse,
                binary);
    }

    private static String checkUrl(String url) throws ModelConfigs.Fault {
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new ModelConfigs.Fault("route.url", "field 'route.url' is not a URL (" + e.getReason()
                    + "); expected e.g. https://10.0.0.7:8443");
        }
        String scheme = uri.getScheme();
        if (scheme == null || !(scheme.equals("http") || scheme.equals("https"))) {
            throw new ModelConfigs.Fault("route.url", "field 'route.url' has scheme '" + scheme + "'; expected http"
                    + " or https, e.g. https://10.0.0.7:8443");
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            throw new ModelConfigs.Fault("route.url", "field 'route.url' names no host; expected e.g."
                    + " https://10.0.0.7:8443");
        }
        if (uri.getRawUserInfo() != null) {
            throw new ModelConfigs.Fault("route.url", "field 'route.url' holds a user name or password; put the key"
                    + " in a file and name it in route.api_key_file");
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
            throw new ModelConfigs.Fault("route.url", "field 'route.url' has a query or fragment; expected the"
                    + " server's base URL, e.g. https://10.0.0.7:8443 (Tollgate adds /v2/models/...)");
        }
        String s = uri.toString();
        while (s.endsWith("/")) {
            s = s.substring(0, s.length() - 1);
        }
        return s;
    }

    /** The modes a key file may have: 0600 or 0400. */
    private static final Set<PosixFilePermission> OWNER_ONLY = java.util.EnumSet.of(PosixFilePermission.OWNER_READ,
            PosixFilePermission.OWNER_WRITE);

    /**
     * {@code file} resolved in {@code confDir}, refused unless it stays inside it: no absolute path elsewhere, no
     * {@code ..} out of it, no symbolic link among the folders below {@code confDir} nor at the end (a link could
     * point anywhere: the device's signing key, /etc/shadow), and the real path still inside {@code confDir}'s.
     */
    static Path confined(Path confDir, String file, String field) throws ModelConfigs.Fault {
        String expected = "; name a file under the configuration folder " + confDir + ", e.g. \"keys/plant-b.key\"";
        Path asked;
        try {
            asked = Path.of(file);
        } catch (java.nio.file.InvalidPathException e) {
            throw new ModelConfigs.Fault(field, "field '" + field + "' is not a file name (" + e.getReason() + ")"
                    + expected);
        }
        Path root = confDir.toAbsolutePath().normalize();
        Path f = root.resolve(asked).normalize();
        if (!f.startsWith(root) || f.equals(root)) {
            throw new ModelConfigs.Fault(field, "field '" + field + "' is " + (asked.isAbsolute()
                    ? "the absolute path " + file + ", which is outside the configuration folder"
                    : file + ", which leads out of the configuration folder") + expected);
        }
        Path at = root;
        for (Path part : root.relativize(f)) {
            at = at.resolve(part);
            if (Files.isSymbolicLink(at)) {
                throw new ModelConfigs.Fault(field, "field '" + field + "' names " + f + ", but " + at + " is a"
                        + " symbolic link, which is not followed" + expected);
            }
        }
        try {
            if (Files.exists(f, LinkOption.NOFOLLOW_LINKS) && !f.toRealPath().startsWith(root.toRealPath())) {
                throw new ModelConfigs.Fault(field, "field '" + field + "' names " + f + ", which is not inside the"
                        + " configuration folder " + root.toRealPath() + expected);
            }
        } catch (IOException e) {
            throw new ModelConfigs.Fault(field, "field '" + field + "' names " + f + ", which cannot be read: " + e);
        }
        return f;
    }

    /** The API key in {@code file}: inside {@code confDir}, owner-only permissions, one line of printable ASCII. */
    private static String readKey(Path confDir, String file) throws ModelConfigs.Fault {
        String field = "route.api_key_file";
        Path f = confined(confDir, file, field);
        try {
            if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
                throw new ModelConfigs.Fault(field, "field '" + field + "' names " + f + ", which is not a regular"
                        + " file: " + (Files.isSymbolicLink(f) ? "a symbolic link, which is not followed"
                        : Files.isDirectory(f) ? "a folder"
                        : Files.exists(f) ? "a FIFO, socket or device" : "it does not exist"));
            }
            try {
                Set<PosixFilePermission> perms = Files.getPosixFilePermissions(f, LinkOption.NOFOLLOW_LINKS);
                if (!OWNER_ONLY.containsAll(perms)) {
                    throw new ModelConfigs.Fault(field, "field '" + field + "' names " + f + ", whose mode is "
                            + java.nio.file.attribute.PosixFilePermissions.toString(perms) + "; a key file must be"
                            + " readable by its owner only: run chmod 600 on it");
                }
                Object links = Files.getAttribute(f, "unix:nlink", LinkOption.NOFOLLOW_LINKS);
                if (links instanceof Integer n && n > 1) {
                    throw new ModelConfigs.Fault(field, "field '" + field + "' names " + f + ", which is a hard link"
                            + " (" + n + " names for one file); copy the key into a file of its own under the"
                            + " configuration folder");
                }
            } catch (UnsupportedOperationException | IllegalArgumentException e) {
                // not a POSIX file system: nothing to check
            }
            if (Files.size(f) > MAX_KEY_BYTES) {
                throw new ModelConfigs.Fault(field, "field '" + field + "' names " + f + ", which is larger than "
                        + MAX_KEY_BYTES + " bytes; it must hold only the API key");
            }
            String key = new String(io.tollgate.config.ConfigFile.read(f, MAX_KEY_BYTES), StandardCharsets.US_ASCII)
                    .trim();
            if (key.isEmpty() || !key.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
                throw new ModelConfigs.Fault(field, "field '" + field + "' names " + f + ", which must hold one API"
                        + " key: printable ASCII without spaces (the file is not quoted here)");
            }
            return key;
        } catch (IOException e) {
            throw new ModelConfigs.Fault(field, "field '" + field + "' names " + f + ", which cannot be read: " + e);
        }
    }

    private static void unknown(JsonNode node, Set<String> known, String prefix) throws ModelConfigs.Fault {
        Iterator<String> names = node.fieldNames();
        while (names.hasNext()) {
            String f = names.next();
            if (!known.contains(f)) {
                throw new ModelConfigs.Fault(prefix + f, "field '" + prefix + f + "' is not one Tollgate knows;"
                        + " expected one of " + new TreeSet<>(known) + " (secrets go in files: api_key_file)");
            }
        }
    }

    private static String text(JsonNode n, String field) throws ModelConfigs.Fault {
        if (n == null || n.isNull()) {
            throw new ModelConfigs.Fault(field, "field '" + field + "' is missing");
        }
        if (!n.isTextual() || n.textValue().isBlank()) {
            throw fault(field, "a non-empty string", n);
        }
        return n.textValue().trim();
    }

    private static long number(JsonNode n, String field, long min, long max, long fallback) throws ModelConfigs.Fault {
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.isIntegralNumber() || !n.canConvertToLong() || n.longValue() < min || n.longValue() > max) {
            throw fault(field, "a whole number " + min + ".." + max, n);
        }
        return n.longValue();
    }

    private static ModelConfigs.Fault fault(String field, String expected, JsonNode value) {
        return new ModelConfigs.Fault(field, "field '" + field + "' is "
                + (value == null ? "missing" : DescriptorReader.describe(value)) + "; expected " + expected);
    }
}

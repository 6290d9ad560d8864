package io.tollgate.cloud.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The billing API tokens of a data folder: {@code <data>/auth/api-tokens.json} (mode 0600, folder 0700). A token is
 * {@code tgb_} + 32 random bytes in unpadded base64url (47 characters); it is shown once, at creation, and the file
 * keeps only its SHA-256 (a 256-bit random secret needs no slow hash: nothing to guess from its digest).
 * {@code tollgate-billing token create|list|revoke} and tests call this class; the running service reads the file
 * through {@link ApiTokenGate}, which picks up changes without a restart.
 */
public final class ApiTokens {
    public static final String FILE = "api-tokens.json";
    /** Every token starts so: recognisable in logs, configs and secret scanners. */
    public static final String PREFIX = "tgb_";
    /** A tenant name, as the ledger's (docs/billing.md). */
    public static final Pattern TENANT = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final SecureRandom RANDOM = new SecureRandom();

    private ApiTokens() {
    }

    /** A token just made: its stored form and the secret, which exists nowhere else. */
    public record Created(ApiToken token, String secret) {
    }

    /** {@code <data>/auth/api-tokens.json}. */
    public static Path file(Path dataDir) {
        return AuthFiles.folder(dataDir).resolve(FILE);
    }

    /** Makes a token, stores its hash; returns it with the secret (print it once, it cannot be recovered). */
    public static Created create(Path dataDir, ApiRole role, String tenant, String name) throws IOException {
        if (tenant != null && !TENANT.matcher(tenant).matches()) {
            throw new IllegalArgumentException("tenant '" + tenant + "' is not a tenant name: 1 to 63 of a-z 0-9 . _ - "
                    + "starting with a letter or digit");
        }
        if (tenant != null && role == ApiRole.ADMIN) {
            throw new IllegalArgumentException("an admin token is for every tenant; give --tenant to a reader or "
                    + "enroll token");
        }
        byte[] secretBytes = new byte[32];
        RANDOM.nextBytes(secretBytes);
        String secret = PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(secretBytes);
        byte[] idBytes = new byte[6];
        RANDOM.nextBytes(idBytes);
        ApiToken token = new ApiToken(HexFormat.of().formatHex(idBytes), name == null ? "" : name, role, tenant,
                Instant.now().truncatedTo(ChronoUnit.SECONDS), sha256Hex(secret));
        AuthFiles.locked(dataDir, () -> {
            List<ApiToken> all = new ArrayList<>(readIfPresent(file(dataDir)));
            all.add(token);
            write(dataDir, all);
            return null;
        });
        return new Created(token, secret);
    }

    /** The stored tokens (none when the file does not exist yet). */
    public static List<ApiToken> list(Path dataDir) throws IOException {
        return readIfPresent(file(dataDir));
    }

    /** Removes token {@code id}; false when there is none with that id. */
    public static boolean revoke(Path dataDir, String id) throws IOException {
        return AuthFiles.locked(dataDir, () -> {
            List<ApiToken> all = new ArrayList<>(readIfPresent(file(dataDir)));
            boolean removed = all.removeIf(t -> t.id().equals(id));
            if (removed) {
                write(dataDir, all);
            }
            return removed;
        });
    }

    /** Lower-case hex SHA-256 of the UTF-8 bytes of {@code secret}. */
    static String sha256Hex(String secret) {
        return HexFormat.of().formatHex(sha256(secret));
    }

    static byte[] sha256(String secret) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    static List<ApiToken> readIfPresent(Path file) throws IOException {
        try {
            return parse(file, Files.readString(file, StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            return List.of();
        }
    }

    /** Parses the file's text; an IOException names the file and what is wrong with it. */
    static List<ApiToken> parse(Path file, String text) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (IOException e) {
            throw new IOException(file + " is not JSON: " + e.getMessage().lines().findFirst().orElse(""), e);
        }
        if (root == null || !root.path("tokens").isArray()) {
            throw new IOException(file + " has no \"tokens\" array");
        }
        List<ApiToken> out = new ArrayList<>();
        int i = 0;
        for (JsonNode n : root.get("tokens")) {
            String where = file + ": tokens[" + i++ + "]";
            String id = n.path("id").asText("");
            String hash = n.path("sha256").asText("");
            if (id.isEmpty() || !hash.matches("[0-9a-f]{64}")) {
                throw new IOException(where + " needs an id and a sha256 of 64 lower-case hex digits");
            }
            ApiRole role;
            Instant created;
            try {
                role = ApiRole.parse(n.path("role").asText(""));
                created = Instant.parse(n.path("created").asText(""));
            } catch (IllegalArgumentException | DateTimeParseException e) {
                throw new IOException(where + ": " + e.getMessage(), e);
            }
            String tenant = n.hasNonNull("tenant") ? n.get("tenant").asText() : null;
            if (tenant != null && !TENANT.matcher(tenant).matches()) {
                throw new IOException(where + ": tenant '" + tenant + "' is not a tenant name");
            }
            out.add(new ApiToken(id, n.path("name").asText(""), role, tenant, created, hash));
        }
        return List.copyOf(out);
    }

    private static void write(Path dataDir, List<ApiToken> tokens) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode list = root.putArray("tokens");
        for (ApiToken t : tokens) {
            ObjectNode n = list.addObject();
            n.put("id", t.id());
            n.put("name", t.name());
            n.put("role", t.role().label());
            if (t.tenant() == null) {
                n.putNull("tenant");
            } else {
                n.put("tenant", t.tenant());
            }
            n.put("created", t.created().toString());
            n.put("sha256", t.sha256());
        }
        AuthFiles.ensureFolder(dataDir);
        AuthFiles.writeAtomically(file(dataDir), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n",
                AuthFiles.OWNER_ONLY);
    }
}

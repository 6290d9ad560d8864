package io.tollgate.endpoint.keys;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The key file, {@code conf/api-keys.json} (owner-only, 0600): every API key and client certificate the endpoint
 * accepts, as hashes. The endpoint reads it, and reads it again when it changes (no restart); offline tools add and
 * revoke entries ({@code bin/tollgate keys}). Every write takes a lock ({@code api-keys.json.lock}) against a
 * concurrent tool, writes a temporary file (0600) and renames it into place, so the endpoint never reads half a
 * file. Reading is strict: an unknown field, role or a duplicate id makes the whole file unreadable (a misspelt
 * {@code "modles"} must not silently widen a key), with the entry and field named.
 *
 * <pre>
 * {
 *   "format" : "tollgate-api-keys/1",
 *   "keys" : [ {
 *     "id" : "3f9a2c7d1e4b", "tenant" : "acme", "role" : "infer", "models" : [ "fashion-mnist" ],
 *     "name" : "line 7", "created" : "2026-11-30T10:00:00Z", "revoked" : null,
 *     "key_sha256" : "5e88...", "cert_sha256" : null
 *   } ]
 * }
 * </pre>
 */
public final class ApiKeyFile {
    /** The file's name in the configuration folder. */
    public static final String FILE_NAME = "api-keys.json";
    /** The value of {@code "format"}. */
    public static final String FORMAT = "tollgate-api-keys/1";
    /** The largest key file read, in bytes (an entry is about 300 bytes: some 50,000 keys). */
    static final int MAX_FILE_BYTES = 16 << 20;
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    private static final JsonFactory JSON = JsonFactory.builder().build();
    private static final Set<String> FIELDS = Set.of("id", "tenant", "role", "models", "name", "created", "revoked",
            "key_sha256", "cert_sha256");

    private static final Object IN_PROCESS = new Object();

    private final Path file;

    private ApiKeyFile(Path file) {
        this.file = file;
    }

    /** The key file of the configuration folder {@code confDir}: {@code confDir/api-keys.json}. */
    public static ApiKeyFile in(Path confDir) {
        return new ApiKeyFile(confDir.resolve(FILE_NAME));
    }

    /** The key file at {@code file}. */
    public static ApiKeyFile at(Path file) {
        return new ApiKeyFile(file);
    }

    public Path path() {
        return file;
    }

    /**
     * Every entry, revoked ones included, in file order; empty when there is no file.
     *
     * @throws IOException the file cannot be read, or is not a valid key file (the message names the file, the entry
     *                     and what is wrong)
     */
    public List<ApiKey> read() throws IOException {
        byte[] bytes;
        try {
            bytes = io.tollgate.config.ConfigFile.read(file, MAX_FILE_BYTES);
        } catch (NoSuchFileException e) {
            return List.of();
        }
        return parse(bytes);
    }

    /** Reads {@code bytes} as a key file (named {@link #path()} in messages). */
    List<ApiKey> parse(byte[] bytes) throws IOException {
        try (JsonParser p = JSON.createParser(bytes)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw invalid("it is not a JSON object");
            }
            String format = null;
            List<ApiKey> keys = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken v = p.nextToken();
                if ("format".equals(field)) {
                    format = v == JsonToken.VALUE_STRING ? p.getText() : "";
                } else if ("keys".equals(field)) {
                    if (v != JsonToken.START_ARRAY) {
                        throw invalid("\"keys\" is not an array");
                    }
                    keys = entries(p);
                } else {
                    throw invalid("unknown field \"" + field + "\" (known: format, keys)");
                }
            }
            if (!FORMAT.equals(format)) {
                throw invalid("\"format\" is " + (format == null ? "missing" : "'" + format + "'") + "; expected '"
                        + FORMAT + "'");
            }
            if (keys == null) {
                throw invalid("\"keys\" is missing");
            }
            if (p.nextToken() != null) {
                throw invalid("there is content after the JSON object");
            }
            return List.copyOf(keys);
        } catch (JsonProcessingException e) {
            throw invalid("it is not valid JSON (" + e.getOriginalMessage() + " at line "
                    + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")");
        }
    }

    private List<ApiKey> entries(JsonParser p) throws IOException {
        List<ApiKey> out = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        Set<String> certs = new HashSet<>();
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            int n = out.size() + 1;
            if (t != JsonToken.START_OBJECT) {
                throw invalid("entry " + n + " of \"keys\" is not a JSON object");
            }
            ApiKey key = entry(p, n);
            if (!ids.add(key.id())) {
                throw invalid("entry " + n + ": id " + key.id() + " is used twice");
            }
            if (key.certSha256() != null && !certs.add(key.certSha256())) {
                throw invalid("entry " + n + ": the certificate " + key.certSha256() + " is bound twice");
            }
            out.add(key);
        }
        return out;
    }

    private ApiKey entry(JsonParser p, int n) throws IOException {
        String id = null;
        String tenant = null;
        String role = null;
        List<String> models = List.of();
        String name = "";
        String created = null;
        String revoked = null;
        String keyHash = null;
        String certHash = null;
        Set<String> seen = new HashSet<>();
        String fault = null;   // reported after the entry is read, so that the message can name its id
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken v = p.nextToken();
            if (!FIELDS.contains(field) || !seen.add(field)) {
                if (fault == null) {
                    fault = FIELDS.contains(field) ? "field \"" + field + "\" is given twice" : "unknown field \""
                            + field + "\" (known: id, tenant, role, models, name, created, revoked, key_sha256, "
                            + "cert_sha256)";
                }
                p.skipChildren();
                continue;
            }
            if ("models".equals(field)) {
                if (v != JsonToken.START_ARRAY) {
                    throw invalid("entry " + n + ": \"models\" is not an array of model names");
                }
                List<String> list = new ArrayList<>();
                while (p.nextToken() == JsonToken.VALUE_STRING) {
                    list.add(p.getText());
                }
                if (p.currentToken() != JsonToken.END_ARRAY) {
                    throw invalid("entry " + n + ": \"models\" holds something other than strings");
                }
                models = list;
                continue;
            }
            String value;
            if (v == JsonToken.VALUE_NULL) {
                value = null;
            } else if (v == JsonToken.VALUE_STRING) {
                value = p.getText();
            } else {
                throw invalid("entry " + n + ": \"" + field + "\" is not a string");
            }
            switch (field) {
                case "id" -> id = value;
                case "tenant" -> tenant = value;
                case "role" -> role = value;
                case "name" -> name = value;
                case "created" -> created = value;
                case "revoked" -> revoked = value;
                case "key_sha256" -> keyHash = value;
                default -> certHash = value;
            }
        }
        try {
            if (fault != null) {
                throw new IllegalArgumentException(fault);
            }
            if (role == null) {
                throw new IllegalArgumentException("\"role\" is missing");
            }
            if (created == null) {
                throw new IllegalArgumentException("\"created\" is missing");
            }
            return new ApiKey(id, tenant, ApiKeyRole.parse(role), models, name, instant("created", created),
                    revoked == null ? null : instant("revoked", revoked), keyHash, certHash);
        } catch (IllegalArgumentException e) {
            throw invalid("entry " + n + (id != null && ApiKeyHash.ID.matcher(id).matches() ? " (id " + id + ")" : "")
                    + ": " + e.getMessage());
        }
    }

    private static Instant instant(String field, String value) {
        try {
            return Instant.parse(value);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("\"" + field + "\" is '" + value + "', not an ISO-8601 instant such as "
                    + "2026-11-30T10:00:00Z");
        }
    }

    private IOException invalid(String what) {
        return new IOException(file + " is not a valid API key file: " + what);
    }

    /**
     * Adds a bearer key and returns it: the caller shows it once; only its hash is written.
     *
     * @param models the models the key may use; empty = all (only for {@link ApiKeyRole#INFER})
     * @throws IllegalArgumentException a field is not valid ({@link ApiKey})
     * @throws IOException the file cannot be read or written
     */
    public NewApiKey add(String tenant, ApiKeyRole role, List<String> models, String name) throws IOException {
        return update(keys -> {
            String id = newId(keys);
            String key = ApiKeyHash.newKey(id);
            ApiKey entry = new ApiKey(id, tenant, role, models, name, now(), null, ApiKeyHash.ofKey(key), null);
            keys.add(entry);
            return new NewApiKey(entry, key);
        });
    }

    /**
     * Binds a client certificate (the first one in the PEM file {@code certificatePem}) to a tenant and role: a TLS
     * client presenting exactly this certificate (checked against the endpoint's {@code tls.client.ca.file} first)
     * needs no bearer key.
     *
     * @param name a label; empty = the certificate's subject
     * @throws IllegalArgumentException a field is not valid
     * @throws IllegalStateException    the certificate is bound already
     * @throws IOException the certificate or the key file cannot be read, or the key file cannot be written
     */
    public ApiKey addCertificate(String tenant, ApiKeyRole role, List<String> models, String name, Path certificatePem)
            throws IOException {
        X509Certificate cert = certificate(certificatePem);
        String fingerprint;
        try {
            fingerprint = ApiKeyHash.ofCertificate(cert.getEncoded());
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot encode the certificate in " + certificatePem + ": " + e.getMessage(), e);
        }
        String label = name == null || name.isEmpty() ? subjectLabel(cert) : name;
        return update(keys -> {
            for (ApiKey k : keys) {
                if (fingerprint.equals(k.certSha256())) {
                    throw new IllegalStateException("the certificate in " + certificatePem + " is bound already, "
                            + "to entry " + k.id() + (k.active() ? "" : " (revoked: bind a new certificate)"));
                }
            }
            ApiKey entry = new ApiKey(newId(keys), tenant, role, models, label, now(), null, null, fingerprint);
            keys.add(entry);
            return entry;
        });
    }

    /**
     * Revokes the entry {@code id}: from the next read on it authenticates nobody. Revoking a revoked entry changes
     * nothing.
     *
     * @return the entry as it is now, or empty when there is no entry {@code id}
     */
    public Optional<ApiKey> revoke(String id) throws IOException {
        return update(keys -> {
            for (int i = 0; i < keys.size(); i++) {
                ApiKey k = keys.get(i);
                if (k.id().equals(id)) {
                    if (k.active()) {
                        keys.set(i, k.revokedAt(now()));
                    }
                    return Optional.of(keys.get(i));
                }
            }
            return Optional.empty();
        });
    }

    /** The first certificate of a PEM file. */
    static X509Certificate certificate(Path pem) throws IOException {
        Collection<? extends Certificate> certs;
        try (InputStream in = new java.io.ByteArrayInputStream(io.tollgate.config.ConfigFile.read(pem,
                io.tollgate.config.ConfigFile.MAX_PEM_BYTES))) {
            certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
        } catch (GeneralSecurityException e) {
            throw new IOException(pem + " holds no readable PEM certificate: " + e.getMessage(), e);
        }
        if (certs.isEmpty() || !(certs.iterator().next() instanceof X509Certificate x)) {
            throw new IOException(pem + " holds no PEM certificate (\"-----BEGIN CERTIFICATE-----\")");
        }
        return x;
    }

    private static String subjectLabel(X509Certificate cert) {
        String s = cert.getSubjectX500Principal().getName().replaceAll("\\p{Cntrl}", "?");
        return s.length() <= ApiKey.MAX_NAME_LENGTH ? s : s.substring(0, ApiKey.MAX_NAME_LENGTH);
    }

    private static Instant now() {
        return Instant.now().truncatedTo(ChronoUnit.SECONDS);
    }

    private static String newId(List<ApiKey> keys) {
        while (true) {
            String id = ApiKeyHash.newId();
            if (keys.stream().noneMatch(k -> k.id().equals(id))) {
                return id;
            }
        }
    }

    /** A change to the entries, made under the lock. */
    private interface Change<T> {
        T apply(List<ApiKey> keys) throws IOException;
    }

    private <T> T update(Change<T> change) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path lock = file.resolveSibling(file.getFileName() + ".lock");
        createOwnerOnly(lock);
        // the file lock keeps other processes out; a JVM may hold it only once, so threads queue here first
        synchronized (IN_PROCESS) {
            try (FileChannel ch = FileChannel.open(lock, StandardOpenOption.WRITE); FileLock ignored = ch.lock()) {
                List<ApiKey> keys = new ArrayList<>(read());
                T result = change.apply(keys);
                write(keys);
                return result;
            }
        }
    }

    private static void createOwnerOnly(Path f) throws IOException {
        try {
            Files.createFile(f, ownerOnly());
        } catch (FileAlreadyExistsException e) {
            // made by an earlier write
        }
    }

    private static FileAttribute<?>[] ownerOnly() {
        return FileSystems.getDefault().supportedFileAttributeViews().contains("posix")
                ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(OWNER_ONLY)}
                : new FileAttribute<?>[0];
    }

    /** Writes a temporary file (0600), forces it to disk, then renames it over the key file. */
    private void write(List<ApiKey> keys) throws IOException {
        byte[] bytes = render(keys);
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, ownerOnly());
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    static byte[] render(List<ApiKey> keys) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.useDefaultPrettyPrinter();
            g.writeStartObject();
            g.writeStringField("format", FORMAT);
            g.writeArrayFieldStart("keys");
            for (ApiKey k : keys) {
                g.writeStartObject();
                g.writeStringField("id", k.id());
                g.writeStringField("tenant", k.tenant());
                g.writeStringField("role", k.role().label());
                g.writeArrayFieldStart("models");
                for (String m : k.models()) {
                    g.writeString(m);
                }
                g.writeEndArray();
                g.writeStringField("name", k.name());
                g.writeStringField("created", k.created().toString());
                g.writeStringField("revoked", k.revoked() == null ? null : k.revoked().toString());
                g.writeStringField("key_sha256", k.keySha256());
                g.writeStringField("cert_sha256", k.certSha256());
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        out.write('\n');
        return out.toByteArray();
    }
}

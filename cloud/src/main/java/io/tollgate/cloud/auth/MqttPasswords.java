package io.tollgate.cloud.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;
import org.bouncycastle.crypto.digests.SHA512Digest;
import org.bouncycastle.crypto.generators.PKCS5S2ParametersGenerator;
import org.bouncycastle.crypto.params.KeyParameter;

/**
 * The devices' MQTT broker passwords: {@code <data>/auth/mqtt-passwd} (mode 0600), one {@code username:hash} line
 * per device in mosquitto 2's own password-file format, {@code $7$<iterations>$<base64 salt>$<base64 hash>} with
 * hash = PBKDF2-HMAC-SHA512(password, 12-byte salt, iterations, 64 bytes) — what {@code mosquitto_passwd} writes
 * (mosquitto 2.0 src/password_mosq.c; checked against /usr/sbin/mosquitto by BrokerConfigTest). A password is made
 * at registration, returned once, and exists nowhere else; {@code tollgate-billing broker-config} copies the hashes
 * into the file the broker reads.
 *
 * <p>101 iterations, mosquitto's own default: the passwords are 32 random bytes, so slowing a guess down buys nothing,
 * while every CONNECT pays for the iterations.
 */
public final class MqttPasswords {
    public static final String FILE = "mqtt-passwd";
    /** The billing service's own broker identity (never a device id). */
    public static final String BILLING_USERNAME = "tollgate-billing";
    static final int ITERATIONS = 101;
    private static final int SALT_BYTES = 12;
    private static final int HASH_BYTES = 64;
    private static final Pattern USERNAME = Pattern.compile("[^:\\s]{1,128}");
    private static final SecureRandom RANDOM = new SecureRandom();

    private MqttPasswords() {
    }

    /** {@code <data>/auth/mqtt-passwd}. */
    public static Path file(Path dataDir) {
        return AuthFiles.folder(dataDir).resolve(FILE);
    }

    /**
     * Whether {@code username} can be a line of a mosquitto password file: mosquitto splits each line at its first
     * ':', so a device id with one (allowed by the appliance's id rule) cannot have a broker password.
     */
    public static boolean usable(String username) {
        return USERNAME.matcher(username).matches();
    }

    /** A new random password: 32 bytes, unpadded base64url (43 characters, no ':' nor spaces). */
    public static String newPassword() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    /**
     * Gives {@code username} a new random password (replacing any earlier one) and stores its hash; returns the
     * password, which is shown once and kept nowhere.
     */
    public static String issue(Path dataDir, String username) throws IOException {
        if (!USERNAME.matcher(username).matches()) {
            throw new IllegalArgumentException("'" + username + "' cannot be an MQTT username in a password file");
        }
        String password = newPassword();
        String hash = hash(password);
        AuthFiles.locked(dataDir, () -> {
            Map<String, String> all = new LinkedHashMap<>(read(file(dataDir)));
            all.put(username, hash);
            AuthFiles.writeAtomically(file(dataDir), format(all), AuthFiles.OWNER_ONLY);
            return null;
        });
        return password;
    }

    /** The stored {@code username -> hash} lines, in file order (empty when there is no file yet). */
    public static Map<String, String> read(Path file) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        try {
            int n = 0;
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                n++;
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                int colon = line.indexOf(':');
                if (colon < 1 || !line.startsWith("$7$", colon + 1)) {
                    throw new IOException(file + " line " + n + " is not username:$7$...");
                }
                out.put(line.substring(0, colon), line.substring(colon + 1));
            }
        } catch (NoSuchFileException e) {
            return out;
        }
        return out;
    }

    /** The lines of a mosquitto password file. */
    public static String format(Map<String, String> hashes) {
        StringBuilder b = new StringBuilder();
        hashes.forEach((u, h) -> b.append(u).append(':').append(h).append('\n'));
        return b.toString();
    }

    /** The mosquitto {@code $7$} hash of {@code password} with a new random salt. */
    public static String hash(String password) {
        byte[] salt = new byte[SALT_BYTES];
        RANDOM.nextBytes(salt);
        return hash(password, salt, ITERATIONS);
    }

    static String hash(String password, byte[] salt, int iterations) {
        Base64.Encoder b64 = Base64.getEncoder();
        return "$7$" + iterations + "$" + b64.encodeToString(salt) + "$"
                + b64.encodeToString(pbkdf2(password, salt, iterations));
    }

    /** Whether {@code password} matches a {@code $7$} hash (for tests and diagnostics). */
    public static boolean matches(String password, String hash) {
        String[] p = hash.split("\\$");
        if (p.length != 5 || !"7".equals(p[1])) {
            return false;
        }
        byte[] expected = Base64.getDecoder().decode(p[4]);
        return java.security.MessageDigest.isEqual(expected,
                pbkdf2(password, Base64.getDecoder().decode(p[3]), Integer.parseInt(p[2])));
    }

    private static byte[] pbkdf2(String password, byte[] salt, int iterations) {
        PKCS5S2ParametersGenerator gen = new PKCS5S2ParametersGenerator(new SHA512Digest());
        gen.init(password.getBytes(StandardCharsets.UTF_8), salt, iterations);
        return ((KeyParameter) gen.generateDerivedParameters(HASH_BYTES * 8)).getKey();
    }
}

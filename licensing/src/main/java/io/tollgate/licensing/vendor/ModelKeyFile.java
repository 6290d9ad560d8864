package io.tollgate.licensing.vendor;

import io.tollgate.licensing.ModelCipher;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.UUID;

/**
 * A vendor's model key file (docs/licensing.md, "Encrypted models"), written by {@code tollgate-vendor encrypt-model}
 * with mode 0600 and read by {@code tollgate-vendor issue --model-key}: three lines of ASCII,
 * <pre>
 * TOLLGATE-MODEL-KEY 1
 * key_id 5b0c2d1e-...
 * key &lt;base64 of the 32-byte AES key&gt;
 * </pre>
 * The key id is a random UUID: it names the key in the encrypted file's header, the descriptor and the license, and
 * says nothing about the key or the model. Vendor side only.
 *
 * @param keyId the key id
 * @param key   the 32-byte AES-256 key
 */
public record ModelKeyFile(String keyId, byte[] key) {
    private static final String HEADER = "TOLLGATE-MODEL-KEY 1";

    /** A new random key with a random UUID as its id. */
    public static ModelKeyFile generate(SecureRandom random) {
        return new ModelKeyFile(UUID.randomUUID().toString(), ModelCipher.newKey(random));
    }

    /** Encrypts a model's bytes with this key ({@link ModelCipher}: header, AES-256-GCM, random nonce). */
    public byte[] encrypt(byte[] clear, SecureRandom random) {
        return ModelCipher.encrypt(clear, key, keyId, random);
    }

    /** Writes the key file with mode 0600 (never over an existing file). */
    public void write(Path file) throws IOException {
        if (Files.exists(file)) {
            throw new FileAlreadyExistsException(file.toString(), null, "a key file is never overwritten");
        }
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, ".model-key", ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            Files.writeString(tmp, HEADER + "\nkey_id " + keyId + "\nkey " + Base64.getEncoder().encodeToString(key)
                    + "\n", StandardCharsets.US_ASCII);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Reads a key file.
     *
     * @throws IOException unreadable, or not a model key file (the message says what is wrong)
     */
    public static ModelKeyFile read(Path file) throws IOException {
        String[] lines = Files.readString(file, StandardCharsets.US_ASCII).split("\n");
        if (lines.length != 3 || !lines[0].equals(HEADER) || !lines[1].startsWith("key_id ")
                || !lines[2].startsWith("key ")) {
            throw new IOException(file + ": not a model key file (tollgate-vendor encrypt-model writes one: three"
                    + " lines, " + HEADER + ", key_id ID, key BASE64)");
        }
        byte[] key;
        try {
            key = Base64.getDecoder().decode(lines[2].substring(4).trim());
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": the key is not base64", e);
        }
        if (key.length != ModelCipher.KEY_BYTES) {
            throw new IOException(file + ": the key is " + key.length + " bytes, a model key has 32");
        }
        return new ModelKeyFile(lines[1].substring(7).trim(), key);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelKeyFile k && k.keyId.equals(keyId) && Arrays.equals(k.key, key);
    }

    @Override
    public int hashCode() {
        return keyId.hashCode();
    }

    @Override
    public String toString() {
        return "ModelKeyFile[" + keyId + "]";
    }
}

package io.tollgate.licensing;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The encrypted model file of a plugin (issue 10, "Model encryption"; docs/licensing.md, "Encrypted models"): the
 * model's bytes under AES-256-GCM with a random 96-bit nonce, after a header that GCM authenticates as its AAD:
 * <pre>
 * offset  size  field
 *      0     4  magic "TGEM" (54 47 45 4d)
 *      4     1  format version, 1
 *      5     1  n = length of the key id in bytes (1..255)
 *      6     n  key id, UTF-8
 *    6+n    12  nonce
 *   18+n     -  AES-256-GCM ciphertext of the model, then the 16-byte tag
 * </pre>
 * JDK crypto only (the serving bundle decrypts with it). The key is 32 bytes; callers zero it after use.
 *
 * @since 1.1
 */
public final class ModelCipher {
    /** The descriptor's {@code encryption.scheme} for this format. */
    public static final String SCHEME = "AES-256-GCM";
    /** Key length in bytes. */
    public static final int KEY_BYTES = 32;
    private static final byte[] MAGIC = {'T', 'G', 'E', 'M'};
    private static final byte VERSION = 1;
    private static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;

    private ModelCipher() {
    }

    /** A new random 32-byte model key. */
    public static byte[] newKey(SecureRandom random) {
        byte[] key = new byte[KEY_BYTES];
        random.nextBytes(key);
        return key;
    }

    /**
     * Encrypts a model file.
     *
     * @param clear  the model's bytes
     * @param key    32-byte key
     * @param keyId  the key id the header carries (1..255 UTF-8 bytes; it must not reveal the key)
     * @param random the source of the nonce
     * @return the encrypted file: header, ciphertext, tag
     */
    public static byte[] encrypt(byte[] clear, byte[] key, String keyId, SecureRandom random) {
        byte[] nonce = new byte[NONCE_BYTES];
        random.nextBytes(nonce);
        byte[] header = header(keyId, nonce);
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, aes(key), new GCMParameterSpec(TAG_BITS, nonce));
            c.updateAAD(header);
            byte[] out = Arrays.copyOf(header, header.length + c.getOutputSize(clear.length));
            c.doFinal(clear, 0, clear.length, out, header.length);
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-256-GCM failed: " + e.getMessage(), e);
        }
    }

    /**
     * The key id in an encrypted file's header.
     *
     * @throws LicenseException {@link Refusal#UNSUPPORTED_ENCRYPTION} when the file is not in this format
     */
    public static String keyId(byte[] file) throws LicenseException {
        if (file.length < MAGIC.length + 2 || !Arrays.equals(file, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw unsupported("the model file does not start with the encrypted model header (magic TGEM)");
        }
        if (file[4] != VERSION) {
            throw unsupported("the encrypted model file has format version " + (file[4] & 0xff)
                    + ", this appliance reads version " + VERSION);
        }
        int n = file[5] & 0xff;
        if (n == 0 || file.length < 6 + n + NONCE_BYTES + TAG_BITS / 8) {
            throw unsupported("the encrypted model file is truncated (" + file.length + " bytes)");
        }
        return new String(file, 6, n, StandardCharsets.UTF_8);
    }

    /**
     * Decrypts an encrypted model file in memory.
     *
     * @param file          the encrypted file
     * @param key           32-byte key (not changed; the caller zeroes it)
     * @param expectedKeyId the key id the descriptor names
     * @return the model's bytes
     * @throws LicenseException {@link Refusal#UNSUPPORTED_ENCRYPTION} for another format or key id;
     *                          {@link Refusal#TAMPERED} when the GCM tag does not verify (a changed byte anywhere in
     *                          the file, or the wrong key)
     */
    public static byte[] decrypt(byte[] file, byte[] key, String expectedKeyId) throws LicenseException {
        String keyId = keyId(file);
        if (!keyId.equals(expectedKeyId)) {
            throw unsupported("the encrypted model file is for key id " + keyId + ", the descriptor names "
                    + expectedKeyId);
        }
        int headerLength = 6 + (file[5] & 0xff) + NONCE_BYTES;
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, aes(key), new GCMParameterSpec(TAG_BITS, file, headerLength - NONCE_BYTES,
                    NONCE_BYTES));
            c.updateAAD(file, 0, headerLength);
            return c.doFinal(file, headerLength, file.length - headerLength);
        } catch (AEADBadTagException e) {
            throw new LicenseException(Refusal.TAMPERED, Refusal.TAMPERED.words() + ": the encrypted model file does"
                    + " not authenticate with its key (AES-GCM tag mismatch): the file was changed after encryption,"
                    + " or the license carries another key for this key id; get the vendor's jar and license again");
        } catch (GeneralSecurityException e) {
            throw unsupported("AES-256-GCM failed: " + e.getMessage());
        }
    }

    private static SecretKeySpec aes(byte[] key) {
        Objects.requireNonNull(key, "key");
        if (key.length != KEY_BYTES) {
            throw new IllegalArgumentException("a model key is " + KEY_BYTES + " bytes, not " + key.length);
        }
        return new SecretKeySpec(key, "AES");
    }

    private static byte[] header(String keyId, byte[] nonce) {
        byte[] id = keyId.getBytes(StandardCharsets.UTF_8);
        if (id.length == 0 || id.length > 255) {
            throw new IllegalArgumentException("a key id is 1 to 255 UTF-8 bytes");
        }
        return ByteBuffer.allocate(6 + id.length + NONCE_BYTES).put(MAGIC).put(VERSION).put((byte) id.length).put(id)
                .put(nonce).array();
    }

    private static LicenseException unsupported(String why) {
        return new LicenseException(Refusal.UNSUPPORTED_ENCRYPTION, Refusal.UNSUPPORTED_ENCRYPTION.words() + ": "
                + why);
    }
}

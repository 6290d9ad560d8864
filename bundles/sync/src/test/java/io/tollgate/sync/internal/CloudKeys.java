package io.tollgate.sync.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;

/** Ed25519 cloud keys for tests: a fresh key pair and its public key as the SPKI PEM the cloud publishes. */
final class CloudKeys {
    /** DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410), followed by the 32 key bytes. */
    private static final byte[] SPKI_PREFIX = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};

    private CloudKeys() {
    }

    static Ed25519PrivateKeyParameters generate() {
        return new Ed25519PrivateKeyParameters(new SecureRandom());
    }

    /** Writes the public half of {@code key} to {@code file} as "-----BEGIN PUBLIC KEY-----" PEM; returns the file. */
    static Path writePublicPem(Ed25519PrivateKeyParameters key, Path file) throws IOException {
        byte[] spki = new byte[44];
        System.arraycopy(SPKI_PREFIX, 0, spki, 0, 12);
        System.arraycopy(key.generatePublicKey().getEncoded(), 0, spki, 12, 32);
        Files.writeString(file, "-----BEGIN PUBLIC KEY-----\n" + Base64.getEncoder().encodeToString(spki)
                + "\n-----END PUBLIC KEY-----\n", StandardCharsets.US_ASCII);
        return file;
    }
}

package io.tollgate.licensing.vendor;

import io.tollgate.licensing.Pem;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;

/**
 * A vendor's Ed25519 signing key pair (docs/licensing.md, "Keys"), as PEM files: {@code vendor-private.pem}
 * (PKCS#8, mode 0600) and {@code vendor-public.pem} (SubjectPublicKeyInfo). Vendor side only: the appliance never
 * needs this class.
 */
public final class VendorKeys {
    /** File name of the private key in the key folder. */
    public static final String PRIVATE_FILE = "vendor-private.pem";
    /** File name of the public key in the key folder. */
    public static final String PUBLIC_FILE = "vendor-public.pem";

    private VendorKeys() {
    }

    /**
     * Generates a key pair and writes it to {@code dir} (created if missing). Existing key files are never
     * overwritten.
     *
     * @return the generated pair
     * @throws FileAlreadyExistsException {@code dir} already holds a vendor key file
     * @throws IOException                the folder or files cannot be written
     */
    public static KeyPair generate(Path dir) throws IOException {
        KeyPair pair;
        try {
            pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has no Ed25519", e);
        }
        Files.createDirectories(dir);
        Path priv = dir.resolve(PRIVATE_FILE);
        Path pub = dir.resolve(PUBLIC_FILE);
        for (Path p : new Path[] {priv, pub}) {
            if (Files.exists(p)) {
                throw new FileAlreadyExistsException(p.toString(), null, "a vendor key is already there (not overwritten)");
            }
        }
        Path tmp = Files.createTempFile(dir, ".vendor-private", ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            Files.writeString(tmp, Pem.encode(pair.getPrivate()), StandardCharsets.US_ASCII);
            Files.move(tmp, priv, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
        Files.writeString(pub, Pem.encode(pair.getPublic()), StandardCharsets.US_ASCII);
        return pair;
    }
}

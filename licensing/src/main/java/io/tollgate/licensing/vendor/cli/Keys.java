package io.tollgate.licensing.vendor.cli;

import io.tollgate.licensing.Pem;
import io.tollgate.licensing.vendor.VendorKeys;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PrivateKey;

/** Reading the vendor's key for the commands, with their errors: missing = exit 3, not a key = exit 1. */
final class Keys {
    private Keys() {
    }

    static KeyPair load(Path privatePem) throws IOException, VendorTool.Failure {
        if (!Files.isRegularFile(privatePem)) {
            throw new java.nio.file.NoSuchFileException(privatePem.toString(), null, "no such key file");
        }
        PrivateKey key;
        try {
            key = Pem.readPrivateKey(privatePem);
        } catch (java.nio.file.NoSuchFileException | java.nio.file.AccessDeniedException e) {
            throw e;
        } catch (IOException e) {
            throw new VendorTool.Failure(VendorTool.FAILED, e.getMessage());
        }
        return new KeyPair(VendorKeys.publicKey(key), key);
    }

    /** The vendor name when none is given: "vendor " and the first 12 hex digits of the key fingerprint. */
    static String defaultName(KeyPair pair) {
        return "vendor " + Pem.fingerprint(pair.getPublic()).substring(0, 12);
    }

    /** Writes bytes atomically (temporary file beside it, then a move). */
    static void write(Path file, byte[] bytes) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
        try {
            Files.write(tmp, bytes);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}

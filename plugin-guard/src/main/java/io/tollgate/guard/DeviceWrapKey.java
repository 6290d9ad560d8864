package io.tollgate.guard;

import io.tollgate.licensing.wrap.ModelKeyWrap;
import io.tollgate.licensing.Pem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The device's X25519 wrap key pair (docs/licensing.md, "Encrypted models"): {@code data/device/wrap-private.pem}
 * (PKCS#8, 0600) and {@code wrap-public.pem}. The Ed25519 device key signs and cannot decrypt, so the vendor wraps a
 * model key for this key instead; the {@link LicenseStore} unwraps with it. Made on the first start by the launcher
 * (and by {@code bin/tollgate device init}), never replaced: a new wrap key would orphan every license that carries
 * a key wrapped for the old one.
 *
 * @since 1.4
 */
public final class DeviceWrapKey {
    private static final Logger LOG = LoggerFactory.getLogger(DeviceWrapKey.class);

    private DeviceWrapKey() {
    }

    /**
     * Makes the wrap key pair in {@code deviceFolder} when it has none; returns the public key's PEM text.
     *
     * @throws IOException the folder cannot be written, or a wrap key file there is not one (it is never replaced)
     */
    public static String ensure(Path deviceFolder) throws IOException {
        Path priv = deviceFolder.resolve(ModelKeyWrap.PRIVATE_FILE);
        Path pub = deviceFolder.resolve(ModelKeyWrap.PUBLIC_FILE);
        if (Files.exists(priv)) {
            KeyPair pair = read(deviceFolder);
            if (!Files.exists(pub)) {
                throw new IOException(pub + " is missing while " + priv + " is there; restore it from a backup (the"
                        + " vendor wrapped model keys for it)");
            }
            return Pem.encode(pair.getPublic());
        }
        Files.createDirectories(deviceFolder);
        KeyPair pair = ModelKeyWrap.generate();
        Path tmp = Files.createTempFile(deviceFolder, ".wrap-private", ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            Files.writeString(pub, Pem.encode(pair.getPublic()), StandardCharsets.US_ASCII);
            Files.writeString(tmp, Pem.encode(pair.getPrivate()), StandardCharsets.US_ASCII);
            Files.move(tmp, priv, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
        LOG.info("made the device's model-key wrap key {} (fingerprint {}); vendors wrap encrypted models' keys for"
                + " it: bin/tollgate device wrap-key prints it", pub, Pem.fingerprint(pair.getPublic()));
        return Pem.encode(pair.getPublic());
    }

    /**
     * Reads the wrap key pair.
     *
     * @throws IOException missing or not an X25519 key pair (the message names the file)
     */
    public static KeyPair read(Path deviceFolder) throws IOException {
        return new KeyPair(ModelKeyWrap.readPublicKey(deviceFolder.resolve(ModelKeyWrap.PUBLIC_FILE)),
                ModelKeyWrap.readPrivateKey(deviceFolder.resolve(ModelKeyWrap.PRIVATE_FILE)));
    }
}

package io.tollgate.metering.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Set;
import java.util.regex.Pattern;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.bouncycastle.crypto.util.PrivateKeyFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The device's Ed25519 key pair, kept as PEM files in the device directory: {@code device.key.pem}
 * (PKCS#8, mode 0600) and {@code device.pub.pem} (SubjectPublicKeyInfo). Signing uses BouncyCastle's
 * lightweight API directly (no JCA provider): it is several times faster than the JDK's Ed25519.
 */
public final class Ed25519DeviceKey implements DeviceKey {
    private static final Logger LOG = LoggerFactory.getLogger(Ed25519DeviceKey.class);

    /** File name of the private key (PKCS#8 PEM) inside the device directory. */
    public static final String PRIVATE_FILE = "device.key.pem";
    /** File holding the effective device id, for tools that read the data directory (the CLI). */
    public static final String ID_FILE = "device.id";

    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    private static final Pattern DEVICE_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,63}");

    /** SEQUENCE { INTEGER 0, SEQUENCE { OID 1.3.101.112 }, OCTET STRING { OCTET STRING (32 bytes) } }. */
    private static final byte[] PKCS8_PREFIX = RecordFormat.unhex("302e020100300506032b657004220420");

    private final Ed25519PrivateKeyParameters privateKey;
    private final DevicePublicKey publicKey;
    private final String deviceId;

    Ed25519DeviceKey(Ed25519PrivateKeyParameters privateKey, String configuredId) {
        this.privateKey = privateKey;
        this.publicKey = new DevicePublicKey(privateKey.generatePublicKey());
        this.deviceId = configuredId == null || configuredId.isEmpty() ? publicKey.derivedDeviceId() : configuredId;
        validateDeviceId(deviceId);
    }

    /** A key from a 32-byte RFC 8032 seed (tests and test vectors). */
    public static Ed25519DeviceKey fromSeed(byte[] seed, String configuredId) {
        return new Ed25519DeviceKey(new Ed25519PrivateKeyParameters(seed, 0), configuredId);
    }

    static void validateDeviceId(String id) {
        if (!DEVICE_ID.matcher(id).matches()) {
            throw new IllegalArgumentException("device id '" + id + "' is not valid: use 1 to 64 characters from "
                    + "A-Z a-z 0-9 . _ : - starting with a letter or digit");
        }
    }

    /**
     * Loads the key pair from {@code dir}, creating it (and the directory) on first start. The private
     * key file is created owner-read/write only; wider permissions found later are tightened, with a warning.
     *
     * @param configuredId device id from configuration, or "" to derive it from the public key
     */
    public static Ed25519DeviceKey loadOrCreate(Path dir, String configuredId) throws IOException {
        Files.createDirectories(dir);
        Path priv = dir.resolve(PRIVATE_FILE);
        Path pub = dir.resolve(DevicePublicKey.FILE);
        Ed25519DeviceKey key;
        if (Files.exists(priv)) {
            key = new Ed25519DeviceKey(readPrivate(priv), configuredId);
            tightenPermissions(priv);
        } else {
            key = new Ed25519DeviceKey(new Ed25519PrivateKeyParameters(new SecureRandom()), configuredId);
            writeAtomically(priv, key.privatePem(), true);
            LOG.info("Created the device key pair in {} (device id {})", dir, key.deviceId);
        }
        String pubPem = key.publicKey.pem();
        if (!Files.exists(pub) || !Files.readString(pub, StandardCharsets.US_ASCII).equals(pubPem)) {
            if (Files.exists(pub)) {
                LOG.warn("{} did not match the private key in {}; rewrote it from the private key", pub, priv);
            }
            writeAtomically(pub, pubPem, false);
        }
        Path idFile = dir.resolve(ID_FILE);
        String idLine = key.deviceId + "\n";
        if (!Files.exists(idFile) || !Files.readString(idFile, StandardCharsets.UTF_8).equals(idLine)) {
            writeAtomically(idFile, idLine, false);
        }
        return key;
    }

    private static Ed25519PrivateKeyParameters readPrivate(Path file) throws IOException {
        byte[] der = Pem.decode(Files.readString(file, StandardCharsets.US_ASCII), Pem.PRIVATE_KEY, file.toString());
        AsymmetricKeyParameter p;
        try {
            p = PrivateKeyFactory.createKey(der);
        } catch (IOException | RuntimeException e) {
            throw new IOException(file + " does not hold a readable PKCS#8 private key: " + e.getMessage(), e);
        }
        if (!(p instanceof Ed25519PrivateKeyParameters ed)) {
            throw new IOException(file + " holds a " + p.getClass().getSimpleName() + ", not an Ed25519 key; "
                    + "move it away to let the appliance create a new device key");
        }
        return ed;
    }

    private static void tightenPermissions(Path file) throws IOException {
        if (!FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            return;
        }
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
        if (!perms.equals(OWNER_ONLY)) {
            LOG.warn("{} had permissions {}; set them to rw------- (the device private key must be owner-only)",
                    file, PosixFilePermissions.toString(perms));
            Files.setPosixFilePermissions(file, OWNER_ONLY);
        }
    }

    /** Writes a temporary file (0600 when {@code secret}), forces it to disk, then renames it into place. */
    private static void writeAtomically(Path target, String content, boolean secret) throws IOException {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        boolean posix = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
        FileAttribute<?>[] attrs = secret && posix
                ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(OWNER_ONLY)}
                : new FileAttribute<?>[0];
        Files.createFile(tmp, attrs);
        try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(content.getBytes(StandardCharsets.UTF_8)));
            ch.force(true);
        }
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** RFC 8410 PKCS#8 (version 1, no public key attribute): the form {@code openssl genpkey} writes. */
    String privatePem() {
        byte[] der = new byte[PKCS8_PREFIX.length + 32];
        System.arraycopy(PKCS8_PREFIX, 0, der, 0, PKCS8_PREFIX.length);
        privateKey.encode(der, PKCS8_PREFIX.length);
        return Pem.encode(Pem.PRIVATE_KEY, der);
    }

    @Override
    public String deviceId() {
        return deviceId;
    }

    @Override
    public String publicKeyPem() {
        return publicKey.pem();
    }

    @Override
    public DevicePublicKey publicKey() {
        return publicKey;
    }

    @Override
    public byte[] sign(byte[] message) {
        Ed25519Signer s = new Ed25519Signer();
        s.init(true, privateKey);
        s.update(message, 0, message.length);
        return s.generateSignature();
    }
}

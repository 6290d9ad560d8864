package io.tollgate.metering.files;

import io.tollgate.metering.internal.DevicePublicKey;
import io.tollgate.metering.internal.Ed25519DeviceKey;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The device identity files of one data directory ({@code DIR/device}): {@code device.key.pem} (private, 0600),
 * {@code device.pub.pem} and {@code device.id}. Only {@link #init()} writes, and only what the appliance itself
 * would write on its first start.
 */
public final class DeviceFiles {
    private final Path dir;

    private DeviceFiles(Path dataDir) {
        this.dir = dataDir.resolve("device");
    }

    /** The identity of the appliance whose data directory is {@code dataDir}. */
    public static DeviceFiles of(Path dataDir) {
        return new DeviceFiles(dataDir);
    }

    /** {@code DIR/device}. */
    public Path directory() {
        return dir;
    }

    /** {@code DIR/device/device.pub.pem}: what the cloud registers. */
    public Path publicKeyFile() {
        return dir.resolve(DevicePublicKey.FILE);
    }

    /**
     * Creates the key pair if there is none (as the appliance does on its first start) and returns the device id,
     * so that a fleet tool can register the device with the cloud before the box serves anything.
     */
    public String init() throws IOException {
        return Ed25519DeviceKey.loadOrCreate(dir, null).deviceId();
    }

    /** The device id: {@code device.id} as the appliance last wrote it, else the one derived from the public key. */
    public String id() throws IOException {
        Path idFile = dir.resolve(Ed25519DeviceKey.ID_FILE);
        if (Files.exists(idFile)) {
            return Files.readString(idFile, StandardCharsets.UTF_8).trim();
        }
        return publicKey(dir).derivedDeviceId();
    }

    /** The public key as PEM (SubjectPublicKeyInfo), as in {@code device.pub.pem}. */
    public String publicKeyPem() throws IOException {
        return publicKey(dir).pem();
    }

    /** {@code device.pub.pem}; a file that holds no Ed25519 public key is unreadable, like a missing one. */
    static DevicePublicKey publicKey(Path deviceDir) throws IOException {
        try {
            return DevicePublicKey.read(deviceDir);
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
    }
}

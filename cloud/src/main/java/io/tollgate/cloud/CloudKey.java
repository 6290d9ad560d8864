package io.tollgate.cloud;

import io.tollgate.cloud.record.Ed25519Keys;
import io.tollgate.cloud.record.RecordFormatException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;

/**
 * The cloud's Ed25519 key pair, which signs acks ({@code TG-ACK1|device|acked_seq|cloud_time_nanos}). Created on
 * first start as {@code <data>/cloud/cloud.key.pem} (PKCS#8, mode 0600) and {@code cloud.pub.pem} (SPKI); devices
 * are configured with the public one.
 */
public final class CloudKey {
    public static final String KEY_FILE = "cloud.key.pem";
    public static final String PUB_FILE = "cloud.pub.pem";

    private final Ed25519PrivateKeyParameters privateKey;
    private final Ed25519PublicKeyParameters publicKey;

    private CloudKey(Ed25519PrivateKeyParameters privateKey) {
        this.privateKey = privateKey;
        this.publicKey = privateKey.generatePublicKey();
    }

    public static Path folder(Path dataDir) {
        return dataDir.resolve("cloud");
    }

    /** Loads the key pair from {@code <data>/cloud/}, creating it when absent. */
    public static CloudKey loadOrCreate(Path dataDir) throws IOException {
        Path dir = folder(dataDir);
        Path key = dir.resolve(KEY_FILE);
        DataDirectory.ensure(dataDir);
        Files.createDirectories(dir);
        if (!Files.exists(key)) {
            Ed25519PrivateKeyParameters fresh = Ed25519Keys.generate();
            try {
                Files.createFile(key, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                Files.writeString(key, Ed25519Keys.privatePem(fresh), StandardCharsets.US_ASCII,
                        StandardOpenOption.TRUNCATE_EXISTING);
            } catch (FileAlreadyExistsException raced) {
                // another instance on this data folder made it first: read theirs
            }
        }
        CloudKey loaded;
        try {
            loaded = new CloudKey(Ed25519Keys.parsePrivatePem(Files.readString(key, StandardCharsets.US_ASCII)));
        } catch (RecordFormatException e) {
            throw new IOException(key + " is not an Ed25519 private key PEM (" + e.getMessage()
                    + "); restore it from backup, or move it away to make a new one (devices must then be "
                    + "given the new cloud.pub.pem)", e);
        }
        Path pub = dir.resolve(PUB_FILE);
        String pem = loaded.publicPem();
        if (!Files.exists(pub) || !Files.readString(pub, StandardCharsets.US_ASCII).equals(pem)) {
            Files.writeString(pub, pem, StandardCharsets.US_ASCII);
        }
        return loaded;
    }

    public String publicPem() {
        return Ed25519Keys.publicPem(publicKey);
    }

    public Ed25519PublicKeyParameters publicKey() {
        return publicKey;
    }

    /** The exact ASCII bytes an ack signature covers. */
    public static byte[] ackStatement(String device, long ackedSeq, long cloudTimeNanos) {
        return ("TG-ACK1|" + device + "|" + ackedSeq + "|" + cloudTimeNanos).getBytes(StandardCharsets.US_ASCII);
    }

    /** Base64 (standard alphabet, padded) Ed25519 signature of the ack statement. */
    public String signAck(String device, long ackedSeq, long cloudTimeNanos) {
        return Base64.getEncoder().encodeToString(Ed25519Keys.sign(privateKey,
                ackStatement(device, ackedSeq, cloudTimeNanos)));
    }
}

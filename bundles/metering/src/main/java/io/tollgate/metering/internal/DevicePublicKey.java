package io.tollgate.metering.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.bouncycastle.crypto.util.PublicKeyFactory;
import org.bouncycastle.crypto.util.SubjectPublicKeyInfoFactory;

/** A device's Ed25519 public key: verifies seals and derives the default device id. */
public final class DevicePublicKey {
    /** File name of the public key (SPKI PEM) inside the device directory. */
    public static final String FILE = "device.pub.pem";

    private final Ed25519PublicKeyParameters key;
    private final byte[] spkiDer;

    DevicePublicKey(Ed25519PublicKeyParameters key) {
        this.key = key;
        try {
            this.spkiDer = SubjectPublicKeyInfoFactory.createSubjectPublicKeyInfo(key).getEncoded("DER");
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode an Ed25519 public key", e);
        }
    }

    /** Parses an SPKI PEM ("-----BEGIN PUBLIC KEY-----") holding an Ed25519 key. */
    public static DevicePublicKey fromPem(String pem, String source) {
        byte[] der = Pem.decode(pem, Pem.PUBLIC_KEY, source);
        AsymmetricKeyParameter p;
        try {
            p = PublicKeyFactory.createKey(der);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(source + " does not hold a readable public key: " + e.getMessage(), e);
        }
        if (!(p instanceof Ed25519PublicKeyParameters ed)) {
            throw new IllegalArgumentException(source + " holds a " + p.getClass().getSimpleName()
                    + ", not an Ed25519 public key");
        }
        return new DevicePublicKey(ed);
    }

    /** Reads {@code dir/device.pub.pem}. */
    public static DevicePublicKey read(Path deviceDir) throws IOException {
        Path file = deviceDir.resolve(FILE);
        try {
            return fromPem(Files.readString(file, StandardCharsets.US_ASCII), file.toString());
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null,
                    "no device public key; the appliance creates it on first start");
        }
    }

    /** "tg-" followed by the first 16 hex digits of SHA-256 over the SubjectPublicKeyInfo DER. */
    public String derivedDeviceId() {
        return "tg-" + RecordFormat.hex(RecordFormat.sha256(spkiDer, 0, spkiDer.length)).substring(0, 16);
    }

    public String pem() {
        return Pem.encode(Pem.PUBLIC_KEY, spkiDer);
    }

    public byte[] raw() {
        return key.getEncoded();
    }

    public boolean verify(byte[] message, byte[] signature) {
        if (signature == null || signature.length != RecordFormat.SIGNATURE_BYTES) {
            return false;
        }
        Ed25519Signer v = new Ed25519Signer();
        v.init(false, key);
        v.update(message, 0, message.length);
        return v.verifySignature(signature);
    }
}

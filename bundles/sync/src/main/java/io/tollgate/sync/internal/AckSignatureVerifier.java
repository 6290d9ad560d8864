package io.tollgate.sync.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.bouncycastle.crypto.util.PublicKeyFactory;

/** Checks the cloud's Ed25519 signature on acks (pure Ed25519 over {@code TG-ACK1|device|acked_seq|cloud_time_nanos}). */
final class AckSignatureVerifier {
    private final Ed25519PublicKeyParameters key;

    AckSignatureVerifier(Ed25519PublicKeyParameters key) {
        this.key = key;
    }

    /** Loads an SPKI PEM ("-----BEGIN PUBLIC KEY-----") holding an Ed25519 key. */
    static AckSignatureVerifier fromPemFile(Path file) throws IOException {
        String pem = io.tollgate.config.ConfigFile.readString(file, io.tollgate.config.ConfigFile.MAX_PEM_BYTES);
        int begin = pem.indexOf("-----BEGIN PUBLIC KEY-----");
        int end = pem.indexOf("-----END PUBLIC KEY-----");
        if (begin < 0 || end < begin) {
            throw new IOException("cloud.public.key.file " + file + " holds no \"-----BEGIN PUBLIC KEY-----\" PEM block; "
                    + "give the cloud's Ed25519 public key as SubjectPublicKeyInfo PEM (openssl pkey -pubout)");
        }
        byte[] der;
        try {
            der = Base64.getMimeDecoder().decode(pem.substring(begin + 26, end));
            AsymmetricKeyParameter k = PublicKeyFactory.createKey(der);
            if (k instanceof Ed25519PublicKeyParameters ed) {
                return new AckSignatureVerifier(ed);
            }
            throw new IOException("cloud.public.key.file " + file + " holds a " + k.getClass().getSimpleName()
                    + ", not an Ed25519 public key");
        } catch (IllegalArgumentException | IOException e) {
            if (e instanceof IOException io && io.getMessage() != null && io.getMessage().startsWith("cloud.")) {
                throw io;
            }
            throw new IOException("cloud.public.key.file " + file + " is not a readable public key PEM: " + e.getMessage(), e);
        }
    }

    boolean verify(CloudMessages.Ack ack) {
        if (ack.signature().isEmpty() || !ack.hasCloudTime()) {
            return false;
        }
        byte[] sig;
        try {
            sig = Base64.getDecoder().decode(ack.signature());
        } catch (IllegalArgumentException e) {
            return false;
        }
        if (sig.length != 64) {
            return false;
        }
        Ed25519Signer s = new Ed25519Signer();
        s.init(false, key);
        byte[] msg = ack.signedBytes();
        s.update(msg, 0, msg.length);
        return s.verifySignature(sig);
    }
}

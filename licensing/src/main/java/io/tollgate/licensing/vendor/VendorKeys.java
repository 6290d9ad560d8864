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
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;

import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;

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
     * The public key of an Ed25519 private key (so a vendor needs only {@code vendor-private.pem} to sign and
     * issue), computed with BouncyCastle from the PKCS#8 seed.
     *
     * @throws IllegalArgumentException not an Ed25519 PKCS#8 key
     */
    public static PublicKey publicKey(PrivateKey privateKey) {
        try {
            PrivateKeyInfo info = PrivateKeyInfo.getInstance(privateKey.getEncoded());
            if (!EdECObjectIdentifiers.id_Ed25519.equals(info.getPrivateKeyAlgorithm().getAlgorithm())) {
                throw new IllegalArgumentException("not an Ed25519 private key");
            }
            byte[] seed = ASN1OctetString.getInstance(info.parsePrivateKey()).getOctets();
            byte[] raw = new Ed25519PrivateKeyParameters(seed, 0).generatePublicKey().getEncoded();
            byte[] spki = new SubjectPublicKeyInfo(new AlgorithmIdentifier(EdECObjectIdentifiers.id_Ed25519), raw)
                    .getEncoded();
            return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki));
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            throw new IllegalArgumentException("not an Ed25519 private key: " + e.getMessage(), e);
        }
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

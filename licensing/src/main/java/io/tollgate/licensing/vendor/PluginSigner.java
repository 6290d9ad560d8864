package io.tollgate.licensing.vendor;

import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.CertPath;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.zip.ZipFile;

import jdk.security.jarsigner.JarSigner;
import jdk.security.jarsigner.JarSignerException;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Signs a plugin jar with a vendor key (docs/licensing.md, "Plugin signatures"): standard JAR signing with the
 * JDK's {@link JarSigner} API, algorithm Ed25519, digest SHA-256, the signer being a self-signed X.509 certificate
 * for the vendor key made with BouncyCastle (CN = vendor name, O = Tollgate plugin vendor, valid 100 years; the appliance trusts the key, not
 * the certificate). {@code jarsigner -verify} accepts the result (with a warning that the certificate is
 * self-signed). Vendor side only.
 */
public final class PluginSigner {
    private PluginSigner() {
    }

    /**
     * Signs {@code jarIn} into {@code jarOut}; {@code jarOut} may be {@code jarIn} (replaced atomically: written to
     * a temporary file beside it, then moved). A jar that already carries signatures is signed again (JarSigner
     * adds a signer), which {@link io.tollgate.licensing.PluginSignatures} refuses: sign unsigned jars.
     *
     * @param vendorName the certificate's CN and the signer name in META-INF (any text)
     * @throws IOException the jar cannot be read or written, or is not a jar
     */
    public static void sign(Path jarIn, Path jarOut, PrivateKey privateKey, PublicKey publicKey, String vendorName)
            throws IOException {
        CertPath path = selfSigned(privateKey, publicKey, vendorName);
        JarSigner signer;
        try {
            signer = new JarSigner.Builder(privateKey, path)
                    .signatureAlgorithm("Ed25519")
                    .digestAlgorithm("SHA-256")
                    .signerName("VENDOR")
                    .build();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no Ed25519 / SHA-256", e);
        }
        Path dir = jarOut.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + jarOut.getFileName(), ".tmp");
        try {
            try (ZipFile in = new ZipFile(jarIn.toFile()); OutputStream out = Files.newOutputStream(tmp)) {
                signer.sign(in, out);
            } catch (JarSignerException e) {
                throw new IOException(jarIn + ": cannot sign: " + e.getMessage(), e);
            }
            Files.move(tmp, jarOut, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** A self-signed Ed25519 certificate for the vendor key (CN = vendorName, valid from an hour ago for 100 years). */
    public static X509Certificate certificate(PrivateKey privateKey, PublicKey publicKey, String vendorName) {
        try {
            X500Name name = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "Tollgate plugin vendor")
                    .addRDN(BCStyle.CN, vendorName).build();
            Instant from = Instant.now().minus(Duration.ofHours(1));
            Instant to = from.plus(Duration.ofDays(36525));
            ContentSigner cs = new JcaContentSignerBuilder("Ed25519").build(privateKey);
            X509CertificateHolder holder = new JcaX509v3CertificateBuilder(name,
                    BigInteger.valueOf(Instant.now().toEpochMilli()), Date.from(from), Date.from(to), name, publicKey)
                    .build(cs);
            return (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new java.io.ByteArrayInputStream(holder.getEncoded()));
        } catch (OperatorCreationException | CertificateException | IOException e) {
            throw new IllegalArgumentException("cannot make a certificate for the vendor key: " + e.getMessage(), e);
        }
    }

    private static CertPath selfSigned(PrivateKey privateKey, PublicKey publicKey, String vendorName)
            throws IOException {
        try {
            return CertificateFactory.getInstance("X.509")
                    .generateCertPath(List.of(certificate(privateKey, publicKey, vendorName)));
        } catch (CertificateException e) {
            throw new IOException("cannot make the certificate path: " + e.getMessage(), e);
        }
    }
}

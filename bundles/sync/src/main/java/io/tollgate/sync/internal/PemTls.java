package io.tollgate.sync.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;

/** An {@link SSLSocketFactory} from PEM files: CA certificates to trust, optionally a client certificate and key. */
final class PemTls {
    private static final char[] NO_PASSWORD = new char[0];

    private PemTls() {
    }

    /**
     * @param caFile   PEM certificates the server's chain must end in; null = the JVM's default trust store
     * @param certFile PEM client certificate chain (leaf first); null = no client certificate
     * @param keyFile  PEM PKCS#8 private key of the client certificate; null exactly when certFile is null
     */
    static SSLSocketFactory socketFactory(Path caFile, Path certFile, Path keyFile) throws IOException {
        if ((certFile == null) != (keyFile == null)) {
            throw new IllegalArgumentException("tls.cert.file and tls.key.file go together: set both for a client "
                    + "certificate, or neither");
        }
        try {
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            if (caFile == null) {
                tmf.init((KeyStore) null);
            } else {
                KeyStore trust = KeyStore.getInstance("PKCS12");
                trust.load(null, null);
                int i = 0;
                for (Certificate c : certificates(caFile, "tls.ca.file")) {
                    trust.setCertificateEntry("ca-" + i++, c);
                }
                tmf.init(trust);
            }
            KeyManagerFactory kmf = null;
            if (certFile != null) {
                List<Certificate> chain = certificates(certFile, "tls.cert.file");
                PrivateKey key = privateKey(keyFile, chain.get(0).getPublicKey().getAlgorithm());
                KeyStore ks = KeyStore.getInstance("PKCS12");
                ks.load(null, null);
                ks.setKeyEntry("client", key, NO_PASSWORD, chain.toArray(new Certificate[0]));
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(ks, NO_PASSWORD);
            }
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            return ctx.getSocketFactory();
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot set up TLS from tls.ca.file=" + caFile + ", tls.cert.file=" + certFile
                    + ", tls.key.file=" + keyFile + ": " + e.getMessage(), e);
        }
    }

    private static List<Certificate> certificates(Path file, String key) throws IOException, GeneralSecurityException {
        Collection<? extends Certificate> certs;
        try (InputStream in = new java.io.ByteArrayInputStream(io.tollgate.config.ConfigFile.read(file,
                io.tollgate.config.ConfigFile.MAX_PEM_BYTES))) {
            certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
        }
        if (certs.isEmpty()) {
            throw new IOException(key + " " + file + " holds no PEM certificate (\"-----BEGIN CERTIFICATE-----\")");
        }
        return new ArrayList<>(certs);
    }

    private static PrivateKey privateKey(Path file, String algorithm) throws IOException, GeneralSecurityException {
        String pem = io.tollgate.config.ConfigFile.readString(file, io.tollgate.config.ConfigFile.MAX_PEM_BYTES);
        String begin = "-----BEGIN PRIVATE KEY-----";
        int b = pem.indexOf(begin);
        int e = pem.indexOf("-----END PRIVATE KEY-----");
        if (b < 0 || e < b) {
            throw new IOException("tls.key.file " + file + " is not a PKCS#8 PEM (\"-----BEGIN PRIVATE KEY-----\"); "
                    + "convert it with: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8.pem");
        }
        byte[] der = Base64.getMimeDecoder().decode(pem.substring(b + begin.length(), e));
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
    }
}

package io.tollgate.cloud.http;

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
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * The billing API's TLS server context from PEM files ({@code run --http-tls-cert/--http-tls-key}): the certificate
 * chain (leaf first) and its PKCS#8 private key (RSA, EC or Ed25519), as the appliance's endpoint takes them.
 */
public final class ApiTls {
    private static final char[] NO_PASSWORD = new char[0];

    private ApiTls() {
    }

    /** @throws IOException naming the file and what is wrong with it */
    public static SSLContext context(Path certFile, Path keyFile) throws IOException {
        try {
            List<Certificate> chain;
            try (InputStream in = Files.newInputStream(certFile)) {
                chain = new ArrayList<>(CertificateFactory.getInstance("X.509").generateCertificates(in));
            }
            if (chain.isEmpty()) {
                throw new IOException("--http-tls-cert " + certFile + " holds no PEM certificate");
            }
            PrivateKey key = privateKey(keyFile, chain.get(0).getPublicKey().getAlgorithm());
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("api", key, NO_PASSWORD, chain.toArray(new Certificate[0]));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, NO_PASSWORD);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), null, null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot set up the API's TLS from --http-tls-cert " + certFile + " and --http-tls-key "
                    + keyFile + ": " + e.getMessage(), e);
        }
    }

    private static PrivateKey privateKey(Path file, String algorithm) throws IOException, GeneralSecurityException {
        String pem = Files.readString(file, StandardCharsets.US_ASCII);
        String begin = "-----BEGIN PRIVATE KEY-----";
        int b = pem.indexOf(begin);
        int e = pem.indexOf("-----END PRIVATE KEY-----");
        if (b < 0 || e < b) {
            throw new IOException("--http-tls-key " + file + " is not a PKCS#8 PEM (\"-----BEGIN PRIVATE KEY-----\"); "
                    + "convert it with: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8.pem");
        }
        byte[] der = Base64.getMimeDecoder().decode(pem.substring(b + begin.length(), e));
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
    }
}

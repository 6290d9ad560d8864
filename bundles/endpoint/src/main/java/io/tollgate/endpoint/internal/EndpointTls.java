package io.tollgate.endpoint.internal;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The endpoint's TLS from PEM files ({@code tls.cert.file}, {@code tls.key.file}, and for client certificates
 * {@code tls.client.auth} and {@code tls.client.ca.file}), on the JDK's TLS (TLS 1.3 and 1.2). Read once at
 * activation; every fault is a configuration error naming the key and the fix, thrown before the port is bound.
 */
final class EndpointTls {
    private static final Logger LOG = LoggerFactory.getLogger(EndpointTls.class);
    private static final String PKCS8_BEGIN = "-----BEGIN PRIVATE KEY-----";
    private static final String PKCS8_END = "-----END PRIVATE KEY-----";

    private EndpointTls() {
    }

    /** The TLS context the configuration asks for, or null for plain HTTP ({@code tls.cert.file} empty). */
    static SslContext context(EndpointConfig c) {
        String certFile = c.tls_cert_file().trim();
        String keyFile = c.tls_key_file().trim();
        String caFile = c.tls_client_ca_file().trim();
        ClientAuth auth = clientAuth(c.tls_client_auth());
        if (certFile.isEmpty() && keyFile.isEmpty()) {
            if (auth != ClientAuth.NONE || !caFile.isEmpty()) {
                throw invalid("tls.client.auth and tls.client.ca.file need TLS: set tls.cert.file and tls.key.file too");
            }
            return null;
        }
        if (certFile.isEmpty() || keyFile.isEmpty()) {
            throw invalid("tls.cert.file and tls.key.file go together: set both (PEM certificate chain and its PKCS#8 "
                    + "private key) for HTTPS, or neither for plain HTTP");
        }
        if (auth == ClientAuth.NONE && !caFile.isEmpty()) {
            throw invalid("tls.client.ca.file is set but tls.client.auth is none: set tls.client.auth=optional or "
                    + "require to ask clients for certificates, or clear tls.client.ca.file");
        }
        if (auth != ClientAuth.NONE && caFile.isEmpty()) {
            throw invalid("tls.client.auth=" + c.tls_client_auth().trim() + " needs tls.client.ca.file: the PEM CA "
                    + "certificate(s) that client certificates must be issued by");
        }
        List<X509Certificate> chain = certificates(Path.of(certFile), "tls.cert.file");
        PrivateKey key = privateKey(Path.of(keyFile), chain.get(0));
        checkPair(key, chain.get(0), certFile, keyFile);
        warnIfExpired(chain.get(0), certFile);
        try {
            SslContextBuilder b = SslContextBuilder.forServer(key, chain)
                    .sslProvider(SslProvider.JDK)
                    .protocols("TLSv1.3", "TLSv1.2")
                    .clientAuth(auth);
            if (auth != ClientAuth.NONE) {
                b.trustManager(certificates(Path.of(caFile), "tls.client.ca.file"));
            }
            return b.build();
        } catch (SSLException | RuntimeException e) {
            throw invalid("cannot set up TLS from tls.cert.file=" + certFile + " and tls.key.file=" + keyFile + ": " + e);
        }
    }

    private static ClientAuth clientAuth(String value) {
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "", "none" -> ClientAuth.NONE;
            case "optional" -> ClientAuth.OPTIONAL;
            case "require" -> ClientAuth.REQUIRE;
            default -> throw invalid("tls.client.auth must be none, optional or require, not '" + value + "'");
        };
    }

    private static List<X509Certificate> certificates(Path file, String key) {
        List<X509Certificate> out = new ArrayList<>();
        byte[] pem;
        try {
            pem = io.tollgate.config.ConfigFile.read(file, io.tollgate.config.ConfigFile.MAX_PEM_BYTES);
        } catch (IOException e) {
            throw invalid(key + " " + file + " cannot be read (" + e + ")");
        }
        if (!new String(pem, StandardCharsets.US_ASCII).contains("-----BEGIN CERTIFICATE-----")) {
            throw invalid(key + " " + file + " holds no PEM certificate (\"-----BEGIN CERTIFICATE-----\")");
        }
        try (InputStream in = new ByteArrayInputStream(pem)) {
            for (Certificate cert : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                out.add((X509Certificate) cert);
            }
        } catch (IOException e) {
            throw invalid(key + " " + file + " cannot be read (" + e + ")");
        } catch (GeneralSecurityException | RuntimeException e) {
            throw invalid(key + " " + file + " is not PEM certificates (" + e.getMessage() + ")");
        }
        return out;
    }

    private static PrivateKey privateKey(Path file, X509Certificate cert) {
        String pem;
        try {
            pem = io.tollgate.config.ConfigFile.readString(file, io.tollgate.config.ConfigFile.MAX_PEM_BYTES);
        } catch (IOException e) {
            throw invalid("tls.key.file " + file + " cannot be read (" + e + ")");
        }
        int b = pem.indexOf(PKCS8_BEGIN);
        int e = pem.indexOf(PKCS8_END);
        if (b < 0 || e < b) {
            String found = pem.contains("ENCRYPTED PRIVATE KEY") ? "an encrypted key"
                    : pem.contains("RSA PRIVATE KEY") || pem.contains("EC PRIVATE KEY") ? "a PKCS#1/SEC1 key"
                    : "no private key";
            throw invalid("tls.key.file " + file + " holds " + found + "; it must be an unencrypted PKCS#8 PEM "
                    + "(\"" + PKCS8_BEGIN + "\"): convert it with openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8");
        }
        String algorithm = cert.getPublicKey().getAlgorithm();
        try {
            byte[] der = Base64.getMimeDecoder().decode(pem.substring(b + PKCS8_BEGIN.length(), e));
            return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (GeneralSecurityException | IllegalArgumentException x) {
            throw invalid("tls.key.file " + file + " is not a " + algorithm + " private key matching the certificate "
                    + "in tls.cert.file (" + x.getMessage() + ")");
        }
    }

    /** Signs and verifies a random challenge: a key that is not the certificate's fails here, not in handshakes. */
    private static void checkPair(PrivateKey key, X509Certificate cert, String certFile, String keyFile) {
        String algorithm = switch (cert.getPublicKey().getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "EdDSA", "Ed25519" -> "Ed25519";
            default -> null;
        };
        if (algorithm == null) {
            return;
        }
        byte[] challenge = new byte[32];
        new SecureRandom().nextBytes(challenge);
        boolean ok;
        try {
            Signature s = Signature.getInstance(algorithm);
            s.initSign(key);
            s.update(challenge);
            byte[] sig = s.sign();
            Signature v = Signature.getInstance(algorithm);
            v.initVerify(cert.getPublicKey());
            v.update(challenge);
            ok = v.verify(sig);
        } catch (GeneralSecurityException e) {
            ok = false;
        }
        if (!ok) {
            throw invalid("tls.key.file " + keyFile + " is not the private key of the certificate in tls.cert.file "
                    + certFile + " (its first certificate must be the server's own)");
        }
    }

    private static void warnIfExpired(X509Certificate cert, String certFile) {
        Instant notAfter = cert.getNotAfter().toInstant();
        if (notAfter.isBefore(Instant.now())) {
            LOG.warn("the certificate in tls.cert.file {} expired at {}; clients will refuse it: renew it and restart",
                    certFile, notAfter);
        }
    }

    private static IllegalArgumentException invalid(String problem) {
        return new IllegalArgumentException("invalid " + HttpEndpoint.PID + " configuration: " + problem);
    }
}

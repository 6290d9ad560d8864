package io.tollgate.licensing;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.util.HexFormat;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class PemTest {
    @Rule
    public final TemporaryFolder tmp = new TemporaryFolder();

    @Test
    public void keysRoundTripAndTheFingerprintIsSha256OfTheSpki() throws Exception {
        KeyPair pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        Path pub = tmp.getRoot().toPath().resolve("pub.pem");
        Path priv = tmp.getRoot().toPath().resolve("priv.pem");
        Files.writeString(pub, Pem.encode(pair.getPublic()));
        Files.writeString(priv, Pem.encode(pair.getPrivate()));
        assertEquals(pair.getPublic(), Pem.readPublicKey(pub));
        assertEquals(pair.getPrivate(), Pem.readPrivateKey(priv));
        assertTrue(Pem.encode(pair.getPublic()).startsWith("-----BEGIN PUBLIC KEY-----\n"));
        String fp = Pem.fingerprint(pair.getPublic());
        assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(
                pair.getPublic().getEncoded())), fp);
        assertTrue(fp.matches("[0-9a-f]{64}"));
        // an Ed25519 SPKI is 44 bytes: 12 of header and the 32-byte key
        assertEquals(44, pair.getPublic().getEncoded().length);
    }

    @Test
    public void wrongFilesAreClearIoExceptions() throws Exception {
        KeyPair pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
        ec.initialize(256);
        String ecPub = "-----BEGIN PUBLIC KEY-----\n" + java.util.Base64.getMimeEncoder().encodeToString(
                ec.generateKeyPair().getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----\n";
        expect(() -> Pem.publicKey(ecPub), "not an Ed25519 public key");
        expect(() -> Pem.publicKey("hello"), "not a PEM file");
        expect(() -> Pem.publicKey(Pem.encode(pair.getPrivate())), "a PRIVATE KEY PEM block where a PUBLIC KEY");
        expect(() -> Pem.publicKey(Pem.encode(pair.getPublic()).replace("-----BEGIN PUBLIC KEY-----\n",
                "-----BEGIN PUBLIC KEY-----\n!!")), "not a PEM file");
        expect(() -> Pem.publicKey(Pem.encode(pair.getPublic()) + Pem.encode(pair.getPublic())), "");
        Path priv = tmp.newFile("pub-as-priv.pem").toPath();
        Files.writeString(priv, Pem.encode(pair.getPublic()));
        expect(() -> Pem.readPrivateKey(priv), "pub-as-priv.pem: a PUBLIC KEY PEM block where a PRIVATE KEY");
        Path bad = tmp.newFile("bad.pem").toPath();
        Files.writeString(bad, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
        expect(() -> Pem.readPublicKey(bad), "bad.pem: not an Ed25519 public key");
        try {
            Pem.readPublicKey(tmp.getRoot().toPath().resolve("missing.pem"));
            fail();
        } catch (NoSuchFileException e) {
            assertTrue(e.getMessage().endsWith("missing.pem"));
        }
    }

    interface Io {
        Object run() throws IOException;
    }

    private static void expect(Io io, String inMessage) {
        try {
            io.run();
            fail("accepted");
        } catch (IOException e) {
            assertTrue(e.getMessage() + " should contain " + inMessage, e.getMessage().contains(inMessage));
        }
    }
}

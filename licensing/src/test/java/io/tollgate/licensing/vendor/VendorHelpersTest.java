package io.tollgate.licensing.vendor;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.licensing.LicenseException;
import io.tollgate.licensing.Pem;
import io.tollgate.licensing.PluginSignatures;
import io.tollgate.licensing.Refusal;
import io.tollgate.licensing.TestJars;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.util.concurrent.TimeUnit;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The vendor helpers against the JDK's own tools: jarsigner -verify accepts what PluginSigner writes, and back. */
public class VendorHelpersTest {
    @Rule
    public final TemporaryFolder tmp = new TemporaryFolder();

    @Test
    public void keygenWritesAnOwnerOnlyPrivateKeyAndNeverOverwrites() throws Exception {
        Path dir = tmp.getRoot().toPath().resolve("keys");
        KeyPair pair = VendorKeys.generate(dir);
        Path priv = dir.resolve(VendorKeys.PRIVATE_FILE);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(priv)));
        assertEquals(pair.getPrivate(), Pem.readPrivateKey(priv));
        assertEquals(pair.getPublic(), Pem.readPublicKey(dir.resolve(VendorKeys.PUBLIC_FILE)));
        try {
            VendorKeys.generate(dir);
            fail("overwrote a key");
        } catch (FileAlreadyExistsException e) {
            assertEquals(pair.getPrivate(), Pem.readPrivateKey(priv));
        }
    }

    @Test
    public void jarsignerVerifiesWhatPluginSignerSigns() throws Exception {
        KeyPair pair = VendorKeys.generate(tmp.newFolder().toPath());
        Path jar = TestJars.plugin(tmp.getRoot().toPath().resolve("p.jar"));
        PluginSigner.sign(jar, jar, pair.getPrivate(), pair.getPublic(), "Acme Models");
        String out = run(jarsigner(), "-verify", "-verbose", jar.toString());
        assertTrue(out, out.contains("jar verified."));
        assertTrue(out, out.contains("CN=Acme Models"));
        // and refuses a tampered copy, as PluginSignatures does
        Path bad = TestJars.rewrite(jar, tmp.getRoot().toPath().resolve("bad.jar"), "model/model.onnx",
                b -> TestJars.flip(b, 3));
        String refused = run(jarsigner(), "-verify", bad.toString());
        assertTrue(refused, !refused.contains("jar verified."));
    }

    @Test
    public void aJarSignedByTheJdkJarsignerWithAnEd25519KeyVerifies() throws Exception {
        Path ks = tmp.getRoot().toPath().resolve("ks.p12");
        run(keytool(), "-genkeypair", "-keyalg", "Ed25519", "-alias", "v", "-keystore", ks.toString(), "-storepass",
                "changeit", "-dname", "CN=v", "-validity", "10");
        Path jar = TestJars.plugin(tmp.getRoot().toPath().resolve("cli.jar"));
        run(jarsigner(), "-keystore", ks.toString(), "-storepass", "changeit", "-sigfile", "VENDOR", jar.toString(), "v");
        String fp = PluginSignatures.verify(jar);
        assertTrue(fp.matches("[0-9a-f]{64}"));
    }

    @Test
    public void signingAnUnreadableJarFailsWithoutLeavingFiles() throws Exception {
        KeyPair pair = VendorKeys.generate(tmp.newFolder().toPath());
        Path dir = tmp.newFolder().toPath();
        Path junk = dir.resolve("junk.jar");
        Files.writeString(junk, "not a jar", StandardCharsets.UTF_8);
        try {
            PluginSigner.sign(junk, junk, pair.getPrivate(), pair.getPublic(), "Acme");
            fail();
        } catch (IOException e) {
            assertEquals("not a jar", Files.readString(junk));
        }
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count());
        }
        try {
            PluginSignatures.verify(junk);
            fail();
        } catch (LicenseException e) {
            assertEquals(Refusal.TAMPERED, e.refusal());
        }
    }

    static String jarsigner() {
        return Path.of(System.getProperty("java.home"), "bin", "jarsigner").toString();
    }

    static String keytool() {
        return Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
    }

    static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue("timed out: " + String.join(" ", command), p.waitFor(60, TimeUnit.SECONDS));
        return new String(out, StandardCharsets.UTF_8);
    }
}

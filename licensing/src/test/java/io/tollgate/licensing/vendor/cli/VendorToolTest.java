package io.tollgate.licensing.vendor.cli;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import io.tollgate.licensing.License;
import io.tollgate.licensing.LicenseFiles;
import io.tollgate.licensing.Pem;
import io.tollgate.licensing.PluginSignatures;
import io.tollgate.licensing.TestJars;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** tollgate-vendor end to end through its picocli entry point: keygen, sign-plugin, issue, inspect, revoke. */
public class VendorToolTest {
    @Rule
    public final TemporaryFolder tmp = new TemporaryFolder();

    record Result(int code, String out, String err) {
    }

    static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = VendorTool.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static Result ok(String... args) {
        Result r = run(args);
        assertEquals(String.join(" ", args) + "\n" + r.out + r.err, 0, r.code);
        return r;
    }

    static Result fails(int code, String inErr, String... args) {
        Result r = run(args);
        assertEquals(String.join(" ", args) + "\n" + r.out + r.err, code, r.code);
        assertTrue(r.err + " should contain " + inErr, r.err.contains(inErr));
        assertEquals("one stderr line: " + r.err, 1, r.err.lines().count());
        return r;
    }

    @Test
    public void encryptModelThenIssueTheKeyWrappedForOneDevice() throws Exception {
        Path root = tmp.getRoot().toPath();
        ok("keygen", "--out", root.resolve("acme").toString());
        Path priv = root.resolve("acme/vendor-private.pem");
        Path pub = root.resolve("acme/vendor-public.pem");
        byte[] clear = "model bytes in clear".getBytes(StandardCharsets.UTF_8);
        Path model = root.resolve("model.onnx");
        Files.write(model, clear);
        Path enc = root.resolve("model.onnx.enc");
        Path keyFile = root.resolve("model.key");
        Result encrypted = ok("encrypt-model", "--in", model.toString(), "--out", enc.toString(), "--key-out",
                keyFile.toString());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keyFile)));
        io.tollgate.licensing.vendor.ModelKeyFile key = io.tollgate.licensing.vendor.ModelKeyFile.read(keyFile);
        assertTrue(encrypted.out, encrypted.out.contains("\"key_id\": \"" + key.keyId() + "\""));
        assertArrayEqualsBytes(clear, io.tollgate.licensing.ModelCipher.decrypt(Files.readAllBytes(enc), key.key(),
                key.keyId()));
        fails(1, "already exists", "encrypt-model", "--in", model.toString(), "--out", enc.toString(), "--key-out",
                keyFile.toString());

        KeyPair device = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        Path deviceKey = root.resolve("device-public.pem");
        Files.writeString(deviceKey, Pem.encode(device.getPublic()));
        KeyPair wrap = io.tollgate.licensing.wrap.ModelKeyWrap.generate();
        Path wrapKey = root.resolve("wrap-public.pem");
        Files.writeString(wrapKey, Pem.encode(wrap.getPublic()));
        Path lic = root.resolve("box.lic");
        ok("issue", "--key", priv.toString(), "--device-id", "box-1", "--device-key", deviceKey.toString(),
                "--tenant", "t", "--plugin", "secret", "--versions", "1.0.0", "--model-key", keyFile.toString(),
                "--device-wrap-key", wrapKey.toString(), "--id", "lic-enc", "--out", lic.toString());
        PublicKey vendorKey = Pem.readPublicKey(pub);
        License l = LicenseFiles.read(Files.readAllBytes(lic), Map.of(Pem.fingerprint(vendorKey), vendorKey));
        byte[] unwrapped = io.tollgate.licensing.wrap.ModelKeyWrap.unwrap(wrap, "lic-enc", key.keyId(),
                l.modelKey(key.keyId()).orElseThrow().wrapped());
        assertArrayEqualsBytes(key.key(), unwrapped);
        Result shown = ok("inspect", "--trust", pub.toString(), lic.toString());
        assertTrue(shown.out, shown.out.contains("model key:  " + key.keyId() + " (wrapped for wrap key "
                + Pem.fingerprint(wrap.getPublic()) + ")"));
        assertFalse("inspect never shows the key", shown.out.contains(java.util.Base64.getEncoder()
                .encodeToString(key.key())));

        // a model key needs a bound license, and the device's wrap key
        fails(2, "--model-key needs a bound license", "issue", "--key", priv.toString(), "--tenant", "t", "--plugin",
                "secret", "--versions", "1.0.0", "--model-key", keyFile.toString(), "--device-wrap-key",
                wrapKey.toString(), "--out", root.resolve("x.lic").toString());
        fails(2, "--model-key and --device-wrap-key go together", "issue", "--key", priv.toString(), "--device-id",
                "box-1", "--device-key", deviceKey.toString(), "--tenant", "t", "--plugin", "secret", "--versions",
                "1.0.0", "--model-key", keyFile.toString(), "--out", root.resolve("x.lic").toString());
        fails(1, "not an X25519 public key", "issue", "--key", priv.toString(), "--device-id", "box-1",
                "--device-key", deviceKey.toString(), "--tenant", "t", "--plugin", "secret", "--versions", "1.0.0",
                "--model-key", keyFile.toString(), "--device-wrap-key", deviceKey.toString(), "--out",
                root.resolve("x.lic").toString());
        assertFalse(Files.exists(root.resolve("x.lic")));
    }

    private static void assertArrayEqualsBytes(byte[] expected, byte[] actual) {
        org.junit.Assert.assertArrayEquals(expected, actual);
    }

    @Test
    public void theVendorsWholeFlow() throws Exception {
        Path keys = tmp.getRoot().toPath().resolve("acme");
        Result keygen = ok("keygen", "--out", keys.toString());
        Path priv = keys.resolve("vendor-private.pem");
        Path pub = keys.resolve("vendor-public.pem");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(priv)));
        PublicKey vendorKey = Pem.readPublicKey(pub);
        String fp = Pem.fingerprint(vendorKey);
        assertTrue(keygen.out, keygen.out.contains("fingerprint: " + fp));

        // sign a plugin in place, then inspect it
        Path jar = TestJars.plugin(tmp.getRoot().toPath().resolve("fashion-mnist-1.0.0.jar"));
        Result signed = ok("sign-plugin", "--key", priv.toString(), "--vendor", "Acme Models", jar.toString());
        assertTrue(signed.out, signed.out.contains("with key " + fp));
        assertEquals(fp, PluginSignatures.verify(jar));
        Result inspect = ok("inspect", "--trust", pub.toString(), jar.toString());
        assertTrue(inspect.out, inspect.out.contains("signer:    " + fp + " (CN=Acme Models"));
        assertTrue(inspect.out, inspect.out.contains("(trusted)"));
        fails(1, "is already signed", "sign-plugin", "--key", priv.toString(), jar.toString());
        Path copy = tmp.getRoot().toPath().resolve("out/signed.jar");
        Path plain = TestJars.plugin(tmp.getRoot().toPath().resolve("plain.jar"));
        ok("sign-plugin", "--key", priv.toString(), "--out", copy.toString(), plain.toString());
        assertEquals(fp, PluginSignatures.verify(copy));
        fails(1, "carries no signature", "inspect", plain.toString());

        // a device-bound license with a quota
        KeyPair device = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        Path deviceKey = tmp.getRoot().toPath().resolve("device-public.pem");
        Files.writeString(deviceKey, Pem.encode(device.getPublic()));
        Path lic = tmp.getRoot().toPath().resolve("box-1.lic");
        Result issued = ok("issue", "--key", priv.toString(), "--vendor", "Acme Models", "--device-id", "box-1",
                "--device-key", deviceKey.toString(), "--tenant", "factory-7", "--plugin", "fashion-mnist",
                "--versions", "[1.0.0,2.0.0)", "--not-before", "2026-11-01", "--expires", "2027-11-01T12:00:00Z",
                "--quota", "1000", "--meter", "inference", "--grace-days", "14", "--id", "lic-1", "--out",
                lic.toString());
        assertTrue(issued.out, issued.out.contains("issued license lic-1"));
        License l = LicenseFiles.read(Files.readAllBytes(lic), Map.of(fp, vendorKey));
        assertEquals("box-1", l.deviceId());
        assertEquals(Pem.fingerprint(device.getPublic()), l.deviceKey());
        assertEquals(Instant.parse("2026-11-01T00:00:00Z"), l.notBefore());
        assertEquals(Instant.parse("2027-11-01T12:00:00Z"), l.expires());
        assertEquals(1000, l.quota());
        assertEquals(14, l.graceDays());
        assertFalse(l.allowCode());
        assertEquals("Acme Models", l.vendor());
        Result shown = ok("inspect", "--trust", pub.toString(), lic.toString());
        assertTrue(shown.out, shown.out.contains("device:     box-1"));
        assertTrue(shown.out, shown.out.contains("quota:      1000 inference"));
        assertTrue(shown.out, shown.out.contains("signature: verifies with"));
        Result unchecked = ok("inspect", lic.toString());
        assertTrue(unchecked.out, unchecked.out.contains("\"license_id\":\"lic-1\""));
        assertTrue(unchecked.out, unchecked.out.contains("not checked"));

        // an unbound, code-allowing license with defaults
        Path free = tmp.getRoot().toPath().resolve("free.lic");
        ok("issue", "--key", priv.toString(), "--tenant", "demo", "--plugin", "fashion-mnist", "--versions", "1.0.0",
                "--allow-code", "--out", free.toString());
        License f = LicenseFiles.read(Files.readAllBytes(free), Map.of(fp, vendorKey));
        assertFalse(f.bound());
        assertTrue(f.allowCode());
        assertEquals(Instant.MAX, f.expires());
        assertEquals(License.UNLIMITED, f.quota());
        assertEquals("vendor " + fp.substring(0, 12), f.vendor());

        // revocations grow
        Path rev = tmp.getRoot().toPath().resolve("acme.revocations");
        ok("revoke", "--key", priv.toString(), "--out", rev.toString(), "lic-1");
        Result more = ok("revoke", "--key", priv.toString(), "--out", rev.toString(), "lic-2", "lic-1");
        assertTrue(more.out, more.out.contains("revoked 1 new, 2 in all"));
        assertEquals(Set.of("lic-1", "lic-2"), LicenseFiles.readRevocations(Files.readAllBytes(rev), Map.of(fp, vendorKey)));
        Result revShown = ok("inspect", "--trust", pub.toString(), rev.toString());
        assertTrue(revShown.out, revShown.out.contains("revoked:    lic-1, lic-2"));

        // another vendor's key does not verify them
        Path other = tmp.getRoot().toPath().resolve("other");
        ok("keygen", "--out", other.toString());
        fails(1, "is not signed by", "inspect", "--trust", other.resolve("vendor-public.pem").toString(), lic.toString());
        fails(1, "is signed by key " + fp, "inspect", "--trust", other.resolve("vendor-public.pem").toString(),
                jar.toString());
        fails(1, "not a revocation list of this key", "revoke", "--key", other.resolve("vendor-private.pem").toString(),
                "--out", rev.toString(), "x");

        // a tampered jar and a tampered license are refused by inspect
        Path bad = TestJars.rewrite(jar, tmp.getRoot().toPath().resolve("bad.jar"), "model/model.onnx",
                b -> TestJars.flip(b, 9));
        fails(1, "tampered entry", "inspect", bad.toString());
        byte[] licBytes = Files.readAllBytes(lic);
        Path badLic = tmp.getRoot().toPath().resolve("bad.lic");
        Files.write(badLic, TestJars.flip(licBytes, licBytes.length * 8 - 200));
        fails(1, "invalid license", "inspect", "--trust", pub.toString(), badLic.toString());
    }

    @Test
    public void badCommandLinesAreOneLineAndExit2() throws Exception {
        Path keys = tmp.getRoot().toPath().resolve("k");
        ok("keygen", "--out", keys.toString());
        String priv = keys.resolve("vendor-private.pem").toString();
        fails(2, "missing command", new String[0]);
        fails(2, "unknown command 'sign'", "sign");
        fails(2, "unknown option '--bogus'", "keygen", "--out", "x", "--bogus");
        fails(2, "Missing required option: '--out=DIR'", "keygen");
        fails(2, "--device-id and --device-key go together", "issue", "--key", priv, "--device-id", "b", "--tenant",
                "t", "--plugin", "p", "--versions", "1", "--out", tmp.getRoot() + "/x.lic");
        fails(2, "is not a date", "issue", "--key", priv, "--tenant", "t", "--plugin", "p", "--versions", "1",
                "--expires", "tomorrow", "--out", tmp.getRoot() + "/x.lic");
        fails(2, "not an OSGi version", "issue", "--key", priv, "--tenant", "t", "--plugin", "p", "--versions",
                "[x,y)", "--out", tmp.getRoot() + "/x.lic");
        fails(2, "must be after not before", "issue", "--key", priv, "--tenant", "t", "--plugin", "p", "--versions",
                "1", "--not-before", "2027-01-01", "--expires", "2026-01-01", "--out", tmp.getRoot() + "/x.lic");
        fails(2, "must be >= 0", "issue", "--key", priv, "--tenant", "t", "--plugin", "p", "--versions", "1",
                "--quota", "-1", "--out", tmp.getRoot() + "/x.lic");
        assertFalse(Files.exists(tmp.getRoot().toPath().resolve("x.lic")));
        Result help = ok("--help");
        for (String c : new String[] {"keygen", "sign-plugin", "issue", "inspect", "revoke"}) {
            assertTrue(help.out, help.out.contains(c));
        }
    }

    @Test
    public void missingFilesExit3AndExistingKeysAreNotOverwritten() throws Exception {
        Path keys = tmp.getRoot().toPath().resolve("k");
        ok("keygen", "--out", keys.toString());
        String before = Files.readString(keys.resolve("vendor-private.pem"));
        fails(1, "already exists", "keygen", "--out", keys.toString());
        assertEquals(before, Files.readString(keys.resolve("vendor-private.pem")));
        String priv = keys.resolve("vendor-private.pem").toString();
        fails(3, "cannot read", "sign-plugin", "--key", tmp.getRoot() + "/nokey.pem", "x.jar");
        fails(3, "cannot read", "sign-plugin", "--key", priv, tmp.getRoot() + "/none.jar");
        fails(3, "cannot read", "inspect", tmp.getRoot() + "/none.lic");
        fails(3, "cannot read", "issue", "--key", priv, "--device-id", "b", "--device-key", tmp.getRoot() + "/d.pem",
                "--tenant", "t", "--plugin", "p", "--versions", "1", "--out", tmp.getRoot() + "/x.lic");
        // a key file that is not a key: failed, one line naming it
        fails(1, "pub-not-priv", "revoke", "--key", copy(keys.resolve("vendor-public.pem"), "pub-not-priv.pem"),
                "--out", tmp.getRoot() + "/r.revocations", "x");
        Path notJar = tmp.getRoot().toPath().resolve("not.jar");
        Files.writeString(notJar, "hello");
        fails(1, "is not a jar", "sign-plugin", "--key", priv, notJar.toString());
        fails(1, "invalid license", "inspect", notJar.toString());
    }

    @Test
    public void theMainClassRunsAsAProcessWithItsExitCodes() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = System.getProperty("java.class.path");
        Path keys = tmp.getRoot().toPath().resolve("p");
        Process p = new ProcessBuilder(java, "-cp", cp, VendorTool.class.getName(), "keygen", "--out", keys.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(out, 0, p.exitValue());
        assertTrue(out, out.contains("fingerprint: "));
        p = new ProcessBuilder(java, "-cp", cp, VendorTool.class.getName(), "issue").redirectErrorStream(true).start();
        out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(out, 2, p.exitValue());
        assertEquals(out, 1, out.lines().count());
    }

    private String copy(Path from, String name) throws Exception {
        Path to = tmp.getRoot().toPath().resolve(name);
        Files.copy(from, to);
        return to.toString();
    }
}

package io.tollgate.licensing;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.licensing.vendor.PluginSigner;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;
import java.util.zip.ZipFile;

import jdk.security.jarsigner.JarSigner;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** PluginSignatures on real jars signed by the vendor tool's PluginSigner (the JDK's JarSigner API). */
public class PluginSignaturesTest {
    @ClassRule
    public static final TemporaryFolder TMP = new TemporaryFolder();

    private static KeyPair vendor;
    private static Path signed;

    @BeforeClass
    public static void signOne() throws Exception {
        vendor = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        Path plain = TestJars.plugin(TMP.getRoot().toPath().resolve("plain.jar"));
        signed = TMP.getRoot().toPath().resolve("signed.jar");
        PluginSigner.sign(plain, signed, vendor.getPrivate(), vendor.getPublic(), "Acme Models");
    }

    @Test
    public void aSignedJarVerifiesAndNamesItsSigner() throws Exception {
        assertEquals(Pem.fingerprint(vendor.getPublic()), PluginSignatures.verify(signed));
        assertTrue("the signer leaves an Ed25519 block", TestJars.entries(signed).containsKey("META-INF/VENDOR.EC"));
    }

    @Test
    public void anUnsignedJarIsUnsigned() throws Exception {
        Path plain = TestJars.plugin(TMP.newFile().toPath());
        expect(Refusal.UNSIGNED, plain, "carries no signature");
    }

    @Test
    public void aFlippedBitInEveryEntryIsTampered() throws Exception {
        LinkedHashMap<String, byte[]> entries = TestJars.entries(signed);
        int tried = 0;
        List<String> accepted = new java.util.ArrayList<>();
        for (String name : TestJars.files(signed)) {
            byte[] bytes = entries.get(name);
            boolean signatureFile = name.startsWith("META-INF/") && !name.startsWith("META-INF/maven/")
                    && !name.startsWith("META-INF/tollgate/");
            // every byte of the manifest and the signature files; first, middle and last byte of the others
            int[] positions = signatureFile ? range(bytes.length) : new int[] {0, bytes.length / 2, bytes.length - 1};
            // every bit of the signature block, one bit (varying) of every other byte
            int bitsPerByte = name.endsWith(".EC") ? 8 : 1;
            for (int i = 0; i < positions.length * bitsPerByte; i++) {
                int at = positions[i / bitsPerByte];
                int bit = at * 8 + (bitsPerByte == 8 ? i % 8 : at % 8);
                Path out = TestJars.rewrite(signed, TMP.getRoot().toPath().resolve("flip.jar"), name,
                        b -> TestJars.flip(b, bit));
                try {
                    PluginSignatures.verify(out);
                    accepted.add(name + " byte " + at + " bit " + (bit % 8));
                } catch (LicenseException e) {
                    assertEquals(name + " bit " + bit + ": " + e.getMessage(), Refusal.TAMPERED, e.refusal());
                }
                tried++;
            }
        }
        assertEquals("flipped bits that still verified", List.of(), accepted);
        assertTrue("flipped " + tried, tried > 4000);
    }

    @Test
    public void aChangedEntryIsNamed() throws Exception {
        Path out = TestJars.rewrite(signed, TMP.newFile().toPath(), "model/model.onnx", b -> TestJars.flip(b, 100));
        expect(Refusal.TAMPERED, out, "entry model/model.onnx");
    }

    @Test
    public void anAddedEntryIsTampered() throws Exception {
        LinkedHashMap<String, byte[]> entries = TestJars.entries(signed);
        entries.put("model/extra.onnx", new byte[] {1, 2, 3});
        expect(Refusal.TAMPERED, TestJars.write(TMP.newFile().toPath(), entries), "entry model/extra.onnx is not signed");
    }

    @Test
    public void anAddedClassIsTampered() throws Exception {
        LinkedHashMap<String, byte[]> entries = TestJars.entries(signed);
        entries.put("io/evil/Activator.class", new byte[] {(byte) 0xCA, (byte) 0xFE, (byte) 0xBA, (byte) 0xBE});
        expect(Refusal.TAMPERED, TestJars.write(TMP.newFile().toPath(), entries), "io/evil/Activator.class");
    }

    @Test
    public void aRemovedEntryIsTampered() throws Exception {
        for (String name : List.of("model/model.onnx", "META-INF/tollgate/plugin.json")) {
            LinkedHashMap<String, byte[]> entries = TestJars.entries(signed);
            entries.remove(name);
            expect(Refusal.TAMPERED, TestJars.write(TMP.newFile().toPath(), entries), "entry " + name
                    + " was signed but is missing");
        }
    }

    @Test
    public void aRemovedSignatureFileIsTamperedOrUnsigned() throws Exception {
        LinkedHashMap<String, byte[]> entries = TestJars.entries(signed);
        entries.remove("META-INF/VENDOR.SF");
        expect(Refusal.TAMPERED, TestJars.write(TMP.newFile().toPath(), entries), "");
        entries = TestJars.entries(signed);
        entries.remove("META-INF/VENDOR.EC");
        entries.remove("META-INF/VENDOR.SF");
        expect(Refusal.UNSIGNED, TestJars.write(TMP.newFile().toPath(), entries), "carries no signature");
    }

    @Test
    public void aJarSignedByAnotherKeyNamesThatKey() throws Exception {
        KeyPair other = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        Path out = TMP.newFile().toPath();
        PluginSigner.sign(TestJars.plugin(TMP.newFile().toPath()), out, other.getPrivate(), other.getPublic(), "Other");
        String signer = PluginSignatures.verify(out);
        assertEquals(Pem.fingerprint(other.getPublic()), signer);
        Entitlement e = LicenseRules.decide("test-model", "1.0.0", false, signer,
                Set.of(Pem.fingerprint(vendor.getPublic())), List.of(), Set.of(), "box", "k", Instant.now());
        assertEquals(Refusal.UNKNOWN_VENDOR, e.refusal().orElseThrow());
    }

    @Test
    public void twoSignersAreTampered() throws Exception {
        KeyPair other = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        Path twice = TMP.newFile().toPath();
        X509Certificate cert = PluginSigner.certificate(other.getPrivate(), other.getPublic(), "Other");
        JarSigner js = new JarSigner.Builder(other.getPrivate(),
                CertificateFactory.getInstance("X.509").generateCertPath(List.of(cert)))
                .signatureAlgorithm("Ed25519").digestAlgorithm("SHA-256").signerName("OTHER").build();
        try (ZipFile in = new ZipFile(signed.toFile()); var out = Files.newOutputStream(twice)) {
            js.sign(in, out);
        }
        expect(Refusal.TAMPERED, twice, "2 signers");
    }

    @Test
    public void anRsaSignatureIsRefused() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        KeyPair rsa = g.generateKeyPair();
        X500Name name = new X500Name("CN=rsa");
        var holder = new JcaX509v3CertificateBuilder(name, BigInteger.ONE, new Date(), new Date(System.currentTimeMillis()
                + 86_400_000L), name, rsa.getPublic()).build(new JcaContentSignerBuilder("SHA256withRSA")
                .build(rsa.getPrivate()));
        X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new java.io.ByteArrayInputStream(holder.getEncoded()));
        Path out = TMP.newFile().toPath();
        JarSigner js = new JarSigner.Builder(rsa.getPrivate(),
                CertificateFactory.getInstance("X.509").generateCertPath(List.of(cert))).build();
        try (ZipFile in = new ZipFile(TestJars.plugin(TMP.newFile().toPath()).toFile());
             var os = Files.newOutputStream(out)) {
            js.sign(in, os);
        }
        expect(Refusal.TAMPERED, out, "Ed25519 vendor key");
    }

    @Test
    public void aFileThatIsNotAJarIsTampered() throws Exception {
        Path junk = TMP.newFile().toPath();
        Files.write(junk, "not a zip".getBytes(StandardCharsets.UTF_8));
        expect(Refusal.TAMPERED, junk, "not a readable jar");
        Path truncated = TMP.newFile().toPath();
        byte[] bytes = Files.readAllBytes(signed);
        Files.write(truncated, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        expect(Refusal.TAMPERED, truncated, "");
    }

    @Test
    public void signingInPlaceReplacesTheJar() throws Exception {
        Path jar = TestJars.plugin(TMP.newFolder().toPath().resolve("p.jar"));
        PluginSigner.sign(jar, jar, vendor.getPrivate(), vendor.getPublic(), "Acme");
        assertEquals(Pem.fingerprint(vendor.getPublic()), PluginSignatures.verify(jar));
        try (var files = Files.list(jar.getParent())) {
            assertTrue("no temporary file left", files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")));
        }
    }

    private static int[] range(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) {
            r[i] = i;
        }
        return r;
    }

    private static void expect(Refusal refusal, Path jar, String inMessage) {
        try {
            String who = PluginSignatures.verify(jar);
            fail("verified as " + who + ", expected " + refusal);
        } catch (LicenseException e) {
            assertEquals(e.getMessage(), refusal, e.refusal());
            assertTrue(e.getMessage(), e.getMessage().startsWith(refusal.words() + ": "));
            assertTrue(e.getMessage() + " should contain " + inMessage, e.getMessage().contains(inMessage));
        }
    }
}

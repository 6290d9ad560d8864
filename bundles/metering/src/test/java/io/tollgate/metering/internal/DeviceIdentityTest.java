package io.tollgate.metering.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.junit.Assume.assumeTrue;

import java.lang.annotation.Annotation;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class DeviceIdentityTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    static DeviceConfig config(Path dir, String id) {
        return new DeviceConfig() {
            @Override
            public String directory() {
                return dir.toString();
            }

            @Override
            public String device_id() {
                return id;
            }

            @Override
            public Class<? extends Annotation> annotationType() {
                return DeviceConfig.class;
            }
        };
    }

    @Test
    public void firstStartCreatesAnOwnerOnlyKeyAndAStableId() throws Exception {
        Path dir = tmp.getRoot().toPath().resolve("data/device");
        FileDeviceIdentity first = new FileDeviceIdentity(config(dir, ""));
        Path priv = dir.resolve(Ed25519DeviceKey.PRIVATE_FILE);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(priv)));
        assertTrue(Files.readString(priv).startsWith("-----BEGIN PRIVATE KEY-----\n"));
        String pub = Files.readString(dir.resolve(DevicePublicKey.FILE));
        assertTrue(pub.startsWith("-----BEGIN PUBLIC KEY-----\n"));
        assertEquals(pub, first.publicKeyPem());
        assertTrue(first.deviceId(), first.deviceId().matches("tg-[0-9a-f]{16}"));
        // "tg-" + 16 hex digits of SHA-256 over the SubjectPublicKeyInfo DER
        byte[] spki = Pem.decode(pub, Pem.PUBLIC_KEY, "test");
        assertEquals(first.deviceId(), "tg-" + RecordFormat.hex(RecordFormat.sha256(spki, 0, spki.length)).substring(0, 16));
        assertEquals(first.deviceId() + "\n", Files.readString(dir.resolve(Ed25519DeviceKey.ID_FILE)));

        FileDeviceIdentity again = new FileDeviceIdentity(config(dir, ""));
        assertEquals(first.deviceId(), again.deviceId());
        assertEquals(first.publicKeyPem(), again.publicKeyPem());
        byte[] msg = "hello".getBytes(StandardCharsets.US_ASCII);
        assertTrue("the reloaded key signs like the first", first.publicKey().verify(msg, again.sign(msg)));
        assertFalse(first.publicKey().verify("hellp".getBytes(StandardCharsets.US_ASCII), again.sign(msg)));
    }

    @Test
    public void configuredIdWinsAndIsValidated() throws Exception {
        Path dir = tmp.newFolder("device").toPath();
        assertEquals("press-line-7", new FileDeviceIdentity(config(dir, "press-line-7")).deviceId());
        assertEquals("press-line-7\n", Files.readString(dir.resolve(Ed25519DeviceKey.ID_FILE)));
        try {
            new FileDeviceIdentity(config(dir, "no spaces please"));
            fail("accepted an id with spaces");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("'no spaces please' is not valid"));
        }
    }

    @Test
    public void widePermissionsAreTightened() throws Exception {
        Path dir = tmp.newFolder("device").toPath();
        Ed25519DeviceKey.loadOrCreate(dir, "");
        Path priv = dir.resolve(Ed25519DeviceKey.PRIVATE_FILE);
        Files.setPosixFilePermissions(priv, PosixFilePermissions.fromString("rw-r--r--"));
        Ed25519DeviceKey.loadOrCreate(dir, "");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(priv)));
    }

    @Test
    public void aMissingPublicKeyIsRewrittenFromThePrivateKey() throws Exception {
        Path dir = tmp.newFolder("device").toPath();
        Ed25519DeviceKey k = Ed25519DeviceKey.loadOrCreate(dir, "");
        Files.delete(dir.resolve(DevicePublicKey.FILE));
        assertEquals(k.deviceId(), Ed25519DeviceKey.loadOrCreate(dir, "").deviceId());
        assertEquals(k.publicKeyPem(), Files.readString(dir.resolve(DevicePublicKey.FILE)));
    }

    @Test
    public void aForeignKeyFileIsRefusedWithAReason() throws Exception {
        Path dir = tmp.newFolder("device").toPath();
        Files.writeString(dir.resolve(Ed25519DeviceKey.PRIVATE_FILE), "not a pem");
        try {
            Ed25519DeviceKey.loadOrCreate(dir, "");
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("no '-----BEGIN PRIVATE KEY-----' block"));
        }
    }

    @Test
    public void opensslReadsTheKeyFiles() throws Exception {
        Path dir = tmp.newFolder("device").toPath();
        Ed25519DeviceKey.loadOrCreate(dir, "");
        Process p;
        try {
            p = new ProcessBuilder("openssl", "pkey", "-in", Ed25519DeviceKey.PRIVATE_FILE, "-pubout")
                    .directory(dir.toFile()).redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            assumeTrue("openssl is on the PATH", false);
            return;
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(out, 0, p.exitValue());
        assertEquals(Files.readString(dir.resolve(DevicePublicKey.FILE)), out);
    }
}

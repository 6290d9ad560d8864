package io.tollgate.guard;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.licensing.LicenseException;
import io.tollgate.licensing.ModelCipher;
import io.tollgate.licensing.wrap.ModelKeyWrap;
import io.tollgate.licensing.Pem;
import io.tollgate.licensing.Refusal;
import io.tollgate.licensing.vendor.LicenseIssuer;
import io.tollgate.licensing.vendor.VendorKeys;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * {@link LicenseStore#modelKey} on real files (issue 10, "Model encryption"): the device's wrap key made by
 * {@link DeviceWrapKey}, bound licenses made by the vendor tool's classes carrying the key wrapped for it or not.
 */
public class LicenseStoreModelKeyTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private final Instant now = Instant.now();
    private final byte[] key = ModelCipher.newKey(new SecureRandom());
    private Path licenses;
    private Path device;
    private KeyPair vendor;
    private KeyPair deviceKey;
    private String signer;
    private LicenseStore store;

    @Before
    public void setUp() throws Exception {
        Path root = tmp.getRoot().toPath();
        Path vendors = Files.createDirectories(root.resolve("conf/vendors"));
        licenses = Files.createDirectories(root.resolve("licenses"));
        device = Files.createDirectories(root.resolve("data/device"));
        vendor = VendorKeys.generate(root.resolve("vendor"));
        Files.copy(root.resolve("vendor").resolve(VendorKeys.PUBLIC_FILE), vendors.resolve("acme.pem"));
        signer = Pem.fingerprint(vendor.getPublic());
        deviceKey = VendorKeys.generate(root.resolve("dev"));
        Files.copy(root.resolve("dev").resolve(VendorKeys.PUBLIC_FILE), device.resolve(LicenseStore.DEVICE_PUBLIC_FILE));
        Files.writeString(device.resolve(LicenseStore.DEVICE_ID_FILE), "box-7\n");
        DeviceWrapKey.ensure(device);
        store = new LicenseStore(vendors, List.of(licenses), device, Clock.systemUTC());
    }

    private LicenseIssuer bound(String id) {
        return new LicenseIssuer("acme", vendor.getPrivate(), vendor.getPublic()).id(id).tenant("t1").plugin("ocr")
                .versions("[1.0.0,2.0.0)").notBefore(now.minus(1, ChronoUnit.DAYS)).device("box-7",
                        deviceKey.getPublic());
    }

    private void installed() {
        store.reload();
        store.decide("ocr", "1.0.0", false, signer, null);
    }

    private LicenseException refused(String keyId) {
        try {
            store.modelKey("ocr", "1.0.0", keyId);
            throw new AssertionError("gave a key");
        } catch (LicenseException e) {
            return e;
        }
    }

    @Test
    public void theEntitlingLicensesKeyIsUnwrappedWithThisDevicesWrapKey() throws Exception {
        Files.write(licenses.resolve("a.lic"), bound("lic-a").modelKey("k1", key,
                ModelKeyWrap.readPublicKey(device.resolve(ModelKeyWrap.PUBLIC_FILE))).issue());
        installed();
        assertArrayEquals(key, store.modelKey("ocr", "1.0.0", "k1"));
        LicenseException e = refused("k2");
        assertEquals(Refusal.NO_MODEL_KEY, e.refusal());
        assertTrue(e.getMessage(), e.getMessage().startsWith("no model key: plugin ocr 1.0.0 is encrypted with model"
                + " key k2, and license lic-a"));
    }

    @Test
    public void aLicenseWithoutTheKeyIsNoModelKey() throws Exception {
        Files.write(licenses.resolve("a.lic"), bound("lic-a").issue());
        installed();
        assertEquals(Refusal.NO_MODEL_KEY, refused("k1").refusal());
    }

    @Test
    public void aKeyWrappedForAnotherDeviceIsWrongDevice() throws Exception {
        KeyPair otherBox = ModelKeyWrap.generate();
        Files.write(licenses.resolve("a.lic"), bound("lic-a").modelKey("k1", key, otherBox.getPublic()).issue());
        installed();
        LicenseException e = refused("k1");
        assertEquals(Refusal.WRONG_DEVICE, e.refusal());
        assertTrue(e.getMessage(), e.getMessage().contains("is wrapped for wrap key " + Pem.fingerprint(otherBox
                .getPublic())));
    }

    @Test
    public void aWrapKeyReplacedOnTheBoxIsWrongDevice() throws Exception {
        Files.write(licenses.resolve("a.lic"), bound("lic-a").modelKey("k1", key,
                ModelKeyWrap.readPublicKey(device.resolve(ModelKeyWrap.PUBLIC_FILE))).issue());
        installed();
        // the wrap key files of another box copied over this one's: the fingerprint no longer matches
        Files.delete(device.resolve(ModelKeyWrap.PRIVATE_FILE));
        Files.delete(device.resolve(ModelKeyWrap.PUBLIC_FILE));
        DeviceWrapKey.ensure(device);
        assertEquals(Refusal.WRONG_DEVICE, refused("k1").refusal());
        // and no wrap key at all
        Files.delete(device.resolve(ModelKeyWrap.PRIVATE_FILE));
        assertEquals(Refusal.NO_MODEL_KEY, refused("k1").refusal());
    }

    @Test
    public void anUnentitledVersionGetsNoKeyButItsRefusal() throws Exception {
        store.reload();
        store.decide("ocr", "1.0.0", false, signer, null);
        assertEquals(Refusal.NO_LICENSE, refused("k1").refusal());
        // a bound license for another device, even one carrying the key
        KeyPair otherDevice = VendorKeys.generate(tmp.getRoot().toPath().resolve("other"));
        Files.write(licenses.resolve("b.lic"), new LicenseIssuer("acme", vendor.getPrivate(), vendor.getPublic())
                .id("lic-b").tenant("t1").plugin("ocr").versions("[1.0.0,2.0.0)").notBefore(now.minus(1, ChronoUnit.DAYS))
                .device("box-9", otherDevice.getPublic()).modelKey("k1", key,
                        ModelKeyWrap.readPublicKey(device.resolve(ModelKeyWrap.PUBLIC_FILE))).issue());
        installed();
        assertEquals(Refusal.WRONG_DEVICE, refused("k1").refusal());
    }

    @Test
    public void theWrapKeyIsMadeOnceWithAPrivateFile() throws Exception {
        Path d = tmp.getRoot().toPath().resolve("fresh/device");
        String pem = DeviceWrapKey.ensure(d);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(
                d.resolve(ModelKeyWrap.PRIVATE_FILE))));
        assertEquals(pem, Files.readString(d.resolve(ModelKeyWrap.PUBLIC_FILE)));
        assertEquals("never replaced", pem, DeviceWrapKey.ensure(d));
        Files.writeString(d.resolve(ModelKeyWrap.PRIVATE_FILE), "garbage");
        try {
            DeviceWrapKey.ensure(d);
            fail("a broken wrap key is not replaced");
        } catch (java.io.IOException e) {
            assertTrue(e.getMessage(), e.getMessage().contains(ModelKeyWrap.PRIVATE_FILE));
        }
    }
}

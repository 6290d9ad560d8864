package io.tollgate.guard;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import io.tollgate.licensing.Entitlement;
import io.tollgate.licensing.Pem;
import io.tollgate.licensing.Refusal;
import io.tollgate.licensing.vendor.LicenseIssuer;
import io.tollgate.licensing.vendor.RevocationIssuer;
import io.tollgate.licensing.vendor.VendorKeys;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The license store on real files made by the vendor tool's classes: what a reload reads, which files it refuses and
 * why, when its listeners run (a change, a stable file only, a license crossing its expiry), and the cached decisions.
 */
public class LicenseStoreTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private Path vendors;
    private Path licenses;
    private Path device;
    private KeyPair vendor;
    private KeyPair stranger;
    private String signer;
    /** The store's wall clock, set by the tests. */
    private Instant now = Instant.parse("2026-11-30T12:00:00Z");
    private LicenseStore store;
    private final AtomicInteger changes = new AtomicInteger();

    @Before
    public void folders() throws Exception {
        Path root = tmp.getRoot().toPath();
        vendors = Files.createDirectories(root.resolve("conf/vendors"));
        licenses = Files.createDirectories(root.resolve("licenses"));
        device = root.resolve("data/device");
        vendor = VendorKeys.generate(root.resolve("k1"));
        stranger = VendorKeys.generate(root.resolve("k2"));
        Files.copy(root.resolve("k1").resolve(VendorKeys.PUBLIC_FILE), vendors.resolve("acme.pem"));
        signer = Pem.fingerprint(vendor.getPublic());
        Clock clock = new Clock() {
            @Override
            public java.time.ZoneId getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return now;
            }
        };
        store = new LicenseStore(vendors, List.of(licenses), device, clock);
        Runnable listener = changes::incrementAndGet;
        store.addListener(listener);
        store.addListener(listener);        // twice: no effect
    }

    private LicenseIssuer issuer(KeyPair key) {
        return new LicenseIssuer("acme", key.getPrivate(), key.getPublic()).tenant("t1").unbound().plugin("ocr")
                .versions("[1.0.0,2.0.0)").notBefore(now.minus(1, ChronoUnit.DAYS)).issuedAt(now.minus(1, ChronoUnit.DAYS));
    }

    /**
     * The review's attack (2026-11-30): the owner trusts their own key, licenses the vendor's plugin name to
     * themselves and installs a re-signed copy; then removes the vendor's license. The copy must not become the
     * evidence the serving (vendor-signed) revision is checked and billed against.
     */
    @Test
    public void aCopyReSignedByAnotherTrustedVendorIsRefusedAndTheInstalledRevisionKeepsItsOwnLicense() throws Exception {
        Files.copy(tmp.getRoot().toPath().resolve("k2").resolve(VendorKeys.PUBLIC_FILE), vendors.resolve("owner.pem"));
        Files.write(licenses.resolve("acme.lic"), issuer(vendor).id("acme-lic").quota(3L, "inference").issue());
        Files.write(licenses.resolve("owner.lic"), new LicenseIssuer("owner", stranger.getPrivate(),
                stranger.getPublic()).tenant("t1").unbound().plugin("ocr").versions("[1.0.0,2.0.0)")
                .notBefore(now.minus(1, ChronoUnit.DAYS)).issuedAt(now.minus(1, ChronoUnit.DAYS)).id("owner-lic")
                .issue());
        store.reload();
        assertTrue(store.decide("ocr", "1.0.0", false, signer, null).entitled());
        Entitlement copy = store.decide("ocr", "1.0.0", false, Pem.fingerprint(stranger.getPublic()), null);
        assertFalse(copy.entitled());
        assertEquals(Refusal.OTHER_SIGNER, copy.refusal().get());
        assertTrue(copy.reason(), copy.reason().contains("already installed signed by vendor acme"));
        Entitlement serving = store.check("ocr", "1.0.0", now.toEpochMilli());
        assertEquals("the installed revision is still checked against its own vendor's license", "acme-lic",
                serving.license().get().id());
        Files.delete(licenses.resolve("acme.lic"));
        store.reload();
        Entitlement after = store.check("ocr", "1.0.0", now.toEpochMilli());
        assertFalse("the owner's own license never entitles the vendor's revision: " + after, after.entitled());
        assertEquals(Refusal.NO_LICENSE, after.refusal().get());
    }

    @Test
    public void aReloadReadsVendorsAndLicensesAndCallsTheListenersOnlyOnAChange() throws Exception {
        Files.write(licenses.resolve("a.lic"), issuer(vendor).id("lic-a").issue());
        assertTrue(store.reload());
        assertEquals(1, changes.get());
        assertEquals(1, store.trustedVendors().size());
        assertEquals("acme", store.vendorName(signer));
        assertEquals(List.of("lic-a"), store.licenses().stream().map(l -> l.id()).toList());
        assertFalse("nothing changed", store.reload());
        assertEquals(1, changes.get());
    }

    @Test
    public void badFilesAreRefusedWithTheirReasonAndTheRestIsRead() throws Exception {
        Files.write(licenses.resolve("good.lic"), issuer(vendor).id("good").issue());
        Files.write(licenses.resolve("stranger.lic"), issuer(stranger).id("s").issue());
        Files.writeString(licenses.resolve("garbage.lic"), "{not json", StandardCharsets.UTF_8);
        byte[] flipped = issuer(vendor).id("flipped").issue();
        flipped[flipped.length / 2] ^= 1;
        Files.write(licenses.resolve("flipped.lic"), flipped);
        Files.writeString(vendors.resolve("broken.pem"), "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
        Files.writeString(licenses.resolve(".hidden.lic"), "ignored", StandardCharsets.UTF_8);
        store.reload();
        assertEquals(List.of("good"), store.licenses().stream().map(l -> l.id()).toList());
        List<String> refused = store.refusedFiles();
        assertEquals(refused.toString(), 4, refused.size());
        assertTrue(refused.toString(), refused.stream().anyMatch(r -> r.contains("stranger.lic: unknown vendor")));
        assertTrue(refused.toString(), refused.stream().anyMatch(r -> r.contains("garbage.lic: invalid license")));
        assertTrue(refused.toString(), refused.stream().anyMatch(r -> r.contains("flipped.lic: ")));
        assertTrue(refused.toString(), refused.stream().anyMatch(r -> r.contains("broken.pem: not a trusted vendor key")));
    }

    @Test
    public void decisionsFollowTheFilesRevocationsAndTheDevice() throws Exception {
        store.reload();
        Entitlement none = store.decide("ocr", "1.0.0", false, signer, null);
        assertEquals(Refusal.NO_LICENSE, none.refusal().orElseThrow());
        Files.write(licenses.resolve("a.lic"), issuer(vendor).id("lic-a").issue());
        store.reload();
        assertTrue(store.check("ocr", "1.0.0", now.toEpochMilli()).entitled());
        Files.write(licenses.resolve("r.revocations"), RevocationIssuer.issue(vendor.getPrivate(), vendor.getPublic(),
                List.of("lic-a"), now));
        store.reload();
        assertEquals(Refusal.REVOKED, store.check("ocr", "1.0.0", now.toEpochMilli()).refusal().orElseThrow());
        assertEquals("revoked", store.stateOf(store.licenses().get(0), now));

        KeyPair deviceKey = VendorKeys.generate(tmp.getRoot().toPath().resolve("dev"));
        Files.write(licenses.resolve("bound.lic"), issuer(vendor).id("bound").device("box-7", deviceKey.getPublic())
                .issue());
        store.reload();
        assertEquals(Refusal.WRONG_DEVICE, store.check("ocr", "1.0.0", now.toEpochMilli()).refusal().orElseThrow());
        Files.createDirectories(device);
        Files.copy(tmp.getRoot().toPath().resolve("dev").resolve(VendorKeys.PUBLIC_FILE),
                device.resolve(LicenseStore.DEVICE_PUBLIC_FILE));
        Files.writeString(device.resolve(LicenseStore.DEVICE_ID_FILE), "box-7\n");
        store.reload();
        assertEquals("box-7", store.deviceId());
        assertTrue("the device key appeared: the bound license counts",
                store.check("ocr", "1.0.0", now.toEpochMilli()).entitled());
        assertEquals("bound", store.check("ocr", "1.0.0", now.toEpochMilli()).license().orElseThrow().id());
    }

    @Test
    public void aRevocationListRevokesOnlyItsOwnVendorsLicensesAndDeletingItUnrevokesNothing() throws Exception {
        // a second trusted vendor (the box owner's own key, say) that knows the first vendor's license id
        Files.copy(tmp.getRoot().toPath().resolve("k2").resolve(VendorKeys.PUBLIC_FILE), vendors.resolve("own.pem"));
        Files.write(licenses.resolve("a.lic"), issuer(vendor).id("lic-a").issue());
        Files.write(licenses.resolve("own.revocations"), RevocationIssuer.issue(stranger.getPrivate(),
                stranger.getPublic(), List.of("lic-a"), now));
        store.reload();
        store.decide("ocr", "1.0.0", false, signer, null);   // the plugin, signed by acme, as the hook judged it
        assertTrue("another vendor's list does not revoke acme's license",
                store.check("ocr", "1.0.0", now.toEpochMilli()).entitled());
        assertFalse(store.revoked("lic-a"));

        // the same id in the other vendor's license neither shadows nor displaces acme's
        Files.write(licenses.resolve("clash.lic"), issuer(stranger).id("lic-a").plugin("other").quota(1L, "inference").issue());
        store.reload();
        assertEquals(store.refusedFiles().toString(), List.of(), store.refusedFiles());
        assertEquals(2, store.licenses().size());
        assertTrue(store.check("ocr", "1.0.0", now.toEpochMilli()).entitled());

        // acme's own list revokes it; deleting the list from the licenses folder does not bring it back
        Files.write(licenses.resolve("acme.revocations"), RevocationIssuer.issue(vendor.getPrivate(), vendor.getPublic(),
                List.of("lic-a"), now));
        store.reload();
        assertEquals(Refusal.REVOKED, store.check("ocr", "1.0.0", now.toEpochMilli()).refusal().orElseThrow());
        Files.delete(licenses.resolve("acme.revocations"));
        Files.delete(licenses.resolve("a.lic"));
        Files.write(licenses.resolve("again.lic"), issuer(vendor).id("lic-a").issue());   // the license replayed
        store.reload();
        assertEquals("kept in data/licensing/revocations", Refusal.REVOKED,
                store.check("ocr", "1.0.0", now.toEpochMilli()).refusal().orElseThrow());
        assertTrue(Files.list(device.getParent().resolve("licensing/revocations")).findAny().isPresent());
    }

    @Test
    public void aRefusedCopyOfAnEntitledPluginDoesNotShadowIt() throws Exception {
        Files.write(licenses.resolve("a.lic"), issuer(vendor).id("lic-a").issue());
        store.reload();
        assertTrue(store.decide("ocr", "1.0.0", false, signer, null).entitled());
        Entitlement impostor = store.decide("ocr", "1.0.0", false, null,
                new io.tollgate.licensing.LicenseException(Refusal.UNSIGNED, "unsigned: no signature"));
        assertFalse(impostor.entitled());
        assertTrue("the entitled plugin still is", store.check("ocr", "1.0.0", now.toEpochMilli()).entitled());
    }

    @Test
    public void aSignatureFailureIsTheRefusal() throws Exception {
        store.reload();
        Entitlement e = store.decide("ocr", "1.0.0", false, null,
                new io.tollgate.licensing.LicenseException(Refusal.TAMPERED, "entry TOLLGATE-INF/model.onnx changed"));
        assertEquals("tampered entry: entry TOLLGATE-INF/model.onnx changed", e.reason());
        assertEquals(Refusal.UNSIGNED, store.check("asr", "1.0.0", now.toEpochMilli()).refusal().orElseThrow());
    }

    @Test
    public void theWatchReadsAFileOnlyOnceItStoodStillAndNoticesAnExpiry() throws Exception {
        store.reload();
        int before = changes.get();
        Files.write(licenses.resolve("a.lic"), issuer(vendor).id("lic-a").expires(now.plus(1, ChronoUnit.HOURS))
                .issue());
        store.poll(1_000);
        assertEquals("just written: not read yet", before, changes.get());
        store.poll(1_000 + LicenseStore.STABLE_MS - 1);
        assertEquals(before, changes.get());
        store.poll(1_000 + LicenseStore.STABLE_MS);
        assertEquals("stood still: read", before + 1, changes.get());
        store.decide("ocr", "1.0.0", false, signer, null);
        assertTrue(store.check("ocr", "1.0.0", now.toEpochMilli()).entitled());
        store.poll(10_000);
        assertEquals(before + 1, changes.get());
        now = now.plus(2, ChronoUnit.HOURS);
        store.poll(11_000);
        assertEquals("the expiry passed: the listeners re-check", before + 2, changes.get());
        assertEquals(Refusal.EXPIRED, store.check("ocr", "1.0.0", now.toEpochMilli()).refusal().orElseThrow());
    }
}

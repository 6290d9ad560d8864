package io.tollgate.serving.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.licensing.Entitlement;
import io.tollgate.licensing.Entitlements;
import io.tollgate.licensing.License;
import io.tollgate.licensing.LicenseException;
import io.tollgate.licensing.ModelCipher;
import io.tollgate.licensing.Refusal;
import io.tollgate.model.Tensor;
import io.tollgate.serving.InferenceRequest;
import io.tollgate.serving.ModelState;
import io.tollgate.serving.PluginStatus;
import io.tollgate.serving.testing.InMemoryEntitlements;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * The load path of an encrypted model (issue 10, "Model encryption"): serving asks the licensing service for the
 * model key named by the descriptor, decrypts in memory, hands the clear bytes to the engine and zeroes the key; each
 * failure is the plugin's FAILED reason.
 */
public class EncryptedModelLoadTest {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final FakeEngine engine = new FakeEngine("fake");
    private final byte[] key = ModelCipher.newKey(RANDOM);
    private final KeyService keys = new KeyService();
    private ServingService service;

    /** An Entitlements that entitles everything and gives {@link #key} for key id "k1" (or throws {@link #failure}). */
    private final class KeyService implements Entitlements {
        final Entitlements all = InMemoryEntitlements.everything();
        final List<String> asked = new CopyOnWriteArrayList<>();
        final List<byte[]> handedOut = new CopyOnWriteArrayList<>();
        volatile LicenseException failure;

        @Override
        public Entitlement check(String plugin, String version, long nowMillis) {
            return all.check(plugin, version, nowMillis);
        }

        @Override
        public byte[] modelKey(String plugin, String version, String keyId) throws LicenseException {
            asked.add(plugin + " " + version + " " + keyId);
            if (failure != null) {
                throw failure;
            }
            if (!keyId.equals("k1")) {
                throw new LicenseException(Refusal.NO_MODEL_KEY, "no model key: none with id " + keyId);
            }
            byte[] copy = key.clone();
            handedOut.add(copy);
            return copy;
        }

        @Override
        public List<License> licenses() {
            return all.licenses();
        }

        @Override
        public List<String> refusedFiles() {
            return List.of();
        }

        final List<Runnable> listeners = new CopyOnWriteArrayList<>();

        void changed() {
            listeners.forEach(Runnable::run);
        }

        @Override
        public void addListener(Runnable listener) {
            listeners.add(listener);
        }

        @Override
        public void removeListener(Runnable listener) {
            listeners.remove(listener);
        }
    }

    @Before
    public void start() {
        service = new ServingService(new ServingSettings(4, 16, 2_000, 10_000, 2_000, 50), new FakeUsageJournal());
        service.bindEntitlements(keys);
        service.bindEngine(engine);
        service.trackerOpened(Set.of());
    }

    @After
    public void stop() {
        service.deactivate();
    }

    private static FakePluginSource encrypted(long id, String scheme, String keyId, byte[] file) {
        FakePluginSource p = FakePluginSource.plugin(id, "fm", "1.0", "unused");
        p.put("TOLLGATE-INF/model.json", "{\"name\":\"fm\",\"version\":\"1.0\",\"platform\":\"fake\",\"file\":"
                + "\"model.bin\",\"max_batch_size\":8,\"encryption\":{\"scheme\":\"" + scheme + "\",\"key_id\":\""
                + keyId + "\"}}");
        p.entries.put("TOLLGATE-INF/model.bin", file);
        return p;
    }

    private byte[] encryptedModel(String keyId) {
        return ModelCipher.encrypt(FakeEngine.model(7).getBytes(StandardCharsets.UTF_8), key, keyId, RANDOM);
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for " + what);
            }
            Thread.sleep(5);
        }
    }

    private PluginStatus failed(long id) throws InterruptedException {
        await("plugin " + id + " FAILED: " + service.plugins(), () -> service.plugins().stream()
                .anyMatch(p -> p.bundleId() == id && p.state() == ModelState.FAILED));
        return service.plugins().stream().filter(p -> p.bundleId() == id).findFirst().orElseThrow();
    }

    @Test
    public void anEncryptedModelIsDecryptedWithItsLicensesKeyAndServes() throws Exception {
        service.pluginStarted(encrypted(1, "AES-256-GCM", "k1", encryptedModel("k1")));
        await("fm READY", () -> service.model("fm", null).map(s -> s.state() == ModelState.READY).orElse(false));
        assertEquals("asked once, for the licensed version (OSGi syntax) and the descriptor's key id",
                List.of("fm 1.0.0 k1"), keys.asked);
        var out = service.infer(new InferenceRequest("fm", null, "r1", List.of(Tensor.ofFloats("image",
                new long[] {1, 4}, new float[4])), List.of(), null, null)).toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertEquals(1, out.outputs().size());
        assertEquals(1, keys.handedOut.size());
        assertArrayEquals("the key array is zeroed after use", new byte[32], keys.handedOut.get(0));
    }

    @Test
    public void eachFailureIsTheFailedReason() throws Exception {
        // no key for this model in the license
        service.pluginStarted(encrypted(1, "AES-256-GCM", "k2", encryptedModel("k2")));
        String e1 = failed(1).error();
        assertTrue(e1, e1.contains("model file model.bin is encrypted: no model key: none with id k2"));

        // a changed byte in the encrypted file (GCM tag)
        byte[] tampered = encryptedModel("k1");
        tampered[tampered.length - 30] ^= 1;
        service.pluginStarted(encrypted(2, "AES-256-GCM", "k1", tampered));
        String e2 = failed(2).error();
        assertTrue(e2, e2.contains("is encrypted: tampered entry: the encrypted model file does not authenticate"));

        // an unknown scheme: the key is never asked for
        int asked = keys.asked.size();
        service.pluginStarted(encrypted(3, "ROT13", "k1", encryptedModel("k1")));
        String e3 = failed(3).error();
        assertTrue(e3, e3.contains("unsupported encryption: scheme \"ROT13\""));
        assertEquals(asked, keys.asked.size());

        // the key wrapped for another device
        keys.failure = new LicenseException(Refusal.WRONG_DEVICE, "wrong device: model key k1 in license L is"
                + " wrapped for wrap key ab..., and this device's wrap key is cd...");
        service.pluginStarted(encrypted(4, "AES-256-GCM", "k1", encryptedModel("k1")));
        String e4 = failed(4).error();
        assertTrue(e4, e4.contains("is encrypted: wrong device: model key k1 in license L is wrapped for wrap key"));

        // the ciphertext with the descriptor's encryption field removed: never handed to the engine as a model
        FakePluginSource bare = FakePluginSource.plugin(5, "fm", "1.0", "unused");
        bare.put("TOLLGATE-INF/model.json", "{\"name\":\"fm\",\"version\":\"1.0\",\"platform\":\"fake\","
                + "\"file\":\"model.bin\",\"max_batch_size\":8}");
        bare.entries.put("TOLLGATE-INF/model.bin", encryptedModel("k1"));
        service.pluginStarted(bare);
        String e5 = failed(5).error();
        assertTrue(e5, e5.contains("is an encrypted model (it starts with the TGEM header) but")
                && e5.contains("has no 'encryption' field"));
        assertEquals("nothing reached the engine", 0, engine.loads.get());
    }

    @Test
    public void aLicenseCarryingTheKeyArrivingLaterLoadsTheModelWithoutARestart() throws Exception {
        keys.failure = new LicenseException(Refusal.NO_MODEL_KEY, "no model key: license L carries none");
        service.pluginStarted(encrypted(1, "AES-256-GCM", "k1", encryptedModel("k1")));
        assertTrue(failed(1).error().contains("no model key"));
        byte[] tampered = encryptedModel("k1");
        tampered[tampered.length - 1] ^= 1;
        service.pluginStarted(encrypted(2, "AES-256-GCM", "k1", tampered));
        failed(2);
        int asked = keys.asked.size();

        keys.failure = null;                    // the new license carries the key
        keys.changed();
        await("fm READY", () -> service.model("fm", null).map(s -> s.state() == ModelState.READY).orElse(false));
        // both waited for a key; with it, the tampered one fails for its file, which no license cures
        await("plugin 2 tampered: " + service.plugins(), () -> service.plugins().stream().anyMatch(p -> p.bundleId() == 2
                && p.state() == ModelState.FAILED && p.error().contains("tampered entry")));
        assertEquals(asked + 2, keys.asked.size());
        keys.changed();
        Thread.sleep(300);
        assertEquals("neither the ready nor the tampered plugin is loaded again: " + keys.asked, asked + 2,
                keys.asked.size());
    }

    @Test
    public void aMalformedEncryptionFieldIsRefused() throws Exception {
        FakePluginSource p = encrypted(1, "AES-256-GCM", "k1", encryptedModel("k1"));
        p.put("TOLLGATE-INF/model.json", "{\"name\":\"fm\",\"version\":\"1.0\",\"platform\":\"fake\",\"file\":"
                + "\"model.bin\",\"encryption\":\"AES-256-GCM\"}");
        service.pluginStarted(p);
        String e = failed(1).error();
        assertTrue(e, e.contains("field 'encryption' must be {\"scheme\": \"AES-256-GCM\", \"key_id\""));
    }
}

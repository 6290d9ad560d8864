package io.tollgate.serving.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/** Test-only plugin: a bundle id, a revision and a map of entries. */
class FakePluginSource implements PluginSource {
    private static final AtomicLong REVISIONS = new AtomicLong();

    private final long bundleId;
    private final String symbolicName;
    private final String version;
    private final String revision = "r" + REVISIONS.incrementAndGet();
    final Map<String, byte[]> entries = new HashMap<>();
    String declaredModel;
    String declaredModelVersion;
    String descriptorPath = DEFAULT_DESCRIPTOR;
    /** What resolveProblem reports; empty = it resolves. */
    volatile Optional<String> resolveProblem = Optional.empty();
    final java.util.concurrent.atomic.AtomicInteger resolveAttempts = new java.util.concurrent.atomic.AtomicInteger();
    /** What the plugin guard says of it; empty = it is data only. */
    volatile Optional<String> refusal = Optional.empty();
    /** True when {@link #refusal} is the licensing decision. */
    volatile boolean refusedByLicense;
    /** When set, a read of the plugin's files waits for it (a plugin that is slow to read). */
    volatile java.util.concurrent.CountDownLatch readGate;

    FakePluginSource(long bundleId, String symbolicName, String version) {
        this.bundleId = bundleId;
        this.symbolicName = symbolicName;
        this.version = version;
    }

    /** A plugin for model {@code name} {@code modelVersion} whose model file is {@code modelText} (see {@link FakeEngine}). */
    static FakePluginSource plugin(long bundleId, String name, String modelVersion, String modelText) {
        FakePluginSource p = new FakePluginSource(bundleId, "io.acme." + name, modelVersion);
        p.declaredModel = name;
        p.declaredModelVersion = modelVersion;
        p.put("TOLLGATE-INF/model.json", "{\"name\":\"" + name + "\",\"version\":\"" + modelVersion
                + "\",\"platform\":\"fake\",\"file\":\"model.bin\",\"max_batch_size\":8}");
        p.put("TOLLGATE-INF/model.bin", modelText);
        return p;
    }

    FakePluginSource put(String path, String text) {
        entries.put(path, text.getBytes(StandardCharsets.UTF_8));
        return this;
    }

    FakePluginSource put(String path, byte[] bytes) {
        entries.put(path, bytes.clone());
        return this;
    }

    FakePluginSource remove(String path) {
        entries.remove(path);
        return this;
    }

    @Override
    public long bundleId() {
        return bundleId;
    }

    @Override
    public String symbolicName() {
        return symbolicName;
    }

    @Override
    public String version() {
        return version;
    }

    @Override
    public String location() {
        return "file:/plugins/" + symbolicName + "-" + version + ".jar";
    }

    @Override
    public String revisionKey() {
        return bundleId + "@" + revision;
    }

    @Override
    public String declaredModel() {
        return declaredModel;
    }

    @Override
    public String declaredModelVersion() {
        return declaredModelVersion;
    }

    @Override
    public String descriptorPath() {
        return descriptorPath;
    }

    @Override
    public byte[] read(String path) throws IOException {
        java.util.concurrent.CountDownLatch gate = readGate;
        if (gate != null) {
            try {
                gate.await(20, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        byte[] b = entries.get(path);
        return b == null ? null : b.clone();
    }

    @Override
    public Optional<String> refusal() {
        return refusal;
    }

    @Override
    public boolean refusedByLicense() {
        return refusedByLicense;
    }

    @Override
    public Optional<String> resolveProblem() {
        resolveAttempts.incrementAndGet();
        return resolveProblem;
    }
}

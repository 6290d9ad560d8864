package io.tollgate.sync.internal;

import static io.tollgate.sync.internal.TestDevice.await;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import io.tollgate.sync.SyncStatus.LinkState;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * License files from the cloud over {@code tollgate/v1/{device}/cmd} (docs/sync-protocol.md, "Commands"): a real
 * mosquitto, the real uplink, and a plain Paho client publishing as the cloud would.
 */
public class CloudCommandsTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private Mosquitto broker;
    private TestDevice device;
    private MqttUsageUplink uplink;
    private MqttAsyncClient cloud;
    private Path licenses;

    @Before
    public void setUp() throws Exception {
        broker = new Mosquitto(tmp.newFolder("broker").toPath());
        device = new TestDevice(tmp.newFolder("data").toPath());
        licenses = tmp.getRoot().toPath().resolve("install/licenses");
        cloud = new MqttAsyncClient(broker.url(), "test-cloud", new MemoryPersistence());
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(true);
        cloud.connect(o).waitForCompletion(5000);
    }

    @After
    public void tearDown() throws Exception {
        if (uplink != null) {
            uplink.deactivate();
        }
        cloud.disconnect().waitForCompletion(5000);
        cloud.close();
        device.close();
        broker.close();
    }

    private void start(Path licensesDir) throws Exception {
        Map<String, Object> cfg = new HashMap<>();
        cfg.put("broker.url", broker.url());
        cfg.put("reconnect.min.ms", 200L);
        cfg.put("reconnect.max.ms", 1000L);
        uplink = device.uplink(cfg, licensesDir);
        await("the uplink to connect", 10_000, () -> uplink.syncStatus().link() == LinkState.ONLINE);
    }

    private void push(String json) throws Exception {
        push(json.getBytes(StandardCharsets.UTF_8));
    }

    private void push(byte[] payload) throws Exception {
        cloud.publish("tollgate/v1/" + device.id() + "/cmd", payload, 1, false).waitForCompletion(5000);
    }

    private long count(String key) {
        return uplink.commandCounts().getOrDefault(key, 0L);
    }

    static byte[] envelope(String format, String payloadJson) {
        return ("{\"format\":\"" + format + "\",\"payload\":\"" + Base64.getEncoder().encodeToString(
                payloadJson.getBytes(StandardCharsets.UTF_8)) + "\",\"signature\":\"" + Base64.getEncoder()
                .encodeToString(new byte[64]) + "\"}").getBytes(StandardCharsets.UTF_8);
    }

    static String command(String command, byte[] file) {
        return "{\"command\":\"" + command + "\",\"file\":\"" + Base64.getEncoder().encodeToString(file) + "\"}";
    }

    static String contentName(byte[] file, String ext) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(file), 0, 8) + ext;
    }

    private List<String> folder() throws Exception {
        if (!Files.isDirectory(licenses)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(licenses)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    public void aPushedLicenseAndRevocationListLandInTheFolderNamedFromTheirContent() throws Exception {
        start(licenses);
        byte[] lic = envelope("tollgate-license/1", "{\"license_id\":\"L-1\",\"plugin\":\"fashion-mnist\"}");
        push(command("license", lic));
        Path licFile = licenses.resolve(contentName(lic, ".lic"));
        await("the license file", 10_000, () -> Files.isRegularFile(licFile));
        assertArrayEquals(lic, Files.readAllBytes(licFile));

        byte[] rev = envelope("tollgate-revocations/1", "{\"revoked\":[\"L-0\"]}");
        push(command("revocations", rev));
        Path revFile = licenses.resolve(contentName(rev, ".revocations"));
        await("the revocation list", 10_000, () -> Files.isRegularFile(revFile));
        assertArrayEquals(rev, Files.readAllBytes(revFile));

        push(command("license", lic)); // QoS 1 may deliver twice: the same file again changes nothing
        await("the duplicate counted", 10_000, () -> count("license duplicate") == 1);
        assertEquals(List.of(licFile.getFileName().toString(), revFile.getFileName().toString()).stream().sorted()
                .toList(), folder()); // no temporary files left behind
        assertEquals(1, count("license installed"));
        assertEquals(1, count("revocations installed"));
        assertTrue(uplink.syncStatus().commands().toString(), uplink.syncStatus().commands().contains(
                new io.tollgate.sync.SyncStatus.CommandCount("license", "duplicate", 1)));
    }

    @Test
    public void hostilePayloadsAreDroppedWithAWarningAndTheLinkGoesOn() throws Exception {
        start(licenses);
        CloudCommands commands = uplink.commands();
        byte[] lic = envelope("tollgate-license/1", "{\"license_id\":\"L-2\"}");
        byte[] big = envelope("tollgate-license/1", "x".repeat(CloudCommands.MAX_FILE_BYTES));
        Path outside = tmp.getRoot().toPath().resolve("install/evil.lic");
        Map<String, String> hostile = new java.util.LinkedHashMap<>();
        hostile.put(command("license", big), "larger than");
        hostile.put("{\"command\":\"license\",\"file\":\"%%%not base64%%%\"}", "not base64");
        hostile.put("{\"command\":\"license\",\"file\":\"" + Base64.getEncoder().encodeToString(lic)
                + "\",\"name\":\"../evil.lic\"}", "unknown member 'name'");
        hostile.put("{\"command\":\"exec\",\"file\":\"" + Base64.getEncoder().encodeToString(lic) + "\"}",
                "unknown command 'exec'");
        hostile.put(command("license", envelope("tollgate-revocations/1", "{}")),
                "not a tollgate-license/1 envelope");
        hostile.put(command("revocations", "{\"format\":\"tollgate-revocations/1\"}".getBytes(StandardCharsets.UTF_8)),
                "lacks a string");
        hostile.put("not json at all", "not JSON");
        hostile.put("{\"command\":\"license\",\"command\":\"license\",\"file\":\"\"}", "twice");
        long refused = 0;
        for (Map.Entry<String, String> h : hostile.entrySet()) {
            push(h.getKey());
            long want = ++refused;
            await("refusal " + want + " (" + h.getValue() + ")", 10_000, () -> refusedCount() == want);
            assertTrue(commands.lastWarning() + " names " + h.getValue(), commands.lastWarning().contains(h.getValue()));
        }
        assertEquals(List.of(), folder());
        assertFalse(Files.exists(outside));
        assertEquals(LinkState.ONLINE, uplink.syncStatus().link());
        assertEquals(1, uplink.syncStatus().connects());

        push(command("license", lic)); // the sender survived every one of them
        Path licFile = licenses.resolve(contentName(lic, ".lic"));
        await("the genuine license after the hostile ones", 10_000, () -> Files.isRegularFile(licFile));
        // oversized (not parsed), unknown command, not JSON, two "command" members: no command to count them under
        assertEquals(4, count("unknown refused"));
        assertEquals(3, count("license refused"));
        assertEquals(1, count("revocations refused"));
    }

    private long refusedCount() {
        return uplink.commandCounts().entrySet().stream().filter(e -> e.getKey().endsWith(" refused"))
                .mapToLong(Map.Entry::getValue).sum();
    }

    @Test
    public void withoutALicensesFolderCommandsAreDroppedAndCounted() throws Exception {
        start(null);
        byte[] lic = envelope("tollgate-license/1", "{\"license_id\":\"L-3\"}");
        push(command("license", lic));
        await("the drop counted", 10_000, () -> count("license disabled") == 1);
        assertEquals(List.of(), folder());
    }

    @Test
    public void parseRefusesOversizedMessagesBeforeParsing() {
        byte[] huge = new byte[CloudCommands.MAX_MESSAGE_BYTES + 1];
        java.util.Arrays.fill(huge, (byte) '{');
        try {
            CloudCommands.parse(huge);
            throw new AssertionError("parsed");
        } catch (Exception e) {
            assertTrue(e.getMessage(), e.getMessage().contains("larger than"));
        }
    }

    @Test
    public void theLicensesFolderIsTheFirstOfTheLaunchersList() {
        String before = System.getProperty(MqttUsageUplink.LICENSES_PROPERTY);
        try {
            System.setProperty(MqttUsageUplink.LICENSES_PROPERTY, "/opt/tollgate/licenses" + java.io.File.pathSeparator
                    + "/srv/more-licenses");
            assertEquals(Path.of("/opt/tollgate/licenses"), MqttUsageUplink.licensesDir(null));
            System.setProperty(MqttUsageUplink.LICENSES_PROPERTY, " ");
            assertEquals(null, MqttUsageUplink.licensesDir(null));
            System.clearProperty(MqttUsageUplink.LICENSES_PROPERTY);
            assertEquals(null, MqttUsageUplink.licensesDir(null));
        } finally {
            if (before != null) {
                System.setProperty(MqttUsageUplink.LICENSES_PROPERTY, before);
            }
        }
    }
}

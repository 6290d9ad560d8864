package io.tollgate.sync.internal;

import static io.tollgate.sync.internal.TestDevice.await;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.tollgate.sync.SyncStatus;
import io.tollgate.sync.SyncStatus.LinkState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The device logs in to a broker that refuses anonymous clients: user name = the device id, password from
 * {@code mqtt.password.file} (mosquitto's own password file, made with mosquitto_passwd).
 */
public class BrokerLoginTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    @Test
    public void connectsWithTheDeviceIdAndThePasswordFileAndIsRefusedWithAWrongOne() throws Exception {
        Path brokerDir = tmp.newFolder("broker").toPath();
        try (TestDevice device = new TestDevice(tmp.newFolder("data").toPath())) {
            Path passwd = brokerDir.resolve("passwd");
            Process p = new ProcessBuilder("/usr/bin/mosquitto_passwd", "-b", "-c", passwd.toString(), device.id(),
                    "right-password").redirectErrorStream(true).start();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            assertEquals(new String(p.getInputStream().readAllBytes()), 0, p.exitValue());
            try (Mosquitto broker = new Mosquitto(brokerDir, "password_file " + passwd + "\n", false)) {
                Path pw = tmp.getRoot().toPath().resolve("mqtt-password");
                Files.writeString(pw, "right-password\n");
                Files.setPosixFilePermissions(pw, PosixFilePermissions.fromString("rw-------"));
                Map<String, Object> cfg = new HashMap<>();
                cfg.put("broker.url", broker.url());
                cfg.put("mqtt.password.file", pw.toString());
                cfg.put("max.delay.ms", 50L);
                cfg.put("reconnect.min.ms", 200L);
                cfg.put("reconnect.max.ms", 500L);
                MqttUsageUplink uplink = device.uplink(cfg);
                try {
                    device.append(100);
                    long last = device.settledLastSeq();
                    await("records published as " + device.id(), 15_000,
                            () -> uplink.syncStatus().recordsSent() >= last);
                    assertEquals(LinkState.ONLINE, uplink.syncStatus().link());
                } finally {
                    uplink.deactivate();
                }

                // the file is read at every connect: a wrong password there is refused by the broker
                Files.writeString(pw, "wrong-password\n");
                cfg.put("directory", tmp.newFolder("sync2").toString());
                MqttUsageUplink refused = device.uplink(cfg);
                try {
                    await("a refused login", 15_000, () -> !refused.syncStatus().lastError().isEmpty());
                    SyncStatus s = refused.syncStatus();
                    assertEquals(LinkState.CONNECTING, s.link());
                    assertEquals(0, s.connects());
                    assertTrue(s.lastError(), s.lastError().toLowerCase().contains("not authori")
                            || s.lastError().toLowerCase().contains("bad user name or password"));
                } finally {
                    refused.deactivate();
                }
            }
        }
    }
}

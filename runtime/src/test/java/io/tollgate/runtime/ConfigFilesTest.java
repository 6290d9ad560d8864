package io.tollgate.runtime;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class ConfigFilesTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    @Test
    public void readsPidsAppliesOverridesAndPlaceholders() throws Exception {
        Path conf = tmp.newFolder("conf").toPath();
        Files.writeString(conf.resolve("io.tollgate.endpoint.cfg"), "# comment\nport=8000\nhost = 127.0.0.1\n");
        Files.writeString(conf.resolve("io.tollgate.metering.journal.cfg"), "directory=${tollgate.data}/usage\n");
        Files.writeString(conf.resolve("README.txt"), "not a config");
        ConfigFiles files = new ConfigFiles(conf, Map.of("io.tollgate.endpoint", Map.of("port", "9123")),
                Map.of("tollgate.data", "/var/lib/tollgate"));
        Map<String, Map<String, String>> all = files.read();
        assertEquals(2, all.size());
        assertEquals("9123", all.get("io.tollgate.endpoint").get("port"));
        assertEquals("127.0.0.1", all.get("io.tollgate.endpoint").get("host"));
        assertEquals("/var/lib/tollgate/usage", all.get("io.tollgate.metering.journal").get("directory"));
    }

    /** Issue 12: the TensorRT engine's profile key is the chosen firmware profile's name, unless the owner's wins. */
    @Test
    public void theTensorRtEngineGetsTheProfileNameUnlessTheOwnerSetsIt() throws Exception {
        Path conf = tmp.newFolder("conf").toPath();
        Map<String, Map<String, String>> layer = new io.tollgate.tools.profile.FirmwareProfile("jetson-orin-nano-jp6",
                "", Map.of(), java.util.List.of(), Map.of("io.tollgate.serving", Map.of("worker.threads", "0")), null)
                .layer();
        Map<String, Map<String, String>> all = new ConfigFiles(conf, Map.of(), Map.of(), layer).read();
        assertEquals(Map.of("profile", "jetson-orin-nano-jp6"), all.get("io.tollgate.engine.tensorrt"));
        assertEquals(Map.of("worker.threads", "0"), all.get("io.tollgate.serving"));

        Files.writeString(conf.resolve("io.tollgate.engine.tensorrt.cfg"), "profile=my-orin-build\n");
        all = new ConfigFiles(conf, Map.of(), Map.of(), layer).read();
        assertEquals("the owner's conf wins", Map.of("profile", "my-orin-build"), all.get("io.tollgate.engine.tensorrt"));

        Map<String, Map<String, String>> own = new io.tollgate.tools.profile.FirmwareProfile("x86-nvidia", "",
                Map.of(), java.util.List.of(), Map.of("io.tollgate.engine.tensorrt", Map.of("profile", "x86-ampere")),
                null).layer();
        assertEquals("a profile that names its own engine profile keeps it", "x86-ampere",
                own.get("io.tollgate.engine.tensorrt").get("profile"));
    }

    /** Issue 12: the firmware profile's values are defaults; a key in the owner's conf/PID.cfg wins, key by key. */
    @Test
    public void theOwnersConfWinsOverTheProfileKeyByKey() throws Exception {
        Path conf = tmp.newFolder("conf").toPath();
        Files.writeString(conf.resolve("io.tollgate.serving.cfg"), "worker.threads=3\n");
        Files.writeString(conf.resolve("io.tollgate.profile.cfg"), "name=x86-cpu\n");
        Map<String, Map<String, String>> profile = Map.of(
                "io.tollgate.serving", Map.of("worker.threads", "0", "max.queue.per.model", "64"),
                "io.tollgate.accelerators", Map.of("precision", "fp16"));
        ConfigFiles files = new ConfigFiles(conf, Map.of("io.tollgate.serving", Map.of("drain.timeout.ms", "5")),
                Map.of(), profile);
        Map<String, Map<String, String>> all = files.read();
        assertEquals(Map.of("worker.threads", "3", "max.queue.per.model", "64", "drain.timeout.ms", "5"),
                all.get("io.tollgate.serving"));
        assertEquals(Map.of("precision", "fp16"), all.get("io.tollgate.accelerators"));
        assertEquals("io.tollgate.profile.cfg is the launcher's, not pushed", 2, all.size());
    }

    @Test
    public void unknownPlaceholderNamesFileAndKey() throws Exception {
        Path conf = tmp.newFolder("conf").toPath();
        Files.writeString(conf.resolve("x.cfg"), "dir=${nope.nothing}/a\n");
        try {
            new ConfigFiles(conf, Map.of(), Map.of()).read();
            fail();
        } catch (CommandException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("x.cfg") && e.getMessage().contains("'dir'")
                    && e.getMessage().contains("nope.nothing"));
        }
    }

    @Test
    public void overridesWorkWithoutAConfFolder() throws Exception {
        ConfigFiles files = new ConfigFiles(tmp.getRoot().toPath().resolve("missing"),
                Map.of("io.tollgate.endpoint", Map.of("port", "1")), Map.of());
        assertEquals(Map.of("io.tollgate.endpoint", Map.of("port", "1")), files.read());
    }
}

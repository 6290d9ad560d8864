package io.tollgate.serving.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/** The {@code route} object of {@code conf/models/{m}.json}: defaults, files by reference, every refusal by field. */
public class RouteConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private Path conf;

    @Before
    public void setUp() throws Exception {
        conf = Files.createTempDirectory("route-config-test");
    }

    @After
    public void tearDown() throws Exception {
        try (var files = Files.walk(conf)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private RouteConfig parse(String json) throws ModelConfigs.Fault {
        try {
            return RouteConfig.parse(JSON.readTree(json.replace('\'', '"')), "fashion-mnist", conf);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    private void refused(String json, String field, String... words) {
        try {
            RouteConfig r = parse(json);
            fail("accepted " + json + " as " + r);
        } catch (ModelConfigs.Fault f) {
            assertEquals(f.getMessage(), field, f.field());
            for (String w : words) {
                assertTrue(f.getMessage() + " should say " + w, f.getMessage().contains(w));
            }
        }
    }

    private Path keyFile(String content, String mode) throws Exception {
        Path k = conf.resolve("b.key");
        Files.writeString(k, content);
        Files.setPosixFilePermissions(k, PosixFilePermissions.fromString(mode));
        return k;
    }

    @Test
    public void defaultsAndLocal() throws Exception {
        assertNull(parse("{'mode':'local'}"));
        assertNull(parse("{}"));
        RouteConfig r = parse("{'mode':'local-first','name':'plant-b','url':'http://10.0.0.7:8000/'}");
        assertEquals(RouteConfig.Mode.LOCAL_FIRST, r.mode());
        assertEquals("http://10.0.0.7:8000", r.url());
        assertEquals("fashion-mnist", r.remoteModel());
        assertEquals(RouteConfig.DEFAULT_TIMEOUT_MS, r.timeoutMs());
        assertEquals(RouteConfig.DEFAULT_FAILURE_THRESHOLD, r.failureThreshold());
        assertEquals(RouteConfig.DEFAULT_OPEN_MS, r.openMs());
        assertEquals(64L << 20, r.maxResponseBytes());
        assertTrue(r.binaryData());
        assertEquals("", r.apiKey());
    }

    @Test
    public void everyFieldIsRead() throws Exception {
        keyFile("tg_secret_1234\n", "rw-------");
        RouteConfig r = parse("{'mode':'remote','name':'plant-b','url':'https://b.example:8443','api_key_file':"
                + "'b.key','timeout_ms':2500,'model':'fm-remote','circuit_breaker':{'failure_threshold':3,"
                + "'open_ms':1000},'max_response_bytes':4096,'binary_data':false}");
        assertEquals(RouteConfig.Mode.REMOTE, r.mode());
        assertEquals("tg_secret_1234", r.apiKey());
        assertEquals(2500, r.timeoutMs());
        assertEquals("fm-remote", r.remoteModel());
        assertEquals(3, r.failureThreshold());
        assertEquals(1000, r.openMs());
        assertEquals(4096, r.maxResponseBytes());
        assertFalse(r.binaryData());
        assertFalse("the key never appears in the text logged", r.toString().contains("secret"));
    }

    @Test
    public void refusalsNameTheField() throws Exception {
        refused("[]", "route", "an object");
        refused("{'mode':'cloud'}", "route.mode", "local-first");
        refused("{'mode':'remote','url':'http://b:1'}", "route.name", "missing");
        refused("{'mode':'remote','name':'b c','url':'http://b:1'}", "route.name", "letters");
        refused("{'mode':'remote','name':'b'}", "route.url", "missing");
        refused("{'mode':'remote','name':'b','url':'ftp://b:1'}", "route.url", "http or https");
        refused("{'mode':'remote','name':'b','url':'http://user:pw@b:1'}", "route.url", "api_key_file");
        refused("{'mode':'remote','name':'b','url':'http://b:1/?x=1'}", "route.url", "query");
        refused("{'mode':'remote','name':'b','url':'http:///x'}", "route.url", "no host");
        refused("{'mode':'remote','name':'b','url':'http://b:1','timeout_ms':0}", "route.timeout_ms", "1..600000");
        refused("{'mode':'remote','name':'b','url':'http://b:1','api_key':'inline'}", "route.api_key",
                "not one Tollgate knows", "api_key_file");
        refused("{'mode':'remote','name':'b','url':'http://b:1','circuit_breaker':{'threshold':1}}",
                "route.circuit_breaker.threshold", "failure_threshold");
        refused("{'mode':'remote','name':'b','url':'http://b:1','circuit_breaker':{'open_ms':5}}",
                "route.circuit_breaker.open_ms", "100..");
        refused("{'mode':'remote','name':'b','url':'http://b:1','binary_data':'yes'}", "route.binary_data", "true");
        refused("{'mode':'remote','name':'b','url':'http://b:1','ca_file':'ca.pem'}", "route.ca_file", "https");
        refused("{'mode':'remote','name':'b','url':'https://b:1','ca_file':'missing.pem'}", "route.ca_file",
                "missing.pem");
        Files.writeString(conf.resolve("junk.pem"), "not a certificate");
        refused("{'mode':'remote','name':'b','url':'https://b:1','ca_file':'junk.pem'}", "route.ca_file", "junk.pem");
    }

    @Test(timeout = 20_000)
    public void theCaFileMustBeARegularFileOfBoundedSize() throws Exception {
        // before: a FIFO blocked the model-configuration thread for ever, /dev/zero was read until memory ran out
        Path fifo = conf.resolve("ca.fifo");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        assertEquals(0, mkfifo.waitFor());
        refused("{'mode':'remote','name':'b','url':'https://b:1','ca_file':'ca.fifo'}", "route.ca_file",
                "ca.fifo", "not a regular file");
        refused("{'mode':'remote','name':'b','url':'https://b:1','ca_file':'/dev/zero'}", "route.ca_file",
                "/dev/zero", "not a regular file");
        refused("{'mode':'remote','name':'b','url':'https://b:1','ca_file':'.'}", "route.ca_file",
                "not a regular file");
        byte[] big = new byte[RemoteRoute.MAX_CA_BYTES + 1];
        java.util.Arrays.fill(big, (byte) 'A');
        Files.write(conf.resolve("big.pem"), big);
        refused("{'mode':'remote','name':'b','url':'https://b:1','ca_file':'big.pem'}", "route.ca_file",
                "big.pem", "larger than " + RemoteRoute.MAX_CA_BYTES + " bytes");
    }

    @Test(timeout = 20_000)
    public void aKeyFileThatIsNotARegularFileIsRefusedForWhatItIs() throws Exception {
        // before: a FIFO (or a folder) was refused as "not a regular file (missing, or a symbolic link)": neither
        Path fifo = conf.resolve("b.key");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor());
        String route = "{'mode':'remote','name':'b','url':'http://b:1','api_key_file':'b.key'}";
        refused(route, "route.api_key_file", "b.key", "FIFO, socket or device");
        Files.delete(fifo);
        refused(route, "route.api_key_file", "b.key", "does not exist");
        Files.createDirectory(fifo);
        refused(route, "route.api_key_file", "b.key", "a folder");
    }

    @Test
    public void theKeyFileMustBeTheOwnersOnly() throws Exception {
        String route = "{'mode':'remote','name':'b','url':'http://b:1','api_key_file':'b.key'}";
        refused(route, "route.api_key_file", "not a regular file");
        keyFile("tg_key", "rw-r--r--");
        refused(route, "route.api_key_file", "chmod 600");
        keyFile("two words", "rw-------");
        refused(route, "route.api_key_file", "one API key");
        keyFile("tg_key", "r--------");
        assertEquals("tg_key", parse(route).apiKey());
        Path link = conf.resolve("link.key");
        Files.createSymbolicLink(link, conf.resolve("b.key"));
        refused(route.replace("b.key", "link.key"), "route.api_key_file", "symbolic link");
    }

    @Test
    public void aWatchedFileWithARouteIsAppliedAndABadOneRefusedWithTheField() throws Exception {
        Path models = Files.createDirectories(conf.resolve("models"));
        java.util.concurrent.ScheduledExecutorService lifecycle =
                java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        ModelRepository repository = new ModelRepository(1000, lifecycle);
        RouteTable routes = new RouteTable(Runnable::run);
        ModelConfigWatch watch = new ModelConfigWatch(models, repository, routes);
        Files.writeString(models.resolve("fm.json"), "{\"max_batch_size\":4,\"route\":{\"mode\":\"remote\","
                + "\"name\":\"plant-b\",\"url\":\"http://127.0.0.1:9\"}}");
        watch.scan();
        assertEquals(watch.problems().toString(), 0, watch.problems().size());
        assertEquals("plant-b", routes.of("fm").config().name());
        JsonNode applied = watch.override("fm");
        assertFalse("the route is not part of the model configuration", applied.has("route"));
        assertEquals(4, applied.get("max_batch_size").intValue());

        Files.writeString(models.resolve("fm.json"), "{\"route\":{\"mode\":\"remote\",\"name\":\"plant-b\","
                + "\"url\":\"gopher://x\"}}");
        watch.scan();
        assertTrue(watch.problems().get("fm"), watch.problems().get("fm").contains("field 'route.url'"));
        assertEquals("the route in force stays", "http://127.0.0.1:9", routes.of("fm").config().url());

        Files.delete(models.resolve("fm.json"));
        watch.scan();
        assertNull("the file removed: served here only", routes.of("fm"));
        lifecycle.shutdownNow();
    }

    /** Defect 5: the key file stays inside conf/: no absolute path, no way out, no link on the way, no hard link. */
    @Test
    public void theKeyFileIsConfinedToTheConfigurationFolder() throws Exception {
        Path outside = Files.createTempDirectory("route-config-outside");
        try {
            Path secret = outside.resolve("device.key");
            Files.writeString(secret, "tg_not_for_routes");
            Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
            String route = "{'mode':'remote','name':'b','url':'http://b:1','api_key_file':'%s'}";

            refused(String.format(route, secret), "route.api_key_file", "absolute path", "outside the configuration"
                    + " folder");
            String up = conf.relativize(secret).toString();   // ../route-config-outside.../device.key
            refused(String.format(route, up), "route.api_key_file", "leads out of the configuration folder");
            refused(String.format(route, "keys/../../" + outside.getFileName() + "/device.key"), "route.api_key_file",
                    "leads out");
            refused(String.format(route, "."), "route.api_key_file", "leads out");

            Files.createSymbolicLink(conf.resolve("keys"), outside);   // conf/keys -> a folder outside
            refused(String.format(route, "keys/device.key"), "route.api_key_file", "symbolic link");
            Files.delete(conf.resolve("keys"));

            Path keys = Files.createDirectories(conf.resolve("keys"));
            Files.createLink(keys.resolve("hard.key"), secret);   // a second name for a file outside
            refused(String.format(route, "keys/hard.key"), "route.api_key_file", "hard link");

            Path own = keys.resolve("plant-b.key");
            Files.writeString(own, "tg_plant_b");
            Files.setPosixFilePermissions(own, PosixFilePermissions.fromString("rwx------"));
            refused(String.format(route, "keys/plant-b.key"), "route.api_key_file", "chmod 600");
            Files.setPosixFilePermissions(own, PosixFilePermissions.fromString("rw-------"));
            assertEquals("a documented keys folder under conf/ is fine", "tg_plant_b",
                    parse(String.format(route, "keys/plant-b.key")).apiKey());
            assertEquals("tg_plant_b", parse(String.format(route, "keys/./plant-b.key")).apiKey());
        } finally {
            try (var files = Files.walk(outside)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /**
     * Defect 4: one breaker per route name, shared by the models routed to it; a file that gives the name another
     * url or other breaker settings is refused naming the field and the model in force, and applied once that goes.
     */
    @Test
    public void modelsRoutedToOneNameShareItsBreakerAndMayNotDisagreeOnIt() throws Exception {
        Path models = Files.createDirectories(conf.resolve("models"));
        java.util.concurrent.ScheduledExecutorService lifecycle =
                java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        try {
            ModelRepository repository = new ModelRepository(1000, lifecycle);
            RouteTable routes = new RouteTable(Runnable::run);
            ModelConfigWatch watch = new ModelConfigWatch(models, repository, routes);
            String route = "{'route':{'mode':'remote','name':'plant-b','url':'%s','timeout_ms':%d,"
                    + "'circuit_breaker':{'failure_threshold':%d,'open_ms':30000}}}";
            Files.writeString(models.resolve("a.json"), String.format(route, "http://127.0.0.1:9", 1000, 2)
                    .replace('\'', '"'));
            Files.writeString(models.resolve("b.json"), String.format(route, "http://127.0.0.1:9", 2000, 2)
                    .replace('\'', '"'));
            watch.scan();
            assertEquals(watch.problems().toString(), 0, watch.problems().size());
            CircuitBreaker shared = routes.of("a").breaker();
            assertTrue("one breaker for the route name", shared == routes.of("b").breaker());
            shared.failure("connection refused");
            shared.failure("connection refused");
            assertEquals("the remote is down for both", "open", routes.of("b").status().breaker());

            Files.writeString(models.resolve("c.json"), String.format(route, "http://127.0.0.1:9", 1000, 7)
                    .replace('\'', '"'));
            Files.writeString(models.resolve("d.json"), String.format(route, "http://127.0.0.1:10", 1000, 2)
                    .replace('\'', '"'));
            watch.scan();
            String c = watch.problems().get("c");
            assertTrue(c, c.contains("field 'route.circuit_breaker'") && c.contains("failure_threshold 7")
                    && c.contains("model 'a'") && c.contains("one route name is one remote server"));
            String d = watch.problems().get("d");
            assertTrue(d, d.contains("field 'route.url'") && d.contains("http://127.0.0.1:10"));
            assertNull(routes.of("c"));
            assertNull(routes.of("d"));

            // a changed timeout keeps the shared breaker (same remote); the conflicting files wait for a and b to go
            Files.writeString(models.resolve("b.json"), String.format(route, "http://127.0.0.1:9", 3000, 2)
                    .replace('\'', '"'));
            watch.scan();
            assertTrue(shared == routes.of("b").breaker());
            Files.delete(models.resolve("a.json"));
            Files.delete(models.resolve("b.json"));
            watch.scan();
            assertNull(routes.of("a"));
            assertEquals("c comes first by name and is applied now", 7, routes.of("c").config().failureThreshold());
            assertTrue("and d still disagrees with c", watch.problems().get("d").contains("model 'c'"));
            assertEquals("a new remote for the name: a new, closed breaker", "closed",
                    routes.of("c").status().breaker());
        } finally {
            lifecycle.shutdownNow();
        }
    }
}

package io.tollgate.tools.device;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.tollgate.tools.ToolRun;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * {@code device enroll} against a scripted HTTP server that answers as the billing API does (contract C1): what it
 * sends, what it writes, and its one-line errors. The real billing service: test-it's {@code EnrollIT}.
 */
public class EnrollCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CLOUD_PEM = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n"
            + "-----END PUBLIC KEY-----\n";

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private HttpServer server;
    private final AtomicReference<String> requestBody = new AtomicReference<>();
    private final AtomicReference<String> authorization = new AtomicReference<>();
    private volatile int status = 201;
    private volatile String answer;
    private Path data;
    private Path conf;

    @Before
    public void setUp() throws Exception {
        data = tmp.getRoot().toPath().resolve("data");
        conf = tmp.newFolder("conf").toPath();
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1/devices", ex -> {
            try (InputStream in = ex.getRequestBody()) {
                requestBody.set(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
            authorization.set(ex.getRequestHeaders().getFirst("Authorization"));
            byte[] body = answer.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(status, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
    }

    @After
    public void tearDown() {
        server.stop(0);
    }

    private String billing() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private ToolRun enroll(String... extra) {
        String[] args = new String[8 + extra.length];
        System.arraycopy(new String[] {"device", "enroll", "--billing", billing(), "--data", data.toString(), "--conf",
            conf.toString()}, 0, args, 0, 8);
        System.arraycopy(extra, 0, args, 8, extra.length);
        return ToolRun.of(args);
    }

    private static String registered(String id, boolean mqtt) throws Exception {
        var o = JSON.createObjectNode().put("id", id).put("registered", true).put("cloud_public_key_pem", CLOUD_PEM);
        o.putArray("tenants").add("acme").add("globex");
        if (mqtt) {
            o.putObject("mqtt").put("username", id).put("password", "pw-0123456789");
        }
        return o.toString();
    }

    @Test
    public void registersWithTheTokenPinsTheCloudKeyAndConfiguresTheUplink() throws Exception {
        Files.writeString(conf.resolve("io.tollgate.sync.cfg"), "# the shipped file\nbroker.url=\n"
                + "# cloud key\ncloud.public.key.file=\nmax.records=2000\n");
        String id = ToolRun.of("device", "init", "--data", data.toString()).out().trim();
        answer = registered(id, true);
        ToolRun r = enroll("--token", "tgt_secret", "--tenant", "acme", "--tenant", "globex", "--mqtt",
                "tcp://127.0.0.1:1883");
        assertEquals(r.toString(), 0, r.code());
        assertTrue(r.out(), r.out().contains("Enrolled device " + id + " with " + billing() + " (tenants acme, globex)"));

        assertEquals("Bearer tgt_secret", authorization.get());
        JsonNode sent = JSON.readTree(requestBody.get());
        assertEquals(id, sent.path("id").asText());
        assertEquals(Files.readString(data.resolve("device/device.pub.pem")), sent.path("public_key_pem").asText());
        assertEquals("[\"acme\",\"globex\"]", sent.path("tenants").toString());

        assertEquals(CLOUD_PEM, Files.readString(conf.resolve("cloud.pub.pem")));
        Path pw = data.resolve("secrets/mqtt-password");
        assertEquals("pw-0123456789\n", Files.readString(pw));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(pw)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(pw.getParent())));

        String cfg = Files.readString(conf.resolve("io.tollgate.sync.cfg"));
        assertTrue(cfg, cfg.startsWith("# the shipped file\nbroker.url=tcp://127.0.0.1:1883\n# cloud key\n"
                + "cloud.public.key.file=${tollgate.conf}/cloud.pub.pem\nmax.records=2000\n"));
        Properties p = new Properties();
        p.load(new java.io.StringReader(cfg));
        assertEquals(id, p.getProperty("mqtt.username"));
        assertEquals("${tollgate.data}/secrets/mqtt-password", p.getProperty("mqtt.password.file"));
        assertEquals("tls.ca.file only when given", null, p.getProperty("tls.ca.file"));
        assertFalse("the token is not stored", cfg.contains("tgt_secret"));
    }

    @Test
    public void theTokenMayComeFromAnOwnerOnlyFileAndExactlyOneWayIsGiven() throws Exception {
        answer = registered("tg-1", false);
        Path file = tmp.newFile("enroll.token").toPath();
        Files.writeString(file, "tgb_from_file\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        ToolRun r = enroll("--token-file", file.toString());
        assertEquals(r.toString(), 1, r.code());
        assertTrue(r.err(), r.err().contains("has mode rw-r--r--; make it readable by its owner only (chmod 600"));
        assertEquals("nothing was sent", null, authorization.get());

        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        r = enroll("--token-file", file.toString());
        assertEquals(r.toString(), 0, r.code());
        assertEquals("Bearer tgb_from_file", authorization.get());

        assertEquals(2, enroll().code());
        assertEquals(2, enroll("--token", "t", "--token-file", file.toString()).code());
        assertEquals(3, enroll("--token-file", tmp.getRoot().toPath().resolve("missing").toString()).code());
    }

    @Test
    public void aDeviceNotBoundToTheKeylessTenantIsToldItsKeylessRequestsWillNotBeBilled() throws Exception {
        answer = registered("tg-2", false);   // bound to acme and globex, not default
        ToolRun r = enroll("--token", "t", "--tenant", "acme", "--tenant", "globex");
        assertEquals(r.toString(), 0, r.code());
        assertTrue(r.err(), r.err().contains("requests without an API key are billed to tenant 'default', which "
                + "device " + ToolRun.of("device", "id", "--data", data.toString()).out().trim() + " is not bound to (acme, "
                + "globex)"));
        assertTrue(r.err(), r.err().contains("bin/tollgate keys add --tenant acme --role infer"));
    }

    @Test
    public void withoutMqttCredentialsInTheAnswerNoPasswordIsConfigured() throws Exception {
        answer = registered("ignored", false);
        Path ca = tmp.newFile("ca.pem").toPath();
        ToolRun r = enroll("--token", "t", "--mqtt", "ssl://broker.example.com:8883", "--tls-ca", ca.toString());
        assertEquals(r.toString(), 0, r.code());
        assertFalse(Files.exists(data.resolve("secrets/mqtt-password")));
        Properties p = new Properties();
        p.load(new java.io.StringReader(Files.readString(conf.resolve("io.tollgate.sync.cfg"))));
        assertEquals("", p.getProperty("mqtt.password.file"));
        assertEquals("{device}", p.getProperty("mqtt.username"));
        assertEquals("ssl://broker.example.com:8883", p.getProperty("broker.url"));
        assertEquals(ca.toString(), p.getProperty("tls.ca.file"));
        assertFalse("no tenants asked: the billing's default", requestBody.get().contains("tenants"));
    }

    @Test
    public void refusalsNameTheStatusAndTheBillingsMessage() throws Exception {
        String[][] cases = {
            {"401", "{\"error\":\"unknown or revoked token\"}", "refused the token (401): unknown or revoked token"},
            {"403", "{\"error\":\"role reader may not enroll\"}", "(403): role reader may not enroll"},
            {"409", "{\"error\":\"device tg-x is already registered with another public key\"}",
                "already has this device id with another key (409): device tg-x is already registered"},
            {"500", "oops", "answered 500: oops"}};
        for (String[] c : cases) {
            status = Integer.parseInt(c[0]);
            answer = c[1];
            ToolRun r = enroll("--token", "t");
            assertEquals(r.toString(), 1, r.code());
            assertTrue(r.err(), r.err().startsWith("tollgate device enroll: the billing service at " + billing()
                    + "/v1/devices "));
            assertTrue(r.err(), r.err().contains(c[2]));
            assertEquals(r.err(), 1, r.err().lines().count());
            assertFalse(Files.exists(conf.resolve("cloud.pub.pem")));
        }
    }

    @Test
    public void anAnswerWithoutTheCloudKeyIsAFailureAndWritesNothing() throws Exception {
        answer = "{\"id\":\"x\",\"registered\":true}";
        ToolRun r = enroll("--token", "t", "--mqtt", "tcp://127.0.0.1:1883");
        assertEquals(r.toString(), 1, r.code());
        assertTrue(r.err(), r.err().contains("sent no cloud_public_key_pem"));
        assertTrue(r.err(), r.err().contains("docs/operations.md"));
        assertFalse(Files.exists(conf.resolve("cloud.pub.pem")));
        assertFalse(Files.exists(conf.resolve("io.tollgate.sync.cfg")));
    }

    @Test
    public void badCommandLinesAndAnUnreachableServiceAreOneLine() throws Exception {
        ToolRun r = ToolRun.of("device", "enroll", "--billing", "http://billing.example.com", "--token", "t",
                "--data", data.toString(), "--conf", conf.toString());
        assertEquals(r.toString(), 2, r.code());
        assertTrue(r.err(), r.err().contains("plain http to a host that is not loopback"));
        assertTrue(r.err(), r.err().contains("--allow-plain"));
        assertFalse("nothing is created", Files.exists(data));

        r = ToolRun.of("device", "enroll", "--billing", "ftp://x", "--token", "t", "--data", data.toString());
        assertEquals(r.toString(), 2, r.code());
        r = ToolRun.of("device", "enroll", "--billing", billing(), "--data", data.toString());
        assertEquals(r.toString(), 2, r.code());
        assertTrue(r.err(), r.err().contains("--token"));
        r = enroll("--token", "t", "--tenant", "Not Valid");
        assertEquals(r.toString(), 2, r.code());
        r = enroll("--token", "t", "--mqtt", "tcp://broker.example.com:1883");
        assertEquals(r.toString(), 2, r.code());
        assertTrue(r.err(), r.err().contains("plain TCP"));
        r = enroll("--token", "t", "--mqtt", "ssl://b:8883", "--tls-ca", "/nonexistent/ca.pem");
        assertEquals(r.toString(), 3, r.code());

        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        r = ToolRun.of("device", "enroll", "--billing", "http://127.0.0.1:" + closed, "--token", "t", "--data",
                data.toString(), "--conf", conf.toString());
        assertEquals(r.toString(), 1, r.code());
        assertTrue(r.err(), r.err().startsWith("tollgate device enroll: cannot reach the billing service at "
                + "http://127.0.0.1:" + closed + "/v1/devices"));
        assertEquals(r.err(), 1, r.err().lines().count());
    }

    /**
     * Guards that the enrollment answer is one JSON document: a second object or text after it is an answer "that is
     * not JSON" (exit 1, one line) and nothing is written, never the first object's cloud key pinned.
     */
    @Test
    public void anAnswerWithContentAfterItsJsonIsAFailureAndWritesNothing() throws Exception {
        String doc = registered("tg-3", false);
        for (String after : new String[] {registered("tg-4", true), " x"}) {
            answer = doc + after;
            ToolRun r = enroll("--token", "t", "--mqtt", "tcp://127.0.0.1:1883");
            assertEquals(r.toString(), 1, r.code());
            assertEquals(r.toString(), "tollgate device enroll: the billing service at " + billing() + "/v1/devices"
                    + " answered 201 with a body that is not JSON", r.err().strip());
            assertFalse(Files.exists(conf.resolve("cloud.pub.pem")));
            assertFalse(Files.exists(conf.resolve("io.tollgate.sync.cfg")));
        }
        answer = doc;
        ToolRun r = enroll("--token", "t", "--mqtt", "tcp://127.0.0.1:1883");
        assertEquals("the document alone is accepted: " + r, 0, r.code());
        assertEquals(CLOUD_PEM, Files.readString(conf.resolve("cloud.pub.pem")));
    }
}

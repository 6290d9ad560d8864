package io.tollgate.endpoint.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * What a slow, idle, oversized or compressed client meets (issue 8), on the real endpoint over raw sockets: read
 * deadlines per phase (idle, headers, body), the connection limit, framing errors answered and closed (431, 414,
 * 400 with no Netty class name), gzip/deflate request bodies (a zip bomb is a 413), unknown encodings (415) and
 * compressed responses. Deadlines are short here (400 ms) so the tests are quick; docs/operations.md has the
 * defaults.
 */
public class ConnectionLimitsTest {
    private static final int MAX_BODY = 64 * 1024;
    private static final long DEADLINE_MS = 400;
    private static final int MAX_CONNECTIONS = 6;
    private static TestServer server;

    @BeforeClass
    public static void start() {
        TestConfig c = new TestConfig();
        c.maxBodyBytes = MAX_BODY;
        c.idleTimeoutMs = DEADLINE_MS;
        c.headerTimeoutMs = DEADLINE_MS;
        c.bodyTimeoutMs = DEADLINE_MS;
        c.maxConnections = MAX_CONNECTIONS;
        c.maxLineBytes = 1024;
        c.maxHeaderBytes = 4096;
        server = new TestServer(c);
    }

    @AfterClass
    public static void stop() throws Exception {
        server.close();
    }

    private static Socket open() throws IOException {
        Socket s = new Socket("127.0.0.1", server.port());
        s.setSoTimeout(10_000);
        return s;
    }

    private static void send(Socket s, String text) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(text.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    private static String inferBody(int n) {
        StringBuilder data = new StringBuilder();
        for (int i = 0; i < n; i++) {
            data.append(i == 0 ? "" : ",").append(i);
        }
        return "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"INT32\",\"shape\":[" + n + "],\"data\":[" + data + "]}]}";
    }

    private static long metric(String series) throws Exception {
        return HttpEndpointTest.metric(server.get("/metrics").body(), series);
    }

    /** Reads until the server closes; fails the test when it does not within the socket timeout. */
    private static void assertClosedByServer(Socket s) throws IOException {
        assertEquals("the server closes the connection", -1, s.getInputStream().read());
    }

    @Test
    public void anIdleKeepAliveConnectionIsClosedAfterTheIdleTimeout() throws Exception {
        long before = metric("tollgate_http_read_timeouts_total{phase=\"idle\"}");
        try (Socket s = open()) {
            send(s, "GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n");
            assertEquals(200, TestServer.readResponse(s.getInputStream()).status());
            long t0 = System.nanoTime();
            assertClosedByServer(s);
            long waitedMs = (System.nanoTime() - t0) / 1_000_000;
            assertTrue("closed after about idle.timeout.ms, not at once: " + waitedMs, waitedMs >= DEADLINE_MS / 2);
        }
        // a connection that never sends anything is closed the same way
        try (Socket s = open()) {
            assertClosedByServer(s);
        }
        assertTrue(metric("tollgate_http_read_timeouts_total{phase=\"idle\"}") >= before + 2);
    }

    @Test
    public void headersTrickledSlowerThanTheHeaderTimeoutGet408AndTheConnectionIsClosed() throws Exception {
        long before = metric("tollgate_http_read_timeouts_total{phase=\"headers\"}");
        try (Socket s = open()) {
            send(s, "GET /v2/health/live HTTP/1.1\r\nHost: x\r\n");
            // a slowloris client: a header line every 100 ms keeps bytes coming, but the headers never end
            long t0 = System.nanoTime();
            try {
                for (int i = 0; i < 30 && (System.nanoTime() - t0) / 1_000_000 < 3 * DEADLINE_MS; i++) {
                    send(s, "X-Slow-" + i + ": y\r\n");
                    Thread.sleep(100);
                }
            } catch (IOException closed) {
                // the server may close while we still trickle: its answer is read below
            }
            TestServer.RawResponse r = TestServer.readResponse(s.getInputStream());
            assertEquals(408, r.status());
            assertEquals("close", r.header("connection"));
            assertTrue(r.body(), r.body().contains("header.timeout.ms = " + DEADLINE_MS));
            assertClosedByServer(s);
        }
        assertEquals(before + 1, metric("tollgate_http_read_timeouts_total{phase=\"headers\"}"));
    }

    @Test
    public void aStalledBodyGets408ButASlowLiveBodyIsServed() throws Exception {
        String body = inferBody(200);
        byte[] bytes = body.getBytes(StandardCharsets.US_ASCII);
        try (Socket s = open()) {
            send(s, "POST /v2/models/echo/infer HTTP/1.1\r\nHost: x\r\nContent-Length: " + bytes.length + "\r\n\r\n");
            send(s, body.substring(0, 10));
            TestServer.RawResponse r = TestServer.readResponse(s.getInputStream());
            assertEquals(408, r.status());
            assertTrue(r.body(), r.body().contains("body.timeout.ms = " + DEADLINE_MS));
            assertClosedByServer(s);
        }
        // the same body in pieces 150 ms apart: the whole upload takes longer than the deadline, no gap does
        try (Socket s = open()) {
            send(s, "POST /v2/models/echo/infer HTTP/1.1\r\nHost: x\r\nContent-Length: " + bytes.length + "\r\n\r\n");
            int piece = bytes.length / 5 + 1;
            for (int off = 0; off < bytes.length; off += piece) {
                Thread.sleep(150);
                send(s, body.substring(off, Math.min(bytes.length, off + piece)));
            }
            assertEquals(200, TestServer.readResponse(s.getInputStream()).status());
        }
    }

    @Test
    public void connectionsOverTheLimitGet503AndRetryAfterAndTheLimitFreesUp() throws Exception {
        // its own server with the default (long) deadlines, so held connections stay open however slow the machine
        TestConfig c = new TestConfig();
        c.maxConnections = MAX_CONNECTIONS;
        List<Socket> held = new ArrayList<>();
        try (TestServer limited = new TestServer(c)) {
            for (int i = 0; i < MAX_CONNECTIONS; i++) {
                Socket s = new Socket("127.0.0.1", limited.port());
                s.setSoTimeout(10_000);
                held.add(s);
                send(s, "GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n");
                assertEquals(200, TestServer.readResponse(s.getInputStream()).status());
            }
            try (Socket over = new Socket("127.0.0.1", limited.port())) {
                over.setSoTimeout(10_000);
                TestServer.RawResponse r = TestServer.readResponse(over.getInputStream());
                assertEquals(503, r.status());
                assertEquals("1", r.header("retry-after"));
                assertEquals("close", r.header("connection"));
                assertTrue(r.body(), r.body().contains(MAX_CONNECTIONS + " connections open (max.connections)"));
                assertEquals(-1, over.getInputStream().read());
            }
            // the held connections are still served
            send(held.get(0), "GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n");
            assertEquals(200, TestServer.readResponse(held.get(0).getInputStream()).status());
            // a closed connection frees its slot (the close reaches the server asynchronously: poll)
            held.remove(0).close();
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            int status;
            do {
                try (Socket s = new Socket("127.0.0.1", limited.port())) {
                    s.setSoTimeout(10_000);
                    send(s, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
                    TestServer.RawResponse r = TestServer.readResponse(s.getInputStream());
                    status = r.status();
                    if (status == 200) {
                        assertTrue(HttpEndpointTest.metric(r.body(), "tollgate_http_connections_refused_total") >= 1);
                        assertTrue(HttpEndpointTest.metric(r.body(), "tollgate_http_connections_open") <= MAX_CONNECTIONS);
                    }
                }
            } while (status != 200 && System.nanoTime() < deadline);
            assertEquals(200, status);
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
    }

    @Test
    public void bodiesOverTheInflightBudgetGet503AndServiceResumesWhenTheyAreAnswered() throws Exception {
        TestConfig c = new TestConfig();
        c.maxBodyBytes = MAX_BODY;
        c.maxInflightBodyBytes = 100_000;
        try (TestServer limited = new TestServer(c)) {
            String json = inferBody(3);
            String padded = json + " ".repeat(60_000 - json.length());
            try (Socket a = new Socket("127.0.0.1", limited.port()); Socket b = new Socket("127.0.0.1", limited.port())) {
                a.setSoTimeout(10_000);
                b.setSoTimeout(10_000);
                // A announces 60,000 bytes and sends the start: those bytes are held
                send(a, "POST /v2/models/echo/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\n"
                        + padded.substring(0, 100));
                long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
                while (HttpEndpointTest.metric(limited.get("/metrics").body(), "tollgate_http_body_bytes_held") < 60_000) {
                    assertTrue("A's body is counted from its headers", System.nanoTime() < deadline);
                    Thread.sleep(10);
                }
                // B's 60,000 would take the total past 100,000: refused at its headers, before its body
                send(b, "POST /v2/models/echo/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n"
                        + "Expect: 100-continue\r\n\r\n");
                TestServer.RawResponse r = TestServer.readResponse(b.getInputStream());
                assertEquals(r.body(), 503, r.status());
                assertEquals("1", r.header("retry-after"));
                assertEquals("close", r.header("connection"));
                assertTrue(r.body(), r.body().contains("a body of 60000 bytes would take the request bodies held at "
                        + "once past max.inflight.body.bytes = 100000"));
                // A completes and is answered; its bytes are free again
                send(a, padded.substring(100));
                assertEquals(200, TestServer.readResponse(a.getInputStream()).status());
            }
            assertEquals("every byte is free once answered", 0,
                    HttpEndpointTest.metric(limited.get("/metrics").body(), "tollgate_http_body_bytes_held"));
            HttpResponse<String> again = limited.post("/v2/models/echo/infer", padded);
            assertEquals(again.body(), 200, again.statusCode());
            assertTrue(HttpEndpointTest.metric(limited.get("/metrics").body(), "tollgate_http_bodies_refused_total") >= 1);
        }
    }

    @Test
    public void largeBodiesAreDecodedOffTheEventLoopSmallOnesOnIt() throws Exception {
        TestConfig c = new TestConfig();
        c.maxBodyBytes = 4 << 20;
        try (TestServer big = new TestServer(c)) {
            String json = inferBody(3);
            HttpResponse<String> r = big.post("/v2/models/echo/infer", json + " ".repeat(InferRoute.OFFLOAD_BYTES));
            assertEquals(r.body(), 200, r.statusCode());
            assertTrue(big.service.lastCallerThread, big.service.lastCallerThread.startsWith("tollgate-endpoint-decode"));
            r = big.post("/v2/models/echo/infer", json);
            assertEquals(200, r.statusCode());
            assertFalse(big.service.lastCallerThread, big.service.lastCallerThread.contains("decode"));
            assertTrue(big.service.lastCallerThread, big.service.lastCallerThread.startsWith("tollgate-endpoint"));
        }
    }

    @Test
    public void anOversizedLicenseUploadGets413AfterAtMostTheRoutesMiBNotTheEndpointsLimit() throws Exception {
        // max.body.bytes 4 MiB: a 10 MiB upload read past the route's 1 MiB would be the aggregator's 413 naming
        // max.body.bytes (or the budget's 503), not the route's 413
        TestConfig c = new TestConfig();
        c.maxBodyBytes = 4 << 20;
        c.maxInflightBodyBytes = 4 << 20;
        try (TestServer limited = new TestServer(c)) {
            String tooLarge = "is larger than POST /admin/licenses takes: 1048576 bytes";
            // a Content-Length of 10 MiB: refused from the headers, no byte of the body sent
            try (Socket s = new Socket("127.0.0.1", limited.port())) {
                s.setSoTimeout(10_000);
                send(s, "POST /admin/licenses HTTP/1.1\r\nHost: x\r\nContent-Length: " + (10 << 20) + "\r\n\r\n");
                TestServer.RawResponse r = TestServer.readResponse(s.getInputStream());
                assertEquals(r.body(), 413, r.status());
                assertTrue(r.body(), r.body().contains("(10485760 bytes) " + tooLarge) && !r.body().contains("max.body"));
                assertEquals("close", r.header("connection"));
            }
            // the same with Expect: 100-continue: the 413 instead of "100 Continue"
            try (Socket s = new Socket("127.0.0.1", limited.port())) {
                s.setSoTimeout(10_000);
                send(s, "POST /admin/licenses HTTP/1.1\r\nHost: x\r\nContent-Length: " + (10 << 20)
                        + "\r\nExpect: 100-continue\r\n\r\n");
                assertEquals(413, TestServer.readResponse(s.getInputStream()).status());
            }
            // 10 MiB chunked: refused once the body grows past 1 MiB, while the client is still sending
            try (Socket s = new Socket("127.0.0.1", limited.port())) {
                s.setSoTimeout(10_000);
                OutputStream out = s.getOutputStream();
                try {
                    out.write("POST /admin/licenses HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                            .getBytes(StandardCharsets.US_ASCII));
                    byte[] chunk = new byte[64 * 1024];
                    for (int i = 0; i < 160; i++) {
                        out.write((Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                        out.write(chunk);
                        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                    }
                } catch (IOException refusedWhileSending) {
                    // the server answered and stopped reading: expected
                }
                TestServer.RawResponse r = TestServer.readResponse(s.getInputStream());
                assertEquals(r.body(), 413, r.status());
                assertTrue(r.body(), r.body().contains(tooLarge));
            }
            assertEquals("nothing was held past the route's limit: no 503 from the budget", 0,
                    HttpEndpointTest.metric(limited.get("/metrics").body(), "tollgate_http_bodies_refused_total"));
            // a body refused 413 is freed when its connection closes, just after the client has the answer
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
            long held;
            while ((held = HttpEndpointTest.metric(limited.get("/metrics").body(), "tollgate_http_body_bytes_held")) != 0
                    && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals("every byte is free again once the refused connections closed", 0, held);
            // a body within the limit reaches the route (no license store here: 501), and other routes keep 64 MiB
            HttpResponse<String> small = limited.post("/admin/licenses", "x".repeat(100));
            assertTrue(small.body(), small.statusCode() != 413);
            HttpResponse<String> infer = limited.post("/v2/models/echo/infer", inferBody(3) + " ".repeat(3 << 19));
            assertEquals("only the license route is limited to 1 MiB: " + infer.body(), 200, infer.statusCode());
        }
    }

    @Test
    public void aClientStillSendingItsBodyReadsTheRefusalNotAReset() throws Exception {
        // the 413 is decided from the headers while the client keeps sending 2 MiB and reads only afterwards (as a
        // blocking client does): closing at once with unread bytes makes the kernel answer the rest with a reset,
        // which destroys the 413 before the client reads it
        try (Socket s = open()) {
            OutputStream out = s.getOutputStream();
            try {
                out.write(("POST /v2/models/echo/infer HTTP/1.1\r\nHost: x\r\nContent-Length: " + (2 << 20)
                        + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                byte[] chunk = new byte[64 * 1024];
                for (int i = 0; i < 32; i++) {
                    out.write(chunk);
                    out.flush();
                    Thread.sleep(5);
                }
            } catch (IOException resetWhileSending) {
                // without the lingering close the server's reset arrives here
            }
            TestServer.RawResponse r = TestServer.readResponse(s.getInputStream());
            assertEquals(413, r.status());
            assertTrue(r.body(), r.body().contains("max.body.bytes"));
        }
    }

    @Test
    public void oneClientCannotTakeEverySlotOfTheEndpoint() throws Exception {
        TestConfig c = new TestConfig();
        c.maxConnections = 20;
        c.maxConnectionsPerClient = 3;
        List<Socket> held = new ArrayList<>();
        try (TestServer limited = new TestServer(c)) {
            for (int i = 0; i < 3; i++) {
                Socket s = new Socket("127.0.0.1", limited.port());
                s.setSoTimeout(10_000);
                held.add(s);
                send(s, "GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n");
                assertEquals(200, TestServer.readResponse(s.getInputStream()).status());
            }
            try (Socket fourth = new Socket("127.0.0.1", limited.port())) {
                fourth.setSoTimeout(10_000);
                TestServer.RawResponse r = TestServer.readResponse(fourth.getInputStream());
                assertEquals(503, r.status());
                assertEquals("1", r.header("retry-after"));
                assertTrue(r.body(), r.body().contains("this client has 3 connections open "
                        + "(max.connections.per.client)"));
            }
            // another address of the same box is another client: it still gets in (the endpoint is not full)
            java.net.InetAddress other = java.net.InetAddress.getByName("127.0.0.2");
            try (Socket s = new Socket(java.net.InetAddress.getByName("127.0.0.1"), limited.port(), other, 0)) {
                s.setSoTimeout(10_000);
                send(s, "GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n");
                assertEquals(200, TestServer.readResponse(s.getInputStream()).status());
            }
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
    }

    @Test
    public void oversizedHeadersGet431AndTheConnectionIsClosedNotLeftHanging() throws Exception {
        try (Socket s = open()) {
            send(s, "GET /v2/health/live HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(8000) + "\r\n\r\n");
            TestServer.RawResponse r = TestServer.readResponse(s.getInputStream());
            assertEquals(431, r.status());
            assertEquals("close", r.header("connection"));
            assertTrue(r.body(), r.body().contains("max.header.bytes"));
            assertFalse(r.body(), r.body().contains("netty") || r.body().contains("Exception"));
            assertClosedByServer(s);
        }
        // the next connection is served
        assertEquals(200, server.get("/v2/health/live").statusCode());
    }

    @Test
    public void anOversizedRequestLineGets414AndAMalformedHeader400BothClosed() throws Exception {
        try (Socket s = open()) {
            send(s, "GET /v2/models/" + "m".repeat(2000) + " HTTP/1.1\r\nHost: x\r\n\r\n");
            TestServer.RawResponse r = TestServer.readResponse(s.getInputStream());
            assertEquals(414, r.status());
            assertEquals("close", r.header("connection"));
            assertTrue(r.body(), r.body().contains("max.line.bytes"));
            assertClosedByServer(s);
        }
        try (Socket s = open()) {
            send(s, "GET /v2/health/live HTTP/1.1\r\nHost: x\r\nBad Header Name: y\r\n\r\n");
            TestServer.RawResponse r = TestServer.readResponse(s.getInputStream());
            assertEquals(400, r.status());
            assertEquals("close", r.header("connection"));
            assertTrue(r.body(), r.body().contains("malformed HTTP request"));
            assertFalse(r.body(), r.body().contains("io.netty") || r.body().contains("Exception"));
            assertClosedByServer(s);
        }
    }

    private static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(data);
        }
        return out.toByteArray();
    }

    private static byte[] deflate(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (DeflaterOutputStream z = new DeflaterOutputStream(out)) {
            z.write(data);
        }
        return out.toByteArray();
    }

    private static HttpResponse<String> postEncoded(String encoding, byte[] body) throws Exception {
        return server.client.send(HttpRequest.newBuilder(server.uri("/v2/models/echo/infer"))
                        .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
                        .header("Content-Encoding", encoding).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    public void gzipAndDeflateRequestBodiesAreDecompressed() throws Exception {
        byte[] body = inferBody(50).getBytes(StandardCharsets.US_ASCII);
        for (String encoding : List.of("gzip", "deflate")) {
            HttpResponse<String> r = postEncoded(encoding, encoding.equals("gzip") ? gzip(body) : deflate(body));
            assertEquals(encoding + ": " + r.body(), 200, r.statusCode());
            assertEquals(49, TestServer.json(r).get("outputs").get(0).get("data").get(49).asInt());
        }
    }

    @Test
    public void aZipBombGets413AndBrokenOrUnknownEncodingsAClientError() throws Exception {
        // 10 MiB of spaces after valid JSON: about 10 KiB compressed, far over max.body.bytes once inflated
        byte[] bomb = gzip((inferBody(1) + " ".repeat(10 << 20)).getBytes(StandardCharsets.US_ASCII));
        assertTrue("the bomb itself fits the limit: " + bomb.length, bomb.length < MAX_BODY);
        HttpResponse<String> r = postEncoded("gzip", bomb);
        assertEquals(r.body(), 413, r.statusCode());
        assertTrue(r.body(), r.body().contains("max.body.bytes"));

        r = postEncoded("gzip", "this is not gzip".getBytes(StandardCharsets.US_ASCII));
        assertEquals(r.body(), 400, r.statusCode());
        assertTrue(r.body(), r.body().contains("cannot be decompressed"));

        r = postEncoded("br", "whatever".getBytes(StandardCharsets.US_ASCII));
        assertEquals(r.body(), 415, r.statusCode());
        assertTrue(r.body(), r.body().contains("Content-Encoding 'br' is not supported"));
        assertEquals(200, server.get("/v2/health/live").statusCode());
    }

    @Test
    public void largeResponsesAreCompressedForClientsThatAcceptGzipSmallOnesAreNot() throws Exception {
        String body = inferBody(1000);
        HttpResponse<byte[]> r = server.client.send(HttpRequest.newBuilder(server.uri("/v2/models/echo/infer"))
                        .timeout(Duration.ofSeconds(10)).header("Accept-Encoding", "gzip")
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, r.statusCode());
        assertEquals("gzip", r.headers().firstValue("content-encoding").orElse(""));
        byte[] plain;
        try (InputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(r.body()))) {
            plain = in.readAllBytes();
        }
        assertTrue("compressed is smaller: " + r.body().length + " vs " + plain.length, r.body().length < plain.length);
        assertEquals(999, TestServer.JSON.readTree(plain).get("outputs").get(0).get("data").get(999).asInt());

        HttpResponse<String> small = server.client.send(HttpRequest.newBuilder(server.uri("/v2/health/live"))
                .header("Accept-Encoding", "gzip").GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals("{\"live\":true}", small.body());
        assertTrue(small.headers().firstValue("content-encoding").isEmpty());
        // without Accept-Encoding nothing is compressed
        HttpResponse<String> identity = server.post("/v2/models/echo/infer", body);
        assertTrue(identity.headers().firstValue("content-encoding").isEmpty());
    }
}

package io.tollgate.cloud;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * Slowloris against a real {@code tollgate-billing run} in a child JVM (the JDK reads its request time limit once per
 * JVM, so this JVM's HttpServers cannot show it): more connections that never finish their headers than the API has
 * threads, and {@code /health} is still answered within the default limit (20 s) plus a margin.
 */
public class ApiSlowClientTest {
    private static final int SLOW_CONNECTIONS = 24; // > ApiServer.THREADS
    private static final long LIMIT_MILLIS = 20_000;
    private static final long MARGIN_MILLIS = 10_000;

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    @Test
    public void connectionsThatNeverFinishTheirHeadersDoNotFreezeTheApi() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        Path data = tmp.newFolder("data").toPath();
        Process child = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), "-cp",
                System.getProperty("java.class.path"), Main.class.getName(), "run", "--mqtt", "none",
                "--http-port", Integer.toString(port), "--data", data.toString())
                .redirectErrorStream(true).redirectOutput(tmp.newFile("child.log")).start();
        List<Socket> slow = new ArrayList<>();
        try {
            long up = System.currentTimeMillis() + 60_000;
            while (!"HTTP/1.1 200 OK".equals(health(port, 5_000))) {
                assertTrue("the child answers /health (see child.log)", child.isAlive());
                assertTrue("the child's API came up within 60 s", System.currentTimeMillis() < up);
                Thread.sleep(100); // polling the child's start
            }
            for (int i = 0; i < SLOW_CONNECTIONS; i++) {
                Socket s = new Socket("127.0.0.1", port);
                s.getOutputStream().write("GET /health HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
                s.getOutputStream().flush();
                slow.add(s);
            }
            long start = System.currentTimeMillis();
            String status = null;
            while (status == null && System.currentTimeMillis() - start < LIMIT_MILLIS + MARGIN_MILLIS) {
                status = health(port, (int) (LIMIT_MILLIS + MARGIN_MILLIS)); // a reset (our request timed out): again
            }
            long took = System.currentTimeMillis() - start;
            assertEquals("answered after " + took + " ms", "HTTP/1.1 200 OK", status);
            assertTrue("answered after " + took + " ms", took < LIMIT_MILLIS + MARGIN_MILLIS);
            for (Socket s : slow) {
                s.setSoTimeout((int) MARGIN_MILLIS);
                try {
                    assertEquals("the server closed the slow connection", -1, s.getInputStream().read());
                } catch (SocketException reset) {
                    // closed by the server: reset
                } catch (SocketTimeoutException e) {
                    fail("a connection that never finished its headers is still open");
                }
            }
        } finally {
            for (Socket s : slow) {
                s.close();
            }
            child.destroy();
            child.waitFor();
        }
    }

    /** The status line of GET /health, or null when the connection was closed or reset first. */
    private static String health(int port, int timeoutMillis) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(timeoutMillis);
            s.getOutputStream().write("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
        } catch (SocketException e) {
            return null;
        } catch (SocketTimeoutException e) {
            return null;
        }
    }
}

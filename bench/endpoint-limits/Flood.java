import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The endpoint's limits under a hostile load (issue 8), against a running appliance:
 * <ol>
 *   <li>{@code idle}: opens N keep-alive connections that each send one request and then stay idle; reports how many
 *       the appliance accepted and how many it still holds after WAIT seconds (its idle timeout closes them);</li>
 *   <li>{@code flood}: C clients each send one body of M MiB at once (under the 64 MiB per-request limit), again and
 *       again for S seconds, while one client sends a small fashion-mnist request every 100 ms on its own
 *       connection; reports the appliance's peak resident memory (VmHWM of PID), the answers to the big bodies
 *       (status codes; resets) and the small requests' latency (p50, p99, max) and failures.</li>
 * </ol>
 * Usage: {@code java Flood.java idle PORT PID N WAIT_S} or {@code java Flood.java flood PORT PID C MIB SECONDS}.
 */
public class Flood {
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[1]);
        long pid = Long.parseLong(args[2]);
        if (args[0].equals("idle")) {
            idle(port, pid, Integer.parseInt(args[3]), Integer.parseInt(args[4]));
        } else {
            flood(port, pid, Integer.parseInt(args[3]), Integer.parseInt(args[4]), Integer.parseInt(args[5]));
        }
    }

    static void idle(int port, long pid, int n, int waitS) throws Exception {
        List<Socket> sockets = new ArrayList<>();
        int answered = 0;
        int refused = 0;
        for (int i = 0; i < n; i++) {
            Socket s = new Socket();
            try {
                // 100 connections per source address (127.0.0.2, .3, ...: all loopback), under the per-client cap
                s.bind(new InetSocketAddress("127.0.0." + (2 + i / 100), 0));
                s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
                s.setSoTimeout(5000);
                s.getOutputStream().write(("GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                String status = statusLine(s.getInputStream());
                if (status.contains(" 200 ")) {
                    answered++;
                    sockets.add(s);
                } else {
                    refused++;
                    s.close();
                }
            } catch (Exception e) {
                refused++;
                s.close();
            }
        }
        System.out.printf("idle: %d connections opened and answered, %d refused (status or reset); appliance RSS %d MiB%n",
                answered, refused, rssMiB(pid, "VmRSS"));
        long start = System.nanoTime();
        Thread.sleep(waitS * 1000L);
        int open = 0;
        for (Socket s : sockets) {
            try {
                s.setSoTimeout(200);
                int b = s.getInputStream().read();
                if (b >= 0) {
                    open++; // unexpected bytes: still open
                }
            } catch (java.net.SocketTimeoutException e) {
                open++; // nothing to read and not closed: the server still holds it
            } catch (Exception e) {
                // reset: closed
            }
            s.close();
        }
        System.out.printf("idle: after %d s idle, the appliance still held %d of %d%n",
                (System.nanoTime() - start) / 1_000_000_000L, open, answered);
    }

    static void flood(int port, long pid, int clients, int mib, int seconds) throws Exception {
        byte[] small = Files.readAllBytes(Path.of(System.getenv().getOrDefault("SMALL_BODY", "small.json")));
        long bodyBytes = mib * 1024L * 1024L;
        byte[] head = ("{\"inputs\":[{\"name\":\"image\",\"datatype\":\"FP32\",\"shape\":[1,1,28,28],\"data\":[")
                .getBytes(StandardCharsets.US_ASCII);
        byte[] tail = "0]}]}".getBytes(StandardCharsets.US_ASCII);
        byte[] chunk = "0,".repeat(32 * 1024).getBytes(StandardCharsets.US_ASCII);
        Map<String, AtomicLong> outcomes = new ConcurrentHashMap<>();
        AtomicBoolean stop = new AtomicBoolean();
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        CountDownLatch done = new CountDownLatch(clients);
        for (int c = 0; c < clients; c++) {
            Thread t = new Thread(() -> {
                try {
                    while (System.nanoTime() < deadline) {
                        String outcome;
                        try (Socket s = new Socket()) {
                            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
                            s.setSoTimeout(60_000);
                            OutputStream out = s.getOutputStream();
                            out.write(("POST /v2/models/fashion-mnist/infer HTTP/1.1\r\nHost: x\r\n"
                                    + "Content-Type: application/json\r\nContent-Length: " + bodyBytes + "\r\n\r\n")
                                    .getBytes(StandardCharsets.US_ASCII));
                            long left = bodyBytes - head.length - tail.length;
                            out.write(head);
                            try {
                                while (left > 0) {
                                    int n = (int) Math.min(left, chunk.length);
                                    out.write(chunk, 0, n);
                                    left -= n;
                                }
                                out.write(tail);
                                outcome = statusLine(s.getInputStream());
                            } catch (java.io.IOException e) {
                                // the server may answer (503) and close before the whole body is sent
                                String early = "";
                                try {
                                    early = statusLine(s.getInputStream());
                                } catch (Exception ignored) {
                                    // nothing readable
                                }
                                outcome = early.isEmpty() ? "reset while sending" : early + " (before the body ended)";
                            }
                        } catch (Exception e) {
                            outcome = "error: " + e.getClass().getSimpleName();
                        }
                        outcomes.computeIfAbsent(outcome, k -> new AtomicLong()).incrementAndGet();
                    }
                } finally {
                    done.countDown();
                }
            }, "flood-" + c);
            t.setDaemon(true);
            t.start();
        }
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        URI uri = URI.create("http://127.0.0.1:" + port + "/v2/models/fashion-mnist/infer");
        List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
        Map<String, AtomicLong> smallFailures = new ConcurrentHashMap<>();
        long peakRss = 0;
        while (System.nanoTime() < deadline) {
            long t0 = System.nanoTime();
            try {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(small)).build(), HttpResponse.BodyHandlers.ofString());
                long ms = (System.nanoTime() - t0) / 1_000_000L;
                if (r.statusCode() == 200) {
                    latencies.add(ms);
                } else {
                    smallFailures.computeIfAbsent("HTTP " + r.statusCode(), k -> new AtomicLong()).incrementAndGet();
                }
            } catch (Exception e) {
                smallFailures.computeIfAbsent(e.getClass().getSimpleName(), k -> new AtomicLong()).incrementAndGet();
            }
            peakRss = Math.max(peakRss, rssMiB(pid, "VmRSS"));
            Thread.sleep(100);
        }
        done.await();
        List<Long> sorted = new ArrayList<>(latencies);
        Collections.sort(sorted);
        System.out.printf("flood: %d clients x %d MiB bodies for %d s; appliance peak RSS %d MiB sampled, VmHWM %d MiB%n",
                clients, mib, seconds, peakRss, rssMiB(pid, "VmHWM"));
        System.out.println("flood: big-body answers " + new java.util.TreeMap<>(outcomes));
        if (sorted.isEmpty()) {
            System.out.println("flood: no small request succeeded; failures " + smallFailures);
        } else {
            System.out.printf("flood: small requests ok %d, failed %s; latency p50 %d ms, p99 %d ms, max %d ms%n",
                    sorted.size(), smallFailures, sorted.get(sorted.size() / 2),
                    sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(sorted.size() * 0.99) - 1)),
                    sorted.get(sorted.size() - 1));
        }
    }

    static String statusLine(InputStream in) throws java.io.IOException {
        StringBuilder line = new StringBuilder();
        int b;
        while ((b = in.read()) >= 0 && b != '\n') {
            line.append((char) b);
        }
        if (line.length() == 0) {
            throw new java.io.EOFException("closed without an answer");
        }
        // drain the headers and the body (Content-Length) so that keep-alive connections stay usable
        long length = 0;
        StringBuilder h = new StringBuilder();
        while ((b = in.read()) >= 0) {
            if (b == '\n') {
                String header = h.toString().trim();
                if (header.isEmpty()) {
                    break;
                }
                if (header.toLowerCase().startsWith("content-length:")) {
                    length = Long.parseLong(header.substring(15).trim());
                }
                h.setLength(0);
            } else {
                h.append((char) b);
            }
        }
        in.skipNBytes(length);
        return line.toString().trim();
    }

    static long rssMiB(long pid, String field) {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (l.startsWith(field + ":")) {
                    return Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024;
                }
            }
        } catch (Exception e) {
            return -1;
        }
        return -1;
    }
}

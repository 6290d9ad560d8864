package io.tollgate.bench.ocr;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tollgate.engine.onnx.testing.TestOnnxEngine;
import io.tollgate.engine.spi.InferenceEngine;
import io.tollgate.engine.spi.LoadedModel;
import io.tollgate.engine.spi.ModelArtifact;
import io.tollgate.model.ModelDescriptor;
import io.tollgate.model.Tensor;
import io.tollgate.pipeline.Pipeline;
import io.tollgate.pipeline.PipelineContext;
import io.tollgate.pipeline.PipelineRequest;
import io.tollgate.pipeline.PipelineStage;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.jar.JarFile;
import javax.imageio.ImageIO;

/**
 * OCR images/s end to end over HTTP (the appliance at {@code --url}, plugin ocr installed) versus the same pipeline in
 * this JVM: the plugin jar's own {@code OcrPipeline} class and models ({@code --plugin}), stages loaded by the ONNX
 * engine with the same thread settings ({@code --intra}, {@code --inter}), called by the same number of client threads
 * with the same images (one PNG a request, sent as binary BYTES). Rounds alternate which side goes first; the report
 * gives each round's ratio and the median's, and (with {@code --appliance-pid}) the CPU time per image of the appliance
 * process over HTTP and of this JVM in-process, a figure less bent by other work on the machine.
 *
 * <pre>java -jar ocr-endpoint-bench.jar --plugin ocr-1.0.0.jar --url http://127.0.0.1:8000 [--threads 2]
 *     [--seconds 10] [--rounds 3] [--warmup 5] [--intra 1] [--inter 1]</pre>
 */
public final class OcrEndpointBench {
    static final String[] LINES = {"SN 4821-XK7-0093", "Tollgate OCR 2026", "Lot 7731/B exp 12.2027",
        "PART NO. AX-5521", "Net weight 12.5 kg", "Serial 5591-0042", "Model TX-200 rev 3", "Made in 2026"};
    static final String[] FONTS = {"DejaVu Sans", "DejaVu Serif", "DejaVu Sans Mono"};

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new LinkedHashMap<>(Map.of("threads", "2", "seconds", "10", "rounds", "3",
                "warmup", "5", "intra", "1", "inter", "1"));
        for (int i = 0; i + 1 < args.length; i += 2) {
            a.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        Path plugin = Path.of(a.get("plugin"));
        String url = a.get("url") + "/v2/models/ocr/infer";
        int threads = Integer.parseInt(a.get("threads"));
        int seconds = Integer.parseInt(a.get("seconds"));
        int rounds = Integer.parseInt(a.get("rounds"));

        List<byte[]> pngs = new ArrayList<>();
        for (int i = 0; i < LINES.length; i++) {
            pngs.add(png(LINES[i], FONTS[i % FONTS.length], 28));
        }
        Pipeline pipeline = inProcess(plugin, Map.of("intra.op.threads", a.get("intra"), "inter.op.threads",
                a.get("inter")));
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        List<HttpRequest> requests = new ArrayList<>();
        for (byte[] p : pngs) {
            requests.add(binaryRequest(url, p));
        }
        // both sides read the same text from each image before anything is measured
        for (int i = 0; i < pngs.size(); i++) {
            String local = String.join("|", texts(pipeline.run(request(pngs.get(i)))));
            HttpResponse<String> r = client.send(requests.get(i), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IllegalStateException("HTTP " + r.statusCode() + ": " + r.body());
            }
            String remote = String.join("|", httpTexts(r.body()));
            System.out.println("image " + i + ": in-process [" + local + "], HTTP [" + remote + "]");
            if (!local.equals(remote)) {
                throw new IllegalStateException("image " + i + " is read differently");
            }
        }
        System.out.printf("machine: %d cores; threads %d; %d s per measurement; %d rounds; ORT intra %s inter %s%n",
                Runtime.getRuntime().availableProcessors(), threads, seconds, rounds, a.get("intra"), a.get("inter"));
        int warm = Integer.parseInt(a.get("warmup"));
        measure(() -> http(client, requests, threads, warm), () -> local(pipeline, pngs, threads, warm));
        long appliance = Long.parseLong(a.getOrDefault("appliance-pid", "0"));
        List<Double> http = new ArrayList<>();
        List<Double> local = new ArrayList<>();
        List<Double> httpCpu = new ArrayList<>();
        List<Double> localCpu = new ArrayList<>();
        for (int r = 1; r <= rounds; r++) {
            double h = 0;
            double l = 0;
            double hc = 0;
            double lc = 0;
            for (int side = 0; side < 2; side++) {
                boolean doHttp = (side == 0) == (r % 2 == 1);
                if (doHttp) {
                    long c0 = cpuNanos(appliance);
                    long n0 = COUNT.get();
                    h = http(client, requests, threads, seconds);
                    hc = (cpuNanos(appliance) - c0) / 1e6 / Math.max(1, COUNT.get() - n0);
                } else {
                    long c0 = ownCpuNanos();
                    long n0 = COUNT.get();
                    l = local(pipeline, pngs, threads, seconds);
                    lc = (ownCpuNanos() - c0) / 1e6 / Math.max(1, COUNT.get() - n0);
                }
            }
            http.add(h);
            local.add(l);
            httpCpu.add(hc);
            localCpu.add(lc);
            System.out.printf("round %d (load %s): HTTP %.2f images/s, in-process %.2f images/s, ratio %.3f;"
                    + " CPU ms per image: appliance %.1f, in-process %.1f%n", r, load(), h, l, h / l, hc, lc);
        }
        double mh = median(http);
        double ml = median(local);
        System.out.printf("medians: HTTP %.2f images/s, in-process %.2f images/s; ratio of medians %.3f%n", mh, ml,
                mh / ml);
        if (appliance > 0) {
            System.out.printf("CPU per image (medians): appliance %.1f ms over HTTP, in-process %.1f ms; in-process ÷"
                    + " appliance %.3f%n", median(httpCpu), median(localCpu), median(localCpu) / median(httpCpu));
        }
        pipeline.close();
        System.exit(0);
    }

    static final AtomicLong COUNT = new AtomicLong();

    /** User + system CPU of process {@code pid} (/proc/PID/stat, clock ticks of 10 ms), ns; 0 when unknown. */
    static long cpuNanos(long pid) {
        if (pid <= 0) {
            return 0;
        }
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10_000_000L;
        } catch (IOException e) {
            return 0;
        }
    }

    /** This JVM's CPU time, ns. */
    static long ownCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    interface Run {
        double go() throws Exception;
    }

    private static void measure(Run... runs) throws Exception {
        for (Run r : runs) {
            r.go();
        }
    }

    static String load() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException e) {
            return "?";
        }
    }

    static double median(List<Double> v) {
        List<Double> s = new ArrayList<>(v);
        s.sort(null);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    /** The plugin's pipeline class and stage models, from its jar, as serving would open them. */
    static Pipeline inProcess(Path jar, Map<String, String> engineConfig) throws Exception {
        InferenceEngine engine = TestOnnxEngine.create(engineConfig);
        try (JarFile j = new JarFile(jar.toFile())) {
            JsonNode d = new ObjectMapper().readTree(entry(j, "model.json"));
            Map<String, String> params = new LinkedHashMap<>();
            d.path("parameters").fields().forEachRemaining(e -> params.put(e.getKey(), e.getValue().asText()));
            Map<String, PipelineStage> stages = new LinkedHashMap<>();
            for (var it = d.path("pipeline").path("stages").fields(); it.hasNext(); ) {
                var e = it.next();
                String file = e.getValue().asText();
                ModelDescriptor md = new ModelDescriptor("ocr", "1.0.0", "onnx", "onnx", file, List.of(), List.of(), 0,
                        List.of(), "images", "", params);
                LoadedModel m = engine.load(new ModelArtifact(md, entry(j, file), "bench " + file));
                stages.put(e.getKey(), PipelineStage.of(e.getKey(), m));
            }
            Map<String, byte[]> files = new LinkedHashMap<>();
            for (var en = j.entries(); en.hasMoreElements(); ) {
                var e = en.nextElement();
                if (e.getName().startsWith("TOLLGATE-INF/") && !e.isDirectory()) {
                    files.put(e.getName().substring("TOLLGATE-INF/".length()), entry(j, e.getName()
                            .substring("TOLLGATE-INF/".length())));
                }
            }
            ClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()},
                    OcrEndpointBench.class.getClassLoader());
            Pipeline p = (Pipeline) loader.loadClass(d.path("pipeline").path("class").asText())
                    .getConstructor().newInstance();
            p.open(PipelineContext.of("ocr", "1.0.0", stages, path -> {
                byte[] b = files.get(path);
                if (b == null) {
                    throw new IOException(path + " is not in the plugin");
                }
                return b;
            }, params, Files.createTempDirectory("ocr-bench")));
            return p;
        }
    }

    private static byte[] entry(JarFile j, String path) throws IOException {
        try (InputStream in = j.getInputStream(j.getEntry("TOLLGATE-INF/" + path))) {
            return in.readAllBytes();
        }
    }

    static PipelineRequest request(byte[] png) {
        return new PipelineRequest("bench", "default", List.of(Tensor.ofBytes("image", new long[] {1},
                List.of(png))), List.of(), Map.of());
    }

    static List<String> texts(List<Tensor> out) {
        List<String> t = new ArrayList<>();
        for (byte[] b : out.get(0).strings()) {
            t.add(new String(b, StandardCharsets.UTF_8));
        }
        return t;
    }

    static List<String> httpTexts(String body) throws IOException {
        List<String> t = new ArrayList<>();
        for (JsonNode o : new ObjectMapper().readTree(body).path("outputs")) {
            if ("text".equals(o.path("name").asText())) {
                o.path("data").forEach(x -> t.add(x.asText()));
            }
        }
        return t;
    }

    /** The binary-data extension: JSON header, then the BYTES element as 4-byte little-endian length + bytes. */
    static HttpRequest binaryRequest(String url, byte[] png) {
        byte[] header = ("{\"inputs\":[{\"name\":\"image\",\"datatype\":\"BYTES\",\"shape\":[1],\"parameters\":"
                + "{\"binary_data_size\":" + (png.length + 4) + "}}]}").getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(header.length + 4 + png.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(header).putInt(png.length).put(png);
        return HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/octet-stream")
                .header("Inference-Header-Content-Length", Integer.toString(header.length))
                .POST(HttpRequest.BodyPublishers.ofByteArray(b.array())).build();
    }

    static double http(HttpClient client, List<HttpRequest> requests, int threads, int seconds) throws Exception {
        AtomicLong failed = new AtomicLong();
        double rate = load(threads, seconds, i -> {
            HttpResponse<byte[]> r = client.send(requests.get(i % requests.size()),
                    HttpResponse.BodyHandlers.ofByteArray());
            if (r.statusCode() != 200) {
                failed.incrementAndGet();
            }
        });
        if (failed.get() > 0) {
            throw new IllegalStateException(failed.get() + " HTTP requests failed");
        }
        return rate;
    }

    static double local(Pipeline p, List<byte[]> pngs, int threads, int seconds) throws Exception {
        List<PipelineRequest> rs = new ArrayList<>();
        for (byte[] png : pngs) {
            rs.add(request(png));
        }
        return load(threads, seconds, i -> {
            PipelineRequest r = rs.get(i % rs.size());
            p.quantity(r);
            p.run(r);
        });
    }

    interface Call {
        void call(int i) throws Exception;
    }

    /** {@code threads} threads calling for {@code seconds}; completed calls per second. */
    static double load(int threads, int seconds, Call call) throws Exception {
        AtomicLong done = new AtomicLong();
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        List<Thread> ts = new ArrayList<>();
        List<Exception> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
        long t0 = System.nanoTime();
        for (int t = 0; t < threads; t++) {
            int offset = t;
            Thread th = new Thread(() -> {
                int i = offset;
                try {
                    while (System.nanoTime() < end) {
                        call.call(i++);
                        done.incrementAndGet();
                        COUNT.incrementAndGet();
                    }
                } catch (Exception e) {
                    errors.add(e);
                }
            });
            th.start();
            ts.add(th);
        }
        for (Thread th : ts) {
            th.join();
        }
        if (!errors.isEmpty()) {
            throw errors.get(0);
        }
        return done.get() / ((System.nanoTime() - t0) / 1e9);
    }

    static byte[] png(String text, String font, int size) throws IOException {
        Font f = new Font(font, Font.PLAIN, size);
        FontMetrics fm = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB).createGraphics().getFontMetrics(f);
        int w = fm.stringWidth(text) + 2 * size;
        int h = fm.getHeight() + 2 * size;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(new Color(0x101010));
        g.setFont(f);
        g.drawString(text, size, size + fm.getAscent());
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }
}

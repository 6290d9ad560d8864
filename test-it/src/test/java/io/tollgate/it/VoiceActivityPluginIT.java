package io.tollgate.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.sound.sampled.AudioFileFormat;
import javax.sound.sampled.AudioFormat;
import javax.sound.sampled.AudioInputStream;
import javax.sound.sampled.AudioSystem;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * The voice-activity capability plugin (issue 13; plugins/voice-activity) on the real distribution: the jar the build
 * made, signed by a test vendor and licensed with {@code allow_code} in meter {@code audio_seconds}. A WAV file of
 * speech espeak-ng synthesizes between silences is POSTed as a binary BYTES tensor and as base64 in JSON; a stream in
 * two requests; a 44.1 kHz WAV is refused with 400 and not billed; a request for a stream busy with a long request is
 * refused with 400 at once and not billed.
 */
public class VoiceActivityPluginIT {
    private static final String INFER = "/v2/models/voice-activity/infer";
    private static Path tmp;
    private static Path data;
    private static ApplianceProcess appliance;
    private static Http http;
    private static int port;
    private static short[] speech;     // 16 kHz: 1.0 s silence, the phrase, 1.2 s silence
    private static double[] truth;     // where the phrase's samples are above 0.01 (s)

    @BeforeClass
    public static void start() throws Exception {
        tmp = Files.createTempDirectory("tollgate-vad-it");
        data = tmp.resolve("data");
        Path plugins = Files.createDirectories(tmp.resolve("plugins"));
        Path licenses = Files.createDirectories(tmp.resolve("licenses"));
        Path jar = plugins.resolve("voice-activity-1.0.0.jar");
        Files.copy(pluginJar(), jar);
        TestVendor vendor = TestVendor.get();
        vendor.signOnly(jar);
        Files.write(licenses.resolve("voice-activity.lic"), vendor.issuer().plugin("voice-activity")
                .meter("audio_seconds").allowCode(true).issue());
        speech = synthesize("please read the serial number printed on the part");
        appliance = new ApplianceProcess(tmp.resolve("appliance.log"));
        port = TollgateExam.freePort();
        Process p = appliance.run(port, data, plugins, null, Map.of(), "--licenses", licenses.toString());
        appliance.awaitReady(p, port, 120_000);
        http = new Http(port);
        http.awaitPlugin("tollgate.plugin.voice-activity", "READY", 90_000);
    }

    @AfterClass
    public static void stop() {
        if (appliance != null) {
            appliance.killAll();
            ApplianceProcess.keepLogs(tmp, Path.of("target", "voice-activity-plugin-it-logs"));
            ApplianceProcess.deleteTree(tmp);
        }
    }

    /** The plugin jar this reactor built (test-it depends on the module, so it is built first). */
    private static Path pluginJar() throws IOException {
        Path target = Path.of("..", "plugins", "voice-activity", "target");
        try (DirectoryStream<Path> jars = Files.newDirectoryStream(target, "tollgate-plugin-voice-activity-*.jar")) {
            for (Path j : jars) {
                if (!j.getFileName().toString().endsWith("-sources.jar")) {
                    return j;
                }
            }
        }
        throw new IOException("no tollgate-plugin-voice-activity jar in " + target.toAbsolutePath()
                + "; build plugins/voice-activity first");
    }

    /** espeak-ng saying {@code text}, resampled to 16 kHz by javax.sound, between 1.0 s and 1.2 s of silence. */
    private static short[] synthesize(String text) throws Exception {
        Path wav = tmp.resolve("espeak.wav");
        Process p;
        try {
            p = new ProcessBuilder("espeak-ng", "-v", "en", "-w", wav.toString(), text).redirectErrorStream(true)
                    .start();
        } catch (IOException e) {
            throw new AssertionError("espeak-ng is not installed (" + e.getMessage() + "); the test synthesizes its"
                    + " speech with it: apt-get install espeak-ng (.ci/run does)", e);
        }
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue("espeak-ng: " + log, p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0);
        byte[] pcm;
        try (AudioInputStream in = AudioSystem.getAudioInputStream(wav.toFile())) {
            AudioFormat to = new AudioFormat(AudioFormat.Encoding.PCM_SIGNED, 16000, 16, 1, 2, 16000, false,
                    Map.of("interpolation", "sinc"));
            pcm = AudioSystem.getAudioInputStream(to, in).readAllBytes();
        }
        short[] phrase = new short[pcm.length / 2];
        ByteBuffer.wrap(pcm).order(ByteOrder.LITTLE_ENDIAN).asShortBuffer().get(phrase);
        short[] all = new short[16000 + phrase.length + 19200];
        System.arraycopy(phrase, 0, all, 16000, phrase.length);
        int first = 0;
        while (Math.abs(all[first]) <= 328) {
            first++;
        }
        int last = all.length - 1;
        while (Math.abs(all[last]) <= 328) {
            last--;
        }
        truth = new double[] {first / 16000.0, (last + 1) / 16000.0};
        return all;
    }

    private static byte[] wav(short[] samples, float rate) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(samples.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        b.asShortBuffer().put(samples);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        AudioSystem.write(new AudioInputStream(new ByteArrayInputStream(b.array()),
                new AudioFormat(rate, 16, 1, true, false), samples.length), AudioFileFormat.Type.WAVE, out);
        return out.toByteArray();
    }

    /** POSTs {@code wav} as input 'audio', BYTES [1], in the binary data extension (4-byte length, then the bytes). */
    private static Http.Response postBinary(String id, byte[] wav) throws Exception {
        byte[] header = ("{\"id\":\"" + id + "\",\"inputs\":[{\"name\":\"audio\",\"datatype\":\"BYTES\",\"shape\":[1],"
                + "\"parameters\":{\"binary_data_size\":" + (wav.length + 4) + "}}]}").getBytes(StandardCharsets.UTF_8);
        ByteBuffer body = ByteBuffer.allocate(header.length + 4 + wav.length).order(ByteOrder.LITTLE_ENDIAN);
        body.put(header).putInt(wav.length).put(wav);
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + INFER))
                .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/octet-stream")
                .header("Inference-Header-Content-Length", String.valueOf(header.length))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.array())).build(), HttpResponse.BodyHandlers.ofString());
        return new Http.Response(r.statusCode(), r.body());
    }

    private static JsonNode output(JsonNode response, String name) {
        JsonNode o = Http.outputNode(response, name);
        if (o == null) {
            throw new AssertionError("no output '" + name + "' in " + response);
        }
        return o;
    }

    private static List<double[]> segments(Http.Response r) throws Exception {
        assertEquals(r.body(), 200, r.status());
        JsonNode s = output(r.json(), "segments");
        assertEquals("FP32", s.path("datatype").asText());
        List<double[]> out = new ArrayList<>();
        for (int i = 0; i < s.path("data").size(); i += 2) {
            out.add(new double[] {s.path("data").get(i).asDouble(), s.path("data").get(i + 1).asDouble()});
        }
        assertEquals(s.path("shape").toString(), out.size(), s.path("shape").get(0).asInt());
        return out;
    }

    private static List<JsonNode> usage(String requestId) throws Exception {
        return appliance.usageOf(data, requestId);
    }

    @Test
    public void aWavAsBinaryBytesIsSegmentedAndBilledInAudioSeconds() throws Exception {
        List<double[]> found = segments(postBinary("vad-binary", wav(speech, 16000)));
        assertEquals("one phrase, one segment", 1, found.size());
        assertEquals("start", truth[0], found.get(0)[0], 0.100);
        assertEquals("end", truth[1], found.get(0)[1], 0.100);

        List<JsonNode> records = usage("vad-binary");
        assertEquals(records.toString(), 1, records.size());
        assertEquals("audio_seconds", records.get(0).path("meter").asText());
        assertEquals((long) Math.ceil(speech.length / 16000.0), records.get(0).path("quantity").asLong());
        assertEquals("voice-activity", records.get(0).path("model").asText());

        // the same file as base64 in a JSON body gives the same segments
        String json = "{\"id\":\"vad-json\",\"inputs\":[{\"name\":\"audio\",\"datatype\":\"BYTES\",\"shape\":[1],"
                + "\"data\":[\"" + Base64.getEncoder().encodeToString(wav(speech, 16000)) + "\"]}]}";
        List<double[]> viaJson = segments(http.post(INFER, json));
        assertEquals(found.get(0)[0], viaJson.get(0)[0], 1e-6);
        assertEquals(found.get(0)[1], viaJson.get(0)[1], 1e-6);
    }

    @Test
    public void aStreamInTwoRequestsGivesTheSegmentOfOne() throws Exception {
        int cut = (int) ((truth[0] + truth[1]) / 2 * 16000);   // in the middle of the phrase
        StringBuilder first = new StringBuilder();
        StringBuilder second = new StringBuilder();
        for (int i = 0; i < speech.length; i++) {
            StringBuilder b = i < cut ? first : second;
            b.append(b.length() == 0 ? "" : ",").append(speech[i] / 32768f);
        }
        Http.Response a = http.post(INFER, "{\"id\":\"vad-s1\",\"inputs\":[{\"name\":\"pcm\",\"datatype\":\"FP32\","
                + "\"shape\":[" + cut + "],\"data\":[" + first + "]}],\"parameters\":{\"stream_id\":\"line-4\"}}");
        assertEquals(a.body(), 0, segments(a).size());
        JsonNode open = output(a.json(), "open_segment");
        assertEquals(a.body(), 1, open.path("data").size());
        Http.Response b = http.post(INFER, "{\"id\":\"vad-s2\",\"inputs\":[{\"name\":\"pcm\",\"datatype\":\"FP32\","
                + "\"shape\":[" + (speech.length - cut) + "],\"data\":[" + second + "]}],"
                + "\"parameters\":{\"stream_id\":\"line-4\",\"end_of_stream\":true}}");
        List<double[]> found = segments(b);
        assertEquals(b.body(), 1, found.size());
        assertEquals(cut / 16000.0, output(b.json(), "offset").path("data").get(0).asDouble(), 1e-4);
        assertEquals(open.path("data").get(0).asDouble(), found.get(0)[0], 1e-6);
        assertEquals("start", truth[0], found.get(0)[0], 0.100);
        assertEquals("end", truth[1], found.get(0)[1], 0.100);
        assertEquals((long) Math.ceil(cut / 16000.0), usage("vad-s1").get(0).path("quantity").asLong());
    }

    @Test
    public void aWavAt44100HzIs400AndNotBilled() throws Exception {
        Http.Response r = postBinary("vad-44k", wav(speech, 44100));
        assertEquals(r.body(), 400, r.status());
        String error = r.json().path("error").asText();
        assertTrue(error, error.contains("44100 Hz") && error.contains("16000 or 8000"));
        assertEquals(List.of(), usage("vad-44k"));
        Http.Response notWav = postBinary("vad-text", "just some text".getBytes(StandardCharsets.UTF_8));
        assertEquals(notWav.body(), 400, notWav.status());
        assertTrue(notWav.body(), notWav.json().path("error").asText().contains("not a WAV file"));
    }
    @Test
    public void aRequestForABusyStreamIs400AtOnceAndNotBilled() throws Exception {
        short[] noise = new short[60 * 16000];   // 60 s of low noise: 1875 windows, some seconds on a loaded box
        java.util.Random random = new java.util.Random(8);
        for (int i = 0; i < noise.length; i++) {
            noise[i] = (short) (random.nextGaussian() * 100);
        }
        byte[] wav = wav(noise, 16000);
        byte[] header = ("{\"id\":\"vad-long\",\"inputs\":[{\"name\":\"audio\",\"datatype\":\"BYTES\","
                + "\"shape\":[1],\"parameters\":{\"binary_data_size\":" + (wav.length + 4) + "}}],"
                + "\"parameters\":{\"stream_id\":\"busy-1\"}}").getBytes(StandardCharsets.UTF_8);
        ByteBuffer body = ByteBuffer.allocate(header.length + 4 + wav.length).order(ByteOrder.LITTLE_ENDIAN);
        body.put(header).putInt(wav.length).put(wav);
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        java.util.concurrent.CompletableFuture<HttpResponse<String>> longOne = client.sendAsync(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + INFER)).timeout(Duration.ofSeconds(120))
                .header("Content-Type", "application/octet-stream")
                .header("Inference-Header-Content-Length", String.valueOf(header.length))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.array())).build(), HttpResponse.BodyHandlers.ofString());
        Http.Response busy = null;
        long busyMs = 0;
        for (int i = 0; busy == null && !longOne.isDone(); i++) {
            Thread.sleep(50);
            long t0 = System.nanoTime();
            Http.Response r = http.post(INFER, "{\"id\":\"vad-busy-" + i + "\",\"inputs\":[{\"name\":\"pcm\","
                    + "\"datatype\":\"FP32\",\"shape\":[4],\"data\":[0,0,0,0]}],\"parameters\":{\"stream_id\":\"busy-1\"}}");
            if (r.status() == 400) {
                busy = r;
                busyMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                assertEquals("a refused request is not billed", List.of(), usage("vad-busy-" + i));
            } else {
                assertEquals(r.body(), 200, r.status());   // sent before the long request reached the stream
            }
        }
        HttpResponse<String> done = longOne.get(120, TimeUnit.SECONDS);
        assertEquals(done.body(), 200, done.statusCode());
        assertTrue("a request reached the stream while the long one ran on it", busy != null);
        assertEquals("stream busy-1 is busy with another request; send a stream's chunks one after another",
                busy.json().path("error").asText());
        assertTrue("answered at once, not after the long request: " + busyMs + " ms", busyMs < 2000);
    }
}

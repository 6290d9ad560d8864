package io.tollgate.plugins.vad;

import static io.tollgate.plugins.vad.SileroStage.floats;
import static io.tollgate.plugins.vad.SileroStage.output;
import static io.tollgate.plugins.vad.SileroStage.pcm;
import static io.tollgate.plugins.vad.SileroStage.request;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.pipeline.PipelineException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * Streams are bounded: idle ones expire after 60 s, a tenant holds at most 256 (its own least recently used gives way),
 * the table at most 1024 (the tenant holding the most gives way); a stream busy with a request refuses another at once.
 */
public class StreamTableTest {
    static SileroStage silero;
    static Path work;
    final AtomicLong clock = new AtomicLong(1_000_000_000L);

    @BeforeClass
    public static void setUp() throws Exception {
        silero = new SileroStage();
        work = Files.createTempDirectory("vad-streams");
    }

    @AfterClass
    public static void tearDown() throws Exception {
        silero.close();
        Files.deleteIfExists(work);
    }

    VoiceActivityPipeline pipeline() throws Exception {
        return pipeline(new StreamTable(clock::get));
    }

    VoiceActivityPipeline pipeline(StreamTable table) throws Exception {
        VoiceActivityPipeline p = new VoiceActivityPipeline(table);
        p.open(silero.context(work));
        return p;
    }

    static float offset(VoiceActivityPipeline p, String tenant, String id, int samples) throws Exception {
        return floats(output(p.run(request(tenant, List.of(pcm(new float[samples])), Map.of("stream_id", id))),
                "offset"))[0];
    }

    @Test
    public void anIdleStreamExpiresAfter60Seconds() throws Exception {
        try (VoiceActivityPipeline p = pipeline()) {
            assertEquals(0f, offset(p, "t", "x", 8000), 0f);
            clock.addAndGet(TimeUnit.SECONDS.toNanos(59));
            assertEquals("59 s idle: still there", 0.5f, offset(p, "t", "x", 8000), 0f);
            clock.addAndGet(TimeUnit.SECONDS.toNanos(61));
            assertEquals("61 s idle: started afresh", 0f, offset(p, "t", "x", 8000), 0f);
            assertEquals(1, p.openStreams());
        }
    }

    @Test
    public void aTenantAtItsQuotaForgetsOnlyItsOwnLeastRecentlyUsedStream() throws Exception {
        StreamTable table = new StreamTable(clock::get);
        try (VoiceActivityPipeline p = pipeline(table)) {
            assertEquals(0f, offset(p, "bob", "mic", 4), 0f);
            for (int i = 0; i < 1100; i++) {
                offset(p, "alice", "s" + i, 4);
                clock.addAndGet(1_000_000);
            }
            assertEquals("bob's stream went on", 4 / 16000f, offset(p, "bob", "mic", 4), 1e-9f);
            assertEquals(StreamTable.MAX_STREAMS_PER_TENANT, table.size("alice"));
            assertEquals(1, table.size("bob"));
            assertEquals(StreamTable.MAX_STREAMS_PER_TENANT + 1, p.openStreams());
            assertEquals("alice's newest streams are kept", 4 / 16000f, offset(p, "alice", "s1099", 4), 1e-9f);
            assertEquals("alice's oldest ones gave way", 0f, offset(p, "alice", "s0", 4), 0f);
            assertEquals("845 streams forgotten, one WARN line", 1, table.warnings());
            clock.addAndGet(TimeUnit.SECONDS.toNanos(30));
            for (int i = 0; i < 300; i++) {
                offset(p, "alice", "t" + i, 4);
            }
            assertEquals("still within the minute: no second WARN", 1, table.warnings());
            clock.addAndGet(TimeUnit.SECONDS.toNanos(31));
            offset(p, "alice", "u", 4);
            assertEquals("a minute later: one summary line", 2, table.warnings());
            assertEquals(0f, offset(p, "bob", "mic", 4), 0f);   // bob's stream idled 61 s: expired, starts afresh
        }
    }

    @Test
    public void aFullTableTakesFromTheTenantHoldingTheMost() throws Exception {
        StreamTable table = new StreamTable(clock::get);
        try (VoiceActivityPipeline p = pipeline(table)) {
            assertEquals(0f, offset(p, "bob", "mic", 4), 0f);
            int n = 0;
            for (String tenant : List.of("a", "b", "c")) {
                for (int i = 0; i < StreamTable.MAX_STREAMS_PER_TENANT; i++) {
                    offset(p, tenant, "s" + i, 4);
                    clock.addAndGet(1_000_000);
                    n++;
                }
            }
            for (int i = 0; n + 1 < StreamTable.MAX_STREAMS; i++, n++) {
                offset(p, "d", "s" + i, 4);
            }
            assertEquals(StreamTable.MAX_STREAMS, p.openStreams());
            for (int i = 0; i < 50; i++) {
                offset(p, "e" + i, "new", 4);   // 50 new tenants, one stream each
            }
            assertEquals("the global bound stays", StreamTable.MAX_STREAMS, p.openStreams());
            assertEquals("bob, holding one stream, kept it", 4 / 16000f, offset(p, "bob", "mic", 4), 1e-9f);
            int[] sizes = {table.size("a"), table.size("b"), table.size("c"), table.size("d")};
            assertEquals("the 50 came from the four big tenants", 1023 - 50, IntStream.of(sizes).sum());
            assertTrue("always from the one holding the most: " + Arrays.toString(sizes),
                    IntStream.of(sizes).max().getAsInt() - IntStream.of(sizes).min().getAsInt() <= 1);
            p.close();
            assertEquals("close forgets every stream", 0, p.openStreams());
        }
    }

    @Test
    public void aBusyStreamRefusesAtOnceAndNeverWaits() throws Exception {
        StreamTable table = new StreamTable();
        try (VoiceActivityPipeline p = pipeline(table)) {
            float[] noise = new float[120 * 16000];   // 120 s: 3750 windows, some 1 s of work: caught running
            Random r = new Random(13);
            for (int i = 0; i < noise.length; i++) {
                noise[i] = (float) (0.01 * r.nextGaussian());
            }
            AtomicReference<Object> longOne = new AtomicReference<>();
            Thread t = new Thread(() -> {
                try {
                    longOne.set(p.run(request("alice", List.of(pcm(noise)), Map.of("stream_id", "mic"))));
                } catch (Exception e) {
                    longOne.set(e);
                }
            });
            StreamTable.Stream s = table.acquire(new StreamTable.Key("alice", "mic"), 16000);
            t.start();
            while (!s.busy.get() && t.isAlive()) {
                Thread.onSpinWait();
            }
            assertTrue("the long request is running on the stream", s.busy.get());
            long t0 = System.nanoTime();
            try {
                offset(p, "alice", "mic", 4);
                fail("a request to a busy stream was served");
            } catch (PipelineException e) {
                assertEquals(PipelineException.Reason.INVALID_INPUT, e.reason());
                assertEquals("stream mic is busy with another request; send a stream's chunks one after another",
                        e.getMessage());
            }
            long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue("refused at once, not after waiting: " + waitedMs + " ms", waitedMs < 500);
            assertTrue("the long request still runs", t.isAlive());
            assertEquals("another tenant's stream of the same id is not busy", 0f, offset(p, "bob", "mic", 4), 0f);
            t.join();
            assertTrue("the long request was served: " + longOne.get(), longOne.get() instanceof List);
            assertEquals("after it, the stream goes on", 120f, offset(p, "alice", "mic", 4), 0f);
        }
    }
}

package io.tollgate.plugins.vad;

import static io.tollgate.plugins.vad.SileroStage.floats;
import static io.tollgate.plugins.vad.SileroStage.output;
import static io.tollgate.plugins.vad.SileroStage.pcm;
import static io.tollgate.plugins.vad.SileroStage.request;
import static org.junit.Assert.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/** Streams are bounded: idle ones expire after 60 s, the least recently used one gives way past 1024. */
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
        VoiceActivityPipeline p = new VoiceActivityPipeline(new StreamTable(clock::get));
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
    public void theLeastRecentlyUsedStreamGivesWayPast1024() throws Exception {
        try (VoiceActivityPipeline p = pipeline()) {
            for (int i = 0; i < StreamTable.MAX_STREAMS; i++) {
                offset(p, "t", "s" + i, 512);
                clock.addAndGet(1_000_000);
            }
            assertEquals(StreamTable.MAX_STREAMS, p.openStreams());
            assertEquals("s0 used again: now the youngest", 0.032f, offset(p, "t", "s0", 512), 1e-6f);
            assertEquals(0f, offset(p, "t", "new", 512), 0f);
            assertEquals(StreamTable.MAX_STREAMS, p.openStreams());
            assertEquals("s1 was the least recently used: forgotten", 0f, offset(p, "t", "s1", 512), 0f);
            assertEquals("s0 kept", 0.064f, offset(p, "t", "s0", 512), 1e-6f);
            assertEquals("s5 kept", 0.032f, offset(p, "t", "s5", 512), 1e-6f);
            assertEquals("another tenant's s5 is another stream", 0f, offset(p, "u", "s5", 512), 0f);
            p.close();
            assertEquals("close forgets every stream", 0, p.openStreams());
        }
    }
}

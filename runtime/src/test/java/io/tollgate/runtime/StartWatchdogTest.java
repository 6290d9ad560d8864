package io.tollgate.runtime;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The start watchdog against a real blocked start: a thread opening a FIFO that no one writes blocks in the kernel,
 * as a component reading a FIFO named in a model's configuration file did (review of issue 11: the appliance never
 * bound its port and never exited, --start-timeout did not fire).
 */
public class StartWatchdogTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    @Test
    public void aStartBlockedInAFifoIsExit13NamingWhereItIsBlocked() throws Exception {
        Path fifo = tmp.getRoot().toPath().resolve("ca.pem");
        Process mk = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        assertEquals(0, mk.waitFor());
        Thread starter = new Thread(() -> {
            try (InputStream in = Files.newInputStream(fifo)) {
                in.read();
            } catch (Exception e) {
                // released at the end of the test
            }
        }, "starter");
        starter.setDaemon(true);
        starter.start();
        CompletableFuture<Integer> exit = new CompletableFuture<>();
        long t0 = System.nanoTime();
        StartWatchdog.arm(starter, 500, 200, exit::complete);
        assertEquals(Integer.valueOf(StartFailure.START_TIMEOUT), exit.get(30, TimeUnit.SECONDS));
        assertTrue("not before its timeout", System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(500));
        String message = StartWatchdog.message(starter, 500, 200);
        assertTrue(message, message.startsWith("not started within 500 ms (--start-timeout 200 ms + 300 ms"));
        assertTrue(message, message.contains("blocked in ") && message.contains("RUNNABLE"));
        assertTrue(message, message.contains("StartWatchdogTest.lambda$"));
        // release the reader
        try (var out = Files.newOutputStream(fifo)) {
            out.write('x');
        }
        starter.join(10_000);
    }

    @Test
    public void aStartThatReturnsInTimeIsNeverStopped() throws Exception {
        CompletableFuture<Integer> exit = new CompletableFuture<>();
        try (StartWatchdog w = StartWatchdog.arm(Thread.currentThread(), 1000, 500, exit::complete)) {
            Thread.sleep(50);   // the start's work
        }
        Thread.sleep(1500);
        assertTrue("disarmed: no exit", !exit.isDone());
    }
}

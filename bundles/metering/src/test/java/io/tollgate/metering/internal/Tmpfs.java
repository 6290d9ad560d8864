package io.tollgate.metering.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;
import org.junit.Assume;
import org.junit.rules.ExternalResource;

/**
 * A real small tmpfs for the full-disk tests: {@link #mount} mounts one (or skips the test, saying why, where
 * {@code mount} fails: it needs root or CAP_SYS_ADMIN), the rule unmounts it after the test, and {@link #fill} fills
 * a file system to the last byte as another program would.
 */
final class Tmpfs extends ExternalResource {
    private Path mounted;

    /** Mounts a tmpfs of {@code size} (as {@code mount -o size=}, e.g. {@code 8m}) on the empty folder {@code dir}. */
    Path mount(Path dir, String size) throws IOException, InterruptedException {
        int rc = run("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir.toString());
        Assume.assumeTrue("cannot mount a tmpfs (needs root or CAP_SYS_ADMIN; mount exit " + rc + "): "
                + "the real full-disk case is not tested here", rc == 0);
        mounted = dir;
        return dir;
    }

    @Override
    protected void after() {
        try {
            if (mounted != null && run("umount", mounted.toString()) != 0) {
                // still busy: Chronicle unmaps closed files lazily; detach now, the kernel frees it once unused
                run("umount", "-l", mounted.toString());
            }
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException("unmounting " + mounted + " failed", e);
        }
    }

    static int run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor(30, TimeUnit.SECONDS) ? p.exitValue() : -1;
    }

    /** Writes {@code filler} until its file system is full, to the last partial block. */
    static void fill(Path filler) throws IOException {
        byte[] block = new byte[64 * 1024];
        try (OutputStream out = Files.newOutputStream(filler)) {
            while (true) {
                out.write(block);
            }
        } catch (IOException full) {
            // no space left: what we want
        }
        byte[] small = new byte[512];
        while (true) {   // the last partial blocks, so that not even a page is left
            try (OutputStream out = Files.newOutputStream(filler, StandardOpenOption.APPEND)) {
                out.write(small);
            } catch (IOException full) {
                return;
            }
        }
    }
}

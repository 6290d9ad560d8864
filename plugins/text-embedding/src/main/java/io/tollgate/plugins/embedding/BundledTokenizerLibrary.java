package io.tollgate.plugins.embedding;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens DJL's HuggingFace tokenizer inside the plugin bundle: the native {@code libtokenizers.so} the plugin carries
 * (under {@code native/lib/<os>-<arch>/cpu/}, as DJL's jar lays it out) is unpacked into the plugin's own work folder,
 * never into {@code ~/.djl.ai}, and DJL is kept offline.
 *
 * <p>DJL reads its switches only from system properties or environment variables: {@code RUST_LIBRARY_PATH} (the
 * native library to load instead of unpacking its own into a cache folder) and {@code ai.djl.offline} (no telemetry
 * call, no download). This class sets both only while DJL's tokenizer opens, under one lock, and puts the previous
 * values back before it returns, so no other bundle sees them afterwards (docs/decisions.md, 2026-12-01). DJL loads
 * the library once per class loader (its {@code LibUtils} static initializer); the library is therefore unpacked
 * once per class loader too, into a folder named after the process and the loader, because the JVM refuses to bind
 * one library file to a second class loader (a new revision of the plugin after an upgrade).
 */
final class BundledTokenizerLibrary {
    private static final Logger LOG = LoggerFactory.getLogger(BundledTokenizerLibrary.class);
    private static final String LIBRARY_PATH_KEY = "RUST_LIBRARY_PATH";
    private static final String OFFLINE_KEY = "ai.djl.offline";
    private static final String LIB_NAME = System.mapLibraryName("tokenizers");
    private static final Object LOCK = new Object();
    private static Path library;   // guarded by LOCK: the unpacked library this class loader uses

    private BundledTokenizerLibrary() {
    }

    /**
     * A tokenizer from a {@code tokenizer.json} (the HuggingFace tokenizers format).
     *
     * @param tokenizerJson the file's bytes (UTF-8 JSON)
     * @param options       DJL's tokenizer options, e.g. {@code truncation}, {@code maxLength}, {@code padding}
     * @param workFolder    where the native library is unpacked (the plugin's {@code PipelineContext.workFolder()})
     * @throws IOException when the library cannot be unpacked, or DJL refuses the library or the JSON (the message
     *                     says which)
     */
    static HuggingFaceTokenizer open(byte[] tokenizerJson, Map<String, String> options, Path workFolder)
            throws IOException {
        synchronized (LOCK) {
            Path lib = unpack(workFolder);
            Thread thread = Thread.currentThread();
            ClassLoader previousLoader = thread.getContextClassLoader();
            String previousPath = System.getProperty(LIBRARY_PATH_KEY);
            String previousOffline = System.getProperty(OFFLINE_KEY);
            try {
                // DJL finds its platform file through the context class loader: this bundle's.
                thread.setContextClassLoader(BundledTokenizerLibrary.class.getClassLoader());
                System.setProperty(LIBRARY_PATH_KEY, lib.toString());
                System.setProperty(OFFLINE_KEY, "true");
                return HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(tokenizerJson), options);
            } catch (RuntimeException e) {
                throw new IOException("the HuggingFace tokenizer could not open with native library " + lib + ": "
                        + e + (e.getCause() == null ? "" : " (" + e.getCause() + ")"), e);
            } finally {
                restore(LIBRARY_PATH_KEY, previousPath);
                restore(OFFLINE_KEY, previousOffline);
                thread.setContextClassLoader(previousLoader);
            }
        }
    }

    private static void restore(String key, String value) {
        if (value == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, value);
        }
    }

    /** Unpacks the library for this platform once per class loader; removes what earlier processes left. */
    private static Path unpack(Path workFolder) throws IOException {
        if (library != null) {
            return library;
        }
        String classifier = classifier();
        String resource = "native/lib/" + classifier + "/cpu/" + LIB_NAME;
        Path parent = workFolder.resolve("native");
        Files.createDirectories(parent);
        String mine = ProcessHandle.current().pid() + "-";
        removeStale(parent, mine);
        Path dir = parent.resolve(mine + Integer.toHexString(System.identityHashCode(
                BundledTokenizerLibrary.class.getClassLoader())));
        Files.createDirectories(dir);
        Path target = dir.resolve(LIB_NAME);
        try (InputStream in = BundledTokenizerLibrary.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("the plugin has no tokenizer library for " + classifier + " (" + resource
                        + "); it ships linux-x86_64 and linux-aarch64");
            }
            Path tmp = Files.createTempFile(dir, "lib", ".tmp");
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        LOG.info("tokenizer native library unpacked to {} ({} bytes)", target, Files.size(target));
        library = target;
        return target;
    }

    /** Folders of other processes (an earlier run of the appliance): nothing loads them any more. */
    private static void removeStale(Path parent, String minePrefix) {
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(parent)) {
            for (Path d : dirs) {
                if (!d.getFileName().toString().startsWith(minePrefix)) {
                    deleteTree(d);
                }
            }
        } catch (IOException | UncheckedIOException e) {
            LOG.warn("could not remove old tokenizer libraries under {}: {}", parent, e.toString());
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** DJL's platform folder name: {@code linux-x86_64} or {@code linux-aarch64}. */
    static String classifier() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String o = os.startsWith("linux") ? "linux" : os.startsWith("mac") ? "osx" : os.startsWith("win") ? "win" : os;
        String a = arch.equals("amd64") || arch.equals("x86_64") ? "x86_64"
                : arch.equals("aarch64") || arch.equals("arm64") ? "aarch64" : arch;
        return o + "-" + a;
    }
}

package io.tollgate.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ONNX Runtime's native libraries, extracted once into {@code DATA/native/onnxruntime-<key>/} and loaded from there
 * on every start (issue 11, start to ready). ORT 1.29 otherwise copies its 28 MB {@code libonnxruntime.so} out of its
 * jar into {@code java.io.tmpdir} each time {@code ai.onnxruntime.OnnxRuntime} loads (~0.2 s of CPU, inflating);
 * ORT loads from a folder named by the system property {@value #PROPERTY} instead, when it holds the libraries.
 *
 * <p>The key is a hash of the two libraries' names, sizes and CRC-32s as the ORT bundle's jar lists them (its central
 * directory: nothing is inflated to compute it), so another ORT release gets another folder and the old one is
 * deleted. A cached library is used only when the folder is the process owner's and writable by nobody else
 * (rwx------, as the data folder itself) and its size and CRC-32 match the jar's entry; otherwise it is extracted
 * again into a temporary file in the same folder and moved into place atomically. Anything that fails leaves the
 * property unset: ORT then extracts as it always did (one WARN says why).
 *
 * <p>Threads: {@link #prepare} runs on a thread of the launcher's while the framework initialises; the launcher waits
 * for it before any bundle starts.
 */
final class OrtNativeCache {
    private static final Logger LOG = LoggerFactory.getLogger(OrtNativeCache.class);
    /** ORT's system property: the folder to load its native libraries from. */
    static final String PROPERTY = "onnxruntime.native.path";
    /** The folder under the data folder that holds one sub-folder per ORT release. */
    static final String FOLDER = "native";
    private static final String PREFIX = "onnxruntime-";
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");

    private OrtNativeCache() {
    }

    /**
     * Makes sure the libraries of the ORT jar among {@code systemJars} are in {@code data/native/onnxruntime-<key>}
     * and sets {@value #PROPERTY} to that folder. Does nothing when the property is set already (the operator's
     * choice), when no jar holds ORT's libraries for this platform, or on any error (logged).
     *
     * @return the folder ORT will load from, empty when ORT extracts to its temporary folder as before
     */
    static Optional<Path> prepare(List<Path> systemJars, Path data) {
        if (System.getProperty(PROPERTY) != null) {
            return Optional.empty();
        }
        Optional<String> platform = platform();
        if (platform.isEmpty()) {
            return Optional.empty();
        }
        for (Path jar : systemJars) {
            if (!jar.getFileName().toString().contains("onnxruntime")) {
                continue;
            }
            try {
                Optional<Path> folder = prepare(jar, platform.get(), data.resolve(FOLDER));
                folder.ifPresent(f -> System.setProperty(PROPERTY, f.toString()));
                if (folder.isPresent()) {
                    return folder;
                }
            } catch (IOException | RuntimeException e) {
                LOG.warn("cannot keep ONNX Runtime's native libraries from {} in {}: {}; ONNX Runtime extracts them to"
                        + " its temporary folder at every start instead", jar, data.resolve(FOLDER), e.toString());
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    /** The libraries of {@code jar} for {@code platform} in a folder under {@code root}; empty if it has none. */
    static Optional<Path> prepare(Path jar, String platform, Path root) throws IOException {
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            List<ZipEntry> entries = new ArrayList<>();
            for (String library : List.of("onnxruntime", "onnxruntime4j_jni")) {
                ZipEntry e = zip.getEntry("ai/onnxruntime/native/" + platform + "/" + libraryFileName(library));
                if (e == null || e.getSize() < 0 || e.getCrc() < 0) {
                    return Optional.empty();
                }
                entries.add(e);
            }
            String key = key(entries);
            Path owned = root.toAbsolutePath().getParent();      // the data folder
            ownerOnlyFolder(root, owned);
            Path folder = root.resolve(PREFIX + key);
            ownerOnlyFolder(folder, owned);
            deleteParts(folder);
            int extracted = 0;
            for (ZipEntry e : entries) {
                Path file = folder.resolve(e.getName().substring(e.getName().lastIndexOf('/') + 1));
                if (!matches(file, e)) {
                    extract(zip, e, file);
                    extracted++;
                }
            }
            deleteOthers(root, folder);
            if (extracted > 0) {
                LOG.info("ONNX Runtime's native libraries extracted to {} (once; later starts load them from there)",
                        folder);
            }
            return Optional.of(folder);
        }
    }

    /** ORT's name for this platform's native folder ({@code linux-x64}), as {@code ai.onnxruntime.OnnxRuntime} makes it. */
    static Optional<String> platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String o = os.contains("mac") || os.contains("darwin") ? "osx" : os.contains("win") ? "win"
                : os.contains("nux") ? "linux" : null;
        String a = arch.startsWith("amd64") || arch.startsWith("x86_64") ? "x64" : arch.startsWith("aarch64")
                ? "aarch64" : null;
        return o == null || a == null ? Optional.empty() : Optional.of(o + "-" + a);
    }

    /** The file name ORT looks for in {@value #PROPERTY}'s folder (macOS: .dylib, not .jnilib). */
    static String libraryFileName(String library) {
        return System.mapLibraryName(library).replace("jnilib", "dylib");
    }

    private static String key(List<ZipEntry> entries) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (ZipEntry e : entries) {
                sha.update((e.getName() + " " + e.getSize() + " " + e.getCrc() + "\n").getBytes(StandardCharsets.UTF_8));
            }
            return HexFormat.of().formatHex(sha.digest(), 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    /**
     * The folder, made when missing, rwx------ and owned as the data folder is (the appliance's user, who made it
     * rwx------ at start): a library in it is loaded as code, so a folder someone else owns is refused (an IOException
     * naming it). The owner is compared with the data folder's, not with {@code user.name}, which a container's user
     * without a password entry does not have.
     */
    private static void ownerOnlyFolder(Path folder, Path data) throws IOException {
        if (Files.isSymbolicLink(folder)) {
            throw new IOException(folder + " is a symbolic link; remove it (the appliance makes the folder itself)");
        }
        Files.createDirectories(folder);
        String owner = Files.getOwner(folder, LinkOption.NOFOLLOW_LINKS).getName();
        String dataOwner = Files.getOwner(data).getName();
        if (!dataOwner.equals(owner)) {
            throw new IOException(folder + " belongs to " + owner + ", not to " + dataOwner + " who owns " + data);
        }
        try {
            if (!Files.getPosixFilePermissions(folder, LinkOption.NOFOLLOW_LINKS).equals(OWNER_ONLY)) {
                Files.setPosixFilePermissions(folder, OWNER_ONLY);
            }
        } catch (UnsupportedOperationException notPosix) {
            // nothing to check
        }
    }

    /** True when {@code file} is a regular file (not a link) with the entry's size and CRC-32. */
    static boolean matches(Path file, ZipEntry entry) throws IOException {
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) || Files.size(file) != entry.getSize()) {
            return false;
        }
        CRC32 crc = new CRC32();
        ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            while (ch.read(buffer) >= 0) {
                buffer.flip();
                crc.update(buffer);
                buffer.clear();
            }
        }
        return crc.getValue() == entry.getCrc();
    }

    /** Extracts {@code entry} into a temporary file next to {@code target} and moves it into place atomically. */
    private static void extract(ZipFile zip, ZipEntry entry, Path target) throws IOException {
        Path part = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".part");
        try {
            try (InputStream in = zip.getInputStream(entry);
                 OutputStream out = Files.newOutputStream(part, StandardOpenOption.TRUNCATE_EXISTING)) {
                in.transferTo(out);
            }
            if (!matches(part, entry)) {
                throw new IOException("the copy of " + entry.getName() + " in " + part + " does not match the jar's "
                        + "size and CRC-32");
            }
            try {
                Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(part, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(part);
        }
    }

    /** Removes what an extraction cut short left (the process stopped between writing and moving a file). */
    private static void deleteParts(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            for (Path p : s.filter(p -> p.getFileName().toString().endsWith(".part")).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Removes the folders of other ORT releases (an upgrade's leftovers); a failure is only logged. */
    private static void deleteOthers(Path root, Path keep) {
        try (Stream<Path> s = Files.list(root)) {
            for (Path other : s.filter(p -> !p.equals(keep) && p.getFileName().toString().startsWith(PREFIX)).toList()) {
                try (Stream<Path> walk = Files.walk(other)) {
                    for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        } catch (IOException e) {
            LOG.warn("cannot delete old ONNX Runtime libraries under {}: {}", root, e.toString());
        }
    }
}

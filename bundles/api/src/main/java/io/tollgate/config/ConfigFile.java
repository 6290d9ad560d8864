package io.tollgate.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Reads a file an operator names in the configuration (a TLS certificate or key, a CA bundle, a password or key file)
 * so that a wrong name cannot hang or exhaust the reader: the file must be a regular file (a symbolic link to one is
 * followed) of at most a given size. A FIFO would block the reading thread until something writes to it, a device
 * such as {@code /dev/zero} would never end, a folder cannot be read; each is refused at once with an
 * {@link IOException} whose message names the file and what is wrong ("is not a regular file (a FIFO)", "is larger
 * than 1048576 bytes").
 *
 * <p>A file swapped for a FIFO between the check and the open still blocks the open: only someone who may write the
 * configuration folder can do that, and the appliance's callers bound their waits (start watchdog, load/unload).
 *
 * @since 1.1
 */
public final class ConfigFile {
    /** A size limit for PEM files (certificates, keys, CA bundles; Debian's whole CA bundle is about 220 KB). */
    public static final int MAX_PEM_BYTES = 1 << 20;

    private ConfigFile() {
    }

    /**
     * The bytes of {@code file}.
     *
     * @param file     the file, as configured
     * @param maxBytes the largest size accepted, in bytes
     * @throws java.nio.file.NoSuchFileException when it does not exist
     * @throws IOException                         when it is not a regular file, is larger than {@code maxBytes}
     *                                             or cannot be read
     */
    public static byte[] read(Path file, int maxBytes) throws IOException {
        BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
        if (!a.isRegularFile()) {
            throw new IOException(file + " is not a regular file (" + (a.isDirectory() ? "a folder"
                    : a.isOther() ? "a FIFO, socket or device" : "not a file") + ")");
        }
        if (a.size() > maxBytes) {
            throw new IOException(file + " is larger than " + maxBytes + " bytes (" + a.size() + " bytes)");
        }
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(maxBytes + 1);    // it may have grown since: never more than the limit
        }
        if (bytes.length > maxBytes) {
            throw new IOException(file + " is larger than " + maxBytes + " bytes");
        }
        return bytes;
    }

    /**
     * The text of {@code file}, read as {@link #read} does and decoded as UTF-8 (US-ASCII files, PEM among them,
     * decode the same).
     *
     * @throws IOException as {@link #read}
     */
    public static String readString(Path file, int maxBytes) throws IOException {
        return new String(read(file, maxBytes), StandardCharsets.UTF_8);
    }
}

package io.tollgate.sync.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * The ack cursor: the highest seq the cloud acknowledged, one decimal line in {@code <dir>/acked-seq}. Written
 * atomically (temporary file, fsync, atomic rename, fsync of the folder) so a crash leaves the old or the new
 * value, never a torn one. Used by the sender thread (writes) and the CLI (reads).
 */
public final class AckedSeqFile {
    /** File name of the cursor inside the sync directory. */
    public static final String NAME = "acked-seq";

    private final Path file;

    public AckedSeqFile(Path directory) {
        this.file = directory.resolve(NAME);
    }

    public Path path() {
        return file;
    }

    /** The persisted acked seq; 0 when the file does not exist (nothing acknowledged yet). */
    public long read() throws IOException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII).trim();
        } catch (NoSuchFileException e) {
            return 0;
        }
        try {
            long v = Long.parseLong(text);
            if (v < 0) {
                throw new NumberFormatException("negative");
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IOException(file + " does not hold an acked seq (a non-negative decimal number) but '"
                    + (text.length() > 40 ? text.substring(0, 40) + "..." : text) + "'; delete it to have the device "
                    + "send every record still in its journal again (the cloud drops duplicates)");
        }
    }

    /** Replaces the persisted value, durably. */
    public void write(long ackedSeq) throws IOException {
        Path dir = file.getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve(NAME + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer b = ByteBuffer.wrap((ackedSeq + "\n").getBytes(StandardCharsets.US_ASCII));
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            // some file systems cannot fsync a directory; the rename itself is still atomic
        }
    }
}

package io.tollgate.sync.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Why the uplink cannot send as configured, one line in {@code <dir>/uplink-note} (e.g. "broker maximum packet size
 * 4096 bytes: batches are split to fit it"), so that {@code bin/tollgate sync status} can say it without the
 * appliance running (issue 8). Absent when there is nothing to say. Written by the sender thread when the note
 * changes (temporary file and atomic rename); read by the CLI.
 */
public final class UplinkNoteFile {
    /** File name of the note inside the sync directory. */
    public static final String NAME = "uplink-note";

    private final Path file;

    public UplinkNoteFile(Path directory) {
        this.file = directory.resolve(NAME);
    }

    public Path path() {
        return file;
    }

    /** The note; "" when there is none. */
    public String read() throws IOException {
        try {
            return Files.readString(file, StandardCharsets.UTF_8).strip();
        } catch (NoSuchFileException e) {
            return "";
        }
    }

    /** Replaces the note; an empty one removes the file. */
    void write(String note) throws IOException {
        if (note.isEmpty()) {
            Files.deleteIfExists(file);
            return;
        }
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(NAME + ".tmp");
        Files.writeString(tmp, note + "\n", StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}

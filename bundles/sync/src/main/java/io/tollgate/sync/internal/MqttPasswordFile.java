package io.tollgate.sync.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;

/**
 * The device's MQTT password ({@code mqtt.password.file}, written by {@code bin/tollgate device enroll}): a file only
 * its owner may read (mode 0600 or 0400), read again at every connect so that a rotated password needs no restart.
 * The password is the file's first line (a trailing newline is not part of it).
 *
 * <p>Threads: {@link #check} on the activating thread, {@link #read} on the sender thread.
 */
final class MqttPasswordFile {
    private static final Set<PosixFilePermission> OWNER_ONLY = EnumSet.of(PosixFilePermission.OWNER_READ,
            PosixFilePermission.OWNER_WRITE);

    private MqttPasswordFile() {
    }

    /**
     * Checks that {@code file} exists, is readable and readable by its owner only.
     *
     * @throws IllegalArgumentException naming {@code mqtt.password.file}, the file and what to do
     */
    static void check(Path file) {
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new IllegalArgumentException("mqtt.password.file " + file + " does not exist or is not readable "
                    + "(bin/tollgate device enroll writes it)");
        }
        Set<PosixFilePermission> perms;
        try {
            perms = Files.getPosixFilePermissions(file);
        } catch (UnsupportedOperationException e) {
            return; // not a POSIX file system: nothing to check
        } catch (IOException e) {
            throw new IllegalArgumentException("mqtt.password.file " + file + ": cannot read its permissions: " + e);
        }
        if (!OWNER_ONLY.containsAll(perms)) {
            throw new IllegalArgumentException("mqtt.password.file " + file + " has mode "
                    + java.nio.file.attribute.PosixFilePermissions.toString(perms) + ": a password file must be "
                    + "readable by its owner only; chmod 600 " + file);
        }
    }

    /** The password, after {@link #check}; {@code IOException} when the file went away or its mode widened. */
    static byte[] read(Path file) throws IOException {
        try {
            check(file);
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage());
        }
        String text = io.tollgate.config.ConfigFile.readString(file, 64 * 1024);
        int nl = text.indexOf('\n');
        String line = nl < 0 ? text : text.substring(0, nl);
        if (line.endsWith("\r")) {
            line = line.substring(0, line.length() - 1);
        }
        if (line.isEmpty()) {
            throw new IOException("mqtt.password.file " + file + " is empty");
        }
        return line.getBytes(StandardCharsets.UTF_8);
    }
}

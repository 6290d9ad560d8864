package io.tollgate.cloud.auth;

import io.tollgate.cloud.DataDirectory;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The folder {@code <data>/auth} (mode 0700) and its files (0600): written whole to a temporary file and renamed
 * over the old one, so a reader never sees half a file; read-modify-write under an exclusive lock on
 * {@code auth/.lock}, so the CLI and a running service that both change a file do not lose each other's change.
 */
public final class AuthFiles {
    private static final Logger LOG = LoggerFactory.getLogger(AuthFiles.class);
    static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> OWNER_DIR = PosixFilePermissions.fromString("rwx------");

    private AuthFiles() {
    }

    /** {@code <data>/auth}. */
    public static Path folder(Path dataDir) {
        return dataDir.resolve("auth");
    }

    /** Creates {@code <data>/auth} with mode 0700 when absent; returns it. */
    static Path ensureFolder(Path dataDir) throws IOException {
        Path dir = folder(dataDir);
        if (!Files.isDirectory(dir)) {
            DataDirectory.ensure(dataDir);
            try {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_DIR));
            } catch (java.nio.file.FileAlreadyExistsException raced) {
                // made by another process at the same time
            }
            Files.setPosixFilePermissions(dir, OWNER_DIR);
        }
        return dir;
    }

    /**
     * Replaces {@code file} with {@code text}, mode {@code perms}, atomically (temp file + rename), keeping the group
     * of the file it replaces (e.g. {@code chgrp mosquitto} on a broker's passwd survives a regeneration).
     */
    static void writeAtomically(Path file, String text, Set<PosixFilePermission> perms) throws IOException {
        GroupPrincipal group = null;
        try {
            group = Files.getFileAttributeView(file, PosixFileAttributeView.class).readAttributes().group();
        } catch (NoSuchFileException absent) {
            // a new file: the process's group
        }
        Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        Files.writeString(tmp, text, StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
        if (group != null) {
            try {
                Files.getFileAttributeView(tmp, PosixFileAttributeView.class).setGroup(group);
            } catch (IOException e) {
                LOG.warn("Cannot give {} the group {} of the file it replaces ({}); chgrp it again if another user "
                        + "(the broker) reads it", file, group.getName(), e.getMessage());
            }
        }
        // set after creation: the umask cannot take bits away from an explicit chmod
        Files.setPosixFilePermissions(tmp, perms);
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** A change to the files of {@code <data>/auth}, run under its lock. */
    interface Change<T> {
        T apply() throws IOException;
    }

    /** Runs {@code change} holding the exclusive lock on {@code <data>/auth/.lock}. */
    static <T> T locked(Path dataDir, Change<T> change) throws IOException {
        Path lock = ensureFolder(dataDir).resolve(".lock");
        try (FileChannel ch = FileChannel.open(lock, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock held = ch.lock()) {
            return change.apply();
        }
    }

    /**
     * The secret in {@code file} (first line, trimmed), refused unless only its owner may read it (mode 0600 or
     * 0400): a password others can read is not one.
     *
     * @throws java.nio.file.NoSuchFileException (or another IOException) when it cannot be read
     * @throws IllegalArgumentException when its mode lets others read it, or it is empty
     */
    public static String readSecret(Path file, String what) throws IOException {
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
        for (PosixFilePermission p : perms) {
            if (p != PosixFilePermission.OWNER_READ && p != PosixFilePermission.OWNER_WRITE) {
                throw new IllegalArgumentException(what + " " + file + " has mode "
                        + PosixFilePermissions.toString(perms) + "; make it readable by its owner only (chmod 600 "
                        + file + ")");
            }
        }
        String text = Files.readString(file, StandardCharsets.UTF_8);
        int nl = text.indexOf('\n');
        String secret = (nl < 0 ? text : text.substring(0, nl)).trim();
        if (secret.isEmpty()) {
            throw new IllegalArgumentException(what + " " + file + " is empty");
        }
        return secret;
    }
}

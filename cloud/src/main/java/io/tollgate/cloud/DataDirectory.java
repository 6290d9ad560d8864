package io.tollgate.cloud;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The billing data folder (ledger, cloud key, API tokens, broker passwords): mode 0700, so that the files H2 and
 * the broker create under it with the umask's mode (0644) are not reachable by other local users.
 */
public final class DataDirectory {
    private static final Logger LOG = LoggerFactory.getLogger(DataDirectory.class);
    private static final Set<PosixFilePermission> OWNER_DIR = PosixFilePermissions.fromString("rwx------");

    private DataDirectory() {
    }

    /**
     * Creates {@code dataDir} with mode 0700 when absent (its parents with the umask's); an existing one that group or
     * others may enter is made 0700 with a WARN. Returns {@code dataDir}.
     */
    public static Path ensure(Path dataDir) throws IOException {
        if (!Files.exists(dataDir)) {
            Path parent = dataDir.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            try {
                Files.createDirectory(dataDir, PosixFilePermissions.asFileAttribute(OWNER_DIR));
                Files.setPosixFilePermissions(dataDir, OWNER_DIR);
                return dataDir;
            } catch (FileAlreadyExistsException raced) {
                // made by another process at the same time: checked below
            }
        }
        if (!Files.isDirectory(dataDir)) {
            return dataDir; // the caller's use of it reports the file in the way
        }
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(dataDir);
        if (!OWNER_DIR.containsAll(perms)) {
            String was = PosixFilePermissions.toString(perms);
            try {
                Files.setPosixFilePermissions(dataDir, OWNER_DIR);
                LOG.warn("Data folder {} was {}: made it rwx------ so that the ledger, keys and tokens under it are "
                        + "not readable by other users", dataDir, was);
            } catch (IOException e) {
                LOG.warn("Data folder {} is {} and could not be made rwx------ ({}): the ledger, keys and tokens under "
                        + "it may be readable by other users; chmod 700 {}", dataDir, was, e.getMessage(), dataDir);
            }
        }
        return dataDir;
    }
}

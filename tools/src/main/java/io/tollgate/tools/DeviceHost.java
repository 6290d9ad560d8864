package io.tollgate.tools;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * The host a device key was created on, recorded next to the key ({@code DATA/device/host}): one line,
 * {@code machine-id <id>} from {@code /etc/machine-id} (or {@code hostname <name>} where there is none). A data
 * folder copied to another box carries the key, and two boxes with one key are one device to the cloud; {@code run}
 * refuses to start when the record names another host (docs/operations.md, "Install and run").
 */
public final class DeviceHost {
    /** The record's file name inside {@code DATA/device}. */
    public static final String FILE = "host";
    /** The private key's file name inside {@code DATA/device} (metering's {@code Ed25519DeviceKey.PRIVATE_FILE}). */
    public static final String KEY_FILE = "device.key.pem";
    private static final List<Path> MACHINE_ID_FILES = List.of(Paths.get("/etc/machine-id"),
            Paths.get("/var/lib/dbus/machine-id"));

    private DeviceHost() {
    }

    /** This host: {@code machine-id <id>} from the first readable machine-id file, else {@code hostname <name>}. */
    public static String current() {
        return current(MACHINE_ID_FILES);
    }

    static String current(List<Path> machineIdFiles) {
        for (Path f : machineIdFiles) {
            try {
                String id = Files.readString(f, StandardCharsets.US_ASCII).trim();
                if (!id.isEmpty()) {
                    return "machine-id " + id;
                }
            } catch (IOException | RuntimeException e) {
                // next candidate
            }
        }
        String name = System.getenv("HOSTNAME");
        if (name == null || name.isBlank()) {
            try {
                name = InetAddress.getLocalHost().getHostName();
            } catch (IOException e) {
                name = "unknown";
            }
        }
        return "hostname " + name.trim();
    }

    /**
     * Writes {@code host} as the record of the key in {@code data} when there is a key and no record yet (a key made
     * by this host's first start or {@code device init}, or by a version that kept no record). Returns true when it
     * wrote one.
     */
    public static boolean recordIfMissing(Path data, String host) throws IOException {
        Path dir = data.resolve("device");
        Path record = dir.resolve(FILE);
        if (!Files.exists(dir.resolve(KEY_FILE)) || Files.exists(record)) {
            return false;
        }
        Files.writeString(record, host + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE);
        return true;
    }

    /**
     * Null when the key in {@code data} may be used on {@code host} (no key, no record, or a record naming it);
     * otherwise what is wrong and what to do, in one line.
     */
    public static String problem(Path data, String host) throws IOException {
        Path dir = data.resolve("device");
        Path record = dir.resolve(FILE);
        if (!Files.exists(dir.resolve(KEY_FILE)) || !Files.exists(record)) {
            return null;
        }
        String recorded = Files.readString(record, StandardCharsets.UTF_8).trim();
        if (recorded.equals(host)) {
            return null;
        }
        return "the device key in " + dir + " was created on another host (" + recorded + "; this host is " + host
                + "): a copied data folder gives two boxes one identity, and the cloud one device. Give this box "
                + "its own: move " + data + " away (it holds the other box's key and usage journal), then "
                + "bin/tollgate device init --data " + data + " and bin/tollgate device enroll (docs/operations.md, "
                + "\"Install and run\"); if this really is the box that made the key (its machine-id changed), "
                + "delete " + record;
    }
}

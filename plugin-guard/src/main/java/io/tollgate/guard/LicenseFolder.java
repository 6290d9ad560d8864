package io.tollgate.guard;

import io.tollgate.licensing.License;
import io.tollgate.licensing.LicenseException;
import io.tollgate.licensing.LicenseFiles;
import io.tollgate.licensing.Pem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Edits of the licenses folder and the trusted vendors' folder, shared by {@code bin/tollgate license|vendor} and
 * {@code POST /admin/licenses}: a file is verified before it is written, and written atomically (a hidden temporary
 * file in the same folder, then a rename), so the appliance's watch never reads half a file.
 *
 * @since 1.3
 */
public final class LicenseFolder {
    /** Vendor names: the file name in {@code conf/vendors}. */
    public static final Pattern VENDOR_NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final Pattern SAFE_ID = Pattern.compile("[A-Za-z0-9._-]{1,128}");

    private LicenseFolder() {
    }

    /** The trusted vendors of {@code vendors} ({@code NAME.pem}): name to key; unreadable files are skipped. */
    public static Map<String, PublicKey> vendorsByName(Path vendors) {
        Map<String, PublicKey> out = new LinkedHashMap<>();
        for (Path f : LicenseStore.files(vendors, ".pem")) {
            try {
                String n = f.getFileName().toString();
                out.put(n.substring(0, n.length() - 4), Pem.readPublicKey(f));
            } catch (IOException | RuntimeException e) {
                // listed as refused by the store
            }
        }
        return out;
    }

    /** The trusted vendors of {@code vendors}: fingerprint to key, as {@link LicenseFiles} takes them. */
    public static Map<String, PublicKey> trusted(Path vendors) {
        Map<String, PublicKey> out = new LinkedHashMap<>();
        for (PublicKey k : vendorsByName(vendors).values()) {
            out.putIfAbsent(Pem.fingerprint(k), k);
        }
        return out;
    }

    /** What {@link #install} wrote. */
    public record Installed(Path file, License license, Set<String> revoked) {
    }

    /**
     * Verifies a license file ({@code tollgate-license/1}) or revocation list ({@code tollgate-revocations/1}) against
     * the trusted vendors and writes it to {@code folder} as {@code <license id>.lic} or
     * {@code <vendor fingerprint prefix>-<issued>.revocations}.
     *
     * @return the file written and what it holds ({@code license} null for a revocation list)
     * @throws LicenseException when it does not verify (INVALID_LICENSE, UNKNOWN_VENDOR): nothing is written
     */
    public static Installed install(Path folder, byte[] file, Map<String, PublicKey> trusted)
            throws LicenseException, IOException {
        if (isRevocationList(file)) {
            Set<String> revoked = LicenseFiles.readRevocations(file, trusted);
            String name = "revoked-" + Integer.toHexString(java.util.Arrays.hashCode(file)) + ".revocations";
            return new Installed(write(folder, name, file), null, revoked);
        }
        License l = LicenseFiles.read(file, trusted);
        String name = (SAFE_ID.matcher(l.id()).matches() ? l.id()
                : Integer.toHexString(l.id().hashCode())) + ".lic";
        return new Installed(write(folder, name, file), l, Set.of());
    }

    /** True when the bytes are a revocation list's envelope ({@code "format":"tollgate-revocations/1"}). */
    public static boolean isRevocationList(byte[] file) {
        String text = new String(file, StandardCharsets.UTF_8);
        return text.contains("\"tollgate-revocations/");
    }

    /**
     * Removes every license file of {@code folder} that holds license {@code id} (read with the trusted vendors), and
     * {@code <id>.lic} itself.
     *
     * @return the files removed (empty when none held it)
     */
    public static List<Path> remove(Path folder, String id, Map<String, PublicKey> trusted) throws IOException {
        List<Path> removed = new ArrayList<>();
        for (Path f : LicenseStore.files(folder, ".lic")) {
            boolean match = f.getFileName().toString().equals(id + ".lic");
            if (!match) {
                try {
                    match = LicenseFiles.read(Files.readAllBytes(f), trusted).id().equals(id);
                } catch (LicenseException | IOException | RuntimeException e) {
                    match = false;
                }
            }
            if (match && Files.deleteIfExists(f)) {
                removed.add(f);
            }
        }
        return removed;
    }

    /** Writes {@code bytes} to {@code folder/name} atomically (hidden temporary file, then rename). */
    public static Path write(Path folder, String name, byte[] bytes) throws IOException {
        Files.createDirectories(folder);
        Path target = folder.resolve(name);
        Path tmp = Files.createTempFile(folder, ".tmp-", ".part");
        try {
            Files.write(tmp, bytes);
            try {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
        return target;
    }
}

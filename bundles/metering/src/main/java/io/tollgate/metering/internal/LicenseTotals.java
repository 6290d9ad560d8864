package io.tollgate.metering.internal;

import io.tollgate.metering.MeteringException;
import io.tollgate.metering.MeteringException.Reason;
import io.tollgate.metering.UsageEvent;
import io.tollgate.metering.UsageRecord;
import java.io.IOException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Quantity served per license id and meter on this device since the journal began: what quotas count down
 * ({@code UsageJournal.licenseQuantity}; docs/licensing.md, "Quotas and expiry on the appliance").
 *
 * <p>The totals come from the journal's own records, so a restart, a reinstalled plugin or a deleted cache cannot
 * reset them. Retention deletes files the cloud acknowledged, so before any file is deleted the totals up to the chain
 * head are written to a <b>checkpoint</b> signed by the device key, next to the journal directory (
 * {@code <journal dir>.license-totals}, e.g. {@code data/usage.license-totals}; outside the directory so that wiping
 * the journal leaves it behind and is noticed). At open: totals = checkpoint + every USAGE record after the
 * checkpoint's seq. When that cannot be established (records deleted that no checkpoint covers, a checkpoint that
 * does not verify or does not belong to this chain, a journal that ends before its checkpoint) the count is
 * <b>unknown</b>: {@link #quantity} throws {@code COUNT_UNKNOWN} with the reason, and serving refuses quota licenses
 * (never serves them uncounted). Format (UTF-8 lines, the signature covers every byte before its line):
 *
 * <pre>
 * TG-LICENSE-TOTALS 1
 * device_id tg-0123456789abcdef
 * seq 1234                       the chain head the totals include
 * hash &lt;64 hex&gt;                  SHA-256 of record seq (binds the checkpoint to this chain)
 * total &lt;license id&gt; &lt;meter&gt; &lt;quantity&gt;     one per license and meter; id and meter URL-encoded (UTF-8)
 * signature &lt;base64 Ed25519 signature by the device key&gt;
 * </pre>
 *
 * <p>Threads: {@link #addLocked} runs under the chain lock (the hot path: two map lookups and an atomic add, no
 * allocation once a license was seen), so a {@link ChainWriter#totalsSnapshot snapshot} taken under the same lock is
 * exact at its seq. {@link #quantity} reads from any thread without a lock. Checkpoints are written by the thread that
 * runs retention (the sync bundle's, or {@code tollgate-usage-disk}), at open and at close.
 */
final class LicenseTotals {
    private static final Logger LOG = LoggerFactory.getLogger(LicenseTotals.class);
    static final String MAGIC = "TG-LICENSE-TOTALS 1";
    /** The status of a served request's record: only those count. */
    static final String STATUS_OK = "OK";
    private static final int SCAN_BATCH = 4096;

    /** The totals at one seq of the chain, as a checkpoint holds them. */
    record Snapshot(long seq, byte[] hash, Map<String, Map<String, Long>> totals) {
    }

    private final Map<String, Map<String, AtomicLong>> totals = new ConcurrentHashMap<>();
    /** Why the totals are not known; null when they are. Volatile: read on request threads. */
    private volatile String unknown;

    /** The checkpoint file of the journal in {@code journalDir}. */
    static Path checkpointFile(Path journalDir) {
        Path abs = journalDir.toAbsolutePath().normalize();
        return abs.resolveSibling(abs.getFileName() + ".license-totals");
    }

    /**
     * Quantity of {@code meter} served under {@code licenseId}.
     *
     * @throws MeteringException COUNT_UNKNOWN when the totals could not be established at open (the reason says why)
     */
    long quantity(String licenseId, String meter) throws MeteringException {
        String why = unknown;
        if (why != null) {
            throw new MeteringException(Reason.COUNT_UNKNOWN, why);
        }
        Map<String, AtomicLong> m = totals.get(licenseId);
        AtomicLong n = m == null ? null : m.get(meter);
        return n == null ? 0 : n.get();
    }

    /** Why the count is unknown, or null. */
    String unknownReason() {
        return unknown;
    }

    /** Counts a record written now (caller holds the chain lock). */
    void addLocked(UsageEvent e) {
        if (e.licenseId().isEmpty() || e.quantity() == 0 || !STATUS_OK.equals(e.status())) {
            return;
        }
        add(e.licenseId(), e.meter(), e.quantity());
    }

    private void add(String licenseId, String meter, long quantity) {
        Map<String, AtomicLong> m = totals.get(licenseId);
        if (m == null) {
            m = totals.computeIfAbsent(licenseId, k -> new ConcurrentHashMap<>());
        }
        AtomicLong n = m.get(meter);
        if (n == null) {
            n = m.computeIfAbsent(meter, k -> new AtomicLong());
        }
        n.addAndGet(quantity);
    }

    /** A copy of the totals (caller holds the chain lock so that it matches the head). */
    Map<String, Map<String, Long>> copyLocked() {
        Map<String, Map<String, Long>> out = new TreeMap<>();
        totals.forEach((id, m) -> {
            Map<String, Long> c = new TreeMap<>();
            m.forEach((meter, n) -> c.put(meter, n.get()));
            out.put(id, c);
        });
        return out;
    }

    // ---- open: checkpoint + records after it ----------------------------------------------------------

    /** Reads records by seq ({@link SeqRangeReader#read}). */
    @FunctionalInterface
    interface Records {
        List<UsageRecord> read(long fromSeq, int max) throws MeteringException;
    }

    /**
     * Establishes the totals when the journal opens, before it takes records: the checkpoint (if any) plus every
     * USAGE record after it. Never throws: a total that cannot be established leaves the count unknown with the
     * reason (one ERROR line).
     *
     * @param firstSeq the first seq on disk (0: none), {@code headSeq} the last (0: a new journal)
     */
    void open(Path file, DeviceKey key, long firstSeq, long headSeq, Records records) {
        try {
            Snapshot cp = read(file, key);
            long c = cp == null ? 0 : cp.seq();
            if (c > headSeq) {
                throw new CountUnknown(file + " counts usage up to seq " + c + " but the usage journal ends at seq "
                        + headSeq + ": the journal was replaced, wiped or truncated");
            }
            long from = c + 1;
            if (headSeq > 0 && firstSeq > from) {
                throw new CountUnknown("usage records " + from + ".." + (firstSeq - 1) + " were deleted and "
                        + (cp == null ? "there is no license totals checkpoint (" + file + " is missing)"
                        : file + " covers only up to seq " + c));
            }
            if (cp != null) {
                cp.totals().forEach((id, m) -> m.forEach((meter, n) -> add(id, meter, n)));
            }
            long scanned = 0;
            long next = cp != null && c >= firstSeq ? c : from;   // read record c too, to check the hash
            while (next <= headSeq) {
                List<UsageRecord> batch = records.read(next, SCAN_BATCH);
                if (batch.isEmpty()) {
                    break;
                }
                for (UsageRecord r : batch) {
                    RecordFormat.Decoded d = RecordFormat.decode(r.canonicalBytes());
                    if (cp != null && d.seq() == c && !Arrays.equals(d.hash(), cp.hash())) {
                        throw new CountUnknown(file + " does not belong to this usage journal (record " + c
                                + " has another hash)");
                    }
                    if (cp != null && c > 0 && d.seq() == c + 1 && !Arrays.equals(d.prevHash(), cp.hash())) {
                        throw new CountUnknown(file + " does not belong to this usage journal (record " + (c + 1)
                                + " does not follow the checkpoint's hash)");
                    }
                    if (d.seq() > c && d.usage() != null) {
                        UsageEvent e = d.usage();
                        if (!e.licenseId().isEmpty() && e.quantity() > 0 && STATUS_OK.equals(e.status())) {
                            add(e.licenseId(), e.meter(), e.quantity());
                        }
                        scanned++;
                    }
                    next = d.seq() + 1;
                }
            }
            if (next <= headSeq) {
                throw new CountUnknown("the usage journal could not be read past seq " + (next - 1) + " (it ends at "
                        + headSeq + ")");
            }
            LOG.info("License totals: {} licenses counted (checkpoint at seq {}, {} usage records after it)",
                    totals.size(), c, scanned);
        } catch (CountUnknown | MeteringException | IOException | IllegalArgumentException e) {
            totals.clear();
            unknown = "the quota use on this device cannot be established: " + e.getMessage() + ". Licenses with a "
                    + "quota are refused until it can be (restore " + file + " or the journal files; other licenses "
                    + "serve)";
            LOG.error("{}", unknown);
        }
    }

    private static final class CountUnknown extends Exception {
        private static final long serialVersionUID = 1L;

        CountUnknown(String message) {
            super(message);
        }
    }

    // ---- the checkpoint file --------------------------------------------------------------------------

    /** Writes {@code s} to {@code file} atomically and durably (temp file, fsync, rename, fsync of the folder). */
    static void write(Path file, DeviceKey key, Snapshot s) throws IOException {
        StringBuilder p = new StringBuilder(256);
        p.append(MAGIC).append('\n');
        p.append("device_id ").append(key.deviceId()).append('\n');
        p.append("seq ").append(s.seq()).append('\n');
        p.append("hash ").append(RecordFormat.hex(s.hash())).append('\n');
        s.totals().forEach((id, m) -> m.forEach((meter, n) -> p.append("total ").append(enc(id)).append(' ')
                .append(enc(meter)).append(' ').append(n).append('\n')));
        byte[] payload = p.toString().getBytes(StandardCharsets.UTF_8);
        byte[] sig = key.sign(payload);
        byte[] line = ("signature " + Base64.getEncoder().encodeToString(sig) + "\n").getBytes(StandardCharsets.UTF_8);
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(java.nio.ByteBuffer.wrap(payload));
            ch.write(java.nio.ByteBuffer.wrap(line));
            ch.force(true);
        }
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
        try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            LOG.debug("cannot fsync {}: {}", file.getParent(), e.toString()); // not possible on every file system
        }
    }

    /**
     * Reads and verifies a checkpoint; null when the file does not exist.
     *
     * @throws IOException when it cannot be read, is malformed, names another device or its signature does not
     *                     verify with the device key
     */
    static Snapshot read(Path file, DeviceKey key) throws IOException {
        byte[] all;
        try {
            all = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return null;
        }
        String text = new String(all, StandardCharsets.UTF_8);
        int sigAt = text.lastIndexOf("\nsignature ");
        if (!text.startsWith(MAGIC + "\n") || sigAt < 0 || !text.endsWith("\n")) {
            throw new IOException(file + " is not a license totals checkpoint (" + MAGIC + ")");
        }
        byte[] payload = text.substring(0, sigAt + 1).getBytes(StandardCharsets.UTF_8);
        byte[] sig;
        try {
            sig = Base64.getDecoder().decode(text.substring(sigAt + "\nsignature ".length(), text.length() - 1));
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": the signature is not base64");
        }
        if (sig.length != RecordFormat.SIGNATURE_BYTES || !key.publicKey().verify(payload, sig)) {
            throw new IOException(file + " does not verify with this device's key (changed or from another device)");
        }
        String deviceId = null;
        long seq = -1;
        byte[] hash = null;
        Map<String, Map<String, Long>> totals = new HashMap<>();
        List<String> lines = new ArrayList<>(List.of(text.substring(0, sigAt).split("\n")));
        lines.remove(0);
        try {
            for (String l : lines) {
                String[] f = l.split(" ");
                switch (f[0]) {
                    case "device_id" -> deviceId = f[1];
                    case "seq" -> seq = Long.parseLong(f[1]);
                    case "hash" -> hash = RecordFormat.unhex(f[1]);
                    case "total" -> totals.computeIfAbsent(dec(f[1]), k -> new HashMap<>())
                            .merge(dec(f[2]), Long.parseLong(f[3]), Long::sum);
                    default -> throw new IOException(file + ": unknown line '" + f[0] + "'");
                }
            }
        } catch (ArrayIndexOutOfBoundsException | IllegalArgumentException e) {
            throw new IOException(file + " is malformed: " + e.getMessage());
        }
        if (!key.deviceId().equals(deviceId) || seq < 0 || hash == null || hash.length != RecordFormat.HASH_BYTES) {
            throw new IOException(file + " is incomplete or names another device (" + deviceId + ")");
        }
        return new Snapshot(seq, hash, totals);
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static String dec(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }
}

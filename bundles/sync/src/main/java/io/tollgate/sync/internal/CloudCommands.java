package io.tollgate.sync.internal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The device side of the command topic {@code tollgate/v1/{device}/cmd} (docs/sync-protocol.md, "Commands"): the
 * cloud delivers license files and revocation lists, this class drops them into the appliance's licenses folder,
 * where the license store picks them up, verifies the vendor signature and lists what it refuses. This class checks
 * only the shape, never the signature:
 * <ul>
 *   <li>the message is at most {@link #MAX_MESSAGE_BYTES}, UTF-8 JSON with exactly the members {@code command} and
 *       {@code file} (a message with any other member, e.g. a file name, is refused whole);</li>
 *   <li>{@code command} is {@code license} or {@code revocations};</li>
 *   <li>{@code file} is standard padded base64 of at most {@link #MAX_FILE_BYTES} bytes, and those bytes are a JSON
 *       envelope whose {@code format} is {@code tollgate-license/1} (license) or {@code tollgate-revocations/1}
 *       (revocations), with string members {@code payload} and {@code signature};</li>
 *   <li>the file is named from its content, {@code <first 16 hex digits of SHA-256(file)>.lic} or
 *       {@code .revocations}, never from the message, and written atomically (a hidden temporary file in the folder,
 *       fsync, atomic rename, fsync of the folder). An identical file already there is left alone.</li>
 * </ul>
 * Every message counts in {@link #counts()} by (command, result); a dropped one is one WARN line, at most one a
 * minute (a flood on the topic does not fill the log; the lines in between are counted in the next one).
 *
 * <p>Threads: {@link #handle} on the sender thread only; {@link #counts()} from any thread.
 */
final class CloudCommands {
    private static final Logger LOG = LoggerFactory.getLogger(CloudCommands.class);

    /** Largest license or revocation file accepted, bytes. */
    static final int MAX_FILE_BYTES = 64 * 1024;
    /** Largest command message accepted, bytes: the base64 of a largest file plus room for the JSON around it. */
    static final int MAX_MESSAGE_BYTES = (MAX_FILE_BYTES + 2) / 3 * 4 + 1024;
    static final String LICENSE_FORMAT = "tollgate-license/1";
    static final String REVOCATIONS_FORMAT = "tollgate-revocations/1";
    private static final long WARN_INTERVAL_NANOS = 60_000_000_000L;
    private static final JsonFactory JSON = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(8).build()).build();

    /** The results counted in {@code tollgate_sync_cmd_total{command,result}}. */
    enum Result {
        /** Written to the licenses folder. */
        INSTALLED,
        /** The same file (same content) was already in the folder. */
        DUPLICATE,
        /** Malformed, oversized, an unknown command or member, or not the envelope its command names. */
        REFUSED,
        /** No licenses folder is configured on this appliance (framework property tollgate.licenses). */
        DISABLED,
        /** The folder could not be written. */
        FAILED;

        String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private final Path licensesDir;
    private final String topic;
    private final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();
    private long nextWarnNanos = System.nanoTime();
    private long suppressed;
    private boolean disabledLogged;
    private volatile String lastWarning = "";

    /**
     * @param licensesDir the appliance's licenses folder (framework property {@code tollgate.licenses}); null when
     *                    unset: commands are then counted and dropped, with one log line
     * @param topic       the command topic, for log lines
     */
    CloudCommands(Path licensesDir, String topic) {
        this.licensesDir = licensesDir;
        this.topic = topic;
    }

    /** A refused message: why. */
    private static final class Refused extends Exception {
        final String command;

        Refused(String command, String why) {
            super(why, null, false, false);
            this.command = command;
        }
    }

    /** A command message arrived on the command topic. Never throws. */
    void handle(byte[] message) {
        String command = "unknown";
        try {
            Command c = parse(message);
            command = c.command();
            if (licensesDir == null) {
                count(command, Result.DISABLED);
                if (!disabledLogged) {
                    disabledLogged = true;
                    LOG.warn("A {} file arrived from the cloud on {}, but licenses from the cloud cannot be installed: "
                            + "the framework property tollgate.licenses (the licenses folder) is not set; dropped, "
                            + "and so will be every later one", command, topic);
                }
                return;
            }
            Path target = licensesDir.resolve(c.fileName());
            if (Files.isRegularFile(target) && java.util.Arrays.equals(Files.readAllBytes(target), c.file())) {
                count(command, Result.DUPLICATE);
                LOG.debug("{} from the cloud is already in {}", c.fileName(), licensesDir);
                return;
            }
            write(target, c.file());
            count(command, Result.INSTALLED);
            LOG.info("Installed a {} file from the cloud: {} ({} bytes); the license store verifies it", command,
                    target, c.file().length);
        } catch (Refused r) {
            // the warning before the count: a reader that sees the count sees its reason
            warn("Dropped a command message on " + topic + " (" + message.length + " bytes): " + r.getMessage());
            count(r.command, Result.REFUSED);
        } catch (IOException | RuntimeException e) {
            warn("Could not write a " + command + " file from the cloud into " + licensesDir + ": " + e);
            count(command, Result.FAILED);
        }
    }

    /** Messages handled this run by "command result" (e.g. {@code "license installed"}), sorted. */
    Map<String, Long> counts() {
        Map<String, Long> out = new TreeMap<>();
        counts.forEach((k, v) -> out.put(k, v.get()));
        return out;
    }

    /** The last WARN line's text ("" when none), for tests and the status. */
    String lastWarning() {
        return lastWarning;
    }

    private void count(String command, Result result) {
        counts.computeIfAbsent(command + " " + result.label(), k -> new AtomicLong()).incrementAndGet();
    }

    private void warn(String line) {
        lastWarning = line;
        long now = System.nanoTime();
        if (now - nextWarnNanos >= 0) {
            LOG.warn("{}{}", line, suppressed == 0 ? "" : " (" + suppressed + " more dropped since the last such line)");
            suppressed = 0;
            nextWarnNanos = now + WARN_INTERVAL_NANOS;
        } else {
            suppressed++;
        }
    }

    /** A checked command: {@code license} or {@code revocations}, and the file's bytes. */
    record Command(String command, byte[] file) {
        /** The content-derived file name: 16 hex digits of SHA-256(file) + {@code .lic} / {@code .revocations}. */
        String fileName() {
            try {
                byte[] h = MessageDigest.getInstance("SHA-256").digest(file);
                return HexFormat.of().formatHex(h, 0, 8) + (command.equals("license") ? ".lic" : ".revocations");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** Checks a message as the class comment says. */
    static Command parse(byte[] message) throws Refused {
        if (message.length > MAX_MESSAGE_BYTES) {
            throw new Refused("unknown", "the message is larger than " + MAX_MESSAGE_BYTES + " bytes (files are at most "
                    + MAX_FILE_BYTES + " bytes)");
        }
        Map<String, String> members = stringMembers(message, "the message", "unknown");
        String command = members.get("command");
        if (command == null) {
            throw new Refused("unknown", "no string member \"command\"");
        }
        String expectedFormat;
        if (command.equals("license")) {
            expectedFormat = LICENSE_FORMAT;
        } else if (command.equals("revocations")) {
            expectedFormat = REVOCATIONS_FORMAT;
        } else {
            throw new Refused("unknown", "unknown command " + printable(command) + " (known: license, revocations)");
        }
        for (String k : members.keySet()) {
            if (!k.equals("command") && !k.equals("file")) {
                throw new Refused(command, "unknown member " + printable(k) + " (a command has exactly \"command\" "
                        + "and \"file\"; the file's name comes from its content)");
            }
        }
        String b64 = members.get("file");
        if (b64 == null) {
            throw new Refused(command, "no string member \"file\"");
        }
        byte[] file;
        try {
            file = Base64.getDecoder().decode(b64);
        } catch (IllegalArgumentException e) {
            throw new Refused(command, "\"file\" is not base64: " + e.getMessage());
        }
        if (file.length == 0 || file.length > MAX_FILE_BYTES) {
            throw new Refused(command, "the file has " + file.length + " bytes (1 to " + MAX_FILE_BYTES + " allowed)");
        }
        Map<String, String> envelope = stringMembers(file, "the file", command);
        String format = envelope.get("format");
        if (!expectedFormat.equals(format)) {
            throw new Refused(command, "the file is not a " + expectedFormat + " envelope (format "
                    + (format == null ? "missing" : printable(format)) + ")");
        }
        if (envelope.get("payload") == null || envelope.get("signature") == null) {
            throw new Refused(command, "the " + expectedFormat + " envelope lacks a string \"payload\" or "
                    + "\"signature\"");
        }
        return new Command(command, file);
    }

    /**
     * The members of one flat JSON object: name to its string value, or to null when the value is not a string. A
     * duplicate member, trailing content or anything but an object is refused.
     */
    private static Map<String, String> stringMembers(byte[] json, String what, String command) throws Refused {
        Map<String, String> out = new TreeMap<>();
        try (JsonParser p = JSON.createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new Refused(command, what + " is not a JSON object");
            }
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken v = p.nextToken();
                String value = v == JsonToken.VALUE_STRING ? p.getText() : null;
                if (v == JsonToken.START_OBJECT || v == JsonToken.START_ARRAY) {
                    p.skipChildren();
                }
                if (out.containsKey(name)) {
                    throw new Refused(command, what + " has the member " + printable(name) + " twice");
                }
                out.put(name, value);
            }
            if (t != JsonToken.END_OBJECT || p.nextToken() != null) {
                throw new Refused(command, what + " is not one JSON object");
            }
        } catch (IOException e) {
            throw new Refused(command, what + " is not JSON: " + firstLine(e.getMessage()));
        }
        return out;
    }

    /** A value for a log line: quoted, at most 64 characters, control characters escaped (no log line forgery). */
    static String printable(String s) {
        StringBuilder b = new StringBuilder("'");
        for (int i = 0; i < s.length() && i < 64; i++) {
            char c = s.charAt(i);
            b.append(c < 0x20 || c == 0x7f || c == '\'' ? String.format("\\u%04x", (int) c) : String.valueOf(c));
        }
        return b.append(s.length() > 64 ? "...'" : "'").toString();
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** Temporary file (hidden, so the folder watcher ignores it), fsync, atomic rename, fsync of the folder. */
    private static void write(Path target, byte[] bytes) throws IOException {
        Path dir = target.getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve("." + target.getFileName() + "." + UUID.randomUUID() + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.wrap(bytes);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            // some file systems cannot fsync a directory; the rename itself is atomic
        }
    }
}

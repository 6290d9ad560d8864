package io.tollgate.cloud.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running service's view of {@code <data>/auth/api-tokens.json}: checks a presented token against the stored
 * hashes, and re-reads the file when it changed (its inode, modification time or size; the CLI replaces it by a
 * rename, so every change is a new inode) — {@code token create} and {@code token revoke} take effect on the next
 * request, without a restart. A file that cannot be read or parsed keeps the last good set (and logs an error, once
 * per change); when there never was a good one (broken at start), {@link #check} refuses every token with
 * {@link Outcome#UNAVAILABLE}.
 *
 * <p>Threads: any (the HTTP handler pool); a reload is synchronized, a check reads one volatile snapshot.
 */
public final class ApiTokenGate {
    private static final Logger LOG = LoggerFactory.getLogger(ApiTokenGate.class);

    private final Path file;
    private volatile Snapshot snapshot;

    /** Tokens as last read, the file state they were read at, the error of the last failed read (or null). */
    private record Snapshot(List<ApiToken> tokens, Object stamp, boolean good, String error) {
    }

    /** What a check found. */
    public enum Outcome {
        /** A stored token matched. */
        OK,
        /** No Authorization header, or not {@code Bearer <token>}. */
        MISSING,
        /** A token that is not (or no longer) stored. */
        UNKNOWN,
        /** The token file has been unreadable since the start: nothing can be checked. */
        UNAVAILABLE
    }

    /** The outcome and, when {@link Outcome#OK}, the token; {@code detail} says what went wrong otherwise. */
    public record Check(Outcome outcome, ApiToken token, String detail) {
    }

    public ApiTokenGate(Path dataDir) {
        this.file = ApiTokens.file(dataDir);
        this.snapshot = new Snapshot(List.of(), null, false, null);
        refresh();
        Snapshot s = snapshot;
        if (s.good()) {
            LOG.info("Billing API: {} token(s) in {}", s.tokens().size(), file);
        }
    }

    /** Checks an {@code Authorization} header value (may be null). */
    public Check check(String authorization) {
        refresh();
        Snapshot s = snapshot;
        if (!s.good()) {
            return new Check(Outcome.UNAVAILABLE, null, "the token file " + file + " cannot be read (" + s.error()
                    + "); fix it, e.g. with tollgate-billing token list / token create");
        }
        if (authorization == null || authorization.isBlank()) {
            return new Check(Outcome.MISSING, null, s.tokens().isEmpty()
                    ? "this API needs a token and none exists yet: create one with tollgate-billing token create "
                    + "--role admin|reader|enroll, then send Authorization: Bearer <token>"
                    : "this API needs a token: send Authorization: Bearer <token> (tollgate-billing token create)");
        }
        String[] parts = authorization.trim().split("\\s+", 2);
        if (parts.length != 2 || !parts[0].equalsIgnoreCase("Bearer")) {
            return new Check(Outcome.MISSING, null, "the Authorization header must be Bearer <token>");
        }
        byte[] presented = ApiTokens.sha256(parts[1].trim());
        ApiToken match = null;
        // every stored hash is compared, in constant time each: the answer's timing says nothing about which matched
        for (ApiToken t : s.tokens()) {
            if (MessageDigest.isEqual(presented, HexFormat.of().parseHex(t.sha256())) && match == null) {
                match = t;
            }
        }
        return match == null
                ? new Check(Outcome.UNKNOWN, null, "the bearer token is not valid (unknown or revoked)")
                : new Check(Outcome.OK, match, null);
    }

    /** Re-reads the file when it changed since the last read. */
    private void refresh() {
        Object stamp = stamp();
        if (Objects.equals(stamp, snapshot.stamp())) {
            return;
        }
        synchronized (this) {
            Snapshot old = snapshot;
            stamp = stamp();
            if (Objects.equals(stamp, old.stamp())) {
                return;
            }
            try {
                List<ApiToken> tokens = stamp == NO_FILE ? List.of()
                        : ApiTokens.parse(file, Files.readString(file, StandardCharsets.UTF_8));
                snapshot = new Snapshot(tokens, stamp, true, null);
                if (old.stamp() != null) {
                    LOG.info("Billing API: re-read {}: {} token(s)", file, tokens.size());
                }
            } catch (NoSuchFileException raced) {
                snapshot = new Snapshot(List.of(), NO_FILE, true, null);
            } catch (IOException | RuntimeException e) {
                String error = e.getMessage();
                snapshot = new Snapshot(old.tokens(), stamp, old.good(), error);
                LOG.error("Billing API: cannot read the token file {}: {}; {}", file, error, old.good()
                        ? "keeping the " + old.tokens().size() + " token(s) read before"
                        : "every /v1 request is refused until it is fixed");
            }
        }
    }

    private static final Object NO_FILE = "no file";

    private Object stamp() {
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            return List.of(String.valueOf(a.fileKey()), a.lastModifiedTime(), a.size());
        } catch (NoSuchFileException e) {
            return NO_FILE;
        } catch (IOException e) {
            return List.of("unreadable", e.toString());
        }
    }
}

package io.tollgate.serving.internal;

import io.tollgate.serving.InferenceException;
import io.tollgate.serving.InferenceException.Reason;
import io.tollgate.serving.InferenceRequest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * Route loops (hybrid overflow): a request a route sends on carries the boxes it passed through in the HTTP
 * {@code Via} header (RFC 9110 §7.6.3), each Tollgate as {@code 1.1 tollgate-<16 hex digits>}, a pseudonym drawn at
 * random when serving starts (it names no device to a third-party server). A box refuses a request that already names
 * it, or that passed through {@link #MAX_BOXES} Tollgate boxes, with 508 Loop Detected: a box routing a model to
 * itself, or two boxes overflowing into each other, cost one extra hop instead of recursing until connections run
 * out (probe 2026-12-03: one request became 125 nested route calls).
 */
final class RouteHops {
    /** How a Tollgate's pseudonym starts; other entries (an HTTP proxy's) are passed on and not counted. */
    static final String PREFIX = "tollgate-";
    /** A Tollgate's pseudonym, whole: a proxy that merely names itself tollgate-something is not counted. */
    static final java.util.regex.Pattern PSEUDONYM = java.util.regex.Pattern.compile("tollgate-[0-9a-f]{16}");
    /** Tollgate boxes a request may pass through by routes before it is refused. */
    static final int MAX_BOXES = 8;
    /** Longest list of entries quoted in a refusal. */
    private static final int QUOTED = 300;

    private final String pseudonym;

    RouteHops() {
        byte[] random = new byte[8];
        new SecureRandom().nextBytes(random);
        this.pseudonym = PREFIX + HexFormat.of().formatHex(random);
    }

    /** This box's pseudonym, e.g. {@code tollgate-5f0c2a9e1b7d4c3a}. */
    String pseudonym() {
        return pseudonym;
    }

    /** Why {@code request} must not be served here (it came back, or came too far), or empty. */
    Optional<InferenceException> refusal(InferenceRequest request) {
        int boxes = 0;
        for (String entry : request.via()) {
            String by = receivedBy(entry);
            if (by.equals(pseudonym)) {
                return Optional.of(new InferenceException(Reason.LOOP_DETECTED, "route loop: request " + request.id()
                        + " for model '" + DescriptorReader.printable(request.model()) + "' came back to this box"
                        + " (Via: " + quoted(request.via()) + "): a route of this model, here or on a box it names,"
                        + " leads back here; check \"route\" in conf/models/" + request.model() + ".json on each"));
            }
            if (PSEUDONYM.matcher(by).matches()) {
                boxes++;
            }
        }
        if (boxes >= MAX_BOXES) {
            return Optional.of(new InferenceException(Reason.LOOP_DETECTED, "request " + request.id() + " for model '"
                    + DescriptorReader.printable(request.model()) + "' passed through " + (boxes > MAX_BOXES
                    ? "more than " + MAX_BOXES : boxes) + " Tollgate boxes by"
                    + " their routes (Via: " + quoted(request.via()) + "); at most " + MAX_BOXES + " are followed"));
        }
        return Optional.empty();
    }

    /** {@code request} as a route sends it on: its entries, then this box's. */
    InferenceRequest forwarded(InferenceRequest request) {
        List<String> via = new ArrayList<>(request.via());
        via.add("1.1 " + pseudonym);
        return request.withVia(via);
    }

    /** The received-by part of a Via entry ({@code [protocol-name/]protocol-version received-by [comment]}). */
    static String receivedBy(String entry) {
        String[] parts = entry.trim().split("[ \t]+");
        return parts.length >= 2 ? parts[1] : "";
    }

    private static String quoted(List<String> via) {
        String all = String.join(", ", via);
        return DescriptorReader.printable(all.length() > QUOTED ? all.substring(0, QUOTED) + "…" : all);
    }
}

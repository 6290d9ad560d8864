package io.tollgate.serving;

import io.tollgate.model.Tensor;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One inference call as the endpoint decoded it.
 *
 * <p>The {@code id} is the request's one id from the client to the bill (decision 2026-11-30 in
 * {@code docs/decisions.md}): the client's own when it sent one, else the one the endpoint generated for it. The
 * serving layer never makes up another: the response, every log line about the request, its usage record
 * ({@code request_id}) and so the ledger and the exports carry this value. A valid id is 1 to
 * {@value #MAX_ID_LENGTH} characters, each a letter {@code A-Z a-z}, a digit {@code 0-9} or one of
 * {@code - . _ ~ : / @ + =}, and starts with a letter or a digit: it is ASCII (so its length in characters is its
 * length in bytes), needs no quoting or escaping in a log line, JSON, CSV or a shell, and cannot start a
 * spreadsheet formula. {@link #checkId} says whether a string is one.
 *
 * @param model            model name
 * @param version          model version, or {@code null} for the serving (newest ready) version
 * @param id               the request id, as {@link #checkId} accepts it
 * @param inputs           input tensors, by name
 * @param requestedOutputs output names to return; empty means all
 * @param tenant           who is billed: the tenant of the caller's API key, which the endpoint sets (no request field
 *                         can change it); {@code "default"} for a caller without a key (protected mode)
 * @param parameters       protocol request parameters, passed through
 * @param classification   Triton's classification extension: output name → the number of top classes the caller asked
 *                         of it ({@code "parameters":{"classification":k}} on a requested output); empty when none.
 *                         The endpoint applies it to a local answer; a remote route passes it on (since 1.6)
 * @param via              the boxes the request passed through by their routes (hybrid overflow), oldest first: the
 *                         entries of its HTTP {@code Via} header (RFC 9110 §7.6.3) as the endpoint received them, e.g.
 *                         {@code 1.1 tollgate-5f0c2a9e1b7d4c3a}; a route sends them on with this box's own, and a box
 *                         refuses a request that names it already ({@link InferenceException.Reason#LOOP_DETECTED});
 *                         empty for a request from a client (since 1.8)
 * @throws IllegalArgumentException when {@code id} is not a valid request id ({@link #checkId}'s message)
 */
public record InferenceRequest(
        String model,
        String version,
        String id,
        List<Tensor> inputs,
        List<String> requestedOutputs,
        String tenant,
        Map<String, Object> parameters,
        Map<String, Integer> classification,
        List<String> via) {

    /**
     * Longest request id, in characters (an id is ASCII: also its length in bytes of UTF-8).
     *
     * @since 1.1
     */
    public static final int MAX_ID_LENGTH = 128;

    /**
     * What a request id may be, in the words error messages use.
     *
     * @since 1.1
     */
    public static final String ID_RULE = "a request id is 1 to " + MAX_ID_LENGTH + " characters: letters A-Z a-z,"
            + " digits 0-9 and - . _ ~ : / @ + =, starting with a letter or a digit";

    public InferenceRequest {
        Objects.requireNonNull(model, "model");
        checkId(id);
        inputs = List.copyOf(inputs);
        requestedOutputs = List.copyOf(requestedOutputs);
        tenant = tenant == null || tenant.isBlank() ? "default" : tenant;
        parameters = parameters == null ? Map.of() : Map.copyOf(parameters);
        classification = classification == null ? Map.of() : Map.copyOf(classification);
        via = via == null ? List.of() : List.copyOf(via);
    }

    /**
     * A request that passed through no other box (the form before 1.8).
     *
     * @since 1.6
     */
    public InferenceRequest(String model, String version, String id, List<Tensor> inputs,
                            List<String> requestedOutputs, String tenant, Map<String, Object> parameters,
                            Map<String, Integer> classification) {
        this(model, version, id, inputs, requestedOutputs, tenant, parameters, classification, List.of());
    }

    /**
     * This request with {@code via} as the boxes it passed through.
     *
     * @since 1.8
     */
    public InferenceRequest withVia(List<String> via) {
        return new InferenceRequest(model, version, id, inputs, requestedOutputs, tenant, parameters, classification,
                via);
    }

    /** A request without classification outputs (the form before 1.6). */
    public InferenceRequest(String model, String version, String id, List<Tensor> inputs,
                            List<String> requestedOutputs, String tenant, Map<String, Object> parameters) {
        this(model, version, id, inputs, requestedOutputs, tenant, parameters, Map.of());
    }

    /**
     * Checks that {@code id} is a valid request id (see the class comment). Cheap: one pass over the characters.
     *
     * @param id a candidate request id, may be null
     * @return {@code id}
     * @throws IllegalArgumentException saying what is wrong (missing, too long, or the first character not
     *                                  allowed with its position and code point) followed by {@link #ID_RULE},
     *                                  e.g. {@code request id has '"' (U+0022) at character 2; a request id is
     *                                  1 to 128 characters: ...}
     * @since 1.1
     */
    public static String checkId(String id) {
        if (id == null || id.isEmpty()) {
            throw invalidId("request id is missing");
        }
        if (id.length() > MAX_ID_LENGTH) {
            throw invalidId("request id has " + id.codePointCount(0, id.length()) + " characters; at most "
                    + MAX_ID_LENGTH + " are allowed");
        }
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if (!isIdCharacter(c)) {
                int position = id.codePointCount(0, i) + 1;
                throw invalidId("request id has " + describe(id.codePointAt(i)) + " at character " + position);
            }
        }
        char first = id.charAt(0);
        if (!Character.isLetterOrDigit(first)) {   // an ASCII id character: letter, digit or punctuation
            throw invalidId("request id starts with " + describe(first) + "; it must start with a letter or a digit");
        }
        return id;
    }

    private static boolean isIdCharacter(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || "-._~:/@+=".indexOf(c) >= 0;
    }

    /** {@code 'x' (U+0078)} for printable ASCII, else only the code point: never a raw control character. */
    private static String describe(int codePoint) {
        String hex = String.format("U+%04X", codePoint);
        return codePoint >= 0x20 && codePoint < 0x7f ? "'" + (char) codePoint + "' (" + hex + ")" : hex;
    }

    private static IllegalArgumentException invalidId(String what) {
        return new IllegalArgumentException(what + "; " + ID_RULE);
    }
}

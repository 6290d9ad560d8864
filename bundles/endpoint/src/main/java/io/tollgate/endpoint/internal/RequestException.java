package io.tollgate.endpoint.internal;

/**
 * A request the endpoint itself refuses before (or instead of) asking the serving layer: bad JSON,
 * a bad tensor, an unknown route or model. {@link ErrorMapper} turns the {@link Kind} into a status.
 */
final class RequestException extends Exception {
    private static final long serialVersionUID = 1L;

    /** What was wrong with the request. */
    enum Kind {
        /** Malformed JSON, a bad tensor, a bad parameter. */
        BAD_REQUEST,
        /** No such route, model or version. */
        NOT_FOUND,
        /** The route exists but not for this method. */
        METHOD_NOT_ALLOWED,
        /** The body is larger than {@code max.body.bytes}. */
        BODY_TOO_LARGE,
        /** The route is part of the protocol but not implemented here yet. */
        NOT_IMPLEMENTED,
        /** The endpoint is draining for shutdown. */
        SHUTTING_DOWN,
        /** No credentials, or an unknown, malformed or revoked key: 401 with a challenge. */
        UNAUTHORIZED,
        /** The caller may not do this: wrong role, model or tenant, or a remote client in protected mode. */
        FORBIDDEN,
        /** The key file could not be read at start: nobody can be authenticated. */
        KEYS_UNREADABLE,
        /** A header line, or all headers together, are larger than {@code max.header.bytes}: 431. */
        HEADERS_TOO_LARGE,
        /** The request line is longer than {@code max.line.bytes}: 414. */
        URI_TOO_LONG,
        /** The headers or the body did not arrive in time ({@code header.timeout.ms}, {@code body.timeout.ms}): 408. */
        REQUEST_TIMEOUT,
        /** More open connections than {@code max.connections}, or request bodies held over their budget: 503. */
        BUSY,
        /** A {@code Content-Encoding} this endpoint cannot decode: 415. */
        UNSUPPORTED_ENCODING
    }

    private final Kind kind;
    /** Allow for METHOD_NOT_ALLOWED, WWW-Authenticate for UNAUTHORIZED, else null. */
    private final String header;

    RequestException(Kind kind, String message) {
        this(kind, message, null, null);
    }

    RequestException(Kind kind, String message, Throwable cause) {
        this(kind, message, null, cause);
    }

    private RequestException(Kind kind, String message, String header, Throwable cause) {
        super(message, cause);
        this.kind = kind;
        this.header = header;
    }

    static RequestException badRequest(String message) {
        return new RequestException(Kind.BAD_REQUEST, message);
    }

    static RequestException notFound(String message) {
        return new RequestException(Kind.NOT_FOUND, message);
    }

    static RequestException methodNotAllowed(String method, String path, String allow) {
        return new RequestException(Kind.METHOD_NOT_ALLOWED,
                "method " + method + " is not allowed for " + path + "; use " + allow, allow, null);
    }

    /** 401 with the {@code WWW-Authenticate} challenge (RFC 6750). */
    static RequestException unauthorized(String message, String challenge) {
        return new RequestException(Kind.UNAUTHORIZED, message, challenge, null);
    }

    static RequestException forbidden(String message) {
        return new RequestException(Kind.FORBIDDEN, message);
    }

    Kind kind() {
        return kind;
    }

    /** The Allow header value for {@link Kind#METHOD_NOT_ALLOWED}, else null. */
    String allow() {
        return kind == Kind.METHOD_NOT_ALLOWED ? header : null;
    }

    /** The WWW-Authenticate header value for {@link Kind#UNAUTHORIZED}, else null. */
    String challenge() {
        return kind == Kind.UNAUTHORIZED ? header : null;
    }
}

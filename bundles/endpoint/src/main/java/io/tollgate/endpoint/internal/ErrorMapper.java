package io.tollgate.endpoint.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.tollgate.serving.InferenceException;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where failures become HTTP statuses. Every error body is {@code {"error": "...", "id": "..."}},
 * {@code id} being the request id the endpoint logs the request under (the client's valid {@code id}, else the
 * one generated for it); every 5xx is logged once here, at WARN, with that id.
 *
 * <table>
 * <caption>status mapping</caption>
 * <tr><td>malformed JSON, bad tensor, {@code BAD_REQUEST}, plain HTTP on the TLS port</td><td>400</td></tr>
 * <tr><td>no API key, or an unknown, malformed or revoked one</td><td>401 + WWW-Authenticate: Bearer</td></tr>
 * <tr><td>{@code NOT_LICENSED}; a key without the route's role or model; a remote client in protected
 * mode</td><td>403</td></tr>
 * <tr><td>{@code PAYMENT_REQUIRED}: the license's prepaid quota is used up (the message names it)</td><td>402</td></tr>
 * <tr><td>unknown route, model or version, {@code MODEL_NOT_FOUND}</td><td>404</td></tr>
 * <tr><td>wrong method</td><td>405 + Allow</td></tr>
 * <tr><td>body above max.body.bytes</td><td>413</td></tr>
 * <tr><td>{@code ENGINE_FAILURE}, anything unexpected</td><td>500</td></tr>
 * <tr><td>not implemented yet</td><td>501</td></tr>
 * <tr><td>{@code MODEL_NOT_READY}, {@code METERING_UNAVAILABLE}, {@code SHUTTING_DOWN}, key file
 * unreadable</td><td>503</td></tr>
 * <tr><td>{@code OVERLOADED}</td><td>503 + Retry-After: 1</td></tr>
 * <tr><td>{@code REMOTE_UNAVAILABLE} (a route's circuit breaker is open)</td><td>503 + Retry-After: 1</td></tr>
 * <tr><td>{@code REMOTE_FAILED} (a route's remote: 5xx, connection failure, redirect, invalid answer)</td>
 * <td>502</td></tr>
 * <tr><td>{@code REMOTE_TIMEOUT}</td><td>504</td></tr>
 * <tr><td>{@code REMOTE_REJECTED} (a route's remote answered a 4xx)</td><td>the same 4xx; a 429 with Retry-After:
 * the remote's seconds, 1..60</td></tr>
 * <tr><td>{@code LOOP_DETECTED} (a request that came back to this box by the boxes' routes, or passed through too
 * many)</td><td>508</td></tr>
 * <tr><td>{@code RATE_LIMITED} (a tenant over its admission limit)</td><td>429 + Retry-After: seconds until it
 * would be admitted</td></tr>
 * </table>
 */
final class ErrorMapper {
    private static final Logger LOG = LoggerFactory.getLogger(ErrorMapper.class);
    /** RFC 5842's 508: a request that came back by the boxes' routes (Netty names no constant for it). */
    static final HttpResponseStatus LOOP_DETECTED = new HttpResponseStatus(508, "Loop Detected");
    /** The longest Retry-After a route's remote 429 is answered with (the serving layer bounds it the same). */
    static final long MAX_REMOTE_RETRY_AFTER_S = 60;

    /** The refusals that come with load, whose WARN lines are limited (one per reason per 10 s). */
    private static volatile LoadRefusals loadRefusals = new LoadRefusals(10_000_000_000L);

    private ErrorMapper() {
    }

    /** Tests only: counts the refusals from now on in {@code next}; returns the one in use before. */
    static LoadRefusals loadRefusals(LoadRefusals next) {
        LoadRefusals previous = loadRefusals;
        loadRefusals = next;
        return previous;
    }

    /**
     * Limits the WARN lines of the 503s a busy or starting box gives every client at once (queue full, queue timeout,
     * model not ready yet, a route's breaker open; and 508 route loops, which any client can provoke): at a few
     * thousand requests a second, one line each would rotate the log's history away within a minute and cost the CPU
     * the box is short of. The first refusal of a reason on a request line (method and path: one model's failure is
     * never hidden behind another's) is logged, then at most one per interval, saying how many were not. A 508 is
     * counted per reason alone (a client chooses the path it is refused on), as are request lines past
     * {@link #MAX_KEYS}.
     */
    static final class LoadRefusals {
        /** Request lines counted apart at most; past it a new one counts with its reason alone. */
        private static final int MAX_KEYS = 4096;
        private final long intervalNanos;
        private final java.util.Map<String, long[]> windows = new java.util.HashMap<>();

        LoadRefusals(long intervalNanos) {
            this.intervalNanos = intervalNanos;
        }

        /**
         * @return 0 when {@code reason} is not limited (log it as usual); n ≥ 1 to log this one, n - 1 not logged
         * since the last line; -1 to not log it
         */
        synchronized long notLogged(InferenceException.Reason reason, String what) {
            switch (reason) {
                case OVERLOADED:
                case TIMEOUT:
                case MODEL_NOT_READY:
                case REMOTE_UNAVAILABLE:
                case LOOP_DETECTED:
                    break;
                default:
                    return 0;
            }
            long now = System.nanoTime();
            String key = reason + " " + what;
            if (reason == InferenceException.Reason.LOOP_DETECTED
                    || (windows.size() >= MAX_KEYS && !windows.containsKey(key))) {
                key = reason.name();
            }
            long[] w = windows.get(key);     // {time of the last line, refusals not logged since}
            if (w == null || now - w[0] >= intervalNanos) {
                long skipped = w == null ? 0 : w[1];
                windows.put(key, new long[] {now, 0});
                return skipped + 1;
            }
            w[1]++;
            return -1;
        }
    }

    /**
     * @param requestId the client's request id, or the one the endpoint generated when the client gave none (or
     *                  an invalid one)
     * @param what      the request line, e.g. "POST /v2/models/m/infer", for the log
     */
    static HttpReply reply(Throwable failure, String requestId, String what) {
        Throwable t = unwrap(failure);
        HttpResponseStatus status;
        Map<String, String> headers = Map.of();
        String message = reason(t);
        if (t instanceof RequestException re) {
            switch (re.kind()) {
                case BAD_REQUEST:
                    status = HttpResponseStatus.BAD_REQUEST;
                    break;
                case NOT_FOUND:
                    status = HttpResponseStatus.NOT_FOUND;
                    break;
                case METHOD_NOT_ALLOWED:
                    status = HttpResponseStatus.METHOD_NOT_ALLOWED;
                    headers = Map.of("Allow", re.allow());
                    break;
                case BODY_TOO_LARGE:
                    status = HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE;
                    break;
                case NOT_IMPLEMENTED:
                    status = HttpResponseStatus.NOT_IMPLEMENTED;
                    break;
                case UNAUTHORIZED:
                    status = HttpResponseStatus.UNAUTHORIZED;
                    headers = Map.of("WWW-Authenticate", re.challenge());
                    break;
                case FORBIDDEN:
                    status = HttpResponseStatus.FORBIDDEN;
                    break;
                case SHUTTING_DOWN:
                case KEYS_UNREADABLE:
                    status = HttpResponseStatus.SERVICE_UNAVAILABLE;
                    break;
                case HEADERS_TOO_LARGE:
                    status = HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE;
                    break;
                case URI_TOO_LONG:
                    status = HttpResponseStatus.REQUEST_URI_TOO_LONG;
                    break;
                case REQUEST_TIMEOUT:
                    status = HttpResponseStatus.REQUEST_TIMEOUT;
                    break;
                case BUSY:
                    status = HttpResponseStatus.SERVICE_UNAVAILABLE;
                    headers = Map.of("Retry-After", "1");
                    break;
                case UNSUPPORTED_ENCODING:
                    status = HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE;
                    break;
                default:
                    throw new IllegalStateException("unmapped request error kind " + re.kind());
            }
        } else if (t instanceof InferenceException ie) {
            switch (ie.reason()) {
                case BAD_REQUEST:
                    status = HttpResponseStatus.BAD_REQUEST;
                    break;
                case MODEL_NOT_FOUND:
                    status = HttpResponseStatus.NOT_FOUND;
                    break;
                case NOT_LICENSED:
                    status = HttpResponseStatus.FORBIDDEN;
                    break;
                case PAYMENT_REQUIRED:
                    status = HttpResponseStatus.PAYMENT_REQUIRED;
                    break;
                case OVERLOADED:
                    status = HttpResponseStatus.SERVICE_UNAVAILABLE;
                    // the seconds the refusal knows (placement's min.residency.ms), else 1
                    headers = Map.of("Retry-After", Long.toString(Math.max(1, ie.retryAfterSeconds())));
                    break;
                case RATE_LIMITED:
                    status = HttpResponseStatus.TOO_MANY_REQUESTS;
                    // seconds until the tenant's next token (TenantLimits), else 1
                    headers = Map.of("Retry-After", Long.toString(t instanceof TenantLimits.Refused r
                            ? r.retryAfterSeconds() : 1));
                    break;
                case TIMEOUT:
                case MODEL_NOT_READY:
                case METERING_UNAVAILABLE:
                case SHUTTING_DOWN:
                    status = HttpResponseStatus.SERVICE_UNAVAILABLE;
                    break;
                case ENGINE_FAILURE:
                    status = HttpResponseStatus.INTERNAL_SERVER_ERROR;
                    break;
                case REMOTE_UNAVAILABLE:
                    status = HttpResponseStatus.SERVICE_UNAVAILABLE;
                    headers = Map.of("Retry-After", "1");
                    break;
                case REMOTE_FAILED:
                    status = HttpResponseStatus.BAD_GATEWAY;
                    break;
                case REMOTE_TIMEOUT:
                    status = HttpResponseStatus.GATEWAY_TIMEOUT;
                    break;
                case LOOP_DETECTED:
                    status = LOOP_DETECTED;
                    break;
                case REMOTE_REJECTED:
                    // the remote's own 4xx (a client mistake it saw), its message prefixed by the route's name
                    int remote = t instanceof io.tollgate.serving.RemoteRouteException r ? r.remoteStatus() : 0;
                    status = remote >= 400 && remote < 500 ? HttpResponseStatus.valueOf(remote)
                            : HttpResponseStatus.BAD_GATEWAY;
                    if (remote == 429) {
                        // the remote is rate-limiting this box: when to retry, as it said (RemoteRoute bounds it)
                        headers = Map.of("Retry-After", Long.toString(Math.max(1, Math.min(MAX_REMOTE_RETRY_AFTER_S,
                                ie.retryAfterSeconds()))));
                    }
                    break;
                default:
                    throw new IllegalStateException("unmapped inference failure reason " + ie.reason());
            }
        } else if (t instanceof JsonProcessingException) {
            status = HttpResponseStatus.BAD_REQUEST;
        } else {
            status = HttpResponseStatus.INTERNAL_SERVER_ERROR;
            message = "internal error in the endpoint (" + t.getClass().getSimpleName() + ": " + message
                    + "); the server log has the details under request id " + requestId;
        }
        boolean countedElsewhere = t instanceof RequestException busy && busy.kind() == RequestException.Kind.BUSY;
        if (status.code() >= 500 && !countedElsewhere) {   // BUSY: its caller logs once per interval
            boolean plain = t instanceof RequestException || t instanceof InferenceException && t.getCause() == null;
            long notLogged = t instanceof InferenceException ie && plain ? loadRefusals.notLogged(ie.reason(), what)
                    : 0;
            // the request line and the message may quote the client: LogText keeps them on this one line
            if (notLogged > 0) {
                LOG.warn("{} (request {}) answered {}: {} (such refusals are logged once per 10 s{}; "
                        + "tollgate_http_responses_total counts them)", LogText.of(what), LogText.of(requestId),
                        status.code(), LogText.of(message), notLogged == 1 ? ""
                                : ": " + (notLogged - 1) + " more since the last line");
            } else if (notLogged < 0) {
                return new HttpReply(status, HttpReply.JSON, JsonBodies.error(message, requestId), headers);
            } else if (plain) {
                LOG.warn("{} (request {}) answered {}: {}", LogText.of(what), LogText.of(requestId), status.code(),
                        LogText.of(message));
            } else {
                LOG.warn("{} (request {}) answered {}: {}", LogText.of(what), LogText.of(requestId), status.code(),
                        LogText.of(message), t);
            }
        }
        return new HttpReply(status, HttpReply.JSON, JsonBodies.error(message, requestId), headers);
    }

    /** What went wrong, in the words of the error body (before the 500's own wording); may quote the client. */
    static String reason(Throwable failure) {
        Throwable t = unwrap(failure);
        if (t instanceof JsonProcessingException jpe) {
            return InferRequestDecoder.malformed(jpe).getMessage();
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }

    /** The failure inside CompletionStage and executor wrappers. */
    static Throwable unwrap(Throwable t) {
        Throwable cur = t;
        while ((cur instanceof CompletionException || cur instanceof ExecutionException) && cur.getCause() != null) {
            cur = cur.getCause();
        }
        return cur;
    }
}

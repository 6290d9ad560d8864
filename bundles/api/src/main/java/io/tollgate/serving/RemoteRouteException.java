package io.tollgate.serving;

/**
 * A failure of a model's remote route (hybrid overflow): which route, and for {@link Reason#REMOTE_REJECTED} the 4xx
 * status the remote answered, which the endpoint answers too (a 429 with {@link #retryAfterSeconds()} as its
 * {@code Retry-After}).
 *
 * @since 1.4
 */
public class RemoteRouteException extends InferenceException {
    private static final long serialVersionUID = 1L;
    private final String route;
    private final int remoteStatus;

    /**
     * @param reason       one of the {@code REMOTE_*} reasons, or {@link Reason#LOOP_DETECTED} when the remote
     *                     answered 508 (the request came back to a box it passed through; since 1.8)
     * @param route        the route's name ({@code route.name} in {@code conf/models/{m}.json})
     * @param remoteStatus the HTTP status the remote answered (400..499 for {@link Reason#REMOTE_REJECTED}), or 0
     *                     when it gave none (timeout, connection refused, circuit open)
     * @param message      for the caller; names the route
     */
    public RemoteRouteException(Reason reason, String route, int remoteStatus, String message) {
        this(reason, route, remoteStatus, 0L, message);
    }

    /**
     * A failure the caller may retry after a while: a remote that answered 429 Too Many Requests
     * ({@link Reason#REMOTE_REJECTED}, {@code remoteStatus} 429) with its {@code Retry-After}, which the endpoint
     * answers too.
     *
     * @param reason            one of the {@code REMOTE_*} reasons
     * @param route             the route's name ({@code route.name} in {@code conf/models/{m}.json})
     * @param remoteStatus      the HTTP status the remote answered, or 0 when it gave none
     * @param retryAfterSeconds seconds the caller should wait before retrying (HTTP {@code Retry-After}); 0 = not
     *                          known
     * @param message           for the caller; names the route
     * @since 1.7
     */
    public RemoteRouteException(Reason reason, String route, int remoteStatus, long retryAfterSeconds,
                                String message) {
        super(reason, message, retryAfterSeconds);
        this.route = route;
        this.remoteStatus = remoteStatus;
    }

    /** The route's name. */
    public String route() {
        return route;
    }

    /** The HTTP status the remote answered, 0 when none. */
    public int remoteStatus() {
        return remoteStatus;
    }
}

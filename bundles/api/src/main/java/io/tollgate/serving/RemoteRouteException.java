package io.tollgate.serving;

/**
 * A failure of a model's remote route (hybrid overflow): which route, and for {@link Reason#REMOTE_REJECTED} the 4xx
 * status the remote answered, which the endpoint answers too.
 *
 * @since 1.4
 */
public class RemoteRouteException extends InferenceException {
    private static final long serialVersionUID = 1L;
    private final String route;
    private final int remoteStatus;

    /**
     * @param reason       one of the {@code REMOTE_*} reasons
     * @param route        the route's name ({@code route.name} in {@code conf/models/{m}.json})
     * @param remoteStatus the HTTP status the remote answered (400..499 for {@link Reason#REMOTE_REJECTED}), or 0
     *                     when it gave none (timeout, connection refused, circuit open)
     * @param message      for the caller; names the route
     */
    public RemoteRouteException(Reason reason, String route, int remoteStatus, String message) {
        super(reason, message);
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

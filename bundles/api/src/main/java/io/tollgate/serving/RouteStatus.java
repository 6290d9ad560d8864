package io.tollgate.serving;

/**
 * A model's remote route (hybrid overflow) and its counters since it was configured, for {@code /metrics}.
 *
 * @param model    the model it routes
 * @param route    the route's name
 * @param mode     {@code local-first} or {@code remote}
 * @param url      the remote server's base URL
 * @param breaker  the circuit breaker's state: {@code closed}, {@code open} or {@code half_open}
 * @param requests requests sent to the remote
 * @param failures of those, the ones that failed (5xx, timeout, connection failure, invalid answer; not a 4xx)
 * @since 1.4
 */
public record RouteStatus(String model, String route, String mode, String url, String breaker, long requests,
                          long failures) {
}

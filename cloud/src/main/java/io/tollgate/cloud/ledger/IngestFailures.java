package io.tollgate.cloud.ledger;

import java.sql.SQLException;

/**
 * Sorts what an ingest threw (issue 8, "one poison batch stops billing"): <em>deterministic</em> failures fail the
 * same bytes every time — retrying them only stops every device behind them on the one ingest thread — while
 * <em>transient</em> ones (the database down, a lock timeout, a serialization failure) pass when retried.
 *
 * <p>Deterministic: SQLSTATE class 22 (data exception: a value the database refuses, e.g. PostgreSQL's 22021 for a
 * NUL character in text, 22001 too long) and 23 (integrity constraint violation), and any unchecked exception (a
 * bug that these bytes trigger). Everything else — connection errors (08), transaction rollbacks and deadlocks (40),
 * resources (53), operator intervention (57), SQLSTATE-less driver errors — is transient: the batch is retried with
 * back-off as before.
 */
public final class IngestFailures {
    private IngestFailures() {
    }

    /** True when retrying the same batch cannot succeed. */
    public static boolean deterministic(Throwable e) {
        if (e instanceof SQLException sql) {
            for (SQLException s = sql; s != null; s = s.getNextException()) {
                String state = s.getSQLState();
                if (state != null && (state.startsWith("22") || state.startsWith("23"))) {
                    return true;
                }
            }
            return false;
        }
        return e instanceof RuntimeException;
    }

    /** One line for the quarantine and the log: the exception's class, SQLSTATE when there is one, and message. */
    public static String describe(Throwable e) {
        String state = e instanceof SQLException s && s.getSQLState() != null ? " (SQLSTATE " + s.getSQLState() + ")"
                : "";
        String msg = String.valueOf(e.getMessage()).replace('\n', ' ');
        return e.getClass().getSimpleName() + state + ": " + (msg.length() > 1500 ? msg.substring(0, 1500) + "…" : msg);
    }
}

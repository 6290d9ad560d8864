package io.tollgate.cloud.ledger;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * The ledger's JDBC database: embedded H2 (a file under the data folder, the default) or PostgreSQL. Connections
 * are opened per unit of work; for H2 one connection is held open for the service's lifetime so the database stays
 * open between them. {@link BatchIngest} reuses its connections ({@link #acquire()}/{@link #release}): a new
 * PostgreSQL connection per MQTT batch costs a server process start and loses the server-side prepared statements.
 * PostgreSQL connections default to {@code reWriteBatchedInserts=true} (multi-row INSERTs for JDBC batches; a
 * value in the URL wins).
 */
public final class Database implements AutoCloseable {
    public enum Dialect { H2, POSTGRESQL }

    private final String url;
    /** From --db-password-file; never in the URL (which is logged, redacted or not). */
    private final String password;
    private final Dialect dialect;
    private final Connection keeper;
    /** Connections given back by {@link #release}, newest first; at most {@link #MAX_IDLE}. */
    private final ConcurrentLinkedDeque<Idle> idle = new ConcurrentLinkedDeque<>();
    private volatile boolean closed;

    private static final int MAX_IDLE = 4;
    /** A connection idle longer than this is checked with {@link Connection#isValid} before it is reused. */
    private static final long CHECK_AFTER_IDLE_NANOS = 10_000_000_000L;

    private record Idle(Connection connection, long sinceNanos) {
    }

    private Database(String url, Dialect dialect, Connection keeper, String password) {
        this.password = password;
        this.url = url;
        this.dialect = dialect;
        this.keeper = keeper;
    }

    /**
     * The default embedded ledger: {@code <data>/ledger.mv.db}, opened by one process only (no AUTO_SERVER: H2's
     * server mode listened on every interface; a command run while the service holds the file gets
     * {@link #IN_USE}). Every H2 ledger is opened with {@code WRITE_DELAY 0} ({@link #open}).
     */
    public static String defaultUrl(Path dataDir) {
        return "jdbc:h2:file:" + dataDir.toAbsolutePath().normalize().resolve("ledger") + ";LOCK_TIMEOUT=10000";
    }

    /** The message when another process holds the embedded ledger's file lock. */
    public static final String IN_USE = "the ledger is in use by a running tollgate-billing; stop it or use its HTTP "
            + "API";

    /** H2's error code for a database file locked by another process (DATABASE_ALREADY_OPEN_1). */
    private static final int H2_DATABASE_ALREADY_OPEN = 90020;

    /** Connects, then brings the schema up to date. */
    public static Database open(String url) throws LedgerException {
        return open(url, null);
    }

    /**
     * Connects with {@code password} (null: none, or the URL's own), then brings the schema up to date. An H2 ledger
     * is switched to {@code WRITE_DELAY 0}: H2's MVStore otherwise writes a commit up to 500 ms after it returned,
     * and a SIGKILL in that window lost records the devices had been acked for (docs/decisions.md, 2026-11-30).
     */
    public static Database open(String url, String password) throws LedgerException {
        Dialect dialect;
        if (url.startsWith("jdbc:h2:")) {
            dialect = Dialect.H2;
        } else if (url.startsWith("jdbc:postgresql:")) {
            dialect = Dialect.POSTGRESQL;
        } else {
            throw new LedgerException(LedgerException.Reason.BAD_INPUT, "unsupported ledger URL '" + url
                    + "': use jdbc:h2:file:PATH or jdbc:postgresql://HOST:PORT/DB");
        }
        Connection keeper = null;
        try {
            keeper = new Database(url, dialect, null, password).connect();
            if (dialect == Dialect.H2) {
                try (java.sql.Statement st = keeper.createStatement()) {
                    st.execute("SET WRITE_DELAY 0");
                }
            }
            SchemaMigrations.migrate(keeper);
            if (dialect == Dialect.POSTGRESQL) {
                keeper.close();
                keeper = null;
            }
            return new Database(url, dialect, keeper, password);
        } catch (SQLException e) {
            closeQuietly(keeper);
            if (dialect == Dialect.H2 && e.getErrorCode() == H2_DATABASE_ALREADY_OPEN) {
                throw new LedgerException(LedgerException.Reason.UNAVAILABLE, IN_USE + " (the file lock on "
                        + h2File(url) + " is held)", e);
            }
            throw new LedgerException(LedgerException.Reason.UNAVAILABLE, "cannot open the ledger at " + redact(url)
                    + ": " + e.getMessage() + " (check --db, that the database exists and is reachable)", e);
        } catch (LedgerException e) {
            closeQuietly(keeper);
            throw e;
        }
    }

    public Connection connect() throws SQLException {
        Properties defaults = new Properties();
        if (password != null) {
            defaults.setProperty("password", password);
        }
        if (dialect == Dialect.POSTGRESQL) {
            defaults.setProperty("reWriteBatchedInserts", "true");
            return DriverManager.getConnection(url, defaults); // pgjdbc: parameters in the URL override these
        }
        return password == null ? DriverManager.getConnection(url) : DriverManager.getConnection(url, defaults);
    }

    /** The file of an H2 URL ({@code jdbc:h2:file:/x/ledger;…} → {@code /x/ledger.mv.db}). */
    private static String h2File(String url) {
        String path = url.substring("jdbc:h2:".length());
        path = path.startsWith("file:") ? path.substring(5) : path;
        int semi = path.indexOf(';');
        return (semi < 0 ? path : path.substring(0, semi)) + ".mv.db";
    }

    /**
     * A connection for one unit of work that ends in commit or rollback: a reused one when there is one, else a new
     * one. Give it back with {@link #release}.
     */
    Connection acquire() throws SQLException {
        Idle i;
        while ((i = idle.pollFirst()) != null) {
            Connection c = i.connection();
            if (System.nanoTime() - i.sinceNanos() < CHECK_AFTER_IDLE_NANOS || c.isValid(2)) {
                return c;
            }
            closeQuietly(c);
        }
        return connect();
    }

    /**
     * Takes back a connection from {@link #acquire()}. {@code reusable} = its transaction ended cleanly (committed or
     * rolled back); otherwise, or when enough are idle or the database is closed, it is closed.
     */
    void release(Connection c, boolean reusable) {
        if (!reusable || closed || idle.size() >= MAX_IDLE) {
            closeQuietly(c);
            return;
        }
        idle.offerFirst(new Idle(c, System.nanoTime()));
        if (closed) {
            closeIdle();
        }
    }

    public Dialect dialect() {
        return dialect;
    }

    public String url() {
        return redact(url);
    }

    @Override
    public void close() {
        closed = true;
        closeIdle();
        closeQuietly(keeper);
    }

    private void closeIdle() {
        Idle i;
        while ((i = idle.pollFirst()) != null) {
            closeQuietly(i.connection());
        }
    }

    static String redact(String url) {
        return url.replaceAll("(?i)(password=)[^&;]*", "$1***");
    }

    private static void closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // closing on the way out
            }
        }
    }
}

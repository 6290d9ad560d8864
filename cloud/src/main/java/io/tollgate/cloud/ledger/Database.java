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

    private Database(String url, Dialect dialect, Connection keeper) {
        this.url = url;
        this.dialect = dialect;
        this.keeper = keeper;
    }

    /** The default embedded ledger: {@code <data>/ledger.mv.db}; AUTO_SERVER lets the CLI use it while a service runs. */
    public static String defaultUrl(Path dataDir) {
        return "jdbc:h2:file:" + dataDir.toAbsolutePath().normalize().resolve("ledger")
                + ";AUTO_SERVER=TRUE;LOCK_TIMEOUT=10000";
    }

    /** Connects, then brings the schema up to date. */
    public static Database open(String url) throws LedgerException {
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
            keeper = dialect == Dialect.POSTGRESQL ? new Database(url, dialect, null).connect()
                    : DriverManager.getConnection(url);
            SchemaMigrations.migrate(keeper);
            if (dialect == Dialect.POSTGRESQL) {
                keeper.close();
                keeper = null;
            }
            return new Database(url, dialect, keeper);
        } catch (SQLException e) {
            closeQuietly(keeper);
            throw new LedgerException(LedgerException.Reason.UNAVAILABLE, "cannot open the ledger at " + redact(url)
                    + ": " + e.getMessage() + " (check --db, that the database exists and is reachable)", e);
        } catch (LedgerException e) {
            closeQuietly(keeper);
            throw e;
        }
    }

    public Connection connect() throws SQLException {
        if (dialect == Dialect.POSTGRESQL) {
            Properties defaults = new Properties();
            defaults.setProperty("reWriteBatchedInserts", "true");
            return DriverManager.getConnection(url, defaults); // pgjdbc: parameters in the URL override these
        }
        return DriverManager.getConnection(url);
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

package io.tollgate.cloud.ledger;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

/**
 * The ledger's JDBC database: embedded H2 (a file under the data folder, the default) or PostgreSQL. Connections
 * are opened per unit of work; for H2 one connection is held open for the service's lifetime so the database stays
 * open between them.
 */
public final class Database implements AutoCloseable {
    public enum Dialect { H2, POSTGRESQL }

    private final String url;
    private final Dialect dialect;
    private final Connection keeper;

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
            keeper = DriverManager.getConnection(url);
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
        return DriverManager.getConnection(url);
    }

    public Dialect dialect() {
        return dialect;
    }

    public String url() {
        return redact(url);
    }

    @Override
    public void close() {
        closeQuietly(keeper);
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

package io.tollgate.cloud;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

/** Fresh ledgers for tests: an H2 file in a temp folder, or a new database on the machine's PostgreSQL. */
public final class TestDatabases {
    static final String PG_ADMIN = "jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres&connectTimeout=3";

    private TestDatabases() {
    }

    public static String h2(Path dir) {
        return "jdbc:h2:file:" + dir.toAbsolutePath().resolve("ledger") + ";LOCK_TIMEOUT=10000";
    }

    /** A new PostgreSQL database and its URL, or null (after printing SKIPPED) when no server answers. */
    public static String createPostgres() {
        String name = "tollgate_it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        try (Connection c = DriverManager.getConnection(PG_ADMIN); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            System.out.println("SKIPPED: no PostgreSQL at 127.0.0.1:5432 (" + e.getMessage() + ")");
            return null;
        }
        return "jdbc:postgresql://127.0.0.1:5432/" + name + "?user=postgres";
    }

    public static void dropPostgres(String url) throws SQLException {
        if (url == null) {
            return;
        }
        String name = url.substring(url.lastIndexOf('/') + 1, url.indexOf('?'));
        try (Connection c = DriverManager.getConnection(PG_ADMIN); Statement st = c.createStatement()) {
            st.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        }
    }
}

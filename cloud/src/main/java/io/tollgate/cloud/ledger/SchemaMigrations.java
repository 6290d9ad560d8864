package io.tollgate.cloud.ledger;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Versioned schema migrations: {@code db/migration/V<n>__<description>.sql} resources applied in order, each once,
 * recorded in {@code schema_version}. Row 0 of that table is a lock row: a migrating instance holds it FOR UPDATE,
 * so two instances starting together on one PostgreSQL database do not both migrate (on PostgreSQL DDL is
 * transactional; H2 commits DDL at once, which is fine for its single-process use).
 */
public final class SchemaMigrations {
    private static final Logger LOG = LoggerFactory.getLogger(SchemaMigrations.class);
    /** Every migration, in order. A new one is appended here and added as a resource. */
    static final List<String> MIGRATIONS = List.of("V1__ledger.sql", "V2__drop_device_time_index.sql",
            "V3__sealed_only_and_tenants.sql", "V4__quarantined_batches_and_clones.sql", "V5__licenses.sql");

    private SchemaMigrations() {
    }

    public static int latestVersion() {
        return MIGRATIONS.size();
    }

    static void migrate(Connection c) throws SQLException, LedgerException {
        boolean auto = c.getAutoCommit();
        try (Statement st = c.createStatement()) {
            c.setAutoCommit(true);
            st.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                    + "description VARCHAR(255) NOT NULL, applied_at TIMESTAMP WITH TIME ZONE NOT NULL)");
            try {
                insertVersion(c, 0, "lock row");
            } catch (SQLException duplicate) {
                // another instance made it first
            }
            c.setAutoCommit(false);
            try (ResultSet lock = st.executeQuery("SELECT version FROM schema_version WHERE version = 0 FOR UPDATE")) {
                lock.next();
            }
            int current;
            try (ResultSet rs = st.executeQuery("SELECT MAX(version) FROM schema_version")) {
                rs.next();
                current = rs.getInt(1);
            }
            if (current > MIGRATIONS.size()) {
                throw new LedgerException(LedgerException.Reason.SCHEMA, "the ledger schema is at version " + current
                        + " but this build knows only up to " + MIGRATIONS.size() + ": run a newer tollgate-billing");
            }
            for (int v = current + 1; v <= MIGRATIONS.size(); v++) {
                String name = MIGRATIONS.get(v - 1);
                LOG.info("Applying ledger migration {}", name);
                for (String sql : statements(read(name))) {
                    st.execute(sql);
                }
                insertVersion(c, v, name.substring(name.indexOf("__") + 2, name.length() - 4));
            }
            c.commit();
        } catch (SQLException | LedgerException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
    }

    private static void insertVersion(Connection c, int version, String description) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)")) {
            ps.setInt(1, version);
            ps.setString(2, description);
            ps.setObject(3, OffsetDateTime.now(ZoneOffset.UTC));
            ps.executeUpdate();
        }
    }

    static List<String> statements(String script) {
        List<String> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : script.split("\n")) {
            String trimmed = line.strip();
            if (trimmed.startsWith("--") || trimmed.isEmpty()) {
                continue;
            }
            current.append(line).append('\n');
            if (trimmed.endsWith(";")) {
                String sql = current.toString().strip();
                out.add(sql.substring(0, sql.length() - 1));
                current.setLength(0);
            }
        }
        if (!current.toString().isBlank()) {
            out.add(current.toString().strip());
        }
        return out;
    }

    private static String read(String name) throws LedgerException {
        try (InputStream in = SchemaMigrations.class.getResourceAsStream("/db/migration/" + name)) {
            if (in == null) {
                throw new LedgerException(LedgerException.Reason.SCHEMA, "migration " + name + " is missing from "
                        + "the class path (a broken build)");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new LedgerException(LedgerException.Reason.SCHEMA, "cannot read migration " + name, e);
        }
    }
}

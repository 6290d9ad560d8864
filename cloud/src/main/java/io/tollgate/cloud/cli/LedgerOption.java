package io.tollgate.cloud.cli;

import io.tollgate.cloud.ledger.Database;
import io.tollgate.tools.ExitCodes;
import io.tollgate.tools.ToolException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --db JDBC-URL}, for the commands that open the ledger. */
final class LedgerOption {
    @Option(names = "--db", paramLabel = "JDBC-URL",
            description = "Ledger database, e.g. jdbc:postgresql://host:5432/tollgate?user=billing (default: embedded "
                    + "H2 in DIR/ledger.mv.db).")
    private String db;

    /** {@code --db} as given (null = the embedded default). */
    String option() {
        return db;
    }

    /** {@code --db}, else the embedded H2 ledger in {@code dataDir} (created when it is not there). */
    String jdbcUrl(Path dataDir) {
        return db != null ? db : Database.defaultUrl(dataDir);
    }

    /**
     * As {@link #jdbcUrl}, for commands that only read: the embedded ledger must exist (H2 would create an empty one,
     * and the command would report an empty ledger for a mistyped --data), else {@link ExitCodes#IO_ERROR}.
     */
    String existingJdbcUrl(Path dataDir) throws ToolException {
        Path file = dataDir.resolve("ledger.mv.db");
        if (db == null && !Files.isRegularFile(file)) {
            throw new ToolException(ExitCodes.IO_ERROR, "no ledger at " + file + "; give the billing endpoint's data "
                    + "folder (--data) or its database (--db)");
        }
        return jdbcUrl(dataDir);
    }
}

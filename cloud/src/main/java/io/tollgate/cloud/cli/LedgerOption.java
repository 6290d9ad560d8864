package io.tollgate.cloud.cli;

import io.tollgate.cloud.ledger.Database;
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

    /** {@code --db}, else the embedded H2 ledger in {@code dataDir}. */
    String jdbcUrl(Path dataDir) {
        return db != null ? db : Database.defaultUrl(dataDir);
    }
}

package io.tollgate.cloud.cli;

import io.tollgate.cloud.ledger.Database;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --data DIR} and {@code --db JDBC-URL}, shared by the commands that open the ledger or the cloud key. */
final class DataOptions {
    @Option(names = "--data", paramLabel = "DIR",
            description = "Data folder: cloud key, embedded ledger, broker data (default: TOLLGATE_BILLING_HOME/data, "
                    + "else ./data).")
    private Path data;

    @Option(names = "--db", paramLabel = "JDBC-URL",
            description = "Ledger database, e.g. jdbc:postgresql://host:5432/tollgate?user=billing (default: embedded "
                    + "H2 in DIR/ledger.mv.db).")
    private String db;

    /** {@code --data}, else {@code <tollgate.billing.home>/data}, else {@code ./data}. */
    Path dataDir() {
        if (data != null) {
            return data;
        }
        String home = System.getProperty("tollgate.billing.home");
        return home != null ? Path.of(home, "data") : Path.of("data");
    }

    /** {@code --db} as given (null = the embedded default). */
    String jdbcUrlOption() {
        return db;
    }

    /** {@code --db}, else the embedded H2 ledger in the data folder. */
    String jdbcUrl() {
        return db != null ? db : Database.defaultUrl(dataDir());
    }
}

package io.tollgate.cloud.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --data DIR}, shared by every billing command. */
final class DataOptions {
    @Option(names = "--data", paramLabel = "DIR",
            description = "Data folder: cloud key, embedded ledger, broker data (default: TOLLGATE_BILLING_HOME/data, "
                    + "else ./data).")
    private Path data;

    /** {@code --data}, else {@code <tollgate.billing.home>/data}, else {@code ./data}. */
    Path dataDir() {
        if (data != null) {
            return data;
        }
        String home = System.getProperty("tollgate.billing.home");
        return home != null ? Path.of(home, "data") : Path.of("data");
    }
}

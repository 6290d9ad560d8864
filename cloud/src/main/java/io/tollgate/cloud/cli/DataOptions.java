package io.tollgate.cloud.cli;

import io.tollgate.tools.PathValues;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code --data DIR}, shared by every billing command. */
final class DataOptions {
    @Spec(Spec.Target.MIXEE)
    private CommandSpec command;

    private Path data;

    @Option(names = "--data", paramLabel = "DIR",
            description = "Data folder: cloud key, embedded ledger, broker data (default: TOLLGATE_BILLING_HOME/data, "
                    + "else ./data).")
    private void data(String value) {
        data = PathValues.nonEmpty(command, "--data", value);
    }

    /** {@code --data}, else {@code <tollgate.billing.home>/data}, else {@code ./data}. */
    Path dataDir() {
        if (data != null) {
            return data;
        }
        String home = System.getProperty("tollgate.billing.home");
        return home != null ? Path.of(home, "data") : Path.of("data");
    }
}

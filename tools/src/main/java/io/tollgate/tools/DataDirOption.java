package io.tollgate.tools;

import java.nio.file.Path;
import java.nio.file.Paths;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code --data DIR}, shared by the commands that work on an appliance's data directory. */
public final class DataDirOption {
    @Spec(Spec.Target.MIXEE)
    private CommandSpec command;

    private Path data;

    @Option(names = "--data", paramLabel = "DIR",
            description = "The appliance's data directory (default: system property tollgate.data, else "
                    + "TOLLGATE_HOME/data, else ./data).")
    private void data(String value) {
        data = PathValues.nonEmpty(command, "--data", value);
    }

    /** {@code --data} when given, else {@code tollgate.data}, else {@code <tollgate.home>/data}, else {@code ./data}. */
    public Path resolve() {
        if (data != null) {
            return data;
        }
        String prop = System.getProperty("tollgate.data", "");
        if (!prop.isBlank()) {
            return Paths.get(prop);
        }
        String home = System.getProperty("tollgate.home", "");
        return home.isBlank() ? Paths.get("data") : Paths.get(home, "data");
    }
}

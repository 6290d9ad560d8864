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
        return resolve(data, "tollgate.data", "data");
    }

    /**
     * A distribution folder: {@code given} when not null, else the system property {@code property}, else
     * {@code <tollgate.home>/name}, else {@code ./name} (shared with {@link ConfDirOption}).
     */
    public static Path resolve(Path given, String property, String name) {
        if (given != null) {
            return given;
        }
        String prop = System.getProperty(property, "");
        if (!prop.isBlank()) {
            return Paths.get(prop);
        }
        String home = System.getProperty("tollgate.home", "");
        return home.isBlank() ? Paths.get(name) : Paths.get(home, name);
    }
}

package io.tollgate.tools;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --conf DIR}, shared by the commands that work on an appliance's configuration folder. */
public final class ConfDirOption {
    @Option(names = "--conf", paramLabel = "DIR",
            description = "The appliance's configuration folder (default: system property tollgate.conf, else "
                    + "TOLLGATE_HOME/conf, else ./conf); bin/tollgate run --conf DIR reads the same one.")
    private Path conf;

    /** {@code --conf} when given, else {@code tollgate.conf}, else {@code <tollgate.home>/conf}, else {@code ./conf}. */
    public Path resolve() {
        return DataDirOption.resolve(conf, "tollgate.conf", "conf");
    }
}

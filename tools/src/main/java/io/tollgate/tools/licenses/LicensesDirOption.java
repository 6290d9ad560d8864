package io.tollgate.tools.licenses;

import io.tollgate.tools.DataDirOption;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --licenses DIR}: the appliance's licenses folder, as {@code bin/tollgate run --licenses DIR} reads it. */
public final class LicensesDirOption {
    @Option(names = "--licenses", paramLabel = "DIR",
            description = "The appliance's licenses folder (default: TOLLGATE_HOME/licenses, else ./licenses); "
                    + "bin/tollgate run --licenses DIR reads the same one.")
    private Path licenses;

    /** {@code --licenses} when given, else {@code tollgate.licenses}, else {@code <tollgate.home>/licenses}. */
    public Path resolve() {
        return DataDirOption.resolve(licenses, "tollgate.licenses", "licenses");
    }
}

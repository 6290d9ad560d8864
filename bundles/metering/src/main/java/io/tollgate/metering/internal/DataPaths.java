package io.tollgate.metering.internal;

import java.nio.file.Path;
import java.nio.file.Paths;

/** Where the appliance keeps its data: the system property {@code tollgate.data}, else "data" in the working directory. */
public final class DataPaths {
    /** System property naming the appliance's data directory. */
    public static final String DATA_PROPERTY = "tollgate.data";

    private DataPaths() {
    }

    /** The data directory: {@code tollgate.data} when set, else "data". */
    public static Path dataDir() {
        String data = System.getProperty(DATA_PROPERTY, "");
        return data.isBlank() ? Paths.get("data") : Paths.get(data);
    }

    /** {@code configured} when not blank, else {@code <data dir>/<child>}. */
    static Path resolve(String configured, String child) {
        if (configured != null && !configured.isBlank()) {
            return Paths.get(configured.trim());
        }
        return dataDir().resolve(child);
    }
}

package io.tollgate.model;

import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * A serialized accelerator engine a plugin ships next to its model for one firmware profile, so that a box of that
 * profile need not build it (a TensorRT build takes minutes on a Jetson). Descriptor field
 * {@code engines: [{"profile": "jetson-orin-nano-jp6", "file": "engines/orin-nano-fp16.plan", "precision": "fp16",
 * "tensorrt": "10.3"}]}.
 *
 * @param profile   firmware profile it was built for, e.g. {@code jetson-orin-nano-jp6}
 * @param file      path inside the plugin, relative to {@code TOLLGATE-INF/}
 * @param precision {@code fp32}, {@code fp16} or {@code int8}
 * @param tensorrt  TensorRT version it was built with, {@code major.minor} or {@code major.x} (a plan only loads in
 *                  the TensorRT release that built it, so a box with another one ignores it and builds its own)
 * @since 1.3
 */
public record PrebuiltEngine(String profile, String file, String precision, String tensorrt) {
    /** Precisions an engine can be built in. */
    public static final Set<String> PRECISIONS = Set.of("fp32", "fp16", "int8");

    /**
     * @throws IllegalArgumentException naming the field when one is blank or the precision is not one of
     *                                  {@link #PRECISIONS}
     */
    public PrebuiltEngine {
        profile = required("profile", profile);
        file = required("file", file);
        precision = required("precision", precision).toLowerCase(Locale.ROOT);
        tensorrt = required("tensorrt", tensorrt);
        if (!PRECISIONS.contains(precision)) {
            throw new IllegalArgumentException("precision '" + precision + "' is not one of fp32, fp16, int8");
        }
    }

    /**
     * True when this engine was built by TensorRT {@code version} (e.g. {@code 10.3.0}): same major, and the same minor
     * unless this one says {@code 10.x}.
     */
    public boolean builtBy(String version) {
        String[] mine = tensorrt.split("\\.");
        String[] theirs = Objects.requireNonNull(version, "version").split("\\.");
        if (!mine[0].equals(theirs[0])) {
            return false;
        }
        if (mine.length < 2 || mine[1].equalsIgnoreCase("x")) {
            return true;
        }
        return theirs.length >= 2 && mine[1].equals(theirs[1]);
    }

    private static String required(String field, String value) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("field '" + field + "' of a prebuilt engine is missing or blank");
        }
        return value.strip();
    }
}

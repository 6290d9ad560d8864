package io.tollgate.engine.onnx.internal;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession.SessionOptions;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import io.tollgate.engine.spi.EngineException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Validated session settings of the ONNX engine: what {@link OnnxEngineConfig} says, or defaults, with
 * per-model overrides from a descriptor's parameters. Immutable.
 *
 * <p>Plain-Java callers (tests, the launcher) build one with {@link #defaults()} or
 * {@link #fromProperties(Map)} and pass it to {@link OnnxEngine#OnnxEngine(OnnxSettings)}.
 *
 * @param intraOpThreads     threads per operator, 0 = ONNX Runtime default
 * @param interOpThreads     threads across operators, 0 = ONNX Runtime default
 * @param optimizationLevel  graph optimization level
 * @param executionProviders requested providers in order ({@code cuda}, {@code tensorrt}, {@code cpu})
 * @param cudaDeviceId       GPU index for the GPU providers
 * @param memoryPattern      ONNX Runtime memory pattern optimization
 * @param cpuArena           ONNX Runtime CPU memory arena
 */
public record OnnxSettings(int intraOpThreads, int interOpThreads, OptimizationLevel optimizationLevel,
                           List<String> executionProviders, int cudaDeviceId, boolean memoryPattern,
                           boolean cpuArena) {

    /** Execution provider names accepted in {@code execution.providers}. */
    public static final List<String> PROVIDERS = List.of("cuda", "tensorrt", "cpu");

    // Configuration keys (DS name mapping of OnnxEngineConfig) and descriptor parameter names.
    static final String INTRA_KEY = "intra.op.threads";
    static final String INTER_KEY = "inter.op.threads";
    static final String LEVEL_KEY = "optimization.level";
    static final String PROVIDERS_KEY = "execution.providers";
    static final String DEVICE_KEY = "cuda.device.id";
    static final String MEMORY_PATTERN_KEY = "memory.pattern";
    static final String ARENA_KEY = "cpu.arena";

    /** Graph optimization levels, as named in configuration. */
    public enum OptimizationLevel {
        ALL(OptLevel.ALL_OPT), EXTENDED(OptLevel.EXTENDED_OPT), BASIC(OptLevel.BASIC_OPT), NONE(OptLevel.NO_OPT);

        private final OptLevel ort;

        OptimizationLevel(OptLevel ort) {
            this.ort = ort;
        }

        OptLevel ort() {
            return ort;
        }

        /** Parses a level name (case-insensitive); the message names {@code key} and the accepted values. */
        static OptimizationLevel parse(String key, String value) {
            String v = value == null ? "" : value.trim().toUpperCase(Locale.ROOT);
            for (OptimizationLevel level : values()) {
                if (level.name().equals(v)) {
                    return level;
                }
            }
            throw new IllegalArgumentException(key + "='" + value + "' is not a graph optimization level; use one of "
                    + Arrays.toString(values()));
        }
    }

    public OnnxSettings {
        requireNonNegative(INTRA_KEY, intraOpThreads);
        requireNonNegative(INTER_KEY, interOpThreads);
        requireNonNegative(DEVICE_KEY, cudaDeviceId);
        Objects.requireNonNull(optimizationLevel, "optimizationLevel");
        executionProviders = List.copyOf(executionProviders);
        validateProviders(executionProviders);
    }

    /** CPU only, ONNX Runtime's thread defaults, all graph optimizations, memory pattern and arena on. */
    public static OnnxSettings defaults() {
        return new OnnxSettings(0, 0, OptimizationLevel.ALL, List.of("cpu"), 0, true, true);
    }

    /**
     * Settings from the component configuration.
     *
     * @throws IllegalArgumentException naming the key and its accepted values when one is invalid
     */
    static OnnxSettings fromConfig(OnnxEngineConfig config) {
        return new OnnxSettings(config.intra_op_threads(), config.inter_op_threads(),
                OptimizationLevel.parse(LEVEL_KEY, config.optimization_level()),
                parseProviders(config.execution_providers()), config.cuda_device_id(), config.memory_pattern(),
                config.cpu_arena());
    }

    /**
     * Settings from configuration-style properties for callers outside OSGi. Keys may be written with dots
     * ({@code intra.op.threads}) or underscores ({@code intra_op_threads}); absent keys keep the defaults.
     *
     * @throws IllegalArgumentException naming the key and its accepted values when one is invalid
     */
    public static OnnxSettings fromProperties(Map<String, ?> properties) {
        OnnxSettings d = defaults();
        String level = text(properties, LEVEL_KEY);
        String levelKey = keyIn(properties, LEVEL_KEY);
        String providers = text(properties, PROVIDERS_KEY);
        String pattern = text(properties, MEMORY_PATTERN_KEY);
        String arena = text(properties, ARENA_KEY);
        return new OnnxSettings(
                intOr(properties, INTRA_KEY, d.intraOpThreads),
                intOr(properties, INTER_KEY, d.interOpThreads),
                level == null ? d.optimizationLevel : OptimizationLevel.parse(levelKey, level),
                providers == null ? d.executionProviders : parseProviders(providers),
                intOr(properties, DEVICE_KEY, d.cudaDeviceId),
                pattern == null ? d.memoryPattern : parseBoolean(MEMORY_PATTERN_KEY, pattern),
                arena == null ? d.cpuArena : parseBoolean(ARENA_KEY, arena));
    }

    /**
     * These settings with a model descriptor's overrides applied: {@code intra_op_threads},
     * {@code inter_op_threads} and {@code optimization_level}. Other parameters are left to other readers.
     *
     * @throws EngineException {@link EngineException.Reason#UNSUPPORTED} naming the parameter when a value is invalid
     */
    OnnxSettings withParameters(Map<String, String> parameters, String origin) throws EngineException {
        try {
            String level = text(parameters, LEVEL_KEY);
            return new OnnxSettings(
                    intOr(parameters, INTRA_KEY, intraOpThreads),
                    intOr(parameters, INTER_KEY, interOpThreads),
                    level == null ? optimizationLevel : OptimizationLevel.parse(keyIn(parameters, LEVEL_KEY), level),
                    executionProviders, cudaDeviceId, memoryPattern, cpuArena);
        } catch (IllegalArgumentException e) {
            throw new EngineException(EngineException.Reason.UNSUPPORTED, "model " + origin
                    + " has an invalid engine parameter: " + e.getMessage() + "; fix \"parameters\" in its model.json",
                    e);
        }
    }

    /** Puts threads, optimization level and memory flags on {@code options} (providers are the engine's job). */
    void applyTo(SessionOptions options) throws OrtException {
        if (intraOpThreads > 0) {
            options.setIntraOpNumThreads(intraOpThreads);
        }
        if (interOpThreads > 0) {
            options.setInterOpNumThreads(interOpThreads);
        }
        options.setOptimizationLevel(optimizationLevel.ort());
        options.setMemoryPatternOptimization(memoryPattern);
        options.setCPUArenaAllocator(cpuArena);
    }

    /** Parses a comma list of providers, lower-cased, blanks dropped. */
    static List<String> parseProviders(String list) {
        List<String> out = new ArrayList<>();
        if (list != null) {
            for (String p : list.split(",")) {
                String name = p.trim().toLowerCase(Locale.ROOT);
                if (!name.isEmpty()) {
                    out.add(name);
                }
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException(PROVIDERS_KEY + "='" + list + "' names no execution provider; use a"
                    + " comma list of " + PROVIDERS + ", e.g. 'cuda,cpu' or 'cpu'");
        }
        return out;
    }

    private static void validateProviders(List<String> providers) {
        if (providers.isEmpty()) {
            throw new IllegalArgumentException(PROVIDERS_KEY + " is empty; use a comma list of " + PROVIDERS);
        }
        for (int i = 0; i < providers.size(); i++) {
            String p = providers.get(i);
            if (!PROVIDERS.contains(p)) {
                throw new IllegalArgumentException(PROVIDERS_KEY + " names '" + p + "', which is not one of "
                        + PROVIDERS);
            }
            if (p.equals("cpu") && i != providers.size() - 1) {
                // ONNX Runtime gives each node to the first provider that can run it: after cpu nothing else
                // would ever get work, so a list like "cpu,cuda" is a mistake worth refusing.
                throw new IllegalArgumentException(PROVIDERS_KEY + "=" + String.join(",", providers)
                        + " lists providers after 'cpu', which would never be used; put 'cpu' last");
            }
            if (providers.indexOf(p) != i) {
                throw new IllegalArgumentException(PROVIDERS_KEY + " lists '" + p + "' twice");
            }
        }
    }

    private static void requireNonNegative(String key, int value) {
        if (value < 0) {
            throw new IllegalArgumentException(key + "=" + value + " is negative; use 0 (ONNX Runtime's default) or more");
        }
    }

    private static String underscored(String key) {
        return key.replace('.', '_');
    }

    /** The key {@code map} uses for a setting: the dotted one or its underscored spelling; null when absent. */
    private static String keyIn(Map<String, ?> map, String dottedKey) {
        if (map.get(dottedKey) != null) {
            return dottedKey;
        }
        String underscored = underscored(dottedKey);
        return map.get(underscored) != null ? underscored : null;
    }

    /** The value of a setting as trimmed text; null when absent. */
    private static String text(Map<String, ?> map, String dottedKey) {
        String key = keyIn(map, dottedKey);
        return key == null ? null : map.get(key).toString().trim();
    }

    /** A thread count or device index (0 or more); {@code fallback} when absent. */
    private static int intOr(Map<String, ?> map, String dottedKey, int fallback) {
        String key = keyIn(map, dottedKey);
        if (key == null) {
            return fallback;
        }
        String v = map.get(key).toString().trim();
        int value;
        try {
            value = Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + "='" + v
                    + "' is not a whole number; use 0 (ONNX Runtime's default) or more", e);
        }
        requireNonNegative(key, value);
        return value;
    }

    private static boolean parseBoolean(String key, String v) {
        if (v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(v);
        }
        throw new IllegalArgumentException(key + "='" + v + "' is not true or false");
    }
}

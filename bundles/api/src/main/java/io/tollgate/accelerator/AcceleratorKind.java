package io.tollgate.accelerator;

import java.util.Locale;

/** What kind of device an {@link Accelerator} is. Configuration spells kinds in lower case ({@code gpu}). */
public enum AcceleratorKind {
    /** The host CPU (always present; id {@code cpu}). */
    CPU,
    /** A CUDA GPU, discrete or a Jetson iGPU (ids {@code cuda:0}, {@code cuda:1}, ...). */
    GPU,
    /** An NVIDIA Deep Learning Accelerator core on a Jetson (ids {@code dla:0}, {@code dla:1}); FP16/INT8 only. */
    DLA;

    /** The configuration spelling: {@code cpu}, {@code gpu}, {@code dla}. */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The kind a configuration word names, ignoring case and surrounding blanks.
     *
     * @throws IllegalArgumentException naming the word and the valid ones
     */
    public static AcceleratorKind ofKey(String word) {
        String w = word == null ? "" : word.strip().toUpperCase(Locale.ROOT);
        for (AcceleratorKind k : values()) {
            if (k.name().equals(w)) {
                return k;
            }
        }
        throw new IllegalArgumentException("'" + word + "' is no accelerator kind; the kinds are cpu, gpu, dla");
    }
}

package io.tollgate.engine.tensorrt.internal;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns what the JVM throws when javacpp cannot load the CUDA or TensorRT libraries ({@link UnsatisfiedLinkError},
 * {@link NoClassDefFoundError}, {@link ExceptionInInitializerError}, nested) into the one-line reason an operator can
 * act on, e.g. {@code no CUDA driver (libcuda.so.1 not found)}. Never a stack trace: a box without a GPU is normal.
 */
final class NativeFailure {
    private static final Pattern MISSING = Pattern.compile("(lib[\\w+.-]+\\.so[\\w.]*): cannot open shared object file");
    private static final Pattern NO_JNI = Pattern.compile("no (jni\\w+) in java\\.library\\.path");

    private NativeFailure() {
    }

    /** The reason {@code failure} (thrown by {@code Loader.load} or a preset's static initializer) stands for. */
    static String reason(Throwable failure) {
        String missing = null;
        String jni = null;
        String last = failure.toString();
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String message = String.valueOf(t.getMessage());
            last = t.getClass().getSimpleName() + ": " + message;
            Matcher m = MISSING.matcher(message);
            if (m.find()) {
                missing = m.group(1); // the deepest one wins: it is the library that is really absent
            }
            Matcher j = NO_JNI.matcher(message);
            if (j.find() && jni == null) {
                jni = j.group(1);
            }
        }
        if (missing != null) {
            return explain(missing);
        }
        if (jni != null) {
            return "the javacpp glue library " + jni + " for " + platform() + " could not be loaded (" + last + ")";
        }
        return "the CUDA/TensorRT native libraries could not be loaded: " + last;
    }

    /** What a missing shared library means and what to install. */
    static String explain(String library) {
        if (library.startsWith("libcuda.so")) {
            return "no CUDA driver (" + library + " not found): this box has no NVIDIA GPU or its driver is not installed";
        }
        if (library.startsWith("libcudart") || library.startsWith("libcublas") || library.startsWith("libcudnn")) {
            return "CUDA runtime not installed (" + library + " not found): install the CUDA runtime of JetPack or"
                    + " the NVIDIA packages, or run the -Pgpu-natives distribution";
        }
        if (library.startsWith("libnvinfer") || library.startsWith("libnvonnxparser")) {
            return "TensorRT not installed (" + library + " not found): install TensorRT (JetPack's, or the NVIDIA"
                    + " packages), or run the -Pgpu-natives distribution";
        }
        return "native library " + library + " not found";
    }

    private static String platform() {
        return System.getProperty("os.name", "?").toLowerCase(java.util.Locale.ROOT) + "-" + System.getProperty("os.arch", "?");
    }
}

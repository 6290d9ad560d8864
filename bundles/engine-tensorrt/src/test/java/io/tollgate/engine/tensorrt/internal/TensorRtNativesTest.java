package io.tollgate.engine.tensorrt.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.Assume;
import org.junit.Test;

/**
 * The JNI boundary on a machine without an NVIDIA driver (every build machine): the bytedeco classes are there and
 * load, javacpp's failure to load the natives becomes the one-line reason. A box with a GPU skips the "missing" tests;
 * bench/gpu-check covers it.
 */
public class TensorRtNativesTest {

    private static boolean noDriver() {
        return !Files.exists(Path.of("/dev/nvidia0")) && !Files.exists(Path.of("/dev/nvhost-ctrl-gpu"));
    }

    @Test
    public void bytedecoClassesArePresentForBothArchitectures() throws Exception {
        ClassLoader cl = getClass().getClassLoader();
        for (String name : new String[] {"org.bytedeco.tensorrt.nvinfer.IBuilder", "org.bytedeco.tensorrt.global.nvinfer",
                "org.bytedeco.tensorrt.global.nvonnxparser", "org.bytedeco.cuda.global.cudart",
                "org.bytedeco.javacpp.Loader"}) {
            assertNotNull(Class.forName(name, false, cl));
        }
        for (String glue : new String[] {"org/bytedeco/tensorrt/linux-x86_64/libjninvinfer.so",
                "org/bytedeco/tensorrt/linux-arm64/libjninvinfer.so",
                "org/bytedeco/tensorrt/linux-x86_64/libjninvonnxparser.so",
                "org/bytedeco/cuda/linux-x86_64/libjnicudart.so", "org/bytedeco/cuda/linux-arm64/libjnicudart.so"}) {
            assertNotNull("JNI glue " + glue + " missing", cl.getResource(glue));
        }
    }

    @Test
    public void missingDriverIsReportedAsAReasonNotAnError() {
        Assume.assumeTrue("an NVIDIA device is present", noDriver());
        TensorRtNatives.Probe probe = TensorRtNatives.probe(0);
        assertFalse(probe.availability().available());
        String reason = probe.availability().reason();
        assertTrue(reason, reason.startsWith("no CUDA driver (libcuda.so.1 not found)"));
        assertFalse(probe.gpu().isPresent());
        // a second probe (the preset's static initializer already failed: NoClassDefFoundError now) says the same
        assertEquals(reason, TensorRtNatives.probe(0).availability().reason());
    }

    @Test
    public void linkErrorsMapToWhatIsMissing() {
        UnsatisfiedLinkError driver = new UnsatisfiedLinkError("no jnicudart in java.library.path: /usr/lib");
        driver.initCause(new UnsatisfiedLinkError("/root/.javacpp/cache/x/libjnicudart.so: libcuda.so.1: cannot open"
                + " shared object file: No such file or directory"));
        assertTrue(NativeFailure.reason(driver).startsWith("no CUDA driver (libcuda.so.1 not found)"));

        NoClassDefFoundError trt = new NoClassDefFoundError("Could not initialize class org.bytedeco.tensorrt.global.nvinfer");
        trt.initCause(new ExceptionInInitializerError("Exception java.lang.UnsatisfiedLinkError: libnvinfer.so.10:"
                + " cannot open shared object file: No such file or directory"));
        assertTrue(NativeFailure.reason(trt), NativeFailure.reason(trt).startsWith("TensorRT not installed (libnvinfer.so.10"));

        assertTrue(NativeFailure.reason(new UnsatisfiedLinkError("libcudart.so.13: cannot open shared object file"))
                .startsWith("CUDA runtime not installed (libcudart.so.13"));
        assertTrue(NativeFailure.reason(new UnsatisfiedLinkError("no jninvinfer in java.library.path"))
                .contains("javacpp glue library jninvinfer"));
    }

    @Test
    public void tensorRtVersionIsDecoded() {
        assertEquals("10.3.0", TensorRtNatives.version(100300));
        assertEquals("11.2.1", TensorRtNatives.version(110201));
        assertEquals("8.6.1", TensorRtNatives.version(8601));
    }
}

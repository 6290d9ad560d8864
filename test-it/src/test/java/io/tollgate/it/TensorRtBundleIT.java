package io.tollgate.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import io.tollgate.accelerator.EngineAvailability;
import io.tollgate.engine.spi.InferenceEngine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collection;
import javax.inject.Inject;
import org.junit.Assume;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;

/**
 * The distribution's TensorRT engine bundle in real Felix on x86-64 without an NVIDIA driver (issue 12): it resolves
 * (its embedded javacpp/presets need nothing from outside but the API and SLF4J), starts, registers the
 * {@code tensorrt} engine and reports it unavailable with the missing library as the reason.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class TensorRtBundleIT {
    @Inject
    private BundleContext context;

    @Configuration
    public Option[] config() throws Exception {
        return TollgateExam.options();
    }

    @Test
    public void bundleStartsAndTheEngineReportsItselfUnavailable() throws Exception {
        Assume.assumeFalse("an NVIDIA device is present", Files.exists(Path.of("/dev/nvidia0"))
                || Files.exists(Path.of("/dev/nvhost-ctrl-gpu")));
        Bundle bundle = Arrays.stream(context.getBundles())
                .filter(b -> b.getSymbolicName().equals("io.tollgate.engine.tensorrt")).findFirst().orElse(null);
        assertNotNull("the distribution carries io.tollgate.engine.tensorrt", bundle);
        long deadline = System.currentTimeMillis() + 30_000;
        Collection<ServiceReference<InferenceEngine>> refs;
        do {
            refs = context.getServiceReferences(InferenceEngine.class, "(tollgate.engine=tensorrt)");
            if (refs.isEmpty()) {
                Thread.sleep(100);
            }
        } while (refs.isEmpty() && System.currentTimeMillis() < deadline);
        assertEquals(Bundle.ACTIVE, bundle.getState());
        assertEquals("one tensorrt engine service", 1, refs.size());
        ServiceReference<InferenceEngine> ref = refs.iterator().next();
        assertEquals(bundle, ref.getBundle());
        InferenceEngine engine = context.getService(ref);
        try {
            assertEquals("tensorrt", engine.name());
            EngineAvailability availability = engine.availability();
            assertFalse(availability.available());
            assertTrue(availability.reason(), availability.reason().startsWith("no CUDA driver (libcuda.so.1 not found)"));
        } finally {
            context.ungetService(ref);
        }
    }
}

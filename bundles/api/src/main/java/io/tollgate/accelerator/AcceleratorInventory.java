package io.tollgate.accelerator;

import java.util.List;
import java.util.Optional;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The accelerators of this box, found once at activation (CPU always; CUDA GPUs from the NVIDIA driver;
 * Jetson iGPU and DLA cores from the device tree), with their budgets and current use. Thread-safe.
 */
@ProviderType
public interface AcceleratorInventory {
    /** Every accelerator, the CPU last; never empty. */
    List<Accelerator> accelerators();

    /** The accelerator with this id ({@code cpu}, {@code cuda:0}, {@code dla:0}), if present. */
    Optional<Accelerator> accelerator(String id);

    /** Current use of every accelerator, in the order of {@link #accelerators()}. */
    List<AcceleratorUsage> usage();
}

/**
 * The box's accelerators and where model instances run on them: the inventory ({@link
 * io.tollgate.accelerator.AcceleratorInventory}: the CPU always, CUDA GPUs, Jetson iGPU and DLA cores), and placement
 * ({@link io.tollgate.accelerator.PlacementService}: which accelerator and engine a model instance gets, by the
 * profile's preference order, the engines and precisions the plugin supports and each accelerator's memory budget,
 * evicting the least recently used model when a budget or the resident-model limit is full).
 *
 * <p>Configuration PID {@code io.tollgate.accelerators}: {@code placement.order}, {@code engine.order},
 * {@code precision}, {@code memory.budget.cpu.mb}, {@code memory.budget.gpu.mb}, {@code max.resident.models}
 * (see docs/hardware.md, "Accelerators and placement").
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.1.0")
package io.tollgate.accelerator;

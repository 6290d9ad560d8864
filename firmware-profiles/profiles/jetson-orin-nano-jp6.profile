# jetson-orin-nano-jp6: Jetson Orin Nano (8 GB, or the 4 GB module) on JetPack 6 (L4T R36). 6 Cortex-A78AE cores, an
# Ampere iGPU (1024 CUDA cores, FP16 tensor cores), NO DLA, and ONE 8 GB memory shared by CPU and GPU: the GPU budget,
# the CPU budget, the heap and the OS come out of the same RAM. ONNX Runtime has no GPU build for aarch64, so the GPU
# path here is TensorRT; ONNX Runtime runs on the CPU.
# Why each value: docs/hardware.md, "Profiles". The owner's conf/PID.cfg wins over any key here.
description=Jetson Orin Nano on JetPack 6 (L4T R36): TensorRT FP16 on the iGPU, 8 GB shared memory budgets
match.arch=aarch64
match.l4t.release=R36
match.device.tree.model=Orin Nano
# 1 GiB heap of the 8 GB: tensors and engines live off-heap, in the shared memory the GPU budget counts.
jvm.options=-Xms256m -Xmx1g
io.tollgate.accelerators/placement.order=gpu,cpu
io.tollgate.accelerators/engine.order=tensorrt,onnx
io.tollgate.accelerators/precision=fp16
# Of 8 GB: ~1.5 GB OS, 1 GB heap, 3 GiB for TensorRT engines on the iGPU, 1 GiB for models on the CPU; the rest for
# request buffers and the page cache of the journal.
io.tollgate.accelerators/memory.budget.cpu.mb=1024
io.tollgate.accelerators/memory.budget.gpu.mb=3072
io.tollgate.accelerators/max.resident.models=4
io.tollgate.accelerators/min.residency.ms=30000
io.tollgate.engine.onnx/intra.op.threads=1
io.tollgate.engine.onnx/inter.op.threads=1
io.tollgate.engine.onnx/execution.providers=cpu
# 4 of the 6 cores infer; 2 are left for Netty, the journal, the uplink and the OS.
io.tollgate.serving/worker.threads=4
io.tollgate.serving/max.queue.per.model=64
io.tollgate.endpoint/max.body.bytes=33554432
io.tollgate.endpoint/io.threads=2
# The dev kit boots from an SD card (or a small NVMe): 1 GiB of journal, fsync per seal.
io.tollgate.metering.journal/disk.budget.bytes=1073741824
io.tollgate.metering.journal/sync.mode=BATCH

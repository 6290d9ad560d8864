# jetson-agx-orin-jp6: Jetson AGX Orin (32 GB or 64 GB) on JetPack 6 (L4T R36). 8 or 12 Cortex-A78AE cores, an Ampere
# iGPU (1792 or 2048 CUDA cores) and two DLA v2 engines (FP16/INT8 only; layers DLA cannot run go back to the GPU in
# TensorRT). Memory is shared by CPU, GPU and DLA. The budgets fit the 32 GB module; a 64 GB box can raise them in
# conf/io.tollgate.accelerators.cfg.
# Why each value: docs/hardware.md, "Profiles". The owner's conf/PID.cfg wins over any key here.
description=Jetson AGX Orin on JetPack 6 (L4T R36): TensorRT FP16 on the iGPU, then the DLAs, 32 GB budgets
match.arch=aarch64
match.l4t.release=R36
match.device.tree.model=AGX Orin
jvm.options=-Xms512m -Xmx4g
# The GPU first (latency), the DLAs when the GPU budget is full (they run FP16/INT8 at a fraction of the power).
io.tollgate.accelerators/placement.order=gpu,dla,cpu
io.tollgate.accelerators/engine.order=tensorrt,onnx
io.tollgate.accelerators/precision=fp16
# Of 32 GB: 16 GiB for engines on the GPU/DLA, 4 GiB for models on the CPU, 4 GiB heap, the rest OS and buffers.
io.tollgate.accelerators/memory.budget.cpu.mb=4096
io.tollgate.accelerators/memory.budget.gpu.mb=16384
io.tollgate.accelerators/max.resident.models=16
io.tollgate.accelerators/min.residency.ms=30000
io.tollgate.engine.onnx/intra.op.threads=1
io.tollgate.engine.onnx/inter.op.threads=1
io.tollgate.engine.onnx/execution.providers=cpu
io.tollgate.serving/worker.threads=0
io.tollgate.serving/max.queue.per.model=256
io.tollgate.endpoint/max.body.bytes=67108864
io.tollgate.endpoint/io.threads=0
# 64 GB of eMMC on the module: 4 GiB of journal.
io.tollgate.metering.journal/disk.budget.bytes=4294967296
io.tollgate.metering.journal/sync.mode=BATCH

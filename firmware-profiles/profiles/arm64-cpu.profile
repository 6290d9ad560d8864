# arm64-cpu: any 64-bit ARM box without a profile of its own (Raspberry Pi 4/5, Graviton, a Jetson on a JetPack we have
# no profile for). CPU only, smaller queues and journal for boxes with a few GB of RAM and SD/eMMC storage.
# Why each value: docs/hardware.md, "Profiles". The owner's conf/PID.cfg wins over any key here.
description=64-bit ARM box without a profile of its own: everything on the CPU, small-box limits
match.arch=aarch64
jvm.options=-XX:MaxRAMPercentage=25
io.tollgate.accelerators/placement.order=cpu
io.tollgate.accelerators/engine.order=onnx
io.tollgate.accelerators/precision=fp32
io.tollgate.accelerators/memory.budget.cpu.mb=0
io.tollgate.accelerators/memory.budget.gpu.mb=0
io.tollgate.accelerators/max.resident.models=4
io.tollgate.accelerators/min.residency.ms=30000
io.tollgate.engine.onnx/intra.op.threads=1
io.tollgate.engine.onnx/inter.op.threads=1
io.tollgate.engine.onnx/execution.providers=cpu
io.tollgate.serving/worker.threads=0
io.tollgate.serving/max.queue.per.model=128
io.tollgate.endpoint/max.body.bytes=33554432
io.tollgate.endpoint/io.threads=0
# SD cards and small eMMC: 1 GiB, fsync per seal (BATCH) rather than per record, which would wear them out.
io.tollgate.metering.journal/disk.budget.bytes=1073741824
io.tollgate.metering.journal/sync.mode=BATCH

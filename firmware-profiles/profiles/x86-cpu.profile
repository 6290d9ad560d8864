# x86-cpu: any x86-64 box without an NVIDIA GPU (industrial PC, NUC, VM). The values are the settings Tollgate shipped
# in conf/ before profiles existed: measured on these machines (docs/scheduling.md), safe on any x86 box.
# Why each value: docs/hardware.md, "Profiles". The owner's conf/PID.cfg wins over any key here.
description=x86-64 box without an NVIDIA GPU: everything on the CPU through ONNX Runtime
match.arch=x86_64
match.nvidia.gpu=false
# Heap: a quarter of the RAM; models live off-heap (ONNX Runtime's native memory).
jvm.options=-XX:MaxRAMPercentage=25
io.tollgate.accelerators/placement.order=cpu
io.tollgate.accelerators/engine.order=onnx
io.tollgate.accelerators/precision=fp32
io.tollgate.accelerators/memory.budget.cpu.mb=0
io.tollgate.accelerators/memory.budget.gpu.mb=0
io.tollgate.accelerators/max.resident.models=0
io.tollgate.accelerators/min.residency.ms=30000
# One thread per inference, one request per worker, one worker per core: the best throughput under load.
io.tollgate.engine.onnx/intra.op.threads=1
io.tollgate.engine.onnx/inter.op.threads=1
io.tollgate.engine.onnx/execution.providers=cpu
io.tollgate.serving/worker.threads=0
io.tollgate.serving/max.queue.per.model=256
io.tollgate.endpoint/max.body.bytes=67108864
io.tollgate.endpoint/io.threads=0
io.tollgate.metering.journal/disk.budget.bytes=2147483648
io.tollgate.metering.journal/sync.mode=BATCH

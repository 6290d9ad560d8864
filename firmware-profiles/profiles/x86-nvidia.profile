# x86-nvidia: an x86-64 box whose NVIDIA driver lists at least one GPU (/proc/driver/nvidia/gpus). Models go to the GPU
# (TensorRT first, then ONNX Runtime's TensorRT/CUDA providers), FP16 (tensor cores since Volta/Turing; INT8 needs a
# calibration set, so never a default). Without a usable GPU everything falls back to the CPU and says so.
# Why each value: docs/hardware.md, "Profiles". The owner's conf/PID.cfg wins over any key here.
description=x86-64 box with an NVIDIA GPU and driver: TensorRT / CUDA first, FP16, CPU as the fallback
match.arch=x86_64
match.nvidia.gpu=true
jvm.options=-XX:MaxRAMPercentage=25
io.tollgate.accelerators/placement.order=gpu,cpu
io.tollgate.accelerators/engine.order=tensorrt,onnx
io.tollgate.accelerators/precision=fp16
# 0: half the RAM for models on the CPU, 80% of the GPU's own memory for models on it.
io.tollgate.accelerators/memory.budget.cpu.mb=0
io.tollgate.accelerators/memory.budget.gpu.mb=0
io.tollgate.accelerators/max.resident.models=0
io.tollgate.accelerators/min.residency.ms=30000
io.tollgate.engine.onnx/intra.op.threads=1
io.tollgate.engine.onnx/inter.op.threads=1
io.tollgate.engine.onnx/execution.providers=tensorrt,cuda,cpu
io.tollgate.serving/worker.threads=0
# A GPU drains a queue in batches: a deeper queue keeps it fed.
io.tollgate.serving/max.queue.per.model=512
# Batches of camera frames: twice the CPU boxes' body limit.
io.tollgate.endpoint/max.body.bytes=134217728
io.tollgate.endpoint/io.threads=0
# Servers have disk: 8 GiB of journal rides out a week-long uplink outage at a few hundred requests/s.
io.tollgate.metering.journal/disk.budget.bytes=8589934592
io.tollgate.metering.journal/sync.mode=BATCH

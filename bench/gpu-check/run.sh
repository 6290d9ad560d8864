#!/usr/bin/env bash
# GPU check for a box with an NVIDIA GPU (x86 + driver, or a Jetson): ONE command that
#   1. builds the distribution with the GPU natives (-Pgpu-natives; --no-build to use runtime/target/tollgate as is,
#      e.g. on a Jetson whose own CUDA/TensorRT match the presets),
#   2. serves the example model (plugins/fashion-mnist) three ways in one appliance:
#        garments-cpu  engine onnx, CPU execution provider          (the reference)
#        garments-trt  engine tensorrt (ONNX -> TensorRT engine build, cached under data/engines/)
#      and, in a second appliance with execution.providers=cuda,cpu, garments-cpu on the CUDA execution provider,
#   3. compares every GPU output with the CPU output on the same inputs (Fashion-MNIST test images when
#      /usr/share/datasets/fashion-mnist is there, else a fixed pseudo-random set): max |difference| of the 10
#      probabilities <= 1e-3 for fp32 (2e-2 with --precision fp16) and the same top-1 class for >= 99% of the images,
#   4. prints throughput CPU vs GPU (requests/s, batch 1 and batch 32, 8 concurrent clients, 15 s each).
# Exit 0 when every path that ran agreed; 1 on a mismatch; 2 when no GPU path ran at all.
#   bench/gpu-check/run.sh [--no-build] [--precision fp32|fp16] [--platform linux-x86_64|linux-arm64]
# NOT RUN on real hardware yet (docs/hardware.md, "Verifying on real hardware"): no GPU is reachable from the
# project's machines. Needs: JDK 17, Maven, python3, curl; the NVIDIA driver.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"; root="$here/../.."
dist="$root/runtime/target/tollgate"
build=1; precision=fp32; platform=linux-x86_64
[ "$(uname -m)" = aarch64 ] && platform=linux-arm64
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;
    --precision) precision="$2"; shift ;;
    --platform) platform="$2"; shift ;;
    *) echo "unknown option $1" >&2; exit 64 ;;
  esac; shift
done
tolerance=1e-3; [ "$precision" = fp32 ] || tolerance=2e-2

echo "== box"
uname -m; (nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total --format=csv,noheader 2>/dev/null \
  || cat /proc/device-tree/model 2>/dev/null || echo "no nvidia-smi, no device tree") | sed 's/^/  /'
[ -e /dev/nvidia0 ] || [ -e /dev/nvhost-ctrl-gpu ] || echo "WARNING: no /dev/nvidia0 nor /dev/nvhost-ctrl-gpu: expect every GPU path to fall back"

if [ "$build" = 1 ]; then
  echo "== build (-Pgpu-natives, $platform): downloads ~0.9 GB of CUDA/TensorRT libraries once"
  (cd "$root" && mvn -B -q -Pgpu-natives -Dgpu.natives.platform="$platform" -DskipTests package -pl runtime -am)
fi
[ -x "$dist/bin/tollgate" ] || { echo "no distribution at $dist" >&2; exit 1; }

work="$(mktemp -d)"; pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; echo "logs kept in $work"; }
trap cleanup EXIT
# A copy of the distribution: the check trusts its own vendor key and installs its licenses there, never in the
# distribution itself (docs/licensing.md, "Your own model: a purchase from yourself").
cp -r "$dist" "$work/tollgate"; dist="$work/tollgate"
model="$root/plugins/fashion-mnist/src/main/model/model.onnx"
mkdir -p "$work/plugins"
"$dist/vendor-tool/bin/tollgate-vendor" keygen --out "$work/keys" > /dev/null
"$dist/bin/tollgate" vendor trust "$work/keys/vendor-public.pem" --name gpu-check > /dev/null
pack() { # name jar extra-options...
  local name="$1" jar="$2"; shift 2
  "$dist/bin/tollgate" plugin pack --model "$model" --name "$name" --version 1.0.0 --max-batch 32 \
    --sign "$work/keys/vendor-private.pem" --vendor gpu-check --output "$work/plugins/$jar" "$@" > /dev/null
  "$dist/vendor-tool/bin/tollgate-vendor" issue --key "$work/keys/vendor-private.pem" --vendor gpu-check \
    --tenant default --plugin "$name" --versions '[1.0.0,2.0.0)' --out "$work/$name.lic" > /dev/null
  "$dist/bin/tollgate" license install "$work/$name.lic" > /dev/null
}
pack garments-cpu cpu.jar
pack garments-trt trt.jar --engine tensorrt --precision "$precision"

start() { # name conf-dir -> sets port; waits for readiness (a TensorRT build may take minutes on a Jetson)
  local name="$1" conf="$2"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$dist/bin/tollgate" run --port "$port" --plugins "$work/plugins" --data "$work/data-$name" ${conf:+--conf "$conf"} \
    > "$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 1200); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "localhost:$port/v2/health/ready")" = 200 ] && return 0; sleep 0.5
  done
  echo "appliance $name not ready after 10 min; see $work/$name.log" >&2; exit 1
}

echo "== appliance 1: onnx on the CPU + tensorrt"
start main ""
grep -E "TensorRT .*(ready|unavailable)|building a TensorRT engine|TensorRT engine built|cached TensorRT|runs on engine 'onnx'" \
  "$work/main.log" | sed 's/^/  /' || true
main_port=$port
trt_on=$(curl -s "localhost:$main_port/v2/models/garments-trt" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("platform",""))')
trt_engine_ran=1; grep -q "engine 'tensorrt' is unavailable" "$work/main.log" && trt_engine_ran=0

echo "== appliance 2: onnx with execution.providers=cuda,cpu"
mkdir -p "$work/conf-cuda"; cp -r "$dist/conf/." "$work/conf-cuda/"
sed -i 's/^execution.providers=.*/execution.providers=cuda,cpu/' "$work/conf-cuda/io.tollgate.engine.onnx.cfg"
start cuda "$work/conf-cuda"
cuda_port=$port
cuda_ran=1; grep -q "ONNX Runtime .* engine ready on cuda:" "$work/cuda.log" || cuda_ran=0
[ "$cuda_ran" = 1 ] || echo "  CUDA execution provider not attached (this distribution's ONNX Runtime is the CPU build unless"\
  "onnxruntime_gpu replaces it: docs/hardware.md); the CUDA-EP comparison below is the CPU against itself"

echo "== outputs and throughput (tolerance $tolerance, $precision)"
python3 - "$main_port" "$cuda_port" "$tolerance" "$trt_engine_ran" "$cuda_ran" <<'PY'
import concurrent.futures, gzip, json, os, random, struct, sys, time, urllib.request
main, cuda, tol, trt_ran, cuda_ran = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4] == "1", sys.argv[5] == "1"
def images(n):
    d = "/usr/share/datasets/fashion-mnist"
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte"):
        p = os.path.join(d, name)
        if os.path.exists(p):
            raw = (gzip.open if p.endswith(".gz") else open)(p, "rb").read()
            return [[b / 255 for b in raw[16 + i * 784:16 + (i + 1) * 784]] for i in range(n)], "Fashion-MNIST test images"
    r = random.Random(12)
    return [[r.random() for _ in range(784)] for _ in range(n)], "pseudo-random images (seed 12)"
def infer(port, model, batch):
    body = json.dumps({"inputs": [{"name": "image", "datatype": "FP32", "shape": [len(batch), 1, 28, 28],
                                   "data": [v for img in batch for v in img]}]}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v2/models/{model}/infer", body, {"Content-Type": "application/json"})
    out = json.load(urllib.request.urlopen(req, timeout=600))
    probs = next(o for o in out["outputs"] if o["name"] == "probs")["data"]
    return [probs[i * 10:(i + 1) * 10] for i in range(len(batch))]
imgs, source = images(500)
ref = [p for i in range(0, len(imgs), 25) for p in infer(main, "garments-cpu", imgs[i:i + 25])]
failed = False
def compare(label, port, model, ran):
    global failed
    got = [p for i in range(0, len(imgs), 25) for p in infer(port, model, imgs[i:i + 25])]
    worst = max(abs(a - b) for x, y in zip(ref, got) for a, b in zip(x, y))
    top1 = sum(x.index(max(x)) == y.index(max(y)) for x, y in zip(ref, got)) / len(ref)
    ok = worst <= tol and top1 >= 0.99
    failed |= ran and not ok
    print(f"  {label:28s} {'ran on the GPU' if ran else 'FELL BACK to the CPU'}; {len(ref)} {source}: "
          f"max |diff| {worst:.2e} (<= {tol:g}), top-1 agreement {top1:.1%}: {'OK' if ok else 'MISMATCH'}")
compare("tensorrt engine", main, "garments-trt", trt_ran)
compare("onnx + CUDA execution provider", cuda, "garments-cpu", cuda_ran)
def rate(port, model, batch, seconds=15, clients=8):
    body = imgs[:batch]; n = 0; end = time.time() + seconds
    def worker():
        k = 0
        while time.time() < end:
            infer(port, model, body); k += 1
        return k
    infer(port, model, body)  # warm-up
    with concurrent.futures.ThreadPoolExecutor(clients) as ex:
        n = sum(ex.map(lambda _: worker(), range(clients)))
    return n / seconds
print("  throughput (requests/s, 8 clients, JSON):")
for batch in (1, 32):
    cpu = rate(main, "garments-cpu", batch)
    trt = rate(main, "garments-trt", batch)
    ep = rate(cuda, "garments-cpu", batch)
    print(f"    batch {batch:2d}: cpu {cpu:8.1f}   tensorrt {trt:8.1f} (x{trt / cpu:.2f})   cuda-ep {ep:8.1f} (x{ep / cpu:.2f})")
sys.exit(1 if failed else (0 if trt_ran or cuda_ran else 2))
PY

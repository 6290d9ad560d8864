#!/usr/bin/env bash
# Endpoint throughput vs in-process ONNX Runtime on the same model, measured side by side.
#   [TOLLGATE_DIST=DIR] [WARMUP=60] bench/endpoint-load/run.sh [ROUNDS] [SECONDS] [CONNECTIONS] [BATCH] [json|binary]
# WARMUP: seconds of unmeasured load first, so that the rounds measure the steady state (on 2 cores the request path
# reaches C2 18-47 s after ready; the first seconds are measured apart, by first-seconds.sh).
# Needs a built distribution (mvn -q -DskipTests install) and wrk (apt-get install wrk).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dist="${TOLLGATE_DIST:-$here/../../runtime/target/tollgate}"; warmup="${WARMUP:-60}"
rounds="${1:-3}"; seconds="${2:-10}"; conns="${3:-8}"; batch="${4:-1}"; encoding="${5:-json}"
threads="$(nproc)"   # the appliance's default: one serving worker per core, 1 intra-op thread
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
[ -x "$dist/bin/tollgate" ] || { echo "no distribution at $dist: mvn -q -DskipTests install" >&2; exit 1; }

work="$(mktemp -d)"; trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cp "$dist/plugins/"*.jar "$work/" ; mkdir -p "$work/plugins"; mv "$work/"*.jar "$work/plugins/"
"$dist/bin/tollgate" run --port "$port" --plugins "$work/plugins" --data "$work/data" > "$work/appliance.log" 2>&1 &
pid=$!
for _ in $(seq 1 120); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "localhost:$port/v2/health/ready")" = 200 ] && break; sleep 0.5
done
header_len=""
if [ "$encoding" = binary ]; then
  header_len=$(python3 - "$batch" "$work/body.json" <<'PY'
import json, struct, sys
b = int(sys.argv[1])
data = struct.pack("<%df" % (b * 784), *[(i % 255) / 255 for i in range(b * 784)])
header = json.dumps({"inputs": [{"name": "image", "datatype": "FP32", "shape": [b, 1, 28, 28],
                                 "parameters": {"binary_data_size": len(data)}}],
                     "outputs": [{"name": "probs", "parameters": {"binary_data": True}}]}).encode()
open(sys.argv[2], "wb").write(header + data)
print(len(header))
PY
)
else
python3 - "$batch" > "$work/body.json" <<'PY'
import json, sys
b = int(sys.argv[1])
print(json.dumps({"inputs": [{"name": "image", "datatype": "FP32", "shape": [b, 1, 28, 28],
                              "data": [(i % 255) / 255 for i in range(b * 784)]}]}))
PY
fi
ort_jar="$(ls "$dist"/system/tollgate-onnxruntime-*.jar)"
plugin="$(ls "$work"/plugins/*.jar | head -1)"
echo "machine: $(nproc) cores; model fashion-mnist, batch $batch, $encoding requests; endpoint: $conns connections (wrk, 1 thread); in-process: $threads threads; ${warmup} s warm-up"
# Warm-up (JIT of the appliance's request path), not measured.
BODY_FILE="$work/body.json" HEADER_LEN="$header_len" wrk -t1 -c"$conns" -d"${warmup}s" -s "$here/post.lua" \
  "http://127.0.0.1:$port/v2/models/fashion-mnist/infer" > /dev/null
endpoint=(); inproc=()
for r in $(seq 1 "$rounds"); do
  e=$(BODY_FILE="$work/body.json" HEADER_LEN="$header_len" wrk -t1 -c"$conns" -d"${seconds}s" -s "$here/post.lua" \
      "http://127.0.0.1:$port/v2/models/fashion-mnist/infer" | awk '/Requests\/sec/ {print $2} /non200=/ {print}' )
  rps=$(echo "$e" | head -1); bad=$(echo "$e" | grep non200 || true)
  i=$(java -cp "$ort_jar" "$here/InProcessOrt.java" "$plugin" "$threads" "$seconds" "$batch")
  echo "round $r: endpoint ${rps} req/s ($bad), in-process ORT ${i} runs/s, ratio $(python3 -c "print(round($rps/$i,3))")"
  endpoint+=("$rps"); inproc+=("$i")
done
python3 - "${endpoint[*]}" "${inproc[*]}" <<'PY'
import statistics, sys
e = [float(x) for x in sys.argv[1].split()]; i = [float(x) for x in sys.argv[2].split()]
print(f"median endpoint {statistics.median(e):.0f} req/s, median in-process {statistics.median(i):.0f} runs/s, "
      f"ratio of medians {statistics.median(e)/statistics.median(i):.3f}; per-round ratios "
      + ", ".join(f"{a/b:.3f}" for a, b in zip(e, i)))
PY

#!/usr/bin/env bash
# Dynamic batching on ÷ off through the endpoint: fashion-mnist, batch-1 requests, C connections, alternating rounds
# against one appliance serving the same model twice, as fm-off (no batching) and fm-on (dynamic batching).
#   [TOLLGATE_DIST=DIR] [WARMUP=60] bench/endpoint-load/batching.sh [ROUNDS=3] [SECONDS=10] [CONNECTIONS=32] [DELAY_US=2000] [json|binary]
# Needs the distribution (runtime/target/tollgate: mvn -B -o -pl test-it -am verify -Dit.test=DynamicBatchingIT ...
# builds it) and wrk (apt-get install wrk). WARMUP: seconds of unmeasured load on each model first (steady state).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dist="${TOLLGATE_DIST:-$here/../../runtime/target/tollgate}"; warmup="${WARMUP:-60}"
rounds="${1:-3}"; seconds="${2:-10}"; conns="${3:-32}"; delay="${4:-2000}"; encoding="${5:-json}"
threads="$(nproc)"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
[ -x "$dist/bin/tollgate" ] || { echo "no distribution at $dist" >&2; exit 1; }
vendor="$dist/vendor-tool/bin/tollgate-vendor"

work="$(mktemp -d)"; pid=""
trap '[ -n "$pid" ] && { kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; }; rm -rf "$work"' EXIT
mkdir -p "$work/plugins" "$work/licenses" "$work/model"
cp -r "$dist/conf" "$work/conf"
(cd "$work/model" && unzip -q "$dist/plugins/fashion-mnist-1.0.0.jar" TOLLGATE-INF/model.onnx TOLLGATE-INF/labels.txt)
"$vendor" keygen --out "$work/keys" > /dev/null
"$dist/bin/tollgate" vendor trust "$work/keys/vendor-public.pem" --name bench --conf "$work/conf" > /dev/null
# Both: instance_group count = the serving workers (one per core), so that batching is the only difference.
for name in fm-off fm-on; do
  jar="$work/$name-1.0.0.jar"
  "$dist/bin/tollgate" plugin pack --model "$work/model/TOLLGATE-INF/model.onnx" \
      --labels "$work/model/TOLLGATE-INF/labels.txt" --name "$name" --version 1.0.0 --max-batch 256 --output "$jar" > /dev/null
  python3 "$here/fm-model-json.py" "$jar" "$name" "$threads" "$delay"
  "$vendor" sign-plugin --key "$work/keys/vendor-private.pem" --vendor Bench "$jar" > /dev/null
  "$vendor" issue --key "$work/keys/vendor-private.pem" --vendor Bench --tenant default --plugin "$name" \
      --versions "[1.0.0,2.0.0)" --out "$work/licenses/$name.lic" > /dev/null
  cp "$jar" "$work/plugins/"
done
cp "$dist/licenses/"* "$work/licenses/" 2>/dev/null || true

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$dist/bin/tollgate" run --port "$port" --plugins "$work/plugins" --data "$work/data" --conf "$work/conf" \
    --licenses "$work/licenses" > "$work/appliance.log" 2>&1 &
pid=$!
for _ in $(seq 1 120); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "localhost:$port/v2/models/fm-on/ready")" = 200 ] \
    && [ "$(curl -s -o /dev/null -w '%{http_code}' "localhost:$port/v2/models/fm-off/ready")" = 200 ] && break
  sleep 0.5
done
[ "$(curl -s -o /dev/null -w '%{http_code}' "localhost:$port/v2/models/fm-on/ready")" = 200 ] \
  || { echo "fm-on not ready:"; tail -20 "$work/appliance.log"; exit 1; }
header_len=""
if [ "$encoding" = binary ]; then
  header_len=$(python3 - "$work/body" <<'PY'
import json, struct, sys
data = struct.pack("<784f", *[(i % 255) / 255 for i in range(784)])
header = json.dumps({"inputs": [{"name": "image", "datatype": "FP32", "shape": [1, 1, 28, 28],
                                 "parameters": {"binary_data_size": len(data)}}],
                     "outputs": [{"name": "probs", "parameters": {"binary_data": True}}]}).encode()
open(sys.argv[1], "wb").write(header + data)
print(len(header))
PY
)
else
  python3 -c 'import json; print(json.dumps({"inputs": [{"name": "image", "datatype": "FP32", "shape": [1, 1, 28, 28], "data": [(i % 255) / 255 for i in range(784)]}]}))' > "$work/body"
fi
load() {  # model seconds -> "req/s non200=N"
  BODY_FILE="$work/body" HEADER_LEN="$header_len" wrk -t1 -c"$conns" -d"$2s" -s "$here/post.lua" \
    "http://127.0.0.1:$port/v2/models/$1/infer" | awk '/Requests\/sec/ {r=$2} /non200=/ {n=$1} END {print r, n}'
}
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; fashion-mnist batch 1, $encoding; wrk 1 thread, $conns connections;"\
     "fm-on: dynamic_batching preferred [8,16,32], max_queue_delay_microseconds $delay; both: instance_group count $threads"
load fm-off "$warmup" > /dev/null; load fm-on "$warmup" > /dev/null   # warm-up, not measured
on=(); off=()
for r in $(seq 1 "$rounds"); do
  if [ $((r % 2)) = 1 ]; then a=$(load fm-off "$seconds"); b=$(load fm-on "$seconds"); else b=$(load fm-on "$seconds"); a=$(load fm-off "$seconds"); fi
  echo "round $r: off $a, on $b, on/off $(python3 -c "print(round(${b%% *}/${a%% *},3))")"
  off+=("${a%% *}"); on+=("${b%% *}")
done
python3 - "${on[*]}" "${off[*]}" <<'PY'
import statistics, sys
on = [float(x) for x in sys.argv[1].split()]; off = [float(x) for x in sys.argv[2].split()]
print(f"median on {statistics.median(on):.0f} req/s, median off {statistics.median(off):.0f} req/s, "
      f"ratio of medians {statistics.median(on)/statistics.median(off):.3f}")
PY

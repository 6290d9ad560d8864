#!/usr/bin/env bash
# Throughput in the first seconds after READY vs steady state (issue 11, model warm-up).
#   bench/endpoint-load/first-seconds.sh [DIST=runtime/target/tollgate] [CONNECTIONS=16] [FIRST_SECONDS=10]
# Starts bin/tollgate run with the example plugin on an empty data folder, waits for /v2/health/ready 200, then at
# once runs wrk (1 thread, C connections, fashion-mnist batch 1, JSON) for FIRST_SECONDS (the "first" window),
# keeps loading for 20 s more (not measured), then measures FIRST_SECONDS again ("steady"). Prints both and the ratio.
# Needs wrk (apt-get install wrk). Same machine, one run: the ratio is what to compare, not the absolute numbers.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dist="${1:-$here/../../runtime/target/tollgate}"; conns="${2:-16}"; first="${3:-10}"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
[ -x "$dist/bin/tollgate" ] || { echo "no distribution at $dist" >&2; exit 1; }
work="$(mktemp -d)"; pid=""
trap '[ -n "$pid" ] && { kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; }; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/plugins"; cp "$dist/plugins/"fashion-mnist-*.jar "$work/plugins/"
python3 - > "$work/body.json" <<'PY'
import json
print(json.dumps({"inputs": [{"name": "image", "datatype": "FP32", "shape": [1, 1, 28, 28],
                              "data": [(i % 255) / 255 for i in range(784)]}]}))
PY
"$dist/bin/tollgate" run --port "$port" --plugins "$work/plugins" --data "$work/data" > "$work/appliance.log" 2>&1 &
pid=$!
for _ in $(seq 1 1200); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "localhost:$port/v2/health/ready")" = 200 ] && break; sleep 0.05
done
url="http://127.0.0.1:$port/v2/models/fashion-mnist/infer"
run() { BODY_FILE="$work/body.json" wrk -t1 -c"$conns" -d"$1s" -s "$here/post.lua" "$url" | awk '/Requests\/sec/ {print $2}'; }
f=$(run "$first")
run 20 > /dev/null
s=$(run "$first")
grep -o "warm-up '[^']*' ran [0-9]* times.*ms" "$work/appliance.log" | head -1 || echo "(no warm-up line in the log)"
echo "first ${first} s after ready: $f req/s; steady (after 20 s more): $s req/s; ratio $(python3 -c "print(round($f/$s,3))")"

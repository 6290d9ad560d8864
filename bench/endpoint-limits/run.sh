#!/usr/bin/env bash
# The endpoint's limits under a hostile load (issue 8): idle keep-alive connections, and 100 concurrent 63 MiB
# bodies while a small request is timed every 100 ms. Starts the built appliance with its defaults.
#   bench/endpoint-limits/run.sh [IDLE_CONNECTIONS] [IDLE_WAIT_S] [CLIENTS] [MIB] [SECONDS]
# Needs a built distribution (mvn -q -DskipTests install). Raise the open-file limit for many connections.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dist="${TOLLGATE_DIST:-$here/../../runtime/target/tollgate}"
idle="${1:-1000}"; wait_s="${2:-65}"; clients="${3:-100}"; mib="${4:-63}"; seconds="${5:-30}"
[ -x "$dist/bin/tollgate" ] || { echo "no distribution at $dist: mvn -q -DskipTests install" >&2; exit 1; }
ulimit -n 8192 || true
work="$(mktemp -d)"; trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/plugins"; cp "$dist/plugins/"*.jar "$work/plugins/"
"$dist/bin/tollgate" run --port "$port" --plugins "$work/plugins" --data "$work/data" > "$work/appliance.log" 2>&1 &
pid=$!
for _ in $(seq 1 120); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "localhost:$port/v2/health/ready")" = 200 ] && break; sleep 0.5
done
python3 - > "$work/small.json" <<'PY'
import json
print(json.dumps({"inputs": [{"name": "image", "datatype": "FP32", "shape": [1, 1, 28, 28],
                              "data": [(i % 255) / 255 for i in range(784)]}]}))
PY
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; JVM max heap: default ($(java -XX:+PrintFlagsFinal -version 2>/dev/null | awk '/ MaxHeapSize / {print int($4/1048576)}') MiB)"
echo "quiet: small request latency before any load:"
SMALL_BODY="$work/small.json" java "$here/Flood.java" flood "$port" "$pid" 0 1 5
java "$here/Flood.java" idle "$port" "$pid" "$idle" "$wait_s"
SMALL_BODY="$work/small.json" java "$here/Flood.java" flood "$port" "$pid" "$clients" "$mib" "$seconds"
echo "appliance log lines about the limits:"; grep -c "503\|refus" "$work/appliance.log" || true

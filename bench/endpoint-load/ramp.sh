#!/usr/bin/env bash
# The throughput curve after READY, second by second (issue 11, "first 10 s ÷ steady"):
#   bench/endpoint-load/ramp.sh [DIST=runtime/target/tollgate] [SECONDS=40] [CONNECTIONS=16] [json|binary]
# Starts bin/tollgate run with the example plugin on an empty data folder (TOLLGATE_JAVA_OPTS passes through), waits
# for /v2/health/ready 200, then runs wrk (1 thread, C connections, fashion-mnist batch 1) for 1 s at a time, SECONDS
# times. Each line: the second, req/s, and the appliance's CPU milliseconds (user+sys of its JVM, /proc/PID/stat)
# per request in that second: the CPU figure is the steadier one on a shared machine. The last line compares the
# first 10 s with the last 10 s (req/s and CPU ms/request). RAMP_KEEP=DIR keeps the appliance's log (and whatever
# TOLLGATE_JAVA_OPTS wrote as @WORK@/*.log or *.jfr) in DIR. RAMP_DATA=DIR: the data folder (default: a new one, so a
# first start that writes the class data sharing archive at its stop; a kept one is a warm start from the second run).
# RAMP_FIRST_REQUESTS=N: before the curve, N requests one at a time (see below).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dist="${1:-$here/../../runtime/target/tollgate}"; secs="${2:-40}"; conns="${3:-16}"; kind="${4:-json}"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
[ -x "$dist/bin/tollgate" ] || { echo "no distribution at $dist" >&2; exit 1; }
work="$(mktemp -d)"; pid=""
trap '[ -n "$pid" ] && { kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; };
      [ -n "${RAMP_KEEP:-}" ] && { mkdir -p "$RAMP_KEEP"; cp "$work"/*.log "$work"/*.jfr "$RAMP_KEEP"/ 2>/dev/null || true; };
      rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/plugins"; cp "$dist/plugins/"fashion-mnist-*.jar "$work/plugins/"
if [ "$kind" = binary ]; then
  python3 - "$work" <<'PY'
import json, struct, sys
data = struct.pack("<784f", *[(i % 255) / 255 for i in range(784)])
head = json.dumps({"inputs": [{"name": "image", "datatype": "FP32", "shape": [1, 1, 28, 28],
                               "parameters": {"binary_data_size": len(data)}}]}).encode()
open(sys.argv[1] + "/body.json", "wb").write(head + data)
open(sys.argv[1] + "/header_len", "w").write(str(len(head)))
PY
  export HEADER_LEN="$(cat "$work/header_len")"
else
  python3 - > "$work/body.json" <<'PY'
import json
print(json.dumps({"inputs": [{"name": "image", "datatype": "FP32", "shape": [1, 1, 28, 28],
                              "data": [(i % 255) / 255 for i in range(784)]}]}))
PY
fi
opts="${TOLLGATE_JAVA_OPTS:-}"; opts="${opts//@WORK@/$work}"   # @WORK@: the work folder (logs, JFR)
TOLLGATE_JAVA_OPTS="$opts" "$dist/bin/tollgate" run --port "$port" --plugins "$work/plugins" --data "${RAMP_DATA:-$work/data}" > "$work/appliance.log" 2>&1 &
pid=$!
t0=$(date +%s.%N)
for _ in $(seq 1 1200); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "localhost:$port/v2/health/ready")" = 200 ] && break; sleep 0.05
done
t1=$(date +%s.%N)
jpid=$pid
for c in $(pgrep -P $pid || true); do jpid=$c; done   # the JVM (bin/tollgate execs it; with --demo a child)
tck=$(getconf CLK_TCK)
cpu() { awk '{print $14+$15}' /proc/$jpid/stat; }
echo "ready after $(python3 -c "print(round($t1-$t0,2))") s wall, $(python3 -c "print(round($(cpu)/$tck,2))") s CPU (pid $jpid)"
url="http://127.0.0.1:$port/v2/models/fashion-mnist/infer"
snap() { [ -z "${RAMP_SNAP:-}" ] || "$RAMP_SNAP" "$jpid" "$1"; }   # RAMP_SNAP=CMD: run as CMD PID LABEL at READY, 10 s, end
snap ready
if [ -n "${RAMP_FIRST_REQUESTS:-}" ]; then
  # RAMP_FIRST_REQUESTS=N: first N requests one after another on one connection (python), in blocks of 250: the
  # appliance's CPU ms per request of each block (a figure of how warm the path is, less load-bound than req/s)
  python3 - "$port" "$work/body.json" "$RAMP_FIRST_REQUESTS" "$jpid" "$tck" "${HEADER_LEN:-}" <<'PY'
import http.client, sys
port, body, n, pid, tck, hl = int(sys.argv[1]), open(sys.argv[2], "rb").read(), int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), sys.argv[6]
h = {"Content-Type": "application/octet-stream", "Inference-Header-Content-Length": hl} if hl else {"Content-Type": "application/json"}
def cpu():
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])
c = http.client.HTTPConnection("127.0.0.1", port)
out, c0, total0 = [], cpu(), cpu()
for i in range(1, n + 1):
    c.request("POST", "/v2/models/fashion-mnist/infer", body, h)
    r = c.getresponse(); r.read()
    assert r.status == 200, r.status
    if i % 250 == 0:
        c1 = cpu(); out.append(round((c1 - c0) * 1000 / tck / 250, 3)); c0 = c1
print("first %d requests: appliance CPU %.2f s; ms/request per 250: %s" % (n, (cpu() - total0) / tck, " ".join(map(str, out))))
PY
fi
: > "$work/curve"
for i in $(seq 1 "$secs"); do
  c0=$(cpu)
  r=$(BODY_FILE="$work/body.json" wrk -t1 -c"$conns" -d1s -s "$here/post.lua" "$url" | awk '/^Requests\/sec/ {print $2}')
  c1=$(cpu)
  ms=$(python3 -c "r=$r; print(round(($c1-$c0)*1000/$tck/max(r,1),3))")
  echo "$i $r $ms" | tee -a "$work/curve"
  [ "$i" != 10 ] || snap 10s
done
snap end
python3 - "$work/curve" <<'PY'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1])]
r = [float(x[1]) for x in rows]; c = [float(x[2]) for x in rows]
n = min(10, len(r) // 2)
fr, lr = sum(r[:n]) / n, sum(r[-n:]) / n
fc, lc = sum(c[:n]) / n, sum(c[-n:]) / n
print(f"first {n} s: {fr:.0f} req/s, {fc:.3f} CPU ms/req; last {n} s: {lr:.0f} req/s, {lc:.3f} CPU ms/req; "
      f"ratio req/s {fr/lr:.3f}, CPU/req last/first {lc/fc:.3f}")
PY

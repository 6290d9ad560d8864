#!/usr/bin/env bash
# The appliance's CPU time per request (user+sys of its JVM from /proc/PID/stat over each wrk window ÷ requests) on
# the fashion-mnist request path, for two distributions side by side (issue 11 "Speed", request path): on a shared
# box the neighbours' load moves req/s 2-5x, CPU per request far less. Each distribution serves the example's model
# twice, as batching.sh packs it: fm-off (no dynamic_batching) and fm-on (preferred [8,16,32], 2000 µs), instance_group
# count = cores. Each round runs, for each distribution in turn (order flipped every round): fm-on JSON c=16, fm-on
# binary c=16, fm-off JSON c=32, fm-on JSON c=32, fm-off binary c=32, fm-on binary c=32.
#   bench/endpoint-load/cpu-per-request.sh DIST_A DIST_B|- [ROUNDS=3] [SECONDS=10] [WARMUP_SECONDS=20]
# DIST_B "-": one distribution only (e.g. to profile it). THREADS=1: CPU per request by thread on stderr. CASES="model encoding conns,...": other cases.
# Prints one line per measurement: dist case req/s non200 p50 p99 cpu_ms/req, then medians per dist and case.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dists=("$1" "$2"); n=2; [ "$2" = - ] && n=1; rounds="${3:-3}"; seconds="${4:-10}"; warmup="${5:-20}"
threads="$(nproc)"
work="$(mktemp -d)"; pids=(); echo "work: $work" >&2
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
ports=()
for d in $(seq 0 $((n - 1))); do
  dist="${dists[$d]}"; w="$work/d$d"; vendor="$dist/vendor-tool/bin/tollgate-vendor"
  mkdir -p "$w/plugins" "$w/licenses" "$w/model"
  cp -r "$dist/conf" "$w/conf"
  (cd "$w/model" && unzip -q "$dist/plugins/fashion-mnist-1.0.0.jar" TOLLGATE-INF/model.onnx TOLLGATE-INF/labels.txt)
  "$vendor" keygen --out "$w/keys" > /dev/null
  "$dist/bin/tollgate" vendor trust "$w/keys/vendor-public.pem" --name bench --conf "$w/conf" > /dev/null
  for name in fm-off fm-on; do
    jar="$w/$name-1.0.0.jar"
    "$dist/bin/tollgate" plugin pack --model "$w/model/TOLLGATE-INF/model.onnx" --labels "$w/model/TOLLGATE-INF/labels.txt" \
        --name "$name" --version 1.0.0 --max-batch 256 --output "$jar" > /dev/null
    python3 "$here/fm-model-json.py" "$jar" "$name" "$threads" 2000
    "$vendor" sign-plugin --key "$w/keys/vendor-private.pem" --vendor Bench "$jar" > /dev/null
    "$vendor" issue --key "$w/keys/vendor-private.pem" --vendor Bench --tenant default --plugin "$name" \
        --versions "[1.0.0,2.0.0)" --out "$w/licenses/$name.lic" > /dev/null
    cp "$jar" "$w/plugins/"
  done
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$dist/bin/tollgate" run --port "$port" --plugins "$w/plugins" --data "$w/data" --conf "$w/conf" \
      --licenses "$w/licenses" > "$w/appliance.log" 2>&1 &
  pids+=($!); ports+=("$port")
done
for d in $(seq 0 $((n - 1))); do
  for _ in $(seq 1 240); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "localhost:${ports[$d]}/v2/models/fm-on/ready")" = 200 ] \
      && [ "$(curl -s -o /dev/null -w '%{http_code}' "localhost:${ports[$d]}/v2/models/fm-off/ready")" = 200 ] && break
    sleep 0.5
  done
done
jpid() {  # the appliance JVM's pid (bin/tollgate may exec it or run it as a child)
  local p="${pids[$1]}"; local c; c=$(pgrep -P "$p" java || true); echo "${c:-$p}"
}
header_len=$(python3 - "$work/binary" "$work/json" <<'PY'
import json, struct, sys
data = struct.pack("<784f", *[(i % 255) / 255 for i in range(784)])
header = json.dumps({"inputs": [{"name": "image", "datatype": "FP32", "shape": [1, 1, 28, 28],
                                 "parameters": {"binary_data_size": len(data)}}],
                     "outputs": [{"name": "probs", "parameters": {"binary_data": True}}]}).encode()
open(sys.argv[1], "wb").write(header + data)
open(sys.argv[2], "w").write(json.dumps({"inputs": [{"name": "image", "datatype": "FP32", "shape": [1, 1, 28, 28],
                                                     "data": [(i % 255) / 255 for i in range(784)]}]}))
print(len(header))
PY
)
hz=$(getconf CLK_TCK)
tasks() {  # pid -> "thread-name ticks" per thread (digits in names folded), for THREADS=1
  for t in /proc/"$1"/task/*; do
    sed -E 's/^[0-9]+ \((.*)\) [A-Za-z] (([^ ]+ ){10})([0-9]+) ([0-9]+).*/\1 \4 \5/' "$t/stat" 2>/dev/null || true
  done | awk '{n=$0; sub(/ [0-9]+ [0-9]+$/, "", n); gsub(/[0-9]+/, "N", n); gsub(/ /, "_", n); c[n] += $(NF-1) + $NF} END {for (k in c) print k, c[k]}'
}
load() {  # dist model encoding conns seconds -> "req/s non200 p50 p99 cpu_ms/req"
  local pid; pid=$(jpid "$1"); local hl=""; [ "$3" = binary ] && hl="$header_len"
  local t0; t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  [ -n "${THREADS:-}" ] && tasks "$pid" > "$work/tasks0"
  BODY_FILE="$work/$3" HEADER_LEN="$hl" wrk -t1 -c"$4" -d"$5s" --latency --timeout 10s -s "$here/post.lua" \
      "http://127.0.0.1:${ports[$1]}/v2/models/$2/infer" > "$work/wrk.out"
  local t1; t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  if [ -n "${THREADS:-}" ]; then   # CPU ms per request by thread (stderr)
    tasks "$pid" > "$work/tasks1"
    local q; q=$(awk '/requests in/ {print $1}' "$work/wrk.out")
    awk -v q="$q" -v hz="$hz" 'NR == FNR {a[$1] = $2; next} {d = $2 - a[$1]; if (d > 0) printf "  %-40s %.4f ms/req\n", $1, d * 1000 / hz / q}' \
        "$work/tasks0" "$work/tasks1" | sort -k2 -rn >&2
  fi
  awk -v t="$((t1 - t0))" -v hz="$hz" '/requests in/ {q=$1} /Requests\/sec/ {r=$2} /non200=/ {sub("non200=","",$1); n=$1}
    /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
    END {printf "%s %s %s %s %.4f\n", r, n, p50, p99, (q > 0 ? t * 1000 / hz / q : 0)}' "$work/wrk.out"
}
cases=("fm-on json 16" "fm-on binary 16" "fm-off json 32" "fm-on json 32" "fm-off binary 32" "fm-on binary 32")
[ -n "${CASES:-}" ] && IFS=, read -r -a cases <<< "$CASES"   # e.g. CASES="fm-on json 16,fm-off json 32"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uptime | sed 's/.*load/load/'); A=${dists[0]} B=${dists[1]}"
for d in $(seq 0 $((n - 1))); do for c in "${cases[@]}"; do set -- $c; load "$d" "$1" "$2" "$3" "$(( warmup / 3 + 1 ))" > /dev/null; done; done
out="$work/results"; : > "$out"
# PROFILE=/path/prefix: a JFR recording (settings=profile) of each appliance over the measured rounds, PREFIX-A.jfr ...
if [ -n "${PROFILE:-}" ]; then for d in $(seq 0 $((n - 1))); do jcmd "$(jpid "$d")" JFR.start name=bench settings="${PROFILE_SETTINGS:-profile}" > /dev/null; done; fi
for r in $(seq 1 "$rounds"); do
  order="0 1"; [ $((r % 2)) = 0 ] && order="1 0"; [ "$n" = 1 ] && order=0
  for d in $order; do
    for c in "${cases[@]}"; do
      set -- $c; res=$(load "$d" "$1" "$2" "$3" "$seconds")
      name=$([ "$d" = 0 ] && echo A || echo B)
      echo "round $r $name $1 $2 c=$3: $res ($(uptime | sed 's/.*average: //'))"
      echo "$name $1-$2-c$3 $res" >> "$out"
    done
  done
done
if [ -n "${PROFILE:-}" ]; then for d in $(seq 0 $((n - 1))); do
  jcmd "$(jpid "$d")" JFR.dump name=bench filename="$PROFILE-$([ "$d" = 0 ] && echo A || echo B).jfr" > /dev/null; done; fi
python3 - "$out" <<'PY'
import statistics, sys, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    d, case, rps, bad, p50, p99, cpu = line.split()
    def ms(x):
        return float(x[:-2]) if x.endswith("ms") else float(x[:-2]) / 1000 if x.endswith("us") else float(x[:-1]) * 1000
    rows[(d, case)].append((float(rps), int(bad or 0), ms(p50), ms(p99), float(cpu)))
m = statistics.median
for (d, case), v in sorted(rows.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    print(f"{d} {case}: median {m([x[0] for x in v]):.0f} req/s, non200 {sum(x[1] for x in v)}, p50 {m([x[2] for x in v]):.2f} ms,"
          f" p99 {m([x[3] for x in v]):.2f} ms, p99/p50 {m([x[3]/x[2] for x in v]):.1f}, CPU {m([x[4] for x in v]):.4f} ms/req")
PY

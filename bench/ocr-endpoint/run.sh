#!/usr/bin/env bash
# OCR images/s: the appliance's HTTP endpoint (binary BYTES, one PNG a request) ÷ the same OcrPipeline and models
# in-process, same images, same client threads, same ORT threads, alternating in one run.
#   bench/ocr-endpoint/run.sh [THREADS=2] [ROUNDS=3] [SECONDS=10]
# Needs the distribution (runtime/target/tollgate), the plugin jar (plugins/ocr/target) and the bench jar
# (bench/ocr-endpoint/target/ocr-endpoint-bench.jar; README.md says how to build it). The plugin is signed by a
# vendor key made for the run and licensed to the default tenant with allow_code and meter images.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
dist="${TOLLGATE_DIST:-$root/runtime/target/tollgate}"
threads="${1:-2}"; rounds="${2:-3}"; seconds="${3:-10}"
intra="${OCR_BENCH_INTRA:-1}"; inter="${OCR_BENCH_INTER:-1}"; warmup="${OCR_BENCH_WARMUP:-20}"
[ -x "$dist/bin/tollgate" ] || { echo "no distribution at $dist" >&2; exit 1; }
plugin="$(ls "$root"/plugins/ocr/target/tollgate-plugin-ocr-*.jar | grep -v sources | head -1)"
bench="$here/target/ocr-endpoint-bench.jar"
[ -f "$bench" ] || { echo "no $bench: build it first (README.md)" >&2; exit 1; }
vendor="$dist/vendor-tool/bin/tollgate-vendor"

work="$(mktemp -d)"; pid=""
trap '[ -n "$pid" ] && { kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; }; rm -rf "$work"' EXIT
mkdir -p "$work/plugins" "$work/licenses"
cp -r "$dist/conf" "$work/conf"
# the same ONNX Runtime threads on both sides
printf '\nintra.op.threads=%s\ninter.op.threads=%s\n' "$intra" "$inter" >> "$work/conf/io.tollgate.engine.onnx.cfg"
"$vendor" keygen --out "$work/keys" > /dev/null
"$dist/bin/tollgate" vendor trust "$work/keys/vendor-public.pem" --name bench --conf "$work/conf" > /dev/null
jar="$work/plugins/ocr-1.0.0.jar"
cp "$plugin" "$jar"
"$vendor" sign-plugin --key "$work/keys/vendor-private.pem" --vendor Bench "$jar" > /dev/null
"$vendor" issue --key "$work/keys/vendor-private.pem" --vendor Bench --tenant default --plugin ocr \
    --versions "[1.0.0,2.0.0)" --meter images --allow-code --out "$work/licenses/ocr.lic" > /dev/null

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$dist/bin/tollgate" run --port "$port" --plugins "$work/plugins" --data "$work/data" --conf "$work/conf" \
    --licenses "$work/licenses" > "$work/appliance.log" 2>&1 &
pid=$!
url="http://127.0.0.1:$port"
for _ in $(seq 1 360); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/v2/models/ocr/ready")" = 200 ] && break; sleep 0.5
done
[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/v2/models/ocr/ready")" = 200 ] || { echo "ocr not ready:"; tail -20 "$work/appliance.log"; exit 1; }
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uptime | sed 's/.*load/load/')"
java -jar "$bench" --plugin "$jar" --url "$url" --threads "$threads" --seconds "$seconds" --rounds "$rounds" \
    --intra "$intra" --inter "$inter" --appliance-pid "$pid" --warmup "$warmup" 2> "$work/bench.err" || { tail -20 "$work/bench.err"; exit 1; }

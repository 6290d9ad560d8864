#!/usr/bin/env bash
# Start to ready of bin/tollgate run (example plugin, issue 11):
#   bench/endpoint-load/start-to-ready.sh DIST DATA_DIR    (DATA_DIR kept between runs: the first run on it is a first start)
# Prints the wall seconds and the CPU seconds (user+sys) the appliance's processes had used when /v2/health/ready said 200.
# The poller is one python3 process asking every 20 ms over a new connection: it costs the 2-core box next to nothing.
# POLL=curl polls as this script did before 2026-12-02 (a curl process every 50 ms): on a 2-core box those processes
# added ~0.6 s to a warm start and ~1.5 s to a first start (medians; bench/RESULTS.md, "Start to ready, measured
# without the poller's cost").
set -u
dist="$1"; data="$2"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
t0=$(date +%s.%N)
"$dist/bin/tollgate" run --port "$port" --data "$data" > "$data.log" 2>&1 &
pid=$!
if [ "${POLL:-python}" = curl ]; then
  while :; do
    c=$(curl -s -o /dev/null -w '%{http_code}' "localhost:$port/v2/health/ready" 2>/dev/null)
    [ "$c" = 200 ] && break
    kill -0 $pid 2>/dev/null || { echo "died"; break; }
    sleep 0.05
  done
else
  python3 - "$port" "$pid" <<'PY' || echo "died"
import http.client, os, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
while True:
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        c.request("GET", "/v2/health/ready")
        r = c.getresponse(); r.read(); c.close()
        if r.status == 200:
            sys.exit(0)
    except (OSError, http.client.HTTPException):
        pass        # not listening yet, or a connection closed mid-answer while it starts
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(1)
    time.sleep(0.02)
PY
fi
t1=$(date +%s.%N)
cpu=0
for p in $pid $(pgrep -P $pid); do
  s=$(awk '{print $14+$15}' /proc/$p/stat 2>/dev/null || echo 0); cpu=$((cpu + s))
done
python3 -c "print('ready after %.2f s wall, %.2f s CPU' % ($t1-$t0, $cpu/$(getconf CLK_TCK)))"
kill $pid; wait $pid 2>/dev/null

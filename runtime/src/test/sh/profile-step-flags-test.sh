#!/usr/bin/env bash
# bin/tollgate run's first start runs the profile step in a JVM of its own: that short-lived JVM gets
# -XX:TieredStopAtLevel=1 (C1 only, issue 11 start to ready), with TOLLGATE_JAVA_OPTS after it; the appliance's own
# JVM never gets it (C2 makes its steady state); and what that JVM writes to stdout itself (TOLLGATE_JAVA_OPTS=-Xlog:gc)
# never reaches the appliance's command line. A stand-in java records each command line (no JVM needed).
# Usage: runtime/src/test/sh/profile-step-flags-test.sh   (exit 0 = pass)
set -euo pipefail
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
t="$(mktemp -d)"; trap 'rm -rf "$t"' EXIT
home="$t/tollgate"; mkdir -p "$home/bin" "$home/lib" "$home/system" "$home/profiles" "$home/conf" "$t/jdk/bin"
cp "$src/src/dist/bin/tollgate" "$home/bin/"; cp "$src/../firmware-profiles/profiles/"*.profile "$home/profiles/"
touch "$home/system/bcprov-1.jar" "$home/lib/a.jar"
# the profile step's command line goes to step.args (it gives x86-cpu's option, as the real step would: into --out's
# file, else on stdout); run's to run.args. Like a JVM started with TOLLGATE_JAVA_OPTS=-Xlog:gc, the step's JVM also
# writes a log line to stdout first: it must not become an option of the appliance's JVM.
cat > "$t/jdk/bin/java" <<STANDIN
#!/bin/bash
if [[ " \$* " == *" jvm-options "* ]]; then
  printf '%s\n' "\$@" > "$t/step.args"
  echo "[0.004s][info][gc] Using G1"
  out=""; prev=""; for a in "\$@"; do [ "\$prev" = --out ] && out="\$a"; prev="\$a"; done
  if [ -n "\$out" ]; then echo -XX:MaxRAMPercentage=25 > "\$out"; else echo -XX:MaxRAMPercentage=25; fi
  exit 0
fi
printf '%s\n' "\$@" > "$t/run.args"
STANDIN
chmod +x "$t/jdk/bin/java"
export JAVA_HOME="$t/jdk"
fail() { echo "FAIL: $*" >&2; exit 1; }
TOLLGATE_JAVA_OPTS="-Xmx300m -XX:TieredStopAtLevel=4" "$home/bin/tollgate" run --profile x86-cpu
[[ -s "$t/step.args" ]] || fail "no profile step ran"
[[ -s "$t/run.args" ]] || fail "run did not start the appliance"
grep -qx -- '-XX:TieredStopAtLevel=1' "$t/step.args" || fail "the profile step lacks -XX:TieredStopAtLevel=1: $(cat "$t/step.args")"
step_c1="$(grep -nx -- '-XX:TieredStopAtLevel=1' "$t/step.args" | cut -d: -f1)"
step_owner="$(grep -nx -- '-XX:TieredStopAtLevel=4' "$t/step.args" | cut -d: -f1)"
[[ -n "$step_owner" && "$step_owner" -gt "$step_c1" ]] || fail "TOLLGATE_JAVA_OPTS do not come after it: $(cat "$t/step.args")"
grep -qx -- '-XX:TieredStopAtLevel=1' "$t/run.args" && fail "the appliance's JVM got -XX:TieredStopAtLevel=1: $(cat "$t/run.args")"
grep -qx -- 'io.tollgate.runtime.Main' "$t/run.args" || fail "not the appliance: $(cat "$t/run.args")"
grep -qx -- '-XX:MaxRAMPercentage=25' "$t/run.args" || fail "the profile's option is missing: $(cat "$t/run.args")"
grep -q -- 'Using G1' "$t/run.args" && fail "the step JVM's own stdout became an option of the appliance: $(cat "$t/run.args")"
echo "ok"

#!/usr/bin/env bash
# bin/tollgate run with a crafted DATA/profile.jvm-options (fix2 #1) and a group-writable DATA/cds (fix2 #2), with a
# stand-in java that prints its command line (no JVM needed: this checks what the script would run).
# Usage: runtime/src/test/sh/profile-cache-test.sh   (exit 0 = pass)
set -euo pipefail
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
t="$(mktemp -d)"; trap 'rm -rf "$t"' EXIT
home="$t/tollgate"; mkdir -p "$home/bin" "$home/lib" "$home/system" "$home/profiles" "$home/conf" "$t/jdk/bin"
cp "$src/src/dist/bin/tollgate" "$home/bin/"; cp "$src/../firmware-profiles/profiles/"*.profile "$home/profiles/"
touch "$home/system/bcprov-1.jar" "$home/lib/a.jar"
printf '#!/bin/sh\nfor a in "$@"; do echo "$a"; done\n' > "$t/jdk/bin/java"; chmod +x "$t/jdk/bin/java"
export JAVA_HOME="$t/jdk"
fail() { echo "FAIL: $*" >&2; exit 1; }
umask 022
# 1. the profile step (the stand-in prints nothing for it): learn the key bin/tollgate computes
out="$("$home/bin/tollgate" run --profile x86-cpu)"
key="$(grep -o -- '-Dtollgate.profile.jvm.key=.*' <<< "$out" | cut -d= -f2)"; [[ -n "$key" ]] || fail "no key"
# 2. fix2 #2: run made DATA (and DATA/cds) owner-only
[[ "$(stat -c %a "$home/data")" == 700 ]] || fail "data is $(stat -c %a "$home/data"), not 700"
[[ "$(stat -c %a "$home/data/cds")" == 700 ]] || fail "data/cds is $(stat -c %a "$home/data/cds")"
# 3. fix2 #1: a crafted cache with the right key
printf 'key=%s\nprofile=x86-cpu\noption=-Dinjected.by=crafted-file\noption=-javaagent:/tmp/evil.jar\n' "$key" \
    > "$home/data/profile.jvm-options"
out="$("$home/bin/tollgate" run --profile x86-cpu)"
grep -q 'injected\|javaagent' <<< "$out" && fail "crafted option on the command line: $out"
grep -qx -- '-XX:MaxRAMPercentage=25' <<< "$out" || fail "x86-cpu's own option missing: $out"
grep -qx -- '-Dtollgate.profile.jvm.source=cache' <<< "$out" || fail "cache not used: $out"
# a name that is not a profile of the distribution: the profile step runs instead
printf 'key=%s\nprofile=../../tmp/x\n' "$key" > "$home/data/profile.jvm-options"
out="$("$home/bin/tollgate" run --profile x86-cpu)"
grep -qx -- '-Dtollgate.profile.jvm.source=tools' <<< "$out" || fail "a crafted name was used: $out"
# 4. fix2 #2: a group-writable DATA/cds is not used for class data sharing, with one line on stderr
chmod 770 "$home/data/cds"
out="$("$home/bin/tollgate" run --profile x86-cpu 2> "$t/err")"
grep -q 'SharedArchive\|ArchiveClassesAtExit' <<< "$out" && fail "CDS used from a group-writable folder"
grep -q 'class data sharing skipped' "$t/err" || fail "no reason on stderr"
echo "profile-cache-test: PASS"

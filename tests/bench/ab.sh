#!/bin/bash
# A/B of two rune binaries on `run` of /bin/true, interleaved (A B B A ...) so
# drift on a busy machine hits both alike; prints median, 10th percentile and
# minimum in ms. Usage: tests/bench/ab.sh BASELINE_RUNE [NEW_RUNE] (RUNS=300).
set -eu
A=$(readlink -f "$1")
TOP=$(cd "$(dirname "$0")/../.." && pwd)
B=$(readlink -f "${2:-$TOP/build/bin/rune}")
RUNS=${RUNS:-300}
W=$(mktemp -d /tmp/rune-ab.XXXXXX)
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/bundle/rootfs"/{bin,etc,dev,proc,sys,tmp}
cp /bin/busybox "$W/bundle/rootfs/bin/busybox"
ln -s busybox "$W/bundle/rootfs/bin/true"
(cd "$W/bundle" && "$B" spec)
jq '.process.terminal = false | .process.args = ["/bin/true"]' "$W/bundle/config.json" >"$W/c" && mv "$W/c" "$W/bundle/config.json"
one() { # binary label
	local t0 t1
	t0=$(date +%s%N)
	"$1" --root "$W/state" run -b "$W/bundle" "ab-$2" >/dev/null
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000)) >>"$W/$2"
}
for i in $(seq "$RUNS"); do
	if [ $((i % 2)) = 0 ]; then one "$A" a; one "$B" b; else one "$B" b; one "$A" a; fi
done
for x in a b; do
	sort -n "$W/$x" | awk -v name="$([ $x = a ] && echo "$A" || echo "$B")" '{ v[NR] = $1 }
		END { printf "%-60s median %.2f ms  p10 %.2f ms  min %.2f ms  (%d runs)\n", name, v[int((NR + 1) / 2)] / 1000, v[int(NR / 10) + 1] / 1000, v[1] / 1000, NR }'
done

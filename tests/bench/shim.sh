#!/bin/bash
# Pods through containerd 1.6's CRI plugin, our shim against containerd's runc
# shim in one run: the same private containerd serves both runtime handlers
# (`rune`: containerd-shim-rune-v2 + rune; `runc`: containerd-shim-runc-v2 +
# runc). For each, N pods of a sandbox and two containers (host network,
# busybox `sleep`) are started one by one — timed from RunPodSandbox to the
# second StartContainer, by a CRI client keeping one connection — and, with
# all N running, each shim's RSS and PSS are read from smaps_rollup.
# The handlers alternate in ROUNDS rounds so that neither gets a warmer cache.
set -eu
BUILD=${1:-build}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
export TOP BUILD_DIR="$TOP/$BUILD" RUNE="$TOP/$BUILD/bin/rune"
N=${N:-5}
ROUNDS=${ROUNDS:-4}
TEST_TMP=$(mktemp -d /tmp/rune-bench.XXXXXX)
T="$TEST_TMP/t"
mkdir -p "$T"
. "$TOP/tests/lib/common.sh"
. "$TOP/tests/lib/containerd.sh"
trap 'containerd_cleanup; kill $(cat "$T/pids" 2>/dev/null) 2>/dev/null; sleep 0.5; rm -rf "$TEST_TMP"' EXIT

containerd_start cri
cri_images >/dev/null
# SHIM_CURVE_DAT=FILE (tests/bench/curves.sh): one pod per handler grown to
# 50 containers; the shims' RSS at each count, as "containers rune_kB runc_kB".
if [ -n "${SHIM_CURVE_DAT:-}" ]; then
	counts=${SHIM_CURVE_COUNTS:-1,2,5,10,20,30,40,50}
	for h in rune runc; do
		CRI podgrowth "$h" "$counts" localhost/busybox:latest "$T/logs" "containerd-shim-$h-v2" >"$T/grow-$h.json"
	done
	echo "# containers per pod, shim RSS kB (rune), shim RSS kB (runc), shim processes (rune, runc)" >"$SHIM_CURVE_DAT"
	jq -r -s '.[0].points as $a | .[1].points as $b | range($a | length) as $i |
		"\($a[$i].containers) \($a[$i].rss_kb) \($b[$i].rss_kb) \($a[$i].shims) \($b[$i].shims)"' \
		"$T/grow-rune.json" "$T/grow-runc.json" >>"$SHIM_CURVE_DAT"
	cat "$SHIM_CURVE_DAT"
	exit 0
fi
for r in $(seq "$ROUNDS"); do
	CRI podbench rune "$N" localhost/busybox:latest "$T/logs" containerd-shim-rune-v2 >>"$T/rune.json"
	CRI podbench runc "$N" localhost/busybox:latest "$T/logs" containerd-shim-runc-v2 >>"$T/runc.json"
done
echo "pods of a sandbox + 2 containers, containerd $(containerd --version | awk '{print $3}'), $N pods x $ROUNDS rounds each"
for h in rune runc; do
	jq -s -r --arg h "$h" '
		([.[].start_ms[]] | sort) as $t | ([.[].shims[]]) as $m |
		def median(a): a | sort | .[length / 2 | floor];
		"\($h): pod start median \(median($t) | . * 10 | round / 10) ms (min \($t[0] | . * 10 | round / 10), max \($t[-1] | . * 10 | round / 10)); " +
		"\($m | length / '"$ROUNDS"') shims for '"$N"' pods; per shim RSS median \(median([$m[][0]])) kB, PSS median \(median([$m[][1]])) kB"' \
		"$T/$h.json"
done

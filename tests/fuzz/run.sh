#!/bin/bash
# run.sh BUILD SECONDS [FILTER]: every libFuzzer target in BUILD/fuzz for
# SECONDS each (`make fuzz FUZZ_SECONDS=N`); ends with "N passed, N failed".
set -u
build=${1:-build-fuzz} secs=${2:-60} filter=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/rune-fuzz.XXXXXX)
pass=0 fail=0
for bin in "$build"/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	[ -n "$filter" ] && [[ "$(basename "$bin")" != *$filter* ]] && continue
	if "$here/run-one.sh" "$bin" "$secs" "$work"; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done
echo "findings and new inputs: $work"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

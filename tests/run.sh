#!/bin/bash
# Run every test: C unit tests, then the integration tests (each test function
# in its own process, with a time limit). Ends with "N passed, N failed".
set -u
BUILD=${1:-build}
TOP=$(cd "$(dirname "$0")/.." && pwd)
export RUNE="$TOP/$BUILD/bin/rune" BUILD_DIR="$TOP/$BUILD" TOP
export TEST_TMP=${TEST_TMP:-$(mktemp -d /tmp/rune-tests.XXXXXX)}
ONLY=${ONLY:-} # substrings of test names, comma-separated: run only those

# only NAME: is NAME among the ONLY list (or is there none)?
only() {
	[ -z "$ONLY" ] && return 0
	local o
	for o in ${ONLY//,/ }; do [[ "$1" == *"$o"* ]] && return 0; done
	return 1
}
pass=0 fail=0 failed=()

[ -x "$RUNE" ] || { echo "no rune binary at $RUNE (run make first)"; echo "0 passed, 1 failed"; exit 1; }

for t in "$TOP/$BUILD"/tests/unit/*; do
	[ -x "$t" ] || continue
	name="unit/$(basename "$t")"
	if out=$("$t" 2>&1); then
		pass=$((pass + 1)); echo "ok - $name"
	else
		fail=$((fail + 1)); failed+=("$name"); echo "not ok - $name"; echo "$out" | sed 's/^/    /' | tail -20
	fi
done

for f in "$TOP"/tests/integration/*.sh; do
	# a file may ask for more than two minutes per test ("# test-timeout: N")
	limit=$(sed -n 's/^# test-timeout: \([0-9]*\)$/\1/p' "$f" | head -1)
	for fn in $(bash -c ". '$TOP/tests/lib/common.sh'; . '$f'; declare -F" | awk '$3 ~ /^test_/ {print $3}'); do
		name="$(basename "$f" .sh)/${fn#test_}"
		only "$name" || continue
		start=$(date +%s%N)
		if out=$(timeout -k 5 "${limit:-120}" bash "$TOP/tests/lib/run-one.sh" "$f" "$fn" 2>&1); then
			pass=$((pass + 1)); echo "ok - $name ($((($(date +%s%N) - start) / 1000000)) ms)"
		else
			fail=$((fail + 1)); failed+=("$name"); echo "not ok - $name"; echo "$out" | sed 's/^/    /' | tail -25
		fi
	done
done

# The libFuzzer targets, briefly and reproducibly, when built (make check):
# the seeds and a fixed run from a fixed seed; a regression on a kept input
# fails the suite (tests/fuzz/README.md).
if [ -n "${FUZZ_BUILD:-}" ]; then
	for bin in "$TOP/$FUZZ_BUILD"/fuzz/fuzz_*; do
		[ -x "$bin" ] || continue
		name="fuzz/$(basename "$bin")"
		only "$name" || continue
		if out=$(FUZZ_RUNS=${FUZZ_RUNS:-20000} "$TOP/tests/fuzz/run-one.sh" "$bin" "${FUZZ_SECONDS:-30}" "$TEST_TMP/fuzz" 2>&1); then
			pass=$((pass + 1)); echo "ok - $name (${out#*: })"
		else
			fail=$((fail + 1)); failed+=("$name"); echo "not ok - $name"; echo "$out" | sed 's/^/    /' | tail -10
		fi
	done
fi

rm -rf "$TEST_TMP" 2>/dev/null
[ ${#failed[@]} -gt 0 ] && printf 'failed: %s\n' "${failed[*]}"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

#!/bin/bash
# run-one.sh BINARY SECONDS [WORKDIR]: run one libFuzzer target for SECONDS
# over its seed corpus (tests/fuzz/corpus/NAME, read only: new inputs go to
# WORKDIR/NAME), then print one line: executions, coverage, corpus size.
# A finding (crash, leak, timeout, OOM) fails it; the input is kept in
# WORKDIR and named in the output, to be fixed and added to the seeds.
set -u
bin=$1 secs=$2
name=$(basename "$bin")
here=$(cd "$(dirname "$0")" && pwd)
work=${3:-$(mktemp -d /tmp/rune-fuzz.XXXXXX)}
mkdir -p "$work/$name" "$work/artifacts"
seeds="$here/corpus/$name"
[ -d "$seeds" ] || seeds=""
log="$work/$name.log"
# (ASan's leak check runs at exit too: every finding fails the run)
mkdir -p "$work/tmp.$name"
export TMPDIR="$work/tmp.$name"
# FUZZ_RUNS (make check): a fixed number of executions from a fixed seed, so
# the suite replays the same inputs every time — kept findings regress it,
# new ones are the campaigns' to find (docs/robustness.md).
# FUZZ_CPU=1 (campaigns, tests/fuzz/campaign.sh): SECONDS is the target's
# CPU time, not the wall clock's, so a campaign at nice 19 beside other work
# still gets its full share; it is interrupted (SIGINT: libFuzzer prints its
# final stats and exits 72) once it has used that much, or earlier by the
# campaign's stop. The CPU time it used, its executions and coverage are
# written to WORKDIR/NAME.chunk for the campaign's ledger.
limit=$secs started=$SECONDS timeout=10
# (a unit is judged hung after 60 s there, not 10 s: nice 19 beside a busy
# build can starve a 10 ms unit for seconds — the campaign re-runs a
# reported hang alone before it counts)
[ -n "${FUZZ_CPU:-}" ] && limit=$((secs * 100)) timeout=60
"$bin" ${FUZZ_RUNS:+-runs="$FUZZ_RUNS" -seed=1} -max_total_time="$limit" -timeout="$timeout" -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
	-artifact_prefix="$work/artifacts/$name-" "$work/$name" $seeds >"$log" 2>&1 &
pid=$!
if [ -n "${FUZZ_CPU:-}" ]; then
	tck=$(getconf CLK_TCK) used=0
	while kill -0 "$pid" 2>/dev/null; do
		# utime + stime, fields 14 and 15 after the parenthesised name
		now=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | awk -v t="$tck" '{print int(($12 + $13) / t)}')
		[ -n "$now" ] && used=$now
		if [ "$used" -ge "$secs" ]; then
			kill -INT "$pid"
			break
		fi
		sleep 1
	done
fi
wait "$pid"
rc=$?
[ -n "${FUZZ_CPU:-}" ] && [ "$rc" -eq 72 ] && grep -q 'run interrupted' "$log" && rc=0
rm -rf "$work/tmp.$name"
execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log")
cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}')
corp=$(ls "$work/$name" | wc -l)
# (the last sample, at most 1 s before the end: a chunk is under-counted)
[ -n "${FUZZ_CPU:-}" ] && echo "${used} ${execs:-0} ${cov:-0} $rc" >"$work/$name.chunk"
if [ "$rc" -ne 0 ]; then
	echo "$name: FINDING (exit $rc) after ${execs:-?} executions: $(grep -E 'SUMMARY|ERROR' "$log" | head -2 | tr '\n' ' ')"
	ls "$work/artifacts/$name-"* 2>/dev/null | sed 's/^/    input: /'
	exit 1
fi
span="at most ${secs}s"
[ -n "${FUZZ_CPU:-}" ] && span="$used CPU seconds ($((SECONDS - started)) s of wall time)"
echo "$name: ${execs:-0} executions${FUZZ_RUNS:+ (seed 1)} in $span, coverage ${cov:-0} edges, corpus $corp new + $(ls $seeds 2>/dev/null | wc -l) seeds"

#!/bin/bash
# campaign.sh: a long fuzzing campaign, counted in each target's CPU time and
# able to stop and resume, so that hours of fuzzing per target can be spread
# over whatever time a two-core machine has spare.
#
#   campaign.sh run WORKDIR BINDIR [SECONDS] [JOBS]
#       every target in BINDIR until it has used SECONDS (3600) of CPU time,
#       JOBS (the number of CPUs) at once, at nice 19; each target continues
#       the corpus in WORKDIR/NAME. Returns when all are done or stopped.
#   campaign.sh stop WORKDIR
#       interrupts the running targets (libFuzzer prints its statistics);
#       the CPU time and executions they reached stay in the ledger and the
#       next `run` continues from there.
#   campaign.sh report WORKDIR [SECONDS]
#       one Markdown row per target: CPU seconds, executions, coverage,
#       corpus, findings.
#
# The ledger is WORKDIR/ledger/NAME, one line per chunk: CPU seconds,
# executions, coverage (edges), the binary's directory, the date. A finding
# (crash, leak, UB, OOM) ends that target's campaign and is listed in
# WORKDIR/findings/NAME with its input, to be fixed and kept as a seed. A
# reported hang is first re-run alone: one that finishes within a second is
# recorded as not reproduced (the unit was starved by other work), its input
# kept in WORKDIR/artifacts-unreproduced, and the target goes on.
set -u
here=$(cd "$(dirname "$0")" && pwd)
cmd=${1:-} work=${2:-}
[ -n "$cmd" ] && [ -n "$work" ] || {
	sed -n '6,16p' "$0" >&2
	exit 2
}
mkdir -p "$work/ledger" "$work/findings" "$work/claims"

# total NAME: CPU seconds, executions and last coverage in the ledger
total() {
	awk '{cpu += $1; ex += $2; cov = $3} END {printf "%d %d %d\n", cpu, ex, cov}' "$work/ledger/$1" 2>/dev/null || echo "0 0 0"
}

# one_target BIN SECONDS: chunks until the target has SECONDS or is stopped
one_target() {
	local bin=$1 secs=$2 name rc cpu ex cov art start
	name=$(basename "$bin")
	while [ ! -e "$work/STOP" ] && [ ! -s "$work/findings/$name" ]; do
		read -r cpu _ _ <<<"$(total "$name")"
		[ "$cpu" -ge "$secs" ] && return 0
		echo "$(date +%T) $name: from $cpu of $secs CPU s" >>"$work/progress.txt"
		FUZZ_CPU=1 nice -n 19 "$here/run-one.sh" "$bin" $((secs - cpu)) "$work" >>"$work/results.txt" 2>&1
		read -r cpu ex cov rc <"$work/$name.chunk"
		echo "$cpu $ex $cov $(dirname "$bin") $(date -u +%FT%TZ)" >>"$work/ledger/$name"
		[ "$rc" -eq 0 ] && continue
		art=$(ls -t "$work/artifacts/$name-"{crash,leak,oom,timeout}-* 2>/dev/null | head -1)
		if [[ "$art" == *-timeout-* ]] && start=$(date +%s%N) && timeout 60 "$bin" -runs=1 "$art" >/dev/null 2>&1 &&
			[ $((($(date +%s%N) - start) / 1000000)) -lt 1000 ]; then
			mkdir -p "$work/artifacts-unreproduced"
			mv "$art" "$work/artifacts-unreproduced/"
			echo "$(date +%T) $name: a hang not reproduced alone: $(basename "$art")" >>"$work/progress.txt"
			continue
		fi
		echo "exit $rc: ${art:-no input kept} ($work/$name.log)" >"$work/findings/$name"
	done
}

case "$cmd" in
run)
	bindir=${3:?BINDIR} secs=${4:-3600} jobs=${5:-$(nproc)}
	[ -e "$work/running" ] && kill -0 "$(cat "$work/running")" 2>/dev/null && {
		echo "campaign.sh: a campaign already runs in $work (pid $(cat "$work/running"))" >&2
		exit 1
	}
	echo $$ >"$work/running"
	rm -rf "$work/STOP" "$work/claims"
	mkdir "$work/claims"
	for _ in $(seq "$jobs"); do
		(
			for bin in "$bindir"/fuzz_*; do
				[ -e "$work/STOP" ] && break
				# one worker per target: mkdir is the lock
				mkdir "$work/claims/$(basename "$bin")" 2>/dev/null || continue
				one_target "$bin" "$secs"
			done
		) &
	done
	wait
	rm -f "$work/running"
	;;
stop)
	touch "$work/STOP"
	for d in "$work"/claims/*; do
		[ -d "$d" ] && pkill -INT -f "/$(basename "$d") .*-artifact_prefix=$work/"
	done
	while [ -e "$work/running" ] && kill -0 "$(cat "$work/running")" 2>/dev/null; do sleep 1; done
	;;
report)
	secs=${3:-3600}
	echo "| target | CPU [s] | executions | coverage (edges) | corpus (kept inputs) | findings |"
	echo "|---|---:|---:|---:|---:|---|"
	for l in "$work"/ledger/*; do
		[ -e "$l" ] || continue
		name=$(basename "$l")
		read -r cpu ex cov <<<"$(total "$name")"
		f=none
		[ -s "$work/findings/$name" ] && f=$(cat "$work/findings/$name")
		[ "$cpu" -lt "$secs" ] && [ "$f" = none ] && f="none so far"
		[ "$cov" -gt 0 ] || cov="–" # (a chunk carried over without its statistics)
		printf "| %s | %d | %d | %s | %d | %s |\n" "$name" "$cpu" "$ex" "$cov" "$(ls "$work/$name" | wc -l)" "$f"
	done
	;;
*)
	sed -n '6,16p' "$0" >&2
	exit 2
	;;
esac

#!/bin/bash
# `run` and `exec` of /bin/true 0.3 s apart, on the host's cgroups as they are
# (hybrid here, where crun 1.8 refuses to run: lifecycle.sh has crun beside
# rune on v1 alone), against runc and RUNE_BASELINE (a rune built before a
# change). Sporadic starts are what a kubelet's exec probes and a CI job's
# containers are: the kernel's cgroup threadgroup lock has gone idle, and
# whoever moves a process between cgroups first waits out an RCU grace period.
set -eu
BUILD=${1:-build}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
RUNE="$TOP/$BUILD/bin/rune"
RUNS=${RUNS:-30}
. "$TOP/tests/bench/lib.sh"
B=$(mktemp -d /tmp/rune-sporadic.XXXXXX)
cleanup() {
	"$RUNE" --root "$B/rune" delete -f sp-long-rune >/dev/null 2>&1 || true
	runc --root "$B/runc" delete -f sp-long-runc >/dev/null 2>&1 || true
	rm -rf "$B"
}
trap cleanup EXIT
mkdir -p "$B/bundle/rootfs"/{bin,etc,dev,proc,sys,tmp} "$B/long"
cp /bin/busybox "$B/bundle/rootfs/bin/busybox"
ln -s busybox "$B/bundle/rootfs/bin/true"
ln -s busybox "$B/bundle/rootfs/bin/sleep"
(cd "$B/bundle" && "$RUNE" spec)
jq '.process.terminal = false | .process.args = ["/bin/true"]' "$B/bundle/config.json" >"$B/c" && mv "$B/c" "$B/bundle/config.json"
jq --arg root "$B/bundle/rootfs" '.root.path = $root | .process.args = ["/bin/sleep", "100000"]' \
	"$B/bundle/config.json" >"$B/long/config.json"
# Each container its own name: the cgroup path follows it.
"$RUNE" --root "$B/rune" run -d -b "$B/long" sp-long-rune </dev/null >/dev/null
runc --root "$B/runc" run -d -b "$B/long" sp-long-runc </dev/null >/dev/null
run=(-n rune "$RUNE --root $B/rune run -b $B/bundle sp-rune")
exec=(-n rune "$RUNE --root $B/rune exec sp-long-rune /bin/true")
if [ -n "${RUNE_BASELINE:-}" ]; then
	run+=(-n "rune (baseline)" "$RUNE_BASELINE --root $B/base run -b $B/bundle sp-base")
	exec+=(-n "rune (baseline)" "$RUNE_BASELINE --root $B/rune exec sp-long-rune /bin/true")
fi
run+=(-n runc "runc --root $B/runc run -b $B/bundle sp-runc")
exec+=(-n runc "runc --root $B/runc exec sp-long-runc /bin/true")
echo "## run /bin/true, 0.3 s apart, on this host's cgroups"
hyperfine -N --warmup 3 --runs "$RUNS" --prepare "sleep 0.3" --export-json "$B/run.json" "${run[@]}" >/dev/null
table "$B/run.json"
echo
echo "## exec /bin/true, 0.3 s apart, on this host's cgroups"
hyperfine -N --warmup 3 --runs "$RUNS" --prepare "sleep 0.3" --export-json "$B/exec.json" "${exec[@]}" >/dev/null
table "$B/exec.json"

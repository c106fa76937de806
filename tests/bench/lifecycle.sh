#!/bin/bash
# `rune run` of /bin/true against runc and crun, side by side in one hyperfine
# run, wall clock and CPU (user + system, the runtime and what it starts);
# with a 40-rule seccomp filter too; `create`+`start` and `exec` as well.
# RUNE_BASELINE=path adds another rune binary (one built before a change).
#
# Fair: crun 1.8 refuses this host's hybrid cgroups, so the whole benchmark
# runs in one private mount namespace with /sys/fs/cgroup/unified unmounted
# there — no runtime pays a per-run wrapper.
set -eu
BUILD=${1:-build}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
RUNE="$TOP/$BUILD/bin/rune"
RUNS=${RUNS:-100}
. "$TOP/tests/bench/lib.sh"
bench_private_ns "$0" "$@"
B=$(mktemp -d /tmp/rune-bench.XXXXXX)
cleanup() {
	for r in "$RUNE" runc crun; do
		local n
		n=$(basename "$r")
		for id in $("$r" --root "$B/$n-state" list -q 2>/dev/null); do "$r" --root "$B/$n-state" delete -f "$id" >/dev/null 2>&1; done
	done
	rm -rf "$B"
}
trap cleanup EXIT
mkdir -p "$B/bundle/rootfs"/{bin,etc,dev,proc,sys,tmp}
cp /bin/busybox "$B/bundle/rootfs/bin/busybox"
ln -s busybox "$B/bundle/rootfs/bin/true"
ln -s busybox "$B/bundle/rootfs/bin/sleep"
(cd "$B/bundle" && "$RUNE" spec)
jq '.process.terminal = false | .process.args = ["/bin/true"]' "$B/bundle/config.json" >"$B/c" && mv "$B/c" "$B/bundle/config.json"
cd "$B"
# The same bundle with a seccomp filter of 40 rules (what Docker-style
# profiles cost at start).
mkdir -p "$B/seccomp"
jq --arg root "$B/bundle/rootfs" '.root.path = $root | .linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"action": "SCMP_ACT_ERRNO", "names":
	["acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module", "delete_module", "finit_module",
	"get_kernel_syms", "get_mempolicy", "init_module", "ioperm", "iopl", "kcmp", "kexec_file_load", "kexec_load",
	"keyctl", "lookup_dcookie", "mbind", "mount", "move_pages", "name_to_handle_at", "nfsservctl", "open_by_handle_at",
	"perf_event_open", "personality", "pivot_root", "process_vm_readv", "process_vm_writev", "ptrace", "query_module",
	"quotactl", "reboot", "request_key", "set_mempolicy", "setns", "settimeofday", "swapoff", "swapon", "sysfs"]}]}' \
	"$B/bundle/config.json" >"$B/seccomp/config.json"
# A long-running container per runtime for `exec`.
mkdir -p "$B/long"
jq --arg root "$B/bundle/rootfs" '.root.path = $root | .process.args = ["/bin/sleep", "100000"]' \
	"$B/bundle/config.json" >"$B/long/config.json"
for r in "$RUNE" runc crun; do
	n=$(basename "$r")
	"$r" --root "$B/$n-state" run -d -b "$B/long" "long-$n" </dev/null >/dev/null
done

# compare TITLE NAME ARGS...: one hyperfine run of the three runtimes (and the
# baseline, for `run`); each runtime's command is "RUNTIME --root STATE ARGS",
# with %n in ARGS replaced by the runtime's name; PREPARE runs before each.
compare() {
	local title=$1 name=$2 cmds=() r n
	shift 2
	for r in "$RUNE" ${RUNE_BASELINE:+"$RUNE_BASELINE"} crun runc; do
		n=$(basename "$r")
		[ "$r" = "${RUNE_BASELINE:-}" ] && n="rune (baseline)"
		cmds+=(-n "$n" "$r --root $B/${n%% *}-$([ "$r" = "${RUNE_BASELINE:-}" ] && echo base || echo state) ${*//%n/${n%% *}}")
	done
	echo "## $title"
	hyperfine -N --warmup 5 --runs "$RUNS" ${PREPARE:+--prepare "$PREPARE"} --export-json "$B/$name.json" \
		"${cmds[@]}" >/dev/null
	table "$B/$name.json"
	echo
}

# RUN_CURVE_DAT=DIR (tests/bench/curves.sh): `run` against the number of
# mounts (5 -> 200: the spec's first ones, then tmpfs mounts) and of seccomp
# rules (0 -> 400: argument-matching ERRNO rules over the 40 syscalls above),
# each point one hyperfine run of the three runtimes; "N rune crun runc" in
# ms (mean wall) into DIR/run-mounts.dat and DIR/run-seccomp.dat.
if [ -n "${RUN_CURVE_DAT:-}" ]; then
	curve_point() { # NAME N CONFIG: one line of the curve
		mkdir -p "$B/$1-$2"
		cp "$3" "$B/$1-$2/config.json"
		hyperfine -N --warmup 3 --runs "${CURVE_RUNS:-30}" --export-json "$B/$1-$2.json" \
			-n rune "$RUNE --root $B/rune-state run -b $B/$1-$2 c-$1-$2" \
			-n crun "crun --root $B/crun-state run -b $B/$1-$2 c-$1-$2" \
			-n runc "runc --root $B/runc-state run -b $B/$1-$2 c-$1-$2" >/dev/null
		jq -r --arg n "$2" '[$n] + [.results[] | .mean * 1000 | . * 100 | round / 100 | tostring] | join(" ")' "$B/$1-$2.json" \
			>>"$RUN_CURVE_DAT/run-$1.dat"
	}
	echo "# mounts, run /bin/true mean wall ms: rune crun runc" >"$RUN_CURVE_DAT/run-mounts.dat"
	for n in ${MOUNT_POINTS:-5 10 25 50 100 200}; do
		jq --arg root "$B/bundle/rootfs" --argjson n "$n" '.root.path = $root |
			.mounts = (.mounts[0:([$n, (.mounts | length)] | min)] + [range(0; $n - (.mounts | length)) |
			{"destination": "/m/\(.)", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "size=64k"]}])' \
			"$B/bundle/config.json" >"$B/mounts.json"
		curve_point mounts "$n" "$B/mounts.json"
	done
	echo "# seccomp rules, run /bin/true mean wall ms: rune crun runc" >"$RUN_CURVE_DAT/run-seccomp.dat"
	for n in ${SECCOMP_POINTS:-0 25 50 100 200 400}; do
		jq --arg root "$B/bundle/rootfs" --argjson n "$n" '.root.path = $root |
			(.linux.seccomp.syscalls[0].names) as $names |
			.linux.seccomp.syscalls = [range(0; $n) | {"names": [$names[. % ($names | length)]], "action": "SCMP_ACT_ERRNO",
			"args": [{"index": 0, "value": (1000 + .), "op": "SCMP_CMP_EQ"}]}]' \
			"$B/seccomp/config.json" >"$B/rules.json"
		curve_point seccomp "$n" "$B/rules.json"
	done
	cat "$RUN_CURVE_DAT/run-mounts.dat" "$RUN_CURVE_DAT/run-seccomp.dat"
	exit 0
fi

compare "run /bin/true" run run -b "$B/bundle" bench-%n
# The kernel's floor under it (tests/bench/floor.c), beside rune and crun.
cc -O2 -o "$B/floor" "$TOP/tests/bench/floor.c"
echo "## run /bin/true against the kernel's floor (tests/bench/floor.c)"
hyperfine -N --warmup 5 --runs "$RUNS" --export-json "$B/floor.json" -n floor "$B/floor $B/bundle/rootfs" \
	-n rune "$RUNE --root $B/rune-state run -b $B/bundle floor-rune" \
	-n crun "crun --root $B/crun-state run -b $B/bundle floor-crun" >/dev/null
table "$B/floor.json"
echo
compare "run /bin/true with a 40-rule seccomp filter" seccomp run -b "$B/seccomp" bench-sc-%n
for r in "$RUNE" runc crun; do
	n=$(basename "$r")
	printf '#!/bin/sh\n%s --root %s create -b %s cs-%s </dev/null && %s --root %s start cs-%s && %s --root %s delete -f cs-%s\n' \
		"$r" "$B/$n-state" "$B/bundle" "$n" "$r" "$B/$n-state" "$n" "$r" "$B/$n-state" "$n" >"$B/cs-$n.sh"
	chmod +x "$B/cs-$n.sh"
done
echo "## create + start + delete of /bin/true"
hyperfine -N --warmup 5 --runs "$RUNS" --export-json "$B/cs.json" \
	-n rune "$B/cs-rune.sh" -n crun "$B/cs-crun.sh" -n runc "$B/cs-runc.sh" >/dev/null
table "$B/cs.json"
echo
RUNE_BASELINE='' compare "exec /bin/true into a running container" exec exec long-%n /bin/true
# Sporadic starts, 0.3 s apart (a kubelet's exec probes, a CI job's
# containers): long enough for the kernel's cgroup threadgroup lock to go
# idle, after which whoever moves a process between cgroups waits out an RCU
# grace period first. Back-to-back runs above mostly find it warm.
PREPARE="sleep 0.3" RUNS=${SPORADIC_RUNS:-30} compare "run /bin/true, 0.3 s apart" run-sporadic run -b "$B/bundle" sp-%n
PREPARE="sleep 0.3" RUNS=${SPORADIC_RUNS:-30} RUNE_BASELINE='' compare "exec /bin/true, 0.3 s apart" exec-sporadic \
	exec long-%n /bin/true

#!/bin/bash
# `rune run` of /bin/true against runc and crun, side by side in one hyperfine
# run; with a 40-rule seccomp filter for rune and runc; RUNE_BASELINE=path adds
# another rune binary (e.g. one built before a change) to the same run. crun 1.8 refuses hybrid cgroups, so it runs in a private mount namespace
# with /sys/fs/cgroup/unified unmounted (see shared/reference/test-environment.md).
set -eu
BUILD=${1:-build}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
RUNE="$TOP/$BUILD/bin/rune"
RUNS=${RUNS:-100}
B=$(mktemp -d /tmp/rune-bench.XXXXXX)
trap 'rm -rf "$B"' EXIT
mkdir -p "$B/bundle/rootfs"/{bin,etc,dev,proc,sys,tmp}
cp /bin/busybox "$B/bundle/rootfs/bin/busybox"
ln -s busybox "$B/bundle/rootfs/bin/true"
(cd "$B/bundle" && "$RUNE" spec)
jq '.process.terminal = false | .process.args = ["/bin/true"]' "$B/bundle/config.json" >"$B/c" && mv "$B/c" "$B/bundle/config.json"
cat >"$B/crun.sh" <<S
#!/bin/sh
exec unshare -m sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec crun --root $B/crun-state run -b $B/bundle bench-crun'
S
chmod +x "$B/crun.sh"
cd "$B"
# The same bundle with a seccomp filter of 40 rules (what Docker-style
# profiles cost at start), for rune and runc.
mkdir -p "$B/seccomp"
jq --arg root "$B/bundle/rootfs" '.root.path = $root | .linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"action": "SCMP_ACT_ERRNO", "names":
	["acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module", "delete_module", "finit_module",
	"get_kernel_syms", "get_mempolicy", "init_module", "ioperm", "iopl", "kcmp", "kexec_file_load", "kexec_load",
	"keyctl", "lookup_dcookie", "mbind", "mount", "move_pages", "name_to_handle_at", "nfsservctl", "open_by_handle_at",
	"perf_event_open", "personality", "pivot_root", "process_vm_readv", "process_vm_writev", "ptrace", "query_module",
	"quotactl", "reboot", "request_key", "set_mempolicy", "setns", "settimeofday", "swapoff", "swapon", "sysfs"]}]}' \
	"$B/bundle/config.json" >"$B/seccomp/config.json"
EXTRA=()
if [ -n "${RUNE_BASELINE:-}" ]; then
	EXTRA=(-n "rune (baseline $RUNE_BASELINE)" "$RUNE_BASELINE --root $B/base-state run -b $B/bundle bench-base")
fi
hyperfine -N --warmup 5 --runs "$RUNS" --export-markdown "$B/result.md" \
	-n rune "$RUNE --root $B/rune-state run -b $B/bundle bench-rune" \
	"${EXTRA[@]}" \
	-n "rune + seccomp" "$RUNE --root $B/rune-state run -b $B/seccomp bench-rune-sc" \
	-n runc "runc --root $B/runc-state run -b $B/bundle bench-runc" \
	-n "runc + seccomp" "runc --root $B/runc-state run -b $B/seccomp bench-runc-sc" \
	-n crun "$B/crun.sh"
cat "$B/result.md"

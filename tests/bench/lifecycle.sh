#!/bin/bash
# `rune run` of /bin/true against runc and crun, side by side in one hyperfine
# run. crun 1.8 refuses hybrid cgroups, so it runs in a private mount namespace
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
hyperfine -N --warmup 5 --runs "$RUNS" --export-markdown "$B/result.md" \
	-n rune "$RUNE --root $B/rune-state run -b $B/bundle bench-rune" \
	-n runc "runc --root $B/runc-state run -b $B/bundle bench-runc" \
	-n crun "$B/crun.sh"
cat "$B/result.md"

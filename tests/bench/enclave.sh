#!/bin/bash
# The cost of starting an enclave container: `rune run` of /bin/true as a plain
# container, through the PAL v3 skeleton (rune's enclave driver alone), and
# through liberpal-sim (driver + private mount namespace + seccomp filter +
# measuring the image), side by side in one hyperfine run, with crun's plain
# run beside them; wall and CPU. Fair as lifecycle.sh is: in one private
# mount namespace, no runtime paying a per-run wrapper.
set -eu
BUILD=${1:-build}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
RUNE="$TOP/$BUILD/bin/rune"
PALS="$TOP/$BUILD/pal"
RUNS=${RUNS:-100}
. "$TOP/tests/bench/lib.sh"
bench_private_ns "$0" "$@"
B=$(mktemp -d /tmp/rune-bench.XXXXXX)
trap 'rm -rf "$B"' EXIT
mkdir -p "$B/plain/rootfs"/{bin,etc,dev,proc,sys,tmp}
cp /bin/busybox "$B/plain/rootfs/bin/busybox"
ln -s busybox "$B/plain/rootfs/bin/true"
(cd "$B/plain" && "$RUNE" spec)
jq '.process.terminal = false | .process.args = ["/bin/true"] | .root.path = "'"$B"'/plain/rootfs"' \
	"$B/plain/config.json" >"$B/c" && mv "$B/c" "$B/plain/config.json"
for pal in skeleton-v3 sim; do
	mkdir -p "$B/$pal"
	jq --arg p "$PALS/liberpal-$pal.so" '.process.env += ["ENCLAVE_TYPE=sim", "ENCLAVE_RUNTIME_PATH=" + $p,
		"ENCLAVE_RUNTIME_LOGLEVEL=off"]' "$B/plain/config.json" >"$B/$pal/config.json"
done
size=$(du -sh "$B/plain/rootfs/bin/busybox" | cut -f1)
echo "rootfs: busybox ($size), measured whole by liberpal-sim on every start"
cd "$B"
hyperfine -N --warmup 5 --runs "$RUNS" --export-json "$B/result.json" \
	-n "rune, plain" "$RUNE --root $B/state run -b $B/plain p" \
	-n "rune, PAL v3 skeleton" "$RUNE --root $B/state run -b $B/skeleton-v3 s" \
	-n "rune, liberpal-sim" "$RUNE --root $B/state run -b $B/sim e" \
	-n "crun, plain" "crun --root $B/crun-state run -b $B/plain c" >/dev/null
table "$B/result.json"

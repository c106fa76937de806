#!/bin/bash
# The cost of starting an enclave container: `rune run` of /bin/true as a plain
# container, through the PAL v3 skeleton (rune's enclave driver alone), and
# through liberpal-sim (driver + private mount namespace + seccomp filter +
# measuring the image), side by side in one hyperfine run.
set -eu
BUILD=${1:-build}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
RUNE="$TOP/$BUILD/bin/rune"
PALS="$TOP/$BUILD/pal"
RUNS=${RUNS:-100}
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
hyperfine -N --warmup 5 --runs "$RUNS" --export-markdown "$B/result.md" \
	-n plain "$RUNE --root $B/state run -b $B/plain p" \
	-n skeleton-v3 "$RUNE --root $B/state run -b $B/skeleton-v3 s" \
	-n sim "$RUNE --root $B/state run -b $B/sim e"
cat "$B/result.md"

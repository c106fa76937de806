#!/bin/bash
# `make demo`: build a busybox bundle offline and run it with rune.
set -eu
BUILD=${1:-build}
RUNE="$(cd "$(dirname "$0")/.." && pwd)/$BUILD/bin/rune"
D=$(mktemp -d /tmp/rune-demo.XXXXXX)
trap 'rm -rf "$D"' EXIT
mkdir -p "$D/bundle/rootfs"/{bin,etc,dev,proc,sys,tmp,root}
cp /bin/busybox "$D/bundle/rootfs/bin/busybox"
for a in $("$D/bundle/rootfs/bin/busybox" --list); do [ "$a" = busybox ] || ln -s busybox "$D/bundle/rootfs/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' >"$D/bundle/rootfs/etc/passwd"
echo 'root:x:0:' >"$D/bundle/rootfs/etc/group"
cd "$D/bundle"
"$RUNE" spec
# Not a terminal session: run the container's process without a pty.
sed -i 's/"terminal": true/"terminal": false/' config.json
sed -i 's|"sh"$|"sh", "-c", "echo Hello from a rune container; echo hostname: $(hostname); echo pid: $$; id; cat /proc/self/cgroup \| grep memory"|' config.json
echo "\$ rune --root $D/state run demo"
"$RUNE" --root "$D/state" run demo
echo "exit status: $?"

#!/bin/bash
# `make demo`: build a busybox bundle offline and run it with rune, first as a
# plain container, then as an enclave container.
set -eu
BUILD=${1:-build}
TOP=$(cd "$(dirname "$0")/.." && pwd)
RUNE="$TOP/$BUILD/bin/rune"
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

# The same image as an enclave container, through the simulation enclave
# runtime (no TEE hardware needed; it says so, loudly).
PAL="$TOP/$BUILD/pal/liberpal-sim.so"
jq --arg p "$PAL" '.process.args = ["sh", "-c", "echo Hello from inside a simulated enclave; touch /x 2>/dev/null || echo root is read-only in the enclave; exit 3"]
	| .process.env += ["ENCLAVE_TYPE=sim", "ENCLAVE_RUNTIME_PATH=" + $p] | .root.readonly = false' config.json >config.enclave.json
mv config.enclave.json config.json
echo
echo "\$ rune --root $D/state run enclave-demo    # ENCLAVE_TYPE=sim ENCLAVE_RUNTIME_PATH=$PAL"
rc=0
"$RUNE" --root "$D/state" run enclave-demo || rc=$?
echo "exit status: $rc (the workload's own)"
"$RUNE" --root "$D/state" create enclave-demo 2>/dev/null
echo "\$ rune state enclave-demo | jq .enclave"
"$RUNE" --root "$D/state" state enclave-demo | jq .enclave
"$RUNE" --root "$D/state" delete -f enclave-demo

#!/bin/bash
# `make demo`: a confidential container, whole, on this machine.
#
# The workload owner builds a small image, signs it with a cosign key and
# encrypts its layer under a key only their KBS holds, and pushes it to a
# registry. rune starts a (simulated) enclave that attests to the KBS, gets the
# owner's signature policy and the layer key, and pulls, verifies, decrypts and
# runs the image inside itself: the host never holds the plaintext. Then two
# refusals: a tampered image, and an enclave the KBS does not recognise.
set -eu
BUILD=${1:-build}
TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN="$TOP/$BUILD/bin"
PAL="$TOP/$BUILD/pal/liberpal-sim.so"
D=$(mktemp -d /tmp/rune-demo.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	"$BIN/rune" --root "$D/state" delete -f demo >/dev/null 2>&1 || true
	rm -rf "$D"
}
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; echo "$1 did not come up" >&2; exit 1; }

step "A registry and the owner's KBS (rune-kbs) on 127.0.0.1"
REGPORT=$(free_port)
mkdir -p "$D/registry"
printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
	"$D/registry/data" "$REGPORT" >"$D/registry/config.yml"
docker-registry serve "$D/registry/config.yml" >"$D/registry/log" 2>&1 &
PIDS+=($!)
REG="127.0.0.1:$REGPORT"
wait_http "http://$REG/v2/"
echo "registry: http://$REG"

step "The owner builds an image: busybox and an app that prints a secret"
umoci init --layout "$D/oci" >/dev/null
umoci new --image "$D/oci:app" >/dev/null
umoci unpack --image "$D/oci:app" "$D/build" >/dev/null
mkdir -p "$D/build/rootfs/bin" "$D/build/rootfs/app"
cp /bin/busybox "$D/build/rootfs/bin/"
for a in sh cat echo hostname id; do ln -s busybox "$D/build/rootfs/bin/$a"; done
cat >"$D/build/rootfs/app/run" <<'A'
#!/bin/sh
echo "Hello from inside the enclave. The owner's secret: $(cat /app/secret.txt)"
echo "my root is the image the enclave pulled itself:"; ls /app
A
chmod +x "$D/build/rootfs/app/run"
echo "the-owners-plaintext-$RANDOM$RANDOM" >"$D/build/rootfs/app/secret.txt"
SECRET=$(cat "$D/build/rootfs/app/secret.txt")
umoci repack --image "$D/oci:app" "$D/build" >/dev/null
umoci config --image "$D/oci:app" --config.cmd /app/run --config.env PATH=/bin >/dev/null
echo "image: /app/run, /app/secret.txt (\"$SECRET\")"

step "The owner encrypts the layer under a KEK that only the KBS will hold (provider:attestation-agent)"
KBSPORT=$(free_port)
KBS="http://127.0.0.1:$KBSPORT"
mkdir -p "$D/kbs/default/key" "$D/kbs/default/security-policy" "$D/kbs/default/cosign-key" "$D/kbs/default/sigstore-config"
head -c 32 /dev/urandom >"$D/kbs/default/key/1"
jq -n --arg p "$BIN/rune-attest" '{"key-providers": {"attestation-agent": {"cmd": {"path": $p, "args": ["keyprovider"]}}}}' \
	>"$D/keyprovider.json"
OCICRYPT_KEYPROVIDER_CONFIG="$D/keyprovider.json" /usr/bin/python3 "$TOP/tests/helpers/ocicrypt.py" "$D/oci" app enc \
	--recipient "provider:attestation-agent:keyid=kbs:///default/key/1::keypath=$D/kbs/default/key/1"
REF="$REG/demo/app:1"
skopeo copy -q --dest-tls-verify=false "oci:$D/oci:enc" "docker://$REF"
rm -rf "$D/oci" "$D/build" # the owner's plaintext stays with the owner
skopeo inspect --raw --tls-verify=false "docker://$REF" | jq -r '.layers[] | "layer \(.digest): \(.mediaType)"'

step "The owner signs the image with a cosign key (a .sig tag in the registry)"
/usr/bin/python3 "$TOP/tests/helpers/pki.py" key "$D/cosign.pem"
DIGEST="sha256:$(skopeo inspect --raw --tls-verify=false "docker://$REF" | sha256sum | cut -d' ' -f1)"
printf '{"critical":{"identity":{"docker-reference":"%s"},"image":{"docker-manifest-digest":"%s"},"type":"cosign container image signature"},"optional":null}' \
	"$REG/demo/app" "$DIGEST" >"$D/payload.json"
node "$TOP/tests/sigstore/sigstore-fixture.js" sign --key "$D/cosign.pem" --form sig --payload "$D/payload.json" --out "$D/sig.json"
node "$TOP/tests/sigstore/sigstore-fixture.js" push-sig "$REG" demo/app "$DIGEST" "$D/sig.json"
echo "signed $DIGEST"

step "The owner's KBS: the KEK, the signature policy, the cosign key; released only to the enclave"
cp "$D/cosign.pub" "$D/kbs/default/cosign-key/1"
printf 'default-docker:\n  use-sigstore-attachments: true\n' >"$D/kbs/default/sigstore-config/demo"
cat >"$D/kbs/default/security-policy/demo" <<P
{"default": [{"type": "reject"}],
 "transports": {"docker": {"$REG/demo": [{"type": "sigstoreSigned", "keyPath": "kbs:///default/cosign-key/1",
                                          "signedIdentity": {"type": "matchRepository"}}]}}}
P
cat "$D/kbs/default/security-policy/demo"
# The simulation key exists once liberpal-sim has been loaded (first use makes it).
mkdir -p "$D/warm/rootfs/bin" && cp /bin/busybox "$D/warm/rootfs/bin/" && ln -s busybox "$D/warm/rootfs/bin/true"
(cd "$D/warm" && "$BIN/rune" spec && jq --arg p "$PAL" '.process.terminal = false | .process.args = ["/bin/true"]
	| .annotations = {"enclave.type": "sim", "enclave.runtime.path": $p, "enclave.runtime.loglevel": "off"}' \
	config.json >c && mv c config.json)
"$BIN/rune" --root "$D/state" run -b "$D/warm" warm >/dev/null 2>&1 || true
kbs_start() {
	"$BIN/rune-kbs" --listen "127.0.0.1:$KBSPORT" --repository "$D/kbs" --policy "$1" \
		--sim-key /var/lib/rune/sim/sim-key.pub 2>"$D/kbs.log" &
	KBS_PID=$!
	PIDS+=($KBS_PID)
	wait_http "$KBS/kbs/v0/"
}
echo '{"default": {"tee": ["sim"]}}' >"$D/kbs-policy.json"
kbs_start "$D/kbs-policy.json"
echo "rune-kbs: $KBS, resource policy: $(cat "$D/kbs-policy.json")"

step "rune runs the confidential container: attest, fetch, verify, decrypt, unpack, run — inside the enclave"
mkdir -p "$D/bundle/rootfs"
cat >"$D/initdata.toml" <<T
version = "0.1.0"
algorithm = "sha384"

[data]
"aa.toml" = '''
[token_configs.kbs]
url = "$KBS"
'''
"cdh.toml" = '''
[image]
image_security_policy_uri = 'kbs:///default/security-policy/demo'
sigstore_config_uri = 'kbs:///default/sigstore-config/demo'
'''
T
(cd "$D/bundle" && "$BIN/rune" spec)
cp -a "$D/warm/rootfs/." "$D/bundle/rootfs/"
jq --arg p "$PAL" --arg ref "$REF" --rawfile init "$D/initdata.toml" '.process.terminal = false | .process.args = [""]
	| .annotations = {"enclave.type": "sim", "enclave.runtime.path": $p, "enclave.image": $ref,
	                  "enclave.initdata": $init, "enclave.image.registry-tls": "false"}
	| .linux.namespaces |= map(select(.type != "network"))' "$D/bundle/config.json" >"$D/c" && mv "$D/c" "$D/bundle/config.json"
echo "annotations: $(jq -c '.annotations | del(.["enclave.initdata"])' "$D/bundle/config.json") + enclave.initdata (the TOML above)"
echo "\$ rune run -b bundle demo"
start=$(date +%s%N)
"$BIN/rune" --root "$D/state" run -b "$D/bundle" demo 2>"$D/run.log" || { cat "$D/run.log" >&2; exit 1; }
echo "(create to exit: $((($(date +%s%N) - start) / 1000000)) ms)"
grep -E "verified, decrypted|SIMULATION" "$D/run.log" | sed 's/^/  /'
if grep -rqa "$SECRET" "$D/state" "$D/bundle" "$D/registry" /var/lib/rune 2>/dev/null; then
	echo "PLAINTEXT FOUND ON THE HOST" >&2
	exit 1
fi
echo "the plaintext is nowhere on the host: not in the registry, the bundle, rune's state or /var/lib/rune"

step "Refusal 1: the image is tampered with in the registry"
BLOB=$(find "$D/registry/data" -path '*/blobs/sha256/*/data' -printf '%s %p\n' | sort -n | tail -1 | cut -d' ' -f2)
cp "$BLOB" "$D/blob.bak"
printf 'X' | dd of="$BLOB" bs=1 seek=200 conv=notrunc 2>/dev/null
"$BIN/rune" --root "$D/state" run -b "$D/bundle" demo 2>&1 | grep -E "error" | sed 's/^/  /' || true
cp "$D/blob.bak" "$BLOB"

step "Refusal 2: the KBS expects another enclave measurement"
kill "$KBS_PID"
wait "$KBS_PID" 2>/dev/null || true
printf '{"default": {"tee": ["sim"], "measurement": ["%064d"]}}\n' 0 >"$D/kbs-policy.json"
kbs_start "$D/kbs-policy.json"
"$BIN/rune" --root "$D/state" run -b "$D/bundle" demo 2>&1 | grep -E "error" | sed 's/^/  /' || true
echo
echo "Each refusal names its step; nothing is left running: $("$BIN/rune" --root "$D/state" list -q | grep -v warm | wc -l) containers."
echo "This enclave is a SIMULATION (liberpal-sim): the same flow runs in a TEE with real evidence (docs/confidential.md)."

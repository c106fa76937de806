#!/bin/bash
# The confidential start against the plain path, side by side in one
# hyperfine run, on the same small image (busybox + an app):
#  - confidential: `rune run` of an enclave container in image mode — attest to
#    rune-kbs, fetch the policy, the cosign key and the layer key, pull,
#    verify the signature, decrypt, unpack into the enclave's tmpfs, run;
#  - plain: `rune-image unpack` of the unencrypted image into a fresh store and
#    bundle, then `rune run` of it (no enclave).
# Both end when the workload has printed its line and exited.
set -eu
BUILD=${1:-build}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BIN="$TOP/$BUILD/bin"
PAL="$TOP/$BUILD/pal/liberpal-sim.so"
RUNS=${RUNS:-30}
D=$(mktemp -d /tmp/rune-bench.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$D"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; exit 1; }

REGPORT=$(free_port) KBSPORT=$(free_port)
REG="127.0.0.1:$REGPORT" KBS="http://127.0.0.1:$KBSPORT"
printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n' \
	"$D/registry" "$REG" >"$D/registry.yml"
docker-registry serve "$D/registry.yml" >/dev/null 2>&1 &
PIDS+=($!)
wait_http "http://$REG/v2/"

# The image, plain and encrypted (layer key in the KBS), signed.
umoci init --layout "$D/oci" >/dev/null
umoci new --image "$D/oci:app" >/dev/null
umoci unpack --image "$D/oci:app" "$D/build" >/dev/null
mkdir -p "$D/build/rootfs/bin" "$D/build/rootfs/app"
cp /bin/busybox "$D/build/rootfs/bin/"
ln -s busybox "$D/build/rootfs/bin/sh"
printf '#!/bin/sh\necho ready\n' >"$D/build/rootfs/app/run"
chmod +x "$D/build/rootfs/app/run"
umoci repack --image "$D/oci:app" "$D/build" >/dev/null
umoci config --image "$D/oci:app" --config.cmd /app/run --config.env PATH=/bin >/dev/null
mkdir -p "$D/kbs/default/key" "$D/kbs/default/security-policy" "$D/kbs/default/cosign-key" "$D/kbs/default/sigstore-config"
head -c 32 /dev/urandom >"$D/kbs/default/key/1"
jq -n --arg p "$BIN/rune-attest" '{"key-providers": {"attestation-agent": {"cmd": {"path": $p, "args": ["keyprovider"]}}}}' >"$D/kp.json"
OCICRYPT_KEYPROVIDER_CONFIG="$D/kp.json" /usr/bin/python3 "$TOP/tests/helpers/ocicrypt.py" "$D/oci" app enc \
	--recipient "provider:attestation-agent:keyid=kbs:///default/key/1::keypath=$D/kbs/default/key/1"
skopeo copy -q --dest-tls-verify=false "oci:$D/oci:app" "docker://$REG/bench/plain:1"
skopeo copy -q --dest-tls-verify=false "oci:$D/oci:enc" "docker://$REG/bench/conf:1"
/usr/bin/python3 "$TOP/tests/helpers/pki.py" key "$D/cosign.pem"
DIGEST="sha256:$(skopeo inspect --raw --tls-verify=false "docker://$REG/bench/conf:1" | sha256sum | cut -d' ' -f1)"
printf '{"critical":{"identity":{"docker-reference":"%s"},"image":{"docker-manifest-digest":"%s"},"type":"cosign container image signature"},"optional":null}' \
	"$REG/bench/conf" "$DIGEST" >"$D/payload.json"
node "$TOP/tests/sigstore/sigstore-fixture.js" sign --key "$D/cosign.pem" --form sig --payload "$D/payload.json" --out "$D/sig.json"
node "$TOP/tests/sigstore/sigstore-fixture.js" push-sig "$REG" bench/conf "$DIGEST" "$D/sig.json"
cp "$D/cosign.pub" "$D/kbs/default/cosign-key/1"
printf 'default-docker:\n  use-sigstore-attachments: true\n' >"$D/kbs/default/sigstore-config/b"
printf '{"default": [{"type": "sigstoreSigned", "keyPath": "kbs:///default/cosign-key/1", "signedIdentity": {"type": "matchRepository"}}]}' \
	>"$D/kbs/default/security-policy/b"
echo '{"default": {"tee": ["sim"]}}' >"$D/kbs-policy.json"

# Bundles: the confidential one boots the enclave from a busybox rootfs.
mkdir -p "$D/conf/rootfs/bin" "$D/conf/rootfs/tmp"
cp /bin/busybox "$D/conf/rootfs/bin/"
(cd "$D/conf" && "$BIN/rune" spec)
"$BIN/rune" --root "$D/state" run -b "$D/conf" warm >/dev/null 2>&1 || true # (plain: no PAL)
jq --arg p "$PAL" '.process.terminal = false | .process.args = ["/bin/busybox", "true"]
	| .annotations = {"enclave.type": "sim", "enclave.runtime.path": $p, "enclave.runtime.loglevel": "off"}' \
	"$D/conf/config.json" >"$D/c" && mv "$D/c" "$D/conf/config.json"
"$BIN/rune" --root "$D/state" run -b "$D/conf" warm >/dev/null 2>&1 # makes the simulation key on first use
"$BIN/rune-kbs" --listen "127.0.0.1:$KBSPORT" --repository "$D/kbs" --policy "$D/kbs-policy.json" \
	--sim-key /var/lib/rune/sim/sim-key.pub 2>/dev/null &
PIDS+=($!)
wait_http "$KBS/kbs/v0/"
printf 'version = "0.1.0"\nalgorithm = "sha384"\n[data]\n"aa.toml" = """\n[token_configs.kbs]\nurl = "%s"\n"""\n"cdh.toml" = """\n[image]\nimage_security_policy_uri = "kbs:///default/security-policy/b"\nsigstore_config_uri = "kbs:///default/sigstore-config/b"\n"""\n' \
	"$KBS" >"$D/initdata.toml"
jq --arg ref "$REG/bench/conf:1" --rawfile init "$D/initdata.toml" '.process.args = [""]
	| .annotations += {"enclave.image": $ref, "enclave.initdata": $init, "enclave.image.registry-tls": "false"}
	| .linux.namespaces |= map(select(.type != "network"))' "$D/conf/config.json" >"$D/c" && mv "$D/c" "$D/conf/config.json"
[ "$("$BIN/rune" --root "$D/state" run -b "$D/conf" check 2>/dev/null)" = ready ] || { echo "the confidential run failed" >&2; exit 1; }

cd "$D"
hyperfine -N --warmup 3 --runs "$RUNS" --export-markdown "$D/result.md" --export-json "$D/result.json" \
	-n "confidential (attest, policy, signature, key, pull, decrypt, unpack, run in the enclave)" \
	"$BIN/rune --root $D/state run -b $D/conf c" \
	-n "plain (rune-image unpack + rune run, no enclave, no encryption)" \
	"sh -c 'rm -rf $D/store $D/plainb && $BIN/rune-image --root $D/store --insecure-policy --tls-verify=false -q unpack $REG/bench/plain:1 $D/plainb && $BIN/rune --root $D/state run -b $D/plainb p'" >&2
cat "$D/result.md"
echo
jq -r '.results | "median: confidential \(.[0].median * 1000 | round) ms, plain \(.[1].median * 1000 | round) ms, ratio \((.[0].median / .[1].median) * 100 | round / 100)"' "$D/result.json"

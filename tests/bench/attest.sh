#!/bin/bash
# The cost of attestation: one `rune-attest get-resource` against rune-kbs on
# 127.0.0.1 is a whole handshake (auth, evidence, attest, an ES256 token) and a
# JWE-sealed resource; side by side with the same process fetching two
# resources on one attestation (the token reused), with an RSA key instead of
# P-256, and with the independent python3-jwcrypto client doing the same
# protocol. `sample` evidence, so the numbers are the protocol's, not a TEE's.
set -eu
BUILD=${1:-build}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
RA="$TOP/$BUILD/bin/rune-attest"
RUNS=${RUNS:-100}
B=$(mktemp -d /tmp/rune-bench.XXXXXX)
PID=
trap '[ -n "$PID" ] && kill $PID; rm -rf "$B"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$B/repo/default/key"
head -c 32 /dev/urandom >"$B/repo/default/key/1"
head -c 32 /dev/urandom >"$B/repo/default/key/2"
echo '{"resources": {"default/key/*": {"tee": ["sample"]}}}' >"$B/policy.json"
"$TOP/$BUILD/bin/rune-kbs" --listen "127.0.0.1:$port" --repository "$B/repo" --policy "$B/policy.json" \
	--allow-sample 2>/dev/null &
PID=$!
URL="http://127.0.0.1:$port"
for _ in $(seq 100); do curl -s -o /dev/null "$URL/kbs/v0/" && break; sleep 0.05; done
hyperfine -N --warmup 5 --runs "$RUNS" --export-markdown "$B/result.md" --export-json "$B/result.json" \
	-n "attest + 1 resource (P-256)" "$RA --url $URL --tee sample get-resource --path default/key/1" \
	-n "attest + 2 resources" "$RA --url $URL --tee sample get-resource --path default/key/1 --path default/key/2" \
	-n "attest + 1 resource (RSA 3072)" "$RA --url $URL --tee sample --key-type rsa get-resource --path default/key/1" \
	-n "python3-jwcrypto client" "/usr/bin/python3 $TOP/tests/helpers/kbsclient.py $URL default/key/1" >&2
cat "$B/result.md"
echo
echo "| Command | Median [ms] |"
echo "|:---|---:|"
jq -r '.results[] | "| `\(.command)` | \(.median * 1000 | . * 10 | round / 10) |"' "$B/result.json"
echo
echo "rune-kbs peak RSS: $(grep VmHWM /proc/$PID/status | awk '{print $2}') kB after $((RUNS * 4 + 20)) attestations"

# Signing fixtures: GPG keys and skopeo --sign-by for simple signing; the
# sigstore reference implementation (tests/sigstore, npm) for cosign .sig
# tags and Sigstore bundles; python3-cryptography for keys and certificates.
. "$TOP/tests/lib/registry.sh"

FIXTURE() { node "$TOP/tests/sigstore/sigstore-fixture.js" "$@"; }
# Debian's python3 (its python3-cryptography), whatever python3 comes first in PATH.
PKI() { /usr/bin/python3 "$TOP/tests/helpers/pki.py" "$@"; }
# rune-image with this test's policy and registries.d.
RV() { RI --tls-verify=false --policy "$T/policy.json" --registries.d "$T/registries.d" "$@"; }

write_policy() { printf '%s\n' "$1" >"$T/policy.json"; }
write_registries_d() {
	mkdir -p "$T/registries.d"
	printf '%s\n' "$1" >"$T/registries.d/${2:-test}.yaml"
}

# gpg_key NAME EMAIL: a throwaway signing key in $T/gnupg; its public key
# armored in $T/NAME.gpg.
gpg_key() {
	export GNUPGHOME="$T/gnupg"
	mkdir -p -m 700 "$GNUPGHOME"
	gpg --batch --passphrase '' --quick-gen-key "$1 <$2>" rsa2048 sign never 2>/dev/null
	gpg --export --armor "$2" >"$T/$1.gpg"
}

# gpg_sign_payload EMAIL JSON OUT: an OpenPGP signed message of JSON, as
# simple signing makes them (for payloads skopeo would never write).
gpg_sign_payload() {
	printf '%s' "$2" | gpg --batch --yes -u "$1" --sign -o "$3"
}

# manifest_digest REF: the digest of the manifest the registry serves for REF.
manifest_digest() {
	echo "sha256:$(skopeo inspect --raw --tls-verify=false "docker://$1" | sha256sum | cut -d' ' -f1)"
}

# cosign_payload REPO DIGEST [TYPE]: a simple-signing payload as cosign writes it.
cosign_payload() {
	printf '{"critical":{"identity":{"docker-reference":"%s"},"image":{"docker-manifest-digest":"%s"},"type":"%s"},"optional":null}' \
		"$1" "$2" "${3:-cosign container image signature}"
}

# lookaside_serve DIR [MODE]: a lookaside web server (tests/helpers/lookaside.py); sets LOOKASIDE.
lookaside_serve() {
	local out="$T/lookaside.$RANDOM"
	bg python3 "$TOP/tests/helpers/lookaside.py" --dir "$1" --mode "${2:-files}" --log "$T/lookaside.log" >"$out"
	for _ in $(seq 100); do
		grep -q LISTENING "$out" 2>/dev/null && break
		sleep 0.05
	done
	LOOKASIDE="http://127.0.0.1:$(awk '{print $2}' "$out")"
}

# sigstore_keys: a cosign key pair ($T/k/cosign.pem|.pub), a Rekor key pair
# ($T/k/rekor.pem|.pub) and a Fulcio-like CA ($T/k/fulcio.pem) with a leaf for
# alice@example.com from https://issuer.example ($T/k/alice.pem|.key).
sigstore_keys() {
	mkdir -p "$T/k"
	PKI key "$T/k/cosign.pem"
	PKI key "$T/k/rekor.pem"
	PKI ca "$T/k" fulcio
	PKI leaf "$T/k" alice fulcio alice@example.com https://issuer.example
}

# signed_base REF: push the busybox base image to REF; prints its manifest digest.
push_base() {
	base_layout
	push base "$1"
	manifest_digest "$1"
}

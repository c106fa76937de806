# Trust before bytes: containers-policy.json, registries.d, GPG simple signing
# (skopeo --sign-by) and cosign/sigstore signatures (the sigstore-js reference
# implementation) against Debian's docker-registry; every refusal named and
# leaving nothing in the store.
. "$TOP/tests/lib/signing.sh"

# expect_policy_error JSON TEXT...: the policy is refused before any network use, naming TEXT.
expect_policy_error() {
	write_policy "$1"
	shift
	expect_fail 1 RV pull 127.0.0.1:1/never/fetched:1
	assert_contains "$ERR" "policy $T/policy.json: "
	for want in "$@"; do assert_contains "$ERR" "$want"; done
	assert_not_contains "$ERR" "127.0.0.1:1/v2"
}

test_policy_is_read_strictly_naming_file_and_json_path() {
	PKI key "$T/cosign.pem"
	echo "not a key" >"$T/junk.pub"
	local s='"example.com/app"'
	expect_policy_error '{"default": [{"type": "insecureAcceptAnything"}], "transports": {"docker": {"example.com/app": [{"type": "insecureAcceptAnything"}, {"type": "sigstoreSigned", "keyPath": "'"$T"'/cosign.pub", "signedIdentity": {"type": "matchExat"}}]}}}' \
		"transports.docker[$s][1].signedIdentity.type" 'unknown signedIdentity type "matchExat"'
	expect_policy_error '{"default": [{"type": "reject", "keyPth": "/x"}]}' 'default[0]: unknown field "keyPth"'
	expect_policy_error '{"default": []}' "default: the list of requirements must not be empty"
	expect_policy_error '{"default": [{"type": "reject"}], "transports": {"docker": {"example.com/app": []}}}' \
		"transports.docker[$s]: the list of requirements must not be empty"
	expect_policy_error '{"default": [{"type": "sigstoreSigned", "keyPath": "'"$T"'/junk.pub"}]}' \
		"default[0].keyPath (keyPath $T/junk.pub): not a PEM public key"
	expect_policy_error '{"default": [{"type": "sigstoreSigned", "keyPath": "'"$T"'/cosign.pub", "rekorPublicKeyData": "bm90IGEga2V5"}]}' \
		"default[0].rekorPublicKeyData"
	expect_policy_error '{"default": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "'"$T"'/cosign.pub"}]}' \
		"default[0].keyPath" "not an OpenPGP public key (a PEM file"
	expect_policy_error '{"default": [{"type": "sigstoreSigned", "keyPath": 7}]}' "default[0].keyPath: want a string"
	expect_policy_error '{"default": [{"type": "sigstoreSigned", "keyPath": "'"$T"'/cosign.pub", "keyData": "eA=="}]}' \
		"exactly one of keyPath, keyPaths, keyData, keyDatas, fulcio and pki"
	expect_policy_error '{"default": [{"type": "sigstoreSigned", "fulcio": {"caPath": "/x", "oidcIssuer": "i", "subjectEmail": "e"}}]}' \
		"fulcio needs a Rekor public key"
	expect_policy_error '{"default": [{"type": "reject"}], "transports": {"docker": {"*.example.com:5000": [{"type": "reject"}]}}}' \
		'transports.docker["*.example.com:5000"]' "must be *.domain, with no port or path"
	expect_policy_error '{"default": [{"type": "reject"}], "transports": {"docker": {"library/busybox": [{"type": "reject"}]}}}' \
		'scope "library/busybox" does not start with a registry host'
	expect_policy_error '{"default": [{"type": "reject"}], "default": [{"type": "reject"}]}' 'field "default" appears twice'
	expect_policy_error '{"transports": {}}' "default: missing"
	expect_policy_error '{"default": [{"type": "signedBy", "keyType": "X509Certificates", "keyPath": "/k"}]}' \
		'keyType "X509Certificates" is not implemented'
	expect_policy_error '{"default": [{"type": "sigstoreSigned", "keyPath": "'"$T"'/cosign.pub", "signedIdentity": {"type": "exactReference", "dockerReference": "example.com/app"}}]}' \
		"default[0].signedIdentity.dockerReference" "neither a tag nor a digest"
	expect_policy_error '{"default": [{"type": "reject"}' "invalid JSON"
	# other transports are checked as strictly, and an unknown transport is accepted (as containers/image)
	expect_policy_error '{"default": [{"type": "reject"}], "transports": {"oci": {"": [{"type": "rejct"}]}}}' \
		'transports.oci[""][0].type: unknown requirement type "rejct"'
	write_policy '{"default": [{"type": "reject"}], "transports": {"atomic": {"x": [{"type": "reject"}]}, "future-transport": {"x": [{"type": "reject"}]}}}'
	expect_fail 1 RV pull 127.0.0.1:1/never/fetched:1
	assert_contains "$ERR" "127.0.0.1:1"
}

test_policy_found_as_skopeo_finds_it_and_insecure_policy() {
	registry_start
	push_base "$REG/app/x:1" >/dev/null
	expect_fail 1 RI --tls-verify=false --policy "$T/nope.json" pull "$REG/app/x:1"
	assert_contains "$ERR" "no policy: $T/nope.json does not exist"
	assert_contains "$ERR" "--insecure-policy"
	# $HOME/.config/containers/policy.json comes before /etc/containers/policy.json
	mkdir -p "$T/home/.config/containers"
	echo '{"default": [{"type": "reject"}]}' >"$T/home/.config/containers/policy.json"
	HOME="$T/home" expect_fail 1 "$BUILD_DIR/bin/rune-image" --root "$T/store" --tls-verify=false pull "$REG/app/x:1"
	assert_contains "$ERR" "rejected by policy $T/home/.config/containers/policy.json (default): reject: the policy rejects every image in this scope"
	[ ! -d "$T/store/blobs" ] || [ -z "$(ls -A "$T/store/blobs/sha256" 2>/dev/null)" ] || fail "a refused pull stored blobs: $(ls "$T/store/blobs/sha256")"
	HOME="$T/home" "$BUILD_DIR/bin/rune-image" --root "$T/store" --tls-verify=false --insecure-policy pull "$REG/app/x:1" >/dev/null
	# in-memory policy content would come from a KBS: the library takes it (unit tests); the CLI reads files
}

test_scope_most_specific_first() {
	registry_start
	push_base "$REG/ns/app:1" >/dev/null
	push base "$REG/ns/other:1"
	push base "$REG/top:1"
	write_policy '{"default": [{"type": "reject"}], "transports": {"docker": {
		"": [{"type": "reject"}],
		"'"$REG"'": [{"type": "insecureAcceptAnything"}],
		"'"$REG"'/ns": [{"type": "reject"}],
		"'"$REG"'/ns/app": [{"type": "insecureAcceptAnything"}],
		"'"$REG"'/ns/other:2": [{"type": "insecureAcceptAnything"}]}}}'
	assert_eq "transports.docker[\"$REG/ns/app\"]" "$(RV verify --format json "$REG/ns/app:1" | jq -r .scope)"
	assert_eq "transports.docker[\"$REG/ns\"]" "$(RV verify --format json "$REG/ns/other:1" 2>/dev/null | jq -r .scope)"
	assert_eq "transports.docker[\"$REG\"]" "$(RV verify --format json "$REG/top:1" | jq -r .scope)"
	expect_fail 1 RV verify "$REG/ns/other:1"
	assert_contains "$ERR" "rejected by policy"
	# the transport default, then the global default
	write_policy '{"default": [{"type": "insecureAcceptAnything"}], "transports": {"docker": {"": [{"type": "reject"}]}}}'
	assert_eq 'transports.docker[""] false' "$(RV verify --format json "$REG/top:1" 2>/dev/null | jq -r '"\(.scope) \(.accepted)"')"
	write_policy '{"default": [{"type": "insecureAcceptAnything"}]}'
	assert_eq "default true" "$(RV verify --format json "$REG/top:1" | jq -r '"\(.scope) \(.accepted)"')"
}

test_gpg_simple_signing_with_skopeo_lookaside_on_disk_and_http() {
	registry_start
	gpg_key app app@example.com
	gpg_key other other@example.com
	base_layout
	write_registries_d "docker:
  $REG:
    lookaside: file://$T/sigs
    lookaside-staging: file://$T/sigs"
	push base "$REG/signed/app:1" --registries.d "$T/registries.d" --sign-by app@example.com
	push base "$REG/signed/unsigned:1"
	push base "$REG/signed/byother:1" --registries.d "$T/registries.d" --sign-by other@example.com
	local d
	d=$(manifest_digest "$REG/signed/app:1")
	[ -f "$T/sigs/signed/app@${d/:/=}/signature-1" ] || fail "skopeo wrote no signature: $(find "$T/sigs")"
	write_policy '{"default": [{"type": "reject"}], "transports": {"docker": {"'"$REG"'/signed": [
		{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "'"$T"'/app.gpg"}]}}}'
	# GNUPGHOME holds both keys: rune-image must use a keyring of the policy's keys only
	out=$(RV verify "$REG/signed/app:1")
	assert_contains "$out" "verdict:  accepted"
	assert_contains "$out" "identity $REG/signed/app:1"
	assert_eq "$d" "$(RV pull "$REG/signed/app:1")" "pulled digest"
	expect_fail 1 RV pull "$REG/signed/unsigned:1"
	assert_contains "$ERR" "image $REG/signed/unsigned:1 rejected by policy $T/policy.json (transports.docker[\"$REG/signed\"]): signedBy keyPath $T/app.gpg: no signature at file://$T/sigs/signed/unsigned@${d/:/=}/signature-1"
	expect_fail 1 RV pull "$REG/signed/byother:1"
	assert_contains "$ERR" "signature 1 (file://$T/sigs/signed/byother@"
	assert_contains "$ERR" "which the policy does not name"
	# the same signatures served over HTTP, the old key name "sigstore" for lookaside
	lookaside_serve "$T/sigs"
	write_registries_d "default-docker:
  sigstore: $LOOKASIDE"
	rm -rf "$T/store"
	assert_eq "$d" "$(RV pull "$REG/signed/app:1")" "pulled over HTTP lookaside"
	assert_contains "$(cat "$T/lookaside.log")" "/signed/app@${d/:/=}/signature-1"
	# keyData and keyPaths name the same key
	write_policy '{"default": [{"type": "signedBy", "keyType": "GPGKeys", "keyData": "'"$(base64 -w0 <"$T/app.gpg")"'"}]}'
	RV verify "$REG/signed/app:1" >/dev/null
	write_policy '{"default": [{"type": "signedBy", "keyType": "GPGKeys", "keyPaths": ["'"$T"'/other.gpg", "'"$T"'/app.gpg"]}]}'
	RV verify "$REG/signed/app:1" >/dev/null
	RV verify "$REG/signed/byother:1" >/dev/null
}

test_gpg_payload_rules() {
	registry_start
	gpg_key app app@example.com
	local d good
	d=$(push_base "$REG/p/app:1")
	write_registries_d "docker:
  $REG/p:
    lookaside: file://$T/sigs"
	write_policy '{"default": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "'"$T"'/app.gpg"}]}'
	local dir="$T/sigs/p/app@${d/:/=}"
	mkdir -p "$dir"
	sign_as() {
		gpg_sign_payload app@example.com "$1" "$dir/signature-1"
		expect_fail 1 RV pull "$REG/p/app:1"
		assert_contains "$ERR" "$2"
	}
	good='{"critical": {"type": "atomic container signature", "image": {"docker-manifest-digest": "'"$d"'"}, "identity": {"docker-reference": "'"$REG"'/p/app:1"}}, "optional": {"creator": "test", "future": 1}}'
	sign_as "${good/atomic container signature/cosign container image signature}" \
		'critical.type is "cosign container image signature", not "atomic container signature"'
	sign_as "${good/\"identity\"/\"extra\": 1, \"identity\"}" 'payload critical: unknown field "extra"'
	sign_as "${good/$d/sha256:$(printf '%064d' 0)}" "signs manifest sha256:$(printf '%064d' 0), not $d"
	sign_as "${good/p\/app:1/p\/app:2}" "identity $REG/p/app:2 does not match the pulled reference $REG/p/app:1"
	sign_as '{"x": 1, "critical": {"type": "atomic container signature", "image": {"docker-manifest-digest": "'"$d"'"}, "identity": {"docker-reference": "'"$REG"'/p/app:1"}}, "optional": {}}' \
		'payload: unknown field "x"'
	printf '%s' "$good" | gpg --batch --yes -u app@example.com --clearsign -o "$dir/signature-1"
	expect_fail 1 RV pull "$REG/p/app:1"
	assert_contains "$ERR" "signature 1"
	# a tampered message
	gpg_sign_payload app@example.com "$good" "$dir/signature-1"
	python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[len(b) // 2] ^= 1; open(sys.argv[1], "wb").write(b)' "$dir/signature-1"
	expect_fail 1 RV pull "$REG/p/app:1"
	assert_contains "$ERR" "signature 1 (file://$dir/signature-1)"
	# the good one, and unknown optional members are fine
	gpg_sign_payload app@example.com "$good" "$dir/signature-1"
	RV pull "$REG/p/app:1" >/dev/null
	# pulled by digest, matchRepoDigestOrExact accepts a signature for any tag of the repository
	RV verify "$REG/p/app@$d" >/dev/null
	# matchExact insists on the tag; exactReference and remapIdentity name it
	write_policy '{"default": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "'"$T"'/app.gpg", "signedIdentity": {"type": "matchExact"}}]}'
	expect_fail 1 RV verify "$REG/p/app@$d"
	assert_contains "$(RV verify --format json "$REG/p/app@$d" 2>/dev/null | jq -r '.requirements[0].signatures[0].detail')" "does not match"
	write_policy '{"default": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "'"$T"'/app.gpg", "signedIdentity": {"type": "exactReference", "dockerReference": "'"$REG"'/p/app:1"}}]}'
	RV verify "$REG/p/app@$d" >/dev/null
	push base "$REG/mirror/app:1"
	mkdir -p "$T/sigs/mirror/app@${d/:/=}" && cp "$dir/signature-1" "$T/sigs/mirror/app@${d/:/=}/"
	write_registries_d "default-docker:
  lookaside: file://$T/sigs"
	write_policy '{"default": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "'"$T"'/app.gpg", "signedIdentity": {"type": "remapIdentity", "prefix": "'"$REG"'/mirror", "signedPrefix": "'"$REG"'/p"}}]}'
	RV verify "$REG/mirror/app:1" >/dev/null
	write_policy '{"default": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "'"$T"'/app.gpg"}]}'
	expect_fail 1 RV verify "$REG/mirror/app:1"
}

test_registry_signature_extension() {
	registry_start
	gpg_key app app@example.com
	base_layout
	write_registries_d "default-docker:
  lookaside-staging: file://$T/sigs"
	push base "$REG/ext/app:1" --registries.d "$T/registries.d" --sign-by app@example.com
	proxy_start "$REG" --signatures "$T/sigs"
	# no lookaside configured: the registry's X-Registry-Supports-Signatures extension serves them
	rm -rf "$T/registries.d"
	# signed as $REG/ext/app:1, pulled as $PROXY/ext/app:1
	write_policy '{"default": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "'"$T"'/app.gpg",
		"signedIdentity": {"type": "remapIdentity", "prefix": "'"$PROXY"'", "signedPrefix": "'"$REG"'"}}]}'
	out=$(RV verify "$PROXY/ext/app:1") || fail "rejected: $out"
	assert_contains "$out" "signature extension /extensions/v2/ext/app/signatures/sha256:"
	assert_contains "$out" "verdict:  accepted"
	out=$(RV verify "$REG/ext/app:1" 2>&1) && fail "accepted without a signature source"
	assert_contains "$out" "no lookaside storage is configured for this image in registries.d"
}

test_lookaside_servers_that_misbehave_are_bounded() {
	registry_start
	gpg_key app app@example.com
	base_layout
	write_registries_d "default-docker:
  lookaside-staging: file://$T/sigs"
	push base "$REG/h/app:1" --registries.d "$T/registries.d" --sign-by app@example.com
	write_policy '{"default": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "'"$T"'/app.gpg"}]}'
	for mode in 500 garbage huge many; do
		lookaside_serve "$T/sigs" "$mode"
		write_registries_d "default-docker:
  lookaside: $LOOKASIDE"
		expect_fail 1 RV pull "$REG/h/app:1"
		case $mode in
		500) assert_contains "$ERR" "reading signatures failed: lookaside ($T/registries.d/test.yaml: default-docker): GET $LOOKASIDE/h/app@sha256=" && assert_contains "$ERR" "HTTP 500" ;;
		garbage) assert_contains "$ERR" "signature 1 ($LOOKASIDE/h/app@" && assert_contains "$ERR" "not a valid OpenPGP signed message" ;;
		huge) assert_contains "$ERR" "response exceeds the limit of 4194304 bytes" ;;
		many) assert_contains "$ERR" "more than 64 signatures; refusing to read more" ;;
		esac
		[ -z "$(ls -A "$T/store/blobs/sha256" 2>/dev/null)" ] || fail "$mode: a refused pull stored blobs"
	done
}

# policy_sigstore KEYFIELDS [IDENTITY]: a sigstoreSigned policy for every image.
policy_sigstore() {
	write_policy '{"default": [{"type": "sigstoreSigned", '"$1"', "signedIdentity": '"${2:-{\"type\": \"matchRepository\"\}}"'}]}'
}

test_cosign_sig_tags_signed_with_keys_and_logged_in_rekor() {
	registry_start
	sigstore_keys
	local d
	d=$(push_base "$REG/c/app:1")
	cosign_payload "$REG/c/app" "$d" >"$T/payload.json"
	FIXTURE sign --key "$T/k/cosign.pem" --rekor-key "$T/k/rekor.pem" --form sig --payload "$T/payload.json" \
		--verify-key "$T/k/cosign.pub" --out "$T/good.json"
	FIXTURE push-sig "$REG" c/app "$d" "$T/good.json"
	local keys='"keyPath": "'"$T"'/k/cosign.pub", "rekorPublicKeyPath": "'"$T"'/k/rekor.pub"'
	policy_sigstore "$keys"
	out=$(RV verify "$REG/c/app:1")
	assert_contains "$out" "signature 1 (tag ${d/:/-}.sig, layer 1): accepted: signed by keyPath $T/k/cosign.pub, Rekor entry"
	assert_eq "$d" "$(RV pull "$REG/c/app:1")"
	# cosign signs a repository, not a tag: the default identity rule accepts it by digest only
	write_policy '{"default": [{"type": "sigstoreSigned", '"$keys"'}]}'
	expect_fail 1 RV pull "$REG/c/app:1"
	assert_contains "$ERR" "identity $REG/c/app does not match the pulled reference $REG/c/app:1 (signedIdentity matchRepoDigestOrExact)"
	RV verify "$REG/c/app@$d" >/dev/null
	# keyData, keyDatas
	policy_sigstore '"keyData": "'"$(base64 -w0 <"$T/k/cosign.pub")"'", "rekorPublicKeyData": "'"$(base64 -w0 <"$T/k/rekor.pub")"'"'
	RV verify "$REG/c/app:1" >/dev/null
	PKI key "$T/k/other.pem"
	policy_sigstore '"keyDatas": ["'"$(base64 -w0 <"$T/k/other.pub")"'", "'"$(base64 -w0 <"$T/k/cosign.pub")"'"]'
	RV verify "$REG/c/app:1" >/dev/null
	# another key; a SET from another Rekor; no SET where the policy wants Rekor
	policy_sigstore '"keyPath": "'"$T"'/k/other.pub"'
	expect_fail 1 RV pull "$REG/c/app:1"
	assert_contains "$ERR" "signature 1 (tag ${d/:/-}.sig, layer 1): the signature does not verify with keyPath $T/k/other.pub"
	PKI key "$T/k/rekor2.pem"
	policy_sigstore '"keyPath": "'"$T"'/k/cosign.pub", "rekorPublicKeyPath": "'"$T"'/k/rekor2.pub"'
	expect_fail 1 RV pull "$REG/c/app:1"
	assert_contains "$ERR" "does not verify with the policy's Rekor key"
	FIXTURE sign --key "$T/k/cosign.pem" --form sig --payload "$T/payload.json" --out "$T/noset.json"
	push base "$REG/c/noset:1"
	cosign_payload "$REG/c/noset" "$d" >"$T/payload2.json"
	FIXTURE sign --key "$T/k/cosign.pem" --form sig --payload "$T/payload2.json" --verify-key "$T/k/cosign.pub" \
		--out "$T/noset.json"
	FIXTURE push-sig "$REG" c/noset "$d" "$T/noset.json"
	policy_sigstore "$keys"
	expect_fail 1 RV pull "$REG/c/noset:1"
	assert_contains "$ERR" "no Rekor SET (dev.sigstore.cosign/bundle annotation), and the policy requires Rekor"
	policy_sigstore '"keyPaths": ["'"$T"'/k/other.pub", "'"$T"'/k/cosign.pub"]'
	RV verify "$REG/c/noset:1" >/dev/null
	# more signatures than anyone signs with is a clear refusal, not a long walk
	push base "$REG/c/many:1"
	FIXTURE push-sig "$REG" c/many "$d" $(for _ in $(seq 65); do echo "$T/noset.json"; done)
	expect_fail 1 RV pull "$REG/c/many:1"
	assert_contains "$ERR" "cosign signatures: ${d/:/-}.sig: more than 64 signatures; refusing to read more"
	# a payload changed after signing; a wrong critical type; another digest; another repository
	push base "$REG/c/bad:1"
	FIXTURE sign --key "$T/k/cosign.pem" --form sig --payload "$T/payload.json" --tamper --out "$T/tampered.json"
	cosign_payload "$REG/c/bad" "$d" "atomic container signature" >"$T/p-type.json"
	cosign_payload "$REG/c/bad" "sha256:$(printf '%064d' 1)" >"$T/p-digest.json"
	cosign_payload "docker.io/other/app" "$d" >"$T/p-other.json"
	for p in type digest other; do
		FIXTURE sign --key "$T/k/cosign.pem" --form sig --payload "$T/p-$p.json" --out "$T/l-$p.json"
	done
	FIXTURE push-sig "$REG" c/bad "$d" "$T/tampered.json" "$T/l-type.json" "$T/l-digest.json" "$T/l-other.json"
	expect_fail 1 RV pull "$REG/c/bad:1"
	assert_contains "$ERR" "signature 1 (tag ${d/:/-}.sig, layer 1): the signature does not verify with keyPath"
	assert_contains "$ERR" "signature 2 (tag ${d/:/-}.sig, layer 2): payload critical.type is \"atomic container signature\", not \"cosign container image signature\""
	assert_contains "$ERR" "signature 3 (tag ${d/:/-}.sig, layer 3): signs manifest sha256:$(printf '%064d' 1), not $d"
	assert_contains "$ERR" "signature 4 (tag ${d/:/-}.sig, layer 4): identity docker.io/other/app does not match the pulled repository $REG/c/bad"
	RV --root "$T/refused" pull "$REG/c/bad:1" 2>/dev/null && fail "accepted"
	[ -z "$(ls -A "$T/refused/blobs/sha256" 2>/dev/null)" ] || fail "a refused pull stored blobs"
}

test_cosign_public_key_types() {
	registry_start
	local d kind
	d=$(push_base "$REG/k/app:1")
	cosign_payload "$REG/k/app" "$d" >"$T/payload.json"
	for kind in "--curve p384" --rsa --ed25519; do
		PKI key "$T/key.pem" $kind
		FIXTURE sign --key "$T/key.pem" --form sig --payload "$T/payload.json" --out "$T/l.json"
		# openssl's verdict first (@sigstore/verify cannot check an Ed25519 message signature)
		jq -r .payload "$T/l.json" | base64 -d >"$T/p.bin"
		jq -r '.annotations["dev.cosignproject.cosign/signature"]' "$T/l.json" | base64 -d >"$T/sig.bin"
		if [ "$kind" = --ed25519 ]; then
			openssl pkeyutl -verify -pubin -inkey "$T/key.pub" -rawin -in "$T/p.bin" -sigfile "$T/sig.bin" >/dev/null
		else
			openssl dgst -sha256 -verify "$T/key.pub" -signature "$T/sig.bin" "$T/p.bin" >/dev/null
		fi || fail "$kind: openssl does not accept the fixture"
		FIXTURE push-sig "$REG" k/app "$d" "$T/l.json"
		policy_sigstore '"keyPath": "'"$T"'/key.pub"'
		out=$(RV verify "$REG/k/app:1") || fail "$kind: $out"
		assert_contains "$out" "verdict:  accepted"
	done
}

test_cosign_keyless_fulcio_certificates() {
	registry_start
	sigstore_keys
	local d now
	now=$(date +%s)
	d=$(push_base "$REG/f/app:1")
	local fulcio='"fulcio": {"caPath": "'"$T"'/k/fulcio.pem", "oidcIssuer": "https://issuer.example", "subjectEmail": "alice@example.com"}, "rekorPublicKeyPath": "'"$T"'/k/rekor.pub"'
	policy_sigstore "$fulcio"
	# keyless_sig REPO LEAF [no-rekor] [verify]: a .sig for REPO signed with $T/k/LEAF.{key,pem}
	keyless_sig() {
		push base "$REG/f/$1:1"
		cosign_payload "$REG/f/$1" "$d" >"$T/p-$1.json"
		FIXTURE sign --key "$T/k/$2.key" --cert "$T/k/$2.pem" --chain "$T/k/fulcio.pem" \
			${3:+--rekor-key "$T/k/rekor.pem"} ${4:+--verify-ca "$T/k/fulcio.pem" --email alice@example.com --issuer https://issuer.example} \
			--form sig --payload "$T/p-$1.json" --out "$T/l-$1.json"
		FIXTURE push-sig "$REG" "f/$1" "$d" "$T/l-$1.json"
	}
	keyless_sig app alice rekor verify
	out=$(RV verify "$REG/f/app:1")
	assert_contains "$out" "accepted: signed by a certificate for alice@example.com (issued by fulcio), Rekor entry"
	# another CA; another email; another OIDC issuer; expired at signing time; no Rekor entry
	PKI ca "$T/k" evil
	PKI leaf "$T/k" mallory evil alice@example.com https://issuer.example
	PKI leaf "$T/k" bob fulcio bob@example.com https://issuer.example
	PKI leaf "$T/k" google fulcio alice@example.com https://accounts.google.com
	PKI leaf "$T/k" old fulcio alice@example.com https://issuer.example --from $((now - 7200)) --to $((now - 3600))
	keyless_sig otherca mallory rekor
	keyless_sig bob bob rekor
	keyless_sig google google rekor
	keyless_sig expired old rekor
	keyless_sig nolog alice
	expect_fail 1 RV pull "$REG/f/otherca:1"
	assert_contains "$ERR" "the signing certificate does not chain to caPath $T/k/fulcio.pem"
	expect_fail 1 RV pull "$REG/f/bob:1"
	assert_contains "$ERR" "the certificate is for bob@example.com, not alice@example.com"
	expect_fail 1 RV pull "$REG/f/google:1"
	assert_contains "$ERR" "the certificate's OIDC issuer is https://accounts.google.com, not https://issuer.example"
	expect_fail 1 RV pull "$REG/f/expired:1"
	assert_contains "$ERR" "the signing certificate was not valid at signing time"
	expect_fail 1 RV pull "$REG/f/nolog:1"
	assert_contains "$ERR" "no Rekor SET"
	# the reference verifier refuses them too
	expect_fail 1 FIXTURE sign --key "$T/k/mallory.key" --cert "$T/k/mallory.pem" --rekor-key "$T/k/rekor.pem" \
		--verify-ca "$T/k/fulcio.pem" --email alice@example.com --issuer https://issuer.example \
		--form sig --payload "$T/p-otherca.json" --out "$T/x.json"
	expect_fail 1 FIXTURE sign --key "$T/k/old.key" --cert "$T/k/old.pem" --rekor-key "$T/k/rekor.pem" \
		--verify-ca "$T/k/fulcio.pem" --email alice@example.com --issuer https://issuer.example \
		--form sig --payload "$T/p-expired.json" --out "$T/x.json"
	# pki: a user's CA with an intermediate, no Rekor needed
	PKI intermediate "$T/k" team fulcio
	PKI leaf "$T/k" carol team carol@example.com https://issuer.example --hostname build.example.com
	cosign_payload "$REG/f/app" "$d" >"$T/p-pki.json"
	FIXTURE sign --key "$T/k/carol.key" --cert "$T/k/carol.pem" --chain "$T/k/team.pem" --form sig \
		--payload "$T/p-pki.json" --out "$T/l-pki.json"
	# openssl's verdict on the chain and the signature
	openssl verify -CAfile "$T/k/fulcio.pem" -untrusted "$T/k/team.pem" -purpose any "$T/k/carol.pem" >/dev/null ||
		fail "openssl does not accept carol's chain"
	openssl x509 -in "$T/k/carol.pem" -pubkey -noout >"$T/k/carol.pub"
	jq -r '.annotations["dev.cosignproject.cosign/signature"]' "$T/l-pki.json" | base64 -d >"$T/sig.bin"
	openssl dgst -sha256 -verify "$T/k/carol.pub" -signature "$T/sig.bin" "$T/p-pki.json" >/dev/null ||
		fail "openssl does not accept carol's signature"
	push base "$REG/f/pki:1"
	FIXTURE push-sig "$REG" f/pki "$d" "$T/l-pki.json"
	write_policy '{"default": [{"type": "sigstoreSigned", "pki": {"caRootsPath": "'"$T"'/k/fulcio.pem", "subjectHostname": "build.example.com", "subjectEmail": "carol@example.com"}, "signedIdentity": {"type": "exactRepository", "dockerRepository": "'"$REG"'/f/app"}}]}'
	RV verify "$REG/f/pki:1" >/dev/null
	write_policy '{"default": [{"type": "sigstoreSigned", "pki": {"caRootsPath": "'"$T"'/k/fulcio.pem", "subjectHostname": "other.example.com"}}]}'
	expect_fail 1 RV verify "$REG/f/pki@$d"
	assert_contains "$(RV verify --format json "$REG/f/pki@$d" 2>/dev/null | jq -r '.requirements[0].signatures[0].detail')" \
		"the certificate is for host build.example.com, not other.example.com"
}

test_sigstore_bundles_found_through_the_referrers_tag() {
	registry_start
	sigstore_keys
	local d
	d=$(push_base "$REG/b/app:1")
	skopeo inspect --raw --tls-verify=false "docker://$REG/b/app:1" >"$T/manifest.json"
	# cosign 3's forms: a DSSE in-toto statement, keyless; a message signature over the manifest, with a key
	FIXTURE sign --key "$T/k/alice.key" --cert "$T/k/alice.pem" --rekor-key "$T/k/rekor.pem" --form dsse --digest "$d" \
		--verify-ca "$T/k/fulcio.pem" --email alice@example.com --issuer https://issuer.example --out "$T/dsse.json"
	FIXTURE sign --key "$T/k/cosign.pem" --rekor-key "$T/k/rekor.pem" --form message --manifest "$T/manifest.json" \
		--verify-key "$T/k/cosign.pub" --out "$T/msg.json"
	FIXTURE attach "$REG/b/app" "$d" "$T/dsse.json"
	FIXTURE attach "$REG/b/app" "$d" "$T/msg.json"
	assert_eq 2 "$(skopeo inspect --raw --tls-verify=false "docker://$REG/b/app:${d/:/-}" | jq '.manifests | length')" "referrers tag entries"
	policy_sigstore '"fulcio": {"caPath": "'"$T"'/k/fulcio.pem", "oidcIssuer": "https://issuer.example", "subjectEmail": "alice@example.com"}, "rekorPublicKeyPath": "'"$T"'/k/rekor.pub"'
	out=$(RV verify "$REG/b/app:1")
	assert_contains "$out" "accepted: signed by a certificate for alice@example.com (issued by fulcio), Rekor entry"
	assert_contains "$out" "the bundle is signed with a key; the policy wants a certificate"
	assert_eq "$d" "$(RV pull "$REG/b/app:1")"
	policy_sigstore '"keyPath": "'"$T"'/k/cosign.pub", "rekorPublicKeyPath": "'"$T"'/k/rekor.pub"'
	assert_contains "$(RV verify "$REG/b/app:1")" "accepted: signed by keyPath $T/k/cosign.pub, Rekor entry"
	# a bundle signs the digest only: an identity rule naming a reference cannot be met
	policy_sigstore '"keyPath": "'"$T"'/k/cosign.pub"' '{"type": "exactReference", "dockerReference": "'"$REG"'/b/app:1"}'
	expect_fail 1 RV pull "$REG/b/app:1"
	assert_contains "$ERR" "names no identity (it signs the digest only), which signedIdentity exactReference does not accept"
	# bundles for another image: another manifest's digest, another in-toto subject, another subject name
	push base "$REG/b/other:1"
	printf '{"schemaVersion":2}' >"$T/other-manifest.json"
	FIXTURE sign --key "$T/k/cosign.pem" --form message --manifest "$T/other-manifest.json" --out "$T/m2.json"
	FIXTURE sign --key "$T/k/cosign.pem" --form dsse --digest "sha256:$(printf '%064d' 2)" --out "$T/d2.json"
	FIXTURE sign --key "$T/k/cosign.pem" --form dsse --digest "$d" --subject-name "$REG/b/app" --out "$T/d3.json"
	for b in m2 d2 d3; do FIXTURE attach "$REG/b/other" "$d" "$T/$b.json"; done
	policy_sigstore '"keyPath": "'"$T"'/k/cosign.pub"'
	expect_fail 1 RV pull "$REG/b/other:1"
	assert_contains "$ERR" "the bundle signs sha256:$(printf '{"schemaVersion":2}' | sha256sum | cut -d' ' -f1), not this image's manifest"
	assert_contains "$ERR" "the bundle's in-toto statement names sha256:$(printf '%064d' 2), not this image's manifest"
	assert_contains "$ERR" "identity $REG/b/app does not match the pulled repository $REG/b/other"
	RV --root "$T/refused" pull "$REG/b/other:1" 2>/dev/null && fail "accepted"
	[ -z "$(ls -A "$T/refused/blobs/sha256" 2>/dev/null)" ] || fail "a refused pull stored blobs"
}

test_sigstore_bundles_through_the_referrers_api() {
	registry_start
	sigstore_keys
	local d
	d=$(push_base "$REG/r/app:1")
	FIXTURE sign --key "$T/k/cosign.pem" --rekor-key "$T/k/rekor.pem" --form dsse --digest "$d" \
		--verify-key "$T/k/cosign.pub" --out "$T/dsse.json"
	FIXTURE attach "$REG/r/app" "$d" "$T/dsse.json"
	proxy_start "$REG" --referrers
	policy_sigstore '"keyPath": "'"$T"'/k/cosign.pub", "rekorPublicKeyPath": "'"$T"'/k/rekor.pub"'
	out=$(RV verify "$PROXY/r/app:1")
	assert_contains "$out" "verdict:  accepted"
	assert_contains "$(cat "$T/proxy.log")" "GET /v2/r/app/referrers/$d?artifactType=application%2Fvnd.dev.sigstore.bundle.v0.3%2Bjson"
	assert_not_contains "$(cat "$T/proxy.log")" "manifests/${d/:/-} "
	# without the API (docker-registry answers 404) the tag is read
	: >"$T/proxy.log"
	proxy_start "$REG"
	RV verify "$PROXY/r/app:1" >/dev/null
	assert_contains "$(cat "$T/proxy.log")" "GET /v2/r/app/manifests/${d/:/-} "
}

test_registries_d_scopes_conflicts_and_attachments() {
	registry_start
	sigstore_keys
	local d
	d=$(push_base "$REG/s/app:1")
	cosign_payload "$REG/s/app" "$d" >"$T/payload.json"
	FIXTURE sign --key "$T/k/cosign.pem" --form sig --payload "$T/payload.json" --verify-key "$T/k/cosign.pub" \
		--out "$T/l.json"
	FIXTURE push-sig "$REG" s/app "$d" "$T/l.json"
	policy_sigstore '"keyPath": "'"$T"'/k/cosign.pub"'
	write_registries_d "docker:
  $REG/s:
    use-sigstore-attachments: false" a
	expect_fail 1 RV pull "$REG/s/app:1"
	assert_contains "$ERR" "no cosign signatures read: use-sigstore-attachments is false ($T/registries.d/a.yaml: docker[\"$REG/s\"])"
	# the most specific scope wins
	write_registries_d "docker:
  $REG/s/app:
    use-sigstore-attachments: true" b
	RV verify "$REG/s/app:1" >/dev/null
	# one scope in two files is an error naming both
	write_registries_d "docker:
  $REG/s:
    lookaside: https://sigs.example" c
	expect_fail 1 RV pull "$REG/s/app:1"
	assert_contains "$ERR" "registries.d: docker[\"$REG/s\"] is defined both in $T/registries.d/a.yaml and in $T/registries.d/c.yaml"
	rm "$T/registries.d/c.yaml"
	write_registries_d "default-docker:
  lookaside: ftp://sigs.example" c
	expect_fail 1 RV pull "$REG/s/app:1"
	assert_contains "$ERR" "registries.d $T/registries.d/c.yaml: default-docker.lookaside: want a file://, http:// or https:// URL"
	printf 'docker: [unclosed\n' >"$T/registries.d/c.yaml"
	expect_fail 1 RV pull "$REG/s/app:1"
	assert_contains "$ERR" "registries.d $T/registries.d/c.yaml: line"
}

test_refusals_store_and_unpack_nothing() {
	registry_start
	push_base "$REG/n/app:1" >/dev/null
	write_policy '{"default": [{"type": "reject"}]}'
	expect_fail 1 RV unpack "$REG/n/app:1" "$T/b"
	assert_contains "$ERR" "rejected by policy"
	[ ! -e "$T/b/rootfs" ] && [ ! -e "$T/b/config.json" ] || fail "a refused unpack left a bundle: $(ls -A "$T/b")"
	assert_eq "[]" "$(RI list --format json | jq -c .)" "nothing recorded"
	[ -z "$(ls -A "$T/store/blobs/sha256" 2>/dev/null)" ] || fail "a refused unpack stored blobs"
	# an image the store already holds is judged again by the policy in force
	RI --tls-verify=false --insecure-policy pull "$REG/n/app:1" >/dev/null
	expect_fail 1 RV unpack "$REG/n/app:1" "$T/b"
	assert_contains "$ERR" "rejected by policy $T/policy.json (default)"
	[ ! -e "$T/b/rootfs" ] || fail "a refused unpack of a stored image left a rootfs"
	RI --tls-verify=false --insecure-policy unpack "$REG/n/app:1" "$T/b" >/dev/null
	[ -x "$T/b/rootfs/bin/busybox" ] || fail "no rootfs after an accepted unpack"
}

test_index_signed_at_the_top_or_for_the_platform() {
	registry_start
	gpg_key app app@example.com
	base_layout
	layer_from '[{"name": "platform", "data": "arm64"}]' base
	skopeo copy -q "oci:$T/layout:base" "oci:$T/layout:arm" >/dev/null
	layer_from '[{"name": "platform", "data": "amd64"}]' base
	python3 "$TOP/tests/helpers/ocitool.py" index "$T/layout" multi base=linux/amd64 arm=linux/arm64/v8
	write_registries_d "default-docker:
  lookaside: file://$T/sigs
  lookaside-staging: file://$T/sigs"
	skopeo copy -q --all --dest-tls-verify=false --registries.d "$T/registries.d" --sign-by app@example.com \
		"oci:$T/layout:multi" "docker://$REG/i/top:1" >/dev/null
	write_policy '{"default": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "'"$T"'/app.gpg"}]}'
	local top plat
	top=$(manifest_digest "$REG/i/top:1")
	[ -f "$T/sigs/i/top@${top/:/=}/signature-1" ] || fail "skopeo did not sign the index"
	out=$(RV verify --format json "$REG/i/top:1")
	plat=$(echo "$out" | jq -r .manifestDigest)
	[ "$plat" != "$top" ] || fail "no platform manifest chosen"
	assert_eq true "$(echo "$out" | jq .accepted)" "a signature over the index"
	RV unpack "$REG/i/top:1" "$T/b" >/dev/null
	# a signature over the platform's manifest only
	skopeo copy -q --all --dest-tls-verify=false "oci:$T/layout:multi" "docker://$REG/i/plat:1" >/dev/null
	mkdir -p "$T/sigs/i/plat@${plat/:/=}"
	gpg_sign_payload app@example.com '{"critical": {"type": "atomic container signature", "image": {"docker-manifest-digest": "'"$plat"'"}, "identity": {"docker-reference": "'"$REG"'/i/plat:1"}}, "optional": {}}' \
		"$T/sigs/i/plat@${plat/:/=}/signature-1"
	assert_eq true "$(RV verify --format json "$REG/i/plat:1" | jq .accepted)" "a signature over the platform manifest"
	# a signature over another platform's manifest is not this one's
	local arm
	arm=$(skopeo inspect --raw --tls-verify=false "docker://$REG/i/plat:1" | jq -r '.manifests[] | select(.platform.architecture == "arm64") | .digest')
	gpg_sign_payload app@example.com '{"critical": {"type": "atomic container signature", "image": {"docker-manifest-digest": "'"$arm"'"}, "identity": {"docker-reference": "'"$REG"'/i/plat:1"}}, "optional": {}}' \
		"$T/sigs/i/plat@${plat/:/=}/signature-1"
	expect_fail 1 RV verify "$REG/i/plat:1"
	assert_contains "$(RV verify "$REG/i/plat:1" 2>/dev/null)" "signs manifest $arm, not $plat"
}

# Encrypted images (ocicrypt) made by Debian's skopeo — JWE with RSA and EC
# keys, PKCS7, PGP — and by tests/helpers/ocicrypt.py where skopeo cannot
# (uncompressed layers, key-provider recipients, hostile variants; skopeo
# --decryption-key opens the helper's output, so the helper is right). What
# rune-image unpacks must equal what skopeo --decryption-key + umoci unpack
# give, and a failure must leave an empty bundle and ciphertext only.
. "$TOP/tests/lib/registry.sh"

OCICRYPT() { /usr/bin/python3 "$TOP/tests/helpers/ocicrypt.py" "$@"; }

# enc_layout: $T/layout:base = busybox (gzip) + a zstd layer with a secret + an uncompressed layer.
enc_layout() {
	base_layout
	SECRET="rune-plaintext-marker-$RANDOM$RANDOM"
	layer_from '[{"name": "secret", "type": "dir"}, {"name": "secret/s.txt", "data": "'"$SECRET"'", "mode": "0600", "uid": 7, "gid": 8},
		{"name": "secret/link", "type": "symlink", "target": "s.txt"}]' base zstd
	layer_from '[{"name": "plain.txt", "data": "uncompressed layer"}, {"name": "secret/more", "data": "more"}]' base none
}

# tree DIR: what a rootfs is, for comparison (path, type and mode, owner, size, link, content hash).
tree() {
	(cd "$1" && find . -mindepth 1 -printf '%p %M %U:%G %s %l\n' | sort && find . -type f -print0 | sort -z | xargs -0 sha256sum)
}

# same_as_skopeo REF BUNDLE KEY...: skopeo --decryption-key + umoci unpack give the same tree.
same_as_skopeo() {
	local ref=$1 bundle=$2 keys=()
	shift 2
	for k in "$@"; do keys+=(--decryption-key "$k"); done
	rm -rf "$T/sk" "$T/umoci"
	skopeo copy -q --src-tls-verify=false "${keys[@]}" "docker://$ref" "oci:$T/sk:x" >/dev/null
	# umoci 0.4.7 knows no zstd: the same tars, gzipped
	python3 "$TOP/tests/helpers/ocitool.py" zstd-to-gzip "$T/sk" x
	umoci unpack --image "$T/sk:x" "$T/umoci" >/dev/null
	diff <(tree "$T/umoci/rootfs") <(tree "$bundle/rootfs") >"$T/tree.diff" || fail "rune-image and skopeo+umoci differ: $(head -20 "$T/tree.diff")"
}

# nothing_kept BUNDLE: a failed unpack leaves no rootfs, no staging tree, and the store ciphertext only.
nothing_kept() {
	[ ! -e "$1/rootfs" ] && [ ! -e "$1/config.json" ] || fail "a failed unpack left $(ls -A "$1")"
	[ -z "$(find "$1" -maxdepth 1 -name '.unpack-*' 2>/dev/null)" ] || fail "a staging tree was left in $1"
	! grep -rqa "$SECRET" "$T/store" 2>/dev/null || fail "plaintext in the store"
}

test_jwe_rsa_and_ec_keys_gzip_zstd_and_plain_layers() {
	registry_start
	enc_layout
	openssl genrsa -out "$T/rsa.pem" 3072 2>/dev/null
	openssl rsa -in "$T/rsa.pem" -pubout -out "$T/rsa.pub" 2>/dev/null
	openssl ecparam -name secp384r1 -genkey -noout -out "$T/ec.pem"
	openssl ec -in "$T/ec.pem" -pubout -out "$T/ec.pub" 2>/dev/null
	push base "$REG/e/rsa:1" --encryption-key "jwe:$T/rsa.pub"
	push base "$REG/e/ec:1" --encryption-key "jwe:$T/ec.pub"
	assert_eq '["application/vnd.oci.image.layer.v1.tar+gzip+encrypted","application/vnd.oci.image.layer.v1.tar+zstd+encrypted","application/vnd.oci.image.layer.v1.tar+gzip+encrypted"]' \
		"$(RI --tls-verify=false pull "$REG/e/rsa:1" >/dev/null && RI inspect "$REG/e/rsa:1" | jq -c '[.layers[].mediaType]')" "media types skopeo wrote"
	assert_eq '{"jwe":1}' "$(RI inspect "$REG/e/rsa:1" | jq -c '.layers[1].recipients')" "inspect: schemes and recipients"
	# the store holds what the registry holds: ciphertext
	! grep -rqa "$SECRET" "$T/store" || fail "plaintext in the store after a pull"
	RI --tls-verify=false --decryption-key "$T/rsa.pem" unpack "$REG/e/rsa:1" "$T/b1" >/dev/null
	assert_eq "$SECRET" "$(cat "$T/b1/rootfs/secret/s.txt")"
	same_as_skopeo "$REG/e/rsa:1" "$T/b1" "$T/rsa.pem"
	! grep -rqa "$SECRET" "$T/store" || fail "plaintext in the store after an unpack"
	# a SEC1 key for rune-image; skopeo's ocicrypt reads PKCS#8 only
	RI --tls-verify=false --decryption-key "$T/ec.pem" unpack "$REG/e/ec:1" "$T/b2" >/dev/null
	openssl pkcs8 -topk8 -nocrypt -in "$T/ec.pem" -out "$T/ec8.pem"
	same_as_skopeo "$REG/e/ec:1" "$T/b2" "$T/ec8.pem"
	# an uncompressed layer (tar+encrypted: skopeo compresses what it pushes) by the spec's helper
	cp -a "$T/layout" "$T/l2"
	OCICRYPT "$T/l2" base enc --recipient "jwe:$T/rsa.pub" --layer 2
	skopeo copy -q --dest-tls-verify=false "oci:$T/l2:enc" "docker://$REG/e/plain:1" >/dev/null
	assert_eq "application/vnd.oci.image.layer.v1.tar+encrypted" \
		"$(skopeo inspect --raw --tls-verify=false "docker://$REG/e/plain:1" | jq -r '.layers[2].mediaType')"
	RI --tls-verify=false --decryption-key "$T/rsa.pem" unpack --layers "$REG/e/plain:1" "$T/b3" >/dev/null
	assert_eq "uncompressed layer" "$(cat "$T/b3/layers/002/plain.txt")"
	RI --tls-verify=false --decryption-key "$T/rsa.pem" unpack "$REG/e/plain:1" "$T/b4" >/dev/null
	same_as_skopeo "$REG/e/plain:1" "$T/b4" "$T/rsa.pem"
	# keys in other forms: PKCS#1 DER, password-protected PKCS#8, JWK
	openssl rsa -in "$T/rsa.pem" -outform DER -out "$T/rsa.der" 2>/dev/null
	openssl pkcs8 -topk8 -in "$T/rsa.pem" -passout pass:s3cret -out "$T/rsa-enc.pem"
	/usr/bin/python3 -c 'import sys; from jwcrypto import jwk; print(jwk.JWK.from_pem(open(sys.argv[1], "rb").read()).export())' "$T/ec.pem" >"$T/ec.jwk"
	RI --root "$T/s2" --tls-verify=false --decryption-key "$T/rsa.der" unpack "$REG/e/rsa:1" "$T/b5" >/dev/null
	RI --root "$T/s2" --tls-verify=false --decryption-key "$T/rsa-enc.pem:s3cret" unpack "$REG/e/rsa:1" "$T/b6" >/dev/null
	RI --root "$T/s2" --tls-verify=false --decryption-key "$T/ec.jwk" unpack "$REG/e/ec:1" "$T/b7" >/dev/null
	expect_fail 1 RI --root "$T/s2" --tls-verify=false --decryption-key "$T/rsa-enc.pem" unpack "$REG/e/rsa:1" "$T/b8"
	assert_contains "$ERR" "--decryption-key $T/rsa-enc.pem: not a private key"
	assert_contains "$ERR" "a password-protected key needs KEY:PASSWORD"
}

test_pkcs7_pgp_and_some_layers_only() {
	registry_start
	enc_layout
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/p7.key" -out "$T/p7.crt" -days 2 -subj "/CN=rune-test" 2>/dev/null
	push base "$REG/e/p7:1" --encryption-key "pkcs7:$T/p7.crt"
	RI --tls-verify=false --decryption-key "$T/p7.key" --decryption-key "$T/p7.crt" unpack "$REG/e/p7:1" "$T/b1" >/dev/null
	same_as_skopeo "$REG/e/p7:1" "$T/b1" "$T/p7.key" "$T/p7.crt"
	expect_fail 1 RI --tls-verify=false --decryption-key "$T/p7.key" unpack "$REG/e/p7:1" "$T/b2"
	assert_contains "$ERR" "no certificate with its private key given"
	# standard CMS (ocicrypt writes its own GCM encoding; OpenSSL writes this one)
	cp -a "$T/layout" "$T/l-cms"
	OCICRYPT "$T/l-cms" base enc --recipient "pkcs7:$T/p7.crt"
	skopeo copy -q --dest-tls-verify=false "oci:$T/l-cms:enc" "docker://$REG/e/cms:1" >/dev/null
	RI --tls-verify=false --decryption-key "$T/p7.key" --decryption-key "$T/p7.crt" unpack "$REG/e/cms:1" "$T/b2" >/dev/null
	assert_eq "$SECRET" "$(cat "$T/b2/rootfs/secret/s.txt")"
	# PGP: a throwaway key with an encryption subkey in a private keyring
	export GNUPGHOME="$T/gnupg"
	mkdir -p -m 700 "$GNUPGHOME"
	printf '%%no-protection\nKey-Type: RSA\nKey-Length: 2048\nSubkey-Type: RSA\nSubkey-Length: 2048\nName-Real: enc\nName-Email: enc@example.com\nExpire-Date: 0\n%%commit\n' |
		gpg --batch --gen-key 2>/dev/null
	gpg --batch --export-secret-keys --armor enc@example.com >"$T/secret.asc"
	push base "$REG/e/pgp:1" --encryption-key pgp:enc@example.com
	unset GNUPGHOME
	RI --tls-verify=false --decryption-key "$T/secret.asc" unpack "$REG/e/pgp:1" "$T/b3" >/dev/null
	assert_eq "$SECRET" "$(cat "$T/b3/rootfs/secret/s.txt")"
	[ -z "$(ls -d /tmp/rune-gpg-* 2>/dev/null)" ] || fail "private keyrings left: $(ls -d /tmp/rune-gpg-*)"
	! pgrep -f "gpg-agent --homedir /tmp/rune-gpg" >/dev/null || fail "a gpg-agent of ours still runs"
	# only some layers encrypted
	push base "$REG/e/some:1" --encryption-key "pkcs7:$T/p7.crt" --encrypt-layer 1
	assert_eq "false true false" "$(RI --tls-verify=false pull "$REG/e/some:1" >/dev/null && RI inspect "$REG/e/some:1" | jq -r '[.layers[].encrypted] | join(" ")')"
	RI --tls-verify=false --decryption-key "$T/p7.key" --decryption-key "$T/p7.crt" unpack "$REG/e/some:1" "$T/b4" >/dev/null
	same_as_skopeo "$REG/e/some:1" "$T/b4" "$T/p7.key" "$T/p7.crt"
}

test_key_provider_cmd_protocol() {
	registry_start
	enc_layout
	head -c 32 /dev/urandom >"$T/kek"
	provider_conf() {
		echo '{"key-providers": {"testprov": {"cmd": {"path": "/usr/bin/python3", "args": ["'"$TOP"'/tests/helpers/keyprovider.py", "--kek", "'"$T"'/kek", "--mode", "'"$1"'"]}},
			"grpcprov": {"grpc": "127.0.0.1:1"}}}' >"$T/kp-$1.json"
	}
	for m in ok hang crash garbage huge; do provider_conf "$m"; done
	OCICRYPT_KEYPROVIDER_CONFIG="$T/kp-ok.json" OCICRYPT "$T/layout" base enc --recipient provider:testprov:params1
	skopeo copy -q --dest-tls-verify=false "oci:$T/layout:enc" "docker://$REG/e/prov:1" >/dev/null
	assert_eq '{"provider.testprov":1}' "$(RI --tls-verify=false pull "$REG/e/prov:1" >/dev/null && RI inspect "$REG/e/prov:1" | jq -c '.layers[0].recipients')"
	OCICRYPT_KEYPROVIDER_CONFIG="$T/kp-ok.json" RI --tls-verify=false --decryption-key provider:testprov unpack "$REG/e/prov:1" "$T/b1" >/dev/null
	assert_eq "$SECRET" "$(cat "$T/b1/rootfs/secret/s.txt")"
	for m in hang crash garbage huge; do
		OCICRYPT_KEYPROVIDER_CONFIG="$T/kp-$m.json" expect_fail 1 RI --tls-verify=false unpack "$REG/e/prov:1" "$T/b-$m"
		assert_contains "$ERR" "is encrypted (provider.testprov) and no key opens it; tried testprov (provider): key provider testprov (/usr/bin/python3): "
		case $m in
		hang) assert_contains "$ERR" "no answer within 10 s" ;;
		crash) assert_contains "$ERR" "killed by signal 6 (it said: keyprovider: simulated crash)" ;;
		garbage) assert_contains "$ERR" 'the answer is not {"keyunwrapresults": {"optsdata": base64}}' ;;
		huge) assert_contains "$ERR" "an answer larger than 1048576 bytes" ;;
		esac
		nothing_kept "$T/b-$m"
	done
	# a grpc provider is refused, not ignored
	OCICRYPT_KEYPROVIDER_CONFIG="$T/kp-ok.json" OCICRYPT "$T/layout" base enc2 --recipient provider:testprov
	python3 - "$T/layout" <<'EOF'
import json, sys, hashlib, os
layout = sys.argv[1]
idx = json.load(open(layout + "/index.json"))
d = next(m for m in idx["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == "enc2")
path = layout + "/blobs/sha256/" + d["digest"][7:]
m = json.load(open(path))
for l in m["layers"]:
    l["annotations"]["org.opencontainers.image.enc.keys.provider.grpcprov"] = l["annotations"].pop("org.opencontainers.image.enc.keys.provider.testprov")
data = json.dumps(m).encode()
h = hashlib.sha256(data).hexdigest()
open(layout + "/blobs/sha256/" + h, "wb").write(data)
d["digest"], d["size"] = "sha256:" + h, len(data)
json.dump(idx, open(layout + "/index.json", "w"))
EOF
	skopeo copy -q --dest-tls-verify=false "oci:$T/layout:enc2" "docker://$REG/e/grpc:1" >/dev/null
	OCICRYPT_KEYPROVIDER_CONFIG="$T/kp-ok.json" expect_fail 1 RI --tls-verify=false unpack "$REG/e/grpc:1" "$T/b2"
	assert_contains "$ERR" "a grpc provider (127.0.0.1:1); rune-image speaks the cmd protocol only"
}

test_hostile_encrypted_layers_leave_nothing() {
	registry_start
	enc_layout
	openssl genrsa -out "$T/rsa.pem" 2048 2>/dev/null
	openssl rsa -in "$T/rsa.pem" -pubout -out "$T/rsa.pub" 2>/dev/null
	openssl genrsa -out "$T/other.pem" 2048 2>/dev/null
	push base "$REG/h/good:1" --encryption-key "jwe:$T/rsa.pub"
	local d
	d=$(skopeo inspect --raw --tls-verify=false "docker://$REG/h/good:1" | jq -r '.layers[1].digest')
	# a wrong key: the layer, its schemes, the keys tried
	expect_fail 1 RI --tls-verify=false --decryption-key "$T/other.pem" unpack "$REG/h/good:1" "$T/b0"
	assert_contains "$ERR" "is encrypted (jwe) and no key opens it; tried --decryption-key $T/other.pem (jwe): no recipient matches the key"
	nothing_kept "$T/b0"
	# variants of the helper's: each refused by name, nothing kept
	hostile() {
		local name=$1 want=$2
		shift 2
		rm -rf "$T/l-$name" && cp -a "$T/layout" "$T/l-$name"
		OCICRYPT "$T/l-$name" base enc --recipient "jwe:$T/rsa.pub" --layer 1 "$@"
		skopeo copy -q --dest-tls-verify=false "oci:$T/l-$name:enc" "docker://$REG/h/$name:1" >/dev/null 2>&1 ||
			fail "$name: skopeo could not push it"
		expect_fail 1 RI --tls-verify=false --decryption-key "$T/rsa.pem" unpack "$REG/h/$name:1" "$T/b-$name"
		assert_contains "$ERR" "$want"
		nothing_kept "$T/b-$name"
	}
	hostile flip "HMAC mismatch: the ciphertext or its pubopts were altered" --flip-byte
	hostile hmac "HMAC mismatch" --tamper-hmac
	hostile cipher "unknown cipher AES_128_GCM (AES_256_CTR_HMAC_SHA256 is the one defined)" --cipher AES_128_GCM
	hostile nokeys "is encrypted (no key annotations) and no key opens it: no decryption key was given" --drop-keys
	hostile digest "(decrypted, digest sha256:0000000000000000000000000000000000000000000000000000000000000000): digest mismatch" --other-digest
	# a 10 MB annotation (no registry here takes such a manifest: the proxy serves it): over the
	# manifest limit before any key is tried
	rm -rf "$T/l-huge" && cp -a "$T/layout" "$T/l-huge"
	OCICRYPT "$T/l-huge" base enc --recipient "jwe:$T/rsa.pub" --layer 1 --huge-annotation
	local huge
	huge=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "enc") | .digest' "$T/l-huge/index.json")
	proxy_start "$REG"
	echo '[{"match": "/manifests/huge", "action": "file:'"$T/l-huge/blobs/sha256/${huge#sha256:}"'"}]' >"$T/faults.json"
	expect_fail 1 RI --tls-verify=false --decryption-key "$T/rsa.pem" unpack "$PROXY/h/good:huge" "$T/b-huge"
	assert_contains "$ERR" "manifest of $PROXY/h/good:huge"
	assert_contains "$ERR" "exceeds the limit of 4194304 bytes"
	nothing_kept "$T/b-huge"
	# a layer moved from another image: its diff_id is not this config's
	push base "$REG/h/other:1"
	local m
	m=$(skopeo inspect --raw --tls-verify=false "docker://$REG/h/other:1")
	echo "$m" | jq --argjson l "$(skopeo inspect --raw --tls-verify=false "docker://$REG/h/good:1" | jq '.layers[2]')" '.layers[1] = $l' >"$T/swapped.json"
	curl -sf -X POST "http://$REG/v2/h/other/blobs/uploads/?mount=$(jq -r '.layers[1].digest' "$T/swapped.json")&from=h/good" >/dev/null
	curl -sf -X PUT -H "Content-Type: application/vnd.oci.image.manifest.v1+json" --data-binary @"$T/swapped.json" \
		"http://$REG/v2/h/other/manifests/swapped" >/dev/null || fail "could not push the swapped manifest"
	expect_fail 1 RI --tls-verify=false --decryption-key "$T/rsa.pem" unpack "$REG/h/other:swapped" "$T/b-swap"
	assert_contains "$ERR" "diff_id"
	nothing_kept "$T/b-swap"
	# a truncated blob
	echo '[{"match": "/blobs/'"$d"'", "action": "truncate"}]' >"$T/faults.json"
	expect_fail 1 RI --root "$T/s3" --tls-verify=false --decryption-key "$T/rsa.pem" unpack "$PROXY/h/good:1" "$T/b-trunc"
	assert_contains "$ERR" "$d"
	[ ! -e "$T/b-trunc/rootfs" ] || fail "a truncated layer left a rootfs"
}

test_encrypted_without_keys_pulls_ciphertext_and_refuses_to_unpack() {
	registry_start
	enc_layout
	openssl genrsa -out "$T/rsa.pem" 2048 2>/dev/null
	openssl rsa -in "$T/rsa.pem" -pubout -out "$T/rsa.pub" 2>/dev/null
	push base "$REG/k/app:1" --encryption-key "jwe:$T/rsa.pub"
	# a pull without keys stores ciphertext; with a wrong key it fails before fetching a layer
	RI --tls-verify=false pull "$REG/k/app:1" >/dev/null
	openssl genrsa -out "$T/other.pem" 2048 2>/dev/null
	expect_fail 1 RI --root "$T/s2" --tls-verify=false --decryption-key "$T/other.pem" pull "$REG/k/app:1"
	assert_contains "$ERR" "no key opens it"
	assert_eq 0 "$(find "$T/s2/blobs" -type f -size +100k 2>/dev/null | wc -l)" "layers fetched for a pull that could not be decrypted"
	expect_fail 1 RI --tls-verify=false unpack "$REG/k/app:1" "$T/b"
	assert_contains "$ERR" "no decryption key was given (--decryption-key)"
	nothing_kept "$T/b"
	RI --tls-verify=false --decryption-key "$T/rsa.pem" unpack "$REG/k/app:1" "$T/b" >/dev/null
	assert_eq "$SECRET" "$(cat "$T/b/rootfs/secret/s.txt")"
}

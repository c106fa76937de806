# The confidential container (image mode): a liberpal-sim enclave attests to
# rune-kbs, fetches the owner's policy and the layer key, pulls, verifies,
# decrypts and unpacks the image inside its own private memory-backed mount,
# and runs it. The host never holds the plaintext.
. "$TOP/tests/lib/registry.sh"
. "$TOP/tests/lib/signing.sh"
. "$TOP/tests/lib/containerd.sh"

cleanup_extra() { containerd_cleanup; }

# conf_setup: a registry with an encrypted image (layer key held by rune-kbs),
# rune-kbs with the key and the owner's policy, init-data naming them, and a
# bundle whose rootfs only boots the enclave. Sets MARKER, REF, KBS, B.
conf_setup() {
	registry_start "$@"
	base_layout
	MARKER="plaintext-marker-$RANDOM$RANDOM$RANDOM"
	layer_from '[{"name": "app", "type": "dir"}, {"name": "app/marker.txt", "data": "'"$MARKER"'\n"}]' base gzip
	umoci config --image "$T/layout:base" --config.cmd cat --config.cmd /app/marker.txt --config.workingdir /app >/dev/null
	head -c 32 /dev/urandom >"$T/kek"
	jq -n --arg p "$BUILD_DIR/bin/rune-attest" '{"key-providers": {"attestation-agent": {"cmd": {"path": $p, "args": ["keyprovider"]}}}}' >"$T/kp.json"
	OCICRYPT_KEYPROVIDER_CONFIG="$T/kp.json" /usr/bin/python3 "$TOP/tests/helpers/ocicrypt.py" "$T/layout" base enc \
		--recipient "provider:attestation-agent:keyid=kbs:///default/key/1::keypath=$T/kek"
	REF="$REG/conf/app:1"
	push enc "$REF" ${PUSH_CREDS:+--dest-creds "$PUSH_CREDS"}
	push enc "$REG/conf/unsigned:1" ${PUSH_CREDS:+--dest-creds "$PUSH_CREDS"}
	# signed with the owner's cosign key: a .sig tag beside the image, made by
	# the sigstore reference implementation (Debian's skopeo has sigstore
	# signing disabled)
	PKI key "$T/cosign.pem"
	[ "${UNSIGNED:-0}" = 1 ] || sign_image conf/app 1
	mkdir -p "$T/regd"
	printf 'default-docker:\n  use-sigstore-attachments: true\n' >"$T/regd/default.yaml"
	# the owner's plaintext stays with the owner: nothing of it is left here
	rm -rf "$T/layout" "$T/spec.json" "$T/layer.tar"
	# rune-kbs: the KEK and the signature policy, released to the simulation only
	port=$(free_port)
	mkdir -p "$T/repo/default/key" "$T/repo/default/security-policy" "$T/repo/default/cosign-key" \
		"$T/repo/default/sigstore-config"
	cp "$T/kek" "$T/repo/default/key/1"
	cp "$T/cosign.pub" "$T/repo/default/cosign-key/1"
	cp "$T/regd/default.yaml" "$T/repo/default/sigstore-config/test"
	# the owner's policy: this registry's images must carry the owner's cosign signature
	cat >"$T/repo/default/security-policy/test" <<P
{"default": [{"type": "reject"}],
 "transports": {"docker": {"$REG/conf": [{"type": "sigstoreSigned", "keyPath": "kbs:///default/cosign-key/1",
                                          "signedIdentity": {"type": "matchRepository"}}]}}}
P
	echo '{"default": {"tee": ["sim"]}}' >"$T/kbs-policy.json"
	bg "$BUILD_DIR/bin/rune-kbs" --listen "127.0.0.1:$port" --repository "$T/repo" --policy "$T/kbs-policy.json" \
		--sim-key /var/lib/rune/sim/sim-key.pub 2>>"$T/kbs.log"
	KBS_PID=$(tail -1 "$T/pids")
	KBS="http://127.0.0.1:$port"
	wait_http "$KBS/kbs/v0/"
	cat >"$T/initdata.toml" <<T
version = "0.1.0"
algorithm = "sha384"

[data]
"aa.toml" = '''
[token_configs.kbs]
url = "$KBS"
'''
"cdh.toml" = '''
[image]
image_security_policy_uri = 'kbs:///default/security-policy/test'
sigstore_config_uri = 'kbs:///default/sigstore-config/test'
'''
T
	B="$T/b"
	conf_bundle
}

# conf_bundle: $B, booting an enclave that runs $REF with $T/initdata.toml.
conf_bundle() {
	rm -rf "$B"
	make_bundle "$B" ""
	jq_edit "$B" --arg p "$BUILD_DIR/pal/liberpal-sim.so" --arg ref "$REF" --rawfile init "$T/initdata.toml" \
		'.annotations = {"enclave.type": "sim", "enclave.runtime.path": $p, "enclave.image": $ref,
		 "enclave.initdata": $init, "enclave.image.registry-tls": "false"}
		 | .linux.namespaces |= map(select(.type != "network"))'
}

# sim_key_ready: the simulation key (made by liberpal-sim on first use) exists.
sim_key_ready() {
	[ -s /var/lib/rune/sim/sim-key.pub ] && return
	make_bundle "$T/warm" true
	jq_edit "$T/warm" --arg p "$BUILD_DIR/pal/liberpal-sim.so" '.annotations = {"enclave.type": "sim", "enclave.runtime.path": $p}'
	r run -b "$T/warm" warm >/dev/null 2>&1
}

# sign_image REPO TAG: the owner's cosign signature for $REG/REPO:TAG.
sign_image() {
	local d
	d="sha256:$(skopeo inspect --raw --tls-verify=false "docker://$REG/$1:$2" | sha256sum | cut -d' ' -f1)"
	cosign_payload "$REG/$1" "$d" >"$T/payload.json"
	FIXTURE sign --key "$T/cosign.pem" --form sig --payload "$T/payload.json" --out "$T/sig.json"
	FIXTURE push-sig "$REG" "$1" "$d" "$T/sig.json"
}

# kbs_restart POLICY: rune-kbs again with another resource policy, on a new
# port the init-data names.
kbs_restart() {
	kill "$KBS_PID"
	wait "$KBS_PID" 2>/dev/null || true
	local port
	port=$(free_port)
	bg "$BUILD_DIR/bin/rune-kbs" --listen "127.0.0.1:$port" --repository "$T/repo" --policy "$1" \
		--sim-key /var/lib/rune/sim/sim-key.pub 2>>"$T/kbs.log"
	KBS_PID=$(tail -1 "$T/pids")
	sed -i "s|$KBS|http://127.0.0.1:$port|" "$T/initdata.toml"
	KBS="http://127.0.0.1:$port"
	wait_http "$KBS/kbs/v0/"
	jq_edit "$B" --rawfile init "$T/initdata.toml" '.annotations["enclave.initdata"] = $init'
}

# no_plaintext_on_host WHEN: the marker is nowhere the host keeps: /tmp (the
# bundle, rune's state, the test's files), /var, /run/rune. (workload.out is
# the workload's own stdout, printed for the test; build trees are skipped.)
no_plaintext_on_host() {
	local hits
	hits=$(grep -rlsa --exclude-dir=proc --exclude-dir=node_modules --exclude-dir=.git --exclude-dir='build*' \
		--exclude-dir=bash_tool_* --exclude=workload.out --exclude=workload.log "$MARKER" /tmp /var /run/rune "$ROOT" 2>/dev/null || true)
	[ -z "$hits" ] || fail "plaintext found on the host ($1): $hits"
}

test_confidential_image_runs_and_the_host_never_sees_it() {
	sim_key_ready
	conf_setup
	out=$(r run -b "$B" c1 2>"$T/run.log") || fail "confidential run failed: $(cat "$T/run.log")"
	assert_eq "$MARKER" "$out" "the image's cmd ran in the enclave"
	assert_contains "$(cat "$T/run.log")" "verified, decrypted and unpacked inside the enclave"
	no_plaintext_on_host "after the run"
	# rune state shows what the enclave runs, as the enclave runtime reports it
	r create -b "$B" cstate 2>/dev/null
	st=$(r state cstate)
	assert_eq "$REF" "$(jq -r .enclave.info.image <<<"$st")" "state: image"
	assert_eq "sha256:$(skopeo inspect --raw --tls-verify=false "docker://$REF" | sha256sum | cut -d' ' -f1)" \
		"$(jq -r .enclave.info.manifestDigest <<<"$st")" "state: manifest digest"
	assert_eq "kbs:///default/security-policy/test accepted $KBS" \
		"$(jq -r '[.enclave.info.policy, .enclave.info.policyResult, .enclave.info.kbs] | join(" ")' <<<"$st")"
	r delete -f cstate
	# as Kubernetes and Kata name them: the CRI image name, init-data as base64 of gzip
	jq_edit "$B" --arg ref "$REF" --arg init "$(gzip -c "$T/initdata.toml" | base64 -w0)" \
		'.annotations |= (del(.["enclave.image"], .["enclave.initdata"])
		 + {"io.kubernetes.cri.image-name": $ref, "io.katacontainers.config.hypervisor.cc_init_data": $init})'
	assert_eq "$MARKER" "$(r run -b "$B" ckata 2>>"$T/run.log")" "image mode from CRI and Kata annotations"
	# the container's args override the image's cmd, run in the image's root and working dir
	set_args "$B" sh -c 'pwd; cat marker.txt; sleep 2'
	r run -b "$B" c2 >"$T/workload.out" 2>>"$T/run.log" &
	sleep 1
	no_plaintext_on_host "during the run"
	wait $! || fail "override run failed: $(cat "$T/run.log")"
	assert_eq "/app
$MARKER" "$(cat "$T/workload.out")"
	rm -f "$T/workload.out"
	no_plaintext_on_host "after the second run"
}

# kill -9 at random points of a confidential run (issue 15): the state stays
# consistent, nothing plaintext is left, the next run works. KILL_ITERATIONS
# as in robustness.sh.
test_confidential_run_killed_at_random_points() {
	sim_key_ready
	conf_setup
	local t0 span i ms id st seen=""
	t0=$(now_ms)
	r run -b "$B" c0 >/dev/null 2>"$T/run.log" || fail "clean run: $(cat "$T/run.log")"
	span=$(($(now_ms) - t0 + 50))
	r delete -f c0
	for i in $(seq "${KILL_ITERATIONS:-20}"); do
		id=k$i
		ms=$((RANDOM % span))
		kill_at "$ms" "$RUNE" --root "$ROOT" run -b "$B" "$id"
		st=absent
		if r list -q | grep -qx "$id"; then
			st=$(r state "$id" | jq -r .status) || fail "iteration $i: listed, but rune state fails"
		fi
		seen+=" $st"
		r delete -f "$id" >/dev/null 2>"$T/del.err" || fail "iteration $i (killed after $ms ms): delete -f: $(cat "$T/del.err")"
		[ ! -e "$ROOT/$id" ] || fail "iteration $i: state left"
		for _ in $(seq 50); do pgrep -f -- "--root $ROOT " >/dev/null || break; sleep 0.1; done
		! pgrep -f -- "--root $ROOT " >/dev/null || fail "iteration $i: a rune process is left: $(pgrep -fa -- "--root $ROOT ")"
		! find /sys/fs/cgroup -maxdepth 4 -name "$id" 2>/dev/null | grep -q . || fail "iteration $i: a cgroup is left"
		hits=$(grep -rlsa "$MARKER" "$T" "$ROOT" /run/rune /var/lib/rune 2>/dev/null | grep -v -e '/workload\.' || true)
		[ -z "$hits" ] || fail "iteration $i (killed after $ms ms): plaintext on the host: $hits"
	done
	echo "${KILL_ITERATIONS:-20} kills; found after them:$(tr ' ' '\n' <<<"$seen" | sort | uniq -c | awk 'NF == 2 {printf " %s %s", $1, $2}')" >&2
	no_plaintext_on_host "after the killed runs"
	assert_eq "$MARKER" "$(r run -b "$B" last 2>"$T/run.log")" "the run after ($(cat "$T/run.log"))"
}

test_confidential_refusals_name_their_step() {
	sim_key_ready
	conf_setup
	# the KBS holds another key: the layer does not open
	head -c 32 /dev/urandom >"$T/repo/default/key/1"
	expect_fail 1 r create -b "$B" x1
	assert_contains "$ERR" "confidential image $REF"
	assert_contains "$ERR" "the KEK kbs:///default/key/1"
	assert_eq "" "$(r list -q)" "containers left after a refusal"
	# the KBS policy denies the policy resource
	cp "$T/kek" "$T/repo/default/key/1"
	echo '{"policy": "'"$(echo '{"default": {"tee": ["sgx"]}}' | base64 -w0)"'"}' >/dev/null
	mv "$T/repo/default/security-policy/test" "$T/policy.bak"
	expect_fail 1 r create -b "$B" x2
	assert_contains "$ERR" "policy kbs:///default/security-policy/test"
	assert_contains "$ERR" "ResourceNotFound"
	# the owner's policy restored: an unsigned image is refused, naming why
	cp "$T/policy.bak" "$T/repo/default/security-policy/test"
	jq_edit "$B" --arg ref "$REG/conf/unsigned:1" '.annotations["enclave.image"] = $ref'
	expect_fail 1 r create -b "$B" x3
	assert_contains "$ERR" "rejected by policy kbs:///default/security-policy/test"
	assert_contains "$ERR" "sigstoreSigned"
	assert_eq "" "$(r list -q)" "containers left after a refusal"
	jq_edit "$B" --arg ref "$REF" '.annotations["enclave.image"] = $ref'
	# the KBS holds another cosign key: the signature does not verify
	cp "$T/repo/default/cosign-key/1" "$T/cosign.bak"
	PKI key "$T/other.pem"
	cp "$T/other.pub" "$T/repo/default/cosign-key/1"
	expect_fail 1 r create -b "$B" x7
	assert_contains "$ERR" "rejected by policy kbs:///default/security-policy/test"
	assert_contains "$ERR" "does not verify with keyPath kbs:///default/cosign-key/1"
	cp "$T/cosign.bak" "$T/repo/default/cosign-key/1"
	# a tampered layer in the registry: refused by its digest
	local blob
	blob=$(find "$T"/registry.*/data -path '*/blobs/sha256/*/data' -size +1k | head -1)
	for f in $(find "$T"/registry.*/data -path '*/blobs/sha256/*/data'); do
		if [ "$(stat -c %s "$f")" -gt "$(stat -c %s "$blob")" ]; then blob=$f; fi
	done
	cp "$blob" "$T/blob.bak"
	printf 'X' | dd of="$blob" bs=1 seek=100 conv=notrunc 2>/dev/null
	expect_fail 1 r create -b "$B" x4
	assert_contains "$ERR" "confidential image $REF"
	assert_contains "$ERR" "digest"
	cp "$T/blob.bak" "$blob"
	# an enclave the KBS's reference values do not list: refused at the first resource
	printf '{"default": {"tee": ["sim"], "measurement": ["%064d"]}}' 0 >"$T/kbs-policy.json"
	kbs_restart "$T/kbs-policy.json"
	expect_fail 1 r create -b "$B" x5
	assert_contains "$ERR" "PolicyDeny"
	assert_contains "$ERR" "measurement"
	# the KBS down: retried, then named
	kill "$KBS_PID"
	expect_fail 1 r create -b "$B" x6
	assert_contains "$ERR" "the KBS is unreachable after 5 attempts"
	assert_eq "" "$(r list -q)" "containers left after a refusal"
	no_plaintext_on_host "after the refusals"
}

test_layer_keys_are_bound_to_the_verified_image() {
	sim_key_ready
	conf_setup
	digest="sha256:$(skopeo inspect --raw --tls-verify=false "docker://$REF" | sha256sum | cut -d' ' -f1)"
	# a second image, with a layer sealed under the same KEK
	base_layout
	layer_from '[{"name": "other.txt", "data": "image B"}]' base gzip
	OCICRYPT_KEYPROVIDER_CONFIG="$T/kp.json" /usr/bin/python3 "$TOP/tests/helpers/ocicrypt.py" "$T/layout" base enc \
		--recipient "provider:attestation-agent:keyid=kbs:///default/key/1::keypath=$T/kek"
	push enc "$REG/conf/other:1"
	sign_image conf/other 1
	# the key is released for image A's digest only
	printf '{"resources": {"default/key/1": {"tee": ["sim"], "image_digest": ["%s"]}, "default/*/*": {"tee": ["sim"]}}}' \
		"$digest" >"$T/kbs-policy.json"
	kbs_restart "$T/kbs-policy.json"
	assert_eq "$MARKER" "$(r run -b "$B" a1 2>"$T/run.log")" "image A under a key bound to A ($(cat "$T/run.log"))"
	jq_edit "$B" --arg ref "$REG/conf/other:1" '.annotations["enclave.image"] = $ref'
	set_args "$B" cat /other.txt
	expect_fail 1 r create -b "$B" b1
	assert_contains "$ERR" "PolicyDeny"
	assert_contains "$ERR" "image_digest"
	# by repository
	printf '{"resources": {"default/key/1": {"tee": ["sim"], "image_repository": ["%s"]}, "default/*/*": {"tee": ["sim"]}}}' \
		"$REG/conf/other" >"$T/kbs-policy2.json"
	kbs_restart "$T/kbs-policy2.json"
	assert_eq "image B" "$(r run -b "$B" b2 2>"$T/run.log")" "image B under a key bound to its repository"
}

test_registry_credentials_and_ca_from_the_init_data() {
	sim_key_ready
	# a registry with TLS from the owner's private CA, and a password
	mkdir -p "$T/ca"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/ca/ca.key" -out "$T/ca/ca.crt" -days 2 -subj "/CN=owner CA" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -keyout "$T/ca/srv.key" -out "$T/ca/srv.csr" -subj "/CN=127.0.0.1" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1\n' >"$T/ca/ext"
	openssl x509 -req -in "$T/ca/srv.csr" -CA "$T/ca/ca.crt" -CAkey "$T/ca/ca.key" -CAcreateserial -out "$T/ca/srv.crt" \
		-days 2 -extfile "$T/ca/ext" 2>/dev/null
	htpasswd -Bbn owner s3cret >"$T/htpasswd" 2>/dev/null
	PUSH_CREDS=owner:s3cret UNSIGNED=1 conf_setup auth "$T/htpasswd" tls "$T/ca/srv.crt" "$T/ca/srv.key"
	echo '{"default": [{"type": "insecureAcceptAnything"}]}' >"$T/repo/default/security-policy/test"
	mkdir -p "$T/repo/default/credential"
	printf '{"auths": {"%s": {"auth": "%s"}}}' "$REG" "$(printf owner:s3cret | base64 -w0)" >"$T/repo/default/credential/test"
	# without the CA: the registry's certificate is refused, named
	jq_edit "$B" '.annotations |= del(.["enclave.image.registry-tls"])'
	expect_fail 1 r create -b "$B" t1
	assert_contains "$ERR" "registry of $REF: GET https://$REG/v2/"
	grep -qiE "certificate|CA cert" <<<"$ERR" || fail "the TLS failure is not named: $ERR"
	# the owner's CA and credentials through the init-data: it runs
	{
		sed '$d' "$T/initdata.toml"
		echo "authenticated_registry_credentials_uri = 'kbs:///default/credential/test'"
		echo "max_concurrent_layer_downloads_per_image = 1"
		printf 'extra_root_certificates = ["""\n%s\n"""]\n' "$(cat "$T/ca/ca.crt")"
		echo "'''"
	} >"$T/initdata2.toml"
	jq_edit "$B" --rawfile init "$T/initdata2.toml" '.annotations["enclave.initdata"] = $init'
	assert_eq "$MARKER" "$(r run -b "$B" t2 2>"$T/run.log")" "through TLS and a password ($(cat "$T/run.log"))"
	no_plaintext_on_host "after the run"
}

# Kubernetes on stock containerd 1.6: the pod names the confidential image,
# the enclave and the init-data in annotations (passed by pod_annotations);
# its own image is a public launcher. containerd's content store and
# snapshots never see the confidential image. A signed, unencrypted image the
# host pulled is pulled again inside from io.kubernetes.cri.image-name.
test_confidential_pod_through_cri() {
	sim_key_ready
	conf_setup
	# a signed plain image for the second-pull route
	base_layout
	MARKER2="second-pull-$RANDOM$RANDOM"
	layer_from '[{"name": "app", "type": "dir"}, {"name": "app/marker.txt", "data": "'"$MARKER2"'\n"}]' base gzip
	umoci config --image "$T/layout:base" --config.cmd cat --config.cmd /app/marker.txt >/dev/null
	push base "$REG/conf/plain:1"
	sign_image conf/plain 1
	rm -rf "$T/layout"
	containerd_start cri
	cri_images
	ann=$(jq -n --arg p "$BUILD_DIR/pal/liberpal-sim.so" --arg ref "$REF" --rawfile init "$T/initdata.toml" \
		'{"enclave.type": "sim", "enclave.runtime.path": $p, "enclave.image": $ref, "enclave.initdata": $init,
		  "enclave.image.registry-tls": "false"}')
	run_pod conf NODE "$ann"
	# the launcher's command is empty: the confidential image's own cmd runs
	c1=$(start_ctr conf workload localhost/busybox:latest "")
	for _ in $(seq 100); do [ "$(cri_status "$c1" .state)" = CONTAINER_EXITED ] && break; sleep 0.1; done
	assert_eq CONTAINER_EXITED "$(cri_status "$c1" .state)" "the confidential container ran to its end"
	assert_eq null "$(cri_status "$c1" .exit_code)" "exit code (0 is omitted)"
	assert_contains "$(cat "$T/pods/conf/workload.log")" " stdout F $MARKER"
	assert_contains "$(cat "$T/pods/conf/workload.log")" "image $REF ("
	# the host's containerd holds the launcher only
	digest="sha256:$(skopeo inspect --raw --tls-verify=false "docker://$REF" | sha256sum | cut -d' ' -f1)"
	assert_not_contains "$(CTR -n k8s.io content ls)" "$digest"
	assert_not_contains "$(CTR -n k8s.io images ls -q)" "conf/app"
	! grep -rlsa "$MARKER" "$T/ctrd" >/dev/null || fail "the plaintext reached containerd's store: $(grep -rlsa "$MARKER" "$T/ctrd")"
	no_plaintext_on_host "after the pod ran"
	CRI rm "$c1"
	CRI stopp "$POD"
	CRI rmp "$POD"
	# signed, not encrypted: the host pulled it, the enclave pulls it again and verifies
	CTR -n k8s.io images pull -q --plain-http "$REG/conf/plain:1" >/dev/null
	ann2=$(jq 'del(.["enclave.image"])' <<<"$ann")
	run_pod plain NODE "$ann2"
	c2=$(start_ctr plain workload "$REG/conf/plain:1" "")
	for _ in $(seq 100); do [ "$(cri_status "$c2" .state)" = CONTAINER_EXITED ] && break; sleep 0.1; done
	assert_contains "$(cat "$T/pods/plain/workload.log")" " stdout F $MARKER2"
	assert_contains "$(cat "$T/pods/plain/workload.log")" "image $REG/conf/plain:1 ("
	assert_contains "$(cat "$T/pods/plain/workload.log")" "unpacked inside the enclave"
	CRI rm "$c2"
	CRI stopp "$POD"
	CRI rmp "$POD"
}

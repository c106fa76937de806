# The attestation agent (rune-attest) and the development KBS (rune-kbs):
# end to end with sample evidence; rune-kbs checked by a python3-jwcrypto
# client and rune-attest by a python3-jwcrypto KBS (tests/helpers/), both
# implementations independent of ours; hostile KBS answers; TLS; evidence from
# fake TEE trees with recorded quotes.
. "$TOP/tests/lib/registry.sh"

RA() { "$BUILD_DIR/bin/rune-attest" "$@"; }
PY() { /usr/bin/python3 "$@"; }

# kbs_start [rune-kbs options]: rune-kbs on a free port with a fresh
# repository; sets KBS (its URL) and KBS_REPO.
kbs_start() {
	local port
	port=$(free_port)
	KBS_REPO="$T/repo"
	mkdir -p "$KBS_REPO/default/key"
	bg "$BUILD_DIR/bin/rune-kbs" --listen "127.0.0.1:$port" --repository "$KBS_REPO" "$@" 2>>"$T/kbs.log"
	KBS="http://127.0.0.1:$port"
	wait_http "$KBS/kbs/v0/"
}

# fakekbs_start MODE: the python KBS; sets FAKE (its URL) and FAKE_LOG.
fakekbs_start() {
	FAKE_LOG="$T/fake.log"
	: >"$FAKE_LOG"
	rm -f "$T/fake.port"
	bg /usr/bin/python3 "$TOP/tests/helpers/fakekbs.py" --port-file "$T/fake.port" --secret "$T/secret" \
		--mode "$1" --log "$FAKE_LOG"
	for _ in $(seq 100); do [ -s "$T/fake.port" ] && break; sleep 0.05; done
	FAKE="http://127.0.0.1:$(cat "$T/fake.port")"
}

sample_policy() {
	echo '{"default": {"allow": false}, "resources": {"default/key/*": {"tee": ["sample"]}}}' >"$T/policy.json"
}

test_sample_end_to_end_with_rune_kbs() {
	sample_policy
	kbs_start --allow-sample --policy "$T/policy.json"
	head -c 32 /dev/urandom >"$KBS_REPO/default/key/1"
	for kt in ec ec-p521 rsa; do
		RA --url "$KBS" --tee sample --key-type "$kt" get-resource --path default/key/1 >"$T/got.$kt"
		cmp "$KBS_REPO/default/key/1" "$T/got.$kt" || fail "resource differs with key type $kt"
	done
	# kbs:/// URIs name the same resource (the host part is ignored)
	RA --url "$KBS" --tee sample get-resource --path kbs://ignored.example/default/key/1 >"$T/got.uri"
	cmp "$KBS_REPO/default/key/1" "$T/got.uri"
	# aa_kbc_params from the environment
	AA_KBC_PARAMS="cc_kbc::$KBS" RA --tee sample get-resource --path default/key/1 --output "$T/got.env"
	cmp "$KBS_REPO/default/key/1" "$T/got.env"
	[ "$(stat -c %a "$T/got.env")" = 600 ] || fail "--output is not 0600"
	# attest prints an ES256 token carrying our tee-pubkey
	tok=$(RA --url "$KBS" --tee sample attest)
	hdr=$(echo "$tok" | cut -d. -f1 | tr '_-' '/+' | base64 -d 2>/dev/null || true)
	assert_contains "$hdr" '"alg":"ES256"'
}

test_rune_kbs_answers_an_independent_jwcrypto_client() {
	sample_policy
	kbs_start --allow-sample --policy "$T/policy.json"
	echo "the secret, for jwcrypto" >"$KBS_REPO/default/key/1"
	for k in ec ec-p521 rsa rsa1_5; do
		out=$(PY "$TOP/tests/helpers/kbsclient.py" "$KBS" default/key/1 --key "$k")
		assert_eq "the secret, for jwcrypto" "$out" "jwcrypto client with $k key"
	done
}

test_rune_attest_opens_jwcrypto_resources_and_reuses_its_token() {
	echo "sealed by jwcrypto" >"$T/secret"
	fakekbs_start ok
	for kt in ec ec-p521 rsa; do
		out=$(RA --url "$FAKE" --tee sample --key-type "$kt" get-resource --path default/key/1)
		assert_eq "sealed by jwcrypto" "$out" "rune-attest with $kt key"
	done
	# one handshake per context: two resources, one auth, the token reused
	: >"$FAKE_LOG"
	out=$(RA --url "$FAKE" --tee sample get-resource --path default/key/1 --path default/key/2)
	assert_eq "sealed by jwcrypto
sealed by jwcrypto" "$out"
	assert_eq 1 "$(grep -c 'POST /kbs/v0/auth' "$FAKE_LOG")" "handshakes for two resources"
	assert_eq 2 "$(grep -c 'GET /kbs/v0/resource' "$FAKE_LOG")" "resource requests"
}

test_expired_session_reattests_and_denials_name_the_rule() {
	echo "after a second handshake" >"$T/secret"
	fakekbs_start expire-once
	out=$(RA --url "$FAKE" --tee sample get-resource --path default/key/1)
	assert_eq "after a second handshake" "$out"
	assert_eq 2 "$(grep -c 'POST /kbs/v0/auth' "$FAKE_LOG")" "handshakes after a 401"
	# rune-kbs: sample refused unless allowed; a policy naming its rule
	sample_policy
	kbs_start --policy "$T/policy.json"
	head -c 32 /dev/urandom >"$KBS_REPO/default/key/1"
	expect_fail 3 RA --url "$KBS" --tee sample get-resource --path default/key/1
	assert_contains "$ERR" "attest: POST $KBS/kbs/v0/attest: HTTP 401: AttestationError"
	assert_contains "$ERR" "--allow-sample"
	echo '{"resources": {"default/key/*": {"tee": ["sim"]}}}' >"$T/sim-only.json"
	kbs_start --allow-sample --policy "$T/sim-only.json"
	head -c 32 /dev/urandom >"$KBS_REPO/default/key/1"
	expect_fail 3 RA --url "$KBS" --tee sample get-resource --path default/key/1
	assert_contains "$ERR" "PolicyDeny"
	assert_contains "$ERR" 'rule "default/key/*" denies default/key/1: tee "sample" is not one of ["sim"]'
	# a denial is final: one attestation, no retries
	assert_not_contains "$ERR" "refused after"
	# a missing resource is named, and no file is written
	echo '{"resources": {"default/key/*": {"tee": ["sample"]}}}' >"$T/sample-ok.json"
	kbs_start --allow-sample --policy "$T/sample-ok.json"
	expect_fail 1 RA --url "$KBS" --tee sample get-resource --path default/key/2 --output "$T/none"
	assert_contains "$ERR" "ResourceNotFound"
	[ ! -e "$T/none" ] || fail "a failed get-resource wrote its --output"
}

test_sim_attests_as_sample_to_a_kbs_without_sim() {
	echo "for the simulation" >"$T/secret"
	fakekbs_start nosim
	mkdir -p "$T/sim/dev/attestation"
	printf rune-sim-insecure-simulation >"$T/sim/dev/attestation/attestation_type"
	out=$(RA --root "$T/sim" --url "$FAKE" get-resource --path default/key/1 2>"$T/err")
	assert_eq "for the simulation" "$out"
	assert_contains "$(cat "$T/err")" 'attesting as \"sample\"'
	assert_eq "POST /kbs/v0/auth
POST /kbs/v0/auth" "$(grep auth "$FAKE_LOG")"
}

test_hostile_kbs_answers_are_named_errors() {
	echo "x" >"$T/secret"
	for mode in badjson wrongkey badnonce notoken deny; do
		fakekbs_start "$mode"
		expect_fail "$([ "$mode" = deny ] && echo 3 || echo 1)" RA --url "$FAKE" --tee sample get-resource --path default/key/1 --output "$T/out.$mode"
		[ ! -e "$T/out.$mode" ] || fail "$mode: a file was written"
		case $mode in
		badjson) assert_contains "$ERR" "resource: the KBS answered with bad JSON" ;;
		wrongkey) assert_contains "$ERR" "the JWE does not open with this agent's key" ;;
		badnonce) assert_contains "$ERR" "auth: the challenge has no nonce" ;;
		notoken) assert_contains "$ERR" "attest: the KBS's answer has no token" ;;
		deny) assert_contains "$ERR" "PolicyDeny: rule default/key/1: tee sample not allowed" ;;
		esac
	done
	fakekbs_start huge
	expect_fail 1 RA --url "$FAKE" --tee sample get-resource --path default/key/1
	assert_contains "$ERR" "the answer exceeds"
}

test_unreachable_and_silent_kbs() {
	port=$(free_port)
	start=$(date +%s)
	expect_fail 1 RA --url "http://127.0.0.1:$port" --tee sample attest
	assert_contains "$ERR" "the KBS is unreachable after 5 attempts"
	assert_contains "$ERR" "auth: POST http://127.0.0.1:$port/kbs/v0/auth"
	[ $(($(date +%s) - start)) -ge 4 ] || fail "no retries 1 s apart"
	echo x >"$T/secret"
	fakekbs_start hang
	# a server that never answers: bounded by the request timeout (30 s, here 2)
	expect_fail 1 timeout 60 "$BUILD_DIR/bin/rune-attest" --url "$FAKE" --tee sample --timeout 2 get-resource --path default/key/1
	assert_contains "$ERR" "resource: GET $FAKE/kbs/v0/resource/default/key/1"
	assert_contains "$ERR" "timed out"
	# one that drips its answer a byte a second, or stops half-way: the same bound
	for mode in drip stall; do
		fakekbs_start $mode
		expect_fail 1 timeout 60 "$BUILD_DIR/bin/rune-attest" --url "$FAKE" --tee sample --timeout 2 get-resource --path default/key/1
		assert_contains "$ERR" "resource: GET $FAKE/kbs/v0/resource/default/key/1"
		assert_contains "$ERR" "timed out"
	done
}

test_tls_with_a_pinned_ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=test-ca \
		-keyout "$T/ca.key" -out "$T/ca.pem" 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
		-keyout "$T/kbs.key" -out "$T/kbs.csr" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1\n' >"$T/ext"
	openssl x509 -req -in "$T/kbs.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial -days 1 \
		-extfile "$T/ext" -out "$T/kbs.pem" 2>/dev/null
	sample_policy
	port=$(free_port)
	mkdir -p "$T/repo/default/key"
	head -c 32 /dev/urandom >"$T/repo/default/key/1"
	bg "$BUILD_DIR/bin/rune-kbs" --listen "127.0.0.1:$port" --repository "$T/repo" --allow-sample \
		--policy "$T/policy.json" --tls-cert "$T/kbs.pem" --tls-key "$T/kbs.key" 2>>"$T/kbs.log"
	wait_http "https://127.0.0.1:$port/kbs/v0/" --cacert "$T/ca.pem"
	RA --url "https://127.0.0.1:$port" --cert-file "$T/ca.pem" --tee sample get-resource --path default/key/1 >"$T/got"
	cmp "$T/repo/default/key/1" "$T/got"
	# without the CA: refused, naming the TLS failure
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=other \
		-keyout "$T/o.key" -out "$T/other.pem" 2>/dev/null
	expect_fail 1 RA --url "https://127.0.0.1:$port" --cert-file "$T/other.pem" --tee sample attest
	assert_contains "$ERR" "auth: POST https://127.0.0.1:$port/kbs/v0/auth"
	assert_contains "$ERR" "certificate"
}

test_admin_api_needs_the_admin_key() {
	openssl genpkey -algorithm ed25519 -out "$T/admin.key"
	openssl pkey -in "$T/admin.key" -pubout -out "$T/admin.pub"
	sample_policy
	kbs_start --allow-sample --policy "$T/policy.json" --admin-key "$T/admin.pub"
	# an admin token: EdDSA JWT signed with openssl, as kbs-client makes one
	b64u() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
	h=$(printf '{"alg":"EdDSA","typ":"JWT"}' | b64u)
	p=$(printf '{"iat":%d,"exp":%d}' "$(date +%s)" $(($(date +%s) + 300)) | b64u)
	printf '%s.%s' "$h" "$p" >"$T/signing-input"
	s=$(openssl pkeyutl -sign -inkey "$T/admin.key" -rawin -in "$T/signing-input" | b64u)
	tok="$h.$p.$s"
	code=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST --data-binary "new secret" "$KBS/kbs/v0/resource/default/key/9")
	assert_eq 401 "$code" "setting a resource without a token"
	assert_contains "$(cat "$T/resp")" "AdminAuth"
	code=$(curl -s -o "$T/resp" -w '%{http_code}' -H "Authorization: Bearer $tok" -X POST --data-binary "new secret" \
		"$KBS/kbs/v0/resource/default/key/9")
	assert_eq 200 "$code" "setting a resource with the admin token ($(cat "$T/resp"))"
	assert_eq "new secret" "$(RA --url "$KBS" --tee sample get-resource --path default/key/9)"
	# a path that climbs out is refused
	code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" -X POST --data-binary x \
		"$KBS/kbs/v0/resource/default/..%2F..%2Fetc/x")
	[ "$code" != 200 ] || fail "a climbing resource path was accepted"
	# the policy: replaced through the API, strictly checked
	pol=$(echo '{"resources": {"default/key/*": {"tee": ["sim"]}}}' | base64 -w0)
	code=$(curl -s -o "$T/resp" -w '%{http_code}' -H "Authorization: Bearer $tok" -d "{\"policy\": \"$pol\"}" "$KBS/kbs/v0/resource-policy")
	assert_eq 200 "$code"
	expect_fail 3 RA --url "$KBS" --tee sample get-resource --path default/key/9
	assert_contains "$ERR" "PolicyDeny"
	bad=$(echo '{"resources": {"default/key/*": {"tees": ["sim"]}}}' | base64 -w0)
	code=$(curl -s -o "$T/resp" -w '%{http_code}' -H "Authorization: Bearer $tok" -d "{\"policy\": \"$bad\"}" "$KBS/kbs/v0/resource-policy")
	assert_eq 400 "$code"
	assert_contains "$(cat "$T/resp")" 'resources[\"default/key/*\"].tees: unknown field'
}

test_evidence_from_fake_tee_trees_and_recorded_quotes() {
	# Gramine's /dev/attestation with a recorded Occlum (SGX v3) quote
	mkdir -p "$T/gramine/dev/attestation"
	printf dcap >"$T/gramine/dev/attestation/attestation_type"
	: >"$T/gramine/dev/attestation/user_report_data"
	cp "$TOP/tests/fixtures/quotes/occlum_quote.dat" "$T/gramine/dev/attestation/quote"
	out=$(RA --root "$T/gramine" evidence)
	assert_eq sgx "$(jq -r .provider <<<"$out")" "detected provider"
	assert_eq 8f173e4613ff05c52aaf04162d234edae8c9977eae47eb2299ae16a553011c68 "$(jq -r .quote.mr_enclave <<<"$out")"
	assert_eq "$(base64 -w0 "$T/gramine/dev/attestation/quote")" "$(jq -r .primary_evidence.quote <<<"$out")"
	# the 64 bytes of report data were written in one write
	assert_eq 64 "$(stat -c %s "$T/gramine/dev/attestation/user_report_data")"
	assert_eq "$(jq -r .report_data <<<"$out")" "$(od -An -tx1 -v "$T/gramine/dev/attestation/user_report_data" | tr -d ' \n')"
	# a truncated quote is refused, naming the provider
	head -c 300 "$TOP/tests/fixtures/quotes/occlum_quote.dat" >"$T/gramine/dev/attestation/quote"
	expect_fail 1 RA --root "$T/gramine" evidence
	assert_contains "$ERR" "sgx evidence: the quote: SGX quote truncated"
	# TDX through configfs-tsm: a FUSE tree behaving as the kernel's, with a
	# recorded v4 quote in outblob
	local tsm="$T/tdx/sys/kernel/config/tsm/report"
	mkdir -p "$tsm" "$T/tdx/dev"
	: >"$T/tdx/dev/tdx_guest"
	fake_tsm() {
		bg "$BUILD_DIR/tests/fake-tsm" "$@" "$tsm" -f -s
		for _ in $(seq 100); do mountpoint -q "$tsm" && return; sleep 0.05; done
		fail "fake-tsm did not mount"
	}
	fake_tsm "$TOP/tests/fixtures/quotes/tdx_quote_4.dat"
	out=$(RA --root "$T/tdx" evidence)
	assert_eq tdx "$(jq -r .provider <<<"$out")" "detected provider"
	assert_eq 705ee9381b8633a9fbe532b52345e8433343d2868959f57889d84ca377c395b689cac1599ccea1b7d420483a9ce5f031 \
		"$(jq -r .quote.mr_td <<<"$out")"
	assert_eq null "$(jq -r .primary_evidence.cc_eventlog <<<"$out")"
	assert_eq "" "$(ls -A "$tsm")" "report directories left behind"
	umount "$tsm"
	# another writer raced ours (generation 2): refused
	fake_tsm "$TOP/tests/fixtures/quotes/tdx_quote_4.dat" --race
	expect_fail 1 RA --root "$T/tdx" evidence
	assert_contains "$ERR" "generation reads 2, not 1: another writer raced this report"
	umount "$tsm"
	# a provider that is not TDX; an outblob that is not a TDX quote
	fake_tsm "$TOP/tests/fixtures/quotes/tdx_quote_4.dat" --provider sev_guest
	expect_fail 1 RA --root "$T/tdx" evidence
	assert_contains "$ERR" "provider reads \"sev_guest\", not tdx_guest"
	umount "$tsm"
	fake_tsm "$TOP/tests/fixtures/quotes/occlum_quote.dat"
	expect_fail 1 RA --root "$T/tdx" evidence
	assert_contains "$ERR" "tdx evidence: outblob: not a TDX quote"
	umount "$tsm"
	# nothing detected: the error lists what was looked for
	mkdir -p "$T/none"
	expect_fail 1 RA --root "$T/none" evidence
	assert_contains "$ERR" "no TEE found"
	expect_fail 1 RA --root "$T/none" --tee sim evidence
	assert_contains "$ERR" "not inside a simulation enclave"
	# Occlum: /dev/sgx ioctls, named when they fail (a regular file here)
	mkdir -p "$T/occlum/dev"
	: >"$T/occlum/dev/sgx"
	OCCLUM=yes expect_fail 1 RA --root "$T/occlum" evidence
	assert_contains "$ERR" "sgx evidence (Occlum): ioctl SGXIOC_GET_DCAP_QUOTE_SIZE on $T/occlum/dev/sgx"
	# the KBS URL from the kernel command line (agent.aa_kbc_params=)
	mkdir -p "$T/none/proc"
	echo "quiet agent.aa_kbc_params=cc_kbc::http://127.0.0.1:1 console=ttyS0" >"$T/none/proc/cmdline"
	expect_fail 1 RA --root "$T/none" --tee sample attest
	assert_contains "$ERR" "auth: POST http://127.0.0.1:1/kbs/v0/auth"
	echo "agent.aa_kbc_params=offline_fs_kbc::null" >"$T/none/proc/cmdline"
	expect_fail 1 RA --root "$T/none" --tee sample attest
	assert_contains "$ERR" "is not cc_kbc::URL"
	expect_fail 1 RA --tee nosuch evidence
	assert_contains "$ERR" "--tee nosuch: unknown evidence provider (known: sgx, tdx, sim, sample)"
}

# attester_bundle DIR ARGS...: a liberpal-sim enclave bundle whose rootfs
# holds rune-attest and its libraries, on the host's network (to reach the
# KBS on 127.0.0.1).
attester_bundle() {
	local b=$1 lib
	shift
	make_bundle "$b" "$@"
	cp "$BUILD_DIR/bin/rune-attest" "$b/rootfs/bin/"
	for lib in $(ldd "$BUILD_DIR/bin/rune-attest" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
		cp --parents -L "$lib" "$b/rootfs/"
	done
	# (LeakSanitizer cannot stop the world under the enclave's seccomp
	# filter, which denies ptrace: the ASan build's leak check is the host's.)
	jq_edit "$b" --arg p "$BUILD_DIR/pal/liberpal-sim.so" '.annotations = {"enclave.type": "sim",
		"enclave.runtime.path": $p} | .linux.namespaces |= map(select(.type != "network"))
		| .process.env += ["ASAN_OPTIONS=detect_leaks=0"]'
}

test_sim_enclave_attests_to_rune_kbs() {
	attester_bundle "$T/b" /bin/rune-attest evidence
	printf 'version = "0.1.0"\nalgorithm = "sha384"\n\n[data]\n"aa.toml" = """\n[token_configs]\n"""\n' >"$T/b/rootfs/initdata.toml"
	sed 's/token_configs/other/' "$T/b/rootfs/initdata.toml" >"$T/b/rootfs/other.toml"
	digest=$(sha384sum "$T/b/rootfs/initdata.toml" | cut -d' ' -f1)
	jq_edit "$T/b" --arg d "config_id=$digest" '.annotations["enclave.runtime.args"] = $d'
	# /dev/attestation inside the enclave, as Gramine offers it: detected as sim
	rc=0
	ev=$(r run -b "$T/b" ev1 2>"$T/pal.log") || rc=$?
	[ "$rc" = 0 ] || fail "evidence in the enclave: exit $rc, stdout '$ev', stderr: $(cat "$T/pal.log")"
	assert_eq sim "$(jq -r .provider <<<"$ev")" "provider detected in the enclave"
	assert_contains "$(jq -r .quote.type <<<"$ev")" "SIMULATION"
	assert_eq "$digest" "$(jq -r .quote.config_id <<<"$ev" | cut -c1-96)" "config_id carries the init-data digest"
	assert_eq "$(jq -r .report_data <<<"$ev")" "$(jq -r .quote.report_data <<<"$ev")" "the quote binds the report data"
	assert_contains "$(cat "$T/pal.log")" "SIMULATED quotes"
	mr=$(jq -r .quote.measurement <<<"$ev")
	[ -s /var/lib/rune/sim/sim-key.pub ] || fail "the simulation's public key was not exported"
	# rune-kbs verifies the quote with the exported key and applies reference values
	printf '{"resources": {"default/key/*": {"tee": ["sim"], "measurement": ["%s"], "init_data": ["%s"]}}}' \
		"$mr" "$digest" >"$T/policy.json"
	kbs_start --policy "$T/policy.json" --sim-key /var/lib/rune/sim/sim-key.pub
	head -c 32 /dev/urandom >"$KBS_REPO/default/key/1"
	set_args "$T/b" /bin/sh -c "rune-attest --url $KBS --initdata /initdata.toml get-resource --path default/key/1 | od -An -tx1 -v"
	got=$(r run -b "$T/b" ev2 2>>"$T/pal.log" | tr -d ' \n')
	assert_eq "$(od -An -tx1 -v "$KBS_REPO/default/key/1" | tr -d ' \n')" "$got" "the secret released to the sim enclave"
	# init-data other than the quote binds: refused at attestation
	set_args "$T/b" /bin/rune-attest --url "$KBS" --initdata /other.toml get-resource --path default/key/1
	expect_fail 3 r run -b "$T/b" ev3
	assert_contains "$ERR" "AttestationError: sim evidence refused: sim evidence: the init-data sent does not match the quote's config_id"
	# a measurement the policy does not list: denied, the rule named
	printf '{"resources": {"default/key/*": {"tee": ["sim"], "measurement": ["%064d"]}}}' 0 >"$T/policy2.json"
	kbs_start --policy "$T/policy2.json" --sim-key /var/lib/rune/sim/sim-key.pub
	set_args "$T/b" /bin/rune-attest --url "$KBS" --initdata /initdata.toml get-resource --path default/key/1
	expect_fail 3 r run -b "$T/b" ev4
	assert_contains "$ERR" "PolicyDeny: resource policy rule \"default/key/*\" denies default/key/1: measurement \"$mr\" is not one of"
	# a KBS that trusts another simulation key refuses the quote
	openssl ecparam -name prime256v1 -genkey -noout -out "$T/other.pem"
	openssl ec -in "$T/other.pem" -pubout -out "$T/other.pub" 2>/dev/null
	kbs_start --policy "$T/policy.json" --sim-key "$T/other.pub"
	set_args "$T/b" /bin/rune-attest --url "$KBS" --initdata /initdata.toml attest
	expect_fail 3 r run -b "$T/b" ev5
	assert_contains "$ERR" "the quote's signature does not verify with the simulation key"
}

# kp_conf NAME ARGS...: an ocicrypt key-provider config naming a cmd provider.
kp_conf() {
	local name=$1
	shift
	printf '%s\n' "$@" | jq -R . | jq -s --arg n "$name" '{"key-providers": {($n): {"cmd": {"path": .[0], "args": .[1:]}}}}'
}

test_sim_enclave_with_a_broken_key_says_so() {
	attester_bundle "$T/b" /bin/rune-attest evidence
	r run -b "$T/b" ok1 >/dev/null 2>&1 || true # (makes the key on a fresh machine)
	local key=/var/lib/rune/sim/sim-key.pem
	[ -s "$key" ] || fail "no simulation key"
	cp -p "$key" "$T/key.bak"
	printf -- '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n' >"$key"
	rc=0
	r run -b "$T/b" bad1 >"$T/out" 2>"$T/pal.log" || rc=$?
	cp -p "$T/key.bak" "$key" # put back before anything can fail
	[ "$rc" != 0 ] || fail "evidence with a broken key: $(cat "$T/out")"
	# the key is parsed at the first quote, and the error says which file
	assert_contains "$(cat "$T/pal.log")" "$key is not a PEM private key"
	rc=0
	r run -b "$T/b" ok2 >"$T/out" 2>"$T/pal.log" || rc=$?
	[ "$rc" = 0 ] || fail "evidence with the key restored: $(cat "$T/pal.log")"
}

test_kbs_held_image_keys_annotation_packet() {
	registry_start
	base_layout
	SECRET="kbs-held-secret-$RANDOM$RANDOM"
	layer_from '[{"name": "secret.txt", "data": "'"$SECRET"'"}]' base gzip
	head -c 32 /dev/urandom >"$T/kek"
	echo '{"resources": {"default/key/*": {"tee": ["sample"]}}}' >"$T/policy.json"
	kbs_start --allow-sample --policy "$T/policy.json"
	cp "$T/kek" "$KBS_REPO/default/key/1"
	RAB="$BUILD_DIR/bin/rune-attest"
	kp_conf attestation-agent "$RAB" --url "$KBS" --tee sample keyprovider >"$T/kp.json"
	# the encrypting side: rune-attest keyprovider (keywrap), through ocicrypt's
	# cmd protocol (Debian's skopeo 1.9 cannot encrypt with key providers: its
	# ocicrypt predates them, so the spec helper drives the protocol)
	OCICRYPT_KEYPROVIDER_CONFIG="$T/kp.json" /usr/bin/python3 "$TOP/tests/helpers/ocicrypt.py" "$T/layout" base enc \
		--recipient "provider:attestation-agent:keyid=kbs:///default/key/1::keypath=$T/kek"
	push enc "$REG/aa/img:1"
	packet=$(skopeo inspect --raw --tls-verify=false "docker://$REG/aa/img:1" | jq -r '.layers[-1].annotations["org.opencontainers.image.enc.keys.provider.attestation-agent"]' | base64 -d)
	assert_eq "kbs:///default/key/1" "$(jq -r .kid <<<"$packet")" "the packet names its KEK"
	assert_eq "A256GCM 0.1.0 kbs" "$(jq -r '[.wrap_type, .version, .provider] | join(" ")' <<<"$packet")"
	# an independent unwrapper (python3-cryptography) opens our packet with the KEK
	kp_conf attestation-agent /usr/bin/python3 "$TOP/tests/helpers/keyprovider.py" --kek "$T/kek" >"$T/kp-py.json"
	OCICRYPT_KEYPROVIDER_CONFIG="$T/kp-py.json" RI --tls-verify=false --decryption-key provider:attestation-agent \
		unpack "$REG/aa/img:1" "$T/b0" >/dev/null
	assert_eq "$SECRET" "$(cat "$T/b0/rootfs/secret.txt")"
	# the decrypting side: rune-attest attests, fetches the KEK from rune-kbs, unwraps
	rm -rf "$T/store"
	OCICRYPT_KEYPROVIDER_CONFIG="$T/kp.json" RI --tls-verify=false --decryption-key provider:attestation-agent \
		unpack "$REG/aa/img:1" "$T/b1" >/dev/null
	assert_eq "$SECRET" "$(cat "$T/b1/rootfs/secret.txt")"
	# ... and opens packets the python provider wrote (kid kbs:///default/key/1)
	OCICRYPT_KEYPROVIDER_CONFIG="$T/kp-py.json" /usr/bin/python3 "$TOP/tests/helpers/ocicrypt.py" "$T/layout" base enc2 \
		--recipient provider:attestation-agent
	push enc2 "$REG/aa/img:2"
	OCICRYPT_KEYPROVIDER_CONFIG="$T/kp.json" RI --tls-verify=false --decryption-key provider:attestation-agent \
		unpack "$REG/aa/img:2" "$T/b2" >/dev/null
	assert_eq "$SECRET" "$(cat "$T/b2/rootfs/secret.txt")"
	# the policy denies the KEK: the unpack is refused, the rule named, nothing kept
	echo '{"resources": {"default/key/*": {"tee": ["sim"]}}}' >"$T/deny.json"
	kbs_start --allow-sample --policy "$T/deny.json"
	cp "$T/kek" "$KBS_REPO/default/key/1"
	kp_conf attestation-agent "$RAB" --url "$KBS" --tee sample keyprovider >"$T/kp-deny.json"
	rm -rf "$T/store"
	expect_fail 1 env OCICRYPT_KEYPROVIDER_CONFIG="$T/kp-deny.json" "$BUILD_DIR/bin/rune-image" --root "$T/store" \
		--insecure-policy --tls-verify=false --decryption-key provider:attestation-agent unpack "$REG/aa/img:1" "$T/b3"
	assert_contains "$ERR" 'the KEK kbs:///default/key/1: resource: GET'
	assert_contains "$ERR" 'PolicyDeny: resource policy rule "default/key/*" denies default/key/1: tee "sample" is not one of ["sim"]'
	[ ! -e "$T/b3/rootfs" ] || fail "a refused unpack left a rootfs"
	! grep -rqa "$SECRET" "$T/store" 2>/dev/null || fail "plaintext in the store"
}

test_rune_kbs_policy_files_are_read_strictly() {
	# the shipped policy loads
	kbs_start --policy "$TOP/contrib/rune-kbs-policy.json"
	# a bad one stops rune-kbs at start, naming the file and the JSON path
	echo '{"resources": {"default/key/1": {"tee": "sim"}}}' >"$T/bad.json"
	expect_fail 1 "$BUILD_DIR/bin/rune-kbs" --listen "127.0.0.1:$(free_port)" --repository "$T/r2" --policy "$T/bad.json"
	assert_contains "$ERR" "$T/bad.json: resources[\"default/key/1\"].tee: expected an array of strings"
	echo '{"default": {"allow": true}, "extra": 1}' >"$T/bad2.json"
	expect_fail 1 "$BUILD_DIR/bin/rune-kbs" --listen "127.0.0.1:$(free_port)" --repository "$T/r2" --policy "$T/bad2.json"
	assert_contains "$ERR" "$T/bad2.json: extra: unknown field (default, resources)"
	expect_fail 2 "$BUILD_DIR/bin/rune-kbs" --tls-cert x
	assert_contains "$ERR" "--tls-cert and --tls-key go together"
}

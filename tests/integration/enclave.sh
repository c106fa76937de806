# Enclave containers: rune driving enclave runtimes through the PAL API —
# our simulation runtime, the v1/v2/v3 skeletons, and a PAL built separately
# against the published ABI.

PALS="$BUILD_DIR/pal"
SIM="$PALS/liberpal-sim.so"
THIRD="$BUILD_DIR/tests/pal-thirdparty.so"

# enclave_bundle DIR PAL_PATH [args...]: a bundle whose env names the enclave.
enclave_bundle() {
	local b=$1 pal=$2
	shift 2
	make_bundle "$b" "$@"
	jq_edit "$b" --arg p "$pal" '.process.env += ["ENCLAVE_TYPE=sim", "ENCLAVE_RUNTIME_PATH=" + $p]'
}

# no_container_left ID: nothing of a failed create may remain.
no_container_left() {
	[ ! -e "$ROOT/$1" ] || fail "state dir $ROOT/$1 left behind: $(ls -A "$ROOT/$1")"
	assert_eq "" "$(r list -q)" "containers listed"
	! find /sys/fs/cgroup -maxdepth 3 -name "$1" 2>/dev/null | grep -q . || fail "cgroup of $1 left behind"
	! pgrep -f "rune.*create.*$1" >/dev/null || fail "a process of $1 is still running"
}

test_sim_run_exit_codes_and_stdio() {
	enclave_bundle "$T/b" "$SIM" sh -c 'echo "out:$0"; echo err >&2; read line; echo "in:$line"; exit 0'
	out=$(echo hello | r run -b "$T/b" e0 2>"$T/err")
	assert_eq "out:sh
in:hello" "$out" "stdout"
	assert_contains "$(cat "$T/err")" "err"
	for code in 1 42; do
		set_args "$T/b" sh -c "exit $code"
		rc=0
		r run -b "$T/b" "e$code" 2>/dev/null || rc=$?
		assert_eq "$code" "$rc" "exit code of 'exit $code' in the enclave"
	done
	set_args "$T/b" sh -c 'kill -9 $$'
	rc=0
	r run -b "$T/b" e137 2>/dev/null || rc=$?
	assert_eq 137 "$rc" "a workload killed by SIGKILL"
	# a workload the enclave runtime cannot start: 127, and the runtime's error
	set_args "$T/b" /no/such/program
	expect_fail 127 r run -b "$T/b" e127
	assert_contains "$ERR" "pal_create_process failed with -2"
}

test_each_pal_version_lifecycle() {
	for v in 1 2 3; do
		enclave_bundle "$T/b$v" "$PALS/liberpal-skeleton-v$v.so" sh -c 'echo "ran $0 [$1]"; exit 3' sh "a b"
		r create -b "$T/b$v" "s$v" 2>/dev/null
		assert_eq created "$(status_of "s$v")"
		assert_eq "$v" "$(r state "s$v" | jq .enclave.palVersion)" "palVersion of skeleton v$v"
		r start "s$v"
		wait_status "s$v" stopped
		assert_eq 3 "$(r state "s$v" | jq .enclave.exitStatus)" "exitStatus (v$v)"
		log=$(r delete "s$v" 2>&1)
		assert_contains "$log" "exited with status 3"
		out=$(r run -b "$T/b$v" "r$v" 2>/dev/null) || rc=$?
		assert_eq "ran sh [a b]" "$out" "stdout (v$v)"
		assert_eq 3 "${rc:-0}" "run exit code (v$v)"
		unset rc
	done
}

test_env_reaches_workload_without_enclave_vars() {
	for pal in "$SIM" "$PALS/liberpal-skeleton-v1.so" "$THIRD"; do
		enclave_bundle "$T/b" "$pal" sh -c 'env'
		jq_edit "$T/b" '.process.env += ["FOO=bar baz", "ENCLAVE_RUNTIME_LOGLEVEL=off"]'
		mkdir -p "$T/b/rootfs/inst"
		jq_edit "$T/b" '.process.env += ["ENCLAVE_RUNTIME_ARGS=/inst"]'
		[ "$pal" = "$SIM" ] && jq_edit "$T/b" '.process.env |= map(select(startswith("ENCLAVE_RUNTIME_ARGS") | not))'
		out=$(r run -b "$T/b" envtest 2>/dev/null)
		assert_contains "$out" "FOO=bar baz"
		assert_contains "$out" "PATH="
		assert_not_contains "$out" "ENCLAVE_"
		rm -rf "$T/b"
	done
}

test_annotations_and_env_precedence() {
	make_bundle "$T/b" sh -c 'echo annotated'
	jq_edit "$T/b" --arg p "$SIM" '.annotations = {"enclave.type": "sim", "enclave.runtime.path": $p,
		"enclave.runtime.args": "measure=/bin,measure=/etc", "enclave.runtime.loglevel": "off"}'
	out=$(r run -b "$T/b" a1 2>"$T/err")
	assert_eq annotated "$out"
	# loglevel off silences the runtime; commas became spaces (else pal_init refuses)
	assert_not_contains "$(cat "$T/err")" "liberpal-sim"
	# the annotation is what is used when the env says nothing...
	jq_edit "$T/b" '.annotations["enclave.runtime.path"] = "/nonexistent/pal.so"'
	expect_fail 1 r run -b "$T/b" a2
	assert_contains "$ERR" "/nonexistent/pal.so"
	# ...and the env wins over it
	jq_edit "$T/b" --arg p "$SIM" '.process.env += ["ENCLAVE_RUNTIME_PATH=" + $p]'
	assert_eq annotated "$(r run -b "$T/b" a3 2>/dev/null)"
	# and no type: a plain container, even with a path
	make_bundle "$T/p" sh -c 'echo plain; grep -c ENCLAVE /proc/self/environ || true'
	out=$(r run -b "$T/p" p1)
	assert_contains "$out" "plain"
}

test_create_failures_are_clear_and_leave_nothing() {
	local cases=(
		"/nonexistent/liberpal.so|no such file or directory|/nonexistent/liberpal.so"
		"$T/notelf.so|not an ELF file|$T/notelf.so"
		"/bin/busybox|not a shared object|/bin/busybox"
		"pal.so|must be an absolute host path|pal.so"
		"$BUILD_DIR/tests/pal-broken-nokill.so|required symbol pal_kill is missing|PAL API v2"
		"$BUILD_DIR/tests/pal-broken-v4.so|implements PAL API v4|v1 to v3"
	)
	echo "just text" >"$T/notelf.so"
	enclave_bundle "$T/b" "$SIM" true
	for c in "${cases[@]}"; do
		IFS='|' read -r pal want1 want2 <<<"$c"
		jq_edit "$T/b" --arg p "$pal" '.process.env |= map(if startswith("ENCLAVE_RUNTIME_PATH=") then "ENCLAVE_RUNTIME_PATH=" + $p else . end)'
		expect_fail 1 r create -b "$T/b" bad
		assert_contains "$ERR" "$want1"
		assert_contains "$ERR" "$want2"
		no_container_left bad
	done
	# pal_init failing: its return code is named
	jq_edit "$T/b" --arg p "$PALS/liberpal-skeleton-v2.so" '.process.env |= map(if startswith("ENCLAVE_RUNTIME_PATH=") then "ENCLAVE_RUNTIME_PATH=" + $p else . end) | .process.env += ["ENCLAVE_RUNTIME_ARGS=fail-init"]'
	expect_fail 1 r create -b "$T/b" bad
	assert_contains "$ERR" "pal_init failed with -1"
	assert_contains "$ERR" "operation not permitted"
	no_container_left bad
	# a third-party runtime whose instance directory is missing (-1 and errno)
	enclave_bundle "$T/t" "$THIRD" true
	jq_edit "$T/t" '.process.env += ["ENCLAVE_RUNTIME_ARGS=occlum_instance"] | .process.cwd = "/"'
	expect_fail 1 r create -b "$T/t" bad
	assert_contains "$ERR" "pal_init failed with -1"
	assert_contains "$ERR" "no such file or directory"
	no_container_left bad
	# types: unknown, and hardware this host does not have
	jq_edit "$T/b" '.process.env |= map(if startswith("ENCLAVE_TYPE=") then "ENCLAVE_TYPE=quantum" else . end)'
	expect_fail 1 r create -b "$T/b" bad
	assert_contains "$ERR" 'quantum'
	assert_contains "$ERR" 'unknown (known: sim, intelSgx'
	if [ ! -e /dev/sgx_enclave ] && [ ! -e /dev/sgx/enclave ] && [ ! -e /dev/isgx ]; then
		jq_edit "$T/b" '.process.env |= map(if startswith("ENCLAVE_TYPE=") then "ENCLAVE_TYPE=intelSgx" else . end)'
		expect_fail 1 r create -b "$T/b" bad
		assert_contains "$ERR" "intelSgx: this host has no SGX device"
	fi
	no_container_left bad
	# a type without a runtime path
	make_bundle "$T/n" true
	jq_edit "$T/n" '.process.env += ["ENCLAVE_TYPE=sim"]'
	expect_fail 1 r create -b "$T/n" bad
	assert_contains "$ERR" "enclave.runtime.path (ENCLAVE_RUNTIME_PATH) is not set"
	no_container_left bad
}

test_kill_reaches_the_workload() {
	enclave_bundle "$T/b" "$SIM" sh -c 'trap "echo got-term; exit 7" TERM; trap "echo got-usr1" USR1; echo up; while :; do sleep 0.05; done'
	r run -d -b "$T/b" k1 >"$T/out" 2>/dev/null
	wait_status k1 running
	for _ in $(seq 100); do grep -q up "$T/out" && break; sleep 0.05; done
	# a signal sent to the init itself is forwarded too
	kill -USR1 "$(r state k1 | jq .pid)"
	for _ in $(seq 100); do grep -q got-usr1 "$T/out" && break; sleep 0.05; done
	assert_contains "$(cat "$T/out")" "got-usr1"
	r kill k1 TERM
	wait_status k1 stopped
	assert_contains "$(cat "$T/out")" "got-term"
	assert_eq 7 "$(r state k1 | jq .enclave.exitStatus)" "exitStatus after TERM"
	# SIGKILL ends the enclave too; foreground run reports 137
	set_args "$T/b" sleep 30
	r run -b "$T/b" k2 2>/dev/null &
	runpid=$!
	wait_status k2 running
	r kill k2 KILL
	rc=0
	wait $runpid || rc=$?
	assert_eq 137 "$rc" "run of a SIGKILLed enclave container"
}

test_refused_signal_reported_once() {
	enclave_bundle "$T/b" "$THIRD" sh -c 'trap "exit 9" TERM; while :; do sleep 0.05; done'
	mkdir -p "$T/b/rootfs/inst"
	jq_edit "$T/b" '.process.env += ["ENCLAVE_RUNTIME_ARGS=/inst"]'
	r --log "$T/log" run -d -b "$T/b" s1 >/dev/null 2>&1
	wait_status s1 running
	for _ in 1 2 3; do r kill s1 USR1; sleep 0.1; done
	r kill s1 HUP
	r kill s1 TERM
	wait_status s1 stopped
	assert_eq 9 "$(r state s1 | jq .enclave.exitStatus)" "TERM still delivered"
	assert_eq 1 "$(grep -c 'signal 10 (User defined signal 1) not delivered' "$T/log")" "reports of refused SIGUSR1"
	assert_eq 1 "$(grep -c 'signal 1 (Hangup) not delivered' "$T/log")" "reports of refused SIGHUP"
	assert_contains "$(cat "$T/log")" "pal_kill returned -22"
}

test_exec_in_the_same_enclave() {
	enclave_bundle "$T/b" "$SIM" sh -c 'echo inside >/tmp/marker; while :; do sleep 0.05; done'
	r run -d -b "$T/b" x1 >/dev/null 2>&1
	wait_status x1 running
	for _ in $(seq 100); do r exec x1 cat /tmp/marker >/dev/null 2>&1 && break; sleep 0.05; done
	# the enclave's private /tmp: only processes of this enclave see the marker
	assert_eq inside "$(r exec x1 cat /tmp/marker)" "exec sees the enclave's /tmp"
	[ ! -e "$T/b/rootfs/tmp/marker" ] || fail "the enclave's /tmp is the rootfs's"
	# argv intact: spaces, quotes, empty strings
	out=$(r exec x1 sh -c 'for a in "$@"; do echo "[$a]"; done' sh "a b" "it's" '"q"' "")
	assert_eq "[a b]
[it's]
[\"q\"]
[]" "$out" "argv"
	# exit codes, env, stdin
	rc=0
	r exec x1 sh -c 'exit 42' || rc=$?
	assert_eq 42 "$rc" "exec exit code"
	rc=0
	r exec x1 sh -c 'kill -9 $$' || rc=$?
	assert_eq 137 "$rc" "exec killed by SIGKILL"
	assert_eq "v=bar" "$(r exec -e FOO=bar x1 sh -c 'echo v=$FOO')"
	assert_eq "piped" "$(echo piped | r exec x1 cat)"
	# an unknown program fails clearly, with runc's exit code for rune failures
	expect_fail 255 r exec x1 /no/such/program
	assert_contains "$ERR" "pal_create_process failed"
	# detached, with a pid file: the pid stands for the enclave process
	r exec -d --pid-file "$T/pid" x1 sh -c 'trap "echo caught >/tmp/caught; exit 5" TERM; while :; do sleep 0.05; done'
	pid=$(cat "$T/pid")
	kill -0 "$pid"
	# the proxy is the container's, in every hierarchy: born there, or moved
	# there where clone3 is refused
	init_cgroups=$(cut -d: -f2- "/proc/$(r state x1 | jq .pid)/cgroup" | sort)
	assert_contains "$init_cgroups" ":/x1"
	assert_eq "$init_cgroups" "$(cut -d: -f2- "/proc/$pid/cgroup" | sort)" "the exec proxy's cgroups"
	"$BUILD_DIR/tests/refuse-syscall" clone3 38 "$RUNE" --root "$ROOT" exec -d --pid-file "$T/pid2" x1 sleep 30
	assert_eq "$init_cgroups" "$(cut -d: -f2- "/proc/$(cat "$T/pid2")/cgroup" | sort)" "a moved exec proxy's cgroups"
	kill -TERM "$pid"
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	! kill -0 "$pid" 2>/dev/null || fail "proxy $pid did not end after TERM"
	assert_eq caught "$(r exec x1 cat /tmp/caught)"
	r delete -f x1
}

test_exec_with_long_root_path() {
	local long="$T/$(printf 'r%.0s' $(seq 120))"
	mkdir -p "$long"
	enclave_bundle "$T/b" "$SIM" sleep 30
	"$RUNE" --root "$long" run -d -b "$T/b" l1 >/dev/null 2>&1
	assert_eq "ok" "$("$RUNE" --root "$long" exec l1 echo ok)" "exec under a ${#long}-byte root"
	"$RUNE" --root "$long" delete -f l1
}

test_exec_refused_when_impossible() {
	enclave_bundle "$T/b" "$PALS/liberpal-skeleton-v1.so" sleep 30
	r run -d -b "$T/b" v1 >/dev/null 2>&1
	wait_status v1 running
	expect_fail 255 r exec v1 true
	assert_contains "$ERR" "PAL API v1"
	enclave_bundle "$T/c" "$SIM" sleep 30
	r create -b "$T/c" c1 2>/dev/null
	expect_fail 255 r exec c1 true
	assert_contains "$ERR" "before it is started"
	# what the PAL API cannot express is refused, not ignored
	r start c1
	expect_fail 255 r exec -u 1000:1000 c1 true
	assert_contains "$ERR" "runs as the container's user 0:0, not 1000:1000"
	expect_fail 255 r exec --cwd /tmp c1 true
	assert_contains "$ERR" "runs in the container's cwd /, not /tmp"
	expect_fail 255 r exec --preserve-fds 1 c1 true
	assert_contains "$ERR" "--preserve-fds"
}

test_terminal_run_and_exec() {
	enclave_bundle "$T/b" "$SIM" sh -c 'tty; [ -t 0 ] && echo run-tty-ok; while :; do sleep 0.05; done'
	jq_edit "$T/b" '.process.terminal = true | .process.env += ["ENCLAVE_RUNTIME_LOGLEVEL=off"]'
	"$BUILD_DIR/tests/console-receiver" "$T/cs" >"$T/out" &
	rp=$!
	for _ in $(seq 50); do grep -q LISTENING "$T/out" 2>/dev/null && break; sleep 0.05; done
	r run -d --console-socket "$T/cs" -b "$T/b" t1 2>/dev/null
	for _ in $(seq 100); do grep -q run-tty-ok "$T/out" && break; sleep 0.05; done
	assert_contains "$(cat "$T/out")" "/dev/pts/0"
	assert_contains "$(cat "$T/out")" "run-tty-ok"
	# exec -t through a console socket
	"$BUILD_DIR/tests/console-receiver" "$T/cs2" >"$T/out2" &
	rp2=$!
	for _ in $(seq 50); do grep -q LISTENING "$T/out2" 2>/dev/null && break; sleep 0.05; done
	r exec -t --console-socket "$T/cs2" t1 sh -c '[ -t 0 ] && [ -t 1 ] && echo exec-tty-ok; exit 3' || rc=$?
	wait $rp2
	assert_contains "$(cat "$T/out2")" "exec-tty-ok"
	assert_eq 3 "${rc:-0}" "exec -t exit code"
	# exec -t in the foreground: rune proxies the pty
	out=$(script -qec "$RUNE --root $ROOT exec -t t1 sh -c 'tty; exit 4'" /dev/null) || rc=$?
	assert_contains "$out" "/dev/pts/"
	assert_eq 4 "$rc" "foreground exec -t exit code"
	r delete -f t1
	kill $rp 2>/dev/null || true
}

test_sim_isolation() {
	enclave_bundle "$T/b" "$SIM" sh -c '
		touch /rootfs-write 2>/dev/null && echo root-writable || echo root-readonly
		touch /tmp/ok && echo tmp-writable
		[ -e /sys/kernel ] && echo sys-present || echo sys-absent
		unshare -U true 2>/dev/null && echo userns-allowed || echo userns-denied
		cat /proc/1/environ >/dev/null 2>&1 && echo init-readable || echo init-protected
		readlink /proc/1/exe >/dev/null 2>&1 && echo exe-reachable || echo exe-hidden
		echo "fds:$(ls /proc/self/fd | tr "\n" " ")"
		echo "cwd:$(readlink /proc/self/cwd)"
		grep -q "^Seccomp:[[:space:]]*2" /proc/self/status && echo seccomp-on
		grep -q "^NoNewPrivs:[[:space:]]*1" /proc/self/status && echo nnp-on'
	jq_edit "$T/b" '.root.readonly = false'
	out=$(r --log "$T/log" run -b "$T/b" i1 2>"$T/err")
	for w in root-readonly tmp-writable sys-absent userns-denied init-protected exe-hidden seccomp-on nnp-on; do
		assert_contains "$out" "$w"
	done
	# nothing of the host's leaks in: only stdio (and ls's own directory), cwd inside
	assert_contains "$out" "fds:0 1 2 3 
"
	assert_contains "$out" "cwd:/
"
	# the same workload in a plain container is not boxed in: the checks can fail
	make_bundle "$T/p" sh -c 'unshare -U true 2>/dev/null && echo userns-allowed; [ -e /sys/kernel ] && echo sys-present'
	out=$(r run -b "$T/p" p1)
	assert_contains "$out" "userns-allowed"
	assert_contains "$out" "sys-present"
	# simulation is never mistakable for protection
	assert_contains "$(cat "$T/err")" "SIMULATION MODE"
	assert_contains "$(cat "$T/log")" "level=warning msg=\"enclave type sim: simulation"
	enclave_bundle "$T/c" "$SIM" sleep 30
	r create -b "$T/c" i2 2>/dev/null
	st=$(r state i2)
	assert_eq true "$(jq .enclave.simulation <<<"$st")"
	assert_eq true "$(jq .enclave.debug <<<"$st")"
	assert_contains "$(jq -r .enclave.warning <<<"$st")" "not protected"
	# writable and sys arguments lift the restrictions
	enclave_bundle "$T/w" "$SIM" sh -c 'touch /rootfs-write && echo root-writable; [ -e /sys/kernel ] && echo sys-present'
	jq_edit "$T/w" '.process.env += ["ENCLAVE_RUNTIME_ARGS=writable,sys"] | .root.readonly = false'
	out=$(r run -b "$T/w" i3 2>/dev/null)
	assert_contains "$out" "root-writable"
	assert_contains "$out" "sys-present"
}

test_sim_measurement_and_report() {
	enclave_bundle "$T/b" "$SIM" sleep 30
	r create -b "$T/b" m1 2>/dev/null
	r create -b "$T/b" m2 2>/dev/null
	m1=$(r state m1 | jq -r .enclave.measurement)
	m2=$(r state m2 | jq -r .enclave.measurement)
	[[ "$m1" =~ ^[0-9a-f]{64}$ ]] || fail "measurement '$m1'"
	assert_eq "$m1" "$m2" "measurement of two enclaves from one image"
	# the report, asked for directly, carries the same measurement and our report data
	rep=$("$BUILD_DIR/tests/pal-report" "$SIM" "$T/b/rootfs" "" "nonce-1234")
	assert_contains "$rep" "mrenclave=$m1"
	assert_contains "$rep" "reportdata=$(printf 'nonce-1234' | od -An -tx1 | tr -d ' \n')000000"
	assert_contains "$rep" "flags=0x7"
	assert_contains "$rep" "len=432"
	assert_contains "$rep" "keyid=rune-sim: NOT A TEE"
	# a changed byte in the image changes it
	cp -a "$T/b" "$T/c"
	echo "tampered" >>"$T/c/rootfs/etc/hostname"
	r create -b "$T/c" m3 2>/dev/null
	m3=$(r state m3 | jq -r .enclave.measurement)
	[ "$m3" != "$m1" ] || fail "measurement ignores the image's content"
	# so does the configuration
	jq_edit "$T/c" '.process.env += ["ENCLAVE_RUNTIME_ARGS=measure=/bin"]'
	r create -b "$T/c" m4 2>/dev/null
	m4=$(r state m4 | jq -r .enclave.measurement)
	[ "$m4" != "$m3" ] || fail "measurement ignores the arguments"
	# measure=/bin does not look at /etc: the tampered and clean images agree
	jq_edit "$T/b" '.process.env += ["ENCLAVE_RUNTIME_ARGS=measure=/bin"]'
	r create -b "$T/b" m5 2>/dev/null
	assert_eq "$m4" "$(r state m5 | jq -r .enclave.measurement)" "measure=/bin on both images"
	# a PAL v2 has no reports: no measurement in the state
	enclave_bundle "$T/v2" "$PALS/liberpal-skeleton-v2.so" sleep 30
	r create -b "$T/v2" m6 2>/dev/null
	assert_eq null "$(r state m6 | jq .enclave.measurement)"
}

test_sgx_host_devices_and_aesmd_are_added() {
	# A host that looks like an SGX host, in a private mount namespace: the
	# device nodes and aesmd's socket directory exist.
	enclave_bundle "$T/b" "$PALS/liberpal-skeleton-v2.so" sh -c 'ls -ln /dev/sgx_enclave /dev/sgx_provision; ls /var/run/aesmd'
	jq_edit "$T/b" '.process.env |= map(if startswith("ENCLAVE_TYPE=") then "ENCLAVE_TYPE=intelSgx" else . end)'
	out=$(unshare -m --propagation private sh -c '
		mount -t tmpfs fakedev /dev && mknod -m 666 /dev/null c 1 3 &&
		mknod -m 666 /dev/sgx_enclave c 10 125 && mknod -m 660 /dev/sgx_provision c 10 126 &&
		mount -t tmpfs fakerun /run && mkdir -p /run/aesmd && touch /run/aesmd/aesm.socket &&
		exec "$0" --root "$1" run -b "$2" sgx1' "$RUNE" "$ROOT" "$T/b" 2>&1)
	assert_contains "$out" "crw-rw-rw-    1 0        0          10, 125"
	assert_contains "$out" "crw-rw----    1 0        0          10, 126"
	assert_contains "$out" "aesm.socket"
}

test_sim_in_a_user_namespace() {
	# Everything liberpal-sim does at pal_init must work with capabilities
	# that only hold in the container's user namespace.
	enclave_bundle "$T/b" "$SIM" sh -c 'id -u; touch /x 2>/dev/null || echo root-readonly; echo ok >/tmp/t && cat /tmp/t'
	userns_bundle "$T/b"
	out=$(r run -b "$T/b" u1 2>"$T/err") || fail "run in a user namespace: $(cat "$T/err")"
	assert_eq "0
root-readonly
ok" "$out" "output"
	set_args "$T/b" sh -c 'echo ok >/tmp/t; sleep 30'
	r run -d -b "$T/b" u2 >/dev/null 2>&1
	for _ in $(seq 100); do r exec u2 cat /tmp/t >/dev/null 2>&1 && break; sleep 0.05; done
	assert_eq "ok" "$(r exec u2 cat /tmp/t)" "exec in a user-namespaced enclave"
}

# pal_bundle DIR NAME args...: a bundle for one of the PALs under test by name
# (sim, v1, v2, v3, thirdparty), with what that runtime needs.
pal_bundle() {
	local b=$1 name=$2 pal
	shift 2
	case $name in
	sim) pal=$SIM ;;
	v[123]) pal="$PALS/liberpal-skeleton-$name.so" ;;
	thirdparty) pal=$THIRD ;;
	esac
	enclave_bundle "$b" "$pal" "$@"
	jq_edit "$b" '.process.env += ["ENCLAVE_RUNTIME_LOGLEVEL=debug"]'
	if [ "$name" = thirdparty ]; then
		mkdir -p "$b/rootfs/inst"
		jq_edit "$b" '.process.env += ["ENCLAVE_RUNTIME_ARGS=/inst"]'
	fi
}

test_every_pal_exit_codes_signals_exec() {
	for name in sim v1 v2 v3 thirdparty; do
		pal_bundle "$T/$name" "$name" sh -c 'exit 0'
		for code in 0 1 42; do
			set_args "$T/$name" sh -c "exit $code"
			rc=0
			r run -b "$T/$name" "c$code" 2>"$T/err" || rc=$?
			assert_eq "$code" "$rc" "$name: exit $code"
		done
		set_args "$T/$name" sh -c 'kill -9 $$'
		rc=0
		r run -b "$T/$name" c137 2>/dev/null || rc=$?
		assert_eq 137 "$rc" "$name: killed by SIGKILL"
		[ "$name" = v1 ] && continue
		# the PAL's calls, in order (our runtimes log them at debug)
		if [ "$name" != thirdparty ]; then
			calls=$(grep -o 'pal_init\|created process\|process [0-9]* ended\|pal_destroy' "$T/err" | sed 's/[0-9]//g' | tr '\n' ,)
			[ "$name" = sim ] || assert_eq "pal_init,created process,process  ended,pal_destroy," "$calls" "$name: call order"
		fi
		set_args "$T/$name" sh -c 'trap "exit 7" TERM; while :; do sleep 0.05; done'
		r run -d -b "$T/$name" k >/dev/null 2>&1
		wait_status k running
		out=$(r exec -e FOO=5 k sh -c 'echo "[$1] $FOO"; exit 4' sh 'a b' 2>/dev/null) || rc=$?
		assert_eq "[a b] 5" "$out" "$name: exec output"
		assert_eq 4 "$rc" "$name: exec exit code"
		r kill k TERM
		wait_status k stopped
		assert_eq 7 "$(r state k | jq .enclave.exitStatus)" "$name: exit status after TERM"
		r delete k
	done
}

# exec, ps, pause/resume, events, update, features, spec, console socket.

start_sleeper() {
	make_bundle "$T/b" sleep 1000
	jq_edit "$T/b" '.root.readonly = false'
	r run -d -b "$T/b" "$1" </dev/null >/dev/null 2>&1
}

test_exec_exit_codes_env_cwd_user() {
	start_sleeper c1
	assert_eq hi "$(r exec c1 echo hi)"
	rc=0; r exec c1 sh -c 'exit 7' || rc=$?
	assert_eq 7 "$rc"
	assert_eq "FOO=bar" "$(r exec -e FOO=bar c1 env | grep ^FOO=)"
	assert_eq /tmp "$(r exec --cwd /tmp c1 pwd)"
	assert_eq "65534:65534" "$(r exec --user 65534:65534 c1 sh -c 'echo $(id -u):$(id -g)')"
	assert_contains "$(r exec --user 65534 -g 10 -g 11 c1 id -G)" "10 11"
	# argv reaches the process intact
	assert_eq "a b|'c'|\"d\"" "$(r exec c1 sh -c 'printf "%s|%s|%s" "$1" "$2" "$3"' x 'a b' "'c'" '"d"')"
	# exec joins the container's namespaces and cgroup
	assert_eq "$(readlink /proc/"$(r state c1 | jq .pid)"/ns/pid)" "$(r exec -d --pid-file "$T/ep" c1 sleep 5 && readlink /proc/"$(cat "$T/ep")"/ns/pid)"
	assert_contains "$(cat /proc/"$(cat "$T/ep")"/cgroup)" ":/c1"
	expect_fail 255 r exec c1 no-such-cmd
	assert_contains "$ERR" "no-such-cmd"
	expect_fail 255 r exec nosuch true
	r kill c1 KILL
	wait_status c1 stopped
	expect_fail 255 r exec c1 true
	assert_contains "$ERR" "cannot exec in a stopped container"
}

test_exec_process_json_and_caps() {
	start_sleeper c1
	cat >"$T/p.json" <<'J'
{"args": ["sh", "-c", "echo $X; grep CapEff /proc/self/status"], "env": ["X=from-process-json", "PATH=/bin"],
 "cwd": "/", "user": {"uid": 0, "gid": 0},
 "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]}}
J
	out=$(r exec --process "$T/p.json" c1)
	assert_contains "$out" "from-process-json"
	assert_contains "$out" "CapEff:	0000000000000020"
	# --cap adds to the container's own set
	assert_contains "$(r exec --cap CAP_SYS_ADMIN c1 grep CapEff /proc/self/status)" "CapEff:	0000000020200420"
	echo '{"args": "oops", "cwd": "/"}' >"$T/bad.json"
	expect_fail 255 r exec --process "$T/bad.json" c1
	assert_contains "$ERR" "args"
	r delete -f c1
}

test_ps_table_and_json() {
	start_sleeper c1
	pid=$(r state c1 | jq .pid)
	assert_eq "[$pid]" "$(r ps --format json c1)"
	out=$(r ps c1)
	assert_contains "$(echo "$out" | head -1)" "PID"
	assert_contains "$out" "sleep 1000"
	assert_eq 2 "$(echo "$out" | wc -l)" "header + one process"
	assert_contains "$(r ps c1 -o pid,comm)" "$pid sleep"
	r delete -f c1
}

test_pause_resume() {
	start_sleeper c1
	r pause c1
	assert_eq paused "$(status_of c1)"
	assert_eq FROZEN "$(cat /sys/fs/cgroup/freezer/c1/freezer.state)"
	expect_fail 255 r exec c1 true
	assert_contains "$ERR" "paused"
	r resume c1
	assert_eq running "$(status_of c1)"
	expect_fail 1 r resume c1
	assert_contains "$ERR" "not paused"
	r pause c1
	r delete -f c1
	[ ! -d /sys/fs/cgroup/freezer/c1 ] || fail "frozen cgroup left"
}

test_events_stats() {
	start_sleeper c1
	ev=$(r events --stats c1)
	assert_eq stats "$(echo "$ev" | jq -r .type)"
	assert_eq c1 "$(echo "$ev" | jq -r .id)"
	[ "$(echo "$ev" | jq .data.memory.usage.usage)" -gt 0 ] || fail "no memory usage in $ev"
	assert_eq 1 "$(echo "$ev" | jq .data.pids.current)"
	n=$(timeout 2.5 "$RUNE" --root "$ROOT" events --interval 1s c1 | wc -l) || true
	[ "$n" -ge 2 ] || fail "events --interval printed $n lines in 2.5 s"
	r delete -f c1
}

test_update_resources() {
	start_sleeper c1
	r update --pids-limit 10 --memory 64m --cpu-shares 512 c1
	assert_eq 10 "$(cat /sys/fs/cgroup/pids/c1/pids.max)"
	assert_eq $((64 * 1024 * 1024)) "$(cat /sys/fs/cgroup/memory/c1/memory.limit_in_bytes)"
	assert_eq 512 "$(cat /sys/fs/cgroup/cpu/c1/cpu.shares)"
	echo '{"pids": {"limit": 20}}' >"$T/r.json"
	r update -r "$T/r.json" c1
	assert_eq 20 "$(cat /sys/fs/cgroup/pids/c1/pids.max)"
	expect_fail 1 r update --memory lots c1
	assert_contains "$ERR" "--memory"
	r delete -f c1
}

test_features_json() {
	f=$(r features)
	assert_eq '["prestart","createRuntime","createContainer","startContainer","poststart","poststop"]' "$(echo "$f" | jq -c .hooks)"
	echo "$f" | jq -e '.linux.namespaces | index("user")' >/dev/null
	echo "$f" | jq -e '.linux.capabilities | index("CAP_SYS_ADMIN")' >/dev/null
	echo "$f" | jq -e '.mountOptions | index("rro")' >/dev/null
	assert_eq "$(runc features | jq -c 'keys')" "$(echo "$f" | jq -c 'keys')" "top-level keys as runc"
}

test_spec_matches_runc_shape() {
	mkdir -p "$T/ours" "$T/theirs"
	r spec -b "$T/ours"
	(cd "$T/theirs" && runc spec)
	norm='del(.ociVersion, .hostname) | walk(if type == "object" then del(.ociVersion) else . end)'
	assert_eq "$(jq -S "$norm" "$T/theirs/config.json")" "$(jq -S "$norm" "$T/ours/config.json")" "spec"
	assert_eq rune "$(jq -r .hostname "$T/ours/config.json")"
	expect_fail 1 r spec -b "$T/ours"
	assert_contains "$ERR" "config.json exists"
	mkdir -p "$T/rl"
	r spec --rootless -b "$T/rl"
	jq -e '.linux.namespaces | map(.type) | index("user")' "$T/rl/config.json" >/dev/null
	assert_eq 0 "$(jq '.linux.uidMappings[0].hostID' "$T/rl/config.json")"
}

test_console_socket_tty() {
	make_bundle "$T/b" sh -c 'tty; echo term-ok'
	jq_edit "$T/b" '.process.terminal = true'
	"$BUILD_DIR/tests/console-receiver" "$T/cs" >"$T/out" &
	rp=$!
	for _ in $(seq 50); do grep -q LISTENING "$T/out" 2>/dev/null && break; sleep 0.05; done
	r run -d --console-socket "$T/cs" -b "$T/b" c1
	wait $rp
	assert_contains "$(cat "$T/out")" "RECEIVED"
	assert_contains "$(cat "$T/out")" "/dev/pts/0"
	assert_contains "$(cat "$T/out")" "term-ok"
	# a terminal without a console socket cannot detach
	expect_fail 1 r run -d -b "$T/b" c2
	assert_contains "$ERR" "console socket"
}

test_exec_tty_through_console_socket() {
	start_sleeper c1
	"$BUILD_DIR/tests/console-receiver" "$T/cs" >"$T/out" &
	rp=$!
	for _ in $(seq 50); do grep -q LISTENING "$T/out" 2>/dev/null && break; sleep 0.05; done
	r exec -t --console-socket "$T/cs" c1 sh -c '[ -t 0 ] && [ -t 1 ] && echo exec-tty-ok'
	wait $rp
	assert_contains "$(cat "$T/out")" "exec-tty-ok"
	r delete -f c1
}

test_run_foreground_terminal() {
	make_bundle "$T/b" sh -c 'tty; exit 3'
	jq_edit "$T/b" '.process.terminal = true'
	# script gives rune a real tty on stdin, as a user's shell would
	rc=0
	out=$(script -qec "$RUNE --root $ROOT run -b $T/b c1" /dev/null) || rc=$?
	assert_contains "$out" "/dev/pts/0"
	assert_eq 3 "$rc"
}

test_global_flags_and_misc_create_flags() {
	assert_contains "$(r --version)" "rune version"
	assert_contains "$(r --help)" "COMMANDS"
	make_bundle "$T/b" sh -c 'cat /proc/self/keys 2>/dev/null | grep -c _ses || true'
	# --no-new-keyring keeps rune's session keyring; without it the container gets its own
	r run --no-new-keyring -b "$T/b" c1 >/dev/null
	expect_fail 1 r --systemd-cgroup run -b "$T/b" c2
	assert_contains "$ERR" "systemd"
	r --debug --log "$T/debug.log" run -b "$T/b" c3 >/dev/null
	[ -f "$T/debug.log" ] || fail "--log file not created"
	expect_fail 1 r nosuchcommand
	assert_contains "$ERR" "nosuchcommand"
}

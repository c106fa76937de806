# Lifecycle commands and their runc semantics: create/start/run/state/kill/delete.

test_run_prints_output_and_exit_codes() {
	make_bundle "$T/b" echo hello from rune
	out=$(r run -b "$T/b" c1)
	assert_eq "hello from rune" "$out"
	for code in 0 1 42; do
		set_args "$T/b" sh -c "exit $code"
		rc=0; r run -b "$T/b" c1 || rc=$?
		assert_eq "$code" "$rc" "exit code"
	done
	# run removes the container afterwards (no --keep)
	assert_eq "" "$(r list -q)"
}

test_run_killed_exits_128_plus_signal() {
	make_bundle "$T/b" sleep 100
	rc=0
	r run -b "$T/b" c1 </dev/null >/dev/null 2>&1 & runpid=$!
	wait_status c1 running
	r kill c1 KILL
	wait $runpid || rc=$?
	assert_eq 137 "$rc"
	# a signal sent to a foreground run is forwarded to the container
	r run -b "$T/b" c2 </dev/null >/dev/null 2>&1 & runpid=$!
	wait_status c2 running
	kill -TERM $runpid
	rc=0; wait $runpid || rc=$?
	assert_eq 143 "$rc" "SIGTERM forwarded by rune run"
}

test_list_formats_match_runc() {
	export RUNC_ROOT="$T/runc"
	assert_eq "$(runc --root "$RUNC_ROOT" list)" "$(r list)" "empty table"
	assert_eq "$(runc --root "$RUNC_ROOT" list --format json)" "$(r list --format json)" "empty json"
	make_bundle "$T/b" sleep 100
	r create -b "$T/b" c1 </dev/null >/dev/null 2>&1
	runc --root "$RUNC_ROOT" create -b "$T/b" c1 </dev/null >/dev/null 2>&1
	ours=$(r list | sed -E 's/[0-9]{2,}[ ]/N /; s/20[0-9T:.+-]+Z?/TIME/g')
	theirs=$(runc --root "$RUNC_ROOT" list | sed -E 's/[0-9]{2,}[ ]/N /; s/20[0-9T:.+-]+Z?/TIME/g')
	# Column widths follow the data (timestamps differ per runtime); compare names,
	# and check our own rows line up under our header as Go's tabwriter does.
	assert_eq "$(echo "$theirs" | head -1 | tr -s ' ')" "$(echo "$ours" | head -1 | tr -s ' ')" "list header"
	hdr=$(r list | head -1)
	row=$(r list | sed -n 2p)
	for col in PID STATUS BUNDLE CREATED OWNER; do
		pos=$(awk -v h="$hdr" -v c="$col" 'BEGIN { print index(h, c) }')
		[ "${row:pos-2:1}" = " " ] && [ "${row:pos-1:1}" != " " ] || fail "column $col not aligned: '$hdr' / '$row'"
	done
	assert_eq "$(echo "$theirs" | awk 'NR==2 {print $1, $3, $4, $6}')" "$(echo "$ours" | awk 'NR==2 {print $1, $3, $4, $6}')" "list row"
	assert_eq "$(runc --root "$RUNC_ROOT" list --format json | jq -c '.[0] | keys_unsorted')" "$(r list --format json | jq -c '.[0] | keys_unsorted')" "json keys"
	assert_eq root "$(r list --format json | jq -r '.[0].owner')"
	assert_eq c1 "$(r list -q)"
	runc --root "$RUNC_ROOT" delete -f c1
	r delete -f c1
}

test_exit_codes_match_runc() {
	export RUNC_ROOT="$T/runc"
	make_bundle "$T/b" sh -c 'exit 42'
	rc1=0; r run -b "$T/b" c1 || rc1=$?
	rc2=0; runc --root "$RUNC_ROOT" run -b "$T/b" c1 || rc2=$?
	assert_eq "$rc2" "$rc1" "run exit code"
	expect_fail 1 r state nosuch
	rc=0; runc --root "$RUNC_ROOT" state nosuch 2>/dev/null || rc=$?
	assert_eq "$rc" 1 "runc's code for an unknown id"
}

test_run_keep_leaves_stopped_container() {
	make_bundle "$T/b" true
	r run --keep -b "$T/b" c1
	assert_eq stopped "$(status_of c1)"
	assert_eq 0 "$(r state c1 | jq .pid)"
	r delete c1
	expect_fail 1 r state c1
}

test_run_detach() {
	make_bundle "$T/b" sleep 100
	r run -d -b "$T/b" c1 </dev/null >/dev/null 2>&1
	assert_eq running "$(status_of c1)"
	r kill c1 KILL
	wait_status c1 stopped
	r delete c1
}

test_create_start_state() {
	make_bundle "$T/b" sh -c 'echo started > /tmp/marker; sleep 100'
	jq_edit "$T/b" '.root.readonly = false | .annotations = {"org.example.k": "v"}'
	r create -b "$T/b" --pid-file "$T/pid" c1 </dev/null >/dev/null 2>&1
	st=$(r state c1)
	assert_eq created "$(echo "$st" | jq -r .status)"
	pid=$(echo "$st" | jq .pid)
	assert_eq "$pid" "$(cat "$T/pid")" "pid file"
	[ -d "/proc/$pid" ] || fail "init pid $pid not alive"
	assert_eq "$T/b" "$(echo "$st" | jq -r .bundle)"
	assert_eq "$T/b/rootfs" "$(echo "$st" | jq -r .rootfs)"
	assert_eq v "$(echo "$st" | jq -r '.annotations["org.example.k"]')"
	echo "$st" | jq -r .created | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}(\.[0-9]+)?Z$' || fail "created not RFC 3339 UTC"
	[ ! -e "$T/b/rootfs/tmp/marker" ] || fail "process ran before start"
	r start c1
	assert_eq running "$(status_of c1)"
	wait_file "$T/b/rootfs/tmp/marker"
	assert_eq started "$(cat "$T/b/rootfs/tmp/marker")"
	expect_fail 1 r start c1
	assert_contains "$ERR" "cannot start an already running container"
	r kill c1 9
	wait_status c1 stopped
	expect_fail 1 r start c1
	assert_contains "$ERR" "cannot start a container that has stopped"
	r delete c1
}

test_state_keys_match_runc() {
	make_bundle "$T/b" sleep 100
	export RUNC_ROOT="$T/runc"
	r create -b "$T/b" c1 </dev/null >/dev/null 2>&1
	runc --root "$RUNC_ROOT" create -b "$T/b" c2 </dev/null >/dev/null 2>&1
	ours=$(r state c1 | jq -c 'keys_unsorted')
	theirs=$(runc --root "$RUNC_ROOT" state c2 | jq -c 'keys_unsorted')
	assert_eq "$theirs" "$ours" "state keys"
	# the same field formatting: two-space indent, same line count
	assert_eq "$(runc --root "$RUNC_ROOT" state c2 | wc -l)" "$(r state c1 | wc -l)" "state line count"
	assert_eq "$(runc --root "$RUNC_ROOT" state c2 | head -2 | tail -1 | sed 's/".*//')" "$(r state c1 | head -2 | tail -1 | sed 's/".*//')" "indent"
	runc --root "$RUNC_ROOT" delete -f c2
	r delete -f c1
}

test_unknown_container_errors() {
	for cmd in state start pause resume ps events; do
		expect_fail 1 r $cmd nosuch
		assert_contains "$ERR" "container does not exist"
	done
	expect_fail 1 r kill nosuch
	assert_contains "$ERR" "container does not exist"
	expect_fail 1 r delete nosuch
	assert_contains "$ERR" "container does not exist"
	r delete --force nosuch
	expect_fail 1 r state 'bad/id'
	assert_contains "$ERR" "invalid container id"
}

test_create_existing_id_fails() {
	make_bundle "$T/b" sleep 100
	r create -b "$T/b" c1 </dev/null >/dev/null 2>&1
	expect_fail 1 r create -b "$T/b" c1
	assert_contains "$ERR" "container with id exists: c1"
	assert_eq created "$(status_of c1)" "the first container is untouched"
	r delete c1
	assert_eq "" "$(r list -q)"
}

test_concurrent_create_same_id_one_wins() {
	make_bundle "$T/b" sleep 100
	ok=0
	for i in 1 2 3 4; do (r create -b "$T/b" same </dev/null >/dev/null 2>&1 && echo won >"$T/won.$i") & done
	wait
	assert_eq 1 "$(ls "$T"/won.* | wc -l)" "winners"
	r delete same
}

test_missing_bundle_and_bad_config() {
	expect_fail 1 r create -b "$T/nope" c1
	assert_contains "$ERR" "$T/nope"
	make_bundle "$T/b" true
	jq_edit "$T/b" '.process.args = "true"'
	expect_fail 1 r create -b "$T/b" c1
	assert_contains "$ERR" "process.args"
	assert_contains "$ERR" "config.json"
	echo '{ "ociVersion": "1.0.2", ' >"$T/b/config.json"
	expect_fail 1 r create -b "$T/b" c1
	assert_contains "$ERR" "invalid JSON"
	make_bundle "$T/b2" true
	jq_edit "$T/b2" '.mounts[0].destination = "relative"'
	expect_fail 1 r run -b "$T/b2" c1
	assert_contains "$ERR" "mounts[0].destination"
	make_bundle "$T/b3" true
	jq_edit "$T/b3" '.root.path = "missing-rootfs"'
	expect_fail 1 r run -b "$T/b3" c1
	assert_contains "$ERR" "root.path"
	make_bundle "$T/b4" no-such-binary
	expect_fail 1 r run -b "$T/b4" c1
	assert_contains "$ERR" 'no-such-binary\": executable file not found in $PATH'
	# nothing claims to exist after failures, and no cgroup is left
	assert_eq "" "$(r list -q)"
	assert_eq "" "$(ls "$ROOT")"
	[ ! -d /sys/fs/cgroup/memory/c1 ] || fail "cgroup left behind"
}

test_kill_signals() {
	make_bundle "$T/b" sh -c 'trap "echo got-usr1 >/tmp/sig" USR1; while :; do sleep 0.1; done'
	jq_edit "$T/b" '.root.readonly = false'
	r run -d -b "$T/b" c1 </dev/null >/dev/null 2>&1
	r kill c1 SIGUSR1
	wait_file "$T/b/rootfs/tmp/sig"
	assert_eq got-usr1 "$(cat "$T/b/rootfs/tmp/sig")"
	rm "$T/b/rootfs/tmp/sig"
	r kill c1 usr1
	wait_file "$T/b/rootfs/tmp/sig"
	expect_fail 1 r kill c1 NOTASIGNAL
	assert_contains "$ERR" "unknown signal"
	r kill c1 9
	wait_status c1 stopped
	expect_fail 1 r kill c1 9
	assert_contains "$ERR" "container not running"
	r delete c1
}

test_kill_all_reaches_every_process() {
	make_bundle "$T/b" sh -c 'sleep 1000 & sleep 1000 & wait'
	r run -d -b "$T/b" c1 </dev/null >/dev/null 2>&1
	for _ in $(seq 50); do [ "$(r ps --format json c1 | jq length)" = 3 ] && break; sleep 0.1; done
	pids=$(r ps --format json c1 | jq -r '.[]')
	assert_eq 3 "$(echo "$pids" | wc -l)" "processes"
	r kill --all c1 KILL
	wait_status c1 stopped
	for p in $pids; do [ ! -d "/proc/$p" ] || [ "$(awk '{print $3}' /proc/$p/stat)" = Z ] || fail "pid $p survived kill --all"; done
	r delete c1
}

test_delete_semantics() {
	make_bundle "$T/b" sleep 100
	r run -d -b "$T/b" c1 </dev/null >/dev/null 2>&1
	cg=$(ls -d /sys/fs/cgroup/memory/c1)
	expect_fail 1 r delete c1
	assert_contains "$ERR" "cannot delete container c1 that is not stopped: running"
	r delete --force c1
	expect_fail 1 r state c1
	[ ! -d "$cg" ] || fail "cgroup $cg left after delete"
	# a created (never started) container can be deleted without --force
	r create -b "$T/b" c2 </dev/null >/dev/null 2>&1
	pid=$(r state c2 | jq .pid)
	r delete c2
	[ ! -d /proc/$pid ] || [ "$(awk '{print $3}' /proc/$pid/stat)" = Z ] || fail "init of deleted created container alive"
}

test_json_log_reports_cause() {
	make_bundle "$T/b" no-such-binary
	expect_fail 1 r --log "$T/log.json" --log-format json create -b "$T/b" c1
	line=$(tail -1 "$T/log.json")
	assert_eq error "$(echo "$line" | jq -r .level)"
	assert_contains "$(echo "$line" | jq -r .msg)" "no-such-binary"
	echo "$line" | jq -e .time >/dev/null
	expect_fail 1 r --log-format yaml state x
	assert_contains "$ERR" "--log-format"
}

# exec_failure_reported: a workload whose execve fails (found, executable, but
# not a program) is reported by the command that started it — through
# rune-exec's status (default) or the init's own (rune re-executed) — and
# leaves no container claiming to run.
exec_failure_reported() {
	make_bundle "$T/b" sleep 100
	printf '\177ELF not really\n' >"$T/b/rootfs/bin/bad"
	chmod +x "$T/b/rootfs/bin/bad"
	set_args "$T/b" /bin/bad
	rc=0
	out=$(r run -b "$T/b" c1 2>&1) || rc=$?
	assert_eq 1 "$rc" "run's exit status"
	assert_contains "$out" 'exec process.args[0] \"/bin/bad\": exec format error'
	assert_eq "" "$(r list -q)" "containers after the failed run"
	r create -b "$T/b" c2
	rc=0
	out=$(r start c2 2>&1) || rc=$?
	assert_eq 1 "$rc" "start's exit status"
	assert_contains "$out" "exec format error"
	wait_status c2 stopped
	r delete c2
	# exec into a running container: 255, as every failure of exec
	set_args "$T/b" sleep 100
	r run -d -b "$T/b" c3 </dev/null >/dev/null
	rc=0
	out=$(r exec c3 /bin/bad 2>&1) || rc=$?
	assert_eq 255 "$rc" "exec's exit status"
	assert_contains "$out" "/bin/bad"
	assert_contains "$out" "exec format error"
	# and the container's own processes are untouched
	assert_eq running "$(r state c3 | jq -r .status)"
	r delete -f c3
}

test_exec_failure_reported_through_rune_exec() {
	exec_failure_reported
}

test_exec_failure_reported_by_a_reexecuted_rune() {
	export RUNE_REEXEC=1
	exec_failure_reported
}

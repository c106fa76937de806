# linux.seccomp through libseccomp: actions, errno values, argument filters,
# flags, SCMP_ACT_NOTIFY with a seccomp agent, and clear errors.

# sc_bundle DIR SECCOMP_JSON args...: a bundle with this linux.seccomp.
sc_bundle() {
	local b=$1 sc=$2
	shift 2
	make_bundle "$b" "$@"
	jq_edit "$b" --argjson sc "$sc" '.linux.seccomp = $sc | .root.readonly = false'
}

test_seccomp_errno_rules_block_and_plain_does_not() {
	sc_bundle "$T/b" '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
		{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
		{"names": ["rmdir"], "action": "SCMP_ACT_ERRNO"},
		{"names": ["no_such_syscall_in_any_kernel"], "action": "SCMP_ACT_ERRNO"}]}' \
		sh -c 'mkdir /tmp/d 2>&1; rmdir /tmp 2>&1; grep ^Seccomp: /proc/self/status'
	out=$(r run -b "$T/b" c1)
	assert_contains "$out" "Function not implemented"
	assert_contains "$out" "Operation not permitted"
	assert_contains "$out" "Seccomp:	2"
	# the same process without the filter succeeds (the test can fail)
	jq_edit "$T/b" 'del(.linux.seccomp)'
	out=$(r run -b "$T/b" c2)
	assert_not_contains "$out" "Function not implemented"
	assert_contains "$out" "Seccomp:	0"
}

# splice_cache FILE_KEY FILE_PROG OUT: FILE_KEY's header and key with
# FILE_PROG's program (the cache file is "magic line, key, NUL, program").
splice_cache() {
	/usr/bin/python3 -c 'import sys
k = open(sys.argv[1], "rb").read(); p = open(sys.argv[2], "rb").read()
open(sys.argv[3], "wb").write(k[:k.index(b"\0") + 1] + p[p.index(b"\0") + 1:])' "$@"
}

test_seccomp_program_cached_and_checked() {
	local enosys='{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
		{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}'
	local eacces='{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
		{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}'
	sc_bundle "$T/a" "$enosys" sh -c 'mkdir /tmp/d 2>&1; true'
	sc_bundle "$T/b" "$eacces" sh -c 'mkdir /tmp/d 2>&1; true'
	assert_contains "$(r run -b "$T/a" a1)" "Function not implemented"
	local fa fb
	fa=$(ls "$ROOT/.seccomp-bpf")
	assert_eq 1 "$(echo "$fa" | wc -l)" "one program cached"
	assert_contains "$(r run -b "$T/b" b1)" "Permission denied"
	fb=$(ls "$ROOT/.seccomp-bpf" | grep -v "^$fa$")
	[ -n "$fb" ] || fail "another profile, another program"
	# a start with a cached program loads it, not a fresh compile: a's key
	# with b's program gives b's errno
	splice_cache "$ROOT/.seccomp-bpf/$fa" "$ROOT/.seccomp-bpf/$fb" "$T/spliced"
	cp "$T/spliced" "$ROOT/.seccomp-bpf/$fa"
	assert_contains "$(r run -b "$T/a" a2)" "Permission denied"
	# ... and only under the exact key: one byte of it changed, or the file
	# cut short, is compiled afresh (and the file put right)
	sed -i '0,/mkdirat/s//mkdiraX/' "$ROOT/.seccomp-bpf/$fa"
	assert_contains "$(r run -b "$T/a" a3)" "Function not implemented"
	cmp -s "$ROOT/.seccomp-bpf/$fa" "$T/spliced" && fail "the cache file was not rewritten"
	truncate -s -3 "$ROOT/.seccomp-bpf/$fa"
	assert_contains "$(r run -b "$T/a" a4)" "Function not implemented"
	# names are kept apart in the key: a profile naming the unknown
	# syscall "mkdir mkdirat" (which blocks nothing) must not hand its
	# program to one naming mkdir and mkdirat
	sc_bundle "$T/d" '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
		{"names": ["mkdir mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}' sh -c 'mkdir /tmp/d 2>&1; true'
	rm "$ROOT/.seccomp-bpf/$fa"
	assert_not_contains "$(r run -b "$T/d" d1)" "Function not implemented"
	assert_contains "$(r run -b "$T/a" a5)" "Function not implemented"
	# a first create under a root that does not exist yet makes it as
	# without a filter (0711), the cache inside it 0700
	"$RUNE" --root "$T/fresh/root" run -b "$T/a" f1 >/dev/null
	assert_eq "711 700" "$(stat -c %a "$T/fresh/root") $(stat -c %a "$T/fresh/root/.seccomp-bpf")" "modes"
	# exec uses it too
	sc_bundle "$T/c" "$enosys" sleep 30
	r run -d -b "$T/c" c1
	assert_contains "$(r exec c1 sh -c 'mkdir /tmp/x 2>&1; true')" "Function not implemented"
	r delete -f c1
	assert_eq "" "$(ls "$ROOT")" "rune list's view of the root"
}

test_seccomp_kill_and_argument_filters() {
	sc_bundle "$T/b" '{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
		"flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"], "syscalls": [
		{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": 0, "op": "SCMP_CMP_EQ"}]},
		{"names": ["sync"], "action": "SCMP_ACT_KILL_PROCESS"},
		{"names": ["getpriority"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13, "args": [
			{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]}]}' \
		sh -c 'kill -0 1 2>&1 || echo zero-blocked; kill -CONT 1 && echo cont-ok; sync; echo "sync=$?"'
	out=$(r run -b "$T/b" c1)
	assert_contains "$out" "zero-blocked"
	assert_contains "$out" "cont-ok"
	assert_contains "$out" "sync=159"
}

test_seccomp_applies_to_exec_with_and_without_nnp() {
	for nnp in true false; do
		sc_bundle "$T/b$nnp" '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
			{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}' sleep 30
		jq_edit "$T/b$nnp" --argjson n $nnp '.process.noNewPrivileges = $n | .process.user = {"uid": 1000, "gid": 1000}'
		r run -d -b "$T/b$nnp" "c$nnp"
		out=$(r exec "c$nnp" sh -c 'mkdir /tmp/x 2>&1; grep ^NoNewPrivs: /proc/self/status')
		assert_contains "$out" "Function not implemented"
		assert_contains "$out" "NoNewPrivs:	$([ $nnp = true ] && echo 1 || echo 0)"
		# a process without privileges keeps the filter it was given (nothing lifted it)
		assert_eq 1000 "$(r exec "c$nnp" id -u)" "uid"
		r delete -f "c$nnp"
	done
}

test_seccomp_notify_reaches_the_agent() {
	"$BUILD_DIR/tests/seccomp-agent" "$T/agent.sock" "$T/agent.out" &
	echo $! >>"$T/pids"
	wait_file "$T/agent.sock"
	sc_bundle "$T/b" "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"$T/agent.sock\",
		\"listenerMetadata\": \"hello-agent\", \"syscalls\": [
		{\"names\": [\"mkdir\", \"mkdirat\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}" \
		sh -c 'mkdir /tmp/x && echo made; [ -d /tmp/x ] || echo not-really'
	out=$(r run -b "$T/b" n1)
	assert_contains "$out" "made"
	assert_contains "$out" "not-really"
	agent=$(cat "$T/agent.out")
	assert_contains "$agent" "NOTIFIED mkdir"
	state=$(grep ^STATE "$T/agent.out" | cut -d' ' -f2-)
	assert_eq '["seccompFd"]' "$(jq -c .fds <<<"$state")" "fds"
	assert_eq hello-agent "$(jq -r .metadata <<<"$state")" "metadata"
	assert_eq n1 "$(jq -r .state.id <<<"$state")" "state.id"
	[ "$(jq .pid <<<"$state")" -gt 0 ] || fail "pid in the process state"
	# no agent listening: create fails and leaves nothing
	sc_bundle "$T/c" "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"$T/none.sock\",
		\"syscalls\": [{\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}" true
	expect_fail 1 r run -b "$T/c" n2
	assert_contains "$ERR" "failed to connect with seccomp agent"
	assert_contains "$ERR" "connect to the seccomp agent at $T/none.sock"
	assert_eq "" "$(r list -q)" "containers after the failure"
	# a listenerPath no rule needs is no error (runc ignores it too)
	sc_bundle "$T/d" "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"$T/none.sock\"}" true
	r run -b "$T/d" n3
}

test_seccomp_config_errors() {
	local cases=(
		'{"defaultAction": "SCMP_ACT_MAYBE"}|linux.seccomp.defaultAction: unknown action "SCMP_ACT_MAYBE"'
		'{"defaultAction": "SCMP_ACT_NOTIFY", "listenerPath": "/x"}|cannot be the default action'
		'{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}|needs an absolute listenerPath'
		'{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/x", "syscalls": [{"names": ["write"], "action": "SCMP_ACT_NOTIFY"}]}|SCMP_ACT_NOTIFY cannot be used for the write syscall'
		'{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_TSYNC"], "listenerPath": "/x", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}|TSYNC cannot be used'
		'{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_Z80"]}|architectures[0]: unknown "SCMP_ARCH_Z80"'
		'{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_NOPE"]}|flags[0]: "SECCOMP_FILTER_FLAG_NOPE" is not supported'
		'{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": [], "action": "SCMP_ACT_ERRNO"}]}|syscalls[0].names: empty'
		'{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 7, "value": 0, "op": "SCMP_CMP_EQ"}]}]}|args[0].index: 7'
		'{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_ABOUT"}]}]}|args[0].op: unknown operator'
		'{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 99999}|errnoRet 99999 is out of range'
	)
	for c in "${cases[@]}"; do
		rm -rf "$T/b"
		sc_bundle "$T/b" "${c%%|*}" true
		expect_fail 1 r create -b "$T/b" bad
		assert_contains "${ERR//\\\"/\"}" "${c#*|}"
		assert_eq "" "$(r list -q)" "containers after a refused config"
	done
	# features says what is supported
	f=$(r features)
	assert_eq true "$(jq .linux.seccomp.enabled <<<"$f")" "seccomp.enabled"
	assert_contains "$(jq -c .linux.seccomp.actions <<<"$f")" "SCMP_ACT_NOTIFY"
	assert_contains "$(jq -c .linux.seccomp.operators <<<"$f")" "SCMP_CMP_MASKED_EQ"
}

# rune-exec marks its status descriptor close-on-exec with fcntl: a profile
# refusing fcntl must cost only the exec-failure report, never hand the
# workload the exec fifo (run) or the sync socket (exec).
test_seccomp_refusing_fcntl_leaks_no_descriptor() {
	sc_bundle "$T/b" '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
		{"names": ["fcntl"], "action": "SCMP_ACT_ERRNO"}]}' ls /proc/self/fd
	assert_eq "0 1 2 3" "$(r run -b "$T/b" c1 | xargs)" "descriptors of a run workload"
	jq_edit "$T/b" '.process.args = ["sleep", "30"]'
	r run -d -b "$T/b" c2
	assert_eq "0 1 2 3" "$(r exec c2 ls /proc/self/fd | xargs)" "descriptors of an exec'd process"
	r delete -f c2
}

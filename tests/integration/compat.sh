# What runc's own integration suite found (make runc-suite, docs/runc-suite.md),
# each kept fixed by a test of ours.

# A freezer cgroup directory of our own, frozen; its path in $FROZEN.
frozen_cgroup() {
	FROZEN=/sys/fs/cgroup/freezer/rune-frozen-$$-$RANDOM
	mkdir "$FROZEN"
	echo FROZEN >"$FROZEN/freezer.state"
	echo "$FROZEN" >>"$T/cgroups"
}

# Run by cleanup_all: thaw and remove the freezer cgroups a test made.
cleanup_extra() {
	[ -f "$T/cgroups" ] || return 0
	while read -r d; do
		[ -d "$d" ] || continue
		echo THAWED >"$d/freezer.state"
		rmdir "$d"
	done <"$T/cgroups"
}

test_exec_detach_outlives_rune() {
	make_bundle "$T/b" sleep 100
	r run -d -b "$T/b" c1 </dev/null >/dev/null 2>&1
	r exec -d --pid-file "$T/exec.pid" c1 sleep 77
	sleep 0.3 # rune is gone; its death signal must not have reached the process
	pid=$(cat "$T/exec.pid")
	kill -0 "$pid" || fail "the process of exec -d died with rune"
	assert_contains "$(cat /proc/"$pid"/cmdline | tr '\0' ' ')" "sleep 77"
	grep -q '^PPid:' /proc/"$pid"/status
}

test_frozen_cgroup_is_refused_not_waited_for() {
	frozen_cgroup
	make_bundle "$T/b" true
	jq_edit "$T/b" --arg p "/$(basename "$FROZEN")" '.linux.cgroupsPath = $p'
	for cmd in run create; do
		expect_fail 1 timeout 20 "$RUNE" --root "$ROOT" $cmd -b "$T/b" f1
		assert_contains "$ERR" "container's cgroup unexpectedly frozen"
		assert_eq "" "$(r list -q)" "containers after $cmd"
	done
	# the directory was not ours: it is left as it was
	assert_eq FROZEN "$(cat "$FROZEN/freezer.state")"
}

test_frozen_during_create_ends_the_wait() {
	make_bundle "$T/b" true
	cg=rune-freeze-$$-$RANDOM
	echo "/sys/fs/cgroup/freezer/$cg" >>"$T/cgroups"
	# the createContainer hook freezes the container's own cgroup: the init never answers again
	jq_edit "$T/b" --arg p "/$cg" --arg f "/sys/fs/cgroup/freezer/$cg/freezer.state" \
		'.linux.cgroupsPath = $p | .hooks.createContainer = [{"path": "/bin/sh", "args": ["sh", "-c", ("echo FROZEN > " + $f)]}]'
	expect_fail 1 timeout 30 "$RUNE" --root "$ROOT" run -b "$T/b" f2
	assert_contains "$ERR" "in a frozen cgroup and cannot answer"
	assert_eq "" "$(r list -q)" "containers after the failure"
	[ ! -d "/sys/fs/cgroup/freezer/$cg" ] || fail "the cgroup rune made was left"
}

test_paused_container_exec_and_start() {
	make_bundle "$T/b" sleep 100
	r run -d -b "$T/b" p1 </dev/null >/dev/null 2>&1
	r pause p1
	expect_fail 255 timeout 20 "$RUNE" --root "$ROOT" exec p1 true
	assert_contains "$ERR" "cannot exec in a paused container"
	(sleep 1 && r resume p1) &
	out=$(timeout 20 "$RUNE" --root "$ROOT" exec --ignore-paused p1 echo ok)
	assert_eq ok "$out" "exec --ignore-paused after the resume"
	wait
	# a created container that is paused is reported paused and is not started
	r create -b "$T/b" p2 </dev/null >/dev/null 2>&1
	r pause p2
	assert_eq paused "$(status_of p2)"
	expect_fail 1 timeout 20 "$RUNE" --root "$ROOT" start p2
	assert_contains "$ERR" "cannot start a container in the paused state"
	r resume p2
	assert_eq created "$(status_of p2)"
}

test_relative_pid_file_is_the_callers() {
	make_bundle "$T/b" sleep 100
	mkdir "$T/cwd"
	(cd "$T/cwd" && r create --pid-file pid.txt -b "$T/b" r1) </dev/null >/dev/null 2>&1
	assert_eq "$(r state r1 | jq .pid)" "$(cat "$T/cwd/pid.txt")" "create --pid-file"
	[ ! -e "$T/b/pid.txt" ] || fail "the pid file went to the bundle"
	(cd "$T/cwd" && r run -d --pid-file run.pid -b "$T/b" r2) </dev/null >/dev/null 2>&1
	assert_eq "$(r state r2 | jq .pid)" "$(cat "$T/cwd/run.pid")" "run -d --pid-file"
}

test_debug_logs_to_stderr_text_and_json() {
	make_bundle "$T/b" echo hello
	out=$(r --debug run -b "$T/b" d1 2>&1)
	assert_contains "$out" "level=debug"
	assert_contains "$out" "hello"
	out=$(r --debug --log "$T/log.json" --log-format json run -b "$T/b" d2 2>&1)
	assert_not_contains "$out" "level"
	assert_contains "$(cat "$T/log.json")" '"level":"debug"'
	jq -e . "$T/log.json" >/dev/null || fail "the JSON log is not JSON lines"
	# exec too, and without --debug no debug lines
	r run -d -b "$T/b" d3 </dev/null >/dev/null 2>&1 || true
	jq_edit "$T/b" '.process.args = ["sleep", "100"]'
	r run -d -b "$T/b" d4 </dev/null >/dev/null 2>&1
	assert_contains "$(r --debug exec d4 true 2>&1)" "level=debug"
	assert_eq "" "$(r exec d4 true 2>&1)" "exec without --debug"
}

test_help_for_every_command() {
	for cmd in create delete events exec features kill list pause ps resume run spec start state update; do
		out=$(r "$cmd" -h) || fail "$cmd -h failed"
		assert_contains "$(echo "$out" | sed -n 2p)" "rune $cmd - "
		assert_contains "$out" "USAGE:"
	done
	assert_contains "$(r list --help)" "--format"
}

test_stopped_container_kill_all_and_ps() {
	make_bundle "$T/b" sleep 100
	r run -d -b "$T/b" k1 </dev/null >/dev/null 2>&1
	r kill k1 KILL
	wait_status k1 stopped
	r kill -a k1 0
	expect_fail 1 r kill k1 0
	assert_contains "$ERR" "container not running"
	out=$(r ps k1)
	assert_contains "$out" "PID"
	assert_eq "[]" "$(r ps -f json k1)" "ps of a stopped container"
	r delete k1
}

test_no_pivot_hides_the_hosts_procfs() {
	make_bundle "$T/b" unshare -mrpf sh -c 'mount -t proc none /proc && echo mounted'
	jq_edit "$T/b" '.process.capabilities.bounding += ["CAP_SETFCAP"] | .process.capabilities.permitted += ["CAP_SETFCAP"]'
	out=$(r run --no-pivot -b "$T/b" np1 2>&1) && fail "a fresh procfs was mounted: $out"
	assert_contains "$out" "mount: permission denied"
	assert_not_contains "$out" "mounted"
	# with pivot_root the same is refused too
	out=$(r run -b "$T/b" np2 2>&1) && fail "a fresh procfs was mounted: $out"
	assert_not_contains "$out" "mounted"
}

test_rootfs_propagation_shared_and_unbindable() {
	make_bundle "$T/b" awk '$5 == "/"' /proc/self/mountinfo
	for p in shared rshared unbindable private slave rslave; do
		jq_edit "$T/b" --arg p "$p" '.linux.rootfsPropagation = $p'
		out=$(r run -b "$T/b" "prop-$p") || fail "rootfsPropagation $p: $out"
		case $p in
		*shared) assert_contains "$out" "shared:" ;;
		*unbindable) assert_contains "$out" "unbindable" ;;
		esac
	done
	# nothing the container mounts reaches the host for the default (rslave)
	assert_eq "" "$(grep "$T/b/rootfs" /proc/self/mountinfo)" "mounts left on the host"
}

test_seccomp_filter_denying_getcwd_and_close_range() {
	# an allow-list profile: everything else (getcwd, close_range, sendmsg...) fails with ENOSYS
	allowed='["read","write","openat","open","close","fstat","newfstatat","stat","lstat","execve","brk","mmap",
		"munmap","mprotect","arch_prctl","set_tid_address","exit_group","exit","rt_sigaction","rt_sigprocmask",
		"rt_sigreturn","getdents64","ioctl","uname","getpid","getppid","prctl","capget","capset","setgroups",
		"setresuid","setresgid","setuid","setgid","getuid","geteuid","getgid","getegid","umask","chdir","fchdir",
		"access","readlink","readlinkat","futex","set_robust_list","rseq","prlimit64","getrandom","statx","dup2",
		"dup3","sched_getaffinity","sigaltstack","poll","lseek","pread64","faccessat","faccessat2","wait4","fork",
		"vfork","clone","clone3","gettid","tgkill","kill","getpgrp","setpgid","getpgid","setsid","nanosleep",
		"clock_nanosleep","madvise","sysinfo","fcntl"]'
	make_bundle "$T/b" sh -c 'ls /proc/self/fd'
	jq_edit "$T/b" --argjson a "$allowed" '.linux.seccomp = {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
		"syscalls": [{"names": $a, "action": "SCMP_ACT_ALLOW"}]}'
	out=$(r run -b "$T/b" sc1 3<"$T/b/config.json" 4<"$T/b/config.json") || fail "create under the profile: $out"
	assert_eq "0 1 2 3 " "$(echo "$out" | tr '\n' ' ')" "fds of the process (3 is ls's own)"
}

test_read_only_dev_and_tmpfs() {
	make_bundle "$T/b" sh -c 'grep -E "^tmpfs (/dev|/mnt) " /proc/mounts; ls /dev/null /dev/pts >/dev/null && echo devices-ok'
	jq_edit "$T/b" '.mounts |= map(if .destination == "/dev" then .options += ["ro"] else . end)
		| .mounts += [{"destination": "/mnt", "type": "tmpfs", "source": "tmpfs", "options": ["ro", "mode=755"]}]'
	out=$(r run -b "$T/b" ro1)
	assert_contains "$(echo "$out" | grep '^tmpfs /dev ')" "ro,"
	assert_contains "$(echo "$out" | grep '^tmpfs /mnt ')" "ro,"
	assert_contains "$out" "devices-ok"
}

test_create_container_hook_runs_in_the_rootfs() {
	make_bundle "$T/b" cat /hook-was-here
	jq_edit "$T/b" '.root.readonly = false | .hooks.createContainer = [{"path": "/bin/sh", "args": ["sh", "-c", "pwd > ./hook-was-here"]}]'
	assert_eq "$T/b/rootfs" "$(r run -b "$T/b" h1)" "the hook's cwd"
	jq_edit "$T/b" '.hooks.createContainer = [{"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}]'
	expect_fail 1 r run -b "$T/b" h2
	assert_contains "$ERR" "error running hook #0 (createContainer, /bin/sh): exit status 3"
}

test_start_container_hook_killed_by_seccomp_is_reported() {
	make_bundle "$T/b" true
	jq_edit "$T/b" '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL"}]}
		| .hooks.startContainer = [{"path": "/bin/sh", "args": ["sh", "-c", "mkdir /tmp/x"]}]'
	expect_fail 127 r run -b "$T/b" sk1
	assert_contains "$ERR" "error running hook #0 (startContainer, /bin/sh): killed by signal 31 (bad system call)"
}

test_update_flags_anywhere_and_a_limited_parent() {
	make_bundle "$T/b" sleep 100
	parent=rune-pod-$$-$RANDOM
	jq_edit "$T/b" --arg p "/$parent/u1" '.linux.cgroupsPath = $p'
	mkdir -p "/sys/fs/cgroup/cpu/$parent"
	echo 50000 >"/sys/fs/cgroup/cpu/$parent/cpu.cfs_quota_us" # the pod: 50% of a CPU
	r run -d -b "$T/b" u1 </dev/null >/dev/null 2>&1
	cg=/sys/fs/cgroup/cpu/$parent/u1
	r update u1 --pids-limit 20 # flags after the id, as runc takes them
	assert_eq 20 "$(cat /sys/fs/cgroup/pids/$parent/u1/pids.max)"
	expect_fail 1 r update --cpu-quota 60000 u1 # above the pod's limit
	# a shorter period with a quota that fits: the quota must go first
	r update --cpu-period 10000 --cpu-quota 3000 u1
	assert_eq "10000 3000" "$(cat $cg/cpu.cfs_period_us) $(cat $cg/cpu.cfs_quota_us)"
	r delete -f u1
	rmdir "/sys/fs/cgroup/cpu/$parent" /sys/fs/cgroup/*/"$parent" 2>/dev/null || true
}

test_exec_into_sub_cgroups() {
	make_bundle "$T/b" sleep 100
	jq_edit "$T/b" '.mounts |= map(if .type == "cgroup" then .options -= ["ro"] else . end)'
	r run -d -b "$T/b" e1 </dev/null >/dev/null 2>&1
	expect_fail 255 r exec --cgroup .. e1 true
	assert_contains "$ERR" ".. is not a sub cgroup path"
	expect_fail 255 r exec --cgroup nonexistent e1 true
	assert_contains "$ERR" "exec --cgroup nonexistent: adding pid to cgroups: /sys/fs/cgroup/"
	assert_contains "$ERR" "/e1/nonexistent/cgroup.procs: no such file or directory"
	expect_fail 255 r exec --cgroup whaaat:/ e1 true
	assert_contains "$ERR" "unknown controller whaaat"
	r exec e1 mkdir /sys/fs/cgroup/memory/sub
	out=$(r exec --cgroup memory:sub e1 cat /proc/self/cgroup)
	assert_contains "$out" ":memory:/e1/sub"
	assert_contains "$(echo "$out" | grep ':pids:')" ":pids:/e1"
	r exec e1 rmdir /sys/fs/cgroup/memory/sub
}

test_user_namespace_with_inaccessible_bind_sources() {
	make_bundle "$T/b" cat /mnt/data/secret
	userns_bundle "$T/b"
	mkdir -p "$T/private/data"
	echo s3cr3t >"$T/private/data/secret"
	chmod 700 "$T/private" # the container's root (host uid 100000) may not pass
	jq_edit "$T/b" --arg s "$T/private/data" '.mounts += [{"destination": "/mnt/data", "type": "bind", "source": $s, "options": ["bind", "ro"]}]'
	assert_eq s3cr3t "$(r run -b "$T/b" un1)" "a bind source only the host may reach"
}

test_non_empty_cgroup_warns() {
	make_bundle "$T/b" sleep 100
	jq_edit "$T/b" '.linux.cgroupsPath = "/rune-shared-'$$'"'
	r run -d -b "$T/b" w1 </dev/null >/dev/null 2>&1
	r run -d -b "$T/b" w2 </dev/null >/dev/null 2>"$T/w2.err" # the container keeps the file open, not us
	assert_contains "$(cat "$T/w2.err")" "container's cgroup is not empty: 1 process(es) found"
	r delete -f w2
	r delete -f w1
}

test_seccomp_unknown_syscalls_get_enosys() {
	make_bundle "$T/b" /syscall-probe 1000 "$(printf '%d' 0x4000000)"
	cp "$BUILD_DIR/tests/syscall-probe" "$T/b/rootfs/"
	# a profile of an older kernel: syscalls above the largest it names are ENOSYS, others its default
	jq_edit "$T/b" '.linux.seccomp = {"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
		"syscalls": [{"names": ["read", "write", "exit_group", "exit", "brk", "arch_prctl", "set_tid_address", "execve",
			"mmap", "munmap", "mprotect", "rt_sigaction", "rt_sigprocmask", "close", "fstat", "newfstatat", "prlimit64",
			"readlinkat", "uname", "getrandom", "rseq", "set_robust_list", "futex", "openat", "capget", "capset", "prctl",
			"setgroups", "setresuid", "setresgid", "chdir", "fchdir", "umask", "sendmsg", "close_range", "fcntl",
			"getuid", "getgid", "geteuid", "getegid"], "action": "SCMP_ACT_ALLOW"}]}'
	out=$(r run -b "$T/b" en1)
	assert_contains "$out" "1000: errno 38" # above every syscall the profile names
	assert_contains "$out" "67108864: errno 38"
	# one the profile does not name but is below its largest keeps the default (EPERM)
	jq_edit "$T/b" '.process.args = ["/syscall-probe", "39"]' # getpid
	assert_contains "$(r run -b "$T/b" en2)" "39: errno 1"
	# a permissive default, or ENOSYS as default, needs no stub: the probe sees the kernel's answer
	jq_edit "$T/b" '.process.args = ["/syscall-probe", "1000"] | .linux.seccomp.defaultAction = "SCMP_ACT_ALLOW"'
	assert_contains "$(r run -b "$T/b" en3)" "1000: errno 38"
}

test_delete_force_removes_sub_cgroups_and_their_processes() {
	make_bundle "$T/b" sleep 100
	jq_edit "$T/b" '.mounts |= map(if .type == "cgroup" then .options -= ["ro"] else . end)'
	r run -d -b "$T/b" sub1 </dev/null >/dev/null 2>&1
	r exec -d --pid-file "$T/sleep.pid" sub1 sleep 1000
	r exec sub1 mkdir /sys/fs/cgroup/memory/foo /sys/fs/cgroup/freezer/foo
	# move the exec'd process into the sub-cgroups, as the container itself might
	for s in memory freezer; do echo "$(cat "$T/sleep.pid")" >"/sys/fs/cgroup/$s/sub1/foo/cgroup.procs"; done
	assert_contains "$(r ps -f json sub1)" "$(cat "$T/sleep.pid")"
	r delete -f sub1
	expect_fail 1 r state sub1
	for s in memory freezer; do [ ! -d "/sys/fs/cgroup/$s/sub1" ] || fail "$s cgroup left"; done
	! kill -0 "$(cat "$T/sleep.pid")" 2>/dev/null || fail "the process in the sub-cgroup survived"
}

test_update_memory_unlimited_lifts_swap_too() {
	make_bundle "$T/b" sleep 100
	jq_edit "$T/b" '.linux.resources.memory = {"limit": 33554432, "swap": 67108864}'
	r run -d -b "$T/b" um1 </dev/null >/dev/null 2>&1
	r update --memory -1 um1
	assert_eq 9223372036854771712 "$(cat /sys/fs/cgroup/memory/um1/memory.limit_in_bytes)" "memory limit"
	assert_eq 9223372036854771712 "$(cat /sys/fs/cgroup/memory/um1/memory.memsw.limit_in_bytes)" "memory+swap limit"
}

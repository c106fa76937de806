# Attacks on the runtime itself: each test tries one and checks it fails.

# cve_2019_5736 MODE: the attack. MODE "dmz" (the default): rune's container
# processes exec their workload through rune-exec, a sealed memfd, and are not
# dumpable until then; "overlay" and "memfd": rune re-executed from the
# read-only overlayfs view of its binary or from a sealed copy (RUNE_REEXEC=1,
# RUNE_SEALED_COPY=1: what enclave and LSM-labelled containers get).
cve_2019_5736() {
	make_bundle "$T/b" sleep 30
	jq_edit "$T/b" '.root.readonly = false'
	# an image whose /bin/evil makes the kernel run /proc/self/exe of whoever execs it
	printf '#!/proc/self/exe\n' >"$T/b/rootfs/bin/evil"
	chmod +x "$T/b/rootfs/bin/evil"
	# rune's own libraries in the image, so /proc/self/exe really runs inside
	for f in $(ldd "$RUNE" | grep -o '/[^ ]*'); do cp --parents -L "$f" "$T/b/rootfs/"; done
	before=$(sha256sum <"$RUNE")
	r create -b "$T/b" c1
	pid=$(r state c1 | jq .pid)
	case $1 in
	dmz)
		# the init is a fork of the host's rune until start: not dumpable, so
		# a process without CAP_SYS_PTRACE (as the container's) cannot reach
		# its exe, while it could reach a dumpable one's (the control)
		setpriv --bounding-set -sys_ptrace --inh-caps -sys_ptrace readlink "/proc/$pid/exe" >/dev/null 2>&1 &&
			fail "the init's exe was reachable without CAP_SYS_PTRACE"
		setpriv --bounding-set -sys_ptrace --inh-caps -sys_ptrace sleep 60 &
		ctl=$!
		for _ in $(seq 50); do
			[ "$(readlink "/proc/$ctl/exe")" = "$(readlink -f "$(command -v sleep)")" ] && break
			sleep 0.1
		done
		setpriv --bounding-set -sys_ptrace --inh-caps -sys_ptrace readlink "/proc/$ctl/exe" >/dev/null ||
			fail "control: a dumpable process's exe was not reachable"
		kill $ctl
		;;
	memfd)
		assert_eq "/memfd:rune (deleted)" "$(readlink "/proc/$pid/exe")" "exe of the container init"
		# sealed with F_SEAL_FUTURE_WRITE (0x10), not F_SEAL_WRITE (0x8), whose
		# wait for the kernel's LRU batches failed starts with EBUSY on a busy host
		assert_eq 23 "$(python3 -c "import fcntl, os; print(fcntl.fcntl(os.open('/proc/$pid/exe', os.O_RDONLY), 1034))")" \
			"seals of the init's exe (SEAL|SHRINK|GROW|FUTURE_WRITE)"
		;;
	overlay) assert_eq "overlayfs" "$(stat -L -f -c %T "/proc/$pid/exe")" "file system of the init's exe" ;;
	esac
	if [ "$1" != dmz ] && python3 -c "open('/proc/$pid/exe', 'r+b').write(b'x')" 2>/dev/null; then
		fail "the init's executable was writable"
	fi
	r start c1
	for _ in 1 2 3; do r exec c1 /bin/evil >/dev/null 2>&1 || true; done
	out=$(r exec c1 /proc/self/exe --version 2>&1 || true)
	if [ "$1" = dmz ]; then
		# /proc/self/exe of an exec'd process is rune-exec, sealed: run
		# without its arguments it does nothing but exit 127
		rc=0
		r exec c1 /proc/self/exe --version >"$T/out" 2>&1 || rc=$?
		assert_eq 127 "$rc" "exit status of /proc/self/exe run in the container"
		assert_not_contains "$(cat "$T/out")" "rune version"
		r exec c1 sh -c 'exec 3</proc/self/exe; printf x >/proc/self/fd/3' 2>/dev/null &&
			fail "rune-exec's memfd was writable"
	else
		# exec'd rune clones run the sealed copy too: /proc/self/exe reaches only it
		assert_contains "$out" "rune version"
	fi
	r exec c1 sh -c 'for p in /proc/[0-9]*; do printf x 2>/dev/null >"$p/exe" && echo "WROTE $p"; done; true' >"$T/attack"
	assert_not_contains "$(cat "$T/attack")" "WROTE"
	assert_eq "$before" "$(sha256sum <"$RUNE")" "the host's rune binary"
}

test_cve_2019_5736_no_way_to_the_host_binary() {
	cve_2019_5736 dmz
}

test_cve_2019_5736_rune_reexecuted_through_overlayfs() {
	export RUNE_REEXEC=1
	cve_2019_5736 overlay
}

test_cve_2019_5736_with_the_sealed_copy() {
	export RUNE_SEALED_COPY=1
	cve_2019_5736 memfd
}

test_cve_2024_21626_no_host_fd_or_cwd_leaks() {
	make_bundle "$T/b" sh -c 'ls /proc/self/fd | tr "\n" " "; echo; readlink /proc/self/cwd'
	out=$(r --log "$T/log" run -b "$T/b" c1 3<"$T/b/config.json")
	assert_eq "0 1 2 3 " "$(echo "$out" | sed -n 1p)" "fds in the container (3 is ls's own)"
	assert_eq "/" "$(echo "$out" | sed -n 2p)" "cwd"
	# preserved fds are the only exception
	out=$(r run --preserve-fds 1 -b "$T/b" c2 3<"$T/b/config.json")
	assert_eq "0 1 2 3 4 " "$(echo "$out" | sed -n 1p)" "fds with --preserve-fds 1"
	# a cwd through an fd rune holds open must not land on the host
	for n in 3 4 5 6 7 8 9; do
		jq_edit "$T/b" --arg d "/proc/self/fd/$n" '.process.cwd = $d'
		rc=0
		out=$(r run -b "$T/b" "fd$n" 2>&1) || rc=$?
		[ $rc -ne 0 ] || fail "cwd /proc/self/fd/$n was accepted: $out"
		assert_not_contains "$out" "$T"
	done
	# and exec: same checks
	jq_edit "$T/b" '.process.cwd = "/" | .process.args = ["sleep", "30"]'
	r run -d -b "$T/b" c3
	assert_eq "0 1 2 3 " "$(r exec c3 sh -c 'ls /proc/self/fd | tr "\n" " "' 3<"$T/b/config.json")" "fds of exec"
	expect_fail 255 r exec --cwd /proc/self/fd/3 c3 true 3<"$T/b/config.json"
}

test_proc_and_sys_targets_must_be_real_directories() {
	make_bundle "$T/b" true
	rmdir "$T/b/rootfs/proc"
	mkdir -p "$T/b/rootfs/tmp/fakeproc"
	ln -s tmp/fakeproc "$T/b/rootfs/proc"
	expect_fail 1 r run -b "$T/b" c1
	assert_contains "$ERR" "mount proc on /proc"
	assert_contains "$ERR" "symlink"
	[ -z "$(ls -A "$T/b/rootfs/tmp/fakeproc")" ] || fail "proc was mounted through the symlink"
	rm "$T/b/rootfs/proc" && touch "$T/b/rootfs/proc"
	expect_fail 1 r run -b "$T/b" c2
	assert_contains "$ERR" "not a directory"
	rm "$T/b/rootfs/proc" && mkdir "$T/b/rootfs/proc"
	rmdir "$T/b/rootfs/sys" && ln -s /etc "$T/b/rootfs/sys"
	expect_fail 1 r run -b "$T/b" c3
	assert_contains "$ERR" "mount sysfs on /sys"
	rm "$T/b/rootfs/sys" && mkdir "$T/b/rootfs/sys"
	r run -b "$T/b" c4
}

test_masked_paths_unreadable_and_unwritable() {
	make_bundle "$T/b" sh -c 'cat /proc/timer_list /proc/keys 2>&1 | wc -c; ls /sys/firmware | wc -l;
		echo x >/proc/timer_list 2>/dev/null; cat /proc/timer_list | wc -c;
		(echo 1 >/proc/sysrq-trigger) 2>/dev/null && echo wrote-ro; true'
	out=$(r run -b "$T/b" c1)
	# masked files read empty and swallow writes (/dev/null, as runc); read-only ones refuse them
	assert_eq "0
0
0" "$out" "masked /proc files and /sys/firmware"
}

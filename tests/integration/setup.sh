# Linux container setup: namespaces, ids, mounts, /dev, paths, process attributes, hooks, fds.

test_namespaces_hostname_domainname() {
	make_bundle "$T/b" sh -c 'hostname; cat /proc/sys/kernel/domainname; readlink /proc/self/ns/net; readlink /proc/self/ns/ipc; echo $$'
	jq_edit "$T/b" '.hostname = "box1" | .domainname = "example.org"'
	out=$(r run -b "$T/b" c1)
	assert_eq box1 "$(echo "$out" | sed -n 1p)"
	assert_eq example.org "$(echo "$out" | sed -n 2p)"
	[ "$(echo "$out" | sed -n 3p)" != "$(readlink /proc/self/ns/net)" ] || fail "network namespace not new"
	[ "$(echo "$out" | sed -n 4p)" != "$(readlink /proc/self/ns/ipc)" ] || fail "ipc namespace not new"
	assert_eq 1 "$(echo "$out" | sed -n 5p)" "pid in a new pid namespace"
	make_bundle "$T/b2" ip link show lo
	assert_contains "$(r run -b "$T/b2" c2)" "UP"
	jq_edit "$T/b2" '.linux.namespaces |= map(select(.type != "uts"))'
	expect_fail 1 r run -b "$T/b2" c3
	assert_contains "$ERR" "UTS namespace"
}

test_join_namespaces_by_path() {
	make_bundle "$T/a" sleep 1000
	r run -d -b "$T/a" a1 </dev/null >/dev/null 2>&1
	apid=$(r state a1 | jq .pid)
	make_bundle "$T/b" sh -c 'readlink /proc/self/ns/net; readlink /proc/self/ns/pid; ps -o pid,comm | grep -c sleep'
	jq_edit "$T/b" --arg n "/proc/$apid/ns/net" --arg p "/proc/$apid/ns/pid" \
		'.linux.namespaces |= map(if .type == "network" then .path = $n elif .type == "pid" then .path = $p else . end)'
	out=$(r run -b "$T/b" b1)
	assert_eq "$(readlink /proc/$apid/ns/net)" "$(echo "$out" | sed -n 1p)" "joined net ns"
	assert_eq "$(readlink /proc/$apid/ns/pid)" "$(echo "$out" | sed -n 2p)" "joined pid ns"
	jq_edit "$T/b" '.linux.namespaces |= map(if .type == "ipc" then .path = "/nonexistent/ns" else . end)'
	expect_fail 1 r run -b "$T/b" b2
	assert_contains "$ERR" "/nonexistent/ns"
	r delete -f a1
}

test_user_namespace_mappings() {
	make_bundle "$T/b" sh -c 'cat /proc/self/uid_map /proc/self/gid_map; id -u; touch /tmp/f; stat -c %u /tmp/f'
	userns_bundle "$T/b"
	out=$(r run -b "$T/b" c1)
	assert_contains "$(echo "$out" | sed -n 1p | tr -s ' ')" "0 100000 65536"
	assert_eq 0 "$(echo "$out" | sed -n 3p)" "uid inside"
	assert_eq 0 "$(echo "$out" | sed -n 4p)" "owner inside"
	assert_eq 100000 "$(stat -c %u "$T/b/rootfs/tmp/f")" "owner on the host"
	jq_edit "$T/b" 'del(.linux.uidMappings)'
	expect_fail 1 r run -b "$T/b" c2
	assert_contains "$ERR" "uidMappings"
}

test_readonly_root_masked_readonly_paths() {
	make_bundle "$T/b" sh -c 'touch /x 2>&1; cat /proc/keys | wc -c; ls /sys/firmware | wc -l; (echo 1 > /proc/sys/kernel/ns_last_pid) 2>&1; touch /tmp/ok && echo tmp-ok'
	jq_edit "$T/b" '.mounts += [{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"}]'
	out=$(r run -b "$T/b" c1)
	assert_contains "$(echo "$out" | sed -n 1p)" "Read-only file system"
	assert_eq 0 "$(echo "$out" | sed -n 2p)" "/proc/keys masked"
	assert_eq 0 "$(echo "$out" | sed -n 3p)" "/sys/firmware masked"
	assert_contains "$(echo "$out" | sed -n 4p)" "Read-only file system"
	assert_eq tmp-ok "$(echo "$out" | sed -n 5p)"
}

test_bind_mounts_options_and_propagation() {
	mkdir -p "$T/src" && echo data >"$T/src/file"
	make_bundle "$T/b" sh -c 'cat /mnt/ro/file; touch /mnt/ro/new 2>&1; touch /mnt/rw/new && echo rw-ok; cat /single; grep " /mnt/ro " /proc/self/mountinfo'
	jq_edit "$T/b" --arg s "$T/src" '.mounts += [
		{"destination": "/mnt/ro", "type": "bind", "source": $s, "options": ["rbind", "ro", "nosuid"]},
		{"destination": "/mnt/rw", "type": "bind", "source": $s, "options": ["bind", "rprivate"]},
		{"destination": "/single", "type": "bind", "source": ($s + "/file"), "options": ["bind", "ro"]}]'
	out=$(r run -b "$T/b" c1)
	assert_eq data "$(echo "$out" | sed -n 1p)"
	assert_contains "$(echo "$out" | sed -n 2p)" "Read-only file system"
	assert_eq rw-ok "$(echo "$out" | sed -n 3p)"
	assert_eq data "$(echo "$out" | sed -n 4p)"
	assert_contains "$(echo "$out" | sed -n 5p)" "ro,nosuid"
	[ -e "$T/src/new" ] || fail "write through the rw bind did not reach the host"
	# rootfsPropagation and --no-pivot
	jq_edit "$T/b" '.linux.rootfsPropagation = "rslave"'
	set_args "$T/b" cat /mnt/ro/file
	assert_eq data "$(r run --no-pivot -b "$T/b" c2)"
	jq_edit "$T/b" '.linux.rootfsPropagation = "sideways"'
	expect_fail 1 r run -b "$T/b" c3
	assert_contains "$ERR" "linux.rootfsPropagation"
}

test_mount_target_symlink_stays_in_rootfs() {
	make_bundle "$T/b" sh -c 'cat /escape/file'
	mkdir -p "$T/src" "$T/outside" && echo inside >"$T/src/file"
	# a symlink in the image pointing at a host path must resolve inside the rootfs
	ln -s "$T/outside" "$T/b/rootfs/escape"
	jq_edit "$T/b" --arg s "$T/src" '.root.readonly = false | .mounts += [{"destination": "/escape", "type": "bind", "source": $s, "options": ["bind"]}]'
	assert_eq inside "$(r run -b "$T/b" c1)"
	[ -z "$(ls -A "$T/outside")" ] || fail "mount landed outside the rootfs"
	mountpoint -q "$T/outside" && fail "host path became a mount point"
	true
}

test_dev_devices_and_links() {
	make_bundle "$T/b" sh -c 'for d in null zero full random urandom tty; do stat -c "%n %t,%T %a" /dev/$d; done; readlink /dev/ptmx; readlink /dev/fd; stat -c %t,%T /dev/fuse; echo x > /dev/null && echo null-ok'
	jq_edit "$T/b" '.linux.devices = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438, "uid": 0, "gid": 0}]'
	out=$(r run -b "$T/b" c1)
	assert_contains "$out" "/dev/null 1,3 666"
	assert_contains "$out" "/dev/tty 5,0 666"
	assert_contains "$out" "pts/ptmx"
	assert_contains "$out" "/proc/self/fd"
	assert_contains "$out" "a,e5"
	assert_contains "$out" "null-ok"
}

test_process_attributes() {
	make_bundle "$T/b" sh -c 'ulimit -n; grep -E "^(CapEff|CapBnd|CapAmb|NoNewPrivs)" /proc/self/status; cat /proc/self/oom_score_adj; umask; pwd; id'
	jq_edit "$T/b" '.process.user = {"uid": 65534, "gid": 65534, "additionalGids": [10], "umask": 63}
		| .process.cwd = "/tmp" | .process.oomScoreAdj = 500
		| .process.rlimits = [{"type": "RLIMIT_NOFILE", "hard": 512, "soft": 256}]'
	out=$(r run -b "$T/b" c1)
	assert_eq 256 "$(echo "$out" | sed -n 1p)" "RLIMIT_NOFILE soft"
	assert_contains "$out" "CapBnd:	0000000020000420"
	assert_contains "$out" "NoNewPrivs:	1"
	assert_contains "$out" "500"
	assert_contains "$out" "0077"
	assert_contains "$out" "/tmp"
	assert_contains "$out" "uid=65534(nobody) gid=65534(nobody) groups=10"
	# requests the host cannot grant fail clearly
	jq_edit "$T/b" '.process.rlimits = [{"type": "RLIMIT_NOFILE", "hard": 999999999, "soft": 1024}]'
	expect_fail 1 r run -b "$T/b" c2
	assert_contains "$ERR" "RLIMIT_NOFILE"
	jq_edit "$T/b" '.process.rlimits = [{"type": "RLIMIT_BOGUS", "hard": 1, "soft": 1}]'
	expect_fail 1 r run -b "$T/b" c3
	assert_contains "$ERR" "unknown rlimit type"
	jq_edit "$T/b" 'del(.process.rlimits) | .process.capabilities.bounding += ["CAP_NOT_A_CAP"]'
	expect_fail 1 r run -b "$T/b" c4
	assert_contains "$ERR" "CAP_NOT_A_CAP"
	if ! grep -q "^CapBnd:.*" /proc/self/status || [ $(( 0x$(awk '/CapBnd/ {print $2}' /proc/self/status) >> 24 & 1 )) = 0 ]; then
		jq_edit "$T/b" '.process.capabilities.bounding = ["CAP_SYS_RESOURCE"] | .process.capabilities.permitted = ["CAP_SYS_RESOURCE"]'
		expect_fail 1 r run -b "$T/b" c5
		assert_contains "$ERR" "CAP_SYS_RESOURCE is not in the bounding set"
	fi
}

test_no_host_fds_leak_and_preserve_fds() {
	make_bundle "$T/b" sh -c 'echo $(ls /proc/self/fd | sort -n); readlink /proc/1/cwd'
	out=$(r run -b "$T/b" c1 </dev/null 7</etc/hostname 9>"$T/junk")
	assert_eq "0 1 2 3" "$(echo "$out" | head -1)" "only stdio (3 is ls's own dir fd)"
	assert_eq / "$(echo "$out" | sed -n 2p)" "cwd inside the rootfs"
	set_args "$T/b" sh -c 'cat /proc/self/fd/3'
	echo preserved >"$T/p"
	assert_eq preserved "$(r run --preserve-fds 1 -b "$T/b" c2 3<"$T/p")"
	set_args "$T/b" sh -c 'echo $LISTEN_FDS $LISTEN_PID; cat <&3'
	assert_eq "1 1
preserved" "$(LISTEN_FDS=1 r run -b "$T/b" c3 3<"$T/p")"
}

test_cgroup_placement_and_path() {
	make_bundle "$T/b" sh -c 'cat /proc/self/cgroup; ls /sys/fs/cgroup/memory/memory.limit_in_bytes'
	jq_edit "$T/b" '.linux.cgroupsPath = "/rune-test/sub1" | .linux.resources.pids = {"limit": 50}'
	r run -d -b "$T/b" c1 </dev/null >/dev/null 2>&1 || true
	out=$(r run --keep -b "$T/b" c2)
	assert_contains "$out" "memory:/rune-test/sub1"
	assert_contains "$out" "/sys/fs/cgroup/memory/memory.limit_in_bytes"
	assert_eq 50 "$(cat /sys/fs/cgroup/pids/rune-test/sub1/pids.max)"
	r delete c2
	r delete -f c1 2>/dev/null || true
	[ ! -d /sys/fs/cgroup/pids/rune-test/sub1 ] || fail "cgroup not removed"
	rmdir /sys/fs/cgroup/*/rune-test 2>/dev/null || true
	jq_edit "$T/b" '.linux.cgroupsPath = "/../../etc"'
	expect_fail 1 r run -b "$T/b" c3
	assert_contains "$ERR" "cgroupsPath"
}

hook_config() {
	# every hook kind appends its name, the container id and the status from stdin
	cat >"$T/hook.sh" <<H
#!/bin/sh
read -r state
echo "\$1 \$(echo "\$state" | jq -r '.id + " " + .status')" >> $T/hooks.log
[ "\$1" != "\${FAIL_HOOK:-none}" ]
H
	chmod +x "$T/hook.sh"
	local h='{}' k
	# startContainer runs inside the container: its path and output are the container's
	h=$(jq -n --arg f "${FAIL_HOOK:-none}" '{"startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "echo startContainer >> /hooks.log; [ \"$F\" != startContainer ]"], "env": ["F=" + $f]}]}')
	for k in prestart createRuntime createContainer poststart poststop; do
		h=$(echo "$h" | jq --arg k "$k" --arg p "$T/hook.sh" --arg f "${FAIL_HOOK:-none}" \
			'.[$k] = [{"path": $p, "args": ["hook.sh", $k], "env": ["FAIL_HOOK=" + $f, "PATH=/usr/bin:/bin"]}]')
	done
	jq_edit "$T/b" --argjson h "$h" '.hooks = $h | .root.readonly = false'
}

test_hooks_all_kinds_in_order() {
	make_bundle "$T/b" true
	hook_config
	r run -b "$T/b" c1
	assert_eq "prestart c1 creating
createRuntime c1 creating
createContainer c1 created
poststart c1 running
poststop c1 stopped" "$(cat "$T/hooks.log")"
	assert_eq startContainer "$(cat "$T/b/rootfs/hooks.log")"
}

test_failing_hook_fails_create_and_leaves_nothing() {
	make_bundle "$T/b" true
	FAIL_HOOK=createRuntime hook_config
	expect_fail 1 r run -b "$T/b" c1
	assert_contains "$ERR" "error running hook #0 (createRuntime"
	assert_eq "" "$(r list -q)"
	assert_eq "" "$(ls "$ROOT")"
	[ ! -d /sys/fs/cgroup/memory/c1 ] || fail "cgroup left"
	rm -f "$T/hooks.log"
	FAIL_HOOK=createContainer hook_config
	expect_fail 1 r create -b "$T/b" c2
	assert_contains "$ERR" "error running hook #0 (createContainer"
	assert_eq "" "$(r list -q)"
	# a poststop failure is only a warning: delete goes on
	FAIL_HOOK=poststop hook_config
	r run -b "$T/b" c3 2>"$T/err"
	assert_contains "$(cat "$T/err")" "(poststop"
	assert_eq "" "$(r list -q)"
}

test_hook_timeout() {
	make_bundle "$T/b" true
	printf '#!/bin/sh\nexec sleep 30\n' >"$T/slow.sh" && chmod +x "$T/slow.sh"
	jq_edit "$T/b" --arg p "$T/slow.sh" '.hooks = {"createRuntime": [{"path": $p, "timeout": 1}]}'
	start=$(date +%s)
	expect_fail 1 r run -b "$T/b" c1
	assert_contains "$ERR" "did not finish within 1 s"
	[ $(($(date +%s) - start)) -lt 10 ] || fail "timeout not enforced"
	assert_eq "" "$(r list -q)"
}

# cgroups: resources that take effect (and the kernel enforcing them), devices,
# updates, events, and requests this host cannot satisfy. The host is hybrid
# (v1 controllers); a pure cgroup v2 host is built in a private mount namespace.

cg_file() { # cg_file CONTROLLER ID FILE: a v1 cgroup file of the container
	cat "/sys/fs/cgroup/$1/$2/$3"
}

test_devices_cgroup_denies_and_allows() {
	make_bundle "$T/b" sh -c 'mknod /tmp/kmsg c 1 11; (echo rune-test >/tmp/kmsg) 2>&1 && echo kmsg-ok; echo x >/dev/null && echo null-ok'
	jq_edit "$T/b" '.root.readonly = false | .process.capabilities.bounding += ["CAP_MKNOD"] | .process.capabilities.effective += ["CAP_MKNOD"] | .process.capabilities.permitted += ["CAP_MKNOD"]'
	out=$(r run -b "$T/b" d1)
	assert_contains "$out" "Operation not permitted"
	assert_not_contains "$out" "kmsg-ok"
	assert_contains "$out" "null-ok"
	# allowed by a rule...
	jq_edit "$T/b" '.linux.resources.devices += [{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}]'
	assert_contains "$(r run -b "$T/b" d2)" "kmsg-ok"
	# a node of linux.devices is created but, as with runc, only the rules allow it
	jq_edit "$T/b" '.linux.resources.devices = [{"allow": false, "access": "rwm"}] | .linux.devices = [{"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11}]
		| .process.args = ["sh", "-c", "ls /dev/kmsg && (echo rune-test >/dev/kmsg) 2>&1 && echo kmsg-ok"]'
	out=$(r run -b "$T/b" d3 || true)
	assert_contains "$out" "/dev/kmsg"
	assert_contains "$out" "Operation not permitted"
	assert_not_contains "$out" "kmsg-ok"
	jq_edit "$T/b" '.linux.resources.devices += [{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "rwa"}]'
	assert_contains "$(r run -b "$T/b" d3b)" "kmsg-ok"
	# without any rule the container inherits an open devices cgroup: the test can fail
	jq_edit "$T/b" 'del(.linux.resources.devices) | del(.linux.devices)
		| .process.args = ["sh", "-c", "mknod /tmp/kmsg c 1 11; (echo rune-test >/tmp/kmsg) 2>&1 && echo kmsg-ok"]'
	assert_contains "$(r run -b "$T/b" d4)" "kmsg-ok"
	jq_edit "$T/b" '.linux.resources.devices = [{"allow": false, "type": "x"}]'
	expect_fail 1 r run -b "$T/b" d5
	assert_contains "$ERR" "linux.resources.devices[0].type"
}

test_memory_limit_oom_kills_and_events_report_it() {
	make_bundle "$T/b" sh -c 'dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null; echo "dd=$?"; sleep 30'
	jq_edit "$T/b" '.linux.resources.memory = {"limit": 16777216, "swap": 16777216}'
	r run -d -b "$T/b" m1 >"$T/out"
	r events --interval 10s m1 >"$T/events" &
	ev=$!
	for _ in $(seq 100); do grep -q dd= "$T/out" && break; sleep 0.05; done
	assert_eq "dd=137" "$(cat "$T/out")" "dd under a 16 MiB limit"
	assert_eq 16777216 "$(cg_file memory m1 memory.limit_in_bytes)" "memory.limit_in_bytes"
	for _ in $(seq 40); do grep -q '"oom"' "$T/events" && break; sleep 0.05; done
	kill $ev
	assert_contains "$(cat "$T/events")" '{"type":"oom","id":"m1"}'
	assert_contains "$(cat "$T/events")" '"type":"stats"'
	# the same without a limit: dd survives (the test can fail)
	jq_edit "$T/b" 'del(.linux.resources.memory) | .process.args = ["sh", "-c", "dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null; echo dd=$?"]'
	assert_eq "dd=0" "$(r run -b "$T/b" m2)" "dd without a limit"
}

test_pids_limit_stops_forks_and_update_changes_limits() {
	make_bundle "$T/b" sleep 60
	jq_edit "$T/b" '.linux.resources.pids = {"limit": 6}'
	r run -d -b "$T/b" p1
	out=$(r exec p1 sh -c 'for i in 1 2 3 4 5 6 7 8; do sleep 5 & done 2>&1; wait' 2>&1 || true)
	assert_contains "$out" "can't fork"
	assert_eq 6 "$(cg_file pids p1 pids.max)" "pids.max"
	r update --pids-limit 50 --memory 100M --cpu-quota 20000 --cpu-period 100000 --cpu-share 512 --cpuset-cpus 0 p1
	assert_eq 50 "$(cg_file pids p1 pids.max)" "pids.max after update"
	assert_eq 104857600 "$(cg_file memory p1 memory.limit_in_bytes)" "memory after update"
	assert_eq "20000 100000 512 0" "$(cg_file cpu p1 cpu.cfs_quota_us) $(cg_file cpu p1 cpu.cfs_period_us) $(cg_file cpu p1 cpu.shares) $(cg_file cpuset p1 cpuset.cpus)" "cpu after update"
	out=$(r exec p1 sh -c 'for i in 1 2 3 4 5 6 7 8; do sleep 1 & done 2>&1; wait' 2>&1 || true)
	assert_not_contains "$out" "can't fork"
	# an update from a file: linux.resources as JSON
	dev=$(stat -c '%d' /)
	maj=$((dev >> 8)) min=$((dev & 255))
	echo "{\"pids\": {\"limit\": 9}, \"blockIO\": {\"weight\": 300, \"throttleReadBpsDevice\": [{\"major\": $maj, \"minor\": $min, \"rate\": 1048576}]}}" >"$T/res.json"
	r update -r "$T/res.json" p1
	assert_eq 9 "$(cg_file pids p1 pids.max)" "pids.max from -r"
	assert_contains "$(cg_file blkio p1 blkio.throttle.read_bps_device)" "$maj:$min 1048576"
	assert_contains "$(cat /sys/fs/cgroup/blkio/p1/blkio.bfq.weight 2>/dev/null || cat /sys/fs/cgroup/blkio/p1/blkio.weight)" "300"
	# stats reflect the cgroup
	assert_eq 9 "$(r events --stats p1 | jq .data.pids.limit)" "events --stats pids.limit"
}

test_requests_this_host_cannot_satisfy_fail_clearly() {
	make_bundle "$T/b" true
	local cases=(
		'.linux.resources.hugepageLimits = [{"pageSize": "2MB", "limit": 1048576}]|hugepageLimits[0]: the hugetlb controller is not available on this host'
		'.linux.resources.network = {"classID": 1}|network.classID: the net_cls controller is not available'
		'.linux.resources.blockIO = {"leafWeight": 500}|blockIO.leafWeight'
		'.linux.resources.memory = {"swappiness": 200}|memory.swappiness: 200, want 0 to 100'
		'.linux.resources.unified = {"memory.high": "1M"}|invalid configuration: linux.resources.unified needs a cgroup v2 host'
		'.linux.resources.unified = {"../escape": "1"}|not a cgroup v2 interface file name'
		'.process.capabilities.bounding += ["CAP_SYS_RESOURCE"]|CAP_SYS_RESOURCE'
	)
	for c in "${cases[@]}"; do
		cp "$T/b/config.json" "$T/config.orig"
		jq_edit "$T/b" "${c%%|*}"
		expect_fail 1 r run -b "$T/b" x
		assert_contains "${ERR//\\\"/\"}" "${c#*|}"
		assert_eq "" "$(r list -q)" "containers after: ${c%%|*}"
		[ ! -d /sys/fs/cgroup/memory/x ] || fail "cgroup left after: ${c%%|*}"
		cp "$T/config.orig" "$T/b/config.json"
	done
	# refused before anything exists: no cgroup in the v2 hierarchy either
	[ ! -d /sys/fs/cgroup/unified/x ] || fail "cgroup left in the unified hierarchy"
}

test_pure_cgroup_v2_host() {
	# A host with only cgroup2 at /sys/fs/cgroup, in a private mount namespace.
	make_bundle "$T/b" sh -c 'cat /proc/self/cgroup; mknod /tmp/kmsg c 1 11; (echo v2 >/tmp/kmsg) 2>&1; sleep 30'
	jq_edit "$T/b" '.root.readonly = false | .process.capabilities.bounding += ["CAP_MKNOD"] | .process.capabilities.effective += ["CAP_MKNOD"] | .process.capabilities.permitted += ["CAP_MKNOD"]
		| .linux.resources.unified = {"cgroup.max.descendants": "7"}'
	cat >"$T/v2.sh" <<S
set -e
umount -R /sys/fs/cgroup
mount -t cgroup2 cgroup2 /sys/fs/cgroup
R="$RUNE --root $ROOT"
\$R run -d -b "$T/b" v2a >"$T/out"
for _ in \$(seq 100); do grep -q Operation "$T/out" && break; sleep 0.05; done
\$R pause v2a
echo "unified: \$(cat /sys/fs/cgroup/v2a/cgroup.max.descendants)"
echo "paused: \$(\$R state v2a | jq -r .status) \$(cat /sys/fs/cgroup/v2a/cgroup.freeze)"
\$R resume v2a
echo "resumed: \$(\$R state v2a | jq -r .status)"
echo "procs: \$(\$R ps v2a | tail -n +2 | wc -l)"
\$R delete -f v2a
[ ! -d /sys/fs/cgroup/v2a ] && echo "removed"
S
	out=$(unshare -m --propagation private bash "$T/v2.sh" 2>&1)
	assert_contains "$(cat "$T/out")" "0::/v2a"
	assert_contains "$(cat "$T/out")" "Operation not permitted"
	assert_contains "$out" "unified: 7"
	assert_contains "$out" "paused: paused 1"
	assert_contains "$out" "resumed: running"
	assert_contains "$out" "procs: 1"
	assert_contains "$out" "removed"
}

test_every_memory_and_cpu_field_reaches_the_cgroup() {
	make_bundle "$T/b" sleep 30
	jq_edit "$T/b" '.linux.resources.memory = {"limit": 67108864, "reservation": 33554432, "swap": 134217728,
		"swappiness": 10, "disableOOMKiller": true, "kernelTCP": 8388608}
		| .linux.resources.cpu = {"shares": 256, "quota": 50000, "period": 100000, "burst": 1000,
		"realtimeRuntime": 0, "realtimePeriod": 1000000, "idle": 0, "cpus": "0", "mems": "0"}
		| .linux.cgroupsPath = "/rune-test/nested/res1"'
	r run -d -b "$T/b" res1
	local M=/sys/fs/cgroup/memory/rune-test/nested/res1 C=/sys/fs/cgroup/cpu/rune-test/nested/res1
	assert_eq "67108864 33554432 134217728 10 8388608" \
		"$(cat $M/memory.limit_in_bytes $M/memory.soft_limit_in_bytes $M/memory.memsw.limit_in_bytes $M/memory.swappiness $M/memory.kmem.tcp.limit_in_bytes | xargs)" "memory files"
	assert_contains "$(cat $M/memory.oom_control)" "oom_kill_disable 1"
	assert_eq "256 50000 100000 1000 1000000 0" \
		"$(cat $C/cpu.shares $C/cpu.cfs_quota_us $C/cpu.cfs_period_us $C/cpu.cfs_burst_us $C/cpu.rt_period_us $C/cpu.idle | xargs)" "cpu files"
	assert_eq "0 0" "$(cat /sys/fs/cgroup/cpuset/rune-test/nested/res1/cpuset.cpus /sys/fs/cgroup/cpuset/rune-test/nested/res1/cpuset.mems | xargs)" "cpuset"
	# cgroupsPath is honoured in every hierarchy, and removed with the container
	assert_contains "$(r exec res1 cat /proc/self/cgroup)" "memory:/rune-test/nested/res1"
	r delete -f res1
	[ ! -d "$M" ] || fail "cgroup $M left after delete"
	rmdir /sys/fs/cgroup/*/rune-test/nested /sys/fs/cgroup/*/rune-test 2>/dev/null || true
	# on update: swap below the limit is refused by the kernel with the field named
	jq_edit "$T/b" '.linux.resources.memory = {"limit": 67108864, "swap": 1048576} | .linux.cgroupsPath = ""'
	expect_fail 1 r run -b "$T/b" res2
	assert_contains "$ERR" "linux.resources.memory"
}

test_cgroup_namespace_rooted_at_the_container_as_with_runc() {
	make_bundle "$T/b" cat /proc/self/cgroup
	jq_edit "$T/b" '.linux.namespaces += [{"type": "cgroup"}]'
	mine=$(r run -b "$T/b" ns1)
	theirs=$(runc --root "$T/runc" run -b "$T/b" ns1r)
	assert_eq "$theirs" "$mine" "/proc/self/cgroup beside runc's"
	assert_eq "" "$(grep -v ':/$' <<<"$mine")" "hierarchies not at the namespace's root"
	# exec joins the container's namespace
	set_args "$T/b" sleep 30
	r run -d -b "$T/b" ns2 </dev/null
	assert_eq "$mine" "$(r exec ns2 cat /proc/self/cgroup)" "an exec'd process's /proc/self/cgroup"
	r delete -f ns2
	# A cgroup2 mounted inside sees the container's cgroup, not the host's
	# tree from wherever rune ran (rune made the namespace before joining
	# the cgroup until 157757c).
	mkdir "/sys/fs/cgroup/unified/rune-sibling-$$"
	set_args "$T/b" sh -c 'mkdir -p /tmp/cg && mount -t cgroup2 none /tmp/cg && ls /tmp/cg'
	jq_edit "$T/b" '.root.readonly = false | .process.capabilities.bounding += ["CAP_SYS_ADMIN"]
		| .process.capabilities.effective += ["CAP_SYS_ADMIN"] | .process.capabilities.permitted += ["CAP_SYS_ADMIN"]'
	out=$(r run -b "$T/b" ns3 2>&1 || true)
	rmdir "/sys/fs/cgroup/unified/rune-sibling-$$"
	assert_contains "$out" "cgroup.procs"
	assert_not_contains "$out" "rune-sibling"
}

# cgroup_lines PID: the cgroups of PID, one line each ("hierarchy:path").
cgroup_lines() {
	cut -d: -f2- "/proc/$1/cgroup"
}

test_processes_born_in_their_cgroup_or_moved_there() {
	make_bundle "$T/b" sleep 30
	r run -d -b "$T/b" born </dev/null
	# Born in the cgroup2 directory (clone3), the v1 ones joined by the
	# process itself: rune writes no pid to a cgroup.procs.
	# (LeakSanitizer cannot run under ptrace: off for this one command)
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		strace -f -qq -e trace=clone3,openat -o "$T/trace" "$RUNE" --root "$ROOT" exec born true
	assert_contains "$(cat "$T/trace")" "CLONE_INTO_CGROUP"
	assert_not_contains "$(grep -v ENOENT "$T/trace" | grep O_WRONLY)" "cgroup.procs"
	r exec -d born sleep 31
	want=$(cgroup_lines "$(r state born | jq .pid)" | sort)
	assert_contains "$want" ":/born"
	assert_eq "$want" "$(cgroup_lines "$(pgrep -f '^sleep 31')" | sort)" "the exec'd process's cgroups"
	# Where clone3 is refused (a kernel before 5.3, an engine's seccomp
	# profile), rune moves the process: the same cgroups.
	refuse="$BUILD_DIR/tests/refuse-syscall clone3 38"
	$refuse "$RUNE" --root "$ROOT" run -d -b "$T/b" moved </dev/null
	assert_eq "$(sed 's/born/moved/' <<<"$want")" "$(cgroup_lines "$(r state moved | jq .pid)" | sort)" "init's cgroups"
	$refuse "$RUNE" --root "$ROOT" exec -d moved sleep 32
	assert_eq "$(sed 's/born/moved/' <<<"$want")" "$(cgroup_lines "$(pgrep -f '^sleep 32')" | sort)" \
		"an exec'd process's cgroups"
	r delete -f born
	r delete -f moved
}

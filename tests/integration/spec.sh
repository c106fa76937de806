# The rest of runtime-spec 1.2 that this kernel supports: personality,
# scheduler, ioPriority, time namespace offsets, sysctls checked against the
# namespaces, LSM labels refused where the host has no LSM.

test_personality_applies_to_init_and_exec() {
	make_bundle "$T/b" sh -c 'uname -m; sleep 30'
	jq_edit "$T/b" '.linux.personality = {"domain": "LINUX32"}'
	r run -d -b "$T/b" c1 >"$T/out"
	wait_file "$T/out"
	for _ in $(seq 50); do [ -s "$T/out" ] && break; sleep 0.05; done
	assert_eq i686 "$(cat "$T/out")" "uname -m under LINUX32"
	assert_eq i686 "$(r exec c1 uname -m)" "exec under LINUX32"
	jq_edit "$T/b" '.linux.personality = {"domain": "LINUX"} | .process.args = ["uname", "-m"]'
	assert_eq "$(uname -m)" "$(r run -b "$T/b" c2)" "LINUX"
	jq_edit "$T/b" '.linux.personality = {"domain": "BSD"}'
	expect_fail 1 r run -b "$T/b" c3
	assert_contains "$ERR" "linux.personality.domain"
}

test_scheduler_and_io_priority() {
	# policy is field 41 of /proc/self/stat, nice field 19
	make_bundle "$T/b" sh -c 'awk "{print \$41, \$19}" /proc/self/stat; ionice -p $$'
	jq_edit "$T/b" '.process.scheduler = {"policy": "SCHED_BATCH", "nice": 7} | .process.ioPriority = {"class": "IOPRIO_CLASS_IDLE", "priority": 0}'
	out=$(r run -b "$T/b" c1)
	assert_eq "3 7" "$(echo "$out" | sed -n 1p)" "SCHED_BATCH, nice 7"
	assert_contains "$(echo "$out" | sed -n 2p)" "idle"
	jq_edit "$T/b" '.process.scheduler = {"policy": "SCHED_IDLE"} | .process.ioPriority = {"class": "IOPRIO_CLASS_BE", "priority": 6}'
	out=$(r run -b "$T/b" c2)
	assert_eq "5 0" "$(echo "$out" | sed -n 1p)" "SCHED_IDLE"
	assert_contains "$(echo "$out" | sed -n 2p)" "best-effort: prio 6"
	jq_edit "$T/b" 'del(.process.scheduler) | del(.process.ioPriority)'
	assert_eq "0 0" "$(r run -b "$T/b" c3 | sed -n 1p)" "defaults"
	jq_edit "$T/b" '.process.scheduler = {"policy": "SCHED_FIFO", "priority": 500}'
	expect_fail 1 r run -b "$T/b" c4
	assert_contains "$ERR" "process.scheduler.priority: 500 is not valid for SCHED_FIFO"
	jq_edit "$T/b" 'del(.process.scheduler) | .process.ioPriority = {"class": "IOPRIO_CLASS_RT", "priority": 9}'
	expect_fail 1 r run -b "$T/b" c5
	assert_contains "$ERR" "process.ioPriority.priority: 9"
}

test_time_namespace_offsets() {
	make_bundle "$T/b" cut -d. -f1 /proc/uptime
	jq_edit "$T/b" '.linux.namespaces += [{"type": "time"}] | .linux.timeOffsets = {"boottime": {"secs": 1000000, "nanosecs": 0}, "monotonic": {"secs": 500, "nanosecs": 0}}'
	inside=$(r run -b "$T/b" c1)
	host=$(cut -d. -f1 /proc/uptime)
	d=$((inside - host))
	[ $d -ge 999990 ] && [ $d -le 1000010 ] || fail "boottime offset: uptime $inside inside, $host outside"
	jq_edit "$T/b" 'del(.linux.timeOffsets)'
	inside=$(r run -b "$T/b" c2)
	[ $((inside - $(cut -d. -f1 /proc/uptime))) -le 5 ] || fail "no offset expected without timeOffsets"
	jq_edit "$T/b" '.linux.namespaces |= map(select(.type != "time")) | .linux.timeOffsets = {"boottime": {"secs": 1}}'
	expect_fail 1 r run -b "$T/b" c3
	assert_contains "$ERR" "linux.timeOffsets: needs a new time namespace"
}

test_sysctls_are_checked_against_namespaces() {
	# the container's value is the opposite of the host's, whatever the host has
	host=$(cat /proc/sys/net/ipv4/ip_forward)
	want=$((1 - host))
	make_bundle "$T/b" cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni
	jq_edit "$T/b" --arg v "$want" '.linux.sysctl = {"net.ipv4.ip_forward": $v, "kernel.shmmni": "1234"}'
	assert_eq "$want
1234" "$(r run -b "$T/b" c1)" "namespaced sysctls"
	assert_eq "$host" "$(cat /proc/sys/net/ipv4/ip_forward)" "host ip_forward untouched"
	jq_edit "$T/b" '.linux.sysctl = {"kernel.pid_max": "5000"}'
	expect_fail 1 r run -b "$T/b" c2
	assert_contains "$ERR" "linux.sysctl.kernel.pid_max: not namespaced"
	jq_edit "$T/b" '.linux.sysctl = {"net.ipv4.ip_forward": "1"} | .linux.namespaces |= map(select(.type != "network"))'
	expect_fail 1 r run -b "$T/b" c3
	assert_contains "$ERR" "needs a network namespace of its own"
}

test_lsm_labels_refused_without_the_lsm() {
	local aa=false se=false
	[ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ] && aa=true
	[ -e /sys/fs/selinux/enforce ] && se=true
	assert_eq "$aa $se" "$(r features | jq -r '"\(.linux.apparmor.enabled) \(.linux.selinux.enabled)"')" "features"
	make_bundle "$T/b" sleep 10
	if [ $aa = false ]; then
		jq_edit "$T/b" '.process.apparmorProfile = "docker-default"'
		expect_fail 1 r run -b "$T/b" c1
		assert_contains "$ERR" "AppArmor is not enabled on this host"
		jq_edit "$T/b" 'del(.process.apparmorProfile)'
		r run -d -b "$T/b" c3
		expect_fail 255 r exec --apparmor docker-default c3 true
		assert_contains "$ERR" "AppArmor is not enabled"
	fi
	if [ $se = false ]; then
		jq_edit "$T/b" '.process.selinuxLabel = "system_u:system_r:container_t:s0"'
		expect_fail 1 r run -b "$T/b" c2
		assert_contains "$ERR" "SELinux is not enabled on this host"
		jq_edit "$T/b" 'del(.process.selinuxLabel) | .linux.mountLabel = "system_u:object_r:container_file_t:s0"'
		expect_fail 1 r run -b "$T/b" c4
		assert_contains "$ERR" "linux.mountLabel"
	fi
}

test_idmapped_mounts() {
	mkdir -p "$T/vol"
	echo root-file >"$T/vol/r" && echo user-file >"$T/vol/u"
	chown 1000:1000 "$T/vol/u"
	make_bundle "$T/b" sh -c 'stat -c "%n %u:%g" /data/r /data/u'
	jq_edit "$T/b" --arg src "$T/vol" '.mounts += [{"destination": "/data", "type": "bind", "source": $src,
		"options": ["rbind", "idmap"], "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
		"gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}]}]'
	assert_eq "/data/r 1000:1000
/data/u 65534:65534" "$(r run -b "$T/b" c1)" "ids seen through the idmapped mount"
	# the same directory bind-mounted plainly: the test can fail
	jq_edit "$T/b" '.mounts[-1] |= (del(.uidMappings) | del(.gidMappings) | .options = ["rbind"])'
	assert_eq "/data/r 0:0
/data/u 1000:1000" "$(r run -b "$T/b" c2)" "ids through a plain bind mount"
	# in a user-namespaced container, idmap without mappings takes the container's:
	# the host's root files are root's inside, and what root writes is root's on disk
	make_bundle "$T/u" sh -c 'stat -c "%u" /data/r; echo new >/data/from-container'
	userns_bundle "$T/u"
	jq_edit "$T/u" --arg src "$T/vol" '.mounts += [{"destination": "/data", "type": "bind", "source": $src, "options": ["rbind", "ridmap"]}]'
	assert_eq 0 "$(r run -b "$T/u" c3)" "owner of a host root file inside"
	assert_eq "0:0" "$(stat -c %u:%g "$T/vol/from-container")" "owner on the host of what the container wrote"
	# refusals
	jq_edit "$T/b" '.mounts[-1] = {"destination": "/data", "type": "tmpfs", "source": "tmpfs", "options": ["idmap"]}'
	expect_fail 1 r run -b "$T/b" c4
	assert_contains "$ERR" "idmapped mounts must be bind mounts"
	assert_contains "$(r features | jq -c .mountOptions)" '"idmap"'
}

# --systemd-cgroup against a real systemd: systemd 252 as PID 1 of private
# pid/mount/cgroup namespaces over a delegated cgroup2 subtree, with private
# /run, /tmp and /var/tmp (its tmpfiles would empty a shared /tmp). The test
# directory is visible inside at /mnt.

systemd_start() {
	local base=/sys/fs/cgroup/unified
	[ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] && base=/sys/fs/cgroup
	SD_CG="$base/rune-sd-$(basename "$T")"
	mkdir -p "$SD_CG" "$T/units"
	printf '[Unit]\nDescription=rune test target\n' >"$T/units/rune-test.target"
	(
		echo $BASHPID >"$SD_CG/cgroup.procs"
		exec unshare -C -p -f -m --propagation private bash -c "
			mount -t proc proc /proc
			umount -R /sys/fs/cgroup 2>/dev/null || true
			mount -t cgroup2 cgroup2 /sys/fs/cgroup
			mount --bind '$T' /mnt
			mount -t tmpfs tmpfs /run
			mount -t tmpfs tmpfs /tmp
			mount -t tmpfs tmpfs /var/tmp
			exec env container=rune-test SYSTEMD_UNIT_PATH=/mnt/units /lib/systemd/systemd --system \
				--unit=rune-test.target --log-target=console --log-level=warning"
	) >"$T/systemd.log" 2>&1 &
	local wrapper=$!
	echo $wrapper >>"$T/pids"
	for _ in $(seq 100); do
		SD_PID=$(pgrep -P "$wrapper" -x systemd || true)
		[ -n "$SD_PID" ] && in_systemd test -S /run/systemd/private 2>/dev/null && break
		sleep 0.1
	done
	[ -n "$SD_PID" ] || fail "systemd did not start: $(cat "$T/systemd.log")"
	echo "$SD_PID" >>"$T/pids"
	for _ in $(seq 100); do
		case $(in_systemd systemctl is-system-running 2>/dev/null) in running | degraded) return 0 ;; esac
		sleep 0.1
	done
	fail "systemd did not come up: $(in_systemd systemctl is-system-running 2>&1)"
}

in_systemd() { nsenter -t "$SD_PID" -m -p -C "$@"; }

systemd_stop() {
	kill -9 "$SD_PID" 2>/dev/null || true
	for _ in $(seq 50); do [ -d "/proc/$SD_PID" ] || break; sleep 0.05; done
	find "$SD_CG" -depth -type d -exec rmdir {} \; 2>/dev/null || true
}

test_systemd_cgroup_driver_with_a_real_systemd() {
	systemd_start
	trap 'systemd_stop; cleanup_all' EXIT
	make_bundle "$T/b" sh -c 'cat /proc/self/cgroup; sleep 60'
	jq_edit "$T/b" '.linux.cgroupsPath = "system.slice:rune:sd1"'
	local R="$RUNE --root /run/rune-state --systemd-cgroup"
	in_systemd $R run -d -b /mnt/b sd1 >"$T/out"
	for _ in $(seq 50); do [ -s "$T/out" ] && break; sleep 0.05; done
	assert_eq "0::/system.slice/rune-sd1.scope" "$(cat "$T/out")" "the container's cgroup"
	assert_eq active "$(in_systemd systemctl is-active rune-sd1.scope)" "the scope unit"
	assert_contains "$(in_systemd systemctl show -p Delegate rune-sd1.scope)" "Delegate=yes"
	# exec joins it; pause/resume through cgroup.freeze; ps lists it
	assert_contains "$(in_systemd $R exec sd1 cat /proc/self/cgroup)" "rune-sd1.scope"
	in_systemd $R pause sd1
	assert_eq paused "$(in_systemd $R state sd1 | jq -r .status)" "paused"
	in_systemd $R resume sd1
	assert_eq running "$(in_systemd $R state sd1 | jq -r .status)" "resumed"
	assert_eq 1 "$(in_systemd $R ps sd1 | tail -n +2 | wc -l)" "processes listed from the scope"
	in_systemd $R delete -f sd1
	for _ in $(seq 50); do [ "$(in_systemd systemctl is-active rune-sd1.scope)" != active ] && break; sleep 0.1; done
	assert_not_contains "$(in_systemd systemctl is-active rune-sd1.scope)" "active"
	# the default name, and a cgroupsPath that is not slice:prefix:name
	jq_edit "$T/b" '.linux.cgroupsPath = "" | .process.args = ["cat", "/proc/self/cgroup"]'
	assert_eq "0::/system.slice/rune-sd2.scope" "$(in_systemd $R run -b /mnt/b sd2)" "default slice and prefix"
	jq_edit "$T/b" '.linux.cgroupsPath = "/not/a/slice"'
	rc=0
	out=$(in_systemd $R run -b /mnt/b sd3 2>&1) || rc=$?
	[ $rc -ne 0 ] || fail "a cgroupfs path was accepted with --systemd-cgroup"
	assert_contains "$out" "slice:prefix:name"
	assert_eq "" "$(in_systemd $R list -q)" "containers left"
}

# rune driven by real clients: podman 4.3 (--runtime) and containerd 1.6
# (its runc shim with --runc-binary), each in a private set-up.
. "$TOP/tests/lib/containerd.sh"

P() {
	podman --root "$T/podman/root" --runroot "$T/podman/run" --cgroup-manager cgroupfs --events-backend file \
		--storage-driver overlay --runtime "$RUNE" "$@"
}
PODMAN_RUN_OPTS="--network none --ulimit nofile=20000:20000 --ulimit nproc=32768:32768"

podman_cleanup() {
	P rm -af >/dev/null 2>&1 || true
	umount -R "$T/podman/root/overlay" 2>/dev/null || true
	podman --root "$T/podman/root" --runroot "$T/podman/run" --storage-driver overlay system reset -f >/dev/null 2>&1 || true
}

test_podman_run_exec_tty_stop_rm() {
	image_archive
	trap 'podman_cleanup; cleanup_all' EXIT
	P load -q -i "$T/busybox.tar" >/dev/null
	# shellcheck disable=SC2086
	assert_eq "hi from podman" "$(P run --rm $PODMAN_RUN_OPTS localhost/busybox:latest echo hi from podman)"
	rc=0
	P run --rm $PODMAN_RUN_OPTS localhost/busybox:latest sh -c 'exit 42' || rc=$?
	assert_eq 42 "$rc" "podman run exit code"
	P run -d --name p1 $PODMAN_RUN_OPTS localhost/busybox:latest sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done' >/dev/null
	assert_eq "exec-ok" "$(P exec p1 sh -c 'echo exec-ok')"
	rc=0
	P exec p1 sh -c 'exit 3' || rc=$?
	assert_eq 3 "$rc" "podman exec exit code"
	assert_contains "$(script -qec "podman --root $T/podman/root --runroot $T/podman/run --cgroup-manager cgroupfs --events-backend file --storage-driver overlay --runtime $RUNE exec -t p1 tty" /dev/null)" "/dev/pts/"
	assert_contains "$(script -qec "podman --root $T/podman/root --runroot $T/podman/run --cgroup-manager cgroupfs --events-backend file --storage-driver overlay --runtime $RUNE run --rm -t $PODMAN_RUN_OPTS localhost/busybox:latest tty" /dev/null)" "/dev/pts/0"
	# rune itself sees podman's container
	id=$(P inspect --format '{{.Id}}' p1)
	assert_eq running "$("$RUNE" --root "$T/podman/run/rune" state "$id" | jq -r .status)" "rune state of podman's container"
	P stop -t 5 p1 >/dev/null
	assert_contains "$(P ps -a --format '{{.Names}} {{.Status}}')" "p1 Exited (0)"
	P rm p1 >/dev/null
	assert_eq "" "$(P ps -aq)" "containers after rm"
}

test_containerd_run_exec_kill_exit_codes() {
	image_archive
	containerd_start
	trap 'containerd_cleanup; cleanup_all' EXIT
	CTR images import "$T/busybox.tar" >/dev/null
	out=$(CTR run --rm --runc-binary "$RUNE" localhost/busybox:latest t1 sh -c 'echo hi from containerd; exit 7') || rc=$?
	assert_eq "hi from containerd" "$out"
	assert_eq 7 "${rc:-0}" "ctr run exit code"
	CTR run -d --runc-binary "$RUNE" localhost/busybox:latest t2 sh -c 'trap "exit 9" TERM; while :; do sleep 0.1; done'
	sleep 0.3
	assert_eq "exec-ok" "$(CTR task exec --exec-id e1 t2 sh -c 'echo exec-ok')"
	rc=0
	CTR task exec --exec-id e2 t2 sh -c 'exit 5' || rc=$?
	assert_eq 5 "$rc" "ctr exec exit code"
	assert_contains "$(script -qec "ctr -a $T/ctrd/containerd.sock task exec -t --exec-id e3 t2 tty" /dev/null)" "/dev/pts/"
	CTR task kill -s TERM t2
	for _ in $(seq 50); do CTR task ls | grep -q "t2.*STOPPED" && break; sleep 0.1; done
	assert_contains "$(CTR task ls)" "STOPPED"
	CTR task delete t2 >"$T/del" 2>&1 || true
	assert_contains "$(cat "$T/del")" "9"
	CTR container delete t2
	# a SIGKILLed task reports 137
	CTR run -d --runc-binary "$RUNE" localhost/busybox:latest t3 sleep 100
	sleep 0.3
	CTR task kill -s KILL t3
	for _ in $(seq 50); do CTR task ls | grep -q "t3.*STOPPED" && break; sleep 0.1; done
	assert_contains "$(CTR task delete t3 2>&1)" "137"
}

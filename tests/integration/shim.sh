# containerd-shim-rune-v2 driven by a private containerd 1.6: ctr for tasks,
# the CRI plugin (through tests/helpers/cri, the kubelet's part) for pods, and
# a raw ttrpc probe for what no client would send.
. "$TOP/tests/lib/containerd.sh"

RT="--runtime io.containerd.rune.v2"
PROBE() { /usr/bin/python3 "$TOP/tests/helpers/ttrpc-probe.py" "$@"; }
SHIM="$BUILD_DIR/bin/containerd-shim-rune-v2"

cleanup_extra() {
	containerd_cleanup
	[ ! -f "$T/restore" ] || sh "$T/restore"
	ip link del runetest0 2>/dev/null || true
}

# wait_status ID STATUS
wait_status() {
	for _ in $(seq 100); do [ "$(task_status "$1")" = "$2" ] && return 0; sleep 0.05; done
	fail "task $1: status $(task_status "$1"), expected $2"
}

test_ctr_run_exec_kill_pause_metrics() {
	image_archive
	containerd_start
	CTR images import "$T/busybox.tar" >/dev/null
	rc=0
	out=$(CTR run --rm $RT localhost/busybox:latest t1 sh -c 'echo hi from the rune shim; echo err >&2; exit 7') || rc=$?
	assert_eq "hi from the rune shim" "$out"
	assert_eq 7 "$rc" "ctr run exit code"
	# stdin reaches the task and its end closes the task's stdin
	assert_eq "in:hello" "$(echo hello | CTR run --rm $RT localhost/busybox:latest t0 sh -c 'read l; echo in:$l; cat')"
	CTR run -d $RT localhost/busybox:latest t2 sh -c 'trap "exit 9" TERM; while :; do sleep 0.1; done'
	wait_status t2 RUNNING
	assert_eq "exec-ok" "$(CTR task exec --exec-id e1 t2 sh -c 'echo exec-ok')"
	rc=0
	CTR task exec --exec-id e2 t2 sh -c 'exit 5' || rc=$?
	assert_eq 5 "$rc" "ctr exec exit code"
	rc=0
	CTR task exec --exec-id e3 t2 /no/such/binary 2>"$T/e3" || rc=$?
	[ "$rc" != 0 ] || fail "exec of a missing binary succeeded"
	assert_contains "$(script -qec "ctr -a $T/ctrd/containerd.sock task exec -t --exec-id e4 t2 tty" /dev/null)" "/dev/pts/"
	# the task's own terminal, sized through ResizePty
	# (ctr resizes after Start, as with containerd's runc shim: wait for it)
	cat >"$T/size.sh" <<'S'
tty
for i in $(seq 100); do s=$(stty size 2>/dev/null); [ -n "$s" ] && [ "$s" != "0 0" ] && break; sleep 0.05; done
echo "$s"
S
	out=$(script -qec "stty cols 123 rows 45; ctr -a $T/ctrd/containerd.sock run --rm -t $RT localhost/busybox:latest tt sh -c '$(cat "$T/size.sh")'" /dev/null)
	assert_contains "$out" "/dev/pts/0"
	assert_contains "$out" "45 123"
	# a running exec shows in ps with its exec id
	CTR task exec -d --exec-id long t2 sleep 30
	for _ in $(seq 50); do CTR task ps t2 | grep -q long && break; sleep 0.1; done
	assert_contains "$(CTR task ps t2)" "long"
	CTR task pause t2
	assert_eq PAUSED "$(task_status t2)"
	CTR task resume t2
	assert_eq RUNNING "$(task_status t2)"
	m=$(CTR task metrics t2)
	assert_contains "$m" "pids.current"
	assert_contains "$m" "memory"
	# Update: new limits reach the cgroup
	addr=$(cat "$T/ctrd/state/io.containerd.runtime.v2.task/default/t2/address")
	assert_eq "0 " "$(PROBE "$addr" update t2 '{"pids": {"limit": 77}}')"
	pids_dir=$(awk -F: '$2 == "pids" {print $3}' "/proc/$(CTR task ls | awk '$1 == "t2" {print $2}')/cgroup")
	assert_eq 77 "$(cat "/sys/fs/cgroup/pids$pids_dir/pids.max" 2>/dev/null || cat "/sys/fs/cgroup$pids_dir/pids.max")"
	CTR task kill -s TERM t2
	wait_status t2 STOPPED
	assert_contains "$(CTR task delete t2 2>&1)" "9"
	CTR container delete t2
	# SIGKILL reports 137; kill --all reaches every process
	CTR run -d $RT localhost/busybox:latest t3 sh -c 'sleep 100 & sleep 100'
	wait_status t3 RUNNING
	CTR task kill -a -s KILL t3
	wait_status t3 STOPPED
	assert_contains "$(CTR task delete t3 2>&1)" "137"
	CTR container delete t3
	no_task_left t3
	no_shim_left t3
}

test_ctr_events_in_containerds_order() {
	image_archive
	containerd_start
	CTR images import "$T/busybox.tar" >/dev/null
	CTR events >"$T/events" &
	ev=$!
	sleep 0.3
	CTR run --rm $RT --memory-limit 20000000 localhost/busybox:latest oom sh -c 'x=$(head -c 60000000 /dev/zero | tr "\0" a)' || true
	CTR run -d $RT localhost/busybox:latest t1 sleep 100
	wait_status t1 RUNNING
	CTR task exec --exec-id x1 t1 true
	CTR task pause t1
	CTR task resume t1
	CTR task kill -s KILL t1
	wait_status t1 STOPPED
	CTR task delete t1 >/dev/null
	sleep 0.3
	kill $ev
	# (an OOM kill may notify more than once, for containerd's runc shim as for ours)
	topics=$(awk '{print $6}' "$T/events" | grep '^/tasks/' | uniq | tr '\n' ' ')
	assert_eq "/tasks/create /tasks/start /tasks/oom /tasks/exit /tasks/delete /tasks/create /tasks/start /tasks/exec-added /tasks/exec-started /tasks/exit /tasks/paused /tasks/resumed /tasks/exit /tasks/delete " "$topics" "event topics"
}

test_ctr_enclave_container() {
	image_archive
	containerd_start
	CTR images import "$T/busybox.tar" >/dev/null
	env="--env ENCLAVE_TYPE=sim --env ENCLAVE_RUNTIME_PATH=$BUILD_DIR/pal/liberpal-sim.so"
	rc=0
	# shellcheck disable=SC2086
	out=$(CTR run --rm $RT $env localhost/busybox:latest e1 sh -c 'echo in the enclave; exit 5' 2>"$T/err") || rc=$?
	assert_eq "in the enclave" "$out"
	assert_eq 5 "$rc" "exit code from the enclave"
	assert_contains "$(cat "$T/err")" "SIMULATION MODE"
	# shellcheck disable=SC2086
	CTR run -d $RT $env localhost/busybox:latest e2 sleep 100 2>/dev/null
	wait_status e2 RUNNING
	assert_eq "exec in the enclave" "$(CTR task exec --exec-id x e2 sh -c 'echo exec in the enclave' 2>/dev/null)"
	assert_contains "$(CTR task ps e2)" "$(CTR task ls | awk '$1 == "e2" {print $2}')"
	CTR task pause e2
	assert_eq PAUSED "$(task_status e2)"
	CTR task resume e2
	assert_eq RUNNING "$(task_status e2)"
	assert_contains "$(CTR task metrics e2)" "pids.current"
	CTR task kill -s KILL e2
	wait_status e2 STOPPED
	CTR task delete e2 >/dev/null
	CTR container delete e2
	no_task_left e2
}

test_ctr_stdio_loggers() {
	image_archive
	containerd_start
	CTR images import "$T/busybox.tar" >/dev/null
	cat >"$T/logger" <<L
#!/bin/sh
# a containerd binary:// logger: stdout on fd 3, stderr on fd 4, ready when fd 5 closes
echo "\$CONTAINER_NAMESPACE/\$CONTAINER_ID \$*" >"$T/logger.args"
exec 5>&-
cat <&3 >"$T/logger.out" &
cat <&4 >"$T/logger.err"
wait
L
	chmod +x "$T/logger"
	CTR run --rm $RT --log-uri "binary://$T/logger?tag=web" localhost/busybox:latest l1 sh -c 'echo to-out; echo to-err >&2'
	for _ in $(seq 50); do [ -s "$T/logger.err" ] && [ -s "$T/logger.out" ] && break; sleep 0.1; done
	assert_eq "to-out" "$(cat "$T/logger.out")"
	assert_eq "to-err" "$(cat "$T/logger.err")"
	assert_eq "default/l1 tag web" "$(cat "$T/logger.args")"
	CTR run --rm $RT --log-uri "file://$T/logs/l2.log" localhost/busybox:latest l2 sh -c 'echo line1; echo line2 >&2'
	assert_eq "line1
line2" "$(cat "$T/logs/l2.log")"
}

test_ctr_containerd_restart_and_shim_sigkill() {
	image_archive
	containerd_start
	CTR images import "$T/busybox.tar" >/dev/null
	CTR run -d $RT localhost/busybox:latest r1 sh -c 'trap "exit 3" TERM; while :; do sleep 0.1; done'
	wait_status r1 RUNNING
	shim=$(shim_pids)
	containerd_kill
	kill -0 "$shim" || fail "the shim died with containerd"
	containerd_start
	# the task survived and is managed again through the same shim
	assert_eq RUNNING "$(task_status r1)"
	assert_eq "$shim" "$(shim_pids)" "shim pid after the restart"
	assert_eq "still managed" "$(CTR task exec --exec-id after r1 echo still managed)"
	CTR task kill -s TERM r1
	wait_status r1 STOPPED
	assert_contains "$(CTR task delete r1 2>&1)" "3"
	CTR container delete r1
	no_shim_left r1
	# the shim SIGKILLed: containerd's cleanup (our `delete`) leaves nothing
	CTR run -d $RT localhost/busybox:latest k1 sleep 1000
	wait_status k1 RUNNING
	kill -9 "$(shim_pids)"
	for _ in $(seq 100); do [ -z "$(CTR task ls -q)" ] && break; sleep 0.1; done
	assert_eq "" "$(CTR task ls -q)" "tasks after the shim was killed"
	no_task_left k1
	! pgrep -f "sleep 1000" >/dev/null || fail "the task's process survived its shim"
	CTR container delete k1
}

# A standalone shim: `start` in a bundle directory, no containerd behind it.
standalone_start() {
	mkdir -p "$T/bundle"
	(cd "$T/bundle" && "$SHIM" -namespace probe-$$ -address "$T/none.sock" -id "${1:-p1}" start "${@:2}")
}

test_shim_hostile_rpcs_and_options() {
	addr=$(standalone_start p1 </dev/null)
	assert_contains "$addr" "unix:///run/containerd/s/"
	assert_eq "$addr" "$(cat "$T/bundle/address")" "address file"
	out=$(PROBE "$addr" hostile)
	for want in "oversized: 8" "unknown-service: 12" "unknown-method: 12" "garbage-request: 3" \
		"garbage-payload: 3" "wrong-wire-type: 3" "data-frame: 3" "checkpoint: 12" "state-unknown-task: 5" \
		"create-bad-id: 3" "connect-after: 0"; do
		assert_contains "$out" "$want"
	done
	pid=$(echo "$out" | awk '/^shim-pid:/ {print $2}')
	kill -0 "$pid" || fail "the shim is gone"
	# a stream of malformed frames and a stuck half frame while a good client is served
	out=$(PROBE "$addr" flood 5)
	echo "$out" >&2
	calls=$(awk '/^good:/ {print $2}' <<<"$out")
	assert_eq "good: $calls calls, $calls ok" "$(grep '^good:' <<<"$out")" "the good client during the flood"
	[ "$calls" -ge 20 ] || fail "the good client was starved: $out"
	[ "$(awk '/^bad:/ {print $4}' <<<"$out")" -ge 100 ] || fail "the malformed frames were not answered: $out"
	kill -0 "$pid" || fail "the shim is gone after the flood"
	# a second start of the same group finds the running shim
	assert_eq "$addr" "$(standalone_start p1 </dev/null)" "second start"
	assert_eq "$pid" "$(pgrep -f "containerd-shim-rune-v2 -namespace probe-$$" | head -1)"
	assert_eq "0 " "$(PROBE "$addr" call Shutdown)"
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	! kill -0 "$pid" 2>/dev/null || fail "Shutdown with no task left the shim running"
	[ ! -e "${addr#unix://}" ] || fail "the socket outlived the shim"
	# runtime options: runc's type and the CRI plugin's are taken, others refused by name
	# containerd.runc.v1.Options{binary_name: "/bin/true"}
	PROBE any containerd.runc.v1.Options 32092f62696e2f74727565 >"$T/runc.any"
	a2=$(standalone_start p2 <"$T/runc.any")
	assert_contains "$a2" "unix://"
	PROBE "$a2" call Shutdown >/dev/null
	PROBE any runtimeoptions.v1.Options >"$T/cri.any"
	a3=$(standalone_start p3 <"$T/cri.any")
	PROBE "$a3" call Shutdown >/dev/null
	PROBE any example.com/Bogus.Options >"$T/bogus.any"
	expect_fail 1 standalone_start p4 <"$T/bogus.any"
	assert_contains "$ERR" "unsupported type example.com/Bogus.Options"
	printf 'garbage' >"$T/garbage"
	expect_fail 1 standalone_start p5 <"$T/garbage"
	assert_contains "$ERR" "not a google.protobuf.Any"
	# the socket's name is sha256(address/namespace/key) as containerd's shims
	# name it: checked against Python's hashlib across SHA-256's block edges
	for n in $(seq 1 3 90); do
		id=$(head -c "$n" /dev/zero | tr '\0' x)
		want=$(/usr/bin/python3 -c 'import hashlib, sys; print(hashlib.sha256(sys.argv[1].encode()).hexdigest())' \
			"$T/none.sock/probe-$$/$id")
		a=$(standalone_start "$id" </dev/null)
		assert_eq "unix:///run/containerd/s/$want" "$a" "socket for a $n-byte id"
		PROBE "$a" call Shutdown >/dev/null
	done
	# delete is idempotent and answers a DeleteResponse (exit_status 137)
	for _ in 1 2; do
		"$SHIM" -namespace probe-$$ -address "$T/none.sock" -id gone -bundle "$T/bundle" delete >"$T/del"
		assert_eq "1089" "$(od -An -tx1 "$T/del" | tr -d ' \n' | cut -c1-4)" "DeleteResponse exit_status field"
	done
}

# --- Kubernetes through the CRI plugin ---

test_cri_pod_two_containers_one_shim() {
	containerd_start cri
	cri_images
	assert_contains "$(CRI version)" "containerd"
	run_pod web NODE
	c1=$(start_ctr web app localhost/busybox:latest sh -c 'echo app says hi; echo app err >&2; trap "exit 0" TERM; while :; do sleep 0.1; done')
	c2=$(start_ctr web side localhost/busybox:latest sh -c 'trap "" TERM; echo sidecar up; while :; do sleep 0.1; done')
	# one shim serves the pod: sandbox and both containers
	assert_eq 1 "$(shim_pids | wc -l)" "shims for one pod"
	assert_eq "exec-sync-ok" "$(CRI exec "$c1" 10 sh -c 'echo exec-sync-ok')"
	rc=0
	CRI exec "$c2" 10 sh -c 'exit 4' || rc=$?
	assert_eq 4 "$rc" "ExecSync exit code"
	assert_eq CONTAINER_RUNNING "$(cri_status "$c1" .state)"
	# logs, in the CRI format containerd writes
	for _ in $(seq 50); do grep -q "app err" "$T/pods/web/app.log" 2>/dev/null && break; sleep 0.1; done
	assert_contains "$(cat "$T/pods/web/app.log")" " stdout F app says hi"
	assert_contains "$(cat "$T/pods/web/app.log")" " stderr F app err"
	assert_contains "$(cat "$T/pods/web/side.log")" "sidecar up"
	# StopContainer: TERM, then KILL after the timeout for one that ignores TERM
	CRI stop "$c1" 5
	assert_eq CONTAINER_EXITED "$(cri_status "$c1" .state)"
	assert_eq null "$(cri_status "$c1" .exit_code)" "exit code of a TERMed container (0 is omitted)"
	CRI stop "$c2" 1
	assert_eq 137 "$(cri_status "$c2" .exit_code)"
	CRI rm "$c1"
	CRI rm "$c2"
	# the shim stays while the sandbox does, and leaves with it
	assert_eq 1 "$(shim_pids | wc -l)" "shim after the containers are removed"
	CRI stopp "$POD"
	CRI rmp "$POD"
	no_shim_left "the pod"
	assert_eq "" "$("$RUNE" --root /run/containerd/rune/k8s.io list -q)" "rune containers after RemovePodSandbox"
}

test_cri_pod_network_through_cni() {
	# the bridge plugin (isGateway) turns on the host's forwarding: put it back
	echo "echo $(cat /proc/sys/net/ipv4/ip_forward) >/proc/sys/net/ipv4/ip_forward" >"$T/restore"
	mkdir -p "$T/ctrd"
	cat >"$T/ctrd/cni.conflist" <<C
{"cniVersion": "1.0.0", "name": "rune-test-$$", "plugins": [
  {"type": "bridge", "bridge": "runetest0", "isGateway": true, "ipMasq": false,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.213.0.0/24"}]], "dataDir": "$T/ctrd/ipam"}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
C
	mkdir -p "$T/ctrd/cni"
	mv "$T/ctrd/cni.conflist" "$T/ctrd/cni/10-rune-test.conflist"
	containerd_start cri
	cri_images
	run_pod net POD
	c1=$(start_ctr net app localhost/busybox:latest httpd -f -p 8080 -h /etc)
	addr=$(CRI exec "$c1" 10 ip -4 addr show eth0)
	assert_contains "$addr" "10.213.0."
	# the pod's address answers from the host
	ip4=$(echo "$addr" | awk '/inet / {sub("/.*", "", $2); print $2}')
	for _ in $(seq 30); do curl -s --max-time 2 -o "$T/hostname" "http://$ip4:8080/hostname" && break; sleep 0.1; done
	assert_eq net "$(cat "$T/hostname" 2>/dev/null)" "the pod's web server over the bridge"
	CRI stop "$c1" 0
	CRI rm "$c1"
	CRI stopp "$POD"
	CRI rmp "$POD"
}

# Robustness (issue 15; docs/robustness.md): kill -9 at random points of
# every state change, with a consistency check after each; starved and
# read-only disks; registries and KBSes that stall. KILL_ITERATIONS sets the
# loops' length (make check: 20; the recorded runs: 200).
# test-timeout: 600
. "$TOP/tests/lib/containerd.sh"

cleanup_extra() { containerd_cleanup; }

KILLS=${KILL_ITERATIONS:-20}

# tree_sum DIR: names, types, modes, owners, sizes and contents of a tree.
tree_sum() {
	(cd "$1" && find . -printf '%p %y %m %U:%G %s %l\n' | LC_ALL=C sort &&
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum | cut -d' ' -f1
}

# big_image REF: the busybox base and two layers of incompressible data
# (about 6 MB in all), so that a pull takes long enough to be killed at
# many points.
big_image() {
	base_layout
	for n in 1 2; do
		python3 -c 'import json, os, sys; print(json.dumps([{"name": "data%s" % sys.argv[1], "data": os.urandom(1200000).hex()}]))' $n >"$T/spec-big.json"
		layer_from "$(cat "$T/spec-big.json")" base
	done
	push base "$1"
}

# store_fsck WHAT: rune-image fsck says the store is consistent.
store_fsck() {
	local out
	out=$(RI fsck 2>&1) || fail "$1: fsck: $out"
}

test_pull_and_unpack_killed_at_random_points() {
	registry_start
	local ref="$REG/k/big:1"
	big_image "$ref"
	# one clean run, to know the span to kill in and the tree to expect
	local t0 t1 want
	t0=$(now_ms)
	RI --tls-verify=false unpack "$ref" "$T/clean" >/dev/null
	t1=$(now_ms)
	want=$(tree_sum "$T/clean/rootfs")
	local span=$(((t1 - t0) * 3 / 2 + 20)) complete=0 cleared=0 i ms
	RI rm "$ref" && RI gc >/dev/null
	for i in $(seq "$KILLS"); do
		ms=$((RANDOM % span))
		if [ $((i % 3)) -eq 0 ]; then
			# a pull from nothing
			RI rm "$ref" 2>/dev/null
			RI gc >/dev/null
			kill_at "$ms" "$BUILD_DIR/bin/rune-image" --root "$T/store" --insecure-policy --tls-verify=false pull "$ref"
		else
			kill_at "$ms" "$BUILD_DIR/bin/rune-image" --root "$T/store" --insecure-policy --tls-verify=false unpack "$ref" "$T/b"
		fi
		store_fsck "iteration $i (killed after $ms ms)"
		# a bundle is complete, or marked as interrupted and cleared by the next unpack
		if [ -e "$T/b/config.json" ] && [ ! -e "$T/b/.rune-image-unpacking" ]; then
			assert_eq "$want" "$(tree_sum "$T/b/rootfs")" "iteration $i: a bundle without the mark is the image"
			complete=$((complete + 1))
			rm -rf "$T/b"
		elif [ -e "$T/b" ]; then
			[ -z "$(ls -A "$T/b" | grep -v -e '^\.rune-image-unpacking$' -e '^\.unpack-' -e '^config\.json\.tmp-' -e '^rootfs$' -e '^config.json$')" ] ||
				fail "iteration $i: unexpected files in the bundle: $(ls -A "$T/b")"
			[ ! -e "$T/b/rootfs" ] && [ ! -e "$T/b/config.json" ] || [ -e "$T/b/.rune-image-unpacking" ] ||
				fail "iteration $i: a half bundle without the mark: $(ls -A "$T/b")"
			RI --tls-verify=false unpack "$ref" "$T/b" >/dev/null || fail "iteration $i: the next unpack"
			assert_eq "$want" "$(tree_sum "$T/b/rootfs")" "iteration $i: the next unpack"
			[ -z "$(ls -A "$T/b" | grep -v -e '^rootfs$' -e '^config.json$')" ] ||
				fail "iteration $i: debris after the next unpack: $(ls -A "$T/b")"
			cleared=$((cleared + 1))
			rm -rf "$T/b"
		fi
		# what the kill left in ingest does not survive gc
		RI gc >/dev/null
		assert_eq "[]" "$(RI fsck --format json | jq -c .debris)" "iteration $i: debris after gc"
	done
	echo "$KILLS kills: $complete bundles complete, $cleared interrupted ones cleared by the next unpack" >&2
	# and the store serves a last unpack
	RI --tls-verify=false unpack "$ref" "$T/last" >/dev/null
	assert_eq "$want" "$(tree_sum "$T/last/rootfs")" "the last unpack"
}

test_fsck_names_what_is_wrong() {
	registry_start
	base_layout
	push base "$REG/f/one:1"
	RI --tls-verify=false pull "$REG/f/one:1" >/dev/null
	out=$(RI fsck)
	assert_contains "$out" "consistent"
	m=$(RI list --format json | jq -r '.[0].digest')
	layer=$(RI inspect "$REG/f/one:1" | jq -r '.manifest.layers[0].digest')
	# a changed byte in a blob
	f="$T/store/blobs/sha256/${layer#sha256:}"
	cp "$f" "$T/saved"
	printf 'X' | dd of="$f" bs=1 seek=100 conv=notrunc 2>/dev/null
	expect_fail 1 RI fsck
	assert_contains "$ERR" "blob $layer: its content is sha256:"
	assert_contains "$ERR" "has 1 problem"
	# a missing layer
	rm "$f"
	expect_fail 1 RI fsck
	assert_contains "$ERR" "image $REG/f/one:1: layer $layer"
	assert_contains "$ERR" "of manifest $m is missing"
	cp "$T/saved" "$f"
	# abandoned ingest files are debris, not problems; gc removes them
	echo partial >"$T/store/ingest/abc.XXXXXX"
	echo "{" >"$T/store/refs.json.tmp-12345"
	out=$(RI fsck --format json)
	assert_eq '[]' "$(jq -c .problems <<<"$out")" "problems"
	assert_eq 2 "$(jq '.debris | length' <<<"$out")" "debris"
	RI gc >/dev/null
	assert_eq 0 "$(RI fsck --format json | jq '.debris | length')" "debris after gc"
	# an unreadable refs.json
	echo '{"refs": 1' >"$T/store/refs.json"
	expect_fail 1 RI fsck
	assert_contains "$ERR" "refs.json"
}

# --- the container lifecycle under kill -9 ---------------------------------

# leaks ID BUNDLE: what a deleted container left: its state, a cgroup, a
# process of its own (the marker command), a mount of its bundle.
leaks() {
	local id=$1 b=$2 out=""
	[ ! -e "$ROOT/$id" ] || out+=" state $ROOT/$id;"
	for cg in /sys/fs/cgroup/*/rune-kill/"$id" /sys/fs/cgroup/rune-kill/"$id"; do
		[ ! -d "$cg" ] || out+=" cgroup $cg;"
	done
	local p
	# the marker command, or a rune (or an init it cloned) on this root
	p=$(pgrep -f -- "sleep 98765|--root $ROOT " | tr '\n' ' ')
	[ -z "$p" ] || out+=" processes $p;"
	! grep -q " $b" /proc/self/mountinfo || out+=" mounts $(grep -c " $b" /proc/self/mountinfo);"
	echo "$out"
}

# after_kill ID BUNDLE WHAT: the state is consistent, the next commands on
# the id work, and deleting it leaves nothing.
after_kill() {
	local id=$1 b=$2 what=$3 st=absent
	r list >/dev/null 2>"$T/list.err" || fail "$what: rune list: $(cat "$T/list.err")"
	if r list -q | grep -qx "$id"; then
		st=$(r state "$id" 2>&1) || fail "$what: listed, but rune state fails: $st"
		st=$(jq -r .status <<<"$st")
		case $st in created | running | stopped | paused) ;; *) fail "$what: status '$st'" ;; esac
		if [ "$st" = running ]; then
			r exec "$id" true || fail "$what: exec into the running container"
		fi
	fi
	SEEN+=" $st"
	r delete -f "$id" >/dev/null 2>"$T/del.err" || fail "$what: delete -f: $(cat "$T/del.err")"
	local l
	for _ in $(seq 50); do
		l=$(leaks "$id" "$b")
		[ -n "$l" ] || break
		sleep 0.1
	done
	[ -z "$l" ] || fail "$what: left after delete -f:$l"
	# the id is free again
	r run -d -b "$b" "$id" >/dev/null 2>"$T/run.err" </dev/null || fail "$what: run after: $(cat "$T/run.err")"
	assert_eq running "$(status_of "$id")" "$what: the next run"
}

test_lifecycle_killed_at_random_points() {
	local b="$T/bundle" id=k i ms op
	SEEN=""
	make_bundle "$b" sleep 98765
	jq_edit "$b" '.linux.cgroupsPath = "/rune-kill/k" | .linux.resources.pids = {"limit": 64}'
	r run -d -b "$b" "$id" >/dev/null </dev/null
	for i in $(seq "$KILLS"); do
		ms=$((RANDOM % 60))
		op=$(((i - 1) % 4))
		case $op in
		0) # create, from nothing
			r delete -f "$id" >/dev/null
			kill_at "$ms" "$RUNE" --root "$ROOT" create -b "$b" "$id" ;;
		1) # start a created container
			r delete -f "$id" >/dev/null
			r create -b "$b" "$id" </dev/null >/dev/null
			kill_at "$ms" "$RUNE" --root "$ROOT" start "$id" ;;
		2) # exec into a running one
			kill_at "$ms" "$RUNE" --root "$ROOT" exec "$id" sh -c 'sleep 98765' ;;
		3) # delete a running one
			kill_at "$ms" "$RUNE" --root "$ROOT" delete -f "$id" ;;
		esac
		after_kill "$id" "$b" "iteration $i (op $op killed after $ms ms)"
	done
	r delete -f "$id"
	l=$(leaks "$id" "$b")
	[ -z "$l" ] || fail "at the end:$l"
	echo "$KILLS kills; found after them:$(tr ' ' '\n' <<<"$SEEN" | sort | uniq -c | awk 'NF == 2 {printf " %s %s", $1, $2}')" >&2
}

# --- starved and failing disks -----------------------------------------------

# small_fs DIR SIZE: a tmpfs of SIZE at DIR (cleanup_all unmounts it).
small_fs() {
	mkdir -p "$1"
	mount -t tmpfs -o "size=$2,mode=0755" tmpfs "$1"
}

test_store_bundle_and_state_on_a_full_disk() {
	registry_start
	local ref="$REG/d/big:1"
	big_image "$ref"
	# the store: no space mid-layer
	small_fs "$T/small" 2m
	RIS() { "$BUILD_DIR/bin/rune-image" --root "$T/small/store" --insecure-policy --tls-verify=false "$@"; }
	expect_fail 1 RIS pull "$ref"
	assert_contains "$ERR" "no space left on device"
	assert_contains "$ERR" "$T/small/store/ingest/"
	out=$(RIS fsck --format json) || fail "fsck after ENOSPC: $out"
	assert_eq '[] []' "$(jq -c .problems <<<"$out") $(jq -c .debris <<<"$out")" "problems and debris after ENOSPC"
	assert_eq 0 "$(jq .references <<<"$out")" "references after ENOSPC"
	mount -o remount,size=64m "$T/small"
	RIS pull "$ref" >/dev/null || fail "the pull with space"
	RIS fsck >/dev/null
	# a bundle: no space mid-unpack leaves nothing that looks like one
	small_fs "$T/bdisk" 3m
	expect_fail 1 RIS unpack "$ref" "$T/bdisk/b"
	assert_contains "$ERR" "no space left on device"
	# (libarchive reports a failed write as a mere warning: this once kept a truncated file)
	assert_contains "$ERR" "unpack into $T/bdisk/b: layer sha256:"
	assert_contains "$ERR" ': entry "data'
	assert_eq "" "$(ls -A "$T/bdisk/b")" "the bundle after ENOSPC"
	mount -o remount,size=64m "$T/bdisk"
	RIS unpack "$ref" "$T/bdisk/b" >/dev/null || fail "the unpack with space"
	[ -e "$T/bdisk/b/config.json" ] && [ ! -e "$T/bdisk/b/.rune-image-unpacking" ] || fail "bundle after the unpack with space"
	# the state root: no space for the state of a new container
	small_fs "$T/state" 64k
	dd if=/dev/zero of="$T/state/fill" bs=4k 2>/dev/null || true
	make_bundle "$T/bundle" sleep 98765
	jq_edit "$T/bundle" '.linux.cgroupsPath = "/rune-kill/full"'
	local RR="$RUNE --root $T/state/rune"
	expect_fail 1 $RR run -d -b "$T/bundle" full
	assert_contains "$ERR" "no space left on device"
	assert_contains "$ERR" "$T/state/rune/full"
	assert_eq "" "$($RR list -q)" "containers after ENOSPC"
	l=$(ROOT="$T/state/rune" leaks full "$T/bundle")
	[ -z "$l" ] || fail "left after ENOSPC:$l"
	rm "$T/state/fill"
	$RR run -d -b "$T/bundle" full </dev/null >/dev/null || fail "run with space"
	assert_eq running "$($RR state full | jq -r .status)"
	$RR delete -f full
}

test_store_turning_read_only_mid_pull() {
	registry_start
	local ref="$REG/r/big:1"
	big_image "$ref"
	proxy_start "$REG"
	echo '[{"match": "blobs/sha256", "action": "slow"}]' >"$T/faults.json"
	# (remounting read-only is refused while a file is open for writing on
	# the mount: the directories are made immutable instead, chattr +i)
	small_fs "$T/disk" 64m
	RID() { "$BUILD_DIR/bin/rune-image" --root "$T/disk/store" --insecure-policy --tls-verify=false "$@"; }
	RID pull "$PROXY/r/big:1" >/dev/null 2>"$T/pull.err" &
	local pid=$!
	for _ in $(seq 100); do
		[ -n "$(ls -A "$T/disk/store/ingest" 2>/dev/null)" ] && break
		sleep 0.05
	done
	chattr +i "$T/disk/store/ingest" "$T/disk/store/blobs/sha256" "$T/disk/store"
	local rc=0
	wait "$pid" || rc=$?
	echo "read-only: $(cat "$T/pull.err")" >&2
	assert_eq 1 "$rc" "the pull on a read-only store"
	assert_contains "$(cat "$T/pull.err")" "operation not permitted"
	assert_contains "$(cat "$T/pull.err")" "$T/disk/store/"
	chattr -i "$T/disk/store/ingest" "$T/disk/store/blobs/sha256" "$T/disk/store"
	out=$(RID fsck --format json) || fail "fsck after EROFS: $out"
	assert_eq '[]' "$(jq -c .problems <<<"$out")" "problems after EROFS"
	RID gc >/dev/null
	assert_eq '[]' "$(RID fsck --format json | jq -c .debris)" "debris after gc"
	echo '[]' >"$T/faults.json"
	RID pull "$PROXY/r/big:1" >/dev/null || fail "the pull once writable"
	RID fsck >/dev/null
}

# --- slow and broken peers ---------------------------------------------------

test_registry_that_is_silent_drips_or_stalls() {
	registry_start
	base_layout
	push base "$REG/s/img:1"
	proxy_start "$REG"
	local layer start
	layer=$(skopeo inspect --raw --tls-verify=false "docker://$REG/s/img:1" | jq -r '.layers[0].digest')
	# never answers: each attempt ends after --timeout, six attempts in all
	echo '[{"match": "manifests/", "action": "silent"}]' >"$T/faults.json"
	start=$(date +%s)
	expect_fail 1 timeout 120 "$BUILD_DIR/bin/rune-image" --root "$T/store" --insecure-policy --tls-verify=false --timeout 1 pull "$PROXY/s/img:1"
	assert_contains "$ERR" "GET http://$PROXY/v2/s/img/manifests/1: stalled: under 1024 bytes/s for 1 s, 6 times (--timeout)"
	[ $(($(date +%s) - start)) -lt 60 ] || fail "a silent registry held the pull $(($(date +%s) - start)) s"
	# drips a layer a byte a second
	echo "[{\"match\": \"blobs/$layer\", \"action\": \"drip\"}]" >"$T/faults.json"
	expect_fail 1 timeout 120 "$BUILD_DIR/bin/rune-image" --root "$T/store" --insecure-policy --tls-verify=false --timeout 1 pull "$PROXY/s/img:1"
	assert_contains "$ERR" "layer $layer: GET http://$PROXY/v2/s/img/blobs/$layer: stalled"
	out=$(RI fsck --format json)
	assert_eq '[] 0' "$(jq -c .problems <<<"$out") $(jq .references <<<"$out")" "the store after the dripping registry"
	# stops half-way twice, then recovers: resumed where it stopped
	echo "[{\"match\": \"blobs/$layer\", \"action\": \"stall\", \"times\": 2}]" >"$T/faults.json"
	: >"$T/proxy.log"
	out=$("$BUILD_DIR/bin/rune-image" --root "$T/store" --insecure-policy --tls-verify=false --timeout 1 --format json pull "$PROXY/s/img:1")
	assert_eq 2 "$(jq .retries <<<"$out")" "retries after two stalls"
	assert_contains "$(grep "blobs/$layer" "$T/proxy.log")" "range=bytes="
	RI fsck >/dev/null
	# the default bound is 30 s a stall; rune-image says what it takes
	expect_fail 2 RI --timeout 0 list
	assert_contains "$ERR" '--timeout: want 1 to 3600 seconds, not "0"'
}

# --- the shim under kill -9 --------------------------------------------------

test_shim_killed_at_random_points() {
	image_archive
	containerd_start
	CTR images import "$T/busybox.tar" >/dev/null
	local i ms id shim seen="" t0 span
	# a clean run, to know the span to kill in
	t0=$(now_ms)
	CTR run -d --runtime io.containerd.rune.v2 localhost/busybox:latest s0 sleep 98765 >/dev/null
	span=$(($(now_ms) - t0 + 50))
	CTR task kill -s KILL s0 && CTR task delete s0 >/dev/null 2>&1 || CTR task delete -f s0 >/dev/null 2>&1 || true
	CTR container delete s0
	for i in $(seq "$KILLS"); do
		id=s$i
		ms=$((RANDOM % span))
		CTR run -d --runtime io.containerd.rune.v2 localhost/busybox:latest "$id" sleep 98765 >/dev/null 2>&1 &
		local cpid=$!
		sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
		# the shim (start, or the serving one it execs) at whatever it was doing
		shim=$(shim_pids)
		[ -z "$shim" ] || kill -9 $shim 2>/dev/null || true
		wait "$cpid" 2>/dev/null && seen+=" started" || seen+=" failed"
		# containerd's cleanup: the task goes, and with it everything of it
		for _ in $(seq 100); do [ -z "$(CTR task ls -q)" ] && break; sleep 0.1; done
		if [ -n "$(CTR task ls -q)" ]; then
			# the shim was killed before it served: containerd still lists the task
			CTR task delete -f "$id" >/dev/null 2>&1 || true
		fi
		assert_eq "" "$(CTR task ls -q)" "iteration $i (shim killed after $ms ms): tasks"
		no_task_left "$id"
		for _ in $(seq 50); do pgrep -f "sleep 98765" >/dev/null || break; sleep 0.1; done
		! pgrep -f "sleep 98765" >/dev/null || fail "iteration $i (shim killed after $ms ms): the task's process survived"
		# (containerd's cleanup runs `shim delete` a moment later: let it end)
		for _ in $(seq 50); do [ -z "$(shim_pids)" ] && break; sleep 0.1; done
		[ -z "$(shim_pids)" ] || fail "iteration $i (shim killed after $ms ms): a shim is left: $(pgrep -fa "containerd-shim-rune-v2 .*-address $T/")"
		CTR container delete "$id" >/dev/null 2>&1 || true
	done
	echo "$KILLS kills of the shim; ctr run:$(tr ' ' '\n' <<<"$seen" | sort | uniq -c | awk 'NF == 2 {printf " %s %s", $1, $2}')" >&2
	# the next task runs
	assert_eq ok "$(CTR run --rm --runtime io.containerd.rune.v2 localhost/busybox:latest last echo ok)"
}

test_delete_force_during_a_create() {
	local b="$T/bundle"
	make_bundle "$b" sleep 98765
	# a create that takes a second (a hook), deleted meanwhile: delete --force
	# waits for it and removes what it made, and nothing is left behind
	jq_edit "$b" '.linux.cgroupsPath = "/rune-kill/slow" | .hooks.createRuntime = [{"path": "/bin/sleep", "args": ["sleep", "1"]}]'
	r create -b "$b" slow </dev/null >/dev/null 2>"$T/create.err" &
	local cpid=$!
	for _ in $(seq 100); do [ -e "$ROOT/slow" ] && break; sleep 0.01; done
	[ -e "$ROOT/slow" ] || fail "the create did not begin"
	r delete -f slow || fail "delete --force during the create"
	wait "$cpid" || true
	assert_eq "" "$(r list -q)" "containers after the delete"
	l=$(leaks slow "$b")
	[ -z "$l" ] || fail "left after delete --force during the create:$l"
	r run -d -b "$b" slow </dev/null >/dev/null
	assert_eq running "$(status_of slow)"
	r delete -f slow
}

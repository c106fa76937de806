# A private containerd 1.6 for the client and shim tests: its own root, state,
# sockets and CNI config; the build's containerd-shim-rune-v2 (and the rune
# beside it) first on its PATH. With `cri`, the CRI plugin serves pods with a
# runtime handler `rune` as configs/containerd-rune.toml sets it up.
. "$TOP/tests/lib/registry.sh"

CTR() { ctr -a "$T/ctrd/containerd.sock" "$@"; }
CRI() { CRI_STUBS="$TEST_TMP/cri-stubs" /usr/bin/python3 "$TOP/tests/helpers/cri/cri.py" "$T/ctrd/containerd.sock" "$@"; }

# task_status ID: the STATUS column of `ctr task ls`.
task_status() { CTR task ls | awk -v id="$1" '$1 == id {print $3}'; }

# no_task_left ID: nothing of the task in rune, the mount table or the cgroups.
no_task_left() {
	# (containerd runs the shim's `delete` after it stops listing the task)
	for _ in $(seq 100); do "$RUNE" --root /run/containerd/rune/default list -q | grep -qx "$1" || break; sleep 0.1; done
	assert_eq "" "$("$RUNE" --root /run/containerd/rune/default list -q | grep -x "$1" || true)" "rune list"
	# (containerd unmounts the snapshot after the task is gone: a moment later)
	for _ in $(seq 50); do grep -q " $T/ctrd/.*/$1/" /proc/self/mountinfo || break; sleep 0.1; done
	! grep -q " $T/ctrd/.*/$1/" /proc/self/mountinfo || fail "a mount of $1 is left: $(grep " $T/ctrd/.*/$1/" /proc/self/mountinfo)"
	! find /sys/fs/cgroup -maxdepth 4 -name "$1" 2>/dev/null | grep -q . || fail "a cgroup of $1 is left"
}

containerd_config() {
	local cri=${1:-}
	[ "$cri" = cri ] || echo 'disabled_plugins = ["io.containerd.grpc.v1.cri"]'
	cat <<C
version = 2
root = "$T/ctrd/root"
state = "$T/ctrd/state"
[grpc]
  address = "$T/ctrd/containerd.sock"
[ttrpc]
  address = "$T/ctrd/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$T/ctrd/opt"
C
	[ "$cri" = cri ] || return 0
	cat <<C
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/pause:1"
  restrict_oom_score_adj = true
  disable_tcp_service = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$T/ctrd/cni"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
C
	# the snippet users install (configs/), indented under the CRI plugin
	sed -n '/^\[plugins/,$p' "$TOP/configs/containerd-rune.toml"
}

# containerd_start [cri]
containerd_start() {
	mkdir -p "$T/ctrd/cni"
	containerd_config "${1:-}" >"$T/ctrd/config.toml"
	PATH="$BUILD_DIR/bin:$PATH" bg containerd --config "$T/ctrd/config.toml" >>"$T/ctrd/log" 2>&1
	for _ in $(seq 100); do CTR version >/dev/null 2>&1 && return 0; sleep 0.1; done
	fail "containerd did not start: $(tail -5 "$T/ctrd/log")"
}

# containerd_kill: stop containerd alone (its shims and tasks live on).
containerd_kill() {
	local p
	p=$(pgrep -f "containerd --config $T/ctrd/config.toml" || true)
	[ -n "$p" ] && kill -9 $p
	for _ in $(seq 50); do pgrep -f "containerd --config $T/ctrd/config.toml" >/dev/null || return 0; sleep 0.1; done
}

# shim_pids: the rune shims serving this containerd.
shim_pids() { pgrep -f "containerd-shim-rune-v2 .*-address $T/" || true; }

# A shim exits a moment after it answers Shutdown (containerd does not wait
# for it): give it 10 s, then fail naming what is left.
no_shim_left() {
	for _ in $(seq 100); do [ -z "$(shim_pids)" ] && return 0; sleep 0.1; done
	fail "a shim is left after its last task ($1): $(shim_pids)"
}

containerd_cleanup() {
	# ctr waits 10 s for a containerd that is not there: only ask a running one
	pgrep -f "containerd --config $T/ctrd/config.toml" >/dev/null && for pod in $(cat "$T/pods.list" 2>/dev/null); do
		CRI stopp "$pod" >/dev/null 2>&1
		CRI rmp "$pod" >/dev/null 2>&1
	done
	pgrep -f "containerd --config $T/ctrd/config.toml" >/dev/null && for ns in default k8s.io; do
		for t in $(CTR -n "$ns" task ls -q 2>/dev/null); do
			CTR -n "$ns" task kill -s KILL "$t" >/dev/null 2>&1
			CTR -n "$ns" task delete -f "$t" >/dev/null 2>&1
		done
		for c in $(CTR -n "$ns" container ls -q 2>/dev/null); do CTR -n "$ns" container delete "$c" >/dev/null 2>&1; done
	done
	for p in $(shim_pids); do kill -9 "$p" 2>/dev/null; done
	for ns in default k8s.io; do
		for id in $("$RUNE" --root "/run/containerd/rune/$ns" list -q 2>/dev/null); do
			"$RUNE" --root "/run/containerd/rune/$ns" delete -f "$id" >/dev/null 2>&1
		done
	done
	grep -o "$T/ctrd/[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
	return 0
}

# image_archive [NAME [CMD...]]: the busybox test image as localhost/NAME (default busybox:latest).
image_archive() {
	local name=${1:-busybox:latest}
	shift || true
	base_layout
	if [ $# -gt 0 ]; then
		local a=()
		for x in "$@"; do a+=(--config.cmd "$x"); done
		umoci config --image "$T/layout:base" --clear=config.cmd "${a[@]}" >/dev/null
	fi
	skopeo copy -q "oci:$T/layout:base" "docker-archive:$T/${name%%:*}.tar:localhost/$name" >/dev/null
}

# --- pods through the CRI plugin ---

# pod_json NAME [network NODE|POD] [annotations JSON]: a PodSandboxConfig.
pod_json() {
	local name=$1 net=${2:-NODE} ann=${3:-"{}"}
	jq -n --arg n "$name" --arg uid "$name-$$" --arg net "$net" --arg logs "$T/pods/$name" --argjson ann "$ann" '{
		metadata: {name: $n, uid: $uid, namespace: "default", attempt: 0},
		hostname: (if $net == "NODE" then "" else $n end),
		log_directory: $logs, annotations: $ann,
		linux: {security_context: {namespace_options: {network: $net}}}}'
}

# ctr_json NAME IMAGE CMD...: a ContainerConfig logging to NAME.log.
ctr_json() {
	local name=$1 image=$2
	shift 2
	# (arguments through stdin: jq would read a "-c" among them as its own option)
	printf '%s\n' "$@" | jq -R . | jq -s --arg n "$name" --arg img "$image" '{metadata: {name: $n},
		image: {image: $img}, command: ., log_path: ($n + ".log")}'
}

cri_images() {
	image_archive
	image_archive pause:1 sleep 2147483647
	CTR -n k8s.io images import "$T/busybox.tar" >/dev/null
	CTR -n k8s.io images import "$T/pause.tar" >/dev/null
}

# run_pod NAME NETWORK [ANNOTATIONS]: sets POD (its id) and writes $T/NAME.pod.json.
run_pod() {
	pod_json "$1" "$2" "${3:-{\}}" >"$T/$1.pod.json"
	POD=$(CRI runp "$T/$1.pod.json" rune) || fail "RunPodSandbox failed"
	echo "$POD" >>"$T/pods.list"
}

# start_ctr POD_NAME NAME IMAGE CMD...: prints the container id.
start_ctr() {
	local pod=$1 name=$2
	shift 2
	ctr_json "$name" "$@" >"$T/$name.ctr.json"
	local id
	id=$(CRI create "$POD" "$T/$name.ctr.json" "$T/$pod.pod.json") || fail "CreateContainer $name failed"
	CRI start "$id" || fail "StartContainer $name failed"
	echo "$id"
}

cri_status() { CRI status "$1" | jq -r "$2"; }

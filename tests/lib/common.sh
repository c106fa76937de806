# Helpers for integration tests. Every test runs as root with its own state
# root ($ROOT) and temp dir ($T); cleanup_all removes what it left.

r() { "$RUNE" --root "$ROOT" "$@"; }

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# assert_eq EXPECTED ACTUAL [what]
assert_eq() { [ "$1" = "$2" ] || fail "${3:-value}: expected '$1', got '$2'"; }
assert_contains() { case "$1" in *"$2"*) ;; *) fail "expected to find '$2' in: $1" ;; esac; }
assert_not_contains() { case "$1" in *"$2"*) fail "did not expect '$2' in: $1" ;; esac; }

# expect_fail CODE CMD...: run CMD, require exit CODE, leave stderr in $ERR.
expect_fail() {
	local want=$1 rc=0
	shift
	ERR=$("$@" 2>&1 >/dev/null) || rc=$?
	[ "$rc" = "$want" ] || fail "'$*' exited $rc, expected $want (stderr: $ERR)"
}

# A busybox rootfs, built once per run from Debian's busybox-static.
rootfs_template() {
	local t="$TEST_TMP/rootfs"
	if [ ! -x "$t/bin/busybox" ]; then
		(
			flock 9
			[ -x "$t/bin/busybox" ] && exit 0
			rm -rf "$t.new" && mkdir -p "$t.new"/{bin,etc,dev,proc,sys,tmp,root,home}
			cp /bin/busybox "$t.new/bin/busybox"
			for a in $("$t.new/bin/busybox" --list); do
				[ "$a" = busybox ] || ln -s busybox "$t.new/bin/$a"
			done
			printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$t.new/etc/passwd"
			printf 'root:x:0:\nnobody:x:65534:\n' >"$t.new/etc/group"
			: >"$t.new/etc/hosts"
			: >"$t.new/etc/resolv.conf"
			echo rune >"$t.new/etc/hostname"
			chmod 0700 "$t.new/root"
			chmod 1777 "$t.new/tmp"
			chmod 0755 "$t.new"
			mv "$t.new" "$t"
		) 9>"$TEST_TMP/.rootfs.lock"
	fi
	echo "$t"
}

# make_bundle DIR [args...]: a bundle from `rune spec`, terminal off, args set.
make_bundle() {
	local b=$1
	shift
	mkdir -p "$b"
	cp -a "$(rootfs_template)" "$b/rootfs"
	(cd "$b" && "$RUNE" spec)
	set_args "$b" "$@"
	jq '.process.terminal = false' "$b/config.json" >"$b/c.tmp" && mv "$b/c.tmp" "$b/config.json"
}

# userns_bundle BUNDLE: make a bundle run in its own user namespace (container
# root = host 100000, 65536 ids), with what that needs: rootfs owned by the
# mapped root, /sys bound rather than mounted, devpts without gid=5.
userns_bundle() {
	chown -R 100000:100000 "$1/rootfs"
	jq_edit "$1" '.root.readonly = false | .linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .mounts |= map(if .destination == "/sys" then {"destination": "/sys", "type": "none", "source": "/sys", "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]} else . end)
		| .mounts |= map(if .type == "devpts" then .options -= ["gid=5"] else . end)'
}

# set_args BUNDLE args...: replace process.args.
set_args() {
	local b=$1
	shift
	[ $# -gt 0 ] || return 0
	local args='[]' a
	for a in "$@"; do args=$(jq -c --arg x "$a" '. + [$x]' <<<"$args"); done
	jq --argjson a "$args" '.process.args = $a' "$b/config.json" >"$b/c.tmp" && mv "$b/c.tmp" "$b/config.json"
}

# jq_edit BUNDLE [jq options...] FILTER: edit config.json in place.
jq_edit() {
	local b=$1
	shift
	jq "$@" "$b/config.json" >"$b/c.tmp" && mv "$b/c.tmp" "$b/config.json"
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# kill_at MS CMD...: start CMD, SIGKILL it after MS milliseconds (if it still runs).
kill_at() {
	local ms=$1
	shift
	"$@" >/dev/null 2>&1 &
	local pid=$!
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	return 0
}

status_of() { r state "$1" | jq -r .status; }

# wait_status ID STATUS: poll until the container reaches STATUS (5 s).
wait_status() {
	for _ in $(seq 100); do
		[ "$(status_of "$1" 2>/dev/null)" = "$2" ] && return 0
		sleep 0.05
	done
	fail "container $1 did not reach $2 (is $(status_of "$1" 2>&1))"
}

# wait_file PATH: poll until PATH exists (5 s), fail otherwise.
wait_file() {
	for _ in $(seq 100); do
		[ -e "$1" ] && return 0
		sleep 0.05
	done
	fail "$1 did not appear"
}

cleanup_all() {
	local rc=$?
	set +e +o pipefail
	# What a test file cleans up itself (it defines cleanup_extra).
	if declare -F cleanup_extra >/dev/null; then cleanup_extra; fi
	# Background servers a test started (registries, proxies).
	if [ -f "$T/pids" ]; then
		while read -r p; do kill "$p" 2>/dev/null; done <"$T/pids"
		while read -r p; do wait "$p" 2>/dev/null; done <"$T/pids"
	fi
	if [ -d "$ROOT" ]; then
		for id in $("$RUNE" --root "$ROOT" list -q 2>/dev/null); do
			"$RUNE" --root "$ROOT" delete -f "$id" >/dev/null 2>&1 || true
		done
	fi
	if [ -n "${RUNC_ROOT:-}" ] && [ -d "$RUNC_ROOT" ]; then
		for id in $(runc --root "$RUNC_ROOT" list -q 2>/dev/null); do
			runc --root "$RUNC_ROOT" delete -f "$id" >/dev/null 2>&1 || true
		done
	fi
	# Unmount anything a test left under its temp dir before removing it.
	grep -o " $T[^ ]*" /proc/self/mountinfo 2>/dev/null | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
	rm -rf "$T"
	exit $rc
}

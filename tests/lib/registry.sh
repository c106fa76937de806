# Registry fixtures for image tests: Debian's docker-registry on 127.0.0.1
# (optionally with htpasswd auth or TLS), a proxy for Bearer auth and faults,
# and images built offline (umoci, ocitool.py) and pushed with skopeo.

# rune-image with a store of this test's and a policy of ours (not the host's);
# a later --policy wins.
RI() { "$BUILD_DIR/bin/rune-image" --root "$T/store" --policy "$TOP/tests/fixtures/policy-accept-anything.json" "$@"; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# bg CMD...: start CMD in the background; cleanup_all stops it.
bg() {
	"$@" &
	echo $! >>"$T/pids"
}

# wait_http URL [curl options]: until the server answers (10 s).
wait_http() {
	local url=$1
	shift
	for _ in $(seq 200); do
		curl -s -o /dev/null "$@" "$url" && return 0
		sleep 0.05
	done
	fail "$url did not come up"
}

# registry_start [auth HTPASSWD] [tls CERT KEY]: sets REG=127.0.0.1:port.
registry_start() {
	local port dir auth="" tls=""
	port=$(free_port)
	dir="$T/registry.$port"
	mkdir -p "$dir/data"
	while [ $# -gt 0 ]; do
		case $1 in
		auth) auth="auth:
  htpasswd:
    realm: test
    path: $2"
			shift 2 ;;
		tls) tls="  tls:
    certificate: $2
    key: $3"
			shift 3 ;;
		esac
	done
	cat >"$dir/config.yml" <<Y
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
$auth
http:
  addr: 127.0.0.1:$port
$tls
Y
	bg docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1
	if [ -n "$tls" ]; then wait_http "https://127.0.0.1:$port/v2/" -k; else wait_http "http://127.0.0.1:$port/v2/"; fi
	REG=127.0.0.1:$port
}

# proxy_start UPSTREAM [--bearer user:pass]: sets PROXY; faults from $T/faults.json, log in $T/proxy.log.
proxy_start() {
	local port up=$1
	shift
	port=$(free_port)
	bg python3 "$TOP/tests/helpers/regproxy.py" --listen "127.0.0.1:$port" --upstream "$up" \
		--faults "$T/faults.json" --log "$T/proxy.log" "$@" >/dev/null 2>&1
	: >>"$T/proxy.log"
	wait_http "http://127.0.0.1:$port/v2/"
	PROXY=127.0.0.1:$port
}

# base_layout: an OCI layout with tag "base": busybox rootfs from rootfs_template,
# Cmd ["sh"], built once per run with umoci and copied for the caller.
base_layout() {
	local cache="$TEST_TMP/base-layout"
	if [ ! -e "$cache/index.json" ]; then
		(
			flock 9
			[ -e "$cache/index.json" ] && exit 0
			rm -rf "$cache.new" "$cache.bundle"
			umoci init --layout "$cache.new" >/dev/null
			umoci new --image "$cache.new:base" >/dev/null
			umoci unpack --image "$cache.new:base" "$cache.bundle" >/dev/null
			cp -a "$(rootfs_template)/." "$cache.bundle/rootfs/"
			umoci repack --image "$cache.new:base" "$cache.bundle" >/dev/null
			umoci config --image "$cache.new:base" --config.cmd sh --config.env PATH=/bin:/usr/bin >/dev/null
			rm -rf "$cache.bundle"
			mv "$cache.new" "$cache"
		) 9>"$TEST_TMP/.layout.lock"
	fi
	rm -rf "$T/layout"
	cp -a "$cache" "$T/layout"
}

# push TAG REF [skopeo copy options]: push tag of $T/layout to the registry.
push() {
	local tag=$1 ref=$2
	shift 2
	skopeo copy -q --dest-tls-verify=false "$@" "oci:$T/layout:$tag" "docker://$ref" >/dev/null
}

# layer_from SPEC_JSON TAG [gzip|zstd|none]: add a layer with these entries on top of tag in $T/layout.
layer_from() {
	printf '%s' "$1" >"$T/spec.json"
	python3 "$TOP/tests/helpers/ocitool.py" tar "$T/layer.tar" "$T/spec.json"
	python3 "$TOP/tests/helpers/ocitool.py" add-layer "$T/layout" "$2" "$T/layer.tar" "${3:-gzip}"
}

# store_is_clean: every blob in the store matches its name; no ingest left.
store_is_clean() {
	local f
	for f in "$T"/store/blobs/sha256/*; do
		[ -e "$f" ] || continue
		[ "sha256:$(sha256sum <"$f" | cut -d' ' -f1)" = "sha256:$(basename "$f")" ] || fail "corrupt blob $f in the store"
	done
	[ -z "$(ls -A "$T/store/ingest" 2>/dev/null)" ] || fail "ingest files left: $(ls "$T/store/ingest")"
}

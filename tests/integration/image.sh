# rune-image against Debian's docker-registry on 127.0.0.1, with images built
# offline (umoci, ocitool.py) and pushed with skopeo.
. "$TOP/tests/lib/registry.sh"

test_pull_unpack_and_run_with_rune() {
	registry_start
	base_layout
	umoci config --image "$T/layout:base" --config.entrypoint sh --config.entrypoint -c \
		--config.cmd 'echo "hi from $GREETING in $(pwd) as $(id -u):$(id -g)"' \
		--config.env GREETING=image --config.workingdir /tmp --config.user nobody \
		--config.label org.example.team=runtime >/dev/null
	push base "$REG/demo/app:1.0"
	out=$(RI --tls-verify=false pull "$REG/demo/app:1.0")
	[[ "$out" =~ ^sha256:[0-9a-f]{64}$ ]] || fail "pull printed '$out'"
	assert_contains "$(RI list)" "$REG/demo/app:1.0"
	assert_eq "$out" "$(RI list --format json | jq -r '.[0].digest')" "listed digest"
	assert_eq "[\"sh\",\"-c\"]" "$(RI inspect "$REG/demo/app:1.0" | jq -c .config.config.Entrypoint)" "inspect"
	assert_eq "runtime" "$(RI inspect --config "$REG/demo/app:1.0" | jq -r '.config.Labels["org.example.team"]')"
	# unpack from the store (no registry needed any more) and run with rune
	RI unpack "$REG/demo/app:1.0" "$T/b" >/dev/null
	jq -e '.process.user.uid == 65534 and .process.user.gid == 65534 and .process.cwd == "/tmp"' "$T/b/config.json" >/dev/null ||
		fail "user/cwd not from the image: $(jq -c .process "$T/b/config.json")"
	assert_eq "runtime" "$(jq -r '.annotations["org.example.team"]' "$T/b/config.json")" "label annotation"
	assert_eq "$out" "$(jq -r '.annotations["org.opencontainers.image.manifest.digest"]' "$T/b/config.json")"
	assert_eq "hi from image in /tmp as 65534:65534" "$(r run -b "$T/b" c1)" "the image's command under rune"
	# an existing bundle is not overwritten
	expect_fail 1 RI unpack "$REG/demo/app:1.0" "$T/b"
	assert_contains "$ERR" "already exists"
	# short names normalise as docker does
	assert_eq "docker.io/library/busybox:latest" "$(RI inspect busybox 2>&1 | grep -o 'docker.io/library/busybox:latest' | head -1)"
}

test_blobs_reuse_their_connections() {
	registry_start
	base_layout
	for i in $(seq 12); do
		layer_from '[{"name": "f'"$i"'", "data": "layer '"$i"'"}]' base
	done
	push base "$REG/many/layers:1"
	# every connect(2) to the registry during the pull and unpack of 14 blobs
	# (a config and 13 layers) besides the manifest and the ping: a handle a
	# request finished with serves the next, its connection kept open
	# (LeakSanitizer cannot run under ptrace: off for this one command)
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		strace -f -qq -e trace=connect -o "$T/connects" "$BUILD_DIR/bin/rune-image" --root "$T/store" \
		--insecure-policy --tls-verify=false -q unpack "$REG/many/layers:1" "$T/b" ||
		fail "unpack of the 13-layer image failed"
	n=$(grep -c "sin_port=htons(${REG##*:})" "$T/connects")
	[ "$n" -ge 1 ] && [ "$n" -le 5 ] || fail "$n connections to the registry for 16 requests: $(cat "$T/connects")"
	assert_eq "layer 12" "$(cat "$T/b/rootfs/f12")"
}

test_layers_whiteouts_opaque_links_devices_xattrs() {
	registry_start
	base_layout
	touch "$T/capfile" && setcap cap_net_raw+ep "$T/capfile"
	cap=$(python3 -c 'import os,sys; print(os.getxattr(sys.argv[1], "security.capability").hex())' "$T/capfile")
	layer_from '[{"name": "data", "type": "dir"}, {"name": "data/a", "data": "A"}, {"name": "data/b", "data": "B"},
		{"name": "data/c", "data": "C", "uid": 1000, "gid": 1000, "mtime": 1600000000},
		{"name": "opq", "type": "dir"}, {"name": "opq/x", "data": "x"}, {"name": "opq/y", "data": "y"},
		{"name": "gone", "data": "bye"}, {"name": "link", "type": "symlink", "target": "data/a"},
		{"name": "hard", "type": "hardlink", "target": "data/a"},
		{"name": "nulldev", "type": "char", "major": 1, "minor": 3, "mode": "0666"},
		{"name": "suid", "data": "s", "mode": "4755"},
		{"name": "capfile", "data": "c", "mode": "0755", "xattrs": {"security.capability": "'"$cap"'"}}]' base
	layer_from '[{"name": ".wh.gone", "data": ""}, {"name": "data/.wh.b", "data": ""},
		{"name": "opq/.wh..wh..opq", "data": ""}, {"name": "opq/z", "data": "z"},
		{"name": "data/d", "type": "hardlink", "target": "data/c"}]' base
	push base "$REG/layers/t:1"
	RI --tls-verify=false unpack "$REG/layers/t:1" "$T/b" >/dev/null
	local R="$T/b/rootfs"
	check_view() {
		local R=$1
		[ ! -e "$R/gone" ] || fail "$R: whiteout of /gone not applied"
		[ ! -e "$R/data/b" ] || fail "$R: whiteout of /data/b not applied"
		assert_eq "A C" "$(cat "$R/data/a") $(cat "$R/data/c")" "$R: data kept"
		assert_eq "z" "$(ls "$R/opq" | tr '\n' ' ' | xargs)" "$R: opaque /opq"
		assert_eq "data/a" "$(readlink "$R/link")" "$R: symlink"
	}
	check_view "$R"
	assert_eq "$(stat -c %i "$R/data/a")" "$(stat -c %i "$R/hard")" "hardlink in one layer"
	assert_eq "$(stat -c %i "$R/data/c")" "$(stat -c %i "$R/data/d")" "hardlink across layers"
	assert_eq "character special file 1,3" "$(stat -c '%F %t,%T' "$R/nulldev")" "device node"
	assert_eq "4755 1000:1000 1600000000" "$(stat -c '%a' "$R/suid") $(stat -c '%u:%g %Y' "$R/data/c")" "mode, owner, mtime"
	assert_contains "$(getcap "$R/capfile")" "cap_net_raw=ep"
	# per-layer directories, as overlayfs wants them; mounted, they show the same tree
	RI unpack --layers "$REG/layers/t:1" "$T/o" 2>/dev/null >/dev/null
	local L="$T/o/layers"
	assert_eq "3" "$(ls "$L" | wc -l)" "layer directories"
	assert_eq "character special file 0,0" "$(stat -c '%F %t,%T' "$L/002/gone")" "whiteout device"
	assert_eq "y" "$(python3 -c 'import os,sys; print(os.getxattr(sys.argv[1], "trusted.overlay.opaque").decode())' "$L/002/opq")"
	mkdir -p "$T/upper" "$T/work" "$T/merged"
	mount -t overlay overlay -o "lowerdir=$L/002:$L/001:$L/000,upperdir=$T/upper,workdir=$T/work" "$T/merged"
	check_view "$T/merged"
	umount "$T/merged"
}

test_platform_index_zstd_and_docker_media_types() {
	registry_start
	base_layout
	cp -a "$T/layout" "$T/layout2"
	layer_from '[{"name": "platform", "data": "amd64"}]' base
	cp -a "$T/layout" "$T/l-amd"
	# the arm image: same base, another file
	rm -rf "$T/layout" && cp -a "$T/layout2" "$T/layout"
	layer_from '[{"name": "platform", "data": "arm64"}]' base
	skopeo copy -q "oci:$T/layout:base" "oci:$T/l-amd:arm" >/dev/null
	rm -rf "$T/layout" && mv "$T/l-amd" "$T/layout"
	python3 "$TOP/tests/helpers/ocitool.py" index "$T/layout" multi base=linux/amd64 arm=linux/arm64/v8
	skopeo copy -q --all --dest-tls-verify=false "oci:$T/layout:multi" "docker://$REG/multi/img:1" >/dev/null
	RI --tls-verify=false unpack "$REG/multi/img:1" "$T/b1" >/dev/null
	assert_eq amd64 "$(cat "$T/b1/rootfs/platform")" "default platform"
	RI --root "$T/store2" --tls-verify=false --platform linux/arm64 unpack "$REG/multi/img:1" "$T/b2" >/dev/null
	assert_eq arm64 "$(cat "$T/b2/rootfs/platform")" "--platform linux/arm64"
	expect_fail 1 RI --root "$T/store3" --tls-verify=false --platform linux/s390x pull "$REG/multi/img:1"
	assert_contains "$ERR" "no image for platform linux/s390x (the index has: linux/amd64, linux/arm64/v8)"
	# a Docker manifest list
	skopeo copy -q --all --format v2s2 --dest-tls-verify=false "oci:$T/layout:multi" "docker://$REG/dl/img:1" >/dev/null
	RI --tls-verify=false --platform linux/arm64/v8 unpack "$REG/dl/img:1" "$T/b5" >/dev/null
	assert_eq "application/vnd.docker.distribution.manifest.list.v2+json" "$(RI inspect --platform linux/arm64/v8 "$REG/dl/img:1" | jq -r .mediaType)"
	assert_eq arm64 "$(cat "$T/b5/rootfs/platform")" "docker list, arm64"
	# Docker schema 2 media types
	push base "$REG/d/img:1" --format v2s2
	RI --tls-verify=false unpack "$REG/d/img:1" "$T/b4" >/dev/null
	assert_eq "application/vnd.docker.distribution.manifest.v2+json" "$(RI inspect "$REG/d/img:1" | jq -r .mediaType)"
	assert_eq amd64 "$(cat "$T/b4/rootfs/platform")" "docker image content"
	# zstd layers (and an uncompressed one)
	layer_from '[{"name": "zstd-file", "data": "from zstd"}]' base zstd
	layer_from '[{"name": "plain-file", "data": "from tar"}]' base none
	push base "$REG/z/img:1"
	RI --tls-verify=false pull "$REG/z/img:1" >/dev/null
	assert_contains "$(RI inspect "$REG/z/img:1" | jq -r '.manifest.layers[].mediaType')" "tar+zstd"
	RI unpack "$REG/z/img:1" "$T/b3" >/dev/null
	assert_eq "amd64 from zstd from tar" "$(cat "$T/b3/rootfs/platform") $(cat "$T/b3/rootfs/zstd-file") $(cat "$T/b3/rootfs/plain-file")" "zstd and tar layers"
}

test_basic_auth_from_creds_and_authfile() {
	htpasswd -Bbn alice s3cret >"$T/htpasswd" 2>/dev/null
	registry_start auth "$T/htpasswd"
	base_layout
	push base "$REG/private/img:1" --dest-creds alice:s3cret
	expect_fail 1 RI --tls-verify=false pull "$REG/private/img:1"
	assert_contains "$ERR" "authentication"
	expect_fail 1 RI --tls-verify=false --creds alice:wrong pull "$REG/private/img:1"
	assert_contains "$ERR" "HTTP 401"
	RI --tls-verify=false --creds alice:s3cret pull "$REG/private/img:1" >/dev/null
	printf '{"auths": {"%s": {"auth": "%s"}}}' "$REG" "$(printf alice:s3cret | base64)" >"$T/auth.json"
	RI --root "$T/s2" --tls-verify=false --authfile "$T/auth.json" pull "$REG/private/img:1" >/dev/null
	REGISTRY_AUTH_FILE="$T/auth.json" RI --root "$T/s3" --tls-verify=false pull "$REG/private/img:1" >/dev/null
	mkdir -p "$T/home/.docker" && cp "$T/auth.json" "$T/home/.docker/config.json"
	HOME="$T/home" XDG_RUNTIME_DIR="$T/none" RI --root "$T/s4" --tls-verify=false pull "$REG/private/img:1" >/dev/null
	mkdir -p "$T/xdg/containers" && cp "$T/auth.json" "$T/xdg/containers/auth.json"
	HOME="$T/nohome" XDG_RUNTIME_DIR="$T/xdg" RI --root "$T/s5" --tls-verify=false pull "$REG/private/img:1" >/dev/null
}

test_bearer_token_auth() {
	registry_start
	base_layout
	push base "$REG/tok/img:1"
	proxy_start "$REG" --bearer bob:pw
	expect_fail 1 RI --tls-verify=false pull "$PROXY/tok/img:1"
	assert_contains "$ERR" "token server http://$PROXY/token: authentication failed (HTTP 401)"
	RI --tls-verify=false --creds bob:pw pull "$PROXY/tok/img:1" >/dev/null
	assert_contains "$(cat "$T/proxy.log")" "token-issued"
}

test_tls_with_a_test_ca() {
	mkdir -p "$T/ca" && cd "$T/ca"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj "/CN=rune test CA" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj "/CN=127.0.0.1" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1\n' >ext
	openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt -days 2 -extfile ext 2>/dev/null
	cd - >/dev/null
	registry_start tls "$T/ca/srv.crt" "$T/ca/srv.key"
	base_layout
	push base "$REG/tls/img:1"
	expect_fail 1 RI pull "$REG/tls/img:1"
	assert_contains "$ERR" "registry of $REG/tls/img:1: GET https://$REG/v2/"
	assert_contains "$ERR" "certificate"
	mkdir -p "$T/certs" && cp "$T/ca/ca.crt" "$T/certs/"
	RI --cert-dir "$T/certs" pull "$REG/tls/img:1" >/dev/null
	RI --root "$T/s2" --tls-verify=false pull "$REG/tls/img:1" >/dev/null
	# the default place: /etc/containers/certs.d/<host:port>/ca.crt (private mount namespace)
	[ -d /etc/containers ] || return 0
	out=$(unshare -m --propagation private sh -c "mount -t tmpfs tmpfs /etc/containers &&
		mkdir -p '/etc/containers/certs.d/$REG' && cp '$T/ca/ca.crt' '/etc/containers/certs.d/$REG/' &&
		'$BUILD_DIR/bin/rune-image' --root '$T/s3' --insecure-policy pull '$REG/tls/img:1'" 2>&1) || fail "pull with certs.d: $out"
	[[ "$out" =~ ^sha256: ]] || fail "pull with certs.d printed: $out"
}

test_registries_conf_mirror_insecure_blocked() {
	registry_start
	local primary=$REG
	registry_start
	local mirror=$REG
	base_layout
	push base "$mirror/cache/lib/img:1"
	cat >"$T/registries.conf" <<C
# mirrors are tried first; the primary has nothing
[[registry]]
prefix = "$primary/lib"
location = "$primary/lib"
insecure = true
[[registry.mirror]]
location = "$mirror/cache/lib"
insecure = true

[[registry]]
location = "blocked.example"
blocked = true
C
	CONTAINERS_REGISTRIES_CONF="$T/registries.conf" RI pull "$primary/lib/img:1" >/dev/null
	assert_contains "$(RI list)" "$primary/lib/img:1"
	expect_fail 1 RI --registries-conf "$T/registries.conf" pull blocked.example/x:1
	assert_contains "$ERR" "blocked in registries.conf"
	printf '[[registry]]\nlocation = \n' >"$T/bad.conf"
	expect_fail 1 RI --registries-conf "$T/bad.conf" pull "$primary/lib/img:1"
	assert_contains "$ERR" "bad.conf:2"
	# a [registry] table, not a [[registry]] entry (once a crash, found by fuzz_image_registries_conf)
	printf '[registry]\nlocation = "x.example"\n' >"$T/table.conf"
	expect_fail 1 RI --registries-conf "$T/table.conf" pull "$primary/lib/img:1"
	assert_contains "$ERR" "table.conf:2: location: not inside a [[registry]] entry"
}

# hostile_case NAME SPEC WANT: a layer with SPEC must fail with WANT and leave nothing.
hostile_case() {
	base_layout
	layer_from "$2" base
	push base "$REG/hostile/$1:1"
	expect_fail 1 RI --tls-verify=false unpack "$REG/hostile/$1:1" "$T/b-$1"
	assert_contains "$ERR" "$3"
	assert_contains "$ERR" "layer sha256:"
	[ ! -e "$T/b-$1/rootfs" ] && [ ! -e "$T/b-$1/config.json" ] || fail "$1: a bundle was left behind"
	[ -z "$(ls -A "$T/b-$1" 2>/dev/null)" ] || fail "$1: staging left behind: $(ls -A "$T/b-$1")"
}

test_hostile_layers_never_escape() {
	registry_start
	mkdir -p "$T/outside"
	echo original >"$T/outside/target"
	hostile_case dotdot '[{"name": "../escaped", "data": "x"}]' 'entry "../escaped": its name contains ".."'
	hostile_case deep '[{"name": "a/../../escaped", "data": "x"}]' 'contains ".."'
	hostile_case absolute '[{"name": "/abs", "data": "x"}]' 'entry "/abs": its name is an absolute path'
	hostile_case symlink-write "[{\"name\": \"esc\", \"type\": \"symlink\", \"target\": \"$T/outside\"},
		{\"name\": \"esc/pwned\", \"data\": \"x\"}]" 'entry "esc/pwned"'
	hostile_case symlink-rel '[{"name": "d", "type": "dir"}, {"name": "d/up", "type": "symlink", "target": "../../../../../../.."},
		{"name": "d/up/tmp/pwned", "data": "x"}]' 'entry "d/up/tmp/pwned"'
	hostile_case hardlink-out '[{"name": "h", "type": "hardlink", "target": "../../../etc/passwd"}]' 'its hardlink target contains ".."'
	hostile_case hardlink-abs '[{"name": "h", "type": "hardlink", "target": "/etc/passwd"}]' 'its hardlink target is an absolute path'
	hostile_case hardlink-via-symlink "[{\"name\": \"esc\", \"type\": \"symlink\", \"target\": \"$T/outside\"},
		{\"name\": \"h\", \"type\": \"hardlink\", \"target\": \"esc/target\"}]" 'hardlink target "esc/target"'
	hostile_case symlink-over-file "[{\"name\": \"etc/hostname\", \"type\": \"symlink\", \"target\": \"$T/outside/target\"},
		{\"name\": \"etc/hostname\", \"data\": \"overwritten\"}, {\"name\": \"../x\", \"data\": \"\"}]" 'contains ".."'
	# a layer whose uncompressed bytes are not the config's diff_id
	base_layout
	layer_from '[{"name": "f", "data": "x"}]' base
	python3 "$TOP/tests/helpers/ocitool.py" set-diffid "$T/layout" base 1 "sha256:$(printf '%064d' 0)"
	push base "$REG/hostile/diffid:1"
	expect_fail 1 RI --tls-verify=false unpack "$REG/hostile/diffid:1" "$T/b-diffid"
	assert_contains "$ERR" "(uncompressed, diff_id sha256:0000"
	assert_contains "$ERR" "digest mismatch"
	[ -z "$(ls -A "$T/b-diffid")" ] || fail "diffid: left $(ls -A "$T/b-diffid")"
	assert_eq original "$(cat "$T/outside/target")" "file outside the root"
	assert_eq target "$(ls "$T/outside")" "nothing new outside the root"
	[ ! -e /tmp/pwned ] || fail "/tmp/pwned was written"
}

test_hostile_registry_responses() {
	registry_start
	base_layout
	push base "$REG/f/img:1"
	proxy_start "$REG"
	layer=$(skopeo inspect --raw --tls-verify=false "docker://$REG/f/img:1" | jq -r '.layers[0].digest')
	# a byte changed in a layer
	echo "[{\"match\": \"blobs/$layer\", \"action\": \"corrupt\"}]" >"$T/faults.json"
	expect_fail 1 RI --tls-verify=false pull "$PROXY/f/img:1"
	assert_contains "$ERR" "layer $layer: blob $layer: digest mismatch"
	store_is_clean
	[ ! -e "$T/store/blobs/sha256/${layer#sha256:}" ] || fail "corrupt layer kept"
	assert_eq "[]" "$(RI list --format json | jq -c .)" "refs after a failed pull"
	# a complete response, short by 16 bytes
	echo "[{\"match\": \"blobs/$layer\", \"action\": \"truncate\"}]" >"$T/faults.json"
	expect_fail 1 RI --tls-verify=false pull "$PROXY/f/img:1"
	assert_contains "$ERR" "truncated"
	store_is_clean
	# a manifest of 5 MB
	echo '[{"match": "manifests/", "action": "bigmanifest"}]' >"$T/faults.json"
	expect_fail 1 RI --tls-verify=false pull "$PROXY/f/img:1"
	assert_contains "$ERR" "exceeds the limit of 4194304 bytes"
	# 500 twice, then it recovers
	echo "[{\"match\": \"blobs/$layer\", \"action\": \"status500\", \"times\": 2}]" >"$T/faults.json"
	out=$(RI --tls-verify=false --format json pull "$PROXY/f/img:1")
	assert_eq 2 "$(jq .retries <<<"$out")" "retries after two 500s"
	# a connection dropped mid-blob: resumed with a Range request
	RI rm "$PROXY/f/img:1" && RI gc >/dev/null
	echo "[{\"match\": \"blobs/$layer\", \"action\": \"drop\", \"times\": 1}]" >"$T/faults.json"
	: >"$T/proxy.log"
	RI --tls-verify=false pull "$PROXY/f/img:1" >/dev/null
	assert_contains "$(grep "blobs/$layer" "$T/proxy.log")" "range=bytes="
	store_is_clean
	# blobs served from elsewhere through a redirect
	RI rm "$PROXY/f/img:1" && RI gc >/dev/null
	echo '[{"match": "blobs/", "action": "redirect"}]' >"$T/faults.json"
	RI --tls-verify=false unpack "$PROXY/f/img:1" "$T/b" >/dev/null
	[ -x "$T/b/rootfs/bin/busybox" ] || fail "unpack through redirects"
}

test_concurrent_pulls_and_kill9() {
	registry_start
	base_layout
	push base "$REG/c/img:1"
	RI --tls-verify=false pull "$REG/c/img:1" >"$T/p1" &
	p1=$!
	RI --tls-verify=false pull "$REG/c/img:1" >"$T/p2" &
	p2=$!
	wait $p1 && wait $p2 || fail "concurrent pulls failed"
	assert_eq "$(cat "$T/p1")" "$(cat "$T/p2")" "both pulls"
	store_is_clean
	# killed mid-download, then pulled again: only verified blobs ever appear
	RI rm "$REG/c/img:1" && RI gc >/dev/null
	proxy_start "$REG"
	for i in 1 2 3; do
		RI --tls-verify=false pull "$PROXY/c/img:1" >/dev/null 2>&1 &
		pid=$!
		sleep "0.0$i"
		kill -9 $pid 2>/dev/null || true
		wait $pid 2>/dev/null || true
		for f in "$T"/store/blobs/sha256/*; do
			[ -e "$f" ] || continue
			[ "$(sha256sum <"$f" | cut -d' ' -f1)" = "$(basename "$f")" ] || fail "a half-written blob is visible: $f"
		done
	done
	RI --tls-verify=false pull "$PROXY/c/img:1" >/dev/null
	RI gc >/dev/null
	store_is_clean
	RI unpack "$PROXY/c/img:1" "$T/b" >/dev/null
	[ -x "$T/b/rootfs/bin/busybox" ] || fail "unpack after the killed pulls"
}

test_rm_gc_and_cli_errors() {
	registry_start
	base_layout
	push base "$REG/g/one:1"
	layer_from '[{"name": "extra", "data": "more"}]' base
	push base "$REG/g/two:1"
	RI --tls-verify=false pull "$REG/g/one:1" >/dev/null
	RI --tls-verify=false pull "$REG/g/two:1" >/dev/null
	before=$(ls "$T/store/blobs/sha256" | wc -l)
	RI rm "$REG/g/two:1"
	assert_eq "removed 3 blobs" "$(RI gc | cut -d, -f1)" "gc after rm (manifest, config, extra layer)"
	assert_eq $((before - 3)) "$(ls "$T/store/blobs/sha256" | wc -l)" "blobs left"
	RI unpack "$REG/g/one:1" "$T/b" >/dev/null
	expect_fail 1 RI inspect "$REG/g/two:1"
	assert_contains "$ERR" "is not in the store"
	expect_fail 1 RI rm "$REG/g/two:1"
	assert_contains "$ERR" "is not in the store"
	expect_fail 1 RI --tls-verify=false pull "$REG/g/none:1"
	assert_contains "$ERR" "HTTP 404"
	assert_contains "$ERR" "MANIFEST_UNKNOWN"
	expect_fail 1 RI pull "Upper/Case"
	assert_contains "$ERR" 'invalid image reference "Upper/Case"'
	expect_fail 1 RI pull "busybox:bad:tag"
	assert_contains "$ERR" "invalid image reference"
	expect_fail 2 RI pull
	assert_contains "$ERR" "usage: rune-image pull"
	expect_fail 2 RI frobnicate
	# progress on a terminal: one line per layer
	RI rm "$REG/g/one:1" && RI gc >/dev/null
	out=$(script -qec "$BUILD_DIR/bin/rune-image --root $T/store --insecure-policy --tls-verify=false pull $REG/g/one:1" /dev/null)
	assert_contains "$out" "downloaded"
	assert_contains "$out" "/s"
}

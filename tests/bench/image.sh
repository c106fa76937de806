#!/bin/bash
# Pull + unpack of a multi-layer image of a few hundred MB from a local
# docker-registry, side by side: rune-image, skopeo copy + umoci unpack, and
# containerd (ctr image pull, which unpacks into its overlayfs snapshotter).
# Wall time and peak memory (max RSS; for containerd the client's and the
# daemon's high-water mark) per tool, RUNS runs each, stores emptied between runs.
set -eu
BUILD=${1:-build}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
RI="$TOP/$BUILD/bin/rune-image"
RUNS=${RUNS:-3}
CACHE=${IMAGE_CACHE:-/var/tmp/rune-bench-image}
B=$(mktemp -d /tmp/rune-bench.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	umount -R "$B/ctrd/root" 2>/dev/null || true
	rm -rf "$B"
}
trap cleanup EXIT

# The image: busybox, /usr/lib/gcc, /usr/bin and /usr/libexec as four layers,
# tarred by GNU tar. (umoci 0.4.7's `insert` writes tars without their end
# blocks, which rune-image rightly refuses.)
if [ ! -e "$CACHE/index.json" ]; then
	echo "building the benchmark image in $CACHE (once)..." >&2
	rm -rf "$CACHE.new"
	umoci init --layout "$CACHE.new" >/dev/null
	umoci new --image "$CACHE.new:img" >/dev/null
	mkdir -p "$B/base/bin"
	cp /bin/busybox "$B/base/bin/"
	tar -C "$B/base" -cf "$B/layer.tar" bin
	python3 "$TOP/tests/helpers/ocitool.py" add-layer "$CACHE.new" img "$B/layer.tar"
	for d in usr/lib/gcc usr/bin usr/libexec; do
		tar -C / -cf "$B/layer.tar" "$d"
		python3 "$TOP/tests/helpers/ocitool.py" add-layer "$CACHE.new" img "$B/layer.tar"
	done
	rm -f "$B/layer.tar"
	mv "$CACHE.new" "$CACHE"
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$B/reg"
cat >"$B/reg/config.yml" <<Y
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $B/reg/data
http:
  addr: 127.0.0.1:$port
Y
docker-registry serve "$B/reg/config.yml" >"$B/reg/log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
REF="127.0.0.1:$port/bench/img:1"
skopeo copy -q --dest-tls-verify=false "oci:$CACHE:img" "docker://$REF"
compressed=$(skopeo inspect --raw --tls-verify=false "docker://$REF" | jq '[.layers[].size] | add')
uncompressed=$(du -sb /usr/lib/gcc /usr/bin /usr/libexec /bin/busybox | awk '{s+=$1} END {print s}')
echo "image $REF: $(jq length <<<"$(skopeo inspect --raw --tls-verify=false "docker://$REF" | jq .layers)") layers," \
	"$((compressed / 1000000)) MB compressed, $((uncompressed / 1000000)) MB unpacked"

# measure NAME CMD...: one run; appends "seconds maxrss_kb" to $B/NAME.
measure() {
	local name=$1
	shift
	sync
	echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
	/usr/bin/time -f "%e %M" -o "$B/t" "$@" >/dev/null 2>"$B/err" || {
		cat "$B/err" >&2
		exit 1
	}
	cat "$B/t" >>"$B/$name"
}

# PULL_CURVE_DAT=DIR (tests/bench/curves.sh): pull + unpack time and peak RSS
# against image size (one layer, 10 MB -> 2 GB unpacked) and layer count
# (1 -> 64 layers of 256 MB in all), rune-image beside skopeo + umoci; rows
# "X rune_s rune_MB peer_s peer_MB" into DIR/pull-size.dat, DIR/pull-layers.dat.
# The layers are slices of this machine's shared libraries (real binaries,
# about 2.5:1 under gzip -6), built once into $CURVE_CACHE.
if [ -n "${PULL_CURVE_DAT:-}" ]; then
	CC_DIR=${CURVE_CACHE:-/var/tmp/rune-bench-curves}
	mkdir -p "$CC_DIR"
	corpus="$CC_DIR/corpus"
	if [ ! -e "$corpus" ]; then
		find /usr/lib/x86_64-linux-gnu -maxdepth 1 -type f -name '*.so*' -size +100k -print0 | sort -z |
			xargs -0 cat 2>/dev/null | head -c $((256 << 20)) >"$corpus.new"
		mv "$corpus.new" "$corpus"
	fi
	cmb=$(($(stat -c %s "$corpus") >> 20))
	# layout NAME LAYERS MB_PER_LAYER: an OCI layout of that many gzip layers
	layout() {
		local dir="$CC_DIR/$1" l f diffs="" layers="" tarf dg df sz
		[ -e "$dir/index.json" ] && return
		rm -rf "$dir.new"
		mkdir -p "$dir.new/blobs/sha256"
		for l in $(seq "$2"); do
			rm -rf "$B/ld" && mkdir -p "$B/ld/l$l"
			for f in $(seq $((($3 + 3) / 4))); do
				dd if="$corpus" of="$B/ld/l$l/f$f" bs=1M count=4 skip=$(((f * 4 + l * 7) % (cmb - 4))) status=none
			done
			tarf="$B/layer.tar"
			tar -C "$B/ld" --sort=name --mtime=@0 --owner=0 --group=0 -cf "$tarf" "l$l"
			df=$(sha256sum <"$tarf" | cut -d' ' -f1)
			gzip -6 -n -c "$tarf" >"$B/layer.gz"
			dg=$(sha256sum <"$B/layer.gz" | cut -d' ' -f1)
			sz=$(stat -c %s "$B/layer.gz")
			mv "$B/layer.gz" "$dir.new/blobs/sha256/$dg"
			diffs="$diffs\"sha256:$df\","
			layers="$layers{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$dg\",\"size\":$sz},"
		done
		rm -rf "$B/ld" "$B/layer.tar"
		printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
			"${diffs%,}" >"$B/cfg"
		dg=$(sha256sum <"$B/cfg" | cut -d' ' -f1)
		printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
			"$dg" "$(stat -c %s "$B/cfg")" "${layers%,}" >"$B/man"
		mv "$B/cfg" "$dir.new/blobs/sha256/$dg"
		dg=$(sha256sum <"$B/man" | cut -d' ' -f1)
		printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"img"}}]}' \
			"$dg" "$(stat -c %s "$B/man")" >"$dir.new/index.json"
		mv "$B/man" "$dir.new/blobs/sha256/$dg"
		echo '{"imageLayoutVersion":"1.0.0"}' >"$dir.new/oci-layout"
		mv "$dir.new" "$dir"
	}
	# point FILE X NAME: push the layout, one pull + unpack by each tool
	point() {
		local ref="127.0.0.1:$port/curve/$3:1"
		skopeo copy -q --dest-tls-verify=false "oci:$CC_DIR/$3:img" "docker://$ref"
		rm -rf "$B/ri" "$B/bundle" "$B/oci" "$B/ubundle" "$B/c-ri" "$B/c-peer"
		measure c-ri "$RI" --root "$B/ri" --insecure-policy --tls-verify=false -q unpack "$ref" "$B/bundle"
		rm -rf "$B/ri" "$B/bundle"
		measure c-peer sh -c "skopeo copy -q --src-tls-verify=false docker://$ref oci:$B/oci:img && umoci unpack --image $B/oci:img $B/ubundle"
		rm -rf "$B/oci" "$B/ubundle"
		echo "$2 $(awk '{printf "%s %.1f", $1, $2 / 1024}' "$B/c-ri") $(awk '{printf "%s %.1f", $1, $2 / 1024}' "$B/c-peer")" >>"$1"
		tail -1 "$1" >&2
	}
	echo "# image MB unpacked (one layer); rune-image s, MB peak RSS; skopeo+umoci s, MB" >"$PULL_CURVE_DAT/pull-size.dat"
	for mb in ${SIZE_POINTS:-10 100 500 2000}; do
		layout "size-$mb" 1 "$mb"
		point "$PULL_CURVE_DAT/pull-size.dat" "$mb" "size-$mb"
	done
	echo "# layers (256 MB in all); rune-image s, MB peak RSS; skopeo+umoci s, MB" >"$PULL_CURVE_DAT/pull-layers.dat"
	for n in ${LAYER_POINTS:-1 4 16 64}; do
		layout "layers-$n" "$n" $((256 / n))
		point "$PULL_CURVE_DAT/pull-layers.dat" "$n" "layers-$n"
	done
	exit 0
fi

ctrd_start() {
	mkdir -p "$B/ctrd"
	cat >"$B/ctrd/config.toml" <<C
version = 2
root = "$B/ctrd/root"
state = "$B/ctrd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$B/ctrd/containerd.sock"
[ttrpc]
  address = "$B/ctrd/containerd.sock.ttrpc"
C
	containerd --config "$B/ctrd/config.toml" >"$B/ctrd/log" 2>&1 &
	CTRD=$!
	PIDS+=($CTRD)
	for _ in $(seq 100); do ctr -a "$B/ctrd/containerd.sock" version >/dev/null 2>&1 && return; sleep 0.1; done
	echo "containerd did not start" >&2
	exit 1
}

ctrd_stop() {
	grep VmHWM "/proc/$CTRD/status" | awk '{print $2}' >>"$B/containerd-daemon"
	kill "$CTRD"
	wait "$CTRD" 2>/dev/null || true
	umount -R "$B/ctrd/root" 2>/dev/null || true
	rm -rf "$B/ctrd"
}

for i in $(seq "$RUNS"); do
	rm -rf "$B/ri" "$B/bundle"
	measure rune-image "$RI" --root "$B/ri" --insecure-policy --tls-verify=false -q unpack "$REF" "$B/bundle"
	rm -rf "$B/ri" "$B/bundle"
	measure rune-image-zlib env RUNE_IMAGE_INFLATE=zlib "$RI" --root "$B/ri" --insecure-policy --tls-verify=false -q unpack "$REF" "$B/bundle"
	rm -rf "$B/oci" "$B/ubundle"
	measure skopeo+umoci sh -c "skopeo copy -q --src-tls-verify=false docker://$REF oci:$B/oci:img && umoci unpack --image $B/oci:img $B/ubundle"
	ctrd_start
	measure containerd ctr -a "$B/ctrd/containerd.sock" images pull --plain-http "$REF"
	ctrd_stop
	echo "run $i done" >&2
done

# The cost of the signature policy: the same unpack under insecureAcceptAnything
# and under sigstoreSigned (a cosign .sig signature with a key and a Rekor SET,
# made by the sigstore-js fixtures), interleaved; and `verify` alone.
SIGNED=0
if [ -e "$TOP/tests/sigstore/node_modules/.package-lock.json" ]; then
	SIGNED=1
	mkdir -p "$B/k"
	/usr/bin/python3 "$TOP/tests/helpers/pki.py" key "$B/k/cosign.pem"
	/usr/bin/python3 "$TOP/tests/helpers/pki.py" key "$B/k/rekor.pem"
	digest="sha256:$(skopeo inspect --raw --tls-verify=false "docker://$REF" | sha256sum | cut -d' ' -f1)"
	printf '{"critical":{"identity":{"docker-reference":"%s"},"image":{"docker-manifest-digest":"%s"},"type":"cosign container image signature"},"optional":null}' \
		"${REF%:*}" "$digest" >"$B/payload.json"
	node "$TOP/tests/sigstore/sigstore-fixture.js" sign --key "$B/k/cosign.pem" --rekor-key "$B/k/rekor.pem" \
		--form sig --payload "$B/payload.json" --out "$B/sig.json"
	node "$TOP/tests/sigstore/sigstore-fixture.js" push-sig "127.0.0.1:$port" bench/img "$digest" "$B/sig.json"
	echo '{"default": [{"type": "insecureAcceptAnything"}]}' >"$B/accept.json"
	echo '{"default": [{"type": "sigstoreSigned", "keyPath": "'"$B"'/k/cosign.pub", "rekorPublicKeyPath": "'"$B"'/k/rekor.pub", "signedIdentity": {"type": "matchRepository"}}]}' >"$B/sigstore.json"
	for i in $(seq "$RUNS"); do
		for p in accept sigstore; do
			rm -rf "$B/ri" "$B/bundle"
			measure "unpack-$p" "$RI" --root "$B/ri" --policy "$B/$p.json" --tls-verify=false -q unpack "$REF" "$B/bundle"
		done
		measure verify-sigstore "$RI" --root "$B/ri" --policy "$B/sigstore.json" --tls-verify=false verify "$REF"
		measure verify-accept "$RI" --root "$B/ri" --policy "$B/accept.json" --tls-verify=false verify "$REF"
	done
fi

# The cost of decryption: the same image encrypted by skopeo (ocicrypt, JWE
# with an RSA-OAEP key, every layer), unpacked by rune-image with the private
# key and by skopeo copy --decryption-key + umoci unpack; interleaved with the
# plaintext unpack so the ratio is taken in one run.
mkdir -p "$B/ek"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$B/ek/priv.pem" 2>/dev/null
openssl pkey -in "$B/ek/priv.pem" -pubout -out "$B/ek/pub.pem"
EREF="127.0.0.1:$port/bench/enc:1"
skopeo copy -q --src-tls-verify=false --dest-tls-verify=false --encryption-key "jwe:$B/ek/pub.pem" \
	"docker://$REF" "docker://$EREF"
for i in $(seq "$RUNS"); do
	rm -rf "$B/ri" "$B/bundle"
	measure unpack-plain "$RI" --root "$B/ri" --insecure-policy --tls-verify=false -q unpack "$REF" "$B/bundle"
	rm -rf "$B/ri" "$B/bundle"
	measure unpack-encrypted "$RI" --root "$B/ri" --insecure-policy --tls-verify=false -q \
		--decryption-key "$B/ek/priv.pem" unpack "$EREF" "$B/bundle"
	rm -rf "$B/oci" "$B/ubundle"
	measure skopeo+umoci-encrypted sh -c "skopeo copy -q --src-tls-verify=false --decryption-key $B/ek/priv.pem \
		docker://$EREF oci:$B/oci:img && umoci unpack --image $B/oci:img $B/ubundle"
done

summary() {
	awk -v name="$1" -v extra="${2:-}" '{t[NR]=$1; s+=$1; if ($2>m) m=$2; if (NR==1||$1<mn) mn=$1; if ($1>mx) mx=$1}
		END {printf "| %s | %.2f | %.2f | %.2f | %.0f%s |\n", name, s/NR, mn, mx, m/1024, extra}' "$B/$1"
}
echo
echo "| tool | mean [s] | min [s] | max [s] | peak RSS [MB] |"
echo "|:---|---:|---:|---:|---:|"
summary rune-image " (gzip through ISA-L)"
summary rune-image-zlib " (RUNE_IMAGE_INFLATE=zlib)"
summary skopeo+umoci
daemon=$(sort -n "$B/containerd-daemon" | tail -1)
summary containerd " (ctr) + $((daemon / 1024)) (containerd daemon)"
if [ "$SIGNED" = 1 ]; then
	echo
	echo "| rune-image, policy | mean [s] | min [s] | max [s] | peak RSS [MB] |"
	echo "|:---|---:|---:|---:|---:|"
	summary unpack-accept " (unpack, insecureAcceptAnything)"
	summary unpack-sigstore " (unpack, sigstoreSigned: key + Rekor)"
	summary verify-accept " (verify alone, insecureAcceptAnything)"
	summary verify-sigstore " (verify alone, sigstoreSigned)"
fi
echo
echo "| decryption | mean [s] | min [s] | max [s] | peak RSS [MB] |"
echo "|:---|---:|---:|---:|---:|"
summary unpack-plain " (rune-image, plaintext image)"
summary unpack-encrypted " (rune-image, JWE-encrypted image)"
summary skopeo+umoci-encrypted " (skopeo --decryption-key + umoci)"
awk 'FNR==1 {f++} {s[f]+=$1; n[f]++} END {printf "encrypted / plaintext (rune-image): %.2f\n", (s[2]/n[2])/(s[1]/n[1])}' \
	"$B/unpack-plain" "$B/unpack-encrypted"

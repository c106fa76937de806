#!/bin/sh
# Install the Debian packages rune builds and tests with. Idempotent: packages
# already present are not fetched again.
set -eu
PKGS="build-essential pkg-config clang-format clang libclang-rt-14-dev libtsan2 libyajl-dev libseccomp-dev libcap-dev libssl-dev
libcurl4-openssl-dev libarchive-dev libzstd-dev zlib1g-dev libisal-dev libgpgme-dev libyaml-dev libjose-dev libmicrohttpd-dev libfuse3-dev fuse3 gnupg
busybox-static runc crun hyperfine gnuplot-nox jq util-linux procps iproute2 time strace
protobuf-c-compiler libprotobuf-c-dev libprotobuf-dev
docker-registry skopeo umoci containerd podman python3-grpcio python3-grpc-tools containernetworking-plugins systemd libsystemd0 apache2-utils zstd libcap2-bin python3 python3-cryptography python3-jwcrypto openssl curl"
# `make runc-suite` (runc's own bats suite) needs these too; `make check` does not.
if [ "${1:-}" = runc-suite ]; then
	PKGS="$PKGS golang-go bats gawk debootstrap bsdextrautils busybox-static"
fi
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# The signing tests make sigstore fixtures with the reference implementation
# (npm, tests/sigstore): Node and npm, from wherever the machine has them
# (Debian's own npm would replace a newer Node, so it is only a fallback).
command -v node >/dev/null && command -v npm >/dev/null || missing="$missing nodejs npm"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing

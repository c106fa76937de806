#!/bin/bash
# Sealing a memfd copy of rune (what an enclave or LSM-labelled container's
# start does; rune-exec is the same on a 13 KB file): F_SEAL_WRITE against
# F_SEAL_FUTURE_WRITE, WORKERS copies at once (tests/bench/memfd-seal.c).
set -eu
BUILD=${1:-build}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
COPIES=${COPIES:-1500}
WORKERS=${WORKERS:-4}
B=$(mktemp -d /tmp/rune-seal.XXXXXX)
trap 'rm -rf "$B"' EXIT
cc -O2 -Wall -Wextra -Werror -o "$B/memfd-seal" "$TOP/tests/bench/memfd-seal.c"
echo "## seal a memfd copy of $BUILD/bin/rune ($(stat -c %s "$TOP/$BUILD/bin/rune") bytes), $WORKERS at once"
"$B/memfd-seal" "$TOP/$BUILD/bin/rune" "$COPIES" "$WORKERS"

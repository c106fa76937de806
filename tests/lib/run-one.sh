#!/bin/bash
# Run one test function from a test file, with cleanup of what it created.
set -eu -o pipefail
. "$TOP/tests/lib/common.sh"
. "$1"
T=$(mktemp -d "$TEST_TMP/t.XXXXXX")
# user-namespaced containers must be able to reach their rootfs
chmod 0755 "$TEST_TMP" "$T"
export ROOT="$T/state"
trap 'cleanup_all' EXIT
"$2"

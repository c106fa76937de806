#!/bin/bash
# Run one test function from a test file, with cleanup of what it created.
set -eu -o pipefail
. "$TOP/tests/lib/common.sh"
. "$1"
T=$(mktemp -d "$TEST_TMP/t.XXXXXX")
export ROOT="$T/state"
trap 'cleanup_all' EXIT
"$2"

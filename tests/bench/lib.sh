# shellcheck shell=bash
# Shared by the benchmark scripts (sourced).

# bench_private_ns "$0" "$@": re-run the calling script in a private mount
# namespace with /sys/fs/cgroup/unified unmounted there — crun 1.8 refuses
# this host's hybrid cgroups otherwise, and a per-run wrapper would be
# unfair to it — once; returns when already there.
bench_private_ns() {
	[ -n "${RUNE_BENCH_NS:-}" ] && return 0
	exec env RUNE_BENCH_NS=1 unshare -m --propagation private sh -c \
		'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$0" "$@"' "$@"
}

# table JSON: hyperfine's results with CPU (user + system) beside the wall clock.
table() {
	jq -r '"| command | wall mean [ms] | wall min [ms] | CPU user+sys mean [ms] | wall vs first | CPU vs first |",
		"|:---|---:|---:|---:|---:|---:|",
		(.results[0] as $f | .results[] |
		"| `\(.command)` | \(.mean * 1000 | . * 100 | round / 100) ± \(.stddev * 1000 | . * 100 | round / 100) | \(.min * 1000 | . * 100 | round / 100) | \((.user + .system) * 1000 | . * 100 | round / 100) | \(.mean / $f.mean | . * 100 | round / 100) | \((.user + .system) / ($f.user + $f.system) | . * 100 | round / 100) |")' "$1"
}

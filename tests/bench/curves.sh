#!/bin/bash
# How costs grow (issue 16): the growth-curve modes of lifecycle.sh (run
# against mounts and seccomp rules), image.sh (pull against image size and
# layer count) and shim.sh (shim RSS against containers per pod), each ours
# beside the peer's in one run, drawn by gnuplot into docs/img/ as PNGs.
# PARTS=run,pull,shim picks some; the data stays in $OUT/*.dat.
set -eu
BUILD=${1:-build}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${OUT:-$TOP/docs/img}
PARTS=${PARTS:-run,pull,shim}
mkdir -p "$OUT"
has() { [[ ",$PARTS," == *",$1,"* ]]; }
has run && RUN_CURVE_DAT=$OUT "$TOP/tests/bench/lifecycle.sh" "$BUILD"
has pull && PULL_CURVE_DAT=$OUT "$TOP/tests/bench/image.sh" "$BUILD"
has shim && SHIM_CURVE_DAT=$OUT/shim-rss.dat "$TOP/tests/bench/shim.sh" "$BUILD"

# plot PNG TITLE XLABEL YLABEL LOG "FILE:COLUMN:TITLE"...: LOG 0 linear,
# 1 log x, 2 log x and y
plot() {
	local png=$1 title=$2 xl=$3 yl=$4 logx=$5 series="" s f c t
	shift 5
	for s in "$@"; do
		IFS=: read -r f c t <<<"$s"
		[ -e "$OUT/$f" ] || return 0
		series="$series${series:+, }'$OUT/$f' using 1:$c with linespoints title '$t'"
	done
	gnuplot <<G
set terminal pngcairo size 720,420 font "sans,10"
set output '$OUT/$png'
set title "$title"
set xlabel "$xl"
set ylabel "$yl"
set key top left
set grid
set autoscale xfix
set offsets graph 0.03, graph 0.03, 0, 0
$([ "$logx" = 2 ] && echo "set logscale xy" || echo "set yrange [0:*]")
$([ "$logx" = 1 ] && echo "set logscale x")
plot $series
G
	echo "drew $OUT/$png"
}
plot run-mounts.png "run /bin/true against the number of mounts" "mounts in config.json" "mean wall time [ms]" 0 \
	run-mounts.dat:2:rune run-mounts.dat:3:crun run-mounts.dat:4:runc
plot run-seccomp.png "run /bin/true against the number of seccomp rules" "seccomp rules (ERRNO, argument match)" \
	"mean wall time [ms]" 0 run-seccomp.dat:2:rune run-seccomp.dat:3:crun run-seccomp.dat:4:runc
plot pull-size-time.png "pull + unpack against image size (one layer)" "unpacked size [MB]" "wall time [s]" 2 \
	pull-size.dat:2:rune-image "pull-size.dat:4:skopeo + umoci"
plot pull-size-rss.png "peak RSS of pull + unpack against image size" "unpacked size [MB]" "peak RSS [MB]" 1 \
	pull-size.dat:3:rune-image "pull-size.dat:5:skopeo + umoci"
plot pull-layers-time.png "pull + unpack against layer count (256 MB in all)" "layers" "wall time [s]" 1 \
	pull-layers.dat:2:rune-image "pull-layers.dat:4:skopeo + umoci"
plot pull-layers-rss.png "peak RSS of pull + unpack against layer count" "layers" "peak RSS [MB]" 1 \
	pull-layers.dat:3:rune-image "pull-layers.dat:5:skopeo + umoci"
plot shim-rss.png "shim RSS against containers in one pod" "containers in the pod" "shim RSS [kB]" 0 \
	"shim-rss.dat:2:containerd-shim-rune-v2" "shim-rss.dat:3:containerd-shim-runc-v2"

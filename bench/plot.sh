#!/bin/bash
# SPDX-License-Identifier: MIT
#
# plot.sh CSV MACHINE DATE - draw bench/throughput.svg and bench/latency.svg
# from bench/results.csv (as written by bench/run.sh) with gnuplot.
#
# throughput.svg: (a) messages/s against payload size, one line per
# transport, 1 producer -> 1 reader; (b) messages/s against producers, 64 B;
# (c) the ring's bytes/s against ring size, 64 B and 1 KiB payloads.
# latency.svg: round-trip p50, p99 and p99.9 per transport, 64 B.
set -eu
cd "$(dirname "$0")/.."
CSV=${1:-bench/results.csv}
MACHINE=${2:-$(nproc) cores}
DATE=${3:-$(date -u '+%Y-%m-%d')}
TMP=$(mktemp -d /tmp/ring-bench-plot.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# Data files: one per series, "x y" lines.
# Column numbers of results.csv: 1 section, 2 transport, 3 wait, 4 size,
# 5 producers, 6 groups, 7 capacity, 8 batch, 9 prefault, 12 msgs_per_sec,
# 13 bytes_per_sec, 15-17 rtt p50/p99/p99.9.
SERIES=$(awk -F, 'NR > 1 && $1 == "size" {
	print $2 ($3 != "-" ? "-" $3 : "") }' "$CSV" | awk '!seen[$0]++')
for s in $SERIES; do
	awk -F, -v s="$s" 'NR > 1 && ($2 ($3 != "-" ? "-" $3 : "")) == s {
		if ($1 == "size") print $4, $12 > "'"$TMP"'/size-" s
		if (($1 == "producers" || $1 == "size") && $4 == 64 &&
		    $6 == 1 && $8 == 1)
			print $5, $12 > "'"$TMP"'/prod-" s
	}' "$CSV"
	[ -f "$TMP/prod-$s" ] && sort -n -o "$TMP/prod-$s" "$TMP/prod-$s"
done
for size in 64 1024; do
	awk -F, -v z=$size 'NR > 1 && $1 == "capacity" && $4 == z {
		print $7, $13 > "'"$TMP"'/cap-" z "-" ($9 == "false" ? "fresh" : "prefault") }' "$CSV"
done
awk -F, 'NR > 1 && $1 == "rtt" {
	print ($2 ($3 != "-" ? "-" $3 : "")), $15, $16, $17 }' "$CSV" >"$TMP/rtt"

plots() {
	local prefix=$1 i=0 s
	for s in $SERIES; do
		[ -f "$TMP/$prefix-$s" ] || continue
		[ $i -gt 0 ] && printf ', '
		printf "'%s' using 1:2 with linespoints lw 2 title '%s'" \
			"$TMP/$prefix-$s" "$s"
		i=$((i + 1))
	done
}
capplots() {
	local i=0 f
	for f in "$TMP"/cap-*; do
		[ -f "$f" ] || continue
		[ $i -gt 0 ] && printf ', '
		printf "'%s' using 1:(\$2/1e9) with linespoints lw 2 title '%s'" \
			"$f" "$(basename "$f" | sed 's/^cap-/ring, /; s/-/ B, /')"
		i=$((i + 1))
	done
}

gnuplot <<EOF
set terminal svg size 1500,520 dynamic font 'sans,11' background '#ffffff'
set output 'bench/throughput.svg'
set multiplot layout 1,3 title "ring-bench throughput - $MACHINE - $DATE"
set grid
set key top right font ',9'
set logscale y
set logscale x 2
set title '1 producer -> 1 reader (1 MiB ring)'
set xlabel 'payload bytes'
set ylabel 'messages / s'
set format y '%.0s%c'
plot $(plots size)
unset logscale x
set title '64 B payloads, P producers -> 1 reader'
set xlabel 'producers'
set xtics (1, 2, 4)
set key bottom left font ',9'
plot $(plots prod)
set xtics auto
set logscale x 2
set logscale y
set title 'ring, 1 -> 1, spinning: bytes/s by ring size'
set xlabel 'ring capacity (bytes)'
set ylabel 'GB / s'
set format y '%g'
set format x '%.0b%B'
set key bottom left font ',9'
plot $(capplots)
unset multiplot
EOF

gnuplot <<EOF
set terminal svg size 900,520 dynamic font 'sans,11' background '#ffffff'
set output 'bench/latency.svg'
set title "ring-bench round trip, 64 B, two processes - $MACHINE - $DATE"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set yrange [100:*]
set grid ytics
set ylabel 'round trip (ns, log scale)'
set format y '%.0s%c'
set bmargin 4
set key top left
plot '$TMP/rtt' using 2:xtic(1) title 'p50', '' using 3 title 'p99', \
     '' using 4 title 'p99.9'
EOF

#!/bin/bash
# SPDX-License-Identifier: MIT
#
# plot-compare.sh [CSV [SVG [MACHINE [DATE]]]] - draw bench/compare.svg from
# bench/compare.csv (as written by bench/compare.sh, `make bench-compare`)
# with gnuplot.
#
# Two panels, x = the rounds in the order they ran (A1 B2 A3 ...), each tick
# labelled with the round, its placement and (pinned rounds) how much
# slower the producer's CPU was than the reader's:
# (a) messages/s of each configuration per round, log scale: libring
#     (ring_send, ring_send_batch of 32, reserve/commit, 2 producers spinning
#     and blocking) in solid lines, its peers (rte_ring burst, one element
#     and MP 2 producers, a pipe, the better of ceilings a and b, ceiling
#     c, design a in libring's layout, and the two-writer ceilings l, a
#     lane each, and m, one shared tail) dashed;
# (b) round trip p50 per round, libring and rte_ring one element.
# Rounds not wholly 'near' (far, or the placement changed during the round)
# have a grey band behind them. Columns are found by their header names; a
# series whose column is empty in every round (no DPDK: the rte ones) is
# left out, and the median line is not drawn.
#
# Defaults: bench/compare.csv, bench/compare.svg, "$(nproc) vCPUs", today's
# date (UTC).
set -eu
# CSV and SVG given on the command line are relative to the caller's
# directory, the defaults to the top of the tree.
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
CSV=bench/compare.csv
SVG=bench/compare.svg
[ $# -ge 1 ] && [ -n "$1" ] && CSV=$(abs "$1")
[ $# -ge 2 ] && [ -n "$2" ] && SVG=$(abs "$2")
MACHINE=${3:-$(nproc) vCPUs}
DATE=${4:-$(date -u '+%Y-%m-%d')}
cd "$(dirname "$0")/.."

die() { echo "plot-compare.sh: $*" >&2; exit 1; }
[ -e "$CSV" ] || die "$CSV: no such file (run make bench-compare first)"
[ -d "$CSV" ] && die "$CSV: a directory, not a CSV file"
[ -r "$CSV" ] || die "$CSV: cannot read it"
command -v gnuplot >/dev/null || die "gnuplot is missing (apt-get install gnuplot-nox)"

TMP=$(mktemp -d /tmp/ring-bench-plot-compare.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# Series: name | column (ceiling: the better of ceil_a and ceil_b) | title.
# Names starting with "ring" are libring's (solid lines).
TP_SERIES="ring-single|single|libring ring_send
ring-batch32|batch32|libring ring_send_batch 32
ring-rescommit|rescommit|libring reserve/commit
rte-burst|rte_burst|rte_ring burst 32
rte-one|rte|rte_ring one element
pipe|pipe|pipe
ceiling|ceil_a+ceil_b|best ceiling
ceiling-c|ceil_c|ceiling c (libring's layout)
ceiling-l|ceil_l|ceiling l (2 writers, a lane each)
ceiling-m|ceil_m|ceiling m (2 writers, one CAS tail)
ring-p2|p2_single|libring 2 producers
rte-mp2|rte_mp2|rte_ring MP 2 producers
ring-p2block|p2_block|libring 2 producers blocking"
RTT_SERIES="ring-rtt|rtt_ring|libring
rte-rtt|rtt_rte|rte_ring one element"
# Line colours, fixed per series so that a missing one moves no other.
declare -A COLOUR=(
	[ring-single]='#1f5fbf' [ring-batch32]='#2ca02c'
	[ring-rescommit]='#17a2b8' [ring-p2]='#8e44ad' [ring-p2block]='#e377c2'
	[rte-burst]='#d62728' [rte-one]='#ff7f0e' [rte-mp2]='#8c564b'
	[pipe]='#7f7f7f' [ceiling]='#000000' [ceiling-c]='#bcbd22'
	[ceiling-l]='#555555' [ceiling-m]='#9467bd'
	[ring-rtt]='#1f5fbf' [rte-rtt]='#d62728')

# One pass over the CSV: $TMP/rounds ("x round placement" per round line),
# $TMP/tp-NAME and $TMP/rtt-NAME ("x y" lines, only where the column has a
# number; the messages/s in millions and above 0, for the log scale).
# Exits 2 without a "round" column, 3 without round lines.
status=0
awk -F, -v tmp="$TMP" -v tp="$TP_SERIES" -v rtt="$RTT_SERIES" '
function num(v) {
	gsub(/^[ \t\r]+|[ \t\r]+$/, "", v)
	return v ~ /^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/ ? v : ""
}
function field(name) { return (name in col) ? num($(col[name])) : "" }
function clean(v) {
	gsub(/[^A-Za-z0-9_.>?+-]/, "", v)
	return v
}
NR == 1 {
	sub(/\r$/, "")
	for (i = 1; i <= NF; i++) col[$i] = i
	if (!("round" in col)) { bad = 2; exit }
	ntp = split(tp, t, "\n")
	for (k = 1; k <= ntp; k++) { split(t[k], f, "|"); tpname[k] = f[1]; tpcol[k] = f[2] }
	nrtt = split(rtt, t, "\n")
	for (k = 1; k <= nrtt; k++) { split(t[k], f, "|"); rttname[k] = f[1]; rttcol[k] = f[2] }
	next
}
{
	sub(/\r$/, "")
	r = $(col["round"])
	gsub(/^[ \t]+|[ \t]+$/, "", r)
	if (r == "" || r == "median") next
	x++
	p = ("placement" in col) ? clean($(col["placement"])) : ""
	s = field("cpu_p_r")
	print x, clean(r), (p == "" ? "-" : p), (s == "" ? "-" : "P/R " s) \
		> (tmp "/rounds")
	for (k = 1; k <= ntp; k++) {
		if (tpcol[k] == "ceil_a+ceil_b") {
			a = field("ceil_a"); b = field("ceil_b")
			v = (a == "" ? b : (b == "" || a + 0 > b + 0 ? a : b))
		} else
			v = field(tpcol[k])
		if (v != "" && v + 0 > 0)
			printf "%d %.6g\n", x, v / 1e6 > (tmp "/tp-" tpname[k])
	}
	for (k = 1; k <= nrtt; k++) {
		v = field(rttcol[k])
		if (v != "" && v + 0 > 0)
			printf "%d %s\n", x, v > (tmp "/rtt-" rttname[k])
	}
}
END { if (bad) exit bad; if (x == 0) exit 3 }' "$CSV" || status=$?
case $status in
0) ;;
2) die "$CSV: no \"round\" column in its header (not a compare.csv?)" ;;
3) die "$CSV: no round lines (only a header or the median line)" ;;
*) die "$CSV: awk failed" ;;
esac
NROUNDS=$(wc -l <"$TMP/rounds")

# gnuplot strings: single quotes doubled inside '...'; no double quotes or
# backslashes in the title's "...".
q() { printf "'%s'" "${1//\'/\'\'}"; }
TITLE="bench-compare: libring against rte_ring, a pipe and the ceiling, 64 B - $MACHINE - $DATE"
TITLE=${TITLE//\\/}
TITLE=${TITLE//\"/\'}

# Tick labels "A1\nnear\nP/R 1.59" (the last line: how much slower the
# producer's CPU was than the reader's, when the rounds were pinned;
# round-trip panel: "A1"), and a grey band behind each round that was not
# wholly near (far, near>far, far>near, or an unknown placement "?").
TICS=""
RTICS=""
BANDS=""
NOTNEAR=0
while read -r x round place speed; do
	[ -n "$TICS" ] && TICS="$TICS, "
	if [ "$speed" = - ]; then
		TICS="$TICS\"$round\\n$place\" $x"
	else
		TICS="$TICS\"$round\\n$place\\n$speed\" $x"
	fi
	[ -n "$RTICS" ] && RTICS="$RTICS, "
	RTICS="$RTICS\"$round\" $x"
	if [ "$place" != near ]; then
		NOTNEAR=$((NOTNEAR + 1))
		BANDS="${BANDS}set object rect from $x - 0.5, graph 0 to $x + 0.5, graph 1 behind fillcolor rgb '#e8e8e8' fillstyle solid 1.0 noborder
"
	fi
done <"$TMP/rounds"
XLABEL="round (A: forward order, B: backward), placement, producer CPU time / reader CPU time"
[ "$NOTNEAR" -gt 0 ] && XLABEL="$XLABEL; grey: not near for the whole round"
# Many rounds: the labels on one line, turned.
XTICSOPT=""
if [ "$NROUNDS" -gt 14 ]; then
	TICS=${TICS//\\n/ }
	XTICSOPT="rotate by -60"
fi

# plots PREFIX SERIES: the plot list of the series with data; "NaN notitle"
# when none has any (an empty panel rather than a failure).
plots() {
	local prefix=$1 series=$2 i=0 name title dash
	while IFS="|" read -r name _ title; do
		[ -s "$TMP/$prefix-$name" ] || continue
		case $name in ring*) dash=1 ;; *) dash=2 ;; esac
		[ $i -gt 0 ] && printf ', '
		printf "%s using 1:2 with linespoints lw 2 pt 7 ps 0.6 dt %d lc rgb '%s' title %s noenhanced" \
			"$(q "$TMP/$prefix-$name")" "$dash" "${COLOUR[$name]}" "$(q "$title")"
		i=$((i + 1))
	done <<<"$series"
	[ $i -gt 0 ] || printf 'NaN notitle'
}
# empty PREFIX YRANGE: a fixed y range and a note for an empty panel.
empty() {
	local f
	for f in "$TMP/$1"-*; do [ -s "$f" ] && return 0; done
	echo "set yrange $2"
	echo "set label 1 $(q "no data in $(basename "$CSV")") at graph 0.5, graph 0.5 center noenhanced"
}

gnuplot <<EOF
set terminal svg size 1500,560 dynamic font 'sans,11' background '#ffffff'
set output $(q "$SVG")
set multiplot title "$TITLE" noenhanced
set grid
set xrange [0.5:$NROUNDS + 0.5]
set xtics nomirror noenhanced
set bmargin 7
$BANDS
set origin 0, 0
set size 0.70, 0.95
set title 'messages/s per round, 1 producer -> 1 reader unless said'
set xtics ($TICS) $XTICSOPT
set xlabel '$XLABEL' offset 0, -1.5
set ylabel 'M messages / s (log scale)'
set logscale y
set format y '%g'
set key outside right top vertical Left reverse font ',9' spacing 1.1
$(empty tp '[0.1:1000]')
plot $(plots tp "$TP_SERIES")
unset label 1
unset logscale y
set autoscale y
set origin 0.70, 0
set size 0.30, 0.95
set title 'round trip p50 (ns)'
set xtics ($RTICS) $XTICSOPT
set xlabel 'round' offset 0, -0.5
set ylabel 'ns'
set yrange [0:*]
set key inside bottom right Right noreverse font ',9' spacing 1.1
$(empty rtt '[0:1000]')
plot $(plots rtt "$RTT_SERIES")
unset multiplot
EOF

#!/bin/bash
# SPDX-License-Identifier: MIT
#
# compare.sh - `make bench-compare`: libring against DPDK's rte_ring, a
# pipe and the ceiling (bench/ceiling.c), in interleaved rounds.
#
# Every round runs each configuration once, 64-byte payloads, 1 MiB ring,
# spinning, one producer and one reader process unless said otherwise:
#
#   single     libring ring_send()
#   batch32    libring ring_send_batch() of 32
#   rescommit  libring ring_reserve(), payload written in place, ring_commit()
#   rte_burst  rte_ring SP/SC, bursts of 32
#   rte        rte_ring SP/SC, one element per call
#   pipe       a pipe, one write() per message
#   ceil_a/b   ring-ceiling designs a and b (the best is "the ceiling")
#   ceil_c     ring-ceiling design c: design a in libring's own layout
#              (commit words apart), to tell what the format costs from
#              what libring's code costs
#   ceil_l     ring-ceiling design l: 2 writer processes with a lane each
#              and one reader (nothing shared between the writers: the
#              best two producers can do here)
#   ceil_m     ring-ceiling design m: 2 writers claiming each record with
#              a compare-and-swap on one shared tail (libring's scheme for
#              several producers, bare)
#   p2_single  libring, 2 producers, single ring_send()
#   rte_mp2    rte_ring MP enqueue, 2 producers, one element per call
#   p2_block   libring, 2 producers, single ring_send(), --wait block
#   rtt_ring   round trip p50 of libring (--rtt, spin)
#   rtt_rte    round trip p50 of rte_ring, one element
#
# Rounds alternate the order, A forward and B backward (A1 B2 A3 ...), so
# that no configuration always runs first or last. They also alternate the
# CPUs: with two CPUs X and Y (the first two this shell may use), the
# one-producer runs, the round trips and the ceilings of A rounds run the
# reader on X and the producer on Y (ring-bench --cpus X/Y, ring-ceiling
# -c X/Y), B rounds the other way round; the two-producer runs are left to
# the scheduler. A virtual machine's CPUs need not be equally fast (on the
# 2-vCPU build machine one ran a fixed loop 1.6 times as long as the other
# for minutes, and which one changed): a producer-bound run is then as fast
# as the CPU its producer got, so every run of a round gets the same CPUs,
# and each round records how fast they were (ring-ceiling cpus: the
# producer's CPU's time per step over the reader's, column cpu_p_r). The host moves the two
# vCPUs between placements within minutes, so each round starts and ends
# with a short cache-line ping-pong (ring-ceiling rtt): 'near' below
# 250 ns, 'far' above. Only ratios within one round mean much; the summary
# is the median over rounds of each per-round ratio (all rounds, and the
# near and far rounds apart). System calls per message are counted once at
# the end with perf (when perf can count raw_syscalls:sys_enter).
#
# Environment: ROUNDS (default 7), RUN_SECONDS per run (default 0.5),
# PINGS per placement check (default 20000), SYSCALLS=0 to skip the count,
# COMPARE_CSV (default bench/compare.csv; the plot goes beside it, .svg),
# RING_BENCH_BIN, RING_CEILING_BIN.
# The rte columns are empty when ring-bench was built without DPDK.
set -u
cd "$(dirname "$0")/.." || exit 1

BIN=${RING_BENCH_BIN:-bin/ring-bench}
CEIL=${RING_CEILING_BIN:-build/default/bench-ceiling/ring-ceiling}
CSV=${COMPARE_CSV:-bench/compare.csv}
ROUNDS=${ROUNDS:-7}
RUN_SECONDS=${RUN_SECONDS:-0.5}
PINGS=${PINGS:-20000}
SYSCALLS=${SYSCALLS:-1}
export RING_BENCH_TIMEOUT=${RING_BENCH_TIMEOUT:-120}

die() { echo "compare.sh: $*" >&2; exit 1; }
[ -x "$BIN" ] || die "$BIN is missing: run make first"
[ -x "$CEIL" ] || die "$CEIL is missing: run make bench-ceiling first"
grep -q -a -e __asan_init -e __tsan_init -e __ubsan_handle "$BIN" "$CEIL" &&
	die "a sanitizer build: rebuild without SANITIZE"
case $ROUNDS in '' | *[!0-9]* | 0) die "ROUNDS must be a positive number" ;; esac

HAVE_RTE=0
"$BIN" --help | grep -q '^  rte-burst ' && HAVE_RTE=1

TMP=$(mktemp -d /tmp/bench-compare.XXXXXX) || die "mktemp failed"
trap 'rm -rf "$TMP"' EXIT
ERRORS=$TMP/errors
: >"$ERRORS"
FAILED=0

COMMON="--size 64 --capacity 1M"
# name | kind (tp: throughput, rtt, ceil: ring-ceiling pinned as the round,
# ceil2: ring-ceiling's two-writer designs, not pinned) | environment | arguments
CONFIGS="single|tp||--transport ring --wait spin
batch32|tp||--transport ring --wait spin --batch 32
rescommit|tp|RING_BENCH_ZEROCOPY=1|--transport ring --wait spin
rte_burst|tp||--transport rte-burst --batch 32
rte|tp||--transport rte
pipe|tp||--transport pipe
ceil_a|ceil||a
ceil_b|ceil||b
ceil_c|ceil||c
ceil_l|ceil2||l
ceil_m|ceil2||m
p2_single|tp||--transport ring --wait spin --producers 2
rte_mp2|tp||--transport rte --producers 2
p2_block|tp||--transport ring --wait block --producers 2
rtt_ring|rtt||--transport ring --wait spin --rtt
rtt_rte|rtt||--transport rte --rtt"
NAMES=$(echo "$CONFIGS" | cut -d'|' -f1)

# Messages (or round trips) per second of each configuration: sets the
# size of its next run.
declare -A RATE

# count_for NAME KIND: messages for a run of about RUN_SECONDS.
count_for() {
	local max=400000000 min=20000
	[ "$2" = rtt ] && { max=2000000; min=2000; }
	awk -v r="${RATE[$1]}" -v s="$RUN_SECONDS" -v lo=$min -v hi=$max 'BEGIN {
		n = int(r * s); if (n < lo) n = lo; if (n > hi) n = hi; print n }'
}

# json_field LINE KEY: a number from ring-bench's JSON line.
json_field() {
	echo "$1" | sed -n "s/.*\"$2\":\([0-9.e+]*\).*/\1/p"
}

# measure NAME N: one run; sets RESULT to its rate (msg/s, or the rtt p50
# in ns for rtt rows) and records the rate for the next count; RESULT is
# empty after a failure (logged) or without DPDK for the rte rows.
RESULT=""
measure() {
	local name=$1 n=$2 line kind envs args rate out pin
	RESULT=""
	line=$(echo "$CONFIGS" | grep "^$name|")
	kind=$(echo "$line" | cut -d'|' -f2)
	envs=$(echo "$line" | cut -d'|' -f3)
	args=$(echo "$line" | cut -d'|' -f4)
	case $name in *rte*) [ $HAVE_RTE = 1 ] || return 0 ;; esac
	if [ "$kind" = ceil ] || [ "$kind" = ceil2 ]; then
		# the ceiling times all but its first tenth; the two-writer
		# designs (three processes, two CPUs) are not pinned
		n=$(awk -v n="$n" 'BEGIN { printf "%d", n / 0.9 + 3200 }')
		pin=""
		[ "$kind" = ceil ] && pin=${PIN:+-c $PIN}
		out=$(timeout 120 "$CEIL" -n "$n" $pin "$args" 2>>"$ERRORS")
		rate=$(echo "$out" | awk '$1 == "ceiling-'"$args"':" { print $2 * 1e6 }')
	else
		case $args in
		*--producers*) pin="" ;;	# three processes, two CPUs
		*) pin=${PIN:+--cpus $PIN} ;;
		esac
		out=$(env $envs "$BIN" --json $COMMON $args $pin --messages "$n" \
			2>>"$ERRORS" | tail -n 1)
		rate=$(json_field "$out" msgs_per_sec)
	fi
	if [ -z "$rate" ]; then
		echo "== $name: run failed" >>"$ERRORS"
		FAILED=1
		return 0
	fi
	RATE[$name]=$rate
	if [ "$kind" = rtt ]; then
		RESULT=$(json_field "$out" rtt_p50_ns)
	else
		RESULT=$rate
	fi
}

# placement: "NS near|far" from a short cache-line ping-pong (on the
# round's CPUs).
placement() {
	"$CEIL" -p "$PINGS" ${PIN:+-c "$PIN"} rtt 2>>"$ERRORS" |
		awk '$1 == "rtt:" { print $3, $8 }'
}

# cpu_ratio: the producer's CPU's time per step over the reader's (above 1:
# the producer has the slower one), or nothing without pinning.
cpu_ratio() {
	[ -n "$PIN" ] || return 0
	"$CEIL" cpus 2>>"$ERRORS" | awk -v r="${PIN%/*}" -v p="${PIN#*/}" '
		$1 == "cpus:" { for (i = 2; i + 1 <= NF; i += 3) ns[$i] = $(i + 1) }
		END { if (ns[r] > 0 && ns[p] > 0) printf "%.2f", ns[p] / ns[r] }'
}

# The two CPUs the rounds alternate between (none: no pinning).
read -r CPU_X CPU_Y <<<"$("$CEIL" cpus 2>>"$ERRORS" |
	awk '$1 == "cpus:" && NF >= 8 { print $2, $5 }')"
PIN=""

CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
MACHINE="$(nproc) cores, ${CPU:-unknown CPU}, $(uname -r)"
echo "bench-compare on $MACHINE, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "$ROUNDS rounds, runs of about $RUN_SECONDS s; 64-byte payloads, 1 MiB ring, spinning"
[ $HAVE_RTE = 1 ] || echo "(ring-bench built without DPDK: no rte columns)"

# Calibration: one short run each, not reported.
for name in $NAMES; do
	kind=$(echo "$CONFIGS" | grep "^$name|" | cut -d'|' -f2)
	RATE[$name]=200000
	[ "$kind" = rtt ] && RATE[$name]=20000
	measure "$name" "$(count_for "$name" "$kind")"
done

RAW=$TMP/raw.csv
HEADER="round,order,rtt_ns,placement,rtt_end_ns,cpus,cpu_p_r,$(echo $NAMES | tr ' ' ,)"
echo "$HEADER" >"$RAW"
printf '\n%-5s %5s %-8s %-5s %5s' round rtt place cpus cpu
for name in $NAMES; do printf ' %9s' "$name"; done
printf '\n%-5s %5s %-8s %-5s %5s' "" ns "" R/P P/R
for name in $NAMES; do
	case $name in rtt_*) printf ' %9s' "p50 ns" ;; *) printf ' %9s' "M msg/s" ;; esac
done
echo

REVERSED=$(echo "$NAMES" | tac)
for ((r = 1; r <= ROUNDS; r++)); do
	if ((r % 2)); then order=A; list=$NAMES; else order=B; list=$REVERSED; fi
	PIN=""
	if [ -n "$CPU_Y" ]; then
		if ((r % 2)); then PIN=$CPU_X/$CPU_Y; else PIN=$CPU_Y/$CPU_X; fi
	fi
	speed=$(cpu_ratio)
	read -r ns0 place0 <<<"$(placement)"
	declare -A V=()
	for name in $list; do
		kind=$(echo "$CONFIGS" | grep "^$name|" | cut -d'|' -f2)
		measure "$name" "$(count_for "$name" "$kind")"
		V[$name]=$RESULT
	done
	read -r ns1 place1 <<<"$(placement)"
	place=${place0:-?}
	[ "${place1:-?}" != "$place" ] && place="$place>${place1:-?}"
	row="$order$r,$order,${ns0:-},$place,${ns1:-},$PIN,$speed"
	printf '%-5s %5s %-8s %-5s %5s' "$order$r" "${ns0:--}" "$place" \
		"${PIN:--}" "${speed:--}"
	for name in $NAMES; do
		row="$row,${V[$name]}"
		case $name in
		rtt_*) printf ' %9s' "${V[$name]:--}" ;;
		*) if [ -n "${V[$name]}" ]; then
			awk -v v="${V[$name]}" 'BEGIN { printf " %9.1f", v / 1e6 }'
		   else printf ' %9s' -; fi ;;
		esac
	done
	echo
	echo "$row" >>"$RAW"
	unset V
done

# System calls per message, once: perf over the whole process tree, a long
# run minus a short one (start-up and set-up cancel out).
SYS=""
sys_per_msg() {
	local name=$1 n=$2 envs args a b
	envs=$(echo "$CONFIGS" | grep "^$name|" | cut -d'|' -f3)
	args=$(echo "$CONFIGS" | grep "^$name|" | cut -d'|' -f4)
	a=$(env $envs perf stat -e raw_syscalls:sys_enter -x, -o "$TMP/perf" -- \
		"$BIN" $COMMON $args --messages 2000 >/dev/null 2>>"$ERRORS" &&
		awk -F, '/raw_syscalls/ { print $1 }' "$TMP/perf")
	b=$(env $envs perf stat -e raw_syscalls:sys_enter -x, -o "$TMP/perf" -- \
		"$BIN" $COMMON $args --messages "$n" >/dev/null 2>>"$ERRORS" &&
		awk -F, '/raw_syscalls/ { print $1 }' "$TMP/perf")
	[ -n "$a" ] && [ -n "$b" ] || return 0
	# both runs send a tenth more as warm-up
	awk -v a="$a" -v b="$b" -v n="$n" 'BEGIN {
		printf "%.5f", (b - a) / (1.1 * (n - 2000)) }'
}
if [ "$SYSCALLS" != 0 ] &&
   perf stat -e raw_syscalls:sys_enter -x, -- true >/dev/null 2>&1; then
	echo
	echo "system calls per message (perf, whole process tree):"
	for name in single p2_block rte; do
		case $name in *rte*) [ $HAVE_RTE = 1 ] || continue ;; esac
		v=$(sys_per_msg "$name" "$(count_for "$name" tp)")
		printf '  %-10s %s\n' "$name" "${v:-failed}"
		SYS="$SYS $name=${v}"
	done
elif [ "$SYSCALLS" != 0 ]; then
	echo
	echo "system calls per message: skipped (perf cannot count raw_syscalls:sys_enter)"
fi

# ---- per-round ratios, medians, compare.csv --------------------------------
awk -F, -v sys="$SYS" -v csv="$CSV" '
function ratio(a, b) { return (a == "" || b == "" || b + 0 == 0) ? "" : a / b }
function median(key, which,   n, i, j, v, t, a) {
	n = 0
	for (i = 1; i <= rounds; i++) {
		if (which == "pfast" && !(spd[i] != "" && spd[i] + 0 <= 1)) continue
		if (which == "pslow" && !(spd[i] != "" && spd[i] + 0 > 1)) continue
		if (which != "all" && which != "pfast" && which != "pslow" &&
		    plc[i] != which) continue
		if ((i, key) in val && val[i, key] != "") a[++n] = val[i, key] + 0
	}
	if (n == 0) return ""
	for (i = 2; i <= n; i++)	# insertion sort
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function fmt(x) { return x == "" ? "-" : sprintf("%.2f", x) }
function f1(x) { return x == "" ? "" : sprintf("%.1f", x) }
function f4(x) { return x == "" ? "" : sprintf("%.4f", x) }
NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; ncol = NF; head = $0; next }
{
	rounds++
	line[rounds] = $0
	for (i = 1; i <= NF; i++) raw[rounds, i] = $i
	plc[rounds] = $4
	spd[rounds] = $(col["cpu_p_r"])
	c = $(col["ceil_a"]); d = $(col["ceil_b"])
	best = (c == "" ? d : (d == "" || c + 0 > d + 0 ? c : d))
	val[rounds, "single_rteburst"] = ratio($(col["single"]), $(col["rte_burst"]))
	val[rounds, "batch32_rteburst"] = ratio($(col["batch32"]), $(col["rte_burst"]))
	val[rounds, "rescommit_single"] = ratio($(col["rescommit"]), $(col["single"]))
	val[rounds, "single_ceiling"] = ratio($(col["single"]), best)
	val[rounds, "batch32_ceiling"] = ratio($(col["batch32"]), best)
	val[rounds, "p2_p1"] = ratio($(col["p2_single"]), $(col["single"]))
	val[rounds, "p2_rtemp2"] = ratio($(col["p2_single"]), $(col["rte_mp2"]))
	val[rounds, "rtt_ring_rte"] = ratio($(col["rtt_ring"]), $(col["rtt_rte"]))
	val[rounds, "p2_block_M"] = ($(col["p2_block"]) == "" ? "" : $(col["p2_block"]) / 1e6)
	val[rounds, "ceiling_rteburst"] = ratio(best, $(col["rte_burst"]))
	val[rounds, "ceil_c_ceiling"] = ratio($(col["ceil_c"]), best)
	val[rounds, "single_ceil_c"] = ratio($(col["single"]), $(col["ceil_c"]))
	val[rounds, "ceil_l_ceiling"] = ratio($(col["ceil_l"]), best)
	val[rounds, "p2_ceil_l"] = ratio($(col["p2_single"]), $(col["ceil_l"]))
	val[rounds, "p2_ceil_m"] = ratio($(col["p2_single"]), $(col["ceil_m"]))
	val[rounds, "ceiling"] = best
}
END {
	nk = split("single_rteburst batch32_rteburst rescommit_single single_ceiling " \
		   "batch32_ceiling p2_p1 p2_rtemp2 rtt_ring_rte p2_block_M " \
		   "ceiling_rteburst ceil_c_ceiling single_ceil_c ceil_l_ceiling " \
		   "p2_ceil_l p2_ceil_m", keys, " ")
	label["single_rteburst"] = "libring single / rte-burst";	goal["single_rteburst"] = ">= 1.0"
	label["batch32_rteburst"] = "libring batch32 / rte-burst";	goal["batch32_rteburst"] = ">= 1.5"
	label["rescommit_single"] = "reserve-commit / single";		goal["rescommit_single"] = ">= 1.0"
	label["single_ceiling"] = "libring single / best ceiling";	goal["single_ceiling"] = ">= 0.7"
	label["batch32_ceiling"] = "libring batch32 / best ceiling";	goal["batch32_ceiling"] = ""
	label["p2_p1"] = "2-producer / 1-producer libring";		goal["p2_p1"] = ">= 0.8"
	label["p2_rtemp2"] = "2-producer libring / rte MP 2p";	goal["p2_rtemp2"] = ">= 1.5"
	label["rtt_ring_rte"] = "rtt p50 libring / rte";		goal["rtt_ring_rte"] = "<= 1.0"
	label["p2_block_M"] = "2-producer libring block, M msg/s";	goal["p2_block_M"] = ">= 20"
	label["ceiling_rteburst"] = "best ceiling / rte-burst";		goal["ceiling_rteburst"] = ""
	label["ceil_c_ceiling"] = "ceiling c (libring layout) / best";	goal["ceil_c_ceiling"] = ""
	label["single_ceil_c"] = "libring single / ceiling c";		goal["single_ceil_c"] = ""
	label["ceil_l_ceiling"] = "ceiling l (2 lanes) / best ceiling";	goal["ceil_l_ceiling"] = ""
	label["p2_ceil_l"] = "libring 2-producer / ceiling l";	goal["p2_ceil_l"] = ""
	label["p2_ceil_m"] = "libring 2-producer / ceiling m (CAS)";	goal["p2_ceil_m"] = ""
	split("1/rteB 32/rteB rc/1 1/ceil 32/ceil 2p/1p 2p/rteMP rtt/rte 2pblk " \
	      "ceil/rteB C/ceil 1/C L/ceil 2p/L 2p/M", sh, " ")
	for (k = 1; k <= nk; k++) short[keys[k]] = sh[k]

	printf "\nper-round ratios (1 = single, 32 = batch32, rc = reserve-commit, " \
	       "ceil = best ceiling,\n2p = 2 producers, rteMP = rte MP 2 producers, " \
	       "2pblk = 2 producers blocking in M msg/s, C, L, M = ceilings c, l, m;\ncpus: the reader\047s " \
	       "and the producer\047s CPU, P/R: the time per step of the producer\047s\n" \
	       "CPU over the reader\047s)\n%-5s %-8s %-5s %5s", "round", "place", "cpus", "P/R"
	for (k = 1; k <= nk; k++) printf " %8s", short[keys[k]]
	printf "\n"
	for (i = 1; i <= rounds; i++) {
		printf "%-5s %-8s %-5s %5s", raw[i, 1], plc[i], raw[i, col["cpus"]], raw[i, col["cpu_p_r"]]
		for (k = 1; k <= nk; k++) printf " %8s", fmt(val[i, keys[k]])
		printf "\n"
	}
	near = far = pfast = pslow = 0
	for (i = 1; i <= rounds; i++) {
		if (plc[i] == "near") near++
		if (plc[i] == "far") far++
		if (spd[i] != "" && spd[i] + 0 <= 1) pfast++
		if (spd[i] != "" && spd[i] + 0 > 1) pslow++
	}
	printf "\nmedian of the per-round ratios over %d rounds (%d near, %d far, rounds " \
	       "that changed placement\ncount only in \"all\"; %d with the producer on " \
	       "the faster or an equal CPU, P<=R, %d on\nthe slower, P>R)\n", rounds, near,
	       far, pfast, pslow
	printf "%-36s %7s %7s %7s %7s %7s  %s\n", "", "all", "near", "far", "P<=R", "P>R",
	       "target"
	for (k = 1; k <= nk; k++) {
		m[keys[k]] = median(keys[k], "all")
		printf "%-36s %7s %7s %7s %7s %7s  %s\n", label[keys[k]], fmt(m[keys[k]]),
		       fmt(median(keys[k], "near")), fmt(median(keys[k], "far")),
		       fmt(median(keys[k], "pfast")), fmt(median(keys[k], "pslow")),
		       goal[keys[k]]
	}
	printf "%-36s %7s\n", "best ceiling, M msg/s", fmt(median("ceiling", "all") / 1e6)

	# compare.csv: the raw columns, the ratios, a median row, syscalls
	out = head
	for (k = 1; k <= nk; k++) out = out ",r_" keys[k]
	out = out ",sys_single,sys_p2_block,sys_rte"
	print out > csv
	for (i = 1; i <= rounds; i++) {
		out = line[i]
		for (k = 1; k <= nk; k++) out = out "," f4(val[i, keys[k]])
		print out ",,," > csv
	}
	for (i = 1; i <= rounds; i++) { val[i, "c3"] = raw[i, 3]; val[i, "c5"] = raw[i, 5] }
	for (i = 1; i <= rounds; i++) val[i, "c7"] = raw[i, 7]
	out = "median,," f1(median("c3", "all")) ",," f1(median("c5", "all")) ",," \
	      fmt(median("c7", "all"))
	for (c = 8; c <= ncol; c++) {
		for (i = 1; i <= rounds; i++) val[i, "c" c] = raw[i, c]
		out = out "," f1(median("c" c, "all"))
	}
	for (k = 1; k <= nk; k++) out = out "," f4(m[keys[k]])
	n = split(sys, s, " ")
	for (k = 1; k <= n; k++) { split(s[k], kv, "="); sv[kv[1]] = kv[2] }
	print out "," sv["single"] "," sv["p2_block"] "," sv["rte"] > csv
	close(csv)
}' "$RAW"
echo
echo "wrote $CSV"
# The plot, as bench/run.sh draws its own (bench/plot-compare.sh).
SVG=${CSV%.csv}.svg
if command -v gnuplot >/dev/null; then
	bench/plot-compare.sh "$CSV" "$SVG" "$MACHINE" && echo "wrote $SVG"
else
	echo "gnuplot is not installed (Debian: gnuplot-nox): no $SVG"
fi
if [ "$FAILED" = 1 ] || [ -s "$ERRORS" ]; then
	echo
	echo "errors:"
	sort -u "$ERRORS" | head -n 20
fi
[ "$FAILED" = 0 ]

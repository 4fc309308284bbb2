#!/bin/bash
# SPDX-License-Identifier: MIT
#
# members.sh - `make bench-members`: a shared group read by 1, 2 and 4
# member processes against one exclusive reader, in interleaved rounds.
#
# Every round runs each configuration once: 64-byte payloads, 1 MiB ring,
# one producer process, spinning (-w spin) and blocking (-w block) waits:
#
#   x_spin  x_block    one exclusive reader (a plain consumer group)
#   m1_*    m2_*  m4_* ring-bench --members 1, 2, 4: one shared group, each
#                      message to one of its member processes
#
# Rounds alternate the order, A forward and B backward (A1 B2 A3 ...), so
# that no configuration always runs first or last. The host moves the two
# vCPUs between placements within minutes and the rates swing by up to 5x,
# so only ratios within one round mean much: for each round the ratio of
# each member configuration to the exclusive reader of the same wait mode,
# and the median of those per-round ratios. When ring-ceiling is built,
# each round starts and ends with a short cache-line ping-pong ('near'
# below 250 ns, 'far' above), as in compare.sh. Each round also records
# how many cores other work kept busy while it ran ('other': the machine's
# busy time from /proc/stat less this script's children's, per second of
# the round); the medians are given over all rounds and over the quiet
# ones (other < QUIET, default 0.25 cores). With WAIT_QUIET=S each round
# first waits up to S seconds for a 2-second stretch in which other work
# uses under QUIET cores (on a machine shared with other jobs).
#
# Every ring-bench run checks that the members together received every
# message exactly once (count, sum, sum of squares); a run that fails is
# reported at the end and makes the script fail.
#
# Environment: ROUNDS (default 7), RUN_SECONDS per run (default 0.5),
# PINGS per placement check (default 20000), MEMBERS (default "1 2 4"),
# QUIET (default 0.25), WAIT_QUIET (default 0: no wait),
# MEMBERS_CSV (a file for the per-round rates and ratios; none by default),
# RING_BENCH_BIN, RING_CEILING_BIN.
set -u
cd "$(dirname "$0")/.." || exit 1

BIN=${RING_BENCH_BIN:-bin/ring-bench}
CEIL=${RING_CEILING_BIN:-build/default/bench-ceiling/ring-ceiling}
ROUNDS=${ROUNDS:-7}
RUN_SECONDS=${RUN_SECONDS:-0.5}
PINGS=${PINGS:-20000}
MEMBERS=${MEMBERS:-1 2 4}
QUIET=${QUIET:-0.25}
WAIT_QUIET=${WAIT_QUIET:-0}
CSV=${MEMBERS_CSV:-}
export RING_BENCH_TIMEOUT=${RING_BENCH_TIMEOUT:-120}

die() { echo "members.sh: $*" >&2; exit 1; }
[ -x "$BIN" ] || die "$BIN is missing: run make first"
grep -q -a -e __asan_init -e __tsan_init -e __ubsan_handle "$BIN" &&
	die "a sanitizer build: rebuild without SANITIZE"
case $ROUNDS in '' | *[!0-9]* | 0) die "ROUNDS must be a positive number" ;; esac
for m in $MEMBERS; do
	case $m in '' | *[!0-9]* | 0) die "MEMBERS: '$m' is not a member count" ;; esac
done
HAVE_CEIL=0
[ -x "$CEIL" ] && HAVE_CEIL=1

TMP=$(mktemp -d /tmp/bench-members.XXXXXX) || die "mktemp failed"
trap 'rm -rf "$TMP"' EXIT
ERRORS=$TMP/errors
: >"$ERRORS"
FAILED=0

COMMON="--transport ring --size 64 --capacity 1M --producers 1"
# name | arguments
CONFIGS=""
for w in spin block; do
	CONFIGS="$CONFIGS
x_$w|--wait $w"
	for m in $MEMBERS; do
		CONFIGS="$CONFIGS
m${m}_$w|--wait $w --members $m"
	done
done
CONFIGS=$(echo "$CONFIGS" | sed '/^$/d')
NAMES=$(echo "$CONFIGS" | cut -d'|' -f1)

# Messages per second of each configuration: sets the size of its next run.
declare -A RATE

# count_for NAME: messages for a run of about RUN_SECONDS.
count_for() {
	awk -v r="${RATE[$1]}" -v s="$RUN_SECONDS" 'BEGIN {
		n = int(r * s); if (n < 20000) n = 20000
		if (n > 400000000) n = 400000000; print n }'
}

# json_field LINE KEY: a value from ring-bench's JSON line.
json_field() {
	echo "$1" | sed -n "s/.*\"$2\":\([0-9.e+a-z]*\).*/\1/p"
}

# measure NAME: one run; RESULT is its rate in msg/s, or empty after a
# failure (logged). A member run must say every message came once.
RESULT=""
measure() {
	local name=$1 args out rate
	RESULT=""
	args=$(echo "$CONFIGS" | grep "^$name|" | cut -d'|' -f2)
	out=$("$BIN" --json $COMMON $args --messages "$(count_for "$name")" \
		2>>"$ERRORS" | tail -n 1)
	rate=$(json_field "$out" msgs_per_sec)
	case $name in
	m*) [ "$(json_field "$out" exactly_once)" = true ] || rate="" ;;
	esac
	if [ -z "$rate" ]; then
		echo "== $name: run failed ($args)" >>"$ERRORS"
		FAILED=1
		return 0
	fi
	RATE[$name]=$rate
	RESULT=$rate
}

# placement: "NS near|far" from a short cache-line ping-pong, or "- ?".
placement() {
	if [ $HAVE_CEIL = 1 ]; then
		"$CEIL" -p "$PINGS" rtt 2>>"$ERRORS" |
			awk '$1 == "rtt:" { print $3, $8 }'
	else
		echo "- ?"
	fi
}

# cpu_ticks: "BUSY CHILDREN NS": the machine's busy clock ticks (all
# CPUs), this shell's reaped children's ticks, the monotonic time in ns.
cpu_ticks() {
	local busy children
	busy=$(awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat)
	# fields 16 and 17 of /proc/PID/stat (cutime, cstime), after the
	# command name in parentheses
	children=$(sed 's/^.*) //' /proc/$$/stat | awk '{ print $14 + $15 }')
	echo "$busy $children $(date +%s%N)"
}

# wait_quiet: wait up to WAIT_QUIET seconds for 2 seconds in which other
# work uses under QUIET cores (nothing of ours runs meanwhile).
wait_quiet() {
	local end=$((SECONDS + WAIT_QUIET)) b0 b1
	while ((SECONDS < end)); do
		b0=$(awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat)
		sleep 2
		b1=$(awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat)
		awk -v d="$((b1 - b0))" -v hz="$HZ" -v q="$QUIET" \
			'BEGIN { exit !(d / hz / 2 < q) }' && return 0
	done
	return 1
}

CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
echo "bench-members on $(nproc) cores, ${CPU:-unknown CPU}, $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "$ROUNDS rounds, runs of about $RUN_SECONDS s; 64-byte payloads, 1 MiB ring, 1 producer"
echo "x = one exclusive reader, mN = a shared group of N members; M msg/s"

# Calibration: one short run each, not reported.
for name in $NAMES; do
	RATE[$name]=1000000
	measure "$name"
done

RAW=$TMP/raw.csv
echo "round,order,rtt_ns,placement,rtt_end_ns,other,$(echo $NAMES | tr ' ' ,)" >"$RAW"
HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)
printf '\n%-5s %5s %-9s %5s' round rtt place other
for name in $NAMES; do printf ' %8s' "$name"; done
echo
REVERSED=$(echo "$NAMES" | tac)
for ((r = 1; r <= ROUNDS; r++)); do
	if ((r % 2)); then order=A; list=$NAMES; else order=B; list=$REVERSED; fi
	[ "$WAIT_QUIET" != 0 ] && wait_quiet
	read -r ns0 place0 <<<"$(placement)"
	read -r busy0 kids0 t0 <<<"$(cpu_ticks)"
	declare -A V=()
	for name in $list; do
		measure "$name"
		V[$name]=$RESULT
	done
	read -r busy1 kids1 t1 <<<"$(cpu_ticks)"
	read -r ns1 place1 <<<"$(placement)"
	other=$(awk -v b="$((busy1 - busy0))" -v k="$((kids1 - kids0))" \
		-v t="$((t1 - t0))" -v hz="$HZ" 'BEGIN {
		o = (b - k) / hz / (t / 1e9); if (o < 0) o = 0; printf "%.2f", o }')
	place=${place0:-?}
	[ "${place1:-?}" != "$place" ] && place="$place>${place1:-?}"
	row="$order$r,$order,${ns0:-},$place,${ns1:-},$other"
	printf '%-5s %5s %-9s %5s' "$order$r" "${ns0:--}" "$place" "$other"
	for name in $NAMES; do
		row="$row,${V[$name]}"
		if [ -n "${V[$name]}" ]; then
			awk -v v="${V[$name]}" 'BEGIN { printf " %8.2f", v / 1e6 }'
		else
			printf ' %8s' -
		fi
	done
	echo
	echo "$row" >>"$RAW"
	unset V
done

# ---- per-round ratios and their medians -------------------------------------
awk -F, -v members="$MEMBERS" -v csv="$CSV" -v quiet="$QUIET" '
function median(key, which,   n, i, j, t, a) {
	n = 0
	for (i = 1; i <= rounds; i++) {
		if (which == "quiet" && oth[i] >= quiet) continue
		if (which != "all" && which != "quiet" && plc[i] != which) continue
		if (val[i, key] != "") a[++n] = val[i, key] + 0
	}
	if (n == 0) return ""
	for (i = 2; i <= n; i++)	# insertion sort
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function fmt(x) { return x == "" ? "-" : sprintf("%.2f", x) }
NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; ncol = NF; head = $0; next }
{
	rounds++
	line[rounds] = $0
	name[rounds] = $1
	plc[rounds] = $4
	oth[rounds] = $6 + 0
	nm = split(members, mm, " ")
	nk = 0
	for (w = 1; w <= 2; w++) {
		wait = w == 1 ? "spin" : "block"
		x = $(col["x_" wait])
		for (k = 1; k <= nm; k++) {
			key = "m" mm[k] "_" wait
			keys[++nk] = key
			v = $(col[key])
			val[rounds, key] = (v == "" || x == "" || x + 0 == 0) ? "" : v / x
		}
	}
}
END {
	printf "\nper-round ratios, members / exclusive reader of the same wait mode\n"
	printf "%-5s %-9s %5s", "round", "place", "other"
	for (k = 1; k <= nk; k++) printf " %8s", keys[k]
	printf "\n"
	for (i = 1; i <= rounds; i++) {
		printf "%-5s %-9s %5.2f", name[i], plc[i], oth[i]
		for (k = 1; k <= nk; k++) printf " %8s", fmt(val[i, keys[k]])
		printf "\n"
	}
	near = far = nq = 0
	for (i = 1; i <= rounds; i++) {
		if (plc[i] == "near") near++
		if (plc[i] == "far") far++
		if (oth[i] < quiet) nq++
	}
	printf "\nmedian of the per-round ratios over %d rounds (%d near, %d far; " \
	       "rounds that changed\nplacement count only in \"all\"; quiet: the %d " \
	       "rounds in which other work used\nunder %s cores)\n", rounds, near, far, nq, quiet
	printf "%-31s %7s %7s %7s %7s  %s\n", "", "all", "near", "far", "quiet", "goal"
	for (k = 1; k <= nk; k++) {
		split(keys[k], p, "_")
		label = substr(p[1], 2) " member(s) / exclusive, " p[2]
		goal = substr(p[1], 2) == 2 ? ">= 0.9" : ""
		m[keys[k]] = median(keys[k], "all")
		printf "%-31s %7s %7s %7s %7s  %s\n", label, fmt(m[keys[k]]),
		       fmt(median(keys[k], "near")), fmt(median(keys[k], "far")),
		       fmt(median(keys[k], "quiet")), goal
	}
	if (csv != "") {
		out = head
		for (k = 1; k <= nk; k++) out = out ",r_" keys[k]
		print out > csv
		for (i = 1; i <= rounds; i++) {
			out = line[i]
			for (k = 1; k <= nk; k++)
				out = out "," (val[i, keys[k]] == "" ? "" : sprintf("%.4f", val[i, keys[k]]))
			print out > csv
		}
		out = "median,,,,,"
		for (c = 7; c <= ncol; c++) out = out ","
		for (k = 1; k <= nk; k++) out = out "," sprintf("%.4f", m[keys[k]])
		print out > csv
		close(csv)
	}
}' "$RAW"
[ -n "$CSV" ] && echo && echo "wrote $CSV"
if [ "$FAILED" = 1 ] || [ -s "$ERRORS" ]; then
	echo
	echo "errors:"
	sort -u "$ERRORS" | head -n 20
fi
[ "$FAILED" = 0 ]

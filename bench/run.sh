#!/bin/bash
# SPDX-License-Identifier: MIT
#
# run.sh - the fixed ring-bench matrix behind `make bench`.
#
# Runs every configuration 3 times (after one calibration run that picks a
# message count lasting about RUN_SECONDS), keeps the median, prints a table
# with each transport's ratio to pipe, writes bench/results.csv and draws
# bench/throughput.svg and bench/latency.svg with gnuplot.
#
# Environment: RUN_SECONDS (default 0.5) and REPS (default 3) trade time for
# precision; QUICK=1 is RUN_SECONDS=0.05 REPS=1 (a smoke run of the script).
set -u
cd "$(dirname "$0")/.." || exit 1

BIN=${RING_BENCH_BIN:-bin/ring-bench}
OUT=bench
CSV=$OUT/results.csv
if [ "${QUICK:-0}" = 1 ]; then
	RUN_SECONDS=${RUN_SECONDS:-0.05}
	REPS=${REPS:-1}
else
	RUN_SECONDS=${RUN_SECONDS:-0.5}
	REPS=${REPS:-3}
fi

die() { echo "run.sh: $*" >&2; exit 1; }
[ -x "$BIN" ] || die "$BIN is missing: run make first"
grep -q -a -e __asan_init -e __tsan_init -e __ubsan_handle "$BIN" &&
	die "$BIN is a sanitizer build: rebuild without SANITIZE (or use make bench)"
# Debian packages this script uses: installed when missing and root.
NEED=""
command -v jq >/dev/null || NEED="$NEED jq"
command -v gnuplot >/dev/null || NEED="$NEED gnuplot-nox"
if [ -n "$NEED" ] && [ "$(id -u)" = 0 ]; then
	echo "run.sh: installing$NEED" >&2
	(apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq $NEED) >&2
fi
command -v jq >/dev/null || die "jq is missing: apt-get install jq"

TRANSPORTS="ring pipe unix seqpacket mq"
"$BIN" --help | grep -q 'zmq' && TRANSPORTS="$TRANSPORTS zmq"

CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
MACHINE="$(nproc) cores, ${CPU:-unknown CPU}, $(uname -r)"
DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
TMP=$(mktemp -d /tmp/ring-bench-run.XXXXXX) || die "mktemp failed"
trap 'rm -rf "$TMP"' EXIT
ROWS=$TMP/rows.jsonl
: >"$ROWS"

# Last measured rate (messages or round trips per second) per transport
# and wait mode: the next calibration run starts from it.
declare -A RATE

# measure SECTION ENVVAR ARGS... : calibrate, run REPS times, append the
# median (by msgs_per_sec, or by rtt_p50_ns with --rtt) to $ROWS.
N_DONE=0
measure() {
	local section=$1 envs=$2; shift 2
	local key="$*" rtt=0 rate n line secs i retry lines=() sorted median
	case " $* " in *" --rtt "*) rtt=1 ;; esac
	local rkey
	rkey=$(echo "$@" | awk '{print $2, $0 ~ /block/, $0 ~ /--rtt/}')
	rate=${RATE[$rkey]:-200000}
	n=$(awk -v r="$rate" -v s="$RUN_SECONDS" 'BEGIN {
		n = int(r * s / 3); if (n < 2000) n = 2000; print n }')
	line=$(env $envs "$BIN" --json "$@" --messages "$n" 2>>"$TMP/errors" |
	       tail -n 1 | grep '^{')
	N_DONE=$((N_DONE + 1))
	if [ -z "$line" ]; then
		printf '[%3d] %-58s FAILED (see below)\n' "$N_DONE" "$key" >&2
		echo "== $key" >>"$TMP/failed"
		return
	fi
	rate=$(echo "$line" | jq '.msgs_per_sec')
	RATE[$rkey]=$rate
	n=$(awk -v r="$rate" -v s="$RUN_SECONDS" 'BEGIN {
		n = int(r * s); if (n < 2000) n = 2000;
		if (n > 400000000) n = 400000000; print n }')
	for ((i = 0, retry = 0; i < REPS; i++)); do
		line=$(env $envs "$BIN" --json "$@" --messages "$n" \
			2>>"$TMP/errors" | tail -n 1 | grep '^{')
		[ -n "$line" ] || continue
		secs=$(echo "$line" | jq '.seconds')
		# The rate moved (this VM's load varies): a run far shorter
		# than asked says little; redo it longer, twice at most.
		if [ $retry -lt 2 ] && awk -v s="$secs" -v t="$RUN_SECONDS" \
			'BEGIN { exit !(s < t / 4) }'; then
			n=$(awk -v n="$n" -v s="$secs" -v t="$RUN_SECONDS" 'BEGIN {
				m = int(n * t / (s > 0 ? s : 1e-3));
				if (m > 400000000) m = 400000000; print m }')
			retry=$((retry + 1))
			i=$((i - 1))
			continue
		fi
		lines+=("$line")
	done
	if [ ${#lines[@]} -eq 0 ]; then
		printf '[%3d] %-58s FAILED\n' "$N_DONE" "$key" >&2
		echo "== $key" >>"$TMP/failed"
		return
	fi
	if [ $rtt = 1 ]; then
		sorted=$(printf '%s\n' "${lines[@]}" | jq -s -c 'sort_by(.rtt_p50_ns)[]')
	else
		sorted=$(printf '%s\n' "${lines[@]}" | jq -s -c 'sort_by(.msgs_per_sec)[]')
	fi
	median=$(echo "$sorted" | sed -n "$(( (${#lines[@]} + 1) / 2 ))p")
	echo "$median" | jq -c --arg s "$section" --arg e "$envs" \
		'. + {section: $s, prefault: ($e | test("NO_PREFAULT") | not)}' >>"$ROWS"
	secs=$(echo "$median" | jq '.seconds')
	if [ $rtt = 1 ]; then
		printf '[%3d] %-58s p50 %6s ns  p99.9 %8s ns\n' "$N_DONE" \
			"$key" "$(echo "$median" | jq .rtt_p50_ns)" \
			"$(echo "$median" | jq .rtt_p999_ns)" >&2
	else
		printf '[%3d] %-58s %12.0f msg/s (%.2f s)\n' "$N_DONE" "$key" \
			"$(echo "$median" | jq .msgs_per_sec)" "$secs" >&2
	fi
}

# each_transport SECTION ARGS... : measure ARGS for every transport; the
# ring in both wait modes.
each_transport() {
	local section=$1 t; shift
	for t in $TRANSPORTS; do
		if [ "$t" = ring ]; then
			measure "$section" "" --transport ring --wait spin "$@"
			measure "$section" "" --transport ring --wait block "$@"
		else
			measure "$section" "" --transport "$t" "$@"
		fi
	done
}

echo "ring-bench matrix on $MACHINE, $DATE" >&2
echo "each configuration: calibration run + median of $REPS runs of ~${RUN_SECONDS} s" >&2
START=$(date +%s)

# 1. payload size, 1 producer -> 1 reader, 1 MiB ring
for size in 8 64 256 1024 4096; do
	each_transport size --size "$size"
done
# 2. producers (1 is in section 1)
for p in 2 4; do
	each_transport producers --size 64 --producers "$p"
done
# 3. groups: every message to 3 readers
each_transport groups --size 64 --groups 3
# 4. batches of 16 per send call
for p in 1 2; do
	measure batch "" --transport ring --wait spin --size 64 --batch 16 --producers "$p"
	measure batch "" --transport pipe --size 64 --batch 16 --producers "$p"
done
# 5. ring size: cache-resident to DRAM-bound, pre-faulted or not
for size in 64 1024; do
	for cap in 64K 1M 64M 1G; do
		measure capacity "" --transport ring --wait spin --size "$size" --capacity "$cap"
	done
done
for cap in 64M 1G; do
	measure capacity RING_BENCH_NO_PREFAULT=1 --transport ring --wait spin --size 1024 --capacity "$cap"
done
# 6. round trips of 64-byte messages
each_transport rtt --size 64 --rtt

ELAPSED=$(( $(date +%s) - START ))

# ---- results.csv --------------------------------------------------------
# ratio_to_pipe: msgs_per_sec over pipe's for the same size, producers,
# groups and batch; for round trips pipe's p50 over this p50.
jq -s -r '
	def pipe_of($r): map(select(.transport == "pipe" and .mode == $r.mode
		and .size == $r.size and .producers == $r.producers
		and .groups == $r.groups and .batch == $r.batch))[0];
	. as $all |
	(["section","transport","wait","size","producers","groups","capacity",
	  "batch","prefault","messages","seconds","msgs_per_sec","bytes_per_sec",
	  "ratio_to_pipe","rtt_p50_ns","rtt_p99_ns","rtt_p999_ns","rtt_max_ns",
	  "max_gap_ns"]
	 | @csv),
	($all[] | . as $r | ($all | pipe_of($r)) as $p |
	 [.section, .transport,
	  (if .transport == "ring" then .wait else "-" end), .size,
	  .producers, .groups,
	  (if .transport == "ring" then .capacity else "-" end), .batch,
	  (if .transport == "ring" then .prefault else "-" end),
	  .messages, .seconds, .msgs_per_sec, .bytes_per_sec,
	  (if $p == null then ""
	   elif .mode == "rtt" then ($p.rtt_p50_ns / .rtt_p50_ns * 100 | round / 100)
	   else (.msgs_per_sec / $p.msgs_per_sec * 100 | round / 100) end),
	  (.rtt_p50_ns // ""), (.rtt_p99_ns // ""), (.rtt_p999_ns // ""),
	  (.rtt_max_ns // ""), (.max_gap_ns // "")] | @csv)
' "$ROWS" | tr -d '"' >"$CSV"

# ---- table ----------------------------------------------------------------
echo
echo "ring-bench results: $MACHINE, $DATE (${ELAPSED} s)"
echo "msg/s = messages per second into each reader (median of $REPS);"
echo "x pipe = msg/s over pipe's in the same configuration (RTT: pipe p50 / p50)"
awk -F, 'NR > 1 {
	sec = $1; name = $2 ($3 != "-" ? "/" $3 : "");
	if (sec != last) {
		printf "\n[%s]\n", sec
		if (sec == "rtt")
			printf "%-16s %6s %10s %10s %10s %10s %9s\n", "transport",
			       "size", "p50 ns", "p99 ns", "p99.9 ns", "max ns", "x pipe"
		else
			printf "%-16s %6s %3s %3s %6s %5s %14s %9s\n", "transport",
			       "size", "P", "G", "cap", "batch", "msg/s", "x pipe"
		last = sec
	}
	if (sec == "rtt")
		printf "%-16s %6d %10d %10d %10d %10d %9s\n", name, $4, $15,
		       $16, $17, $18, $14
	else {
		cap = $7;
		if (cap == "-") cap = cap;
		else if (cap >= 1073741824) cap = cap / 1073741824 "G";
		else if (cap >= 1048576) cap = cap / 1048576 "M";
		else cap = cap / 1024 "K";
		if ($9 == "false") cap = cap "*";
		printf "%-16s %6d %3d %3d %6s %5d %14.0f %9s\n", name, $4, $5,
		       $6, cap, $8, $12, $14
	}
}' "$CSV"
echo
echo "(* = ring not pre-faulted: RING_BENCH_NO_PREFAULT=1)"
echo "wrote $CSV"

if [ -s "$TMP/failed" ]; then
	echo
	echo "FAILED configurations:"
	cat "$TMP/failed"
	echo "errors:"
	sort -u "$TMP/errors" | head -n 20
fi

# ---- plots ----------------------------------------------------------------
if command -v gnuplot >/dev/null; then
	bench/plot.sh "$CSV" "$MACHINE" "$DATE" && echo "wrote bench/throughput.svg bench/latency.svg"
else
	echo "gnuplot missing (apt-get install gnuplot-nox): no plots"
fi
[ ! -s "$TMP/failed" ]

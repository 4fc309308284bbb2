#!/bin/bash
# bench_smoke.t - ring-bench runs on every transport with a tiny message
# count and prints the JSON line later tooling reads. No timing thresholds:
# only that the run succeeds, the keys are there and the rate is positive.
# The rte_ring transports are skipped when ring-bench was built without
# DPDK. A shared group (--members) must report every message received
# exactly once, the members' counts adding up to the messages sent. Then
# ring-ceiling and one tiny round of bench/compare.sh (`make
# bench-compare`), skipped for sanitizer builds (compare.sh refuses them).
. "$(dirname "$0")/lib/tap.sh"
BENCH=$BIN/ring-bench
KEYS="transport size producers groups capacity wait messages seconds msgs_per_sec bytes_per_sec"
RTT_KEYS="rtt_p50_ns rtt_p99_ns rtt_p999_ns rtt_max_ns"
export RING_BENCH_TIMEOUT=60

if [ ! -x "$BENCH" ]; then
	echo "1..0 # SKIP $BENCH not built"
	exit 0
fi
TRANSPORTS="ring pipe unix seqpacket mq"
"$BENCH" --help | grep -q 'zmq' && TRANSPORTS="$TRANSPORTS zmq"
RTE="rte rte-burst"
HAVE_RTE=0
"$BENCH" --help | grep -q '^  rte-burst ' && HAVE_RTE=1
# ring-ceiling: next to bin/ in the build directory ($BIN is bin or
# build/san-*/bin), unless RING_CEILING_BIN says where.
CEIL=${RING_CEILING_BIN:-}
if [ -z "$CEIL" ]; then
	case $BIN in
	bin | ./bin) CEIL=build/default/bench-ceiling/ring-ceiling ;;
	*) CEIL=$(dirname "$BIN")/bench-ceiling/ring-ceiling ;;
	esac
fi
SANITIZED=0
grep -q -a -e __asan_init -e __tsan_init -e __ubsan_handle "$BENCH" && SANITIZED=1

# Each transport: throughput, 2p -> 2 groups, round trip; the rte ones
# (skipped without DPDK) also with 2 producers, one-element round trip;
# 7 CLI checks; --members (3); ring-ceiling (2); compare.sh (4).
set -- $TRANSPORTS $RTE
plan $(($# * 3 + 2 + 7 + 3 + 2 + 4))

# skip COUNT REASON: COUNT results skipped.
skip() {
	local i
	for ((i = 0; i < $1; i++)); do
		n=$((n + 1))
		echo "ok $n # skip $2"
	done
}

# check_json NAME LINE KEYS... : the line is one JSON object with every key,
# the right transport, and a positive msgs_per_sec.
check_json() {
	local name=$1 line=$2 key rate; shift 2
	case $line in
	'{'*'}') ;;
	*) ok 1 "$name: last line is not a JSON object: '$line'"; return ;;
	esac
	for key in "$@"; do
		if ! echo "$line" | grep -q "\"$key\":"; then
			ok 1 "$name: key $key missing in $line"
			return
		fi
	done
	if ! echo "$line" | grep -q "\"transport\":\"$t\""; then
		ok 1 "$name: wrong transport in $line"
		return
	fi
	rate=$(echo "$line" | sed -n 's/.*"msgs_per_sec":\([0-9.e+]*\).*/\1/p')
	if awk -v r="$rate" 'BEGIN { exit !(r + 0 > 0) }'; then
		ok 0 "$name: msgs_per_sec $rate"
	else
		ok 1 "$name: msgs_per_sec '$rate' not positive"
	fi
}

# run NAME ARGS... : run ring-bench; print its last stdout line.
run() {
	timeout 120 "$BENCH" --json "$@" 2>"$ERR" | tail -n 1
}
tap_tmpdir bench_smoke /tmp
ERR=$TMP/err

for t in $TRANSPORTS; do
	line=$(run --transport "$t" --messages 2000 --size 64)
	[ -s "$ERR" ] && sed 's/^/# /' "$ERR"
	check_json "$t 1p->1r" "$line" $KEYS
	line=$(run --transport "$t" --messages 3000 --size 100 --producers 2 \
		--groups 2 --batch 4 --capacity 64K --wait block)
	[ -s "$ERR" ] && sed 's/^/# /' "$ERR"
	check_json "$t 2p->2 groups, batch 4, block" "$line" $KEYS
	line=$(run --transport "$t" --messages 500 --rtt)
	[ -s "$ERR" ] && sed 's/^/# /' "$ERR"
	check_json "$t rtt" "$line" $KEYS $RTT_KEYS
done

if [ $HAVE_RTE = 1 ]; then
	for t in $RTE; do
		line=$(run --transport "$t" --messages 2000 --size 64)
		[ -s "$ERR" ] && sed 's/^/# /' "$ERR"
		check_json "$t 1p->1r" "$line" $KEYS
		line=$(run --transport "$t" --messages 3000 --size 100 --producers 2 \
			--groups 2 --batch 4 --capacity 64K --wait block)
		[ -s "$ERR" ] && sed 's/^/# /' "$ERR"
		check_json "$t 2p->2 groups, batch 4, block" "$line" $KEYS
		line=$(run --transport "$t" --messages 500 --rtt)
		[ -s "$ERR" ] && sed 's/^/# /' "$ERR"
		check_json "$t rtt" "$line" $KEYS $RTT_KEYS
	done
	t=rte
	line=$(run --transport rte --messages 20000 --producers 2 --capacity 4K)
	[ -s "$ERR" ] && sed 's/^/# /' "$ERR"
	check_json "rte 2p (multi-producer enqueue), small ring" "$line" $KEYS
	t=rte-burst
	line=$(run --transport rte-burst --messages 2000)
	if echo "$line" | grep -q '"batch":32,'; then
		ok 0 "rte-burst: bursts of 32 without --batch"
	else
		ok 1 "rte-burst: bursts of 32 without --batch" "$line"
	fi
else
	skip $((2 * 3 + 2)) "ring-bench built without DPDK (libdpdk-dev)"
fi

"$BENCH" --help | grep -q -- '--transport NAME'
ok $? "--help shows the usage"
"$BENCH" --transport nosuch >/dev/null 2>&1
ok $(( $? != 2 )) "unknown transport: exit 2"
"$BENCH" --transport pipe --size 4 >/dev/null 2>&1
ok $(( $? != 2 )) "--size below 8: exit 2"
"$BENCH" --transport ring --rtt --producers 2 >/dev/null 2>&1
ok $(( $? != 2 )) "--rtt with 2 producers: exit 2"

# --cpus: a CPU this process may run on (the first), and one it may not.
FIRST_CPU=$(awk '/^Cpus_allowed_list:/ { split($2, a, "[-,]"); print a[1] }' \
	/proc/self/status)
out=$("$BENCH" --transport ring --cpus "$FIRST_CPU" 2>&1)
[ $? = 2 ] && echo "$out" | grep -q 'is not READERS/PRODUCERS'
ok $? "--cpus without '/': exit 2 with the reason" "$out"
out=$(taskset -c "$FIRST_CPU" "$BENCH" --transport ring \
	--cpus "$FIRST_CPU/$((FIRST_CPU + 1))" 2>&1)
[ $? = 2 ] && echo "$out" | grep -q "CPU $((FIRST_CPU + 1)) is not one"
ok $? "--cpus with a CPU the process may not use: exit 2 with the reason" \
	"$out"
t=ring
line=$(run --transport ring --messages 2000 --cpus "$FIRST_CPU/$FIRST_CPU")
[ -s "$ERR" ] && sed 's/^/# /' "$ERR"
check_json "ring --cpus $FIRST_CPU/$FIRST_CPU" "$line" $KEYS

# --members: the JSON line says exactly_once and the members' counts add up
# to the timed messages; the text report says so too.
t=ring
line=$(run --transport ring --members 2 --messages 3000 --size 64)
[ -s "$ERR" ] && sed 's/^/# /' "$ERR"
sum=$(echo "$line" | sed -n 's/.*"member_messages":\[\([0-9,]*\)\].*/\1/p' |
	tr , '\n' | awk '{ s += $1 } END { print s + 0 }')
if echo "$line" | grep -q '"members":2,' &&
   echo "$line" | grep -q '"exactly_once":true' && [ "$sum" = 3000 ]; then
	ok 0 "ring --members 2: every message received once ($sum)"
else
	ok 1 "ring --members 2: every message received once" "$line"
fi
out=$(timeout 120 "$BENCH" --transport ring --members 3 --messages 5000 \
	--size 100 --producers 2 --batch 4 --capacity 64K --wait block 2>&1)
got=$(echo "$out" | sed -n 's/^members received \(.*\) = 5000 timed messages: every message received exactly once$/\1/p' |
	tr -d ' ' | tr + '\n' | awk 'NF { s += $1; n++ } END { print n "/" s + 0 }')
is "$got" "3/5000" "ring --members 3, 2 producers, block: 3 counts adding up to 5000"
"$BENCH" --transport pipe --members 2 >/dev/null 2>&1
ok $(( $? != 2 )) "--members with a transport without shared groups: exit 2"

if [ -x "$CEIL" ]; then
	out=$(timeout 120 "$CEIL" -n 200000 -p 1000 2>&1)
	if echo "$out" | grep -q '^rtt: p50 [0-9]* ns, p99 [0-9]* ns, \(near\|far\)' &&
	   echo "$out" | grep -q '^ceiling-a: *[0-9.]* M msg/s' &&
	   echo "$out" | grep -q '^ceiling-b: *[0-9.]* M msg/s' &&
	   echo "$out" | grep -q '^ceiling-c: *[0-9.]* M msg/s' &&
	   echo "$out" | grep -q '^ceiling-l: *[0-9.]* M msg/s' &&
	   echo "$out" | grep -q '^ceiling-m: *[0-9.]* M msg/s'; then
		ok 0 "ring-ceiling: rtt, ceiling-a, -b, -c, -l, -m"
	else
		ok 1 "ring-ceiling: rtt, ceiling-a, -b, -c, -l, -m" "$out"
	fi
	# cpus: one figure for each CPU the process may use, here just one
	out=$(taskset -c "$FIRST_CPU" "$CEIL" cpus 2>&1)
	echo "$out" | grep -q "^cpus: $FIRST_CPU [0-9.]* ns (per step"
	ok $? "ring-ceiling cpus under taskset: the one CPU it may use" "$out"
else
	skip 2 "$CEIL not built"
fi

if [ -x "$CEIL" ] && [ $SANITIZED = 0 ]; then
	csv=$TMP/compare.csv
	out=$(ROUNDS=1 RUN_SECONDS=0.01 PINGS=500 SYSCALLS=0 COMPARE_CSV=$csv \
	      RING_BENCH_BIN=$BENCH RING_CEILING_BIN=$CEIL \
	      timeout 300 bench/compare.sh 2>&1)
	ok $? "compare.sh: one round" "$out"
	echo "$out" | grep -q '^libring single / rte-burst' &&
		echo "$out" | grep -q '^A1 '
	ok $? "compare.sh: the round and the medians printed" "$out"
	cols=$(awk -F, 'NR == 1 { h = NF } NF != h { bad = 1 } END {
		print (NR == 3 && !bad) ? "ok" : "bad" }' "$csv" 2>/dev/null)
	is "$cols" ok "compare.csv: header, one round, the median row"
	# the round ran on two named CPUs, with their speed ratio, or on
	# whatever the scheduler chose where only one CPU is usable
	cpus=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i }
		NR == 2 { print $(c["cpus"]) "," $(c["cpu_p_r"]) }' "$csv")
	if [ "$(nproc)" -ge 2 ]; then
		echo "$cpus" | grep -q '^[0-9]*/[0-9]*,[0-9.]*[0-9]$'
	else
		[ "$cpus" = , ]
	fi
	ok $? "compare.csv: the round's CPUs and their speed ratio ($cpus)"
else
	skip 4 "compare.sh needs ring-ceiling and a build without sanitizers"
fi
finish

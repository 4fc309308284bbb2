#!/bin/bash
# bench_smoke.t - ring-bench runs on every transport with a tiny message
# count and prints the JSON line later tooling reads. No timing thresholds:
# only that the run succeeds, the keys are there and the rate is positive.
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

# Each transport: throughput, 2p -> 2 groups, round trip; plus 4 CLI checks.
set -- $TRANSPORTS
plan $(($# * 3 + 4))

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

"$BENCH" --help | grep -q -- '--transport NAME'
ok $? "--help shows the usage"
"$BENCH" --transport nosuch >/dev/null 2>&1
ok $(( $? != 2 )) "unknown transport: exit 2"
"$BENCH" --transport pipe --size 4 >/dev/null 2>&1
ok $(( $? != 2 )) "--size below 8: exit 2"
"$BENCH" --transport ring --rtt --producers 2 >/dev/null 2>&1
ok $(( $? != 2 )) "--rtt with 2 producers: exit 2"
finish

#!/bin/bash
# bench_smoke.t - ring-bench runs on every transport with a tiny message
# count and prints the JSON line later tooling reads. No timing thresholds:
# only that the run succeeds, the keys are there and the rate is positive.
BIN=${RING_BIN:-bin}/ring-bench
KEYS="transport size producers groups capacity wait messages seconds msgs_per_sec bytes_per_sec"
RTT_KEYS="rtt_p50_ns rtt_p99_ns rtt_p999_ns rtt_max_ns"
export RING_BENCH_TIMEOUT=60

if [ ! -x "$BIN" ]; then
	echo "1..0 # SKIP $BIN not built"
	exit 0
fi
TRANSPORTS="ring pipe unix seqpacket mq"
"$BIN" --help | grep -q 'zmq' && TRANSPORTS="$TRANSPORTS zmq"

# Each transport: throughput, 2p -> 2 groups, round trip; plus 4 CLI checks.
set -- $TRANSPORTS
echo "1..$(($# * 3 + 4))"
n=0

ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; }

# check_json NAME LINE KEYS... : the line is one JSON object with every key,
# the right transport, and a positive msgs_per_sec.
check_json() {
	local name=$1 line=$2 key rate; shift 2
	case $line in
	'{'*'}') ;;
	*) not_ok "$name: last line is not a JSON object: '$line'"; return ;;
	esac
	for key in "$@"; do
		if ! echo "$line" | grep -q "\"$key\":"; then
			not_ok "$name: key $key missing in $line"
			return
		fi
	done
	if ! echo "$line" | grep -q "\"transport\":\"$t\""; then
		not_ok "$name: wrong transport in $line"
		return
	fi
	rate=$(echo "$line" | sed -n 's/.*"msgs_per_sec":\([0-9.e+]*\).*/\1/p')
	if awk -v r="$rate" 'BEGIN { exit !(r + 0 > 0) }'; then
		ok "$name: msgs_per_sec $rate"
	else
		not_ok "$name: msgs_per_sec '$rate' not positive"
	fi
}

# run NAME ARGS... : run ring-bench; print its last stdout line.
run() {
	timeout 120 "$BIN" --json "$@" 2>"$ERR" | tail -n 1
}
ERR=$(mktemp /tmp/bench_smoke.$$.XXXXXX)
trap 'rm -f "$ERR"' EXIT

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

"$BIN" --help | grep -q -- '--transport NAME' &&
	ok "--help shows the usage" || not_ok "--help shows the usage"
"$BIN" --transport nosuch >/dev/null 2>&1
[ $? -eq 2 ] && ok "unknown transport: exit 2" || not_ok "unknown transport: exit 2"
"$BIN" --transport pipe --size 4 >/dev/null 2>&1
[ $? -eq 2 ] && ok "--size below 8: exit 2" || not_ok "--size below 8: exit 2"
"$BIN" --transport ring --rtt --producers 2 >/dev/null 2>&1
[ $? -eq 2 ] && ok "--rtt with 2 producers: exit 2" ||
	not_ok "--rtt with 2 producers: exit 2"

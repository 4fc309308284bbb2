#!/bin/bash
# nats-cost.sh - CPU per message on both sides of a JetStream publish, one
# local server: for each way of publishing, the rate, the publisher's CPU
# (user + system, all threads) and the server's, per message. Rounds run
# the ways one after the other, so that each round compares them on the
# same machine state.
#
#   bench/nats-cost.sh       (make bench-nats-cost)
#   N=MESSAGES ROUNDS=R bench/nats-cost.sh
#
# The ways: bin/nats-pub bare (js_PublishAsync), --core (core publishes,
# no headers), --core --msg-id (one Nats-Msg-Id header: what exactly-once
# needs), --msg-id --ack-handler (cnats' JetStream layer with ids), and
# ring-ship --nats on a ring prefilled with N 100-byte lines (timed from
# the stream's creation until it has released all of them; its CPU and the
# server's from its start).
set -u
cd "$(dirname "$0")/.."
. bench/nats-lib.sh
BIN=${RING_BIN:-bin}
N=${N:-200000}
ROUNDS=${ROUNDS:-3}
command -v nats-server >/dev/null || { echo "nats-cost.sh: needs nats-server"; exit 1; }
[ -x "$BIN/nats-pub" ] || { echo "nats-cost.sh: needs $BIN/nats-pub (libnats-dev)"; exit 1; }

TMP=$(mktemp -d /tmp/bench-nats-cost.XXXXXX)
RING=bench-nats-cost-$$
SRV=
cleanup() {
	[ -n "$SRV" ] && kill -9 "$SRV" 2>/dev/null
	wait 2>/dev/null
	"$BIN/ringctl" rm "$RING" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
nats-server -js -sd "$TMP/store" -p "$PORT" -a 127.0.0.1 > "$TMP/server.log" 2>&1 &
SRV=$!
for i in $(seq 1 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
	sleep 0.05
done
URL=nats://127.0.0.1:$PORT
nats_lines "$TMP/lines"

# CPU ticks (user + system) of process $1, all its threads.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
per_msg() { python3 -c "print('%.2f' % ($1 * 1e6 / $HZ / $N))"; }

# publisher MODE...: "rate client server" of one nats-pub run.
publisher() {
	local s0 s1 t k=$RANDOM
	s0=$(ticks "$SRV")
	t=$( { TIMEFORMAT='%U %S'; time "$BIN/nats-pub" "$URL" "cost$k" "$N" \
		100 4096 --stream "COST$k" "$@" > "$TMP/pub.out" 2>&1; } 2>&1 )
	s1=$(ticks "$SRV")
	echo "$(sed -n 's/.*: \([0-9]*\) msg\/s$/\1/p' "$TMP/pub.out")" \
		"$(python3 -c "print('%.2f' % (sum(map(float, '$t'.split())) * 1e6 / $N))")" \
		"$(per_msg $((s1 - s0)))"
}

# shipper: "rate client server" of ring-ship on a prefilled ring.
shipper() {
	local s0 s1 t0 t1 pid c k=$RANDOM
	"$BIN/ringctl" rm "$RING" 2>/dev/null
	"$BIN/ringctl" create "$RING" --capacity 64M --group ship
	"$BIN/ring-send" "$RING" -q < "$TMP/lines"
	s0=$(ticks "$SRV")
	"$BIN/ring-ship" "$RING" --group ship --nats "$URL" \
		--subject "ship$k" --stream "SHIP$k" 2> "$TMP/ship.err" &
	pid=$!
	# As nats-pub's: the clock starts once the stream is there.
	wait_stream_made "$TMP/ship.err"
	t0=$(date +%s.%N)
	until_released "$RING" "$N" $pid
	t1=$(date +%s.%N)
	c=$(ticks $pid)
	s1=$(ticks "$SRV")
	kill -TERM $pid
	wait $pid
	echo "$(python3 -c "print('%.0f' % ($N / ($t1 - $t0)))") $(per_msg "$c") $(per_msg $((s1 - s0)))"
}

echo "bench/nats-cost.sh: $N messages of 100 bytes, $ROUNDS rounds, one server"
printf '%-6s %-34s %9s %10s %10s\n' round publisher msg/s "client us" "server us"
for ((r = 1; r <= ROUNDS; r++)); do
	for mode in "" "--core" "--core --msg-id" "--msg-id --ack-handler"; do
		# shellcheck disable=SC2086
		read -r rate c s < <(publisher $mode)
		printf '%-6s %-34s %9s %10s %10s\n' "$r" "nats-pub ${mode:-(bare)}" \
			"$rate" "$c" "$s"
	done
	read -r rate c s < <(shipper)
	printf '%-6s %-34s %9s %10s %10s\n' "$r" "ring-ship --nats" "$rate" "$c" "$s"
done

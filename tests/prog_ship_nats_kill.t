#!/bin/bash
# prog_ship_nats_kill.t - ring-ship --nats SIGKILLed 30 times at random
# moments while three producers keep a small ring full, and restarted each
# time: the stream holds every line exactly once, in order per sender. A
# killed shipper leaves what JetStream had not acknowledged in the ring;
# the next one publishes it again under the same Nats-Msg-Id and the server
# drops the copies it already has (reported as duplicates).
# Skips without nats-server or a ring-ship built with libnats-dev.
# Runs from the repository root.

. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/nats.sh"
nats_skip_unless_ready
KILLS=30
LINES=100000 # per sender
plan 6

tap_tmpdir prog_ship_nats_kill
TAP_GROUP=ship

PORT=$(free_port)
MPORT=$(free_port)
URL=nats://127.0.0.1:$PORT
nats_start s1 "$PORT" "$MPORT"
ok $? "nats-server is up"

# A small ring: the producers wait for ring-ship all along.
R=$(new_ring kill --capacity 64K)
senders=()
for s in a b c; do
	seq -f "$s %.0f" 1 $LINES | timeout 170 "$BIN/ring-send" "$R" -q &
	senders+=($!)
done
PIDS+=("${senders[@]}")

start_ship() {
	"$BIN/ring-ship" "$R" --group ship --nats "$URL" --subject t.kill \
		--stream KILL "$@" 2>> "$TMP/ship.err" &
	ship=$!
}

killed=0
for ((k = 0; k < KILLS; k++)); do
	start_ship
	# A random moment within its first 300 ms: connecting, finding the
	# stream, publishing, waiting for acknowledgments, releasing.
	sleep "0.$(printf '%03d' $((RANDOM % 300)))"
	kill -9 $ship 2>/dev/null && killed=$((killed + 1))
	wait $ship 2>/dev/null
done
ok $(( killed < KILLS * 9 / 10 )) "ring-ship was killed $killed times (of $KILLS tries)"
echo "# messages in the stream after the kills: $(stream_msgs "$MPORT" KILL) of $((3 * LINES))"

start_ship --json > "$TMP/last.json"
PIDS+=($ship)
status=0
for p in "${senders[@]}"; do wait "$p" || status=1; done
ok $status "the three producers finished"
wait_stream "$MPORT" KILL $((3 * LINES)) 60
ok $? "the stream reached $((3 * LINES)) messages" "stream: $(stream_msgs "$MPORT" KILL)"
kill -TERM $ship
wait $ship
ok $? "the last ring-ship exits 0"
is "$(check_stream "$URL" KILL $LINES order)" fine \
	"every line exactly once, in order per sender"
sed -n 's/.*"duplicates":\([0-9]*\).*/# duplicates the server dropped for the last shipper: \1/p' "$TMP/last.json"

finish

#!/bin/bash
# prog_ship_nats_restart.t - the JetStream server stopped and started again
# (same port, same store) while ring-ship --nats ships the lines of three
# producers: ring-ship reconnects with back-off, publishes again what had
# no acknowledgment, and the stream holds every line exactly once.
# Skips without nats-server or a ring-ship built with libnats-dev.
# Runs from the repository root.

. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/nats.sh"
nats_skip_unless_ready
LINES=30000 # per sender
plan 7

tap_tmpdir prog_ship_nats_restart
TAP_GROUP=ship

PORT=$(free_port)
MPORT=$(free_port)
URL=nats://127.0.0.1:$PORT
nats_start s1 "$PORT" "$MPORT"
ok $? "nats-server is up"

R=$(new_ring restart --capacity 64K)
"$BIN/ring-ship" "$R" --group ship --nats "$URL" --subject t.restart \
	--stream RESTART --ack-timeout 1000 --json > "$TMP/ship.json" \
	2> "$TMP/ship.err" &
ship=$!
PIDS+=($ship)
senders=()
for s in a b c; do
	seq -f "$s %.0f" 1 $LINES | timeout 170 "$BIN/ring-send" "$R" -q &
	senders+=($!)
done
PIDS+=("${senders[@]}")

wait_stream "$MPORT" RESTART $((LINES / 2)) 60
ok $? "shipping is under way" "stream: $(stream_msgs "$MPORT" RESTART)"
nats_stop s1
down=1
for i in $(seq 1 200); do
	grep -q "disconnected; reconnecting" "$TMP/ship.err" && { down=0; break; }
	sleep 0.05
done
ok $down "ring-ship noticed the server going away" "$(cat "$TMP/ship.err")"
nats_start s1 "$PORT" "$MPORT"
ok $? "the server is back (same store)"

status=0
for p in "${senders[@]}"; do wait "$p" || status=1; done
ok $status "the three producers finished"
wait_stream "$MPORT" RESTART $((3 * LINES)) 90
ok $? "the stream reached $((3 * LINES)) messages" "stream: $(stream_msgs "$MPORT" RESTART)"
kill -TERM $ship
wait $ship
is "$(check_stream "$URL" RESTART $LINES any)" fine \
	"no line lost, none doubled across the restart"
grep -v '^ring-ship: nats: created' "$TMP/ship.err" | sed 's/^/# /'

finish

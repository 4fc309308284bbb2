#!/bin/bash
# prog_ship_nats_cluster.t - a three-node JetStream cluster on loopback
# ports, a stream with 3 replicas created by ring-ship --nats (given all
# three URLs); the node ring-ship is connected to is SIGKILLed mid-run:
# ring-ship reconnects to another, publishes again what had no
# acknowledgment, and the stream holds every line exactly once.
# Skips without nats-server or a ring-ship built with libnats-dev.
# Runs from the repository root.

. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/nats.sh"
nats_skip_unless_ready
LINES=20000 # per sender
plan 7

tap_tmpdir prog_ship_nats_cluster
TAP_GROUP=ship

P1=$(free_port_block)
P2=$(free_port_block)
P3=$(free_port_block)
nats_cluster_start "$P1" "$P2" "$P3"
ok $? "three clustered nats-servers are up"
URLS=nats://127.0.0.1:$P1,nats://127.0.0.1:$P2,nats://127.0.0.1:$P3
M2=$((P2 + 1))

R=$(new_ring cluster --capacity 64K)
"$BIN/ring-ship" "$R" --group ship --nats "$URLS" --subject t.cluster \
	--stream CLUSTER --replicas 3 --ack-timeout 1000 --json \
	> "$TMP/ship.json" 2> "$TMP/ship.err" &
ship=$!
PIDS+=($ship)
senders=()
for s in a b c; do
	seq -f "$s %.0f" 1 $LINES | timeout 170 "$BIN/ring-send" "$R" -q &
	senders+=($!)
done
PIDS+=("${senders[@]}")

wait_stream "$M2" CLUSTER $((LINES / 2)) 90
ok $? "shipping into the 3-replica stream is under way" "$(cat "$TMP/ship.err")"
grep -q "created stream CLUSTER (subject t.cluster, file storage, 3 replicas)" "$TMP/ship.err"
ok $? "ring-ship created the stream with 3 replicas" "$(cat "$TMP/ship.err")"
# ring-ship takes the servers in the order given: it is on n1.
nats_stop n1 KILL

status=0
for p in "${senders[@]}"; do wait "$p" || status=1; done
ok $status "the three producers finished"
wait_stream "$M2" CLUSTER $((3 * LINES)) 90
ok $? "the stream reached $((3 * LINES)) messages on the surviving nodes" \
	"stream: $(stream_msgs "$M2" CLUSTER); $(cat "$TMP/ship.err")"
grep -q "reconnected to" "$TMP/ship.err"
ok $? "ring-ship reconnected to another node" "$(cat "$TMP/ship.err")"
kill -TERM $ship
wait $ship
is "$(check_stream "nats://127.0.0.1:$P2" CLUSTER $LINES any)" fine \
	"no line lost, none doubled with a node killed"
grep -v '^ring-ship: nats: created' "$TMP/ship.err" | sed 's/^/# /'

finish

#!/bin/bash
# prog_ship_nats.t - ring-ship --nats into a real JetStream server on
# 127.0.0.1: 1,000,002 lines from three ring-send processes end up in the
# stream exactly once each, in order per sender; a restarted shipper sends
# nothing again; a group reset ships the same messages again and the server
# drops every one as a duplicate (Nats-Msg-Id); bad input: unreachable
# servers, wrong credentials, no stream for the subject, a stream that does
# not take the subject, messages over the server's max payload (counted,
# the group not wedged), secrets never echoed; SIGUSR1 prints the counters;
# answers overdue (the server stopped) publish again, stored once.
# Skips (TAP skip) without nats-server or a ring-ship built with libnats-dev.
# Runs from the repository root.

. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/nats.sh"
nats_skip_unless_ready
TAP_TIMEOUT=30
LINES=333334 # per sender: 1,000,002 in all
plan 31

tap_tmpdir prog_ship_nats
TAP_GROUP=ship

PORT=$(free_port)
MPORT=$(free_port)
URL=nats://127.0.0.1:$PORT
# A small max payload, so that the too-large case needs no huge message.
cat > "$TMP/s1.conf" <<CONF
max_payload: 65536
CONF
nats_start s1 "$PORT" "$MPORT" -c "$TMP/s1.conf"
ok $? "nats-server with JetStream is up on port $PORT"

# lag RING: messages group ship has not released.
lag() {
	"$BIN/ringctl" stat "$1" --json | python3 -c \
		'import json,sys; s=json.load(sys.stdin); print([g["lag_messages"] for g in s["groups"] if g["name"]=="ship"][0])'
}

# json_field FILE KEY: KEY of the last JSON line in FILE.
json_field() {
	tail -n 1 "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2"
}

# --- 1 M lines, three senders ----------------------------------------------
R=$(new_ring million --capacity 16M)
"$BIN/ring-ship" "$R" --group ship --nats "$URL" --subject t.lines \
	--stream LINES --json > "$TMP/ship.json" 2> "$TMP/ship.err" &
ship=$!
PIDS+=($ship)
senders=()
for s in a b c; do
	seq -f "$s %.0f" 1 $LINES | timeout 300 "$BIN/ring-send" "$R" -q &
	senders+=($!)
done
status=0
for p in "${senders[@]}"; do wait "$p" || status=1; done
is $status 0 "three ring-send processes sent $((3 * LINES)) lines"
wait_stream "$MPORT" LINES $((3 * LINES)) 150
ok $? "the stream holds $((3 * LINES)) messages" "stream: $(stream_msgs "$MPORT" LINES)"
for i in $(seq 1 100); do [ "$(lag "$R")" = 0 ] && break; sleep 0.05; done
is "$(lag "$R")" 0 "ring-ship released everything once acknowledged"
kill -TERM $ship
wait $ship
is $? 0 "ring-ship exits 0 on SIGTERM"
grep -Eq "^ring-ship: stopped: shipped $((3 * LINES)) messages \([0-9]+ bytes\) to stream LINES, acked $((3 * LINES)), duplicates 0, too large 0, rejected 0, resent [0-9]+, reconnects 0$" "$TMP/ship.err"
ok $? "one summary line: shipped, acked, duplicates" "$(cat "$TMP/ship.err")"
is "$(json_field "$TMP/ship.json" acked):$(json_field "$TMP/ship.json" released)" \
	"$((3 * LINES)):$((3 * LINES))" "--json: the counters on standard output"
is "$(check_stream "$URL" LINES $LINES order)" fine \
	"every line exactly once, in order per sender, every Nats-Msg-Id once"
is "$(stream_msgs "$MPORT" LINES)" $((3 * LINES)) "nothing more arrived meanwhile"

# --- restart, group reset: duplicates dropped by the server ----------------
D=$(new_ring dups --capacity 1M)
seq -f "d %.0f" 1 500 | t "$BIN/ring-send" "$D" -q
"$BIN/ring-ship" "$D" --group ship --nats "$URL" --subject t.dups \
	--stream DUPS 2> "$TMP/d1.err" &
ship=$!
PIDS+=($ship)
wait_stream "$MPORT" DUPS 500 20
for i in $(seq 1 100); do [ "$(lag "$D")" = 0 ] && break; sleep 0.05; done
kill -TERM $ship
wait $ship
is "$(stream_msgs "$MPORT" DUPS)" 500 "500 lines shipped"
"$BIN/ring-ship" "$D" --group ship --nats "$URL" --subject t.dups \
	--json > "$TMP/d2.json" 2> "$TMP/d2.err" &
ship=$!
PIDS+=($ship)
sleep 0.5 # a restarted shipper with nothing new: let it look for a while
kill -TERM $ship
wait $ship
is "$(json_field "$TMP/d2.json" shipped)" 0 \
	"a restarted ring-ship ships nothing again (the stream found by subject)"
"$BIN/ringctl" group "$D" reset ship --from oldest
"$BIN/ring-ship" "$D" --group ship --nats "$URL" --subject t.dups \
	--json > "$TMP/d3.json" 2> "$TMP/d3.err" &
ship=$!
PIDS+=($ship)
for i in $(seq 1 200); do [ "$(lag "$D")" = 0 ] && break; sleep 0.05; done
kill -TERM $ship
wait $ship
is "$(json_field "$TMP/d3.json" shipped):$(json_field "$TMP/d3.json" duplicates)" \
	"500:500" "after a group reset all 500 go out again and the server calls each a duplicate"
is "$(stream_msgs "$MPORT" DUPS)" 500 "the stream still holds 500 messages"

# --- too large for the server ----------------------------------------------
B=$(new_ring big --capacity 1M --max-message 200K)
"$BIN/ring-ship" "$B" --group ship --nats "$URL" --subject t.big \
	--stream BIG --json > "$TMP/b.json" 2> "$TMP/b.err" &
ship=$!
PIDS+=($ship)
t "$BIN/ring-send" "$B" -q -m "small 1"
python3 -c 'print("x" * 100000)' | t "$BIN/ring-send" "$B" -q
t "$BIN/ring-send" "$B" -q -m "small 2"
wait_stream "$MPORT" BIG 2 20
ok $? "the messages around a too large one are shipped"
for i in $(seq 1 100); do [ "$(lag "$B")" = 0 ] && break; sleep 0.05; done
is "$(lag "$B")" 0 "a message over the max payload does not wedge the group"
kill -USR1 $ship
for i in $(seq 1 200); do grep -q '"state":"counters"' "$TMP/b.json" && break; sleep 0.05; done
grep -q '"too_large":1,.*"state":"counters"' "$TMP/b.json"
ok $? "SIGUSR1 prints the counters (here as JSON)" "$(cat "$TMP/b.json")"
kill -TERM $ship
wait $ship
is "$(json_field "$TMP/b.json" too_large)" 1 "it is counted as too large"
grep -q "not shipped: 100000 bytes, more than the server's max payload (65536)" "$TMP/b.err"
ok $? "and reported once" "$(cat "$TMP/b.err")"

# --- answers overdue ----------------------------------------------------------
# The server stopped (SIGSTOP) while 3,000 lines go out: no answer comes
# within --ack-timeout (200 ms), so each is published again with its id;
# once the server runs again it stores the first copy and calls the second
# a duplicate. The stream holds each line once.
O=$(new_ring overdue --capacity 1M)
"$BIN/ring-ship" "$O" --group ship --nats "$URL" --subject t.overdue \
	--stream OVERDUE --ack-timeout 200 --json > "$TMP/o.json" 2> "$TMP/o.err" &
ship=$!
PIDS+=($ship)
for i in $(seq 1 200); do grep -q "created stream" "$TMP/o.err" && break; sleep 0.05; done
kill -STOP "$NATS_PID_s1"
for s in a b c; do seq -f "$s %.0f" 1 1000 | t "$BIN/ring-send" "$O" -q; done
sleep 1 # five times --ack-timeout with no answer: the condition under test
kill -CONT "$NATS_PID_s1"
wait_stream "$MPORT" OVERDUE 3000 30
# Every copy published again gets its answer (a duplicate) in the end:
# look at the counters (SIGUSR1) until they say so.
dups=-1 resent=0
for i in $(seq 1 100); do
	kill -USR1 $ship
	sleep 0.1
	resent=$(json_field "$TMP/o.json" resent)
	dups=$(json_field "$TMP/o.json" duplicates)
	[ "$resent" -ge 3000 ] && [ "$dups" = "$resent" ] && break
done
kill -TERM $ship
wait $ship
is "$(json_field "$TMP/o.json" acked):$(json_field "$TMP/o.json" released)" \
	3000:3000 "answers overdue: all 3000 acknowledged and released" "$(cat "$TMP/o.err")"
ok $(( ! (resent >= 3000 && dups == resent) )) \
	"each was published again after --ack-timeout, each copy answered as a duplicate" \
	"resent $resent, duplicates $dups"
is "$(check_stream "$URL" OVERDUE 1000 order)" fine \
	"and the stream holds each line once, in order per sender"

# --- errors ------------------------------------------------------------------
E=$(new_ring errors --capacity 64K)
DEAD=$(free_port)
t "$BIN/ring-ship" "$E" --group ship --subject t.x --connect-timeout 300 \
	--nats "nats://someone:sekrit@127.0.0.1:$DEAD,nats://127.0.0.1:$DEAD" 2> "$TMP/err"
is "$?:$(wc -l < "$TMP/err")" "1:1" "unreachable servers with --connect-timeout: status 1, one line"
grep -q sekrit "$TMP/err"
ok $(( ! $? )) "the password in a URL is not echoed" "$(cat "$TMP/err")"

APORT=$(free_port)
AMPORT=$(free_port)
nats_start auth "$APORT" "$AMPORT" --user shipper --pass right-one
t "$BIN/ring-ship" "$E" --group ship --subject t.x \
	--nats "nats://127.0.0.1:$APORT" --user shipper --password wrong-one 2> "$TMP/err"
is "$?:$(wc -l < "$TMP/err")" "1:1" "wrong credentials: status 1, one line"
grep -q wrong-one "$TMP/err"
ok $(( ! $? )) "the password is not echoed" "$(cat "$TMP/err")"
NATS_USER=shipper NATS_PASSWORD=right-one "$BIN/ring-ship" "$E" --group ship \
	--subject t.auth --stream AUTH --nats "nats://127.0.0.1:$APORT" \
	--connect-timeout 5000 2> "$TMP/err" &
ship=$!
PIDS+=($ship)
t "$BIN/ring-send" "$E" -q -m "with credentials"
wait_stream "$AMPORT" AUTH 1 20
ok $? "credentials from NATS_USER and NATS_PASSWORD" "$(cat "$TMP/err")"
kill -TERM $ship
wait $ship

t "$BIN/ring-ship" "$E" --group ship --nats "$URL" --subject t.nostream 2> "$TMP/err"
is "$?:$(wc -l < "$TMP/err")" "1:1" "a subject no stream takes: status 1, one line"
grep -q "no stream takes subject t.nostream" "$TMP/err"
ok $? "and it says so" "$(cat "$TMP/err")"
t "$BIN/ring-ship" "$E" --group ship --nats "$URL" --subject t.other --stream LINES 2> "$TMP/err"
is "$?:$(cat "$TMP/err")" "1:ring-ship: nats: stream LINES does not take subject t.other" \
	"a stream that does not take the subject: status 1, one line"
t "$BIN/ring-ship" "$E" --group ship --nats "$URL" 2> "$TMP/err"
is "$?:$(wc -l < "$TMP/err")" "2:1" "--nats without --subject: status 2, one line"
t "$BIN/ring-ship" "$E" --group ship --nats "$URL" --subject t.x --output "$TMP/f" 2> "$TMP/err"
is "$?:$(wc -l < "$TMP/err")" "2:1" "--nats with a file option: status 2, one line"

finish

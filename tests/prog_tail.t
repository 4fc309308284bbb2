#!/bin/bash
# prog_tail.t - ring-tail: every format, --from oldest/newest/POS, --follow,
# --count, --timeout; it consumes nothing (the group still gets every
# message) and changes no byte of the ring (sha256sum before and after);
# overruns are reported on standard error and in the JSON, and delivered +
# lost adds up; it works as a user who may only read the ring; a stopped
# ring-tail holds up nobody.
# Runs from the repository root.

. "$(dirname "$0")/lib/tap.sh"
plan 27
tap_tmpdir prog_tail
TAP_GROUP=g

sum() { sha256sum "/dev/shm/$1" | cut -d' ' -f1; }

# reap PID: its exit status, waiting at most 10 s (then SIGKILL: 137).
reap() {
	for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$1" 2>/dev/null
	wait "$1"
}

# --- reading without consuming -------------------------------------------
R=$(new_ring plain --capacity 1M --timestamps)
printf 'one\ntwo\n\nfour\n' | t "$BIN/ring-send" "$R" -q
before=$(sum "$R")
t "$BIN/ring-tail" "$R" > "$TMP/out"
ok $? "ring-tail reads the ring and stops at the newest message"
printf 'one\ntwo\n\nfour\n' > "$TMP/want"
cmp -s "$TMP/out" "$TMP/want"
ok $? "line format: every message, in order" "$(od -c "$TMP/out" | head)"
t "$BIN/ring-tail" "$R" > "$TMP/out2"
cmp -s "$TMP/out2" "$TMP/want"
ok $? "a second run sees the same messages: nothing was consumed"
is "$(sum "$R")" "$before" "no byte of the ring file changed (sha256sum)"
t "$BIN/ring-recv" "$R" --group g > "$TMP/out"
cmp -s "$TMP/out" "$TMP/want"
ok $? "the group still receives every message"

# --- formats --------------------------------------------------------------
t "$BIN/ring-tail" "$R" --format nul > "$TMP/out"
printf 'one\0two\0\0four\0' > "$TMP/want"
cmp -s "$TMP/out" "$TMP/want"
ok $? "nul format"
t "$BIN/ring-tail" "$R" -o len32 > "$TMP/out"
printf '\3\0\0\0one\3\0\0\0two\0\0\0\0\4\0\0\0four' > "$TMP/want"
cmp -s "$TMP/out" "$TMP/want"
ok $? "len32 format" "$(od -c "$TMP/out" | head)"
t "$BIN/ring-tail" "$R" -o json > "$TMP/out"
python3 - "$TMP/out" <<'PY'
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
assert [o["text"] for o in objs] == ["one", "two", "", "four"], objs
assert all(o["timestamp"] > 0 and o["pid"] > 0 for o in objs), objs
assert [o["position"] for o in objs] == sorted(o["position"] for o in objs)
assert not any("lost" in o for o in objs)
PY
ok $? "json format: text, positions, timestamps, no loss"
printf '\377\000\376' | t "$BIN/ring-send" "$R" --framing nul -q
t "$BIN/ring-tail" "$R" -o json | tail -n 2 > "$TMP/out"
python3 - "$TMP/out" <<'PY'
import base64, json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
assert base64.b64decode(objs[0]["base64"]) == b"\xff", objs
assert base64.b64decode(objs[1]["base64"]) == b"\xfe", objs
PY
ok $? "json format: bytes that are not UTF-8 come as base64"

# --- where to start, how long ---------------------------------------------
pos=$("$BIN/ring-tail" "$R" -o json | sed -n 2p |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["position"])')
t "$BIN/ring-tail" "$R" --from "$pos" -n 2 > "$TMP/out"
printf 'two\n\n' > "$TMP/want"
cmp -s "$TMP/out" "$TMP/want"
ok $? "--from POS (the second message's position) with --count 2"
t "$BIN/ring-tail" "$R" --from 999999 > "$TMP/out" 2> "$TMP/err"
is "$?" 1 "--from a position after the newest: exit 1"
t "$BIN/ring-tail" "$R" --from newest > "$TMP/out"
ok $(( $? != 0 || $(wc -c < "$TMP/out") != 0 )) "--from newest without --follow: nothing"
"$BIN/ring-tail" "$R" --from newest --follow > "$TMP/out" 2> "$TMP/err" &
tail_pid=$!
PIDS+=("$tail_pid")
sleep 0.2
printf 'late 1\nlate 2\n' | t "$BIN/ring-send" "$R" -q
for _ in $(seq 100); do [ "$(wc -l < "$TMP/out")" -ge 2 ] && break; sleep 0.05; done
kill -TERM "$tail_pid"
reap "$tail_pid"
is "$?" 0 "--follow ends on SIGTERM with status 0"
printf 'late 1\nlate 2\n' > "$TMP/want"
cmp -s "$TMP/out" "$TMP/want"
ok $? "--from newest --follow: only the messages sent after it started" \
	"$(cat "$TMP/out" "$TMP/err")"
t "$BIN/ring-tail" "$R" --from newest --timeout 100 -n 1 > /dev/null 2> "$TMP/err"
is "$?" 1 "--count not reached within --timeout: exit 1"

# --- overruns ---------------------------------------------------------------
# No group, 4 KiB of 16-byte slots: 256 slots. Every line is 6 bytes, 2
# slots with its header; 5000 of them lap the ring 39 times.
Q=prog-$$-lap
"$BIN/ringctl" create "$Q" --capacity 4K
seq -f '%06g' 1 5000 | t "$BIN/ring-send" "$Q" -q
t "$BIN/ring-tail" "$Q" --from 0 -o json > "$TMP/out" 2> "$TMP/err"
ok $? "a ring lapped before ring-tail started: exit 0"
grep -q '^ring-tail: overrun: [0-9]* positions lost, going on at position [0-9]*$' "$TMP/err"
ok $? "the overrun is reported on standard error" "$(cat "$TMP/err")"
python3 - "$TMP/out" "$TMP/err" <<'PY'
import json, re, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
err = open(sys.argv[2]).read()
lost_err = sum(int(m) for m in re.findall(r"overrun: (\d+) positions", err))
lost_json = sum(o.get("lost", 0) for o in objs)
assert lost_err == lost_json > 0, (lost_err, lost_json)
texts = [int(o["text"]) for o in objs]
assert texts == list(range(texts[0], 5001)), texts[:5]
# 2 slots a message: what was lost and what came add up to all 5000
assert lost_json % 2 == 0 and lost_json // 2 + len(texts) == 5000, (lost_json, len(texts))
assert objs[0]["lost"] == lost_json
PY
ok $? "json: a lost field on the first message after it; delivered + lost == sent"
t "$BIN/ring-tail" "$Q" > "$TMP/out" 2> "$TMP/err"
ok $(( $? != 0 || $(wc -c < "$TMP/err") != 0 )) "--from oldest: no overrun" "$(cat "$TMP/err")"
is "$(tail -n 1 "$TMP/out")" "005000" "and it ends with the newest message"

# --- a stopped ring-tail holds up nobody ---------------------------------
S=$(new_ring stop --capacity 64K --when-full fail)
"$BIN/ring-tail" "$S" --follow > /dev/null 2>&1 &
stop_pid=$!
PIDS+=("$stop_pid")
sleep 0.2
kill -STOP "$stop_pid"
seq 1 2000 | t "$BIN/ring-send" "$S" 2> "$TMP/err"
is "$(cat "$TMP/err")" "ring-send: sent 2000, dropped 0, truncated 0" \
	"with ring-tail stopped, a producer sends 2000 lines into a fail-when-full ring"
t "$BIN/ring-recv" "$S" --group g | wc -l > "$TMP/out"
is "$(cat "$TMP/out")" 2000 "and the group gets all of them"
kill -CONT "$stop_pid"
kill -TERM "$stop_pid"
reap "$stop_pid"
is "$?" 0 "the continued ring-tail ends normally on SIGTERM"

# --- as a user who may only read ------------------------------------------
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null; then
	chmod 0640 "/dev/shm/$R"
	chgrp 65534 "/dev/shm/$R"
	before=$(sum "$R")
	nobody="setpriv --reuid 65534 --regid 65534 --clear-groups"
	t $nobody "$BIN/ring-tail" "/dev/shm/$R" -n 4 > "$TMP/out" 2> "$TMP/err"
	ok $? "as uid 65534 (group read only): ring-tail works" "$(cat "$TMP/err")"
	printf 'one\ntwo\n\nfour\n' > "$TMP/want"
	cmp -s "$TMP/out" "$TMP/want"
	ok $? "and prints the messages"
	t $nobody "$BIN/ring-recv" "/dev/shm/$R" --group g > /dev/null 2>&1
	is "$?" 1 "while ring-recv, which must write, cannot open it"
	is "$(sum "$R")" "$before" "no byte of the ring changed"
else
	for i in 1 2 3 4; do ok 0 "# skip needs root and setpriv"; done
fi
finish

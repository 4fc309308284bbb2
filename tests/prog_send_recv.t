#!/bin/bash
# prog_send_recv.t - ring-send | ring-recv round trips: every framing, empty
# messages, the maximum length and one byte more, binary payloads, JSON
# output, --count/--from/--follow/--timeout, the when-full policies, and a
# closed standard output that must not lose what was not written.
# Runs from the repository root.

. "$(dirname "$0")/lib/tap.sh"
plan 46
tap_tmpdir prog_send_recv
TAP_GROUP=g # the group new_ring creates

# json_field RING EXPR: evaluate EXPR on `ringctl stat --json` (as s).
json_field() {
	"$BIN/ringctl" stat "$1" --json |
		python3 -c "import json, sys; s = json.load(sys.stdin); print($2)"
}

# --- line framing -------------------------------------------------------
R=$(new_ring line --capacity 1M)
printf 'first\n\nthird line\n\n\nlast without newline' > "$TMP/in"
t "$BIN/ring-send" "$R" < "$TMP/in" 2> "$TMP/err"
ok $? "ring-send reads lines"
is "$(cat "$TMP/err")" "ring-send: sent 6, dropped 0, truncated 0" \
	"the summary counts every line, empty ones too"
t "$BIN/ring-recv" "$R" --group g > "$TMP/out"
ok $? "ring-recv drains the group and stops"
printf 'first\n\nthird line\n\n\nlast without newline\n' > "$TMP/want"
cmp -s "$TMP/out" "$TMP/want"
ok $? "line round trip (empty lines, a last line without newline)" \
	"$(od -c "$TMP/out" | head -5)"
t "$BIN/ring-recv" "$R" --group g > "$TMP/out"
is "$(wc -c < "$TMP/out")" 0 "released messages are not read again"

# --- nul framing --------------------------------------------------------
printf 'a\0\0b c\nd\0last' | t "$BIN/ring-send" "$R" --framing nul -q
t "$BIN/ring-recv" "$R" --group g --format nul > "$TMP/out"
printf 'a\0\0b c\nd\0last\0' > "$TMP/want"
cmp -s "$TMP/out" "$TMP/want"
ok $? "nul round trip (an empty record, a newline inside a record)" \
	"$(od -c "$TMP/out" | head -5)"

# --- len32 framing with binary payloads ----------------------------------
python3 - "$TMP/bin" <<'EOF'
import os, random, struct, sys
random.seed(7)
payloads = [b"", bytes(range(256)), b"\n\0\n", b"\xff" * 1000]
payloads += [os.urandom(random.randrange(0, 3000)) for _ in range(200)]
with open(sys.argv[1], "wb") as f:
    for p in payloads:
        f.write(struct.pack("<I", len(p)) + p)
EOF
t "$BIN/ring-send" "$R" --framing len32 < "$TMP/bin" 2> "$TMP/err"
ok $? "ring-send reads len32 frames"
is "$(cat "$TMP/err")" "ring-send: sent 204, dropped 0, truncated 0" \
	"every len32 frame was sent"
t "$BIN/ring-recv" "$R" --group g --format len32 > "$TMP/out"
cmp -s "$TMP/out" "$TMP/bin"
ok $? "len32 round trip of binary payloads (all byte values, empty)"

# --- -m words, types and JSON -------------------------------------------
t "$BIN/ring-send" "$R" -q --type 42 -m 'hello "json"' -m '' -m "$(printf 'caf\xc3\xa9')"
printf '\x00\xff\xfe' | t "$BIN/ring-send" "$R" -q --framing len32 --type 3 2> /dev/null
ok $(( $? != 1 )) "a len32 length cut short at the end of input fails"
printf '\x03\x00\x00\x00\x00\xff\xfe' | t "$BIN/ring-send" "$R" -q --framing len32 --type 3
t "$BIN/ring-recv" "$R" --group g --format json > "$TMP/json"
python3 - "$TMP/json" "$$" <<'EOF' > "$TMP/check" 2>&1
import base64, json, sys
msgs = [json.loads(l) for l in open(sys.argv[1])]
assert len(msgs) == 4, msgs
assert [m["type"] for m in msgs] == [42, 42, 42, 3], msgs
assert msgs[0]["text"] == 'hello "json"', msgs[0]
assert msgs[1]["text"] == "" and msgs[1]["len"] == 0, msgs[1]
assert msgs[2]["text"] == "caf\u00e9", msgs[2]
assert base64.b64decode(msgs[3]["base64"]) == b"\x00\xff\xfe", msgs[3]
assert "text" not in msgs[3]
pos = [m["position"] for m in msgs]
assert pos == sorted(pos) and len(set(pos)) == 4, pos
assert all(m["pid"] > 0 for m in msgs)
assert all("timestamp" not in m for m in msgs)
print("fine")
EOF
is "$(cat "$TMP/check")" fine \
	"json: text, empty, UTF-8, base64 for binary, type, position, pid"

T=$(new_ring stamps --capacity 64K --timestamps)
t "$BIN/ring-send" "$T" -q -m stamped
t "$BIN/ring-recv" "$T" --group g --format json |
	python3 -c 'import json,sys,time; m=json.load(sys.stdin); d=abs(m["timestamp"]/1e9-time.time()); print("fine" if d < 600 else d)' \
	> "$TMP/check" 2>&1
is "$(cat "$TMP/check")" fine "json carries the timestamp of a ring that records it"

# --- maximum length and one byte more ------------------------------------
M=$(new_ring max --capacity 64K --max-message 100)
max=$(json_field "$M" 's["max_message"]')
ok $(( max < 100 )) "the ring's maximum message is at least --max-message ($max)"
long=$(head -c "$max" /dev/zero | tr '\0' x)
{ echo short; echo "$long"; } | t "$BIN/ring-send" "$M" -q
ok $? "a line of exactly the maximum length is accepted"
t "$BIN/ring-recv" "$M" --group g > "$TMP/out"
is "$(sed -n 2p "$TMP/out")" "$long" "it arrives whole"
{ echo one; echo two; echo "${long}y"; echo four; } |
	t "$BIN/ring-send" "$M" > /dev/null 2> "$TMP/err"
is $? 1 "a line one byte too long fails with status 1"
grep -q "^ring-send: line 3: longer than the ring's maximum message of $max bytes" "$TMP/err"
ok $? "the error names the line number" "$(cat "$TMP/err")"
is "$(t "$BIN/ring-recv" "$M" --group g | tr '\n' ' ')" "one two " \
	"the lines before it were sent, none after it"
{ echo one; echo "${long}yz"; echo three; } |
	t "$BIN/ring-send" "$M" --truncate 2> "$TMP/err"
ok $? "--truncate accepts the long line"
is "$(cat "$TMP/err")" "ring-send: sent 3, dropped 0, truncated 1" \
	"--truncate counts the cut line"
t "$BIN/ring-recv" "$M" --group g > "$TMP/out"
is "$(sed -n 2p "$TMP/out")|$(sed -n 3p "$TMP/out")" "$long|three" \
	"the line is cut to the maximum and the next one is intact"
{ printf 'ab\0'; printf '%s\0' "${long}z"; } |
	t "$BIN/ring-send" "$M" -q --framing nul 2> "$TMP/err"
is "$?:$(cat "$TMP/err")" \
	"1:ring-send: record 2: longer than the ring's maximum message of $max bytes (see --truncate)" \
	"nul framing names the record too"
t "$BIN/ring-recv" "$M" --group g > /dev/null
python3 -c "import struct,sys; sys.stdout.buffer.write(struct.pack('<I', $max + 1) + b'q' * ($max + 1))" |
	t "$BIN/ring-send" "$M" -q --framing len32 2> "$TMP/err"
is "$?:$(cut -d: -f1-2 "$TMP/err")" "1:ring-send: frame 1" \
	"a len32 frame one byte too long fails and is named"
python3 -c "import struct,sys; sys.stdout.buffer.write(struct.pack('<I', $max + 1) + b'q' * ($max + 1) + struct.pack('<I', 2) + b'ok')" |
	t "$BIN/ring-send" "$M" -q --framing len32 --truncate
t "$BIN/ring-recv" "$M" --group g --format json > "$TMP/json"
python3 -c "import json,sys; m=[json.loads(l) for l in open('$TMP/json')]; print([x['len'] for x in m], m[-1]['text'])" > "$TMP/check"
is "$(cat "$TMP/check")" "[$max, 2] ok" "len32 --truncate cuts the frame and skips its rest"
long=$(head -c $((max + 1)) /dev/zero | tr '\0' m)
t "$BIN/ring-send" "$M" -q -m ok -m "$long" 2> "$TMP/err"
is "$?:$(cut -d: -f1-2 "$TMP/err")" "1:ring-send: message 2" \
	"-m: too long a message is named"

# --- --count, --from, --follow, --timeout ---------------------------------
C=$(new_ring count --capacity 64K)
seq 1 10 | t "$BIN/ring-send" "$C" -q
is "$(t "$BIN/ring-recv" "$C" --group g --count 3 | tr '\n' ' ')" "1 2 3 " \
	"--count stops after N messages"
is "$(t "$BIN/ring-recv" "$C" --group g -n 2 | tr '\n' ' ')" "4 5 " \
	"the next reader goes on where it stopped"
is "$(t "$BIN/ring-recv" "$C" --group late --create --from newest | wc -l)" 0 \
	"--from newest: a new group starts after the existing messages"
is "$(t "$BIN/ring-recv" "$C" --group early --create --from oldest | tail -n 5 |
	tr '\n' ' ')" "6 7 8 9 10 " \
	"--from oldest: a new group gets the messages not yet released"
t "$BIN/ring-recv" "$C" --group g > /dev/null
t "$BIN/ring-recv" "$C" --group g --follow --count 3 > "$TMP/follow" &
reader=$!
# The reader waits for messages that are not there yet.
for i in 1 2 3; do
	t "$BIN/ring-send" "$C" -q -m "later $i"
done
wait $reader
is "$?:$(tr '\n' ' ' < "$TMP/follow")" "0:later 1 later 2 later 3 " \
	"--follow waits for new messages"
t "$BIN/ring-recv" "$C" --group g --follow --count 2 --timeout 100 \
	> /dev/null 2> "$TMP/err"
is "$?:$(cat "$TMP/err")" "1:ring-recv: timed out after 0 of 2 messages" \
	"--count with --timeout fails when too few messages come"
t "$BIN/ring-recv" "$C" --group g --timeout 50 > /dev/null
ok $? "--timeout alone ends quietly when nothing comes"

# --- a closed standard output ---------------------------------------------
P=$(new_ring pipe --capacity 1M)
seq 1 5 | t "$BIN/ring-send" "$P" -q
status=$(python3 - "$BIN/ring-recv" "$P" <<'EOF'
import os, subprocess, sys
r, w = os.pipe()
os.close(r)  # nobody will ever read: the first write fails
p = subprocess.run([sys.argv[1], sys.argv[2], "--group", "g"], stdout=w,
                   timeout=20)
print(p.returncode)
EOF
)
is "$status" 0 "ring-recv ends quietly on a closed standard output"
is "$(t "$BIN/ring-recv" "$P" --group g | tr '\n' ' ')" "1 2 3 4 5 " \
	"nothing it could not write was released"
seq 1 20000 | t "$BIN/ring-send" "$P" -q
t "$BIN/ring-recv" "$P" --group g | head -n 2 > "$TMP/head"
is "$(tr '\n' ' ' < "$TMP/head")" "1 2 " "ring-recv | head -n 2"
t "$BIN/ring-recv" "$P" --group g > "$TMP/rest"
first=$(head -n 1 "$TMP/rest")
last=$(tail -n 1 "$TMP/rest")
lines=$(wc -l < "$TMP/rest")
ok $(( !(first > 2 && last == 20000 && lines == 20000 - first + 1) )) \
	"after head went away the rest is still there, contiguous ($first..$last)"

# --- --create and the when-full policies ---------------------------------
N=prog-$$-created
t "$BIN/ring-send" "$N" -q -m nope 2> "$TMP/err"
is "$?:$(cat "$TMP/err")" \
	"1:ring-send: /dev/shm/$N: ring file not found" \
	"without --create a missing ring is an error"
t "$BIN/ring-send" "$N" --create 128K -q -m made
ok $? "--create SIZE creates a missing ring"
is "$(json_field "$N" 's["capacity"]')" 131072 "with the size asked for"
t "$BIN/ring-send" "$N" --create -q -m again
ok $? "--create opens a ring that exists"
is "$(json_field "$N" 's["committed"]')" 2 "both messages are in it"

F=$(new_ring full --capacity 4K)
seq 1 1000 | t "$BIN/ring-send" "$F" --when-full fail 2> "$TMP/err"
is "$?" 1 "--when-full fail: a full ring ends ring-send with status 1"
grep -q "^ring-send: ring full: message [0-9]* not sent" "$TMP/err"
ok $? "and says which message was not sent" "$(cat "$TMP/err")"
seq 1 1000 | t "$BIN/ring-send" "$F" --when-full drop 2> "$TMP/err"
ok $? "--when-full drop: ring-send goes on"
dropped=$(sed -n 's/.*dropped \([0-9]*\),.*/\1/p' "$TMP/err")
ok $(( !(dropped > 0 && dropped == $(json_field "$F" 's["dropped"]')) )) \
	"the dropped messages are counted ($dropped) and the ring agrees"
t "$BIN/ring-send" "$F" --when-full wait --timeout 100 -m x 2> "$TMP/err"
is "$?:$(cat "$TMP/err" | head -1)" \
	"1:ring-send: no room within 100 ms: message 1 not sent (held back by group 'g', which has no reader)" \
	"--timeout limits the wait for room, and the error names the group without a reader that holds the ring"

finish

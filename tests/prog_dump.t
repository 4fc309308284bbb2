#!/bin/bash
# prog_dump.t - `ringctl dump` (text, --base64, --json) of a live ring and
# of a crashed one (a producer that died holding a claim), also as a user
# who may only read it, and `ringctl check --repair --dry-run`, which
# repairs a private copy-on-write mapping: the report says what a repair
# would change and the file stays byte-identical (sha256sum); a real repair
# then changes it.
# Runs from the repository root.

. "$(dirname "$0")/lib/tap.sh"
plan 23
tap_tmpdir prog_dump
TAP_GROUP=g

sum() { sha256sum "/dev/shm/$1" | cut -d' ' -f1; }

# The library the programs were built with, for a producer that dies
# inside a claim (python ctypes). A sanitizer build's library cannot be
# loaded into python: then the plain build's, if there is one.
LIBSO=$(dirname "$BIN")/lib/libring.so.0
case "$BIN" in build/san-*) LIBSO=lib/libring.so.0 ;; esac
die_in_claim() {
	python3 - "$LIBSO" "/dev/shm/$1" <<'PY'
import ctypes, os, sys
lib = ctypes.CDLL(sys.argv[1])
r = ctypes.c_void_p()
if lib.ring_open(sys.argv[2].encode(), 0, ctypes.byref(r)) != 0:
    sys.exit(1)
claim = ctypes.create_string_buffer(64)
if lib.ring_reserve(r, 40, 7, 0, None, claim) != 0:
    sys.exit(1)
os._exit(0)  # dies with the claim open
PY
}

# --- a live ring ------------------------------------------------------------
R=$(new_ring live --capacity 1M --timestamps)
printf 'hello world\nwith "quotes" and \\\n\ttab\n' | t "$BIN/ring-send" "$R" -q
printf '\001\0\377' | t "$BIN/ring-send" "$R" --framing nul -q
before=$(sum "$R")
t "$BIN/ringctl" dump "$R" > "$TMP/out" 2> "$TMP/err"
ok $? "dump of a live ring"
is "$(wc -l < "$TMP/out")" 5 "one line per message"
grep -q '^0 type 0 pid [0-9]* len 11 time [0-9]*\.[0-9]\{9\} text "hello world"$' "$TMP/out"
ok $? "text line: position, type, pid, length, time, text" "$(head -2 "$TMP/out")"
grep -q ' len 19 time [0-9.]* text "with \\"quotes\\" and \\\\"$' "$TMP/out"
ok $? "quotes and backslashes are escaped" "$(sed -n 2p "$TMP/out")"
sed -n 4,5p "$TMP/out" | grep -c ' base64 ' > "$TMP/n"
is "$(cat "$TMP/n")" 2 "control bytes and non-UTF-8 come as base64"
is "$(tail -n 1 "$TMP/err")" "ringctl: /dev/shm/$R: 5 messages, 0 positions lost, 0 skipped" \
	"a summary on standard error"
t "$BIN/ringctl" dump "$R" --base64 2>/dev/null | sed -n 1p | grep -q ' base64 aGVsbG8gd29ybGQ=$'
ok $? "--base64: every payload in base64"
t "$BIN/ringctl" dump "$R" --json > "$TMP/out" 2>/dev/null
python3 - "$TMP/out" <<'PY'
import base64, json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
assert [o.get("text") for o in objs[:3]] == ["hello world", 'with "quotes" and \\', "\ttab"], objs
assert base64.b64decode(objs[4]["base64"]) == b"\xff"
assert all(o["timestamp"] > 0 for o in objs)
PY
ok $? "--json: one object per message"
is "$(sum "$R")" "$before" "dumping changed no byte of the ring"
t "$BIN/ring-recv" "$R" --group g | wc -l > "$TMP/n"
is "$(cat "$TMP/n")" 5 "and consumed nothing: the group gets all 5"

# --- as a user who may only read --------------------------------------------
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null; then
	nobody="setpriv --reuid 65534 --regid 65534 --clear-groups"
	chmod 0640 "/dev/shm/$R"
	chgrp 65534 "/dev/shm/$R"
	before=$(sum "$R")
	t $nobody "$BIN/ringctl" dump "/dev/shm/$R" > "$TMP/out" 2> "$TMP/err"
	ok $(( $? != 0 || $(wc -l < "$TMP/out") != 5 )) \
		"as uid 65534 (group read only): dump prints every message" "$(cat "$TMP/err")"
	t $nobody "$BIN/ringctl" check "/dev/shm/$R" --repair --dry-run > /dev/null 2> "$TMP/err"
	ok $? "and check --repair --dry-run works (a private copy)" "$(cat "$TMP/err")"
	t $nobody "$BIN/ringctl" check "/dev/shm/$R" --repair > /dev/null 2>&1
	is "$?" 1 "while a real repair cannot open the ring for writing"
	is "$(sum "$R")" "$before" "no byte of the ring changed"
else
	for i in 1 2 3 4; do ok 0 "# skip needs root and setpriv"; done
fi

# --- a crashed ring: a producer died holding a claim --------------------
C=$(new_ring crashed --capacity 64K)
echo before | t "$BIN/ring-send" "$C" -q
if python3 -c 'import ctypes, sys; ctypes.CDLL(sys.argv[1])' "$LIBSO" 2>/dev/null &&
   die_in_claim "$C"; then
	echo after | t "$BIN/ring-send" "$C" -q
	t "$BIN/ringctl" dump "$C" > "$TMP/out" 2> "$TMP/err"
	ok $? "dump of a ring whose producer died in a claim"
	cut -d' ' -f1,3,8- "$TMP/out" > "$TMP/cut"
	printf '0 0 text "before"\n6 0 text "after"\n' > "$TMP/want"
	cmp -s "$TMP/cut" "$TMP/want"
	ok $? "the committed messages on both sides of the dead claim" "$(cat "$TMP/out")"
	grep -q ' 2 messages, 0 positions lost, 4 skipped$' "$TMP/err"
	ok $? "the dead claim's 4 slots are reported as skipped" "$(cat "$TMP/err")"
	t "$BIN/ringctl" check "$C" > /dev/null
	is "$?" 1 "check finds the dead claim"
	before=$(sum "$C")
	t "$BIN/ringctl" check "$C" --repair --dry-run > "$TMP/out"
	is "$?" 0 "check --repair --dry-run: the repaired copy would be consistent"
	grep -q "^/dev/shm/$C: repair (dry run: the file is not changed): 1 problems, 1 repaired, 4 slots dropped in 1 runs holding no committed message, 0 messages renumbered, 1 dead process entries; first: positions 2..6 hold no committed message$" "$TMP/out"
	ok $? "and says what the repair would change" "$(cat "$TMP/out")"
	is "$(sum "$C")" "$before" "the file is byte-identical after the dry run (sha256sum)"
	t "$BIN/ringctl" check "$C" --repair > /dev/null
	ok $? "a real repair succeeds"
	after=$(sum "$C")
	[ "$after" != "$before" ] && t "$BIN/ringctl" check "$C" > /dev/null
	ok $? "and changes the file, which is consistent now"
else
	for i in $(seq 9); do ok 0 "# skip cannot load $LIBSO into python"; done
fi
finish

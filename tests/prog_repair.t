#!/bin/bash
# prog_repair.t - `ringctl check` and `ringctl check --repair` after a writer
# moved the tail 2^63 ahead and producers went on: check says so, repair
# keeps and reports the messages sent after the jump, and the reader gets
# every line.

. "$(dirname "$0")/lib/tap.sh"
plan 6
TAP_GROUP=g
tap_tmpdir prog_repair
TMP_OUT=$TMP/out

R=$(new_ring repair --capacity 64K)
printf 'one\ntwo\n' | t "$BIN/ring-send" "$R" -q
t "$BIN/ring-recv" "$R" --group g --count 1 > /dev/null
# The tail is the first word of the hot area (superblock field hot_off).
python3 - "/dev/shm/$R" <<'PYEND'
import struct, sys
with open(sys.argv[1], "r+b") as f:
    f.seek(56)
    hot = struct.unpack("<Q", f.read(8))[0]
    f.seek(hot)
    tail = struct.unpack("<Q", f.read(8))[0]
    f.seek(hot)
    f.write(struct.pack("<Q", (tail + (1 << 63)) % (1 << 64)))
PYEND
ok $? "the tail moved 2^63 ahead"
printf 'three\nfour\n' | t "$BIN/ring-send" "$R" -q
t "$BIN/ringctl" check "$R" > "$TMP_OUT" 2>&1
st=$?
ok "$([ $st = 1 ] && grep -q 'impossible distance' "$TMP_OUT"; echo $?)" \
	"ringctl check finds the damaged tail (exit 1)" "$(cat "$TMP_OUT")"
t "$BIN/ringctl" check --repair "$R" > "$TMP_OUT" 2>&1
st=$?
is "$st" 0 "ringctl check --repair succeeds"
ok "$(grep -q '2 messages renumbered' "$TMP_OUT"; echo $?)" \
	"and reports the 2 messages it kept" "$(cat "$TMP_OUT")"
t "$BIN/ring-recv" "$R" --group g > "$TMP_OUT"
is "$(tr '\n' ' ' < "$TMP_OUT")" "two three four " "the reader gets every line"
t "$BIN/ringctl" check "$R" > /dev/null
is $? 0 "then the ring checks clean"
finish

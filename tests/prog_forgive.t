#!/bin/bash
# prog_forgive.t - the programs forgive a user's mistakes and say what
# libring means: a mistyped group is never created by a reading program
# (ring-recv, ring-ship) without --create, and the error lists the groups
# there are; a missing ring file, a group read by another process (its pid)
# and options that would do nothing are named as such; ringctl stat keeps
# one unit per table and warns of a group nobody reads that holds
# messages; every program has --version; info, check and group list speak
# JSON. Runs from the repository root.

. "$(dirname "$0")/lib/tap.sh"
tap_tmpdir prog_forgive
plan 27

TAP_GROUP=ship
R=$(new_ring forgive --capacity 64K) || exit 1
t "$BIN/ringctl" group "$R" add real

# --- a mistyped group ----------------------------------------------------
t "$BIN/ring-recv" "$R" --group typo > "$TMP/out" 2> "$TMP/err"
is "$?:$(cat "$TMP/err")" \
	"1:ring-recv: no group 'typo' in /dev/shm/$R (groups: ship, real); create it with --create or ringctl group $R add typo" \
	"ring-recv of a missing group: status 1, names the groups there are"
t "$BIN/ringctl" group "$R" list > "$TMP/groups"
is "$(tr '\n' ' ' < "$TMP/groups")" "ship real " "and does not create it"
t "$BIN/ring-ship" "$R" --group shpi --output "$TMP/log" 2> "$TMP/err"
is "$?:$(cat "$TMP/err")" \
	"1:ring-ship: no group 'shpi' in /dev/shm/$R (groups: ship, real); create it with --create or ringctl group $R add shpi" \
	"ring-ship of a missing group: the same"
is "$(t "$BIN/ringctl" group "$R" list | tr '\n' ' ')" "ship real " \
	"ring-ship did not create it either"
t "$BIN/ring-send" "$R" -q -m one --timeout 500
ok $? "a producer is not held back by a group nobody asked for"
t "$BIN/ring-recv" "$R" --group fresh --create > "$TMP/out"
is "$?:$(cat "$TMP/out")" "0:one" "--create makes the group (from the oldest message)"
t "$BIN/ring-recv" "$R" --group g2 --from newest 2> "$TMP/err"
is "$?" 2 "--from without --create: a usage error"

# --- error texts ------------------------------------------------------------
t "$BIN/ring-recv" "prog-$$-nosuch" --group g 2> "$TMP/err"
is "$?:$(cat "$TMP/err")" "1:ring-recv: /dev/shm/prog-$$-nosuch: ring file not found" \
	"a missing ring: 'ring file not found'"
t "$BIN/ringctl" group "$R" rm nosuch 2> "$TMP/err"
is "$?:$(cat "$TMP/err")" "1:ringctl: no group 'nosuch' in /dev/shm/$R (groups: ship, real, fresh)" \
	"ringctl group rm of a missing group says so"
"$BIN/ring-recv" "$R" --group real --follow > /dev/null &
reader=$!
PIDS+=($reader)
for i in $(seq 1 200); do
	t "$BIN/ringctl" stat "$R" | grep -q "^real .* alive (pid $reader)" && break
	sleep 0.05
done
t "$BIN/ring-recv" "$R" --group real 2> "$TMP/err"
is "$?:$(cat "$TMP/err")" "1:ring-recv: /dev/shm/$R: group 'real' is being read by pid $reader" \
	"a group read by another process: its pid"
t "$BIN/ringctl" group "$R" rm real 2> "$TMP/err"
is "$?:$(cat "$TMP/err")" "1:ringctl: /dev/shm/$R: group 'real' is being read by pid $reader" \
	"ringctl group rm of a group being read: its reader's pid"
kill "$reader"; wait "$reader" 2>/dev/null

# --- ringctl stat -------------------------------------------------------------
t "$BIN/ringctl" stat "$R" > "$TMP/stat"
grep -q '^groups (in messages):$' "$TMP/stat" &&
	grep -q '^group positions (in slots of 16 bytes; tail [0-9]*):$' "$TMP/stat"
ok $? "stat: one unit per table, labelled" "$(cat "$TMP/stat")"
grep -Eq "^real +[0-9]+ +0  no reader \(last: pid $reader\)$" "$TMP/stat"
ok $? "a reader that is gone: 'no reader (last: pid N)'" "$(cat "$TMP/stat")"
grep -q "^warning: group 'ship' has no reader and holds 1 messages" "$TMP/stat"
ok $? "stat warns of a group without a reader that holds messages"
grep -q "^warning: group 'real'" "$TMP/stat"
ok $(( ! $? )) "but not of one that holds none"

# --- options without effect ---------------------------------------------------
t "$BIN/ring-ship" "$R" --group ship --output "$TMP/log" --keep 3 2> "$TMP/err"
is "$?:$(wc -l < "$TMP/err")" "2:1" "ring-ship --keep without rotation: refused"
grep -q -- "--keep applies to rotated files" "$TMP/err"
ok $? "saying why" "$(cat "$TMP/err")"
t "$BIN/ring-ship" "$R" --group ship --output "$TMP/log" --compress 2> "$TMP/err"
is "$?" 2 "ring-ship --compress without rotation: refused"
t "$BIN/ring-ship" "$R" --group ship --output "$TMP/log" --rotate-size 10 2> "$TMP/err"
is "$?:$(wc -l < "$TMP/err")" "2:1" "ring-ship --rotate-size 10: too small, refused"

# --- --version ------------------------------------------------------------
version=$(sed -n 's/^#define RING_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$/\2/p' \
	libring/include/ring.h | paste -sd.)
for p in ringctl ring-send ring-recv ring-ship ring-bench; do
	is "$(t "$BIN/$p" --version)" "$p (libring) $version" "$p --version"
done

# --- JSON ---------------------------------------------------------------------
json_ok() { python3 -c 'import json,sys; d=json.load(sys.stdin); '"$1" 2>&1; }
out=$(t "$BIN/ringctl" info "$R" --json | json_ok 'assert d["slot_size"] == 16 and d["payload_align"] == 16 and d["path"].endswith(sys.argv[0] if False else "forgive"); print("fine")')
is "$out" fine "ringctl info --json"
out=$(t "$BIN/ringctl" check "$R" --json | json_ok 'assert d["consistent"] is True and d["problems"] == 0; print("fine")')
is "$out" fine "ringctl check --json"
out=$(t "$BIN/ringctl" group "$R" list --json | json_ok 'assert [g["name"] for g in d] == ["ship", "real", "fresh"] and d[0]["lag_messages"] == 1; print("fine")')
is "$out" fine "ringctl group list --json"
finish

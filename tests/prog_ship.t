#!/bin/bash
# prog_ship.t - ring-ship: three ring-send processes feeding one ring-ship
# that rotates at a small size (every line exactly once, in order per
# sender), --keep, --compress, SIGHUP reopen, SIGTERM drain, rotation by
# age, the summary line and errors. Runs from the repository root.

. "$(dirname "$0")/lib/tap.sh"
TAP_TIMEOUT=30
plan 22

tap_tmpdir prog_ship
TAP_GROUP=ship # the group new_ring creates

# wait_drained RING: wait (at most 20 s) until group ship has no lag.
wait_drained() {
	local i lag
	for i in $(seq 1 400); do
		lag=$("$BIN/ringctl" stat "$1" --json | python3 -c \
			'import json,sys; s=json.load(sys.stdin); print(sum(g["lag_messages"] for g in s["groups"] if g["name"]=="ship"))')
		[ "$lag" = 0 ] && return 0
		sleep 0.05
	done
	return 1
}

# wait_for CMD...: poll CMD until it succeeds (at most 10 s).
wait_for() {
	local i
	for i in $(seq 1 200); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

# rotated_in_order DIR/FILE: FILE.N ... FILE.1 FILE concatenated.
rotated_in_order() {
	local f=$1 i=1
	while [ -e "$f.$i" ] || [ -e "$f.$i.gz" ]; do i=$((i + 1)); done
	for ((i = i - 1; i >= 1; i--)); do
		if [ -e "$f.$i.gz" ]; then zcat "$f.$i.gz"; else cat "$f.$i"; fi
	done
	cat "$f"
}

# --- three senders, one shipper, rotation at 4 KiB -------------------------
R=$(new_ring three --capacity 64K)
OUT=$TMP/three/app.log
mkdir -p "$TMP/three"
"$BIN/ring-ship" "$R" --group ship --output "$OUT" --rotate-size 4K \
	2> "$TMP/ship.err" &
ship=$!
PIDS+=($ship)
senders=()
for s in a b c; do
	seq -f "$s %g" 1 3000 | t "$BIN/ring-send" "$R" -q &
	senders+=($!)
done
status=0
for p in "${senders[@]}"; do wait "$p" || status=1; done
is $status 0 "three ring-send processes sent 9000 lines"
wait_drained "$R"
ok $? "ring-ship releases everything"
kill -TERM $ship
wait $ship
is $? 0 "ring-ship exits 0 on SIGTERM"
rotations=$(ls "$OUT".* 2>/dev/null | wc -l)
ok $(( rotations < 2 )) "it rotated the file at 4 KiB ($rotations files)"
big=$(find "$TMP/three" -name 'app.log*' -size +4096c | wc -l)
is "$big" 0 "no file is larger than the rotation size"
rotated_in_order "$OUT" > "$TMP/all"
python3 - "$TMP/all" <<'EOF' > "$TMP/check" 2>&1
import sys
seen = {"a": [], "b": [], "c": []}
for line in open(sys.argv[1]):
    s, i = line.split()
    seen[s].append(int(i))
bad = [s for s, v in seen.items() if v != list(range(1, 3001))]
print("fine" if not bad else "senders out of order or incomplete: %s" % bad)
EOF
is "$(cat "$TMP/check")" fine \
	"the rotated files hold every line exactly once, in order per sender"
grep -Eq "^ring-ship: stopped: shipped 9000 messages \([0-9]+ bytes\) to $OUT, $rotations rotations$" "$TMP/ship.err"
ok $? "one summary line on exit" "$(cat "$TMP/ship.err")"

# --- --keep and --compress ------------------------------------------------
K=$(new_ring keep --capacity 64K)
mkdir -p "$TMP/keep"
seq -f "line %g" 1 2000 | t "$BIN/ring-send" "$K" -q
"$BIN/ring-ship" "$K" --group ship --output "$TMP/keep/log" \
	--rotate-size 2K --keep 2 --compress --fsync never 2> /dev/null &
ship=$!
PIDS+=($ship)
wait_drained "$K"
kill -TERM $ship
wait $ship
is $? 0 "ring-ship --keep 2 --compress runs"
is "$(cd "$TMP/keep" && ls | tr '\n' ' ')" "log log.1.gz log.2.gz " \
	"--keep 2 keeps two rotated files, --compress gzips them"
zcat "$TMP/keep/log.2.gz" "$TMP/keep/log.1.gz" | cat - "$TMP/keep/log" > "$TMP/kept"
last_kept=$(tail -n 1 "$TMP/kept")
first_kept=$(sed -n 's/line //p;q' "$TMP/kept")
is "$last_kept|$(wc -l < "$TMP/kept")" "line 2000|$((2000 - first_kept + 1))" \
	"the kept files are the newest lines, contiguous"

# --- SIGHUP reopens, SIGINT drains ----------------------------------------
H=$(new_ring hup --capacity 64K)
mkdir -p "$TMP/hup"
"$BIN/ring-ship" "$H" --group ship --output "$TMP/hup/log" --fsync always \
	2> /dev/null &
ship=$!
PIDS+=($ship)
t "$BIN/ring-send" "$H" -q -m before
wait_for grep -qx before "$TMP/hup/log"
ok $? "--fsync always ships a line"
mv "$TMP/hup/log" "$TMP/hup/log.old"
kill -HUP $ship
# Lines sent before the reopen may still land in the old file; keep
# sending until one shows up in the new one.
i=0
until [ -s "$TMP/hup/log" ] || [ $i -ge 200 ]; do
	i=$((i + 1))
	t "$BIN/ring-send" "$H" -q -m "after $i"
	sleep 0.05
done
ok $(( !(i < 200) )) "SIGHUP makes ring-ship open a new file"
is "$(head -n 1 "$TMP/hup/log.old")" before "the old file keeps what it had"
cat "$TMP/hup/log.old" "$TMP/hup/log" | tail -n +2 > "$TMP/after"
seq -f "after %g" 1 $i > "$TMP/want"
cmp -s "$TMP/after" "$TMP/want"
ok $? "no line lost across the reopen"
# Stop ring-ship while a backlog is in the ring: SIGINT drains it first.
kill -STOP $ship
seq -f "backlog %g" 1 500 | t "$BIN/ring-send" "$H" -q
kill -INT $ship
kill -CONT $ship
wait $ship
is $? 0 "ring-ship exits 0 on SIGINT"
is "$(grep -c '^backlog' "$TMP/hup/log")" 500 "it drained the ring before exiting"

# --- rotation by age --------------------------------------------------------
A=$(new_ring age --capacity 64K)
mkdir -p "$TMP/age"
"$BIN/ring-ship" "$A" --group ship --output "$TMP/age/log" \
	--rotate-interval 1 2> /dev/null &
ship=$!
PIDS+=($ship)
t "$BIN/ring-send" "$A" -q -m old
wait_for test -e "$TMP/age/log.1"
ok $? "--rotate-interval 1 rotates a file older than a second"
is "$(cat "$TMP/age/log.1")" old "the rotated file holds the line"
kill -TERM $ship
wait $ship

# --- errors ---------------------------------------------------------------
t "$BIN/ring-ship" "$A" --group ship --output "$TMP/none/x" 2> "$TMP/err"
is "$?:$(wc -l < "$TMP/err")" "1:1" "an output file that cannot be opened: status 1, one line"
t "$BIN/ring-ship" "$A" --group ship --output "$TMP/x" --keep many 2> "$TMP/err"
is "$?:$(wc -l < "$TMP/err")" "2:1" "a bad --keep: status 2, one line"

# An output that takes no bytes: the real cause, once.
printf 'x\n' | t "$BIN/ring-send" "$A" -q
t "$BIN/ring-ship" "$A" --group ship --output /dev/full 2> "$TMP/err"
ok "$([ $? = 1 ] && grep -q '/dev/full: write: No space left on device' "$TMP/err"; echo $?)" \
	"ring-ship -o /dev/full: exit 1, 'No space left on device'" "$(cat "$TMP/err")"
# A ring file that grew after it was created.
G=$(new_ring grown --capacity 64K)
truncate -s +8192 "/dev/shm/$G"
t "$BIN/ringctl" info "$G" 2> "$TMP/err" >/dev/null
ok "$([ $? = 1 ] && grep -q 'truncated or grown since it was created' "$TMP/err"; echo $?)" \
	"a grown ring file is reported as grown or truncated" "$(cat "$TMP/err")"

finish

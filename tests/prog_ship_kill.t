#!/bin/bash
# prog_ship_kill.t - ring-ship killed with SIGKILL 50 times at random
# moments (while three producers keep a small ring full and it rotates its
# output) and restarted each time: no line is lost; a line may appear twice
# only as part of the batch in progress when it was killed.
# RING_TEST_LONG=1 kills it 500 times. Runs from the repository root.

. "$(dirname "$0")/lib/tap.sh"
KILLS=50
[ -n "${RING_TEST_LONG:-}" ] && KILLS=500
LINES=100000 # per sender
BATCH=256   # SHIP_BATCH in consumers/ring-ship.c
plan 6

# The output goes to a disk file system when there is one, so that the
# syncs take real time and the kills land in the middle of the work.
tap_tmpdir prog_ship_kill "${TMPDIR:-/tmp}"
RING=prog-$$-kill

# lag RING: messages group ship has not released.
lag() {
	"$BIN/ringctl" stat "$1" --json | python3 -c \
		'import json,sys; s=json.load(sys.stdin); print([g["lag_messages"] for g in s["groups"] if g["name"]=="ship"][0])'
}

# A small ring: the producers wait for ring-ship all along, so the kills
# land while it is busy.
"$BIN/ringctl" create "$RING" --capacity 16K --group ship
OUT=$TMP/log
senders=()
for s in a b c; do
	seq -f "$s %g" 1 $LINES | timeout 120 "$BIN/ring-send" "$RING" -q &
	senders+=($!)
done
PIDS+=("${senders[@]}")

start_ship() {
	"$BIN/ring-ship" "$RING" --group ship --output "$OUT" \
		--rotate-size 64K 2>> "$TMP/ship.err" &
	ship=$!
}

killed=0
for ((k = 0; k < KILLS; k++)); do
	start_ship
	# A random moment within its first 30 ms: during start-up, in the
	# middle of a batch, a sync or a rotation.
	sleep "0.0$(printf '%02d' $((RANDOM % 30)))"
	kill -9 $ship 2>/dev/null && killed=$((killed + 1))
	wait $ship 2>/dev/null
done
ok $(( killed < KILLS * 9 / 10 )) "ring-ship was killed $killed times (of $KILLS tries)"
echo "# lines shipped while killing: $(cat "$OUT"* 2>/dev/null | wc -l) of $((3 * LINES))"

start_ship
PIDS+=($ship)
status=0
for p in "${senders[@]}"; do wait "$p" || status=1; done
ok $status "the three producers finished"
drained=1
for i in $(seq 1 400); do
	[ "$(lag "$RING")" = 0 ] && { drained=0; break; }
	sleep 0.05
done
ok $drained "the last ring-ship drained the ring"
kill -TERM $ship
wait $ship
ok $? "the last ring-ship exits 0"

i=1
while [ -e "$OUT.$i" ]; do i=$((i + 1)); done
for ((i = i - 1; i >= 1; i--)); do cat "$OUT.$i"; done > "$TMP/all"
cat "$OUT" >> "$TMP/all"
python3 - "$TMP/all" "$LINES" "$((KILLS * BATCH))" <<'EOF' > "$TMP/check" 2>&1
import sys
path, lines, max_dups = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
seen = {"a": [], "b": [], "c": []}
for line in open(path):
    s, i = line.split()
    seen[s].append(int(i))
problems = []
dups = 0
for s, got in seen.items():
    missing = set(range(1, lines + 1)) - set(got)
    if missing:
        problems.append("%s lost %d lines, e.g. %s" %
                        (s, len(missing), sorted(missing)[:5]))
    # Duplicates come only from a batch written again from its start: the
    # sequence may step back, then must run on without a gap.
    last = 0
    for i in got:
        if i > last + 1:
            problems.append("%s jumps from %d to %d" % (s, last, i))
            break
        last = i
    dups += len(got) - len(set(got))
print("lost/order: " + ("; ".join(problems) if problems else "none"))
print("duplicates: %d (at most %d allowed)" % (dups, max_dups))
print("dups-ok" if dups <= max_dups else "dups-too-many")
EOF
grep -q "^lost/order: none$" "$TMP/check"
ok $? "no line lost, every sender's lines in order" "$(cat "$TMP/check")"
grep -q "^dups-ok$" "$TMP/check"
ok $? "duplicates only of unfinished batches" "$(cat "$TMP/check")"
grep '^duplicates' "$TMP/check" | sed 's/^/# /'

finish

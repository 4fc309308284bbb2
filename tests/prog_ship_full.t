#!/bin/bash
# prog_ship_full.t - ring-ship on a full file system: the output never ends
# in a line cut short, and after a restart with room every message is in
# the output on a line of its own (at least once; nothing glued). Needs
# root to mount a small tmpfs; skipped otherwise.

. "$(dirname "$0")/lib/tap.sh"
TAP_TIMEOUT=30
if [ "$(id -u)" != 0 ] || ! command -v mount >/dev/null; then
	echo "1..0 # SKIP needs root to mount a small tmpfs"
	exit 0
fi
tap_tmpdir prog_ship_full
MNT=$TMP/mnt
mkdir -p "$MNT"
if ! mount -t tmpfs -o size=64k tmpfs "$MNT" 2>/dev/null; then
	echo "1..0 # SKIP cannot mount a tmpfs here"
	exit 0
fi
trap 'umount "$MNT" 2>/dev/null; tap_cleanup' EXIT
plan 9
TAP_GROUP=ship

R=$(new_ring full --capacity 1M)
# 3000 lines of 100 bytes: about 300 KB, more than the 64 KB file system.
python3 -c 'import sys
for i in range(3000): sys.stdout.write("%05d %s\n" % (i, "y" * 94))' |
	t "$BIN/ring-send" "$R" -q
ok $? "3000 messages in the ring"
t "$BIN/ring-ship" "$R" --group ship --output "$MNT/app.log" 2> "$TMP/err"
st=$?
ok "$([ $st -ne 0 ] && grep -qi 'space' "$TMP/err"; echo $?)" \
	"ring-ship stops on the full file system and says so" "$(cat "$TMP/err")"
ok "$([ ! -s "$MNT/app.log" ] || [ "$(tail -c 1 "$MNT/app.log" | od -An -c | tr -d ' ')" = '\n' ]; echo $?)" \
	"the output ends with a whole line"
mount -o remount,size=1m "$MNT"
"$BIN/ring-ship" "$R" --group ship --output "$MNT/app.log" 2> "$TMP/err2" &
ship=$!
PIDS+=($ship)
for i in $(seq 1 200); do
	[ "$(sort -u "$MNT/app.log" | wc -l)" -ge 3000 ] && break
	sleep 0.05
done
kill -TERM $ship; wait $ship
cat "$TMP/err2" >&2
bad=$(grep -cvE '^[0-9]{5} y{94}$' "$MNT/app.log")
is "$bad" 0 "every line of the output is one whole message (none glued)"
is "$(sort -u "$MNT/app.log" | wc -l)" 3000 "every message is in the output"

# --compress without room: a rotated file of 50 KB of random bytes left
# by an earlier run on a 64 KB file system cannot be compressed. The
# shipper says why and ships on, uncompressed.
rm -f "$MNT"/app.log*
mount -o remount,size=64k "$MNT"
head -c 51200 /dev/urandom > "$MNT/app.log.1"
R2=$(new_ring full2 --capacity 1M)
seq 1 10 | t "$BIN/ring-send" "$R2" -q
"$BIN/ring-ship" "$R2" --group ship --output "$MNT/app.log" --rotate-size 1M \
	--compress 2> "$TMP/err3" &
ship=$!
PIDS+=($ship)
for i in $(seq 1 200); do
	[ -f "$MNT/app.log" ] && [ "$(wc -l < "$MNT/app.log")" = 10 ] && break
	sleep 0.05
done
kill -TERM $ship; wait $ship
st=$?
ok "$(grep -q 'compress: no space left on device' "$TMP/err3"; echo $?)" \
	"--compress out of space says so" "$(cat "$TMP/err3")"
is "$st" 0 "and the shipper ships on (exit status after SIGTERM)"
is "$(wc -l < "$MNT/app.log")" 10 "every message shipped"
ok "$([ -s "$MNT/app.log.1" ] && ! ls "$MNT"/app.log.1.gz* >/dev/null 2>&1; echo $?)" \
	"the rotated file stays uncompressed, no partial .gz left"
finish

#!/bin/bash
# prog_sigbus.t - the programs survive a ring file that shrinks or lacks
# pages (DESIGN H13): ring-send and ring-recv --follow, running while the
# file is truncated to 0, to 8192 bytes and to half its size, both exit
# with status 1 and say why, never die of SIGBUS; `ringctl check` (and
# --repair, stat, ring-recv) of a sparse copy of a ring on a full tmpfs
# report the lost pages instead of dying (needs root to mount a tmpfs).
# In the sanitizer build the programs run with AddressSanitizer's own
# SIGBUS handler installed before the library's, which chains to it.
# Runs from the repository root.

. "$(dirname "$0")/lib/tap.sh"
plan 11
tap_tmpdir prog_sigbus
TAP_GROUP=g
WHY="ring file changed size or lost pages while mapped"

# is_why GOT WANT DESCRIPTION STDERR: as is, showing STDERR on failure.
is_why() {
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3" "got:  $1"$'\n'"want: $2"$'\n'"$4"
	fi
}

# cut_round WHAT: run a sender and a follower, cut the ring (to 0, 8192 or half
# its size) once messages flow, and check how both end.
cut_round() {
	local what=$1 R F size i ss rs
	R=$(new_ring "cut$what" --capacity 1M)
	F=/dev/shm/$R
	case $what in
	half) size=$(( $(stat -c %s "$F") / 2 )) ;;
	*) size=$what ;;
	esac
	seq 1 1000000000 | t "$BIN/ring-send" "$R" -q 2> "$TMP/send.err" &
	local send=$!
	t "$BIN/ring-recv" "$R" --group g --follow > /dev/null \
		2> "$TMP/recv.err" &
	local recv=$!
	PIDS+=("$send" "$recv")
	# Until the reader has released something (at most 10 s).
	for i in $(seq 1 1000); do
		[ "$("$BIN/ringctl" stat "$R" --json 2> /dev/null |
			python3 -c 'import json,sys; print(json.load(sys.stdin)["groups"][0]["released"])' \
			2> /dev/null)" -gt 1000 ] 2> /dev/null && break
		sleep 0.01
	done
	truncate -s "$size" "$F"
	wait "$send"; ss=$?
	wait "$recv"; rs=$?
	is_why "$ss:$(grep -c "^ring-send: send: $WHY" "$TMP/send.err")" 1:1 \
		"cut to $what: ring-send exits 1 saying why, not by a signal" \
		"$(cat "$TMP/send.err")"
	is_why "$rs:$(grep -Ec "^ring-recv: (read|release): $WHY" "$TMP/recv.err")" 1:1 \
		"cut to $what: ring-recv --follow exits 1 saying why" \
		"$(cat "$TMP/recv.err")"
	rm -f "$F"
}

cut_round 0
cut_round 8192
cut_round half

# --- a sparse copy on a full tmpfs ------------------------------------------
MNT=$TMP/mnt
if [ "$(id -u)" != 0 ] || ! mkdir -p "$MNT" ||
	! mount -t tmpfs -o size=1m,mode=0700 tmpfs "$MNT" 2> /dev/null; then
	for i in 1 2 3 4 5; do
		n=$((n + 1))
		echo "ok $n # skip needs root to mount a tmpfs"
	done
	finish
	exit
fi
trap 'umount "$MNT" 2> /dev/null; tap_cleanup' EXIT
R=$(new_ring sparse --capacity 256K)
seq 1 100 | t "$BIN/ring-send" "$R" -q
cp --sparse=always "/dev/shm/$R" "$MNT/copy.ring"
dd if=/dev/zero of="$MNT/fill" bs=4k 2> /dev/null
ok $(( $(stat -c "%b * %B < %s" "$MNT/copy.ring") ? 0 : 1 )) \
	"the copy is sparse and its file system is full"
t "$BIN/ringctl" check "$MNT/copy.ring" > /dev/null 2> "$TMP/err"
is_why "$?:$(grep -c "check: $WHY" "$TMP/err")" 1:1 \
	"ringctl check reports the pages it cannot read" "$(cat "$TMP/err")"
t "$BIN/ringctl" check --repair "$MNT/copy.ring" > /dev/null 2> "$TMP/err"
is_why "$?:$(grep -c "$WHY" "$TMP/err")" 1:1 "so does ringctl check --repair" \
	"$(cat "$TMP/err")"
t "$BIN/ringctl" stat "$MNT/copy.ring" > /dev/null 2> "$TMP/err"
is_why "$?:$(grep -c "$WHY" "$TMP/err")" 1:1 "and ringctl stat" "$(cat "$TMP/err")"
t "$BIN/ring-recv" "$MNT/copy.ring" --group g > /dev/null 2> "$TMP/err"
is_why "$?:$(grep -c "$WHY" "$TMP/err")" 1:1 "and ring-recv" "$(cat "$TMP/err")"
umount "$MNT"

finish

#!/bin/bash
# demo.sh - `make demo`: two ring-send producers and one ring-recv reader
# through a ring in /dev/shm. Shows a few messages as they arrive, then
# moves 200000 messages from the two producers through the ring and prints
# the rate. Everything it starts or creates is removed on exit.
set -euo pipefail

cd "$(dirname "$0")/.."
BIN=bin
RING=demo-$$
PER_PRODUCER=100000
pids=()

cleanup() {
	local pid
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	"$BIN/ringctl" rm "$RING" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 1' INT TERM

for prog in ringctl ring-send ring-recv; do
	if [ ! -x "$BIN/$prog" ]; then
		echo "demo: $BIN/$prog is missing; run make first" >&2
		exit 1
	fi
done

now_ns() { date +%s%N; }

echo "== create ring $RING in /dev/shm (1 MiB, group 'demo')"
"$BIN/ringctl" create "$RING" --capacity 1M --group demo

echo "== two producers send three messages each"
for name in alpha beta; do
	printf '%s says hello #%d\n' "$name" 1 "$name" 2 "$name" 3 |
		"$BIN/ring-send" "$RING" --quiet &
	pids+=($!)
done
wait "${pids[@]}"
pids=()

echo "== the reader receives (one producer's messages stay in order)"
"$BIN/ring-recv" "$RING" --group demo | sed 's/^/   /'

echo "== the same, as JSON"
"$BIN/ring-send" "$RING" --quiet --type 7 -m 'a message with a type'
"$BIN/ring-recv" "$RING" --group demo --format json | sed 's/^/   /'

echo "== $((2 * PER_PRODUCER)) messages from two producers through the ring"
out=$(mktemp /tmp/ring-demo.XXXXXX)
start=$(now_ns)
"$BIN/ring-recv" "$RING" --group demo --follow \
	--count $((2 * PER_PRODUCER)) --timeout 30000 > "$out" &
reader=$!
pids=("$reader")
for name in alpha beta; do
	seq -f "$name %g" 1 "$PER_PRODUCER" | "$BIN/ring-send" "$RING" --quiet &
	pids+=($!)
done
status=0
for pid in "${pids[@]}"; do
	wait "$pid" || status=1
done
pids=()
end=$(now_ns)
got=$(wc -l < "$out")
rm -f "$out"
if [ "$status" != 0 ] || [ "$got" != $((2 * PER_PRODUCER)) ]; then
	echo "demo: received $got of $((2 * PER_PRODUCER)) messages" >&2
	exit 1
fi
elapsed_us=$(( (end - start) / 1000 ))
echo "   received $got messages in $((elapsed_us / 1000)) ms:" \
	"$(( got * 1000000 / (elapsed_us > 0 ? elapsed_us : 1) )) messages/s" \
	"(through pipes, text framing and three processes)"

echo "== ringctl stat $RING"
"$BIN/ringctl" stat "$RING" | sed 's/^/   /'

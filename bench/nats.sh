#!/bin/bash
# nats.sh - ring-ship --nats against the engine's own limit, in the same
# run: lines/s of 100-byte lines from ring-send through ring-ship into a
# JetStream stream (acknowledged, so released in the ring), beside a
# minimal cnats asynchronous JetStream publisher (bin/nats-pub) sending the
# same number of 100-byte messages (1: the engine's limit), and beside the
# simplest publisher doing what exactly-once needs (2: bin/nats-pub --core
# --msg-id, a Nats-Msg-Id per message, published as ring-ship does). First
# one local server, then a three-node cluster with a 3-replica stream.
# Rounds alternate the three so that a busy machine hurts all alike; the
# table gives the medians of the rates and of the per-round ratios.
#
#   bench/nats.sh            (make bench-nats)
#   N=LINES ROUNDS=R MAX_PENDING=P bench/nats.sh
set -u
cd "$(dirname "$0")/.."
. bench/nats-lib.sh
BIN=${RING_BIN:-bin}
N=${N:-200000}
ROUNDS=${ROUNDS:-3}
MAX_PENDING=${MAX_PENDING:-4096}
command -v nats-server >/dev/null || { echo "nats.sh: needs nats-server"; exit 1; }
[ -x "$BIN/nats-pub" ] || { echo "nats.sh: needs $BIN/nats-pub (libnats-dev)"; exit 1; }

TMP=$(mktemp -d /tmp/bench-nats.XXXXXX)
PIDS=()
RING=bench-nats-$$
cleanup() {
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	"$BIN/ringctl" rm "$RING" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

port_block() {
	python3 -c '
import socket, random
for _ in range(200):
    p = random.randrange(20000, 60000, 3)
    try:
        socks = []
        for q in (p, p + 1, p + 2):
            s = socket.socket(); s.bind(("127.0.0.1", q)); socks.append(s)
        print(p); break
    except OSError:
        pass'
}

# server NAME PORT [ARGS...]: nats-server with JetStream, monitoring PORT+1.
server() {
	local name=$1 port=$2
	shift 2
	mkdir -p "$TMP/$name"
	nats-server -js -sd "$TMP/$name" -p "$port" -a 127.0.0.1 \
		-m $((port + 1)) -n "$name" "$@" > "$TMP/$name.log" 2>&1 &
	PIDS+=($!)
}

ready() {
	local i
	for i in $(seq 1 400); do
		curl -sf "http://127.0.0.1:$(($1 + 1))/healthz" >/dev/null && return 0
		sleep 0.05
	done
	echo "nats.sh: server on port $1 not ready" >&2
	exit 1
}

nats_lines "$TMP/lines"

# baseline URL SUBJECT STREAM REPLICAS [ARGS]: msg/s of nats-pub.
baseline() {
	"$BIN/nats-pub" "$1" "$2" "$N" 100 "$MAX_PENDING" --stream "$3" \
		--replicas "$4" ${5:-} | sed -n 's/.*: \([0-9]*\) msg\/s$/\1/p'
}

# shipped URLS SUBJECT STREAM REPLICAS: lines/s of ring-send -> ring-ship.
shipped() {
	local t0 t1 ship
	"$BIN/ringctl" rm "$RING" 2>/dev/null
	"$BIN/ringctl" create "$RING" --capacity 64M --group ship
	"$BIN/ring-ship" "$RING" --group ship --nats "$1" --subject "$2" \
		--stream "$3" --replicas "$4" --max-pending "$MAX_PENDING" \
		2> "$TMP/ship.err" &
	ship=$!
	# Connected and the stream made before the clock starts.
	wait_stream_made "$TMP/ship.err"
	t0=$(date +%s.%N)
	"$BIN/ring-send" "$RING" -q < "$TMP/lines"
	until_released "$RING" "$N" $ship
	t1=$(date +%s.%N)
	kill -TERM $ship
	wait $ship
	python3 -c "print('%.0f' % ($N / ($t1 - $t0)))"
}

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { python3 -c "print('%.2f' % ($1 / $2))"; }

# run KEY LABEL URLS REPLICAS: per round the bare publisher (1), the one
# doing what exactly-once needs (2: a Nats-Msg-Id per message, answers
# checked, no JetStream layer: as ring-ship publishes) and ring-ship,
# and ring-ship's ratio to each in that round; then the medians.
run() {
	local key=$1 label=$2 urls=$3 reps=$4 r b w s bs="" ws="" ss="" rb="" rw=""
	for ((r = 1; r <= ROUNDS; r++)); do
		b=$(baseline "${urls%%,*}" "base$r.$key" "BASE_${key}_$r" "$reps")
		w=$(baseline "${urls%%,*}" "work$r.$key" "WORK_${key}_$r" "$reps" \
			"--core --msg-id")
		s=$(shipped "$urls" "ship$r.$key" "SHIP_${key}_$r" "$reps")
		echo "  $label round $r: nats-pub $b msg/s, core with ids $w" \
			"msg/s, ring-ship $s lines/s: $(ratio "$s" "$b") and" \
			"$(ratio "$s" "$w")"
		bs="$bs $b"
		ws="$ws $w"
		ss="$ss $s"
		rb="$rb $(ratio "$s" "$b")"
		rw="$rw $(ratio "$s" "$w")"
	done
	RESULTS+=("$(printf '| %-26s | %8s | %8s | %9s | %5s | %5s |' "$label" \
		"$(echo "$bs" | median)" "$(echo "$ws" | median)" \
		"$(echo "$ss" | median)" "$(echo "$rb" | median)" \
		"$(echo "$rw" | median)")")
}

RESULTS=()
echo "bench/nats.sh: $N lines of 100 bytes, $ROUNDS rounds, --max-pending $MAX_PENDING"
P=$(port_block)
server single "$P"
ready "$P"
run single "1 server, file storage" "nats://127.0.0.1:$P" 1

P1=$(port_block)
P2=$(port_block)
P3=$(port_block)
routes="nats-route://127.0.0.1:$((P1 + 2)),nats-route://127.0.0.1:$((P2 + 2)),nats-route://127.0.0.1:$((P3 + 2))"
i=1
for p in $P1 $P2 $P3; do
	server "n$i" "$p" --cluster_name bench --cluster "nats://127.0.0.1:$((p + 2))" \
		--routes "$routes"
	i=$((i + 1))
done
for p in $P1 $P2 $P3; do ready "$p"; done
run cluster "3-node cluster, 3 replicas" "nats://127.0.0.1:$P1,nats://127.0.0.1:$P2,nats://127.0.0.1:$P3" 3

echo
echo "(rates: medians of the rounds; ratios: medians of the per-round ratios)"
echo "| setup                      | nats-pub | core+ids | ring-ship | ratio | ratio |"
echo "|                            |    msg/s |    msg/s |   lines/s | to 1  | to 2  |"
echo "|----------------------------|---------:|---------:|----------:|------:|------:|"
printf '%s\n' "${RESULTS[@]}"

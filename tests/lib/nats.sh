# nats.sh - what the JetStream tests of ring-ship share (tests/prog_ship_nats*.t),
# sourced after tap.sh and tap_tmpdir. Sets NATS_DUMP and defines
# nats_skip_unless_ready, free_port, nats_start, nats_stop, nats_wait_ready,
# nats_cluster_start, stream_msgs, wait_stream and check_stream.
#
# Servers are started on free loopback ports, with their store under $TMP,
# and killed at exit (their pids go into PIDS).

NATS_DUMP=${RING_TEST_BIN:-tests/bin}/nats-dump

# nats_skip_unless_ready PLAN_DESCRIPTION: print a TAP skip of the whole
# test and exit unless nats-server, ring-ship's --nats and nats-dump are here.
nats_skip_unless_ready() {
	if ! command -v nats-server >/dev/null 2>&1; then
		echo "1..0 # skip nats-server is not installed (Debian: nats-server)"
		exit 0
	fi
	if "$BIN/ring-ship" x --group g --nats nats://127.0.0.1:1 \
		--subject s 2>&1 | grep -q 'not built in'; then
		echo "1..0 # skip ring-ship was built without libnats-dev"
		exit 0
	fi
	if [ ! -x "$NATS_DUMP" ]; then
		echo "1..0 # skip $NATS_DUMP is not built (make check builds it)"
		exit 0
	fi
}

# free_port: a TCP port of 127.0.0.1 that nobody listens on right now.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# nats_wait_ready MPORT: wait (at most 20 s) until the server with
# monitoring port MPORT says it is healthy, JetStream included.
nats_wait_ready() {
	local i
	for i in $(seq 1 400); do
		curl -sf "http://127.0.0.1:$1/healthz" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}

# nats_spawn NAME PORT MPORT [ARGS...]: start nats-server NAME with
# JetStream, its store in $TMP/NAME, client port PORT, monitoring port
# MPORT; sets NATS_PID_<NAME>. Does not wait.
nats_spawn() {
	local name=$1 port=$2 mport=$3
	shift 3
	mkdir -p "$TMP/$name"
	nats-server -js -sd "$TMP/$name" -p "$port" -a 127.0.0.1 -m "$mport" \
		-n "$name" "$@" >> "$TMP/$name.log" 2>&1 &
	eval "NATS_PID_$name=$!"
	PIDS+=($!)
	# No "Killed" notice from bash when the cleanup at exit kills it.
	disown $!
}

# nats_start NAME PORT MPORT [ARGS...]: nats_spawn, then wait until the
# server is ready.
nats_start() {
	nats_spawn "$@"
	nats_wait_ready "$3"
}

# nats_stop NAME [SIGNAL]: stop server NAME (SIGTERM unless given) and wait
# for it to exit.
nats_stop() {
	local pid i
	eval "pid=\$NATS_PID_$1"
	kill "-${2:-TERM}" "$pid" 2>/dev/null
	# Not our job any more (disowned): wait (at most 20 s) for it to go.
	for i in $(seq 1 400); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}

# nats_cluster_start PORT1 PORT2 PORT3: three servers n1 n2 n3 in one
# JetStream cluster; monitoring ports PORTi+1, cluster ports PORTi+2 (the
# caller picks ports with room). Waits until the three are ready.
nats_cluster_start() {
	local routes="nats-route://127.0.0.1:$(($1 + 2)),nats-route://127.0.0.1:$(($2 + 2)),nats-route://127.0.0.1:$(($3 + 2))"
	local i=1 p
	for p in "$1" "$2" "$3"; do
		nats_spawn "n$i" "$p" "$((p + 1))" --cluster_name ring \
			--cluster "nats://127.0.0.1:$((p + 2))" --routes "$routes"
		i=$((i + 1))
	done
	for p in "$1" "$2" "$3"; do
		nats_wait_ready "$((p + 1))" || return 1
	done
}

# free_port_block: a port P such that P, P+1 and P+2 are free.
free_port_block() {
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

# stream_msgs MPORT STREAM: the number of messages in STREAM, from the
# monitoring endpoint /jsz (0 if it does not exist yet).
stream_msgs() {
	curl -sf "http://127.0.0.1:$1/jsz?streams=true" 2>/dev/null | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except Exception:
    print(0); sys.exit()
n = 0
for a in d.get("account_details") or []:
    for s in a.get("stream_detail") or []:
        if s["name"] == sys.argv[1]:
            n = s["state"]["messages"]
print(n)' "$2"
}

# wait_stream MPORT STREAM COUNT SECS: wait until STREAM holds COUNT
# messages (at most SECS seconds).
wait_stream() {
	local i
	for i in $(seq 1 $(($4 * 20))); do
		[ "$(stream_msgs "$1" "$2")" -ge "$3" ] && return 0
		sleep 0.05
	done
	return 1
}

# check_stream URL STREAM LINES ORDER: read STREAM back with nats-dump and
# check that it holds lines "S N" for senders a, b, c and N = 1..LINES,
# each exactly once, every Nats-Msg-Id once; with ORDER=order also that
# each sender's lines are in order. Prints "fine" or the problems.
check_stream() {
	"$NATS_DUMP" "$1" "$2" > "$TMP/dump" 2> "$TMP/dump.err" ||
		{ echo "nats-dump failed: $(cat "$TMP/dump.err")"; return; }
	python3 - "$TMP/dump" "$3" "$4" <<'PY'
import sys
path, lines, order = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "order"
seen = {"a": [], "b": [], "c": []}
ids = set()
problems = []
dup_ids = 0
for row in open(path):
    seq, mid, pid, typ, payload = row.rstrip("\n").split("\t", 4)
    if mid in ids:
        dup_ids += 1
    ids.add(mid)
    s, i = payload.split()
    seen[s].append(int(i))
if dup_ids:
    problems.append("%d repeated Nats-Msg-Id" % dup_ids)
for s, got in seen.items():
    want = set(range(1, lines + 1))
    missing = want - set(got)
    dups = len(got) - len(set(got))
    if missing:
        problems.append("%s lost %d lines, e.g. %s" % (s, len(missing), sorted(missing)[:5]))
    if dups:
        problems.append("%s has %d lines twice" % (s, dups))
    if order and got != sorted(got):
        problems.append("%s out of order" % s)
print("fine" if not problems else "; ".join(problems))
PY
}

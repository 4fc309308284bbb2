# nats-lib.sh - what bench/nats.sh and bench/nats-cost.sh share; sourced,
# with BIN, N and TMP set.

# nats_lines FILE: N lines of 100 bytes ("line I", blank-padded) in FILE.
nats_lines() {
	python3 -c "
import sys
for i in range($N): sys.stdout.write('%-99s\n' % ('line %d' % i))" > "$1"
}

# wait_stream_made ERRFILE: wait (at most 20 s) until ring-ship says on
# ERRFILE that it has the stream, so that the clock starts then.
wait_stream_made() {
	local i
	for i in $(seq 1 2000); do
		grep -q "created stream" "$1" && return 0
		sleep 0.01
	done
	return 1
}

# until_released RING N PID: return once the ring's group has released N
# messages (or PID is gone), watched by one ringctl every 20 ms.
until_released() {
	"$BIN/ringctl" stat "$1" --json --watch 0.02 | while read -r line; do
		case $line in *"\"released\":$2,"*) break ;; esac
		kill -0 "$3" 2>/dev/null || break
	done
}

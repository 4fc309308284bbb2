#!/bin/bash
# SPDX-License-Identifier: MIT
#
# syscalls.sh - system calls per message of ring-bench runs, counted over
# the whole process tree (parent, producers, readers) with
#   perf stat -e raw_syscalls:sys_enter
# or, when perf cannot count, strace -f -c.
#
# Each configuration runs twice: with N messages, and with a few (SMALL)
# for the fixed cost of starting processes, creating and mapping the ring.
# The difference over the difference of messages is the cost per message
# at saturation. (Both runs send a tenth more as warm-up.) Counts in the
# blocking modes depend on timing: run it more than once.
#
# Usage: bench/syscalls.sh [N]   (default N: 2000000 for the ring)
set -u
cd "$(dirname "$0")/.." || exit 1
BIN=${RING_BENCH_BIN:-bin/ring-bench}
[ -x "$BIN" ] || { echo "syscalls.sh: $BIN is missing: run make" >&2; exit 1; }
grep -q -a -e __asan_init -e __tsan_init -e __ubsan_handle "$BIN" &&
	{ echo "syscalls.sh: $BIN is a sanitizer build: use make bench-syscalls" >&2; exit 1; }
N=${1:-2000000}
SMALL=2000

TOOL=perf
if ! perf stat -e raw_syscalls:sys_enter -x, -- true >/dev/null 2>&1; then
	command -v strace >/dev/null ||
		{ echo "syscalls.sh: neither perf nor strace works" >&2; exit 1; }
	TOOL=strace
fi

# count ARGS... : total system calls of one run (messages in ARGS).
count() {
	local out
	out=$(mktemp /tmp/ring-bench-sys.XXXXXX)
	if [ $TOOL = perf ]; then
		perf stat -e raw_syscalls:sys_enter -x, -o "$out" -- \
			"$BIN" "$@" >/dev/null || { rm -f "$out"; return 1; }
		awk -F, '/raw_syscalls:sys_enter/ { print $1 }' "$out"
	else
		strace -f -c -o "$out" -- "$BIN" "$@" >/dev/null ||
			{ rm -f "$out"; return 1; }
		awk '$NF == "total" { print $(NF - 2) }' "$out"
	fi
	rm -f "$out"
}

# per_message LABEL N ARGS... : print system calls per message.
per_message() {
	local label=$1 n=$2 c0 c1; shift 2
	c0=$(count "$@" --messages "$SMALL") || { echo "$label: run failed"; return; }
	c1=$(count "$@" --messages "$n") || { echo "$label: run failed"; return; }
	awk -v l="$label" -v n="$n" -v s="$SMALL" -v a="$c0" -v b="$c1" 'BEGIN {
		printf "%-30s %9.5f syscalls/msg  (%d msgs: %d calls; %d msgs: %d)\n",
		       l, (b - a) / (1.1 * (n - s)), 1.1 * n, b, 1.1 * s, a }'
}

echo "system calls per message ($TOOL, whole process tree, 64-byte payloads)"
per_message "ring 1p->1r spin"           "$N" --transport ring --wait spin
per_message "ring 1p->1r block"          "$N" --transport ring --wait block
per_message "ring 2p->1r block"          "$N" --transport ring --wait block --producers 2
per_message "ring 1p->3 groups block"    $((N / 4)) --transport ring --wait block --groups 3
per_message "pipe 1p->1r (reference)"    $((N / 10)) --transport pipe
per_message "unix 1p->1r (reference)"    $((N / 10)) --transport unix
if "$BIN" --help | grep -q '^  rte-burst '; then
	per_message "rte 1p->1r (reference)"     "$N" --transport rte
	per_message "rte-burst 1p->1r (reference)" "$N" --transport rte-burst
fi

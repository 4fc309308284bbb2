# tap.sh - the shared preamble of the shell tests, sourced by each of them
# with `. "$(dirname "$0")/lib/tap.sh"`. Tests run from the repository root.
#
# Sets BIN (the programs: $RING_BIN, or bin), n and failed (the results so
# far), PIDS (background children killed at exit) and defines plan, ok, is,
# t, new_ring (creating rings with the group $TAP_GROUP), tap_tmpdir and
# finish.

BIN=${RING_BIN:-bin}
n=0
failed=0
PIDS=()

# plan COUNT: print the TAP plan and remember it for finish.
plan() {
	PLAN=$1
	echo "1..$PLAN"
}

# ok STATUS DESCRIPTION [DIAG]: one TAP result (STATUS 0 passes); DIAG goes
# to standard error as TAP comments, so that prove shows it.
ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
		[ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/# /' >&2
	fi
}

# is GOT WANT DESCRIPTION: pass when the two strings are equal.
is() {
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3" "got:  $1"$'\n'"want: $2"
	fi
}

# t CMD...: run CMD with a time limit (TAP_TIMEOUT seconds, 20 unless set),
# so that a hang fails the test.
t() { timeout "${TAP_TIMEOUT:-20}" "$@"; }

# wait_exit PID: wait for PID (a child) to end, at most 10 s (then it is
# killed); returns its status. Background children run without `t` so that
# signals reach them.
wait_exit() {
	local i
	for i in $(seq 1 200); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.05
	done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# new_ring NAME ARGS...: create ring prog-PID-NAME (removed at exit) with
# `ringctl create ... ARGS` and the group $TAP_GROUP; prints the name.
new_ring() {
	local name=prog-$$-$1
	shift
	"$BIN/ringctl" create "$name" --group "$TAP_GROUP" "$@" || return 1
	echo "$name"
}

# tap_cleanup: kill the children in PIDS, remove the test's rings
# (/dev/shm/prog-PID-*) and its temporary directory $TMP.
tap_cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	rm -f /dev/shm/prog-$$-*
	[ -n "${TMP:-}" ] && rm -rf "$TMP"
}

# tap_tmpdir NAME [PARENT]: make the temporary directory $TMP
# (PARENT/NAME.PID.XXXXXX, PARENT /dev/shm unless given; exits when that
# fails) and run tap_cleanup at exit.
tap_tmpdir() {
	TMP=$(mktemp -d "${2:-/dev/shm}/$1.$$.XXXXXX") || exit 1
	trap tap_cleanup EXIT
}

# finish: note a count of results that differs from the plan; succeeds when
# no test failed (the script's exit status).
finish() {
	[ "$n" = "$PLAN" ] || echo "# ran $n tests, planned $PLAN"
	[ "$failed" = 0 ]
}

#!/bin/bash
# prog_shared.t - shared groups (work sharing) through the programs:
# ringctl create --group NAME:shared:M and group add --shared --members M
# (and their limits refused), the work queue (three ring-recv members,
# two ring-send producers: every line exactly once, at least two members
# at work, each sender's lines in order in every file), ringctl stat and
# --json showing the members, a fourth member refused at the limit,
# ring-ship refusing a shared group, ring-recv --count as a member, and a
# member stopped while it holds messages (it keeps them; a draining member
# ends without them) then SIGKILLed (another member gets exactly them).
# Runs from the repository root.

. "$(dirname "$0")/lib/tap.sh"
plan 38
tap_tmpdir prog_shared


# poll SECS CMD...: run CMD every 50 ms until it succeeds, for at most
# SECS seconds; CMD's last status.
poll() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.05
	done
}

# js RING EXPR: EXPR evaluated on `ringctl stat RING --json` (s; g maps a
# group's name to its object).
js() {
	"$BIN/ringctl" stat "$1" --json | python3 -c "
import json, sys
s = json.load(sys.stdin)
g = {x['name']: x for x in s['groups']}
print($2)"
}

# lag_is RING GROUP N: the group's lag is N messages.
lag_is() { [ "$(js "$1" "g['$2']['lag_messages']")" = "$3" ]; }

# live_pids RING GROUP: the pids of the group's live members, sorted.
live_pids() {
	js "$1" "' '.join(sorted(str(m['pid']) for m in g['$2']['members'] if m['alive']))"
}

# one_line_err STATUS WANT_STATUS PATTERN DESC: status and a one-line
# standard error ($TMP/err) matching the extended regex PATTERN.
one_line_err() {
	[ "$1" = "$2" ] && [ "$(wc -l < "$TMP/err")" = 1 ] &&
		grep -Eq "$3" "$TMP/err"
	ok $? "$4" "status $1: $(cat "$TMP/err")"
}

# --- making shared groups ---------------------------------------------------
R=prog-$$-queue
t "$BIN/ringctl" create "$R" --capacity 256K --group jobs:shared:3 \
	--group audit
ok $? "create --group jobs:shared:3 --group audit"
is "$(js "$R" "g['jobs']['shared'], g['jobs']['member_limit'], g['jobs']['members'], g['audit']['shared'], 'member_limit' in g['audit']")" \
	"True 3 [] False False" \
	"stat --json: jobs is shared with a limit of 3 and no member; audit is not shared"
t "$BIN/ringctl" group "$R" rm audit
t "$BIN/ringctl" group "$R" add pool --shared
t "$BIN/ringctl" group "$R" add pair --shared --members 2 --from newest
ok $? "group add --shared --members 2"
is "$(t "$BIN/ringctl" group "$R" list --json | python3 -c '
import json, sys
print(" ".join("%s:%s:%s" % (g["name"], g["shared"], g.get("member_limit"))
               for g in json.load(sys.stdin)))')" \
	"jobs:True:3 pool:True:64 pair:True:2" \
	"group list --json: the mode and the member limit (64 by default)"
t "$BIN/ringctl" group "$R" rm pool
t "$BIN/ringctl" group "$R" rm pair
for bad in 0 65 x; do
	t "$BIN/ringctl" create "$R.bad" --group "j:shared:$bad" \
		> /dev/null 2> "$TMP/err"
	one_line_err $? 2 "^ringctl: --group j:shared:$bad: '$bad' is not a member limit from 1 to 64 " \
		"create --group j:shared:$bad is a usage error naming the limits"
done
t "$BIN/ringctl" group "$R" add big --shared --members 65 2> "$TMP/err"
one_line_err $? 2 "^ringctl: --members: '65' is not a member limit from 1 to 64 " \
	"group add --members 65 is a usage error"
is "$(test -e "/dev/shm/$R.bad" || echo none) $(t "$BIN/ringctl" group "$R" list)" \
	"none jobs" "nothing was made by the refused command lines"

# --- the work queue: three members, two senders ------------------------------
for i in 1 2 3; do
	"$BIN/ring-recv" "$R" --group jobs --follow > "$TMP/out.$i" &
	member[i]=$!
	PIDS+=($!)
done
want=$(printf '%s\n' "${member[@]}" | sort | tr '\n' ' ')
want=${want% }
poll 20 eval '[ "$(live_pids "$R" jobs)" = "$want" ]'
ok $? "stat --json lists the three ring-recv members by pid, alive" \
	"got: $(live_pids "$R" jobs), want: $want"

t "$BIN/ring-recv" "$R" --group jobs > "$TMP/out.4" 2> "$TMP/err"
one_line_err $? 1 "^ring-recv: /dev/shm/$R: group 'jobs' is shared and its member limit of 3 is reached \(members: pids [0-9, ]+\)$" \
	"a fourth member is refused: the member limit is reached"
named=0
for p in "${member[@]}"; do grep -qw "$p" "$TMP/err" || named=1; done
ok $named "and the message names the three members' pids" "$(cat "$TMP/err")"
t "$BIN/ring-ship" "$R" --group jobs --output "$TMP/ship.log" 2> "$TMP/err"
one_line_err $? 1 "^ring-ship: /dev/shm/$R: group 'jobs' is shared: ring-ship needs a group of its own \(its files have one writer\)$" \
	"ring-ship refuses a shared group in one line"
[ ! -e "$TMP/ship.log" ]
ok $? "and writes no file"
t "$BIN/ring-ship" "$R" --group jobs --nats nats://127.0.0.1:1 \
	--subject jobs 2> "$TMP/err"
status=$?
if grep -q 'not built in' "$TMP/err"; then
	ok 0 "# SKIP ring-ship --nats is not built in"
else
	one_line_err $status 1 "^ring-ship: /dev/shm/$R: group 'jobs' is shared: ring-ship needs a group of its own \(it publishes every message of the group in order\)$" \
		"ring-ship --nats refuses it too, before connecting"
fi
is "$(live_pids "$R" jobs)" "$want" \
	"the refused programs took no seat"

t "$BIN/ringctl" stat "$R" > "$TMP/stat"
grep -Eq '^jobs +0 +0  shared: 3 members alive \(limit 3\)$' "$TMP/stat"
ok $? "stat as text: the group is shared, its live members and limit" \
	"$(cat "$TMP/stat")"
seats=0
grep -q "^shared group 'jobs': member limit 3, lag 0 messages, 3 seats in use:\$" "$TMP/stat" ||
	seats=1
for p in "${member[@]}"; do
	grep -Eq "^  $p +yes +- +0 +0\$" "$TMP/stat" || seats=1
done
ok $seats "stat as text: a table of the seats, one line per member pid" \
	"$(cat "$TMP/stat")"

seq 1 15000 | sed 's/^/a /' | "$BIN/ring-send" "$R" 2> "$TMP/send.a" &
sa=$!
seq 1 15000 | sed 's/^/b /' | "$BIN/ring-send" "$R" 2> "$TMP/send.b" &
sb=$!
PIDS+=($sa $sb)
wait_exit $sa
st_a=$?
wait_exit $sb
is "$st_a:$?:$(cat "$TMP/send.a" "$TMP/send.b" | tr '\n' ' ')" \
	"0:0:ring-send: sent 15000, dropped 0, truncated 0 ring-send: sent 15000, dropped 0, truncated 0 " \
	"two ring-send processes sent 15000 lines each through a 256K ring"
poll 30 lag_is "$R" jobs 0
ok $? "the members drained the group (lag 0)"
js "$R" "' '.join('%d:%d:%d' % (m['pid'], m['released'], m['held']) for m in g['jobs']['members'])" \
	> "$TMP/seats"
rel_ok=0
for i in 1 2 3; do
	grep -qw "${member[i]}:$(wc -l < "$TMP/out.$i"):0" "$TMP/seats" || rel_ok=1
done
ok $rel_ok "stat --json: each member's released count is the lines it wrote, nothing held" \
	"seats: $(cat "$TMP/seats"); lines: $(wc -l "$TMP"/out.[123] | tr '\n' ' ')"
is "$(js "$R" "g['jobs']['released'], s['committed']")" "30000 30000" \
	"the group's released count is the members' sum"
for i in 1 2 3; do kill -TERM "${member[i]}"; done
for i in 1 2 3; do wait_exit "${member[i]}"; done
python3 - "$TMP"/out.[123] > "$TMP/check" 2>&1 <<'EOF'
import collections, sys
files = [open(f).read().split("\n")[:-1] for f in sys.argv[1:]]
count = collections.Counter(l for f in files for l in f)
want = {"%s %d" % (s, i) for s in "ab" for i in range(1, 15001)}
assert set(count) == want, "lost: %d, strange: %d" % (
    len(want - set(count)), len(set(count) - want))
twice = [l for l, c in count.items() if c != 1]
assert not twice, "more than once: %s" % twice[:5]
for f in files:
    for s in "ab":
        nums = [int(l[2:]) for l in f if l[0] == s]
        assert nums == sorted(nums), "%s out of order in a file" % s
print("fine %d" % sum(1 for f in files if f))
EOF
case "$(cat "$TMP/check")" in
"fine 2" | "fine 3") ok 0 "each of the 30000 lines exactly once across the three files, at least two members at work, each sender's lines in order per file ($(cat "$TMP/check"))" ;;
*) ok 1 "each of the 30000 lines exactly once across the three files" "$(cat "$TMP/check")" ;;
esac
is "$(js "$R" "g['jobs']['members']")" "[]" \
	"after the members stopped no seat is in use"

# --- ring-recv --count and --create --shared ----------------------------------
seq 1 100 | t "$BIN/ring-send" "$R" -q
t "$BIN/ring-recv" "$R" --group jobs --count 30 > "$TMP/c1"
is "$?:$(wc -l < "$TMP/c1"):$(js "$R" "g['jobs']['lag_messages'], g['jobs']['members']")" \
	"0:30:70 []" "a member with --count 30 takes 30 messages, no more"
t "$BIN/ring-recv" "$R" --group jobs > "$TMP/c2"
is "$?:$(cat "$TMP/c1" "$TMP/c2" | tr '\n' ' ')" "0:$(seq 1 100 | tr '\n' ' ')" \
	"the next member drains the other 70, and stops"
t "$BIN/ring-recv" "$R" --group duo --create --shared --members 2 \
	--from newest > /dev/null
is "$?:$(js "$R" "g['duo']['shared'], g['duo']['member_limit']")" "0:True 2" \
	"ring-recv --create --shared --members 2 makes a shared group"
t "$BIN/ring-recv" "$R" --group solo --create > /dev/null
t "$BIN/ring-recv" "$R" --group solo --create --shared 2> "$TMP/err"
one_line_err $? 1 "^ring-recv: /dev/shm/$R: group 'solo' exists and is not shared " \
	"--create --shared on an existing exclusive group says so"
"$BIN/ring-recv" "$R" --group solo --follow > /dev/null &
solo=$!
PIDS+=($solo)
poll 20 eval '[ "$(js "$R" "g[\"solo\"][\"reader_alive\"]")" = True ]'
t "$BIN/ring-recv" "$R" --group solo 2> "$TMP/err"
one_line_err $? 1 "^ring-recv: /dev/shm/$R: group 'solo' is being read by pid $solo$" \
	"an exclusive group's second reader still hears of the pid that reads it"
{ kill -9 $solo; wait_exit $solo; } 2>/dev/null

# m1_seat: "HELD FROM TO" of the live seat of member $m1 of $K's group work.
m1_seat() {
	js "$K" "' '.join('%d %d %d' % (m['held'], m['held_from'], m['held_to']) for m in g['work']['members'] if m['pid'] == $m1 and m['alive'])"
}

# --- a member stopped, then killed, while it holds messages -----------------
K=prog-$$-kill
t "$BIN/ringctl" create "$K" --capacity 4M --group work:shared:3
seq 1 20000 | sed 's/^/k /' | t "$BIN/ring-send" "$K" -q
mkfifo "$TMP/fifo"
# Nobody reads the fifo once its buffer is full: the member blocks in its
# write with a batch taken and not released.
"$BIN/ring-recv" "$K" --group work --follow > "$TMP/fifo" &
m1=$!
PIDS+=($m1)
exec 4< "$TMP/fifo"
held=0
for i in $(seq 1 400); do
	kill -STOP $m1
	read -r held from to <<< "$(m1_seat)"
	[ "${held:-0}" -gt 0 ] && break
	kill -CONT $m1
	sleep 0.05
done
ok $(( !(${held:-0} > 0) )) "a member stopped while it holds messages shows alive with them (held $held: $from..$to)"
t "$BIN/ringctl" stat "$K" > "$TMP/stat"
grep -Eq "^  $m1 +yes +$from\.\.$to +$held " "$TMP/stat"
ok $? "stat as text shows the stretch it holds" "$(cat "$TMP/stat")"

t "$BIN/ring-recv" "$K" --group work > "$TMP/m2"
ok $? "a draining member ends while the stopped member holds its messages"
t "$BIN/ring-recv" "$K" --group work > "$TMP/again"
is "$?:$(wc -l < "$TMP/again"):$(m1_seat)" "0:0:$held $from $to" \
	"it took everything else (the next finds nothing); the stopped member keeps its own"

{ kill -KILL $m1; wait_exit $m1; } 2>/dev/null
is "$(js "$K" "[(m['pid'], m['alive'], m['held'], m['held_from'], m['held_to']) for m in g['work']['members']]")" \
	"[($m1, False, $held, $from, $to)]" \
	"SIGKILLed, it shows as dead, its stretch still in its seat"
t "$BIN/ringctl" stat "$K" > "$TMP/stat"
grep -Eq "^  $m1 +no +$from\.\.$to +$held " "$TMP/stat" &&
	grep -q "^warning: group 'work' has no live member and holds" "$TMP/stat"
ok $? "stat as text: the dead member's seat, and the warning for a group nobody reads" \
	"$(cat "$TMP/stat")"
"$BIN/ring-recv" "$K" --group work --follow > "$TMP/m3" &
m3=$!
PIDS+=($m3)
poll 30 lag_is "$K" work 0
ok $? "a member that joins takes the dead member's messages over (lag 0)"
is "$(live_pids "$K" work):$(js "$K" "[m['held'] for m in g['work']['members']]")" \
	"$m3:[0]" "in the dead member's seat, which holds nothing any more"
kill -TERM $m3
wait_exit $m3
cat <&4 > "$TMP/m1"
exec 4<&-
python3 - "$TMP/m1" "$TMP/m2" "$TMP/m3" "$held" > "$TMP/check" 2>&1 <<'EOF'
import sys
m1 = open(sys.argv[1]).read().split("\n")[:-1]  # a cut last line is no line
m2, m3 = (open(f).read().split("\n")[:-1] for f in sys.argv[2:4])
held = int(sys.argv[4])
want = {"k %d" % i for i in range(1, 20001)}
assert set(m1) | set(m2) | set(m3) == want, "lost %d" % len(want - set(m1 + m2 + m3))
assert len(m3) == held, "the other member got %d, the dead one held %d" % (len(m3), held)
nums = [int(l[2:]) for l in m3]
assert nums == list(range(nums[0], nums[0] + held)), "not one stretch: %s" % nums[:5]
assert not set(m2) & set(m3), "given twice: %s" % sorted(set(m2) & set(m3))[:5]
assert len(m2) == len(set(m2)) and len(m3) == len(set(m3))
print("fine")
EOF
is "$(cat "$TMP/check")" fine \
	"every line at least once; the member that took over got exactly the dead member's stretch"

finish

#!/bin/bash
# prog_ringctl.t - ringctl: create with every option, info, stat as text and
# JSON (parsed here, with the attached processes), --watch until SIGINT,
# check, group add/rm/reset/list, rm. Runs from the repository root.

. "$(dirname "$0")/lib/tap.sh"
plan 47


tap_tmpdir prog_ringctl

# snap: `ringctl stat RING --json`, parsed and flattened into KEY=VALUE
# lines (GROUP.KEY=VALUE for the groups) in $TMP/flat.
snap() {
	t "$BIN/ringctl" stat "$R" --json > "$TMP/stat" || return 1
	python3 - "$TMP/stat" > "$TMP/flat" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
for k, v in s.items():
    if k != "groups":
        print("%s=%s" % (k, v))
print("group_names=%s" % " ".join(sorted(g["name"] for g in s["groups"])))
for p in s["process_list"]:
    print("proc.%d=%s %s %s %d %d" % (p["pid"], p["role"], p["alive"],
          p.get("group", "-"), p["committed"], p["dropped"]))
for g in s["groups"]:
    for k, v in g.items():
        print("%s.%s=%s" % (g["name"], k, v))
EOF
}

# val KEY: a value of the last snap.
val() { sed -n "s/^$1=//p" "$TMP/flat"; }

R=prog-$$-ctl
# --- create and info --------------------------------------------------------
t "$BIN/ringctl" create "$R" --capacity 128K --slot-size 32 --max-message 1K \
	--groups 4 --processes 32 --mode 640 --when-full drop --timestamps \
	--group logs --group audit
ok $? "create with every option"
is "$(stat -c %a "/dev/shm/$R")" 640 "--mode sets the file mode"
t "$BIN/ringctl" create "$R" 2> "$TMP/err"
is "$?:$(wc -l < "$TMP/err")" "1:1" "creating an existing ring fails with one line"
t "$BIN/ringctl" info "$R" > "$TMP/info"
ok $? "info"
grep -q '^capacity     128 KiB (4096 slots of 32 bytes)$' "$TMP/info"
ok $? "info shows capacity and slot size" "$(cat "$TMP/info")"
grep -q '^when full    drop$' "$TMP/info" && grep -q '^timestamps   yes$' "$TMP/info"
ok $? "info shows the policy and the timestamps flag"
grep -q '^format       version [1-9][0-9]*, [1-9][0-9]* bytes of header per message$' "$TMP/info" &&
	grep -q "^file size    .* ($(stat -c %s "/dev/shm/$R") bytes)\$" "$TMP/info"
ok $? "info shows the format version, header size and file size" "$(cat "$TMP/info")"
t "$BIN/ringctl" info "/dev/shm/$R" > "$TMP/info2"
cmp -s "$TMP/info" "$TMP/info2"
ok $? "a name without a slash means the ring in /dev/shm"

# --- stat --json --------------------------------------------------------------
seq 1 10 | t "$BIN/ring-send" "$R" -q
t "$BIN/ring-recv" "$R" --group logs --count 4 > /dev/null
snap
ok $? "stat --json parses"
is "$(val capacity) $(val slot_size) $(val slot_count)" \
	"131072 32 4096" "capacity, slot size and slot count"
is "$(val committed) $(val aborted) $(val dropped) $(val when_full) $(val timestamps)" \
	"10 0 0 drop True" "counters, policy and flags"
is "$(val group_names)" "audit logs" "both groups are listed"
is "$(val logs.released) $(val logs.lag_messages)" \
	"4 6" "group logs: 4 released, lag 6 messages"
is "$(val audit.released) $(val audit.lag_messages) $(val audit.reader_alive)" \
	"0 10 False" "group audit: nothing released, lag 10, no reader"
is "$(val used_bytes)" "$(( ($(val tail) - $(val min_cursor)) * $(val slot_size) ))" \
	"used bytes follow the slowest group"
ok $(( !($(val logs.lag_bytes) > 0 && $(val audit.lag_bytes) > $(val logs.lag_bytes)) )) \
	"lag in bytes"
t "$BIN/ringctl" stat "$R" > "$TMP/text"
grep -Eq '^logs +4 +6  no reader \(last: pid [0-9]+\)$' "$TMP/text"
ok $? "stat as text shows the groups" "$(cat "$TMP/text")"

# A live reader shows as alive, with its pid.
"$BIN/ring-recv" "$R" --group logs --follow --count 7 --timeout 20000 \
	> "$TMP/follow" &
reader=$!
PIDS+=($reader)
alive=no
for i in $(seq 1 200); do
	t "$BIN/ringctl" stat "$R" > "$TMP/text"
	grep -Eq "^logs .* alive \(pid $reader\)" "$TMP/text" && { alive=yes; break; }
	sleep 0.05
done
snap
is "$alive:$(val logs.reader_alive):$(val logs.reader_pid)" "yes:True:$reader" \
	"a live reader shows as alive with its pid"
ok $(( !($(val readers) >= 1) )) "and is counted as a reader"
t "$BIN/ring-send" "$R" -q -m last
wait_exit $reader
is "$?:$(wc -l < "$TMP/follow")" "0:7" "the reader got its messages"

# The process list: a reader that follows is a live reader of its group
# until it is killed; a producer shows what it committed.
"$BIN/ring-recv" "$R" --group audit --follow > /dev/null &
reader=$!
PIDS+=($reader)
for i in $(seq 1 200); do
	snap && [ -n "$(val "proc.$reader")" ] && break
	sleep 0.05
done
is "$(val "proc.$reader")" "reader True audit 0 0" \
	"stat --json lists a following ring-recv as a live reader of its group"
{ kill -9 $reader; wait $reader; } 2>/dev/null
snap
is "$(val "proc.$reader")" "reader False audit 0 0" \
	"after it was killed it is listed as not alive"
mkfifo "$TMP/fifo"
"$BIN/ring-send" "$R" -q < "$TMP/fifo" &
sender=$!
PIDS+=($sender)
exec 3> "$TMP/fifo"
printf 'one\ntwo\nthree\n' >&3
for i in $(seq 1 200); do
	snap && [ "$(val "proc.$sender")" = "producer True - 3 0" ] && break
	sleep 0.05
done
is "$(val "proc.$sender")" "producer True - 3 0" \
	"a producer is listed, alive, with the messages it committed"
exec 3>&-
wait_exit $sender
is $? 0 "the producer ends with its input"

# --- stat --watch --------------------------------------------------------------
"$BIN/ringctl" stat "$R" --json --watch 0.05 > "$TMP/watch" &
watcher=$!
PIDS+=($watcher)
for i in $(seq 1 200); do
	[ "$(wc -l < "$TMP/watch")" -ge 3 ] && break
	sleep 0.05
done
kill -INT $watcher
wait_exit $watcher
is $? 0 "--watch runs until SIGINT and exits 0"
python3 - "$TMP/watch" <<'EOF' > "$TMP/check" 2>&1
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert len(lines) >= 3, len(lines)
assert "committed_per_sec" not in lines[0]
assert all("committed_per_sec" in l and l["interval"] > 0 for l in lines[1:])
assert all("released_per_sec" in g for l in lines[1:] for g in l["groups"])
print("fine")
EOF
is "$(cat "$TMP/check")" fine "--watch --json prints one object per interval, with rates"
"$BIN/ringctl" stat "$R" --watch 0.05 > "$TMP/watch" &
watcher=$!
PIDS+=($watcher)
for i in $(seq 1 200); do
	[ "$(grep -c '^ring ' "$TMP/watch")" -ge 2 ] && break
	sleep 0.05
done
kill -INT $watcher
wait_exit $watcher
is "$?:$(grep -c '/s committed' "$TMP/watch")" \
	"0:$(( $(grep -c '^ring ' "$TMP/watch") - 1 ))" \
	"--watch as text shows rates from the second reading on"

# --- groups -----------------------------------------------------------------
t "$BIN/ringctl" group "$R" add fresh --from newest
ok $? "group add --from newest"
snap
is "$(val fresh.lag_messages)" 0 "a group from newest has no lag"
t "$BIN/ringctl" group "$R" reset fresh --from oldest
snap
ok $(( !($(val fresh.lag_messages) > 0) )) "group reset --from oldest moves it back"
t "$BIN/ringctl" group "$R" rm audit
is "$(t "$BIN/ringctl" group "$R" list | sort | tr '\n' ' ')" "fresh logs " \
	"group rm and group list"
t "$BIN/ringctl" group "$R" rm audit 2> "$TMP/err"
is "$?:$(wc -l < "$TMP/err")" "1:1" "removing a missing group fails with one line"

# --- names from the file are escaped ---------------------------------------
# A writer of the file puts a terminal escape into a group's name (the
# library refuses such names; the file can still hold anything).
t "$BIN/ringctl" create "$R.esc" --capacity 64K --group plain >/dev/null
python3 - "/dev/shm/$R.esc" <<'EOF'
import struct, sys
f = open(sys.argv[1], "r+b")
f.seek(64)  # struct rl_super: group_off
group_off = struct.unpack("<Q", f.read(8))[0]
f.seek(group_off + 8)
f.write(b"ev\x1b[2Jil\x00")
EOF
t "$BIN/ringctl" group "$R.esc" list > "$TMP/out"
is "$(cat "$TMP/out")" 'ev\x1b[2Jil' "group list escapes control bytes of a name"
t "$BIN/ringctl" stat "$R.esc" > "$TMP/out"
ok "$(grep -c "$(printf '\033')" "$TMP/out")" "stat prints no escape byte"
"$BIN/ringctl" rm "$R.esc"

# --- parameters out of range are named -------------------------------------
t "$BIN/ringctl" create "$R.bad" --groups 5000 2> "$TMP/err"
is "$?:$(grep -c 'groups must be from 1 to 1024' "$TMP/err")" "1:1" \
	"too many groups: the message names the groups"
t "$BIN/ringctl" create "$R.bad" --processes 0 2> "$TMP/err"
is "$?:$(grep -c 'processes must be from 1 to 65536' "$TMP/err")" "1:1" \
	"no processes: the message names the processes"
echo x | t "$BIN/ring-send" "$R.bad" --create=3000 2> "$TMP/err"
is "$?:$(grep -c 'capacity must be a power of two' "$TMP/err")" "1:1" \
	"ring-send --create=3000: the message names the capacity"
t "$BIN/ringctl" create "$R.bad" --capacity 2T 2> "$TMP/err"
is "$?:$(grep -c "up to 1 TiB" "$TMP/err")" "2:1" \
	"a capacity above the limit: the limit in words"

# --- a ring owned by another user ------------------------------------------
t "$BIN/ringctl" create "$R.foreign" --capacity 64K --group g >/dev/null
if [ "$(id -u)" = 0 ] && chown 65534 "/dev/shm/$R.foreign" 2>/dev/null; then
	echo m | t "$BIN/ring-send" "$R.foreign" -q 2> "$TMP/err"
	is "$?:$(grep -c 'another user' "$TMP/err")" "1:1" \
		"ring-send refuses a ring owned by another user, and says so"
	echo m | RING_OWNER=65534 t "$BIN/ring-send" "$R.foreign" -q
	ok $? "RING_OWNER naming its owner accepts it"
	echo m | RING_OWNER=root t "$BIN/ring-send" "$R.foreign" -q 2>/dev/null
	is "$?" 1 "RING_OWNER naming somebody else still refuses it"
else
	for i in 1 2 3; do ok 0 "# SKIP needs root to give a ring away"; done
fi
RING_OWNER=65534 "$BIN/ringctl" rm "$R.foreign" 2>/dev/null || rm -f "/dev/shm/$R.foreign"

# --- check, rm ---------------------------------------------------------------
t "$BIN/ringctl" check "$R" > "$TMP/out"
is "$?:$(cat "$TMP/out")" "0:/dev/shm/$R: consistent" "check of a sound ring"
t "$BIN/ringctl" check "$R" --repair > "$TMP/out"
is "$?:$(tail -n 1 "$TMP/out")" "0:/dev/shm/$R: consistent" \
	"check --repair of a sound ring"
echo "not a ring at all, not a ring at all, not a ring at all" > "$TMP/junk"
t "$BIN/ringctl" check "$TMP/junk" 2> "$TMP/err"
is "$?:$(wc -l < "$TMP/err")" "1:1" "a file that is no ring: status 1, one line"
t "$BIN/ringctl" rm "$TMP/junk" 2> /dev/null
is "$?:$(test -e "$TMP/junk" && echo kept)" "1:kept" "rm refuses a file that is no ring"
t "$BIN/ringctl" rm "$R"
is "$?:$(test -e "/dev/shm/$R" || echo gone)" "0:gone" "rm removes the ring"

# A ring larger than the file system: the cause, not a table.
t "$BIN/ringctl" create "prog-$$-huge" --capacity 1T 2> "$TMP/err"
ok "$([ $? = 1 ] && grep -q 'no space left on the file system for a ring of 1099511627776 bytes' "$TMP/err"; echo $?)" \
	"a ring too large for the file system is reported as such" "$(cat "$TMP/err")"

finish

#!/bin/bash
# prog_service.t - contrib/systemd/ring-ship@.service works as written:
# systemd accepts the unit, and its ExecStart, with the options of
# contrib/systemd/ring-ship.default expanded as systemd expands them (${X}
# one word, $X split at spaces), runs ring-ship; SIGTERM (systemctl stop)
# ships what is in the ring and exits 0, SIGHUP (reload) reopens the file.
# The logrotate example sends SIGHUP, never copytruncate.
# Runs from the repository root.

. "$(dirname "$0")/lib/tap.sh"
tap_tmpdir prog_service
plan 7
UNIT=contrib/systemd/ring-ship@.service
DEFAULTS=contrib/systemd/ring-ship.default

if command -v systemd-analyze > /dev/null 2>&1; then
	cp "$UNIT" "$TMP/ring-ship@t.service"
	# Known and harmless here: ring-ship not installed, no manual database.
	systemd-analyze verify "$TMP/ring-ship@t.service" 2>&1 |
		grep -v "is not executable\|Command 'man " > "$TMP/verify"
	ok "$([ ! -s "$TMP/verify" ]; echo $?)" "systemd-analyze verify accepts the unit" \
		"$(cat "$TMP/verify")"
else
	echo "ok 1 # skip systemd-analyze is not installed"; n=$((n + 1))
fi
grep -q '^EnvironmentFile=-/etc/default/ring-ship-%i$' "$UNIT"
ok $? "the unit reads /etc/default/ring-ship-INSTANCE"

# The defaults file, pointed at this test's ring and output.
TAP_GROUP=ship
R=$(new_ring service --capacity 64K) || exit 1
sed -e "s|^RING=.*|RING=$R|" -e "s|^OUTPUT=.*|OUTPUT=$TMP/app.log|" \
	"$DEFAULTS" > "$TMP/default"
# systemd's expansion: ${X} is one word, $X splits at white space.
mapfile -t argv < <(python3 - "$UNIT" "$TMP/default" <<'PY'
import re, shlex, sys
env = {"GROUP": "ship"}
for line in open(sys.argv[2]):
    line = line.strip()
    if line and not line.startswith("#"):
        k, v = line.split("=", 1)
        env[k] = " ".join(shlex.split(v))
cmd = [l for l in open(sys.argv[1]) if l.startswith("ExecStart=")][0]
for word in cmd[len("ExecStart="):].split():
    m = re.fullmatch(r"\$\{(\w+)\}", word)
    if m:
        print(env.get(m.group(1), ""))
    elif re.fullmatch(r"\$(\w+)", word):
        for w in env.get(word[1:], "").split():
            print(w)
    else:
        print(word)
PY
)
argv[0]=$BIN/ring-ship
t "$BIN/ring-send" "$R" -q -m first -m second
"${argv[@]}" 2> "$TMP/err" &
ship=$!
PIDS+=($ship)
for i in $(seq 1 200); do
	[ "$(cat "$TMP/app.log" 2>/dev/null | wc -l)" = 2 ] && break
	sleep 0.05
done
is "$(cat "$TMP/app.log" 2>/dev/null | tr '\n' ' ')" "first second " \
	"ExecStart with the defaults ships the ring ($(echo "${argv[@]:1}"))"
mv "$TMP/app.log" "$TMP/app.log.1"
kill -HUP $ship
for i in $(seq 1 200); do
	[ -e "$TMP/app.log" ] && break
	sleep 0.05
done
t "$BIN/ring-send" "$R" -q -m third
for i in $(seq 1 200); do
	grep -q third "$TMP/app.log" 2>/dev/null && break
	sleep 0.05
done
is "$(cat "$TMP/app.log" 2>/dev/null)" third "SIGHUP (reload) opens a new file"
t "$BIN/ring-send" "$R" -q -m fourth
kill -TERM $ship
wait $ship
is "$?" 0 "SIGTERM (stop) exits 0"
ok "$(grep -qx fourth "$TMP/app.log"; echo $?)" "having shipped what was in the ring"
grep -q 'kill -s HUP ring-ship@' contrib/logrotate/ring-ship &&
	! grep -q '^[^#]*copytruncate' contrib/logrotate/ring-ship
ok $? "the logrotate example signals ring-ship instead of copytruncate"
finish

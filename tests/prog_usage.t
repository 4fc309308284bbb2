#!/bin/bash
# prog_usage.t - the command lines of ringctl, ring-send, ring-recv,
# ring-tail and ring-ship: --help, every usage error (one line on standard error naming
# the program, exit status 2) and every bad ring path (one line, status 1).
# Runs from the repository root.

. "$(dirname "$0")/lib/tap.sh"
tap_tmpdir prog_usage
R=prog-$$-usage

# Each case: expected status, then the command line (program first).
cases=(
	# --help
	"0|ringctl --help"
	"0|ringctl stat --help"
	"0|ring-send --help"
	"0|ring-recv --help"
	"0|ringctl group --help"
	"0|ring-ship --help"
	"0|ring-tail --help"
	"0|ringctl dump --help"
	# usage errors
	"2|ringctl"
	"2|ringctl frobnicate $R"
	"2|ringctl create"
	"2|ringctl create $R extra"
	"2|ringctl create $R --capacity"
	"2|ringctl create $R --capacity 12Q"
	"2|ringctl create $R --capacity -5"
	"2|ringctl create $R --slot-size 1M"
	"2|ringctl create $R --mode 999"
	"2|ringctl create $R --when-full sometimes"
	"2|ringctl create $R --bogus"
	"2|ringctl create $R --group ''"
	"2|ringctl create $R --group j:shared:0"
	"2|ringctl create $R --group j:shared:65"
	"2|ringctl create $R --group j:shared:many"
	"2|ringctl create $R --group :shared"
	"2|ringctl create $R --group j --group j:shared"
	"2|ringctl info"
	"2|ringctl info $R $R"
	"2|ringctl stat $R --watch"
	"2|ringctl stat $R --watch 0"
	"2|ringctl stat $R --watch soon"
	"2|ringctl stat $R --jsn"
	"2|ringctl check $R --repiar"
	"2|ringctl rm"
	"2|ringctl group $R"
	"2|ringctl group $R add"
	"2|ringctl group $R explode g"
	"2|ringctl group $R add g h"
	"2|ringctl group $R list g"
	"2|ringctl group $R add g --from middle"
	"2|ringctl group $R add 012345678901234567890123456789012345678901234567"
	"2|ringctl group $R add g --members 3"
	"2|ringctl group $R add g --shared --members 0"
	"2|ringctl group $R add g --shared --members 65"
	"2|ringctl group $R rm g --shared"
	"2|ringctl group $R list --members 2"
	"2|ring-send"
	"2|ring-send $R $R"
	"2|ring-send $R --framing csv"
	"2|ring-send $R --type -1"
	"2|ring-send $R --type 4294967296"
	"2|ring-send $R --when-full later"
	"2|ring-send $R --timeout soon"
	"2|ring-send $R --create=huge"
	"2|ring-send $R -m"
	"2|ring-send $R -x"
	"2|ring-recv"
	"2|ring-recv $R"
	"2|ring-recv $R --group"
	"2|ring-recv $R --group g extra"
	"2|ring-recv $R --group g --format xml"
	"2|ring-recv $R --group g --from yesterday"
	"2|ring-recv $R --group g --count many"
	"2|ring-recv $R --group g --timeout -1"
	"2|ring-recv $R --group ''"
	"2|ring-recv $R --group g --shared"
	"2|ring-recv $R --group g --create --members 3"
	"2|ring-recv $R --group g --create --shared --members 0"
	"2|ring-recv $R --group g --create --shared --members 65"
	"2|ringctl dump"
	"2|ringctl dump $R $R"
	"2|ringctl check $R --dry-run"
	"2|ring-tail"
	"2|ring-tail $R extra"
	"2|ring-tail $R --format xml"
	"2|ring-tail $R --from yesterday"
	"2|ring-tail $R --count many"
	"2|ring-tail $R --group g"
	"2|ring-ship"
	"2|ring-ship $R --output $TMP/log"
	"2|ring-ship $R --group g"
	"2|ring-ship $R --group g --output $TMP/log --fsync sometimes"
	"2|ring-ship $R --group g --output $TMP/log --rotate-size big"
	"2|ring-ship $R --group g --output $TMP/log --rotate-interval 1h"
	"2|ring-ship $R --group g --output $TMP/log --compress=yes"
	# bad ring paths
	"1|ringctl info $TMP/missing"
	"1|ringctl stat $TMP/missing"
	"1|ringctl check $TMP/missing"
	"1|ringctl rm $TMP/missing"
	"1|ringctl group $TMP/missing add g"
	"1|ringctl info $TMP/notaring"
	"1|ringctl create $TMP/no/such/dir/r"
	"1|ring-send $TMP/missing -m x"
	"1|ring-send $TMP/notaring -m x"
	"1|ring-recv $TMP/missing --group g"
	"1|ring-recv $TMP/notaring --group g"
	"1|ring-recv $TMP/missing --group g --create --shared"
	"1|ringctl dump $TMP/missing"
	"1|ringctl dump $TMP/notaring"
	"1|ring-tail $TMP/missing"
	"1|ring-tail $TMP/notaring"
	"1|ring-ship $TMP/missing --group g --output $TMP/log"
	"1|ring-ship $TMP/notaring --group g --output $TMP/log"
	"1|ring-send prog-$$-nosuchring -m x"
)

plan $(( ${#cases[@]} * 2 ))
echo "this file is not a ring file; it has text in it and nothing else at all" \
	> "$TMP/notaring"

for c in "${cases[@]}"; do
	want=${c%%|*}
	cmd=${c#*|}
	eval "set -- $cmd"
	prog=$1
	shift
	timeout 10 "$BIN/$prog" "$@" > "$TMP/out" 2> "$TMP/err" < /dev/null
	got=$?
	ok $(( got != want )) "$cmd: status $want" "got status $got: $(cat "$TMP/err")"
	if [ "$want" = 0 ]; then
		head -n 1 "$TMP/out" | grep -q '^Usage: '
		ok $? "$cmd: prints the usage on standard output"
	else
		lines=$(wc -l < "$TMP/err")
		[ "$lines" = 1 ] && grep -q "^$prog: " "$TMP/err" && [ ! -s "$TMP/out" ]
		ok $? "$cmd: one line on standard error, prefixed '$prog: '" \
			"$(cat "$TMP/err" "$TMP/out")"
	fi
done
finish

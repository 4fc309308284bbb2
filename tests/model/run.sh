#!/bin/bash
# tests/model/run.sh - check the Promela models with spin; TAP output.
#
# Each clean model must verify with no error (assertions, invalid end
# states); each BUG flag puts one known defect back, and spin must find it.
# A todo check is a model of the C code as it is that spin refutes: a
# defect found and not fixed yet (README.md), reported as TODO (prove
# passes it) until it verifies.
set -u
here=$(cd "$(dirname "$0")" && pwd)
work=${MODEL_BUILD:-$(mktemp -d)}
mkdir -p "$work"
if ! command -v spin >/dev/null 2>&1; then
	echo "1..0 # SKIP spin is not installed (Debian package spin)"
	exit 0
fi

checks=(
	"claims.pml|-DN=2|clean|claims: 2 producers, 2 slots, death at every step"
	"claims.pml|-DN=3|clean|claims: 2 producers, 3 slots, death at every step"
	"claims.pml|-DN=2 -DBUG1|bug|claims: finds the wedge of a ring full of dead claims (BUG1)"
	"claims.pml|-DRUN -DP=1 -DK=3|clean|claims: a single producer's runs, 3 slots, death at every step"
	"claims.pml|-DRUN -DP=1 -DK=3 -DN=4|clean|claims: a single producer's runs, 4 slots"
	"claims.pml|-DRUN -DP=1 -DK=3 -DBUG7|bug|claims: finds a run whose claim is closed between messages (BUG7)"
	"groups.pml||clean|groups: a group created from the oldest message while a producer runs"
	"groups.pml|-DBUG2|bug|groups: finds a late group overwritten by a claim in flight (BUG2)"
	"groups.pml|-DBUG3|bug|groups: finds the lost update of the cached minimum (BUG3)"
	"lease.pml||clean|lease: two takers, deaths and a read-locker, identity known"
	"lease.pml|-DCROSSNS|clean|lease: the same, identity unknown (another pid namespace)"
	"lease.pml|-DCROSSNS -DBUG4|bug|lease: finds LOCKED set before the lock (BUG4)"
	"lease.pml|-DCROSSNS -DBUG5|bug|lease: finds the lock dropped before the word (BUG5)"
	"lease.pml|-DCROSSNS -DBUG6|bug|lease: finds a release that overwrites a taker (BUG6)"
	"shared.pml||clean|shared: 2 members, 3 messages, a death or close at every step"
	"shared.pml|-DEXITS=2 -DM=2|clean|shared: 2 members, 2 messages, two deaths or closes"
	"shared.pml|-DM=4 -DHOLE=1|clean|shared: 4 positions, a dead producer's claim at 1"
	"shared.pml|-DPROD -DM=2 -DR=1|clean|shared: a producer waiting for room, 1 slot"
	"shared.pml|-DBUG8|bug|shared: finds the hold stored after the CAS of next (BUG8)"
	"shared.pml|-DBUG9|bug|shared: finds a scan that reads the holds before next (BUG9)"
	"shared.pml|-DBUG11|bug|shared: finds the cursor left short by a killed scan (BUG11)"
	"shared.pml|-DBUG12|bug|shared: finds a close that drops what it holds (BUG12)"
	"shared.pml|-DBUG13|bug|shared: finds a failed claim's hold taken over as the seat's (BUG13)"
	"shared.pml|-DBUG14|bug|shared: finds a won claim's stretch dropped, unconfirmed (BUG14)"
)
# check N MODEL FLAGS WANT NAME: one check, its TAP line(s) on stdout
check() {
	local n=$1 model=$2 flags=$3 want=$4 name=$5
	local d="$work/$n" out errors states
	mkdir -p "$d"
	# shellcheck disable=SC2086
	(cd "$d" && spin $flags -a "$here/$model" >spin.out 2>&1 &&
		gcc -O2 -w -DSAFETY -DCOLLAPSE -DMEMLIM=4096 -DVECTORSZ=1024 \
			-o pan pan.c >cc.out 2>&1 &&
		./pan -m200000 >pan.out 2>&1)
	out="$d/pan.out"
	errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$out" 2>/dev/null | head -1)
	states=$(sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' "$out" 2>/dev/null | head -1)
	if [ -z "$errors" ]; then
		echo "not ok $n - $name (spin did not finish: see $d)"
	elif [ "$want" != bug ] && [ "$errors" = 0 ] &&
		grep -q 'depth-limit\|max search depth too small\|reached -DMEMLIM' "$out"; then
		echo "not ok $n - $name (search truncated)"
	elif [ "$want" = clean ] && [ "$errors" = 0 ]; then
		echo "ok $n - $name ($states states)"
	elif [ "$want" = todo ] && [ "$errors" = 0 ]; then
		echo "ok $n - $name ($states states) # TODO verifies now: make it clean"
	elif [ "$want" = todo ]; then
		echo "not ok $n - $name # TODO $(grep -m1 '^pan:1:' "$out" | cut -c1-60)"
	elif [ "$want" = bug ] && [ "$errors" != 0 ]; then
		echo "ok $n - $name ($(grep -m1 '^pan:1:' "$out" | cut -c1-80))"
	else
		echo "not ok $n - $name (errors: $errors)"
		grep -m3 '^pan:' "$out" | sed 's/^/# /'
	fi
}

# MODEL_JOBS checks at a time (default: one per CPU); TAP lines in order.
jobs_max=${MODEL_JOBS:-$(nproc 2>/dev/null || echo 1)}
echo "1..${#checks[@]}"
n=0
for c in "${checks[@]}"; do
	IFS='|' read -r model flags want name <<<"$c"
	n=$((n + 1))
	while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do
		wait -n
	done
	mkdir -p "$work/$n"
	check "$n" "$model" "$flags" "$want" "$name" >"$work/$n/tap" &
done
wait
for i in $(seq 1 "$n"); do
	cat "$work/$i/tap"
done
[ -n "${MODEL_BUILD:-}" ] || rm -rf "$work"

#!/bin/bash
# tests/model/run.sh - check the Promela models with spin; TAP output.
#
# Each clean model must verify with no error (assertions, invalid end
# states); each BUG flag puts one known defect back, and spin must find it.
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
)
echo "1..${#checks[@]}"
n=0
for c in "${checks[@]}"; do
	IFS='|' read -r model flags want name <<<"$c"
	n=$((n + 1))
	d="$work/$n"
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
	elif [ "$want" = clean ] && [ "$errors" = 0 ] &&
		grep -q 'depth-limit\|max search depth too small' "$out"; then
		echo "not ok $n - $name (search truncated)"
	elif [ "$want" = clean ] && [ "$errors" = 0 ]; then
		echo "ok $n - $name ($states states)"
	elif [ "$want" = bug ] && [ "$errors" != 0 ]; then
		echo "ok $n - $name ($(grep -m1 '^pan:1:' "$out" | cut -c1-80))"
	else
		echo "not ok $n - $name (errors: $errors)"
		grep -m3 '^pan:' "$out" | sed 's/^/# /'
	fi
done
[ -n "${MODEL_BUILD:-}" ] || rm -rf "$work"

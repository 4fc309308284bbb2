#!/bin/bash
# examples.t - the programs in examples/ (the README's snippets, complete)
# build against the installed layout, as a user builds them: `make install`
# into a temporary DESTDIR, then the header and flags from its libring.pc
# (pkg-config), -Wall -Wextra -Werror; each runs and succeeds with the
# installed shared library. Runs from the repository root.

. "$(dirname "$0")/lib/tap.sh"
tap_tmpdir examples /tmp
examples=(examples/*.c)
plan $(( 1 + 2 * ${#examples[@]} ))

dest=$TMP/dest
env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS -u SANITIZE \
	make -s install DESTDIR="$dest" PREFIX=/usr > "$TMP/log" 2>&1
ok $? "make install DESTDIR=... PREFIX=/usr" "$(tail -n 5 "$TMP/log")"
export PKG_CONFIG_SYSROOT_DIR=$dest PKG_CONFIG_LIBDIR=$dest/usr/lib/pkgconfig
flags=$(pkg-config --cflags --libs libring)
for f in "${examples[@]}"; do
	name=$(basename "$f" .c)
	# shellcheck disable=SC2086
	cc -std=gnu11 -Wall -Wextra -Werror "$f" $flags -o "$TMP/$name" \
		2> "$TMP/cc.log"
	ok $? "$name builds against the installed header and libring.pc" \
		"$(cat "$TMP/cc.log")"
	LD_LIBRARY_PATH=$dest/usr/lib t "$TMP/$name" > "$TMP/out" 2>&1
	ok $? "$name runs" "$(cat "$TMP/out")"
done
finish

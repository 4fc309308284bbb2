#!/bin/bash
# install.t - `make install` lays out a usable library: header, static and
# shared library with its SONAME, only ring_* symbols exported, pkg-config
# file, programs and manual pages; a program builds against it and runs.
set -u
cd "$(dirname "$0")/.." || exit 1
n=0; failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi; }

echo "1..18"
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS -u SANITIZE make -s install DESTDIR="$dest" PREFIX=/usr LDCONFIG="touch $dest/ldconfig-ran" >"$dest/log" 2>&1
ok $? "make install DESTDIR=... PREFIX=/usr"
ok "$([ -f "$dest/usr/include/ring.h" ]; echo $?)" "header installed"
ok "$([ -f "$dest/usr/lib/libring.a" ] && [ -L "$dest/usr/lib/libring.so" ]; echo $?)" "static and shared libraries"
soname=$(readelf -d "$dest/usr/lib/libring.so.0" 2>/dev/null | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
ok "$([ "$soname" = libring.so.0 ]; echo $?)" "SONAME is libring.so.0 ($soname)"
others=$(nm -D --defined-only "$dest/usr/lib/libring.so.0" | awk '$2 ~ /^[TDBR]$/ {print $3}' | grep -v '^ring_' | tr '\n' ' ')
ok "$([ -z "$others" ]; echo $?)" "only ring_* symbols exported${others:+ (also: $others)}"
ok "$([ -x "$dest/usr/bin/ringctl" ] && [ -f "$dest/usr/share/man/man3/ring_open.3" ] && [ -f "$dest/usr/share/man/man7/libring.7" ] && [ -f "$dest/usr/share/man/man5/libring.5" ]; echo $?)" "programs and manual pages (sections 1, 3, 5, 7)"
ok "$([ ! -e "$dest/usr/bin/ring-bench" ]; echo $?)" "ring-bench (a development tool) is not installed"
ok "$([ -L "$dest/usr/share/man/man3/ring_commit.3" ] && [ -f "$dest/usr/share/man/man3/ring_commit.3" ]; echo $?)" "link pages are installed as links to their page"
ok "$([ ! -e "$dest/ldconfig-ran" ]; echo $?)" "a staged install (DESTDIR) runs no ldconfig"
flags=$(PKG_CONFIG_SYSROOT_DIR="$dest" PKG_CONFIG_PATH="$dest/usr/lib/pkgconfig" pkg-config --cflags --libs libring 2>/dev/null)
ok $? "pkg-config knows libring ($flags)"
cat >"$dest/hello.c" <<'C'
#include <ring.h>
#include <stdio.h>
#include <unistd.h>
int main(void)
{
	char path[64];
	struct ring *r;
	struct ring_reader *rd;
	struct ring_msg m;

	snprintf(path, sizeof(path), "/dev/shm/libring-t-install-%d", (int)getpid());
	if (ring_create(path, NULL, 0, &r))
		return 1;
	if (ring_reader_open(r, "g", RING_GROUP_CREATE, &rd) ||
	    ring_send(r, 1, "hi", 2, 0, NULL) ||
	    ring_peek(rd, &m, RING_NONBLOCK, NULL) || m.len != 2)
		return 2;
	ring_release(rd);
	ring_close(r);
	return ring_unlink(path) ? 3 : 0;
}
C
cc -I"$dest/usr/include" -o "$dest/hello" "$dest/hello.c" -L"$dest/usr/lib" -lring 2>"$dest/cc.log"
ok $? "a program compiles and links against the installed library"
LD_LIBRARY_PATH="$dest/usr/lib" "$dest/hello"
ok $? "and runs with the shared library"
env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS -u SANITIZE make -s uninstall DESTDIR="$dest" PREFIX=/usr >"$dest/log" 2>&1
ok $? "make uninstall DESTDIR=... PREFIX=/usr"
left=$(cd "$dest" && find usr ! -type d | tr '\n' ' ')
ok "$([ -z "$left" ]; echo $?)" "uninstall removes every file install made${left:+ (left: $left)}"
# The live system is simulated by a PREFIX with no DESTDIR: as root, that
# runs ldconfig (here a stand-in that leaves a mark).
if [ "$(id -u)" = 0 ]; then
	live=$dest/live
	env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS -u SANITIZE make -s install PREFIX="$live" LDCONFIG="touch $dest/ldconfig-ran" >"$dest/log" 2>&1
	ok "$([ -e "$dest/ldconfig-ran" ]; echo $?)" "installing without DESTDIR as root runs ldconfig"
	rm -f "$dest/ldconfig-ran"
	env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS -u SANITIZE make -s uninstall PREFIX="$live" LDCONFIG="touch $dest/ldconfig-ran" >"$dest/log" 2>&1
	left=$(cd "$live" && find . ! -type d | tr '\n' ' ')
	ok "$([ -z "$left" ] && [ -e "$dest/ldconfig-ran" ]; echo $?)" "and uninstall removes it all and runs ldconfig again${left:+ (left: $left)}"
else
	echo "ok 15 # skip not root: ldconfig after a live install"
	echo "ok 16 # skip not root: ldconfig after uninstall"
fi
# A package build never installs packages: with pkg-config finding nothing
# (so every dependency looks missing), NO_DEPS=1 and DEB_BUILD_OPTIONS make
# the build stop with the command to run; a stand-in apt-get first in PATH
# tells whether the Makefile called it.
mkdir -p "$dest/fakebin"
printf '#!/bin/sh\necho "$*" >> %s/apt-called\nexit 1\n' "$dest" > "$dest/fakebin/apt-get"
chmod +x "$dest/fakebin/apt-get"
for how in NO_DEPS=1 DEB_BUILD_OPTIONS=nocheck; do
	rm -f "$dest/apt-called"
	env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS -u SANITIZE PATH="$dest/fakebin:$PATH" \
		make -n PKG_CONFIG=false "$how" >"$dest/log" 2>&1
	st=$?
	ok "$([ $st != 0 ] && [ ! -e "$dest/apt-called" ] && grep -q 'apt-get install' "$dest/log"; echo $?)" \
		"with $how a missing package stops the build, naming it, without apt-get" \
		"$(cat "$dest/log" "$dest/apt-called" 2>/dev/null)"
done
exit $((failed > 254 ? 254 : failed))

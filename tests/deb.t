#!/bin/bash
# deb.t - the Debian packages build from a clean clone of the committed
# tree with `make deb` (dpkg-buildpackage -us -uc -b, nocheck: the suite
# runs here anyway) without the Makefile calling apt-get: libring0 (the
# shared library), libring-dev (header, static library, .pc, sections 3
# and 7), libring-tools (the programs and their pages, not ring-bench),
# with their Depends; lintian finds no error; as root, `apt install
# ./libring*.deb` installs them, the programs run and an example builds
# with the installed .pc, and the packages are purged again.
# Skipped without dpkg-buildpackage, debhelper or git. Runs from the
# repository root.

. "$(dirname "$0")/lib/tap.sh"
for tool in dpkg-buildpackage dh git; do
	command -v "$tool" > /dev/null 2>&1 ||
		{ echo "1..0 # skip $tool is not installed"; exit 0; }
done
git rev-parse --git-dir > /dev/null 2>&1 ||
	{ echo "1..0 # skip not a git checkout"; exit 0; }
tap_tmpdir deb /tmp
plan 16

git clone -q "$PWD" "$TMP/src" 2> "$TMP/clone.log"
ok $? "a clean clone of the committed tree" "$(cat "$TMP/clone.log")"
# A fake apt-get first in PATH: the package build must never call it.
mkdir -p "$TMP/fakebin"
printf '#!/bin/sh\necho "apt-get $*" >> %s/apt-called\nexit 1\n' "$TMP" \
	> "$TMP/fakebin/apt-get"
chmod +x "$TMP/fakebin/apt-get"
(cd "$TMP/src" && env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS -u SANITIZE \
	PATH="$TMP/fakebin:$PATH" DEB_BUILD_OPTIONS="nocheck parallel=2" \
	timeout 600 make deb) > "$TMP/build.log" 2>&1
ok $? "make deb builds the packages" "$(tail -n 20 "$TMP/build.log")"
ok "$([ ! -e "$TMP/apt-called" ]; echo $?)" "without calling apt-get" \
	"$(cat "$TMP/apt-called" 2>/dev/null)"

deb() { ls "$TMP"/"$1"_*.deb 2>/dev/null | head -n 1; }
files() { dpkg-deb -c "$(deb "$1")" 2>/dev/null | awk '{print $6}'; }
ok "$([ -n "$(deb libring0)" ] && [ -n "$(deb libring-dev)" ] &&
	[ -n "$(deb libring-tools)" ] && [ -n "$(deb python3-libring)" ]; echo $?)" \
	"libring0, libring-dev, libring-tools and python3-libring" \
	"$(ls "$TMP")"
files libring0 > "$TMP/l0"
ok "$(grep -q '/libring\.so\.0$' "$TMP/l0" && ! grep -q 'ring\.h$\|/bin/' "$TMP/l0"; echo $?)" \
	"libring0 holds the shared library only" "$(cat "$TMP/l0")"
files libring-dev > "$TMP/dev"
ok "$(for f in /usr/include/ring.h '/libring\.a' '/libring\.so$' '/pkgconfig/libring\.pc' \
	'/man3/ring_open\.3\.gz' '/man5/libring\.5\.gz' '/man7/libring\.7\.gz'; do
	grep -q "$f" "$TMP/dev" || exit 1; done; echo 0)" \
	"libring-dev: header, static library, .so link, .pc, sections 3, 5 and 7"
files libring-tools > "$TMP/tools"
ok "$(for p in ringctl ring-send ring-recv ring-ship ring-tail; do grep -q "/usr/bin/$p$" "$TMP/tools" || exit 1; done
	grep -q '/man1/ring-ship\.1\.gz$' "$TMP/tools" && ! grep -q ring-bench "$TMP/tools"; echo $?)" \
	"libring-tools: the programs and their pages, not ring-bench"
files python3-libring > "$TMP/py"
ok "$(grep -q '^\./usr/lib/python3/dist-packages/libring\.cpython-.*\.so$' "$TMP/py" &&
	grep -q '/dist-packages/libring\.pyi$' "$TMP/py"; echo $?)" \
	"python3-libring: the module and its stubs in /usr/lib/python3/dist-packages" \
	"$(cat "$TMP/py")"
ver=$(dpkg-deb -f "$(deb libring0)" Version)
is "$(dpkg-deb -f "$(deb libring-dev)" Depends)" "libring0 (= $ver)" \
	"libring-dev depends on exactly its libring0"
dpkg-deb -f "$(deb libring-tools)" Depends | grep -q "libring0 (>= "
ok $? "libring-tools depends on libring0 (programs use the shared library)" \
	"$(dpkg-deb -f "$(deb libring-tools)" Depends)"

if command -v lintian > /dev/null 2>&1; then
	lintian --fail-on error "$TMP"/libring_*.changes > "$TMP/lintian" 2>&1
	ok $? "lintian finds no error" "$(cat "$TMP/lintian")"
	grep -v 'root privileges' "$TMP/lintian" | sed 's/^/# lintian: /'
else
	echo "ok $((n += 1)) # skip lintian is not installed"
fi

if [ "$(id -u)" != 0 ] || dpkg-query -W libring0 > /dev/null 2>&1; then
	for what in "apt install" "programs run" "example builds" "python" "purge"; do
		echo "ok $((n += 1)) # skip $what: not root, or libring0 already installed"
	done
	finish
	exit
fi
(cd "$TMP" && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
	install -y -q ./libring0_*.deb ./libring-dev_*.deb ./libring-tools_*.deb \
	./python3-libring_*.deb) \
	> "$TMP/apt.log" 2>&1
ok $? "apt install ./libring*.deb" "$(tail -n 5 "$TMP/apt.log")"
R=prog-$$-deb
/usr/bin/ringctl create "$R" --capacity 64K --group g &&
	/usr/bin/ring-send "$R" -q -m installed &&
	[ "$(/usr/bin/ring-recv "$R" --group g)" = installed ] &&
	/usr/bin/ringctl --version | grep -q "^ringctl (libring) $ver$"
ok $? "the installed programs run (ringctl, ring-send, ring-recv)"
cc -Wall -Werror /usr/share/doc/libring-dev/examples/resume.c \
	$(pkg-config --cflags --libs libring) -o "$TMP/resume" 2> "$TMP/cc.log" &&
	"$TMP/resume" > /dev/null
ok $? "an example builds with the installed .pc and runs" "$(cat "$TMP/cc.log")"
(cd / && env -u PYTHONPATH /usr/bin/python3 -c 'import libring, sys
with libring.open(sys.argv[1]) as r: sys.exit(r.stats().committed != 1)' "/dev/shm/$R") \
	2> "$TMP/py.log"
ok $? "the installed Python module imports and reads the ring" "$(cat "$TMP/py.log")"
rm -f "/dev/shm/$R"
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
	purge -y -q libring0 libring-dev libring-tools python3-libring \
	> "$TMP/purge.log" 2>&1
ok "$([ $? = 0 ] && [ ! -e /usr/bin/ringctl ] && [ ! -e /usr/include/ring.h ]; echo $?)" \
	"and they purge cleanly" "$(tail -n 5 "$TMP/purge.log")"
finish

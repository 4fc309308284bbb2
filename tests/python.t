#!/bin/bash
# python.t - the Python module's pytest suite (python/tests), one TAP line
# per pytest test. Skips as a whole (never passes) when the interpreter,
# pytest (Debian python3-pytest) or the built module (python3-dev, `make
# python`) is missing. The module is looked for beside RING_BIN: bin ->
# python/, build/san-*/bin -> build/san-*/python/. RING_PYTHON names the
# interpreter it was built for (make exports it; default as python/rules.mk).
cd "$(dirname "$0")/.." || exit 1
BIN=${RING_BIN:-bin}
PYDIR=$(dirname "$BIN")/python
PY=${RING_PYTHON:-$( [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || echo python3)}

if ! command -v "$PY" >/dev/null 2>&1; then
	echo "1..0 # SKIP no $PY"
	exit 0
fi
if ! "$PY" -c 'import pytest' 2>/dev/null; then
	echo "1..0 # SKIP pytest missing for $PY (apt-get install python3-pytest)"
	exit 0
fi
mod=$(ls "$PYDIR"/libring.*.so 2>/dev/null | head -1)
if [ -z "$mod" ]; then
	echo "1..0 # SKIP the module is not built in $PYDIR (make python; needs python3-dev)"
	exit 0
fi
# A sanitizer build of the module needs its runtime loaded first.
preload=
if readelf -d "$mod" 2>/dev/null | grep -q 'libasan'; then
	preload=$(${CC:-gcc} -print-file-name=libasan.so)
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
LD_PRELOAD=$preload PYTHONPATH="$PYDIR${PYTHONPATH:+:$PYTHONPATH}" \
	RING_BIN="$BIN" PYTHONDONTWRITEBYTECODE=1 timeout 600 \
	"$PY" -m pytest -q -p no:cacheprovider --junitxml="$tmp/junit.xml" \
	python/tests > "$tmp/log" 2>&1
status=$?
"$PY" - "$tmp/junit.xml" "$status" "$tmp/log" <<'PY'
import sys
import xml.etree.ElementTree as ET

junit, status, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def diag(text):
    for line in text.rstrip().splitlines()[-40:]:
        print("# " + line)


try:
    cases = list(ET.parse(junit).getroot().iter("testcase"))
except (OSError, ET.ParseError) as e:
    cases = []
# pytest exits 0 (all passed) or 1 (some failed); anything else (errors in
# collection, usage, interrupted) is one more failure.
extra = status not in (0, 1) or not cases
print("1..%d" % (len(cases) + extra))
n = 0
for c in cases:
    n += 1
    name = "%s::%s" % (c.get("classname", "").rsplit(".", 1)[-1],
                       c.get("name"))
    bad = c.find("failure")
    if bad is None:
        bad = c.find("error")
    skip = c.find("skipped")
    if bad is not None:
        print("not ok %d - %s" % (n, name))
        diag(bad.get("message", "") + "\n" + (bad.text or ""))
    elif skip is not None:
        print("ok %d - %s # SKIP %s" % (n, name, skip.get("message", "")))
    else:
        print("ok %d - %s" % (n, name))
if extra:
    print("not ok %d - pytest ran (exit status %d)" % (n + 1, status))
    diag(open(log).read())
PY

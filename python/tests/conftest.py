"""Shared fixtures of the libring Python suite (run by tests/python.t).

The module is found on PYTHONPATH (python/ for a normal build); the
programs (ring-send, ring-recv) in $RING_BIN, default bin/ of the
repository.
"""

import os
import pathlib

import pytest

import libring

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture
def path(request):
    """A fresh ring path in /dev/shm, removed after the test."""
    name = "/dev/shm/libring-py-%d-%s" % (
        os.getpid(), request.node.name.replace("[", "-").replace("]", ""))
    for p in (name, name + ".2"):
        if os.path.lexists(p):
            os.unlink(p)
    yield name
    for p in (name, name + ".2"):
        if os.path.lexists(p):
            os.unlink(p)


@pytest.fixture
def ring(path):
    """A small read-write ring with group 'g'."""
    with libring.create(path, capacity=1 << 16, groups=["g"]) as r:
        yield r


@pytest.fixture
def bindir():
    """Where ring-send and ring-recv are."""
    d = pathlib.Path(os.environ.get("RING_BIN", ROOT / "bin"))
    if not d.is_absolute():
        d = ROOT / d
    for prog in ("ring-send", "ring-recv"):
        if not os.access(d / prog, os.X_OK):
            pytest.skip("%s not built in %s (make)" % (prog, d))
    return d

"""Waiting: timeouts, the GIL released while waiting, Ctrl-C."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import libring


def test_take_times_out(ring):
    with ring.reader("g") as rd:
        t = time.monotonic()
        assert rd.take(timeout=0.2) is None
        assert time.monotonic() - t >= 0.2
        t = time.monotonic()
        assert list(rd.messages(timeout=0.1)) == []
        assert time.monotonic() - t >= 0.1
        assert rd.poll(timeout=0.1) == []


def test_send_times_out_on_a_full_ring(path):
    with libring.create(path, capacity=1 << 12, groups=["g"]) as r:
        while r.send(b"x" * 48, when_full="drop"):
            pass
        t = time.monotonic()
        with pytest.raises(TimeoutError) as e:
            r.send(b"y", timeout=0.2)
        assert time.monotonic() - t >= 0.2
        assert e.value.strerror == libring.strerror(e.value.errno)
        with pytest.raises(TimeoutError):
            with r.reserve(8, timeout=0.05):
                pass


def test_waiting_reader_lets_other_threads_run(ring):
    """A reader waiting in take() must not hold the GIL: the main thread
    runs meanwhile and sends the message the reader is waiting for."""
    got = []
    with ring.reader("g") as rd:
        t = threading.Thread(target=lambda: got.append(rd.take(timeout=5)))
        t.start()
        spins = 0
        end = time.monotonic() + 0.3
        while time.monotonic() < end:
            spins += 1
        ring.send(b"wake")
        t.join()
        assert got and got[0] is not None and bytes(got[0].data) == b"wake"
        assert spins > 1000
        # While one thread waits on the reader, another is refused.
        got = []
        t = threading.Thread(target=lambda: got.append(rd.take(timeout=30)))
        t.start()
        refused = False
        while not refused and t.is_alive():
            try:
                assert rd.take(timeout=0) is None
            except RuntimeError:
                refused = True
        ring.send(b"done")
        t.join()
        assert refused and bytes(got[0].data) == b"done"


def test_waiting_producer_lets_other_threads_run(path):
    with libring.create(path, capacity=1 << 12, groups=["g"]) as r, \
            r.reader("g") as rd:
        while r.send(b"x" * 48, when_full="drop"):
            pass
        dropped = r.stats().dropped
        done = []
        t = threading.Thread(target=lambda: done.append(
            r.send(b"late", timeout=5)))
        t.start()
        n = sum(1 for _ in rd.messages(timeout=0))   # makes room
        t.join()
        assert done == [True] and n > 0
        assert r.stats().dropped == dropped


CHILD = textwrap.dedent("""
    import sys, time, libring
    path, what = sys.argv[1], sys.argv[2]
    r = libring.open(path)
    if what == "send":
        while r.send(b"x" * 48, when_full="drop"):
            pass
    rd = r.reader("g") if what == "take" else None
    print("ready", flush=True)
    try:
        if what == "take":
            rd.take()
        else:
            r.send(b"y")
    except KeyboardInterrupt:
        sys.exit(42)
    sys.exit(1)
""")


@pytest.mark.parametrize("what", ["take", "send"])
def test_ctrl_c_interrupts_a_wait(path, what):
    """SIGINT (Ctrl-C) ends a wait without limit with KeyboardInterrupt.
    The waits are cut into 50 ms slices, so it takes well under 100 ms;
    the bound here is loose (a test never fails on a slow machine)."""
    libring.create(path, capacity=1 << 12, groups=["g"]).close()
    env = dict(os.environ)
    child = subprocess.Popen([sys.executable, "-c", CHILD, path, what],
                             stdout=subprocess.PIPE, env=env)
    try:
        assert child.stdout.readline() == b"ready\n"
        time.sleep(0.2)     # let it go to sleep (earlier works as well)
        t = time.monotonic()
        child.send_signal(signal.SIGINT)
        assert child.wait(timeout=10) == 42
        latency = time.monotonic() - t
    finally:
        child.kill()
        child.wait()
    assert latency < 2.0, latency

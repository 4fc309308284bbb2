"""Observers: read without consuming, read-only, overruns counted and
never delivered."""

import hashlib
import os
import struct

import pytest

import libring


def payload(seq):
    body = struct.pack("<Q", seq) + bytes(24)
    return body + hashlib.sha256(body).digest()[:8]


def intact(data, seq=None):
    body, tag = bytes(data[:-8]), bytes(data[-8:])
    if hashlib.sha256(body).digest()[:8] != tag:
        return False
    return seq is None or struct.unpack("<Q", body[:8])[0] == seq


def test_observe_from_oldest_reads_and_consumes_nothing(ring):
    for i in range(10):
        ring.send(payload(i))
    with ring.observe() as obs:
        got = [obs.take(timeout=0) for _ in range(10)]
        assert all(intact(m.data, i) for i, m in enumerate(got))
        assert obs.take(timeout=0) is None
        assert obs.lost == 0
        assert obs.stats()["delivered"] == 10
    # The group's cursor did not move: its reader still gets all ten.
    assert ring.group_stats("g").lag_messages == 10


def test_observe_from_newest(ring):
    ring.send(b"old")
    with libring.observe(ring.path, from_="newest") as obs:
        assert obs.take(timeout=0) is None
        ring.send(b"new")
        m = obs.take(timeout=1)
        assert bytes(m.data) == b"new"


def test_observe_a_position(ring):
    for i in range(3):
        ring.send(payload(i))
    with ring.observe() as obs:
        first = obs.take(timeout=0)
        second = obs.take(timeout=0)
        obs.seek(second.pos)
        assert intact(obs.take(timeout=0).data, 1)
        obs.seek("oldest")
        assert obs.take(timeout=0).pos == first.pos
    with pytest.raises(ValueError):
        ring.observe(from_="middle")


def test_overrun_is_counted_never_delivered(path):
    # No group: producers never wait, and lap the observer at will.
    with libring.create(path, capacity=4096, slot_size=16) as r, \
            r.observe() as obs:
        seq = 0
        delivered = 0
        last = -1
        for _ in range(200):
            for _ in range(100):
                r.send(payload(seq))
                seq += 1
            for _ in range(3):
                m = obs.take(timeout=0)
                if m is None:
                    break
                assert intact(m.data)
                n = struct.unpack("<Q", bytes(m.data[:8]))[0]
                assert n > last     # in order, nothing twice
                last = n
                delivered += 1
        assert obs.lost > 0 and obs.stats()["overruns"] > 0
        assert delivered > 0


def test_an_unprivileged_user_observes_a_0644_ring(path):
    if os.getuid() != 0:
        pytest.skip("needs root to become another user")
    with libring.create(path, capacity=1 << 16, groups=["g"], mode=0o644) as r:
        r.send(b"visible")
        before = open(path, "rb").read()
        rd, wr = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.setgid(65534)
                os.setuid(65534)
                try:
                    libring.open(path, "w")
                    code = 2
                except PermissionError:
                    with libring.observe(path) as obs:
                        m = obs.take(timeout=1)
                        if m is not None and bytes(m.data) == b"visible":
                            code = 0
                os.write(wr, bytes([code]))
            finally:
                os._exit(0)
        os.close(wr)
        result = os.read(rd, 1)
        os.waitpid(pid, 0)
        assert result == b"\x00"
        assert open(path, "rb").read() == before

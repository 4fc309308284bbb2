"""Shared groups: work sharing among readers of one group."""

import errno
import os

import pytest

import libring

from test_processes import fork, reap


def test_each_message_to_one_member(path):
    with libring.create(path, capacity=1 << 16) as r:
        r.create_group("work", shared=True, members=2)
        a = r.reader("work")
        b = r.reader("work")
        with pytest.raises(OSError) as e:
            r.reader("work")
        assert e.value.errno == errno.EBUSY
        for i in range(100):
            r.send(b"%d" % i)
        got_a = [bytes(m.data) for m in a.poll(max=30, timeout=0)]
        got_b = []
        while True:
            batch = b.poll(max=7, timeout=0)
            if not batch:
                break
            got_b += [bytes(m.data) for m in batch]
        got_a += [bytes(m.data) for m in a.poll(timeout=0)]
        assert len(got_a) == 30 and len(got_b) == 70
        assert sorted(got_a + got_b, key=int) == [b"%d" % i
                                                   for i in range(100)]
        assert got_a == sorted(got_a, key=int)
        a.close()
        b.close()


def test_a_dead_members_messages_go_to_another(path):
    with libring.create(path, capacity=1 << 16) as r:
        r.create_group("work", shared=True)
        for i in range(10):
            r.send(b"%d" % i)

        def taker():
            with libring.open(path) as c:
                rd = c.reader("work")
                batch = rd.poll(max=4, timeout=0)
                assert len(batch) == 4
                # Takes the next four and dies holding them.
                rd.take(timeout=0)
                os.kill(os.getpid(), 9)
        reap(fork(taker))
        with r.reader("work") as rd:
            got = []
            while True:
                batch = rd.poll(timeout=0.3)
                if not batch:
                    break
                got += [int(bytes(m.data)) for m in batch]
        assert sorted(got) == list(range(4, 10))


def test_argument_checks(path):
    with libring.create(path, capacity=1 << 16) as r:
        with pytest.raises(ValueError):
            r.create_group("w", shared=True, members=65)
        with pytest.raises(ValueError):
            r.create_group("w", members=3)
        rd = r.reader("new", create=True, shared=True, members=1)
        with pytest.raises(OSError) as e:
            r.reader("new")
        assert e.value.errno == errno.EBUSY
        rd.close()

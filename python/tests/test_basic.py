"""Creating, opening, producing, reading, counters and errors."""

import errno
import os

import pytest

import libring


def drain(reader):
    return [(m.type, bytes(m.data)) for m in reader.messages(timeout=0)]


def test_round_trip_types_and_fields(ring):
    assert ring.send(b"hello", type=7) is True
    assert ring.send(bytearray(b"world")) is True
    assert ring.send(memoryview(b"xxmidxx")[2:5], type=2**32 - 1)
    assert ring.send(b"") is True
    with ring.reader("g") as rd:
        got = []
        for m in rd.messages(timeout=0):
            got.append((m.type, bytes(m.data), len(m), m.pid, m.pos))
    assert [(t, d) for t, d, _, _, _ in got] == [
        (7, b"hello"), (0, b"world"), (2**32 - 1, b"mid"), (0, b"")]
    assert [n for _, _, n, _, _ in got] == [5, 5, 3, 0]
    assert all(pid == os.getpid() for _, _, _, pid, _ in got)
    pos = [p for _, _, _, _, p in got]
    assert pos == sorted(pos) and len(set(pos)) == 4


def test_send_batch_keeps_order(ring):
    msgs = [b"m%d" % i for i in range(600)]    # more than one claim of 256
    assert ring.send_batch(msgs[:300], type=5) == 300
    assert ring.send_batch(iter(msgs[300:])) == 300
    with ring.reader("g") as rd:
        got = drain(rd)
    assert [d for _, d in got] == msgs
    assert {t for t, _ in got[:300]} == {5}
    assert {t for t, _ in got[300:]} == {0}


def test_released_messages_are_not_read_again(ring):
    ring.send(b"one")
    ring.send(b"two")
    with ring.reader("g") as rd:
        assert [d for _, d in drain(rd)] == [b"one", b"two"]
    ring.send(b"three")
    with ring.reader("g") as rd:
        assert [d for _, d in drain(rd)] == [b"three"]
        assert rd.stats().released == 3


def test_poll_batches(ring):
    for i in range(10):
        ring.send(b"%d" % i)
    with ring.reader("g") as rd:
        first = rd.poll(max=4, timeout=0)
        assert [bytes(m.data) for m in first] == [b"0", b"1", b"2", b"3"]
        assert all(m.valid for m in first)
        second = rd.poll(timeout=0)
        assert not any(m.valid for m in first)
        assert [bytes(m.data) for m in second] == [b"%d" % i
                                                  for i in range(4, 10)]
        assert rd.poll(timeout=0) == []
        with pytest.raises(ValueError):
            rd.poll(max=0)


def test_take_and_timeouts(ring):
    with ring.reader("g") as rd:
        assert rd.take(timeout=0) is None
        assert rd.take(timeout=0.05) is None
        ring.send(b"x", type=3)
        m = rd.take(timeout=1)
        assert m.type == 3 and bytes(m.data) == b"x"


def test_stats(path):
    with libring.create(path, capacity=1 << 16, slot_size=32,
                        groups=["a", "b"], when_full="drop",
                        timestamps=True) as r:
        st = r.stats()
        assert st.capacity == 1 << 16 and st.slot_size == 32
        assert st.slot_count == (1 << 16) // 32
        assert st.groups == 2 and st.when_full == "drop" and st.timestamps
        assert r.when_full == "drop" and r.max_message == st.max_message
        assert sorted(r.groups()) == ["a", "b"]
        for _ in range(3):
            r.send(b"12345678")
        st = r.stats()
        per = -(-(st.header_size + 8) // 32)    # slots per message
        assert st.committed == 3 and st.tail == 3 * per
        with r.reader("a") as rd:
            m = rd.take(timeout=0)
            assert m.timestamp > 0
        gs = r.group_stats("b")
        assert gs.name == "b" and gs.cursor == 0 and gs.lag_messages == 3
        assert gs.lag_slots == 3 * per and gs.lag_bytes == 3 * per * 32
        assert r.group_stats("a").released == 1
        assert st._asdict()["committed"] == 3


def test_groups_created_and_removed(ring):
    ring.create_group("late", from_="newest")
    with pytest.raises(FileExistsError):
        ring.create_group("late")
    ring.send(b"after")
    with ring.reader("late") as rd:
        assert [d for _, d in drain(rd)] == [b"after"]
    ring.remove_group("late")
    assert ring.groups() == ["g"]
    with pytest.raises(FileNotFoundError):
        ring.reader("late")
    with ring.reader("new", create=True, from_="oldest") as rd:
        assert [d for _, d in drain(rd)] == [b"after"]
    with pytest.raises(ValueError):
        ring.reader("x" * (libring.GROUP_NAME_MAX + 1))
    with pytest.raises(ValueError):
        ring.reader("g", from_="middle")


def test_one_reader_per_group(ring):
    with ring.reader("g"):
        with pytest.raises(OSError) as e:
            ring.reader("g")
        assert e.value.errno == errno.EBUSY


def test_errors_are_oserrors_with_libring_text(path):
    with pytest.raises(FileNotFoundError) as e:
        libring.open(path)
    assert e.value.errno == errno.ENOENT and e.value.filename == path
    libring.create(path, capacity=1 << 12).close()
    with pytest.raises(FileExistsError):
        libring.create(path)
    with open(path + ".2", "wb") as f:
        f.write(b"not a ring" * 1000)
    with pytest.raises(OSError) as e:
        libring.open(path + ".2")
    assert e.value.errno == errno.ENOEXEC
    assert e.value.strerror == libring.strerror(errno.ENOEXEC)
    assert "not a ring file" in e.value.strerror
    with pytest.raises(OSError) as e:
        libring.unlink(path + ".2")    # refuses what is no ring
    assert os.path.exists(path + ".2")
    with pytest.raises(OSError) as e:
        libring.create(path + ".3", capacity=1000)
    assert e.value.errno == errno.EINVAL
    with pytest.raises(ValueError):
        libring.open(path, mode="x")


def test_full_ring_policies(path):
    with libring.create(path, capacity=1 << 12, groups=["g"],
                        when_full="fail") as r:
        sent = 0
        with pytest.raises(BlockingIOError) as e:
            while True:
                r.send(b"x" * 48)
                sent += 1
        assert e.value.errno == errno.EAGAIN
        assert sent == 4096 // 64
        with pytest.raises(TimeoutError):
            r.send(b"y", when_full="wait", timeout=0.05)
        assert r.send(b"z", when_full="drop") is False
        assert r.stats().dropped == 1
        with pytest.raises(BlockingIOError) as e:
            r.send_batch([b"a", b"b"])
        assert e.value.sent == 0
        with r.reader("g") as rd:
            rd.take(timeout=0)         # room for exactly one more
        with pytest.raises(BlockingIOError) as e:
            r.send_batch([b"x" * 48, b"x" * 48])
        assert e.value.sent == 1 and e.value.characters_written == 1
        with pytest.raises(OSError) as e:
            r.send(b"x" * (r.max_message + 1))
        assert e.value.errno == errno.EMSGSIZE


def test_read_only_mode(ring, path):
    ring.send(b"x")
    with libring.open(path, mode="r") as ro:
        assert ro.mode == "r" and ro.stats().committed == 1
        with pytest.raises(OSError) as e:
            ro.send(b"y")
        assert e.value.errno == errno.EROFS
        with pytest.raises(OSError) as e:
            ro.reader("g")
        assert e.value.errno == errno.EROFS


def test_private_copy_changes_nothing(ring, path):
    ring.send(b"one")
    ring.send(b"two")
    with libring.open(path, mode="c") as c:
        assert c.mode == "c"
        with c.reader("g") as rd:
            assert [d for _, d in drain(rd)] == [b"one", b"two"]
        c.send(b"only in the copy")
        assert c.stats().committed == 3
    assert ring.stats().committed == 2
    assert ring.group_stats("g").cursor == 0
    with ring.reader("g") as rd:
        assert [d for _, d in drain(rd)] == [b"one", b"two"]
    assert not [f for f in os.listdir("/dev/shm")
                if f.startswith(".libring-copy-%d-" % os.getpid())]


def test_closed_ring(path):
    r = libring.create(path, capacity=1 << 12, groups=["g"])
    rd = r.reader("g")
    r.close()
    assert r.closed and rd.closed
    r.close()                          # twice is fine
    with pytest.raises(ValueError):
        r.send(b"x")
    with pytest.raises(ValueError):
        rd.take(timeout=0)
    assert "closed" in repr(r)


def test_unlink(path):
    libring.create(path, capacity=1 << 12).close()
    libring.unlink(path)
    assert not os.path.exists(path)
    with pytest.raises(FileNotFoundError):
        libring.unlink(path)


def test_path_like(tmp_path):
    p = tmp_path / "ring"
    with libring.create(p, capacity=1 << 12) as r:
        assert r.path == p
    with libring.open(str(p).encode()) as r:
        assert r.stats().capacity == 1 << 12
    libring.unlink(p)


def test_help_reads_well():
    for obj in (libring, libring.Ring, libring.Reader, libring.Message,
                libring.Reservation, libring.create, libring.open,
                libring.unlink, libring.Ring.send, libring.Ring.reserve,
                libring.Reader.poll, libring.RingStats):
        assert obj.__doc__ and len(obj.__doc__) > 40, obj
    import inspect
    sig = inspect.signature(libring.Ring.send)
    assert list(sig.parameters) == ["self", "data", "type", "when_full",
                                    "timeout"]


def test_stub_names_match_module():
    import ast
    import pathlib
    stub = pathlib.Path(__file__).resolve().parents[1] / "libring.pyi"
    tree = ast.parse(stub.read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            names.add(node.name)
            if isinstance(node, ast.ClassDef):
                for sub in node.body:
                    if isinstance(sub, ast.FunctionDef) and \
                            not sub.name.startswith("__"):
                        assert hasattr(getattr(libring, node.name),
                                       sub.name), (node.name, sub.name)
    public = {n for n in dir(libring) if not n.startswith("_")
              and n[0].isalpha() and not n.isupper()}
    assert public == names

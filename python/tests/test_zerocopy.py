"""No copies: reserve() writes in the file, messages are read in place,
and the views end when the reader moves on."""

import gc
import mmap
import os

import pytest

import libring


def file_map(path, write=False):
    fd = os.open(path, os.O_RDWR if write else os.O_RDONLY)
    try:
        return mmap.mmap(fd, 0, access=mmap.ACCESS_WRITE if write
                         else mmap.ACCESS_READ)
    finally:
        os.close(fd)


def test_reserve_writes_land_in_the_file(ring, path):
    token = os.urandom(48)
    plain = file_map(path)
    assert plain.find(token) < 0
    with ring.reserve(len(token), type=9) as buf:
        assert isinstance(buf, memoryview) and not buf.readonly
        assert len(buf) == len(token)
        buf[:] = token
        # Already in the file before the commit: buf is the mapping.
        assert plain.find(token) >= 0
    with ring.reader("g") as rd:
        m = rd.take(timeout=0)
        assert (m.type, bytes(m.data)) == (9, token)
    plain.close()


def test_received_view_shares_memory_with_the_file(ring, path):
    token = os.urandom(32)
    ring.send(token)
    plain = file_map(path, write=True)
    off = plain.find(token)
    assert off >= 0
    with ring.reader("g") as rd:
        m = rd.take(timeout=0)
        data = m.data
        assert data.readonly and data.obj is not None
        assert bytes(data) == token
        # A byte changed through a plain mmap of the file shows in the
        # message's view at once: the view is the mapping, not a copy.
        plain[off] ^= 0xFF
        assert data[0] == token[0] ^ 0xFF
        plain[off] ^= 0xFF
        assert bytes(data) == token
        with pytest.raises(TypeError):
            data[0] = 0
        del data
    plain.close()


def test_reserve_aborts_on_exception(ring):
    with pytest.raises(RuntimeError):
        with ring.reserve(8) as buf:
            buf[:] = b"abortme!"
            raise RuntimeError("handler failed")
    with pytest.raises(ValueError):
        buf[0]                          # the view ended with the block
    ring.send(b"after")
    st = ring.stats()
    assert st.aborted == 1 and st.committed == 1
    with ring.reader("g") as rd:
        assert [bytes(m.data) for m in rd.messages(timeout=0)] == [b"after"]


def test_reserve_explicit_commit_and_position(ring):
    res = ring.reserve(3)
    assert res.pos is None
    with res as buf:
        buf[:] = b"abc"
        assert res.pos == 0
        res.commit()
    with pytest.raises(RuntimeError):
        res.commit()
    with pytest.raises(RuntimeError):
        with res:
            pass
    with ring.reader("g") as rd:
        assert bytes(rd.take(timeout=0).data) == b"abc"


def test_view_that_outlives_the_block_aborts(ring):
    with pytest.raises(BufferError):
        with ring.reserve(8) as buf:
            buf[:] = b"12345678"
            kept = buf[2:4]
    assert ring.stats().committed == 0 and ring.stats().aborted == 1
    kept[0]    # the slice itself is not revoked; nothing was published
    del kept


def test_data_is_released_when_the_next_message_is_taken(ring):
    ring.send(b"first")
    ring.send(b"second")
    with ring.reader("g") as rd:
        m1 = rd.take(timeout=0)
        d1 = m1.data
        assert bytes(d1) == b"first" and m1.valid
        m2 = rd.take(timeout=0)
        assert not m1.valid and m2.valid
        with pytest.raises(ValueError):
            d1[0]
        with pytest.raises(ValueError):
            m1.data
        with pytest.raises(ValueError):
            bytes(m1)
        assert m1.type == 0 and len(m1) == 5   # the header stays readable
        assert bytes(m2) == b"second"


def test_reader_refuses_to_move_on_under_a_held_view(ring):
    ring.send(b"abcdef")
    ring.send(b"next")
    with ring.reader("g") as rd:
        m = rd.take(timeout=0)
        part = m.data[1:3]              # a slice: not revocable
        with pytest.raises(BufferError):
            rd.take(timeout=0)
        assert m.valid and bytes(part) == b"bc"
        with pytest.raises(BufferError):
            ring.close()
        del part
        gc.collect()
        assert bytes(rd.take(timeout=0).data) == b"next"
        assert not m.valid


def test_memoryview_of_a_message(ring):
    ring.send(b"xyz")
    with ring.reader("g") as rd:
        m = rd.take(timeout=0)
        v = memoryview(m)
        assert bytes(v) == b"xyz" and v.readonly
        with pytest.raises(BufferError):
            rd.release()
        v.release()
        rd.release()
        assert not m.valid


def test_dropped_message_objects_cost_nothing(ring):
    for i in range(2000):
        ring.send(b"%d" % i)
    with ring.reader("g") as rd:
        n = sum(1 for m in rd.messages(timeout=0) if len(m.data) > 0)
    assert n == 2000
    # No reference cycles: reference counting alone frees everything.
    assert gc.collect() == 0


def test_wraps_many_times(path):
    with libring.create(path, capacity=1 << 12, groups=["g"]) as r, \
            r.reader("g") as rd:
        for lap in range(3000):
            payload = lap.to_bytes(4, "little") * (1 + lap % 40)
            r.send(payload)
            m = rd.take(timeout=0)
            assert bytes(m.data) == payload
        assert r.stats().tail > 50 * r.stats().slot_count

"""Self-checking payloads: producer id, sequence number, length and a
CRC-32 of a body that is a function of (id, seq)."""

import struct
import zlib

HEAD = struct.Struct("<IIII")


def body(pid, seq):
    n = (seq * 7 + pid * 13) % 200
    return (struct.pack("<II", pid, seq) * (n // 8 + 1))[:n]


def make(pid, seq):
    b = body(pid, seq)
    return HEAD.pack(pid, seq, len(b), zlib.crc32(b)) + b


def check(data):
    """(producer id, seq) of a payload, or AssertionError if it is torn."""
    data = bytes(data)
    pid, seq, n, crc = HEAD.unpack_from(data)
    assert len(data) == HEAD.size + n, (pid, seq, len(data), n)
    b = data[HEAD.size:]
    assert zlib.crc32(b) == crc and b == body(pid, seq), (pid, seq)
    return pid, seq


def len32(payloads):
    return b"".join(struct.pack("<I", len(p)) + p for p in payloads)


def split_len32(blob):
    out, off = [], 0
    while off < len(blob):
        (n,) = struct.unpack_from("<I", blob, off)
        out.append(blob[off + 4:off + 4 + n])
        off += 4 + n
    assert off == len(blob), "a frame cut short"
    return out


def check_streams(seen, complete):
    """seen: {producer: [seq, ...]} in arrival order. Every producer's
    sequence numbers must be 0, 1, 2, ... with no gap or repeat; those in
    complete (producer -> count) must be whole."""
    for pid, seqs in seen.items():
        assert seqs == list(range(len(seqs))), \
            "producer %d out of order or with a gap" % pid
    for pid, count in complete.items():
        assert len(seen.get(pid, [])) == count, \
            "producer %d: %d of %d" % (pid, len(seen.get(pid, [])), count)

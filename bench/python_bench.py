#!/usr/bin/env python3
"""Python transports side by side: one producer process, one reader process.

Each round sends COUNT messages of SIZE bytes (default 200000 x 64) from a
forked producer process to the reader (the parent) over each transport in
turn, interleaved (A B C D A B C D ...) so that a slow moment of the
machine hits every transport alike, and prints the median messages/s of
the rounds and libring's ratio to each other transport.

  libring          ring.send(payload) per message; the reader iterates
                   the group (msg.data: a memoryview in the mapping)
  libring-batch    send_batch() of 64 messages; reader.poll() batches
                   (not in the goals: the others have no batch form)
  mp.Queue         multiprocessing.Queue put() / get()
  mp.Pipe          multiprocessing.Pipe(duplex=False) send_bytes() /
                   recv_bytes()
  os.pipe          one os.write() per message of a 4-byte length and the
                   payload (the same framing as the ring's); the reader
                   reads 64 KiB at a time and cuts the frames apart

Every reader checks each message's length and the total count; a wrong
one fails the run. Goals (issue 12): libring >= 10x mp.Queue and >= 3x
os.pipe.

Usage: PYTHONPATH=python python3 bench/python_bench.py [--count N]
       [--size BYTES] [--rounds R] [--only NAME,...]
(make bench-python runs it with the defaults.)
"""

import argparse
import multiprocessing
import os
import statistics
import struct
import sys
import time

import libring

RING_PATH = "/dev/shm/libring-pybench-%d" % os.getpid()


def run_child(body):
    """Fork a producer running body(); return its pid."""
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            body()
        except BaseException:  # report, never return into the parent's code
            import traceback
            traceback.print_exc()
            code = 1
        os._exit(code)
    return pid


def reap(pid):
    _, status = os.waitpid(pid, 0)
    if status != 0:
        raise RuntimeError("producer failed (status %d)" % status)


def bench_libring(count, payload, batch=False):
    size = len(payload)
    ring = libring.create(RING_PATH, capacity=1 << 22, groups=["bench"])
    try:
        reader = ring.reader("bench")

        def produce():
            with libring.open(RING_PATH) as r:
                if batch:
                    chunk = [payload] * 64
                    left = count
                    while left:
                        n = min(left, 64)
                        left -= r.send_batch(chunk[:n] if n < 64 else chunk)
                else:
                    send = r.send
                    for _ in range(count):
                        send(payload)

        start = time.perf_counter()
        pid = run_child(produce)
        n = 0
        if batch:
            while n < count:
                for m in reader.poll():
                    if len(m.data) != size:
                        raise RuntimeError("bad message length")
                    n += 1
        else:
            for m in reader:
                if len(m.data) != size:
                    raise RuntimeError("bad message length")
                n += 1
                if n == count:
                    break
        elapsed = time.perf_counter() - start
        reap(pid)
        reader.close()
    finally:
        ring.close()
        libring.unlink(RING_PATH)
    return count / elapsed


def bench_queue(count, payload):
    q = multiprocessing.Queue(maxsize=1 << 16)
    size = len(payload)

    def produce():
        put = q.put
        for _ in range(count):
            put(payload)
        q.close()
        q.join_thread()

    start = time.perf_counter()
    pid = run_child(produce)
    get = q.get
    for _ in range(count):
        if len(get()) != size:
            raise RuntimeError("bad message length")
    elapsed = time.perf_counter() - start
    reap(pid)
    return count / elapsed


def bench_mp_pipe(count, payload):
    recv_end, send_end = multiprocessing.Pipe(duplex=False)
    size = len(payload)

    def produce():
        recv_end.close()
        send = send_end.send_bytes
        for _ in range(count):
            send(payload)
        send_end.close()

    start = time.perf_counter()
    pid = run_child(produce)
    send_end.close()
    recv = recv_end.recv_bytes
    for _ in range(count):
        if len(recv()) != size:
            raise RuntimeError("bad message length")
    elapsed = time.perf_counter() - start
    reap(pid)
    recv_end.close()
    return count / elapsed


def bench_os_pipe(count, payload):
    rfd, wfd = os.pipe()
    frame = struct.pack("<I", len(payload)) + payload
    size = len(payload)

    def produce():
        os.close(rfd)
        write = os.write
        for _ in range(count):
            write(wfd, frame)   # 68 bytes: always written whole
        os.close(wfd)

    start = time.perf_counter()
    pid = run_child(produce)
    os.close(wfd)
    unpack_from = struct.unpack_from
    read = os.read
    n = 0
    buf = b""
    while n < count:
        chunk = read(rfd, 1 << 16)
        if not chunk:
            raise RuntimeError("pipe closed early")
        buf = buf + chunk if buf else chunk
        off = 0
        end = len(buf)
        view = memoryview(buf)
        while end - off >= 4:
            (length,) = unpack_from("<I", buf, off)
            if end - off - 4 < length:
                break
            if len(view[off + 4:off + 4 + length]) != size:
                raise RuntimeError("bad message length")
            off += 4 + length
            n += 1
        view.release()
        buf = buf[off:]
    elapsed = time.perf_counter() - start
    reap(pid)
    os.close(rfd)
    return count / elapsed


TRANSPORTS = [
    ("libring", lambda c, p: bench_libring(c, p)),
    ("libring-batch", lambda c, p: bench_libring(c, p, batch=True)),
    ("mp.Queue", bench_queue),
    ("mp.Pipe", bench_mp_pipe),
    ("os.pipe", bench_os_pipe),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=200000)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--only", default="",
                    help="comma-separated transport names")
    args = ap.parse_args()
    if multiprocessing.get_start_method(allow_none=True) is None:
        multiprocessing.set_start_method("fork")
    chosen = [t for t in TRANSPORTS
              if not args.only or t[0] in args.only.split(",")]
    payload = bytes(range(256)) * (args.size // 256 + 1)
    payload = payload[:args.size]
    rates = {name: [] for name, _ in chosen}
    for rnd in range(args.rounds):
        for name, fn in chosen:
            rates[name].append(fn(args.count, payload))
        print("round %d: " % (rnd + 1) + ", ".join(
            "%s %.0f" % (name, rates[name][-1]) for name, _ in chosen),
            file=sys.stderr)
    med = {name: statistics.median(r) for name, r in rates.items()}
    print("python_bench: %d messages of %d bytes, 1 producer process -> "
          "1 reader process, median of %d interleaved rounds"
          % (args.count, args.size, args.rounds))
    print("%-14s %14s %10s" % ("transport", "messages/s", "libring/x"))
    base = med.get("libring")
    for name, _ in chosen:
        ratio = "%.1fx" % (base / med[name]) if base else "-"
        print("%-14s %14.0f %10s" % (name, med[name], ratio))
    if base and "mp.Queue" in med and "os.pipe" in med:
        q = base / med["mp.Queue"]
        p = base / med["os.pipe"]
        print("goals: >= 10x mp.Queue: %s (%.1fx); >= 3x os.pipe: %s (%.1fx)"
              % ("met" if q >= 10 else "NOT met", q,
                 "met" if p >= 3 else "NOT met", p))


if __name__ == "__main__":
    main()

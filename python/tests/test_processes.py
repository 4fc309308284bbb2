"""Several processes: Python and C producers and readers across the
language boundary, killed producers, and handles inherited across fork."""

import os
import random
import signal
import subprocess
import time


import libring
import payloads

K = 2000          # messages per complete producer


def fork(body):
    """Run body() in a child process whose exit status says whether it
    worked (0); it never prints test results."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = body() or 0
        except BaseException:
            code = 3
        os._exit(code)
    return pid


def reap(pid, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    raise AssertionError("child %d did not finish" % pid)


def python_producer(path, ident, count, how):
    def body():
        with libring.open(path) as r:
            if how == "send":
                for s in range(count):
                    r.send(payloads.make(ident, s), type=ident)
            elif how == "reserve":
                for s in range(count):
                    p = payloads.make(ident, s)
                    with r.reserve(len(p), type=ident) as buf:
                        buf[:] = p
            else:
                for s in range(0, count, 100):
                    msgs = [payloads.make(ident, t)
                            for t in range(s, min(s + 100, count))]
                    assert r.send_batch(msgs, type=ident) == len(msgs)
        return 0
    return fork(body)


def test_python_producers_to_ring_recv(path, bindir, tmp_path):
    """Three Python producers (send, reserve, send_batch) and one killed
    holding an open claim, read by ring-recv while they run: every
    committed message arrives once, intact, in order per producer."""
    with libring.create(path, capacity=1 << 16, groups=["g"]) as ring:
        rfd, wfd = os.pipe()
        m_dead = 300

        def doomed():
            os.close(rfd)
            with libring.open(path) as r:
                for s in range(m_dead):
                    r.send(payloads.make(9, s))
                with r.reserve(64) as buf:
                    buf[:8] = b"NEVERSEE"
                    os.write(wfd, b"x")      # holding the claim now
                    time.sleep(600)
            return 0
        dead = fork(doomed)
        os.close(wfd)
        assert os.read(rfd, 1) == b"x"
        os.close(rfd)
        total = 3 * K + m_dead
        out_file = tmp_path / "out"
        recv = subprocess.Popen(
            [str(bindir / "ring-recv"), path, "--group", "g", "--follow",
             "--count", str(total), "--format", "len32"],
            stdout=open(out_file, "wb"))
        pids = [python_producer(path, i, K, how)
                for i, how in enumerate(("send", "reserve", "batch"))]
        os.kill(dead, signal.SIGKILL)
        assert os.waitpid(dead, 0)[1] & 0x7F == signal.SIGKILL
        for p in pids:
            assert reap(p) == 0
        try:
            recv.wait(timeout=60)
        finally:
            recv.kill()
        assert recv.returncode == 0
        out = out_file.read_bytes()
        seen = {}
        for p in payloads.split_len32(out):
            assert not p.startswith(b"NEVERSEE")
            ident, seq = payloads.check(p)
            seen.setdefault(ident, []).append(seq)
        payloads.check_streams(seen, {0: K, 1: K, 2: K, 9: m_dead})
        st = ring.stats()
        assert st.committed == total and st.recovered == 1


def test_ring_send_to_python_reader(path, bindir, tmp_path):
    """Three ring-send processes and one killed at a random point, read
    by a Python reader while they run: nothing committed is lost, order
    per producer is kept, every payload is intact."""
    inputs = []
    for ident in range(3):
        f = tmp_path / ("in%d" % ident)
        f.write_bytes(payloads.len32(payloads.make(ident, s)
                                     for s in range(K)))
        inputs.append(f)
    big = tmp_path / "in9"
    big.write_bytes(payloads.len32(payloads.make(9, s)
                                   for s in range(100000)))
    with libring.create(path, capacity=1 << 16, groups=["g"]) as ring, \
            ring.reader("g") as rd:
        procs = [subprocess.Popen([str(bindir / "ring-send"), path,
                                   "--framing", "len32", "-q"],
                                  stdin=open(f, "rb"))
                 for f in inputs + [big]]
        victim = procs[-1]
        kill_after = random.randrange(50, 5000)
        seen = {}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            m = rd.take(timeout=0.1)
            if m is not None:
                ident, seq = payloads.check(m.data)
                seen.setdefault(ident, []).append(seq)
                if ident == 9 and seq == kill_after:
                    victim.kill()
                continue
            if all(p.poll() is not None for p in procs) and \
                    sum(map(len, seen.values())) == ring.stats().committed:
                break
        else:
            raise AssertionError("the reader did not get everything")
        for p in procs[:-1]:
            assert p.returncode == 0
        payloads.check_streams(seen, {0: K, 1: K, 2: K})
        assert len(seen.get(9, [])) > kill_after


def test_python_producer_killed_at_random(path):
    """Python producers, one SIGKILLed at a random moment of its loop."""
    with libring.create(path, capacity=1 << 15, groups=["g"]) as ring, \
            ring.reader("g") as rd:
        pids = [python_producer(path, i, K, "reserve" if i else "send")
                for i in range(2)]
        victim = python_producer(path, 9, 10 ** 7, "reserve")
        kill_after = random.randrange(10, 3000)
        seen = {}
        alive = set(pids + [victim])
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            m = rd.take(timeout=0.1)
            if m is not None:
                ident, seq = payloads.check(m.data)
                seen.setdefault(ident, []).append(seq)
                if ident == 9 and seq == kill_after:
                    os.kill(victim, signal.SIGKILL)
                continue
            for p in list(alive):
                done, status = os.waitpid(p, os.WNOHANG)
                if done:
                    assert status == 0 or p == victim
                    alive.discard(p)
            if not alive and \
                    sum(map(len, seen.values())) == ring.stats().committed:
                break
        else:
            raise AssertionError("the reader did not get everything")
        payloads.check_streams(seen, {0: K, 1: K})
        assert len(seen[9]) > kill_after


def test_inherited_handle_fails_in_child(ring, path):
    ring.send(b"from parent")
    rd = ring.reader("g")

    def child():
        try:
            ring.send(b"x")
            return 10
        except ChildProcessError as e:
            if "fork" not in e.strerror:
                return 11
        try:
            rd.take(timeout=0)
            return 12
        except ChildProcessError:
            pass
        with libring.open(path) as r:
            r.send(b"from child")
        return 0
    assert reap(fork(child)) == 0
    got = [bytes(m.data) for m in rd.messages(timeout=0)]
    assert got == [b"from parent", b"from child"]
    rd.close()


def test_killed_reader_leaves_its_batch(ring, path):
    """At least once: a reader killed before its next batch leaves the
    messages it had to the group's next reader."""
    for i in range(10):
        ring.send(b"%d" % i)
    rfd, wfd = os.pipe()

    def reader():
        with libring.open(path) as r:
            rd = r.reader("g")
            batch = rd.poll(max=4, timeout=0)
            os.write(wfd, b"%d" % len(batch))
            time.sleep(600)
    pid = fork(reader)
    assert os.read(rfd, 8) == b"4"
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    os.close(rfd)
    os.close(wfd)
    with ring.reader("g") as rd:
        got = [bytes(m.data) for m in rd.messages(timeout=0)]
    assert got == [b"%d" % i for i in range(10)]

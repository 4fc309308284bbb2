// SPDX-License-Identifier: MIT
/*
 * t_observer_lap.c - a producer laps a slow observer thousands of times
 * (H16). Every message carries its sequence number and a checksum, and its
 * length is a function of its sequence number, so the test knows how many
 * slots every message took. For every message the observer delivers:
 *
 *   - it is intact (tu_msg_check: magic, producer, sequence, length, type
 *     tag, checksum of the filler) and newer than the last one (never a
 *     stale message from an earlier lap, never one twice);
 *   - the positions the observer reported lost since the message before
 *     are exactly the slots of the messages in between (the gap);
 *
 * and at the end delivered + lost messages == committed, exactly, and the
 * observer's position is the tail. Three ways of reading: copies, copies
 * with timestamps and 64-byte slots, and zero-copy views read slowly byte
 * by byte (the producer overwrites them while they are read) and validated
 * after use. The views are the reads that producers tear most often
 * (with the check after use taken out, that run delivers torn messages
 * within a few thousand); the copies check the accounting of overruns
 * found before and after a copy.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ring.h"
#include "tap.h"
#include "lib/testutil.h"

enum mode { COPY, COPY_TS64, VIEW };

struct lap_cfg {
	const char *path;
	uint64_t count; /* messages the producer sends */
	uint32_t slot;
	uint32_t hdr;
};

/* Payload length of message @seq: 24..215 bytes, from a hash. */
static uint32_t len_of(uint64_t seq)
{
	uint64_t h = seq * 0x9e3779b97f4a7c15ull;

	return 24 + (uint32_t)((h >> 40) % 192);
}

static uint64_t slots_of(const struct lap_cfg *c, uint64_t seq)
{
	return (c->hdr + len_of(seq) + c->slot - 1) / c->slot;
}

static int producer(void *arg)
{
	const struct lap_cfg *c = arg;
	unsigned char buf[256];
	uint64_t rnd = 99;
	struct ring *r;

	if (ring_open(c->path, 0, &r))
		return 2;
	for (uint64_t s = 0; s < c->count; s++) {
		/* About half the observer's pace: it falls a ring behind
		 * again and again, and still delivers many messages. */
		unsigned n = (unsigned)(tu_rand(&rnd) % 300);

		for (unsigned i = 0; i < n; i++)
			__builtin_ia32_pause();
		tu_msg_fill(buf, len_of(s), 1, s);
		if (ring_send(r, tu_msg_type(1, s), buf, len_of(s), 0, NULL))
			return 3;
	}
	ring_close(r);
	return 0;
}

struct tally {
	uint64_t delivered, lost_msgs, lost_pos_since, overruns_seen;
	int64_t last; /* last sequence delivered, -1 before the first */
	char why[200];
	int bad;
};

/* A delivered message: check it and the gap before it. */
static void take(struct tally *t, const struct lap_cfg *c, const void *data,
		 uint32_t len, uint32_t type)
{
	struct tu_msg h;
	const char *bad;
	uint64_t gap_pos = 0;

	if (t->bad)
		return;
	if (len < sizeof(h)) {
		snprintf(t->why, sizeof(t->why), "short message (%u bytes)", len);
		t->bad = 1;
		return;
	}
	memcpy(&h, data, sizeof(h));
	bad = tu_msg_check(data, len, type, 1, h.seq);
	if (!bad && len != len_of(h.seq))
		bad = "length is not that of its sequence number";
	if (!bad && (int64_t)h.seq <= t->last)
		bad = "stale or repeated (sequence not newer than the last)";
	if (bad) {
		snprintf(t->why, sizeof(t->why), "after seq %lld: %s",
			 (long long)t->last, bad);
		t->bad = 1;
		return;
	}
	for (int64_t s = t->last + 1; s < (int64_t)h.seq; s++)
		gap_pos += slots_of(c, (uint64_t)s);
	if (gap_pos != t->lost_pos_since) {
		snprintf(t->why, sizeof(t->why),
			 "before seq %llu: %llu positions reported lost, the gap is %llu",
			 (unsigned long long)h.seq,
			 (unsigned long long)t->lost_pos_since,
			 (unsigned long long)gap_pos);
		t->bad = 1;
		return;
	}
	t->lost_msgs += h.seq - (uint64_t)(t->last + 1);
	t->lost_pos_since = 0;
	t->last = (int64_t)h.seq;
	t->delivered++;
}

/* Slow down: a few hundred pauses, pseudo-random. */
static void dawdle(uint64_t *rnd)
{
	unsigned n = (unsigned)(tu_rand(rnd) % 600);

	for (unsigned i = 0; i < n; i++)
		__builtin_ia32_pause();
}

/* One read: 1 delivered, 0 nothing, -1 overrun, -2 error (in t->why). */
static int read_one(struct ring_observer *o, enum mode mode, struct tally *t,
		    const struct lap_cfg *c, unsigned flags, uint64_t *rnd)
{
	unsigned char buf[256];
	struct ring_observer_stats st;
	struct ring_msg m;
	struct timespec dl;
	int rc;

	if (mode == VIEW) {
		rc = ring_observer_peek(o, &m, flags, tu_deadline_ms(&dl, 10));
		if (rc == 0) {
			/* Read the view slowly: producers overwrite it. */
			const volatile unsigned char *p = m.data;

			for (uint32_t i = 0; i < m.len && i < sizeof(buf); i++) {
				buf[i] = p[i];
				if ((i & 7) == 0)
					__builtin_ia32_pause();
			}
			rc = ring_observer_release(o);
			m.data = buf;
		}
	} else {
		rc = ring_observer_copy(o, &m, buf, sizeof(buf), flags,
					tu_deadline_ms(&dl, 10));
	}
	if (rc == 0) {
		take(t, c, m.data, m.len, m.type);
		dawdle(rnd);
		return 1;
	}
	if (rc == -EOVERFLOW) {
		ring_observer_stats(o, &st);
		t->lost_pos_since += st.last_lost;
		t->overruns_seen++;
		return -1;
	}
	if (rc == -ETIMEDOUT || rc == -EAGAIN)
		return 0;
	snprintf(t->why, sizeof(t->why), "observer read: %s", ring_strerror(rc));
	return -2;
}

static void run(enum mode mode, const char *name)
{
	char path[TU_PATH_MAX];
	struct ring_config cfg;
	struct lap_cfg c;
	struct ring *r;
	struct ring_observer *o;
	struct ring_observer_stats st;
	struct ring_stats rs;
	struct tally t = { .last = -1 };
	uint64_t rnd = 0x1234567 + mode, total_pos = 0;
	int status = -1, rc, done = 0, err = 0;
	pid_t pid;

	ring_config_init(&cfg);
	cfg.slot_size = mode == COPY_TS64 ? 64 : 16;
	cfg.capacity = mode == COPY_TS64 ? 8192 : 4096;
	cfg.flags = mode == COPY_TS64 ? RING_CFG_TIMESTAMPS : 0;
	rc = ring_create(tu_ring_path(path, "lap"), &cfg, 0, &r);
	if (rc)
		bail_out(ring_strerror(rc));
	c.path = path;
	c.count = TU_SANITIZED ? 100000 : 200000;
	c.slot = cfg.slot_size;
	c.hdr = mode == COPY_TS64 ? 24 : 16;
	for (uint64_t s = 0; s < c.count; s++)
		total_pos += slots_of(&c, s);

	rc = ring_observer_open(path, 0, &o);
	if (rc)
		bail_out(ring_strerror(rc));
	pid = tu_fork(producer, &c);
	if (pid < 0)
		bail_out("fork");
	while (!err) {
		int got = read_one(o, mode, &t, &c, 0, &rnd);

		if (got == -2 || t.bad)
			err = 1;
		else if (got == 0 && !done && waitpid(pid, &status, WNOHANG) == pid)
			done = 1;
		else if (got == 0 && done)
			break;
	}
	if (!done)
		status = tu_wait(pid, 60000) == 0 ? 0 : -1;
	else
		status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	/* The rest: whatever the producer left after the last delivery. */
	while (!err) {
		int got = read_one(o, mode, &t, &c, RING_NONBLOCK, &rnd);

		if (got == -2 || t.bad)
			err = 1;
		if (got == 0)
			break;
	}
	ring_stats(r, &rs);
	ring_observer_stats(o, &st);
	{
		uint64_t tail_gap = 0;

		for (int64_t s = t.last + 1; s < (int64_t)c.count; s++)
			tail_gap += slots_of(&c, (uint64_t)s);
		if (!t.bad && tail_gap != t.lost_pos_since) {
			snprintf(t.why, sizeof(t.why),
				 "after the last delivery: %llu lost reported, %llu missing",
				 (unsigned long long)t.lost_pos_since,
				 (unsigned long long)tail_gap);
			t.bad = 1;
		}
		t.lost_msgs += c.count - (uint64_t)(t.last + 1);
	}
	is(status, 0, "%s: the producer sent %llu messages", name,
	   (unsigned long long)c.count);
	ok(!err && !t.bad, "%s: every delivered message intact and new, every gap "
	   "reported exactly %s", name, t.why);
	ok(rs.committed == c.count && t.delivered + t.lost_msgs == rs.committed,
	   "%s: delivered %llu + lost %llu == committed %llu", name,
	   (unsigned long long)t.delivered, (unsigned long long)t.lost_msgs,
	   (unsigned long long)rs.committed);
	ok(st.position == rs.tail && rs.tail == total_pos && st.skipped == 0 &&
	   st.delivered == t.delivered,
	   "%s: at the tail (%llu), nothing skipped, stats agree", name,
	   (unsigned long long)rs.tail);
	ok(rs.tail / cfg.capacity * cfg.slot_size >= 2000 && st.overruns > 0 &&
	   st.overruns == t.overruns_seen,
	   "%s: %llu laps of the ring, overrun %llu times, %llu positions lost",
	   name, (unsigned long long)(rs.tail * cfg.slot_size / cfg.capacity),
	   (unsigned long long)st.overruns, (unsigned long long)st.lost);
	ring_observer_close(o);
	ring_close(r);
}

int main(void)
{
	tu_guard(300);
	plan(15);
	run(COPY, "copy");
	run(COPY_TS64, "copy, timestamps, 64-byte slots");
	run(VIEW, "zero-copy view read slowly");
	return exit_status();
}

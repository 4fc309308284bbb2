// SPDX-License-Identifier: MIT
/*
 * t_stale.c - stale bytes are never taken for a message (DESIGN H4).
 *
 * Payloads are crafted to look like what a careless reader would trust: at
 * every slot boundary inside a payload lies either a plausible message
 * header (a small length, the type tag of a message still to come, this
 * process's pid) or 64-bit words equal to "position + 1" of the positions
 * that slot will have on later laps (what a commit word for them would
 * hold). A slow producer keeps the readers waiting at positions whose slots
 * still hold such bytes from an earlier lap, across thousands of wraps of a
 * 256-slot ring. Two readers (one sleeping in ring_poll, one spinning on
 * RING_NONBLOCK peeks) must deliver exactly the messages sent, in order.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ring.h"
#include "../libring/src/layout.h"
#include "tap.h"
#include "lib/testutil.h"

#define CAPACITY 4096u
#define SLOT 16u
#define SLOTS (CAPACITY / SLOT)
#define MAX_LEN 700u
#define READERS 2

static uint64_t n_messages;

struct reader_arg {
	const char *path;
	const char *group;
	int spin;
	int fd;
};

struct reader_state {
	struct tu_report rep;
	uint64_t next;
};

/* Checks a delivered message is exactly the next one sent. */
static int check(const struct ring_msg *m, void *arg)
{
	struct reader_state *st = arg;
	const char *what;

	if (st->next >= n_messages) {
		tu_report_fail(&st->rep, "message beyond the last one sent: "
			       "type %#x len %u pos %llu", m->type, m->len,
			       (unsigned long long)m->pos);
		return 1;
	}
	what = tu_msg_check(m->data, m->len, m->type, 0, st->next);
	if (!what && m->pid != (uint32_t)getppid())
		what = "pid is not the producer's";
	if (what) {
		tu_report_fail(&st->rep, "seq %llu: type %#x len %u pos %llu: %s",
			       (unsigned long long)st->next, m->type, m->len,
			       (unsigned long long)m->pos, what);
		return 1;
	}
	st->next++;
	st->rep.count++;
	return 0;
}

/* A reader process: blocking ring_poll, or a NONBLOCK peek spin. */
static int reader_main(void *argp)
{
	struct reader_arg *a = argp;
	struct reader_state st = { 0 };
	struct ring_reader *rd = NULL;
	struct timespec dl;
	struct ring_msg m;
	struct ring *r = NULL;
	uint64_t idle_until = 0;
	int rc;

	rc = ring_open(a->path, 0, &r);
	if (!rc)
		rc = ring_reader_open(r, a->group, 0, &rd);
	if (rc)
		tu_report_fail(&st.rep, "open: %s", ring_strerror(rc));
	while (!st.rep.failed && st.next < n_messages) {
		if (!a->spin) {
			rc = ring_poll(rd, check, &st, 16, 0,
				       tu_deadline_ms(&dl, 20000));
			if (rc < 0)
				tu_report_fail(&st.rep, "ring_poll: %s at seq %llu",
					       ring_strerror(rc),
					       (unsigned long long)st.next);
			continue;
		}
		rc = ring_peek(rd, &m, RING_NONBLOCK, NULL);
		if (rc == -EAGAIN) {
			if (!idle_until)
				idle_until = tu_now_ns() + 20000000000ull;
			else if (tu_now_ns() > idle_until)
				tu_report_fail(&st.rep, "no message for 20 s at seq %llu",
					       (unsigned long long)st.next);
			continue;
		}
		idle_until = 0;
		if (rc) {
			tu_report_fail(&st.rep, "ring_peek: %s at seq %llu",
				       ring_strerror(rc),
				       (unsigned long long)st.next);
			continue;
		}
		check(&m, &st);
		ring_release(rd);
	}
	if (!st.rep.failed && ring_peek(rd, &m, RING_NONBLOCK, NULL) != -EAGAIN)
		tu_report_fail(&st.rep, "a message after the last one sent");
	ring_close(r);
	tu_write_all(a->fd, &st.rep, sizeof(st.rep));
	return st.rep.failed ? 1 : 0;
}

/*
 * Fills the payload of message @seq (length @len, at position @pos) with
 * the self-checking header and then crafted bytes at every slot boundary.
 */
static void craft(unsigned char *buf, uint32_t len, uint64_t seq, uint64_t pos,
		  uint64_t *rng)
{
	struct tu_msg h = { .magic = TU_MSG_MAGIC, .seq = seq, .len = len };
	struct rl_msg_hdr fake;
	uint64_t words[2], slot_pos;
	uint32_t off;

	memset(buf, 0, len);
	/* The payload starts one header into its first slot: offset @off
	 * is at a slot boundary when RL_HDR_SIZE + off is a multiple of SLOT. */
	for (off = (SLOT - RL_HDR_SIZE % SLOT) % SLOT; off + SLOT <= len;
	     off += SLOT) {
		if (off < sizeof(h))
			continue;
		slot_pos = pos + (RL_HDR_SIZE + off) / SLOT;
		if (tu_rand(rng) & 1) {
			fake.len = (uint32_t)(tu_rand(rng) % MAX_LEN);
			fake.type = tu_msg_type(0, seq + 1 + tu_rand(rng) % 4);
			fake.flags = (tu_rand(rng) % 8 == 0) ? RL_HDR_SKIP : 0;
			fake.pid = (uint32_t)getpid();
			memcpy(buf + off, &fake, sizeof(fake));
		} else {
			words[0] = slot_pos + SLOTS + 1;
			words[1] = slot_pos + 2 * SLOTS + 1;
			memcpy(buf + off, words, sizeof(words));
		}
	}
	h.sum = tu_checksum(buf + sizeof(h), len - sizeof(h));
	memcpy(buf, &h, sizeof(h));
}

/* Busy-waits @ns nanoseconds: the producer is slow, not asleep. */
static void dawdle(uint64_t ns)
{
	uint64_t end = tu_now_ns() + ns;

	while (tu_now_ns() < end)
		;
}

/* The producer (this process): returns 0 or the failing call's error. */
static int produce(struct ring *r, uint64_t *rng)
{
	static unsigned char buf[MAX_LEN];
	struct ring_claim c;
	struct ring_stats st;
	struct timespec dl;
	uint64_t seq;
	uint32_t len;
	int rc;

	for (seq = 0; seq < n_messages; seq++) {
		len = (uint32_t)(sizeof(struct tu_msg) +
				 tu_rand(rng) % (MAX_LEN - sizeof(struct tu_msg)));
		dawdle(tu_rand(rng) % 20000);
		/* A reader that failed stops reading: do not wait forever. */
		tu_deadline_ms(&dl, 20000);
		if (seq & 1) {
			rc = ring_reserve(r, len, tu_msg_type(0, seq),
					  RING_FULL_WAIT, &dl, &c);
			if (rc)
				return rc;
			craft(c.data, len, seq, c.pos, rng);
			dawdle(tu_rand(rng) % 10000);
			rc = ring_commit(r, &c);
		} else {
			ring_stats(r, &st);
			craft(buf, len, seq, st.tail, rng);
			rc = ring_send(r, tu_msg_type(0, seq), buf, len,
				       RING_FULL_WAIT, &dl);
		}
		if (rc)
			return rc;
	}
	return 0;
}

int main(void)
{
	static const char *groups[READERS] = { "sleeper", "spinner" };
	struct reader_arg args[READERS];
	struct tu_report rep[READERS];
	char path[TU_PATH_MAX];
	struct ring_config cfg;
	struct ring_stats st;
	struct ring *r = NULL;
	uint64_t rng = 0x2545f4914f6cdd1dull;
	pid_t pids[READERS];
	int fds[READERS][2], rc, i, status;

	n_messages = 20000;
	if (tu_long_run())
		n_messages *= 10;
	plan(5 + 2 * READERS);
	tu_guard(tu_long_run() ? 600 : 120);
	diag("%llu messages through %u slots", (unsigned long long)n_messages,
	     SLOTS);

	ring_config_init(&cfg);
	cfg.capacity = CAPACITY;
	cfg.slot_size = SLOT;
	cfg.max_message = MAX_LEN;
	rc = ring_create(tu_ring_path(path, "stale"), &cfg, 0, &r);
	if (rc)
		bail_out("cannot create the ring");
	for (i = 0; i < READERS; i++) {
		if (ring_group_create(r, groups[i], RING_FROM_OLDEST) ||
		    pipe(fds[i]))
			bail_out("cannot set up a group");
		args[i] = (struct reader_arg){ path, groups[i], i == 1,
					       fds[i][1] };
		pids[i] = tu_fork(reader_main, &args[i]);
		close(fds[i][1]);
	}

	rc = produce(r, &rng);
	is(rc, 0, "producer sent every message (%s)", ring_strerror(rc));
	for (i = 0; i < READERS; i++) {
		memset(&rep[i], 0, sizeof(rep[i]));
		if (tu_read_timeout(fds[i][0], &rep[i], sizeof(rep[i]), 60000))
			tu_report_fail(&rep[i], "no report");
		status = tu_wait(pids[i], 5000);
		if (rep[i].failed)
			diag("reader %s: %s", groups[i], rep[i].what);
		ok(!rep[i].failed && status == 0,
		   "reader %s: only messages that were sent, in order, intact",
		   groups[i]);
		is(rep[i].count, n_messages, "reader %s: count", groups[i]);
	}
	ring_stats(r, &st);
	is(st.committed, n_messages, "committed count");
	is(st.aborted + st.recovered, 0, "no aborts, no recoveries");
	ok(st.tail / SLOTS > 1000, "ring wrapped %llu times",
	   (unsigned long long)(st.tail / SLOTS));
	is(st.slot_count, SLOTS, "slot count");
	ring_close(r);
	tu_cleanup_rings();
	return exit_status();
}

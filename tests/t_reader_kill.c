// SPDX-License-Identifier: MIT
/*
 * t_reader_kill.c - a reader killed with SIGKILL loses nothing (DESIGN H6).
 *
 * 1. Reader A releases 50 messages with ring_poll, then is killed inside the
 *    handler of its next batch, after 30 messages of it: the group's cursor
 *    has not moved, and no live reader holds the group.
 * 2. Reader B, a new process, takes the group over (no -EBUSY) and starts at
 *    the first message of A's batch: duplicates only from that batch. It
 *    reads on with peek/release, then is killed holding an unreleased peek.
 * 3. Reader C gets that peeked message first, then the rest: nothing lost.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ring.h"
#include "tap.h"
#include "lib/testutil.h"

#define N 1000
#define MSG_LEN 32
#define FIRST_BATCH 50
#define KILL_AFTER 30
#define PEEK_KILL_AT 600

/*
 * A child reports through a pipe with struct tu_report: count = messages
 * it saw (in the batch, for reader A); extra[0] = sequence of the first of
 * them, extra[1] = its position; extra[2] = last sequence (reader C).
 */
struct child_arg {
	const char *path;
	int fd; /* write end of the report pipe */
};

/* Reader A's state inside its second ring_poll batch. */
struct kill_batch {
	struct tu_report rep;
	unsigned seen;
	int fd;
};

/* The sequence of a message sent by this test, or -1 if it is not one. */
static long long seq_of(const struct ring_msg *m)
{
	uint64_t seq = m->type & 0xffffffu;

	if (tu_msg_check(m->data, m->len, m->type, 0, seq))
		return -1;
	return (long long)seq;
}

/* Reader A's second batch: report after KILL_AFTER messages and wait. */
static int batch_then_hang(const struct ring_msg *m, void *arg)
{
	struct kill_batch *kb = arg;

	if (kb->seen++ == 0) {
		kb->rep.extra[0] = (uint64_t)seq_of(m);
		kb->rep.extra[1] = m->pos;
	}
	if (seq_of(m) < 0)
		tu_report_fail(&kb->rep, "corrupt message at %llu",
			       (unsigned long long)m->pos);
	if (kb->seen == KILL_AFTER) {
		kb->rep.count = kb->seen;
		tu_write_all(kb->fd, &kb->rep, sizeof(kb->rep));
		for (;;)
			pause();
	}
	return 0;
}

/* Counts messages of the first batch. */
static int count_msg(const struct ring_msg *m, void *arg)
{
	(*(unsigned *)arg)++;
	return 0;
}

/* Reader A: one batch released, killed inside the next. */
static int reader_a(void *argp)
{
	struct child_arg *a = argp;
	struct kill_batch kb = { .fd = a->fd };
	struct ring_reader *rd = NULL;
	struct ring *r = NULL;
	unsigned first = 0;
	int rc;

	rc = ring_open(a->path, 0, &r);
	if (!rc)
		rc = ring_reader_open(r, "g", 0, &rd);
	if (!rc)
		rc = ring_poll(rd, count_msg, &first, FIRST_BATCH,
			       RING_NONBLOCK, NULL);
	if (rc != FIRST_BATCH) {
		tu_report_fail(&kb.rep, "first batch: %d", rc);
		tu_write_all(a->fd, &kb.rep, sizeof(kb.rep));
		return 1;
	}
	rc = ring_poll(rd, batch_then_hang, &kb, 100, RING_NONBLOCK, NULL);
	tu_report_fail(&kb.rep, "second batch returned %d", rc);
	tu_write_all(a->fd, &kb.rep, sizeof(kb.rep));
	return 1;
}

/*
 * Reader B (@hang set) or C: take the group over, read in order; B stops
 * at PEEK_KILL_AT with the message peeked, reports and waits to be killed;
 * C reads to the end and reports.
 */
static int reader_takeover(int hang, struct child_arg *a)
{
	struct tu_report rep = { 0 };
	struct ring_reader *rd = NULL;
	struct ring *r = NULL;
	struct ring_msg m;
	long long seq, prev = -1;
	int rc;

	rc = ring_open(a->path, 0, &r);
	if (!rc)
		rc = ring_reader_open(r, "g", 0, &rd);
	if (rc) {
		tu_report_fail(&rep, "ring_reader_open: %s", ring_strerror(rc));
		goto out;
	}
	while ((rc = ring_peek(rd, &m, RING_NONBLOCK, NULL)) == 0) {
		seq = seq_of(&m);
		if (seq < 0 || (prev >= 0 && seq != prev + 1)) {
			tu_report_fail(&rep, "got seq %lld after %lld", seq,
				       prev);
			break;
		}
		if (prev < 0) {
			rep.extra[0] = (uint64_t)seq;
			rep.extra[1] = m.pos;
		}
		prev = seq;
		rep.count++;
		if (hang && seq == PEEK_KILL_AT) {
			tu_write_all(a->fd, &rep, sizeof(rep));
			for (;;)
				pause();
		}
		ring_release(rd);
	}
	if (rc != -EAGAIN)
		tu_report_fail(&rep, "ring_peek: %s", ring_strerror(rc));
	rep.extra[2] = (uint64_t)prev;
out:
	tu_write_all(a->fd, &rep, sizeof(rep));
	return rep.failed ? 1 : 0;
}

/* Reader B: takes over, is killed holding a peek at PEEK_KILL_AT. */
static int reader_b(void *argp)
{
	return reader_takeover(1, argp);
}

/* Reader C: takes over and reads to the end. */
static int reader_c(void *argp)
{
	return reader_takeover(0, argp);
}

/* Runs @fn in a child, waits for its report; kills it if @kill_it. */
static int run_child(int (*fn)(void *), const char *path, int kill_it,
		     struct tu_report *rep)
{
	struct child_arg a = { path, -1 };
	int p[2], status;
	pid_t pid;

	memset(rep, 0, sizeof(*rep));
	if (pipe(p))
		return -1;
	a.fd = p[1];
	pid = tu_fork(fn, &a);
	close(p[1]);
	if (tu_read_timeout(p[0], rep, sizeof(*rep), 20000))
		tu_report_fail(rep, "no report from the child");
	close(p[0]);
	if (kill_it)
		kill(pid, SIGKILL);
	status = tu_wait(pid, 10000);
	if (rep->failed)
		diag("child: %s", rep->what);
	return status;
}

int main(void)
{
	char path[TU_PATH_MAX], buf[MSG_LEN];
	struct ring_group_stats gs;
	struct ring_config cfg;
	struct tu_report rep;
	struct ring *r = NULL;
	uint64_t batch_pos, peek_pos;
	int i, status;

	plan(16);
	tu_guard(60);
	ring_config_init(&cfg);
	cfg.capacity = 1 << 16;
	cfg.max_message = 1024;
	if (ring_create(tu_ring_path(path, "rkill"), &cfg, 0, &r) ||
	    ring_group_create(r, "g", RING_FROM_OLDEST))
		bail_out("cannot set up the ring");
	for (i = 0; i < N; i++) {
		tu_msg_fill(buf, MSG_LEN, 0, (uint64_t)i);
		if (ring_send(r, tu_msg_type(0, (uint64_t)i), buf, MSG_LEN,
			      RING_FULL_FAIL, NULL))
			bail_out("cannot fill the ring");
	}

	/* 1: killed inside a ring_poll batch. */
	status = run_child(reader_a, path, 1, &rep);
	ok(!rep.failed && rep.count == KILL_AFTER,
	   "reader A saw %d messages of its second batch", KILL_AFTER);
	is(rep.extra[0], FIRST_BATCH, "  ... which began after the first batch");
	is(status, 128 + SIGKILL, "reader A killed with SIGKILL");
	batch_pos = rep.extra[1];
	ring_group_stats(r, "g", &gs);
	is(gs.cursor, batch_pos, "cursor stayed at the start of the batch");
	is(gs.reader_alive, 0, "no live reader after the kill");

	/* 2: a new process takes over; killed holding a peek. */
	status = run_child(reader_b, path, 1, &rep);
	ok(!rep.failed, "reader B took the group over (no -EBUSY), in order");
	is(rep.extra[0], FIRST_BATCH,
	   "  ... starting at the first message of the killed batch");
	is(rep.extra[1], batch_pos, "  ... at the saved cursor");
	is(rep.count, PEEK_KILL_AT - FIRST_BATCH + 1,
	   "  ... and read on to the peeked message");
	is(status, 128 + SIGKILL, "reader B killed with SIGKILL");
	ring_group_stats(r, "g", &gs);
	peek_pos = gs.cursor;
	is(gs.reader_alive, 0, "no live reader after the second kill");

	/* 3: the unreleased peek comes again, then everything else. */
	status = run_child(reader_c, path, 0, &rep);
	ok(!rep.failed && status == 0, "reader C took over and read in order");
	is(rep.extra[0], PEEK_KILL_AT, "  ... starting at the unreleased peek");
	is(rep.extra[1], peek_pos, "  ... at the saved cursor");
	is(rep.extra[2], N - 1, "  ... up to the last message");
	is(rep.count, N - PEEK_KILL_AT, "  ... nothing lost");
	ring_close(r);
	tu_cleanup_rings();
	return exit_status();
}

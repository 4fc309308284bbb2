/* SPDX-License-Identifier: MIT */
/*
 * t_sched_groups - groups placed and tables changed while producers run,
 * under interleavings forced by the schedule points of the test build:
 *
 *   create    a producer stopped between its intent and its CAS with a
 *             batch of a third of the ring, while a group is created from
 *             the oldest message: the group must not start where the batch
 *             overwrites, and its reader gets every message intact.
 *   reset     the same for a group reset to the oldest message.
 *   refresh   a producer stopped inside a refresh of the cached minimum,
 *             after its scan of the groups, while a group is created: its
 *             stale minimum must not be stored over the new group's, and
 *             producers that fail when full stop at the group's cursor.
 *   threads   two threads of one handle creating groups at once, and a
 *             reader opened by one thread while another removes the group:
 *             the group table changes one at a time.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ring.h"
#include "tap.h"
#include "lib/sched_hook.h"
#include "lib/testutil.h"

#define CAP (64u << 10) /* 4096 slots of 16 bytes */
#define LEN 1008u	/* 64 slots a message */
#define BATCH 24	/* 1536 slots: a third of the ring */
#define FILL 200	/* messages sent before: three laps and more */

static char path[TU_PATH_MAX];

static struct ring *make_ring(const char *tag)
{
	struct ring_config cfg;
	struct ring *r = NULL;

	ring_config_init(&cfg);
	cfg.capacity = CAP;
	cfg.slot_size = 16;
	cfg.max_message = LEN; /* a small margin for late groups */
	if (ring_create(tu_ring_path(path, tag), &cfg, 0, &r) != 0)
		return NULL;
	return r;
}

/* Send self-checking messages @from..@to-1 of producer @id. */
static int send_range(struct ring *r, uint32_t id, uint64_t from, uint64_t to,
		      unsigned policy)
{
	char buf[LEN];

	for (uint64_t s = from; s < to; s++) {
		int rc;

		tu_msg_fill(buf, LEN, id, s);
		rc = ring_send(r, tu_msg_type(id, s), buf, LEN, policy, NULL);
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * Read group @name to the end. Every message must be intact and in order
 * per producer; returns the number read, or -1 (with a diag) on the first
 * bad one.
 */
static long drain_check(struct ring *r, const char *name)
{
	struct ring_reader *rd;
	struct ring_msg m;
	uint64_t next[4] = { 0 };
	int seen[4] = { 0 };
	long n = 0;
	int rc;

	if (ring_reader_open(r, name, 0, &rd))
		return -1;
	while ((rc = ring_peek(rd, &m, RING_NONBLOCK, NULL)) == 0) {
		uint32_t id = tu_msg_producer(m.type) & 3;
		const char *bad;
		uint64_t seq = m.type & 0xffffffu;

		if (seen[id] && seq != next[id]) {
			diag("%s: producer %u seq %llu after %llu", name, id,
			     (unsigned long long)seq,
			     (unsigned long long)next[id] - 1);
			n = -1;
			break;
		}
		bad = tu_msg_check(m.data, m.len, m.type, id, seq);
		if (bad) {
			diag("%s: message at %llu: %s", name,
			     (unsigned long long)m.pos, bad);
			n = -1;
			break;
		}
		seen[id] = 1;
		next[id] = seq + 1;
		n++;
		ring_release(rd);
	}
	if (n >= 0 && rc != -EAGAIN) {
		diag("%s: peek ended with %s", name, ring_strerror(rc));
		n = -1;
	}
	ring_reader_close(rd);
	return n;
}

/* ---- create, reset: a batch in flight while a group is placed ---- */

static struct sched_hook batch_intent;

/* Producer 1: one batch of BATCH messages, stopped after its intent. */
static int batch_sender(void *arg)
{
	static char bufs[BATCH][LEN];
	struct ring_out out[BATCH];
	struct ring *r;
	int k;

	(void)arg;
	if (ring_open(path, 0, &r))
		return 10;
	for (int i = 0; i < BATCH; i++) {
		tu_msg_fill(bufs[i], LEN, 1, (uint64_t)i);
		out[i].type = tu_msg_type(1, (uint64_t)i);
		out[i].data = bufs[i];
		out[i].len = LEN;
	}
	sched_arm(&batch_intent);
	k = ring_send_batch(r, out, BATCH, RING_FULL_FAIL, NULL);
	return k == BATCH ? 0 : 11;
}

static void test_placement(int reset)
{
	const char *tag = reset ? "reset" : "create";
	struct ring_group_stats gs;
	struct ring *r = make_ring(tag);
	long n;
	pid_t p;

	ok(r != NULL, "%s: ring", tag);
	if (!r)
		return;
	if (reset) {
		struct ring_reader *rd;
		struct ring_msg m;

		/* A group that read everything: producers run freely. */
		ring_group_create(r, "late", 0);
		ring_reader_open(r, "late", 0, &rd);
		for (uint64_t s = 0; s < FILL; s += 32) {
			send_range(r, 0, s, s + 32, RING_FULL_FAIL);
			while (ring_peek(rd, &m, RING_NONBLOCK, NULL) == 0)
				ring_release(rd);
		}
		ring_reader_close(rd);
	} else {
		send_range(r, 0, 0, FILL, RING_FULL_WAIT);
	}
	if (sched_init(&batch_intent, "claim:intent", SCHED_HOLD, 0))
		bail_out("pipe");
	p = tu_fork(batch_sender, NULL);
	ok(sched_reached(&batch_intent, 10000),
	   "%s: a batch of %d messages stopped after its intent", tag, BATCH);
	if (reset)
		ok(ring_group_reset(r, "late", 0) == 0,
		   "%s: group reset to the oldest message", tag);
	else
		ok(ring_group_create(r, "late", 0) == 0,
		   "%s: group created from the oldest message", tag);
	sched_release(&batch_intent);
	is(tu_wait(p, 10000), 0, "%s: the batch is sent whole", tag);
	ok(ring_group_stats(r, "late", &gs) == 0 && gs.lag_slots <= CAP / 16,
	   "%s: the group is at most a ring behind the tail", tag);
	diag("%s: lag %llu slots of %u", tag, (unsigned long long)gs.lag_slots,
	     CAP / 16);
	n = drain_check(r, "late");
	ok(n > BATCH, "%s: its reader gets every message intact (%ld)", tag, n);
	is((uint64_t)n, gs.lag_messages, "%s: as many as the group lagged", tag);
	ring_close(r);
	ring_unlink(path);
}

/* ---- refresh: a stale scan racing a group create ---- */

static struct sched_hook refresh_scan;

/* Producer 1: fills the ring; its first refresh stops after the scan. */
static int refresh_sender(void *arg)
{
	struct ring *r;
	int rc;

	(void)arg;
	if (ring_open(path, 0, &r))
		return 20;
	sched_arm(&refresh_scan);
	rc = send_range(r, 1, 0, 1000, RING_FULL_FAIL);
	return rc == -EAGAIN ? 0 : 21;
}

static void test_refresh(void)
{
	struct ring_group_stats gs;
	struct ring *r = make_ring("refresh");
	uint64_t more = 0;
	char buf[LEN];
	long n;
	pid_t p;

	ok(r != NULL, "refresh: ring without a group");
	if (!r)
		return;
	if (sched_init(&refresh_scan, "refresh:scan", SCHED_HOLD, 0))
		bail_out("pipe");
	p = tu_fork(refresh_sender, NULL);
	ok(sched_reached(&refresh_scan, 10000),
	   "refresh: a producer stopped after scanning no group");
	ok(ring_group_create(r, "late", 0) == 0,
	   "refresh: group created from the oldest message meanwhile");
	sched_release(&refresh_scan);
	is(tu_wait(p, 10000), 0, "refresh: that producer stops when full");
	while (more < 1000) {
		tu_msg_fill(buf, LEN, 2, more);
		if (ring_send(r, tu_msg_type(2, more), buf, LEN, RING_FULL_FAIL,
			      NULL))
			break;
		more++;
	}
	ok(more < CAP / 16 / 64,
	   "refresh: a producer failing when full stops within a ring (%llu)",
	   (unsigned long long)more);
	ok(ring_group_stats(r, "late", &gs) == 0 && gs.lag_slots <= CAP / 16,
	   "refresh: the group is at most a ring behind the tail");
	n = drain_check(r, "late");
	ok(n > 0 && (uint64_t)n == gs.lag_messages,
	   "refresh: its reader gets every message intact (%ld)", n);
	ring_close(r);
	ring_unlink(path);
}

/* ---- threads: one handle, two threads changing the group table ---- */

struct table_op {
	struct ring *r;
	struct sched_hook *hook; /* armed in this thread, or NULL */
	int op;			 /* 0 create, 1 remove, 2 reader open */
	const char *name;
	int rc;
	struct ring_reader *rd;
};

static void *table_thread(void *arg)
{
	struct table_op *t = arg;

	if (t->hook)
		sched_arm(t->hook);
	if (t->op == 0)
		t->rc = ring_group_create(t->r, t->name, 0);
	else if (t->op == 1)
		t->rc = ring_group_remove(t->r, t->name);
	else
		t->rc = ring_reader_open(t->r, t->name, 0, &t->rd);
	return NULL;
}

/* Run @a (held at its hook) and @b; release @a once @b ended or 300 ms. */
static void run_pair(struct table_op *a, struct table_op *b, const char *tag)
{
	pthread_t ta, tb;
	struct timespec ts;

	pthread_create(&ta, NULL, table_thread, a);
	ok(sched_reached(a->hook, 10000), "%s: the first thread is held", tag);
	pthread_create(&tb, NULL, table_thread, b);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 300000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	if (pthread_timedjoin_np(tb, NULL, &ts) == 0) {
		sched_release(a->hook);
		pthread_join(ta, NULL);
	} else {
		sched_release(a->hook);
		pthread_join(ta, NULL);
		pthread_join(tb, NULL);
	}
}

static void test_threads(void)
{
	char names[4][RING_GROUP_NAME_MAX + 1];
	struct sched_hook held;
	struct table_op a, b;
	struct ring *r = make_ring("threads");
	int n, g1 = 0, g2 = 0;

	ok(r != NULL, "threads: ring");
	if (!r)
		return;
	/* Two creates: the first held after it chose a free entry. */
	if (sched_init(&held, "group:chosen", SCHED_HOLD, 0))
		bail_out("pipe");
	a = (struct table_op){ r, &held, 0, "g1", 0, NULL };
	b = (struct table_op){ r, NULL, 0, "g2", 0, NULL };
	run_pair(&a, &b, "threads: create");
	ok(a.rc == 0 && b.rc == 0, "threads: both creates succeed");
	n = ring_group_list(r, names, 4);
	for (int i = 0; i < n && i < 4; i++) {
		g1 |= strcmp(names[i], "g1") == 0;
		g2 |= strcmp(names[i], "g2") == 0;
	}
	ok(n == 2 && g1 && g2, "threads: both groups exist (%d listed)", n);

	/* A remove held between its reader check and the group's lock,
	 * while another thread opens a reader of that group. */
	if (sched_init(&held, "group:idle", SCHED_HOLD, 0))
		bail_out("pipe");
	a = (struct table_op){ r, &held, 1, "g1", 0, NULL };
	b = (struct table_op){ r, NULL, 2, "g1", 0, NULL };
	run_pair(&a, &b, "threads: remove");
	ok(!(a.rc == 0 && b.rc == 0),
	   "threads: a reader is never left on a removed group (remove %s, open %s)",
	   ring_strerror(a.rc), ring_strerror(b.rc));
	ok((a.rc == 0) != (b.rc == 0), "threads: exactly one of them succeeds");
	if (b.rc == 0)
		ring_reader_close(b.rd);
	ring_close(r);
	ring_unlink(path);
}

int main(void)
{
	plan(28);
	tu_guard(120);
	test_placement(0);
	test_placement(1);
	test_refresh();
	test_threads();
	return exit_status();
}

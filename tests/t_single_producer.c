/* SPDX-License-Identifier: MIT */
/*
 * t_single_producer - RING_OPEN_SINGLE_PRODUCER, whose messages go into
 * runs of room claimed ahead (produce.c): every guarantee of the shared
 * path holds.
 *
 *  1. 20000 messages of 1..300 bytes through a 64 KiB ring, many laps, runs
 *     closed by skip records where a message does not fit: all delivered,
 *     in order, intact; a full ring refuses with RING_FULL_FAIL and goes on.
 *  2. A producer killed between messages, its run half used: the reader
 *     gets what it committed, then skips the run's rest after recovery_ms;
 *     a new producer goes on; the dead run counts as recovered.
 *  3. Killed holding a reservation inside a run: the same.
 *  4. A group created from the newest message while the producer sits in a
 *     half-used run gets the producer's next messages.
 *  5. ring_close() with a half-used run: a reader drains to the tail at
 *     once (the rest of the run is a skip record, not a claim to wait on).
 *  6. Abort inside a run, then a batch: skipped and delivered.
 *  7. 8-byte slots (no runs: a skip record would not fit a slot).
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ring.h"
#include "tap.h"
#include "lib/testutil.h"
#include "../libring/src/layout.h"

static char path[TU_PATH_MAX];
static int ready[2];

static struct ring *make(const char *tag, uint64_t cap, uint32_t slot)
{
	struct ring_config cfg;
	struct ring *r;

	ring_config_init(&cfg);
	cfg.capacity = cap;
	cfg.slot_size = slot;
	if (ring_create(tu_ring_path(path, tag), &cfg, 0, &r) ||
	    ring_group_create(r, "g", 0))
		bail_out(tag);
	return r;
}

static struct ring *open_sp(void)
{
	struct ring *r;

	if (ring_open(path, RING_OPEN_SINGLE_PRODUCER, &r))
		return NULL;
	return r;
}

/* Read what is there now; the count of messages equal to @want. */
static unsigned drain_count(struct ring_reader *rd, const char *want,
			    long wait_ms)
{
	struct timespec dl;
	struct ring_msg m;
	unsigned n = 0;

	while (ring_peek(rd, &m, 0, tu_deadline_ms(&dl, wait_ms)) == 0) {
		n += m.len == strlen(want) && memcmp(m.data, want, m.len) == 0;
		ring_release(rd);
	}
	return n;
}

/* Send @arg five times, report, wait to be killed. */
static int idle_producer(void *arg)
{
	struct ring *r = open_sp();

	if (!r)
		return 10;
	for (int i = 0; i < 5; i++)
		if (ring_send(r, 0, arg, strlen(arg), 0, NULL))
			return 11;
	if (tu_write_all(ready[1], "P", 1))
		return 12;
	for (;;)
		pause();
}

/* Send "a" twice, reserve a third, report, wait to be killed. */
static int reserving_producer(void *arg)
{
	struct ring_claim c;
	struct ring *r = open_sp();

	(void)arg;
	if (!r || ring_send(r, 0, "a", 1, 0, NULL) ||
	    ring_send(r, 0, "a", 1, 0, NULL) ||
	    ring_reserve(r, 40, 0, 0, NULL, &c))
		return 20;
	memset(c.data, 'z', 40);
	if (tu_write_all(ready[1], "P", 1))
		return 21;
	for (;;)
		pause();
}

static int send_one(void *arg)
{
	struct ring *r = open_sp();
	int rc;

	if (!r)
		return 30;
	rc = ring_send(r, 0, arg, strlen(arg), 0, NULL);
	ring_close(r);
	return rc ? 31 : 0;
}

static void test_stream(void)
{
	struct ring *r = make("sp-stream", 64 << 10, 64), *p = open_sp();
	struct ring_reader *rd;
	uint64_t seq_in = 0, seq_out = 0, rnd = 7;
	unsigned bad = 0, full = 0;
	char buf[300];

	if (!p || ring_reader_open(r, "g", 0, &rd))
		bail_out("stream setup");
	while (seq_out < 20000) {
		struct ring_msg m;

		while (seq_in < 20000) {
			size_t len = 8 + tu_rand(&rnd) % 292;
			int rc;

			tu_msg_fill(buf, len, 1, seq_in);
			rc = ring_send(p, tu_msg_type(1, seq_in), buf, len,
				       RING_FULL_FAIL, NULL);
			if (rc == -EAGAIN) {
				full++;
				break;
			}
			if (rc)
				bail_out(ring_strerror(rc));
			seq_in++;
		}
		while (ring_peek(rd, &m, RING_NONBLOCK, NULL) == 0) {
			if (tu_msg_check(m.data, m.len, m.type, 1, seq_out))
				bad++;
			seq_out++;
			ring_release(rd);
		}
	}
	is(bad, 0, "20000 messages of 8..299 bytes through 64 KiB: all intact, in order");
	ok(full > 0, "the ring filled %u times (RING_FULL_FAIL) and went on", full);
	ring_reader_close(rd);
	ring_close(p);
	ring_close(r);
	ring_unlink(path);
}

static void test_killed(int (*fn)(void *), const char *what, const char *msg,
			unsigned want)
{
	struct ring *r = make("sp-kill", 64 << 10, 64);
	struct ring_reader *rd;
	struct ring_stats st;
	pid_t pid;

	if (ring_reader_open(r, "g", 0, &rd))
		bail_out("reader");
	ring_set_recovery_ms(r, 20);
	pid = tu_fork(fn, (void *)msg);
	if (tu_read_timeout(ready[0], &(char){ 0 }, 1, 10000))
		bail_out("producer");
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	is(drain_count(rd, msg, 500), want, "%s: its %u committed messages arrive",
	   what, want);
	is(tu_wait(tu_fork(send_one, "next"), 10000), 0,
	   "%s: a new single producer sends", what);
	is(drain_count(rd, "next", 2000), 1,
	   "%s: the dead run is skipped and the next message arrives", what);
	ring_stats(r, &st);
	is(st.recovered, 1, "%s: counted as recovered", what);
	ring_reader_close(rd);
	ring_close(r);
	ring_unlink(path);
}

static void test_newest(void)
{
	struct ring *r = make("sp-newest", 64 << 10, 64), *p = open_sp();
	struct ring_reader *rd;

	if (!p || ring_send(p, 0, "old", 3, 0, NULL))
		bail_out("newest setup");
	ok(ring_reader_open(r, "late", RING_GROUP_CREATE | RING_FROM_NEWEST,
			    &rd) == 0,
	   "a group created from the newest message, the producer mid-run");
	ring_send(p, 0, "new", 3, 0, NULL);
	ring_send(p, 0, "new", 3, 0, NULL);
	is(drain_count(rd, "new", 200), 2, "it gets the producer's next messages");
	{
		struct ring_group_stats gs;

		ok(ring_group_stats(r, "late", &gs) == 0 && gs.lag_slots == 0,
		   "drained, its lag is 0 slots (the run's room is no lag)");
	}
	ring_reader_close(rd);
	ring_close(p);
	ring_close(r);
	ring_unlink(path);
}

static void test_close_abort_batch(void)
{
	struct ring *r = make("sp-close", 64 << 10, 64), *p = open_sp();
	struct ring_out out[3] = { { "b1", 2, 0 }, { "b2", 2, 0 }, { "b3", 2, 0 } };
	struct ring_reader *rd;
	struct ring_claim c, c2;
	struct ring_msg m;
	struct ring_stats st;

	if (!p || ring_reader_open(r, "g", 0, &rd))
		bail_out("close setup");
	ring_send(p, 0, "x", 1, 0, NULL);
	ok(ring_reserve(p, 10, 0, 0, NULL, &c) == 0 &&
	   ring_send(p, 0, "y", 1, 0, NULL) == -EBUSY &&
	   ring_reserve(p, 1, 0, 0, NULL, &c2) == -EBUSY &&
	   ring_abort(p, &c) == 0,
	   "a reservation inside a run holds off other sends of the thread (-EBUSY), and is aborted");
	is(ring_send_batch(p, out, 3, 0, NULL), 3, "then a batch of 3");
	ring_send(p, 0, "x", 1, 0, NULL);
	ring_close(p);
	is(drain_count(rd, "x", 0) , 2, "the aborted one is skipped");
	(void)m;
	ring_stats(r, &st);
	ok(ring_peek(rd, &m, RING_NONBLOCK, NULL) == -EAGAIN,
	   "after ring_close the reader is at the tail at once: nothing to wait for");
	ring_reader_close(rd);
	ring_close(r);
	ring_unlink(path);
}

/* ring_check of a ring whose live producer's run holds a damaged message. */
static void test_check_live_run(void)
{
	struct ring *r = make("sp-check", 64 << 10, 64), *p = open_sp();
	struct ring_check_report rep;
	struct rl_super sb;
	uint64_t zero = 0;
	int rc;

	if (!p || ring_send(p, 0, "m1", 2, 0, NULL) ||
	    ring_send(p, 0, "m2", 2, 0, NULL) || ring_send(p, 0, "m3", 2, 0, NULL))
		bail_out("check setup");
	is(ring_check(r, &rep), 0, "a live run with 3 messages checks clean");
	if (tu_file_peek(path, 0, &sb, sizeof(sb)) ||
	    tu_file_patch(path, (off_t)(sb.commit_off + 8), &zero, sizeof(zero)))
		bail_out("patch");
	rc = ring_check(r, &rep);
	ok(rc == -EUCLEAN && rep.problems == 1,
	   "a lost commit word inside the run's committed part is damage, not "
	   "a claim in flight (%s)", rep.first_problem);
	ring_close(p);
	ring_close(r);
	ring_unlink(path);
}

static void test_small_slots(void)
{
	struct ring *r = make("sp-small", 4096, 8), *p = open_sp();
	struct ring_reader *rd;
	unsigned got = 0;

	if (!p || ring_reader_open(r, "g", 0, &rd))
		bail_out("small setup");
	for (int round = 0; round < 50; round++) {
		for (int i = 0; i < 10; i++)
			ring_send(p, 0, "abcdefghij", 10, 0, NULL);
		got += drain_count(rd, "abcdefghij", 0);
	}
	is(got, 500, "8-byte slots: 500 messages over many laps");
	ring_reader_close(rd);
	ring_close(p);
	ring_close(r);
	ring_unlink(path);
}

int main(void)
{
	plan(20);
	tu_guard(120);
	if (pipe(ready))
		bail_out("pipe");
	test_stream();
	test_killed(idle_producer, "killed between messages", "m", 5);
	test_killed(reserving_producer, "killed holding a reservation", "a", 2);
	test_newest();
	test_close_abort_batch();
	test_small_slots();
	test_check_live_run();
	return exit_status();
}

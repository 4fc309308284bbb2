// SPDX-License-Identifier: MIT
/*
 * t_observer.c - the observer API on quiet rings: start at the oldest
 * message, the newest or a position; copy and zero-copy views; skip records
 * of aborted claims; a position inside a message; too small a buffer;
 * non-blocking, deadline and wake-up; every slot size, with and without
 * timestamps and groups; an observer holds nobody back and takes no entry;
 * a dead producer's claim is passed over without being counted (the
 * observer writes nothing); positions across 2^64.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <signal.h>
#include <sys/wait.h>

#include "ring.h"
#include "tap.h"
#include "lib/testutil.h"
#include "../libring/src/layout.h"

static struct ring *make_ring(char *path, uint64_t capacity, uint32_t slot,
			      uint32_t flags, uint32_t policy)
{
	struct ring_config cfg;
	struct ring *r = NULL;
	int rc;

	ring_config_init(&cfg);
	cfg.capacity = capacity;
	cfg.slot_size = slot;
	cfg.flags = flags;
	cfg.full_policy = policy;
	rc = ring_create(tu_ring_path(path, "obs"), &cfg, 0, &r);
	if (rc) {
		diag("ring_create(%s): %s", path, ring_strerror(rc));
		bail_out("cannot create a ring");
	}
	return r;
}

/* Message i: (i % 200) + 1 bytes of tu_msg_fill(producer 1, seq i). */
static size_t len_of(uint64_t i)
{
	return (size_t)(i % 200) + 1;
}

static int send_range(struct ring *r, uint64_t from, uint64_t to)
{
	unsigned char buf[256];

	for (uint64_t i = from; i < to; i++) {
		tu_msg_fill(buf, len_of(i), 1, i);
		int rc = ring_send(r, tu_msg_type(1, i), buf, len_of(i), 0, NULL);

		if (rc)
			return rc;
	}
	return 0;
}

/* Copy every waiting message; check that they are seq from..to-1. */
static int copy_expect(struct ring_observer *o, uint64_t from, uint64_t to,
		       char *why, size_t whylen)
{
	unsigned char buf[256];
	struct ring_msg m;
	uint64_t i = from;
	int rc;

	while ((rc = ring_observer_copy(o, &m, buf, sizeof(buf), RING_NONBLOCK,
					NULL)) == 0) {
		const char *bad = i < to ? tu_msg_check(m.data, m.len, m.type, 1, i) :
					   "more messages than sent";

		if (bad) {
			snprintf(why, whylen, "message %llu: %s",
				 (unsigned long long)i, bad);
			return -1;
		}
		i++;
	}
	if (rc != -EAGAIN || i != to) {
		snprintf(why, whylen, "stopped at %llu of %llu: %s",
			 (unsigned long long)i, (unsigned long long)to,
			 ring_strerror(rc));
		return -1;
	}
	return 0;
}

static void test_basic(void)
{
	char path[TU_PATH_MAX], why[200] = "";
	struct ring *r = make_ring(path, 1 << 16, 16, 0, RING_FULL_WAIT);
	struct ring_observer *o;
	struct ring_observer_stats st;
	struct ring_stats rs;
	struct ring_msg m;
	unsigned char small[4];
	int rc;

	is(send_range(r, 0, 100), 0, "100 messages sent");
	rc = ring_observer_open(path, 0, &o);
	is(rc, 0, "ring_observer_open");
	if (rc)
		bail_out("no observer");
	ring_stats(r, &rs);
	is(rs.processes, 1, "the observer takes no process-table entry");
	ok(copy_expect(o, 0, 100, why, sizeof(why)) == 0,
	   "from the oldest: all 100 messages, intact %s", why);
	ring_observer_stats(o, &st);
	ok(st.delivered == 100 && st.lost == 0 && st.overruns == 0 &&
	   st.skipped == 0 && st.position == rs.tail,
	   "stats: delivered %llu, lost %llu, position at the tail",
	   (unsigned long long)st.delivered, (unsigned long long)st.lost);

	/* New messages appear; the newest start sees only those. */
	is(send_range(r, 100, 110), 0, "10 more");
	ok(copy_expect(o, 100, 110, why, sizeof(why)) == 0,
	   "the observer follows %s", why);
	is(ring_observer_seek(o, RING_OBSERVE_NEWEST, 0), 0, "seek newest");
	rc = ring_observer_copy(o, &m, small, sizeof(small), RING_NONBLOCK, NULL);
	is(rc, -EAGAIN, "nothing after the newest");
	is(send_range(r, 110, 111), 0, "one more");
	rc = ring_observer_copy(o, &m, small, sizeof(small), RING_NONBLOCK, NULL);
	ok(rc == -EMSGSIZE && m.len == len_of(110),
	   "too small a buffer: -EMSGSIZE and the length (%d, %u)", rc, m.len);
	ok(copy_expect(o, 110, 111, why, sizeof(why)) == 0,
	   "the message is still there for a bigger buffer %s", why);

	/* Seek to a position: the start of message 50. */
	ring_stats(r, &rs);
	{
		uint64_t p = 0;

		for (uint64_t i = 0; i < 50; i++)
			p += (16 + len_of(i) + 15) / 16;
		is(ring_observer_seek(o, RING_OBSERVE_AT, p), 0, "seek to %llu",
		   (unsigned long long)p);
		ok(copy_expect(o, 50, 111, why, sizeof(why)) == 0,
		   "from a position: messages 50.. %s", why);
		/* Inside message 50 (it takes several slots): moves on to 51. */
		is(ring_observer_seek(o, RING_OBSERVE_AT, p + 1), 0,
		   "seek inside a message");
		ok(copy_expect(o, 51, 111, why, sizeof(why)) == 0,
		   "inside a message: goes on at the next one %s", why);
		ring_observer_stats(o, &st);
		ok(st.skipped == (16 + len_of(50) + 15) / 16 - 1,
		   "the rest of that message counted as skipped (%llu)",
		   (unsigned long long)st.skipped);
	}
	is(ring_observer_seek(o, RING_OBSERVE_AT, rs.tail + 1), -EINVAL,
	   "a position after the tail is refused");
	is(ring_observer_seek(o, 7, 0), -EINVAL, "a bad whence is refused");

	/* Zero-copy view and its validation. */
	is(ring_observer_seek(o, RING_OBSERVE_OLDEST, 0), 0, "seek oldest");
	is(ring_observer_release(o), -EINVAL, "release with nothing peeked");
	rc = ring_observer_peek(o, &m, RING_NONBLOCK, NULL);
	ok(rc == 0 && !tu_msg_check(m.data, m.len, m.type, 1, 0),
	   "peek: message 0 in place");
	rc = ring_observer_peek(o, &m, RING_NONBLOCK, NULL);
	ok(rc == 0 && m.pos == 0, "peek again: the same message");
	is(ring_observer_release(o), 0, "release: intact");
	rc = ring_observer_peek(o, &m, RING_NONBLOCK, NULL);
	ok(rc == 0 && !tu_msg_check(m.data, m.len, m.type, 1, 1),
	   "peek after release: message 1");
	ring_observer_close(o);
	ring_close(r);
}

/* An aborted claim is a skip record; claims in flight are waited for. */
static void test_abort_and_wait(void)
{
	char path[TU_PATH_MAX], why[200] = "";
	struct ring *r = make_ring(path, 1 << 16, 16, 0, RING_FULL_WAIT);
	struct ring_observer *o;
	struct ring_observer_stats st;
	struct ring_claim c;
	struct ring_msg m;
	struct timespec dl;
	unsigned char buf[256];
	uint64_t t0;
	int rc;

	is(send_range(r, 0, 3), 0, "3 messages");
	is(ring_reserve(r, 40, 0, 0, NULL, &c), 0, "reserve");
	is(ring_abort(r, &c), 0, "abort");
	is(send_range(r, 3, 6), 0, "3 more");
	is(ring_observer_open(path, 0, &o), 0, "observer");
	ok(copy_expect(o, 0, 6, why, sizeof(why)) == 0,
	   "the aborted claim is passed over %s", why);
	ring_observer_stats(o, &st);
	is(st.skipped, 4, "its 4 slots are counted as skipped");

	/* A claim in flight (a live producer: this process) holds us. */
	is(ring_reserve(r, 8, tu_msg_type(1, 6), 0, NULL, &c), 0, "reserve");
	rc = ring_observer_copy(o, &m, buf, sizeof(buf), RING_NONBLOCK, NULL);
	is(rc, -EAGAIN, "a live claim is waited for, not skipped");
	t0 = tu_now_ns();
	rc = ring_observer_copy(o, &m, buf, sizeof(buf), 0,
				tu_deadline_ms(&dl, 30));
	ok(rc == -ETIMEDOUT && tu_now_ns() - t0 >= 30000000ull,
	   "deadline: -ETIMEDOUT after 30 ms (%d)", rc);
	tu_msg_fill(c.data, 8, 1, 6);
	is(ring_commit(r, &c), 0, "commit");
	rc = ring_observer_copy(o, &m, buf, sizeof(buf), 0,
				tu_deadline_ms(&dl, 1000));
	ok(rc == 0 && !tu_msg_check(m.data, m.len, m.type, 1, 6),
	   "the committed message comes");
	ring_observer_stats(o, &st);
	is(st.skipped, 4, "nothing more skipped");
	ring_observer_close(o);
	ring_close(r);
}

struct late {
	struct ring *r;
	unsigned ms;
};

static void *send_late(void *arg)
{
	struct late *l = arg;

	usleep(l->ms * 1000);
	send_range(l->r, 0, 1);
	return NULL;
}

/* A sleeping observer sees a message sent later (bounded poll). */
static void test_sleep(void)
{
	char path[TU_PATH_MAX];
	struct ring *r = make_ring(path, 1 << 16, 16, 0, RING_FULL_WAIT);
	struct ring_observer *o;
	struct late l = { r, 50 };
	struct ring_msg m;
	struct timespec dl;
	unsigned char buf[256];
	pthread_t th;
	int rc;

	is(ring_observer_open(path, 0, &o), 0, "observer");
	ring_set_spin(ring_observer_ring(o), 0);
	pthread_create(&th, NULL, send_late, &l);
	rc = ring_observer_copy(o, &m, buf, sizeof(buf), 0,
				tu_deadline_ms(&dl, 5000));
	pthread_join(th, NULL);
	ok(rc == 0 && !tu_msg_check(m.data, m.len, m.type, 1, 0),
	   "a waiting observer gets a message sent 50 ms later (%d)", rc);
	ring_observer_close(o);
	ring_close(r);
}

struct sleeper {
	struct ring_reader *rd;
	struct ring_observer *o;
	pid_t tid;
	uint64_t done_ns;
	int rc;
};

static void *reader_sleeps(void *arg)
{
	struct sleeper *sl = arg;
	struct ring_msg m;
	struct timespec dl;

	sl->rc = ring_peek(sl->rd, &m, 0, tu_deadline_ms(&dl, 20000));
	return NULL;
}

static void *observer_sleeps(void *arg)
{
	struct sleeper *sl = arg;
	unsigned char buf[256];
	struct ring_msg m;
	struct timespec dl;

	__atomic_store_n(&sl->tid, (pid_t)gettid(), __ATOMIC_RELEASE);
	sl->rc = ring_observer_copy(sl->o, &m, buf, sizeof(buf), 0,
				    tu_deadline_ms(&dl, 20000));
	sl->done_ns = tu_now_ns();
	return NULL;
}

/* Is thread @tid of this process asleep (state S)? */
static int thread_asleep(pid_t tid)
{
	char p[64], buf[512], *q;
	FILE *f;
	size_t n;

	snprintf(p, sizeof(p), "/proc/self/task/%d/stat", (int)tid);
	f = fopen(p, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	q = strrchr(buf, ')');
	return q && q[1] == ' ' && q[2] == 'S';
}

/*
 * The futex word works through the read-only mapping: an observer whose
 * poll interval is 8 s, asleep beside a sleeping reader, is woken by the
 * producer's wake-up for the reader. The message is sent only once the
 * reader has announced itself in the file and the observer's thread is
 * asleep.
 */
static void test_woken_with_readers(void)
{
	char path[TU_PATH_MAX];
	struct ring *r = make_ring(path, 1 << 16, 16, 0, RING_FULL_WAIT);
	struct sleeper rs = { 0 }, os = { 0 };
	struct rl_super sb;
	uint32_t waiters = 0;
	pthread_t th, to;
	uint64_t until, sent_ns;
	int ready = 0;

	is(ring_reader_open(r, "g", RING_GROUP_CREATE, &rs.rd), 0, "a reader");
	ring_set_spin(r, 0);
	is(ring_observer_open(path, 0, &os.o), 0, "observer");
	ring_set_spin(ring_observer_ring(os.o), 0);
	ring_observer_set_poll(os.o, 8000000);
	tu_file_peek(path, 0, &sb, sizeof(sb));
	pthread_create(&th, NULL, reader_sleeps, &rs);
	pthread_create(&to, NULL, observer_sleeps, &os);
	until = tu_now_ns() + 5000000000ull;
	while (!ready && tu_now_ns() < until) {
		pid_t tid = __atomic_load_n(&os.tid, __ATOMIC_ACQUIRE);

		tu_file_peek(path, (off_t)(sb.hot_off +
					   offsetof(struct rl_hot, data.waiters)),
			     &waiters, sizeof(waiters));
		ready = waiters && tid && thread_asleep(tid);
		if (!ready)
			usleep(1000);
	}
	sent_ns = tu_now_ns();
	send_range(r, 0, 1);
	pthread_join(th, NULL);
	pthread_join(to, NULL);
	ok(ready, "the reader announced itself and the observer sleeps");
	ok(os.rc == 0 && rs.rc == 0 && os.done_ns - sent_ns < 4000000000ull,
	   "the observer was woken with the reader after %.1f ms, not at its "
	   "8 s poll (%d, %d)", (os.done_ns - sent_ns) / 1e6, os.rc, rs.rc);
	ring_reader_close(rs.rd);
	ring_observer_close(os.o);
	ring_close(r);
}

/* Every slot size, with and without timestamps, with a group or none. */
static void test_shapes(void)
{
	for (uint32_t slot = 8; slot <= 4096; slot *= 2) {
		for (int ts = 0; ts < 2; ts++) {
			char path[TU_PATH_MAX], why[200] = "";
			struct ring *r = make_ring(path, slot < 1024 ? 1u << 20 : (uint64_t)slot << 10, slot,
						   ts ? RING_CFG_TIMESTAMPS : 0,
						   RING_FULL_FAIL);
			struct ring_observer *o = NULL;
			struct ring_msg m;
			unsigned char buf[256];
			int good = 1;

			if (slot == 64)
				ring_group_create(r, "g", 0);
			good &= send_range(r, 0, 300) == 0;
			good &= ring_observer_open(path, 0, &o) == 0;
			if (o && ts) {
				good &= ring_observer_copy(o, &m, buf, sizeof(buf),
							   RING_NONBLOCK, NULL) == 0 &&
					m.timestamp != 0;
				ring_observer_seek(o, RING_OBSERVE_OLDEST, 0);
			}
			good &= o && copy_expect(o, 0, 300, why, sizeof(why)) == 0;
			ok(good, "slot size %u%s%s: 300 messages %s", slot,
			   ts ? ", timestamps" : "", slot == 64 ? ", a group" : "",
			   why);
			ring_observer_close(o);
			ring_close(r);
		}
	}
}

/* An observer holds producers back by nothing: a ring with one group, full
 * of unread messages, and an observer that read nothing. */
static void test_holds_nobody(void)
{
	char path[TU_PATH_MAX];
	struct ring *r = make_ring(path, 1 << 12, 16, 0, RING_FULL_FAIL);
	struct ring_observer *o;
	struct ring_reader *rd;
	struct ring_msg m;
	uint64_t sent = 0;
	int rc;

	is(ring_observer_open(path, 0, &o), 0, "observer of an empty ring");
	while ((rc = ring_send(r, 1, "x", 1, 0, NULL)) == 0 && sent < 100000)
		sent++;
	ok(rc == 0 && sent == 100000,
	   "no group: 100000 messages into 256 slots, never full (%llu)",
	   (unsigned long long)sent);
	rc = ring_observer_copy(o, &m, NULL, 0, RING_NONBLOCK, NULL);
	is(rc, -EOVERFLOW, "the observer that read nothing was overrun");
	is(ring_reader_open(r, "g", RING_GROUP_CREATE | RING_FROM_NEWEST, &rd), 0,
	   "a group");
	sent = 0;
	while ((rc = ring_send(r, 1, "x", 1, 0, NULL)) == 0)
		sent++;
	ok(rc == -EAGAIN && sent == 128,
	   "with a group the ring holds 128 one-slot+header messages (%llu)",
	   (unsigned long long)sent);
	while (ring_peek(rd, &m, RING_NONBLOCK, NULL) == 0)
		ring_release(rd);
	ok(ring_send(r, 1, "x", 1, 0, NULL) == 0,
	   "after the group read them there is room: the observer holds nothing");
	ring_reader_close(rd);
	ring_observer_close(o);
	ring_close(r);
}

/* A producer that dies holding a claim: passed over, not counted. */
static void test_dead_claim(void)
{
	char path[TU_PATH_MAX], why[200] = "";
	struct ring *r = make_ring(path, 1 << 16, 16, 0, RING_FULL_WAIT);
	struct ring_observer *o;
	struct ring_observer_stats st;
	struct ring_stats rs;
	int p[2], status;
	char ch = 0;
	pid_t pid;

	is(send_range(r, 0, 2), 0, "2 messages");
	if (pipe(p))
		bail_out("pipe");
	pid = fork();
	if (pid == 0) {
		struct ring_claim c;
		struct ring *cr;

		if (ring_open(path, 0, &cr) || ring_reserve(cr, 100, 0, 0, NULL, &c))
			_exit(1);
		if (write(p[1], "R", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	ok(read(p[0], &ch, 1) == 1 && ch == 'R', "a child holds a claim");
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	is(send_range(r, 2, 4), 0, "2 messages after it");
	is(ring_observer_open(path, 0, &o), 0, "observer");
	ok(copy_expect(o, 0, 4, why, sizeof(why)) == 0,
	   "the dead producer's claim is passed over %s", why);
	ring_observer_stats(o, &st);
	is(st.skipped, 8, "its 8 slots are counted as skipped");
	ring_stats(r, &rs);
	is(rs.recovered, 0, "and not as recovered: the observer wrote nothing");
	ring_observer_close(o);
	ring_close(r);
	close(p[0]);
	close(p[1]);
}

/* Positions across 2^64 (H1): the ring starts 300 slots before it. */
static void test_wrap(void)
{
	char path[TU_PATH_MAX], why[200] = "";
	struct ring *r = make_ring(path, 1 << 16, 16, 0, RING_FULL_WAIT);
	struct ring_observer *o;
	struct ring_observer_stats st;
	struct rl_super sb;
	uint64_t pos = 0 - 300ull;

	ring_close(r);
	tu_file_peek(path, 0, &sb, sizeof(sb));
	tu_file_patch(path, (off_t)(sb.hot_off + offsetof(struct rl_hot, tail)),
		      &pos, sizeof(pos));
	tu_file_patch(path,
		      (off_t)(sb.hot_off + offsetof(struct rl_hot, cached_min)),
		      &pos, sizeof(pos));
	if (ring_open(path, 0, &r))
		bail_out("ring_open");
	is(send_range(r, 0, 100), 0, "100 messages across 2^64");
	is(ring_observer_open(path, 0, &o), 0, "observer");
	ring_observer_stats(o, &st);
	is(st.position, pos, "the oldest message is the first one, before 2^64");
	ok(copy_expect(o, 0, 100, why, sizeof(why)) == 0,
	   "every message across the wrap %s", why);
	ring_observer_close(o);
	ring_close(r);
}

/* A single producer (RING_OPEN_SINGLE_PRODUCER) claims runs of slots
 * ahead of its messages: the observer waits inside the open run (a live
 * claim) and gets every message. */
static void test_single_producer(void)
{
	char path[TU_PATH_MAX], why[200] = "";
	struct ring *r = make_ring(path, 1 << 20, 16, 0, RING_FULL_WAIT);
	struct ring_observer *o;
	struct ring_observer_stats st;
	struct ring_msg m;
	struct ring *sp;
	unsigned char buf[256];

	is(ring_open(path, RING_OPEN_SINGLE_PRODUCER, &sp), 0,
	   "a single-producer handle");
	is(ring_observer_open(path, 0, &o), 0, "observer");
	is(send_range(sp, 0, 500), 0, "500 messages");
	ok(copy_expect(o, 0, 500, why, sizeof(why)) == 0,
	   "the observer gets them all %s", why);
	is(ring_observer_copy(o, &m, buf, sizeof(buf), RING_NONBLOCK, NULL),
	   -EAGAIN, "inside the producer's open run: nothing yet, no skip");
	is(send_range(sp, 500, 600), 0, "100 more");
	ok(copy_expect(o, 500, 600, why, sizeof(why)) == 0,
	   "and then the next ones %s", why);
	ring_observer_stats(o, &st);
	ok(st.delivered == 600 && st.lost == 0 && st.overruns == 0,
	   "600 delivered, nothing lost (%llu slots of closed runs skipped)",
	   (unsigned long long)st.skipped);
	ring_close(sp);
	ring_observer_close(o);
	ring_close(r);
}

/* A tail put back behind the observer (a repair of a damaged tail). */
static void test_tail_back(void)
{
	char path[TU_PATH_MAX], why[200] = "";
	struct ring *r = make_ring(path, 1 << 16, 16, 0, RING_FULL_WAIT);
	struct ring_observer *o;
	struct ring_observer_stats st;
	struct ring_stats rs;
	struct ring_msg m;
	struct rl_super sb;
	unsigned char buf[256];
	uint64_t back;

	is(send_range(r, 0, 20), 0, "20 messages");
	is(ring_observer_open(path, 0, &o), 0, "observer");
	is(ring_observer_seek(o, RING_OBSERVE_NEWEST, 0), 0, "after the newest");
	ring_stats(r, &rs);
	back = rs.tail - 7;
	ring_close(r);
	tu_file_peek(path, 0, &sb, sizeof(sb));
	tu_file_patch(path, (off_t)(sb.hot_off + offsetof(struct rl_hot, tail)),
		      &back, sizeof(back));
	tu_file_patch(path,
		      (off_t)(sb.hot_off + offsetof(struct rl_hot, cached_min)),
		      &back, sizeof(back));
	is(ring_observer_copy(o, &m, buf, sizeof(buf), RING_NONBLOCK, NULL),
	   -EAGAIN, "the tail moved back behind it: nothing to read");
	ring_observer_stats(o, &st);
	is(st.position, back, "the observer goes on at the tail");
	if (ring_open(path, 0, &r))
		bail_out("ring_open");
	is(send_range(r, 20, 23), 0, "3 more messages");
	ok(copy_expect(o, 20, 23, why, sizeof(why)) == 0,
	   "the observer gets them %s", why);
	ring_observer_close(o);
	ring_close(r);
}

static void test_errors(void)
{
	struct ring_observer *o = NULL;
	struct ring_observer_stats st;

	is(ring_observer_open("/dev/shm/libring-t-obs-none", 0, &o), -ENOENT,
	   "no such ring: -ENOENT");
	is(ring_observer_open("/dev/null", 0, &o), -ENOEXEC,
	   "a device: -ENOEXEC");
	is(ring_observer_open("/dev/shm", 0, &o), -EISDIR, "a directory");
	is(ring_observer_open("/x", RING_OPEN_SINGLE_PRODUCER, &o), -EINVAL,
	   "producer flags are refused");
	is(ring_observer_stats(NULL, &st), -EINVAL, "stats of NULL");
	is(ring_observer_close(NULL), 0, "close NULL");
	ok(ring_observer_ring(NULL) == NULL, "ring of NULL");
}

int main(void)
{
	tu_guard(120);
	plan(103);
	test_basic();
	test_abort_and_wait();
	test_sleep();
	test_woken_with_readers();
	test_shapes();
	test_holds_nobody();
	test_dead_claim();
	test_wrap();
	test_single_producer();
	test_tail_back();
	test_errors();
	return exit_status();
}

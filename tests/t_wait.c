// SPDX-License-Identifier: MIT
/*
 * t_wait.c - waiting (DESIGN H7, H8): a reader asleep in ring_peek or
 * ring_poll without a deadline is woken by a producer in another process;
 * a producer asleep on a full ring is woken by a release in another
 * process; timed waits end with -ETIMEDOUT no earlier than their deadline;
 * RING_NONBLOCK returns -EAGAIN; all of it with the default spin count, with
 * no spinning (ring_set_spin 0) and with busy polling (UINT32_MAX).
 *
 * "Asleep" is observed, not assumed: the other process watches the waiter
 * count of the eventcount in the file (layout.h) before it acts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ring.h"
#include "../libring/src/layout.h"
#include "tap.h"
#include "lib/testutil.h"

#define WATCH_MS 10000

static char path[TU_PATH_MAX];

/* Maps the hot words of the ring at @path read-only (NULL on failure). */
static const struct rl_hot *map_hot(void)
{
	struct rl_super sb;
	void *p;
	int fd;

	if (tu_file_peek(path, 0, &sb, sizeof(sb)))
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	p = mmap(NULL, RL_PAGE, PROT_READ, MAP_SHARED, fd, (off_t)sb.hot_off);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

/* Waits until @ec announces a sleeper; 1 if it did within WATCH_MS. */
static int saw_sleeper(const struct rl_eventcount *ec)
{
	uint64_t end = tu_now_ns() + WATCH_MS * 1000000ull;

	while (tu_now_ns() < end)
		if (__atomic_load_n(&ec->waiters, __ATOMIC_ACQUIRE) > 0)
			return 1;
	return 0;
}

/* Child: once the parent sleeps for data, send one message.
 * Exit 0: sent to a sleeper; 1: no sleeper seen (sent anyway); 2: error. */
static int wake_reader(void *arg)
{
	const struct rl_hot *hot = map_hot();
	struct ring *r = NULL;
	int saw;

	if (!hot || ring_open(path, 0, &r))
		return 2;
	saw = saw_sleeper(&hot->data);
	if (ring_send(r, 42, "wake", 4, RING_FULL_FAIL, NULL))
		return 2;
	ring_close(r);
	return saw ? 0 : 1;
}

/* Child: send into the full ring, waiting without deadline (@arg: spins). */
static int blocked_producer(void *arg)
{
	struct ring *r = NULL;
	char buf[200] = { 0 };

	if (ring_open(path, 0, &r))
		return 2;
	ring_set_spin(r, (uint32_t)(uintptr_t)arg);
	if (ring_send(r, 99, buf, sizeof(buf), RING_FULL_WAIT, NULL))
		return 3;
	ring_close(r);
	return 0;
}

/* ring_poll handler: remember the type. */
static int note_type(const struct ring_msg *m, void *arg)
{
	*(uint32_t *)arg = m->type;
	return 0;
}

/* A reader asleep without a deadline is woken from another process. */
static void test_reader_woken(struct ring *r, struct ring_reader *rd,
			      uint32_t spins, int use_poll)
{
	struct ring_msg m;
	uint32_t type = 0;
	pid_t pid;
	int rc;

	ring_set_spin(r, spins);
	pid = tu_fork(wake_reader, NULL);
	if (use_poll) {
		rc = ring_poll(rd, note_type, &type, 8, 0, NULL);
		ok(rc == 1 && type == 42,
		   "spin %u: ring_poll without deadline woken by a send",
		   spins);
	} else {
		rc = ring_peek(rd, &m, 0, NULL);
		ok(rc == 0 && m.type == 42 && m.len == 4,
		   "spin %u: ring_peek without deadline woken by a send",
		   spins);
		ring_release(rd);
	}
	is(tu_wait(pid, WATCH_MS + 5000), 0,
	   "  ... and the reader was announced asleep before it");
}

/* A timed peek ends with -ETIMEDOUT, not before its deadline. */
static void test_timed_peek(struct ring *r, struct ring_reader *rd,
			    uint32_t spins)
{
	struct timespec dl;
	struct ring_msg m;
	uint64_t end;
	int rc;

	ring_set_spin(r, spins);
	tu_deadline_ms(&dl, 100);
	rc = ring_peek(rd, &m, 0, &dl);
	end = tu_now_ns();
	is(rc, -ETIMEDOUT, "spin %u: timed ring_peek: -ETIMEDOUT", spins);
	ok(end >= tu_ts_ns(&dl), "  ... not before the deadline");
	tu_deadline_ms(&dl, 50);
	rc = ring_poll(rd, note_type, &m, 8, 0, &dl);
	end = tu_now_ns();
	ok(rc == -ETIMEDOUT && end >= tu_ts_ns(&dl),
	   "  ... ring_poll likewise");
}

/* Reader side of waiting. */
static void test_reader_waits(void)
{
	struct ring_reader *rd = NULL;
	struct ring_config cfg;
	struct timespec past;
	struct ring_msg m;
	struct ring *r = NULL;

	ring_config_init(&cfg);
	cfg.capacity = 1 << 16;
	cfg.max_message = 1024;
	if (ring_create(tu_ring_path(path, "wait"), &cfg, 0, &r) ||
	    ring_reader_open(r, "g", RING_GROUP_CREATE, &rd))
		bail_out("cannot set up the ring");

	is(ring_peek(rd, &m, RING_NONBLOCK, NULL), -EAGAIN,
	   "RING_NONBLOCK on an empty ring: -EAGAIN");
	is(ring_poll(rd, note_type, &m, 8, RING_NONBLOCK, NULL), -EAGAIN,
	   "ring_poll RING_NONBLOCK: -EAGAIN");
	tu_deadline_ms(&past, -1000);
	is(ring_peek(rd, &m, 0, &past), -ETIMEDOUT,
	   "a deadline in the past: -ETIMEDOUT");

	test_reader_woken(r, rd, 1000, 0);
	test_reader_woken(r, rd, 0, 0);
	test_reader_woken(r, rd, 0, 1);
	test_timed_peek(r, rd, 1000);
	test_timed_peek(r, rd, 0);
	test_timed_peek(r, rd, UINT32_MAX);

	ring_set_spin(r, 0);
	ring_send(r, 7, "x", 1, 0, NULL);
	ok(ring_peek(rd, &m, 0, NULL) == 0 && m.type == 7,
	   "spin 0: a waiting message is returned at once");
	ring_close(r);
}

/* A producer asleep on a full ring is woken by a release. */
static void test_producer_woken(const struct rl_hot *hot, struct ring *r,
				struct ring_reader *rd, uint32_t spins)
{
	struct ring_msg m;
	uint32_t last = 0;
	int status, awake;
	pid_t pid;

	pid = tu_fork(blocked_producer, (void *)(uintptr_t)spins);
	ok(saw_sleeper(&hot->space),
	   "spin %u: producer in another process asleep on the full ring",
	   spins);
	awake = waitpid(pid, &status, WNOHANG) == 0;
	ok(awake, "  ... still waiting");
	ok(ring_peek(rd, &m, RING_NONBLOCK, NULL) == 0 &&
		   ring_release(rd) == 0,
	   "  ... release one message");
	is(tu_wait(pid, WATCH_MS), 0, "  ... woke it and its send succeeded");
	while (ring_peek(rd, &m, RING_NONBLOCK, NULL) == 0) {
		last = m.type;
		ring_release(rd);
	}
	is(last, 99, "  ... its message arrived last");
}

/* Fills the ring with 200-byte messages until RING_FULL_FAIL refuses. */
static int fill(struct ring *r)
{
	char buf[200] = { 0 };
	int n = 0;

	while (ring_send(r, 1, buf, sizeof(buf), RING_FULL_FAIL, NULL) == 0)
		n++;
	return n;
}

/* Producer side of waiting. */
static void test_producer_waits(void)
{
	struct ring_reader *rd = NULL;
	const struct rl_hot *hot;
	struct ring_config cfg;
	struct timespec dl;
	struct ring *r = NULL;
	char buf[200] = { 0 };
	uint64_t end;
	int rc;

	ring_config_init(&cfg);
	cfg.capacity = 4096;
	cfg.max_message = 1024;
	if (ring_create(tu_ring_path(path, "pwait"), &cfg, 0, &r) ||
	    ring_reader_open(r, "g", RING_GROUP_CREATE, &rd))
		bail_out("cannot set up the ring");
	hot = map_hot();
	if (!hot)
		bail_out("cannot map the hot words");

	ok(fill(r) > 0, "ring filled");
	tu_deadline_ms(&dl, 100);
	rc = ring_send(r, 1, buf, sizeof(buf), RING_FULL_WAIT, &dl);
	end = tu_now_ns();
	is(rc, -ETIMEDOUT, "timed wait for room: -ETIMEDOUT");
	ok(end >= tu_ts_ns(&dl), "  ... not before the deadline");
	ring_set_spin(r, UINT32_MAX);
	tu_deadline_ms(&dl, 50);
	rc = ring_send(r, 1, buf, sizeof(buf), RING_FULL_WAIT, &dl);
	ok(rc == -ETIMEDOUT && tu_now_ns() >= tu_ts_ns(&dl),
	   "busy polling: -ETIMEDOUT, not before the deadline");

	test_producer_woken(hot, r, rd, 1000);
	fill(r);
	test_producer_woken(hot, r, rd, 0);
	munmap((void *)hot, RL_PAGE);
	ring_close(r);
}

int main(void)
{
	plan(33);
	tu_guard(90);
	test_reader_waits();
	test_producer_waits();
	tu_cleanup_rings();
	return exit_status();
}

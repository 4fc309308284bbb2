// SPDX-License-Identifier: MIT
/*
 * t_threads_fork.c - several producing threads on one handle, handles
 * inherited across fork(), process-table reuse, and timestamps.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/testutil.h"
#include "ring.h"
#include "tap.h"

#define THREADS 4
#define PER_THREAD 50000

struct thread_arg {
	struct ring *r;
	uint32_t id;
	int err;
};

/* Each thread sends {id, seq} PER_THREAD times through the shared handle,
 * alternating the copying and the zero-copy calls. */
static void *producer_thread(void *p)
{
	struct thread_arg *a = p;

	for (uint32_t seq = 0; seq < PER_THREAD; seq++) {
		uint32_t body[2] = { a->id, seq };
		int rc;

		if (seq & 1) {
			struct ring_claim c;

			rc = ring_reserve(a->r, sizeof(body), a->id, 0, NULL, &c);
			if (!rc) {
				memcpy(c.data, body, sizeof(body));
				rc = ring_commit(a->r, &c);
			}
		} else {
			rc = ring_send(a->r, a->id, body, sizeof(body), 0, NULL);
		}
		if (rc) {
			a->err = rc;
			return NULL;
		}
	}
	return NULL;
}

static void test_threads(void)
{
	char path[TU_PATH_MAX];
	struct ring_config cfg;
	struct thread_arg args[THREADS];
	pthread_t th[THREADS];
	struct ring_reader *rd;
	struct ring_stats st;
	struct ring *r;
	uint32_t next[THREADS] = { 0 };
	long got = 0, bad = 0;
	int errs = 0;

	ring_config_init(&cfg);
	cfg.capacity = 64 << 10; /* small: the threads block on full too */
	tu_ring_path(path, "threads");
	is(ring_create(path, &cfg, 0, &r), 0, "create");
	is(ring_reader_open(r, "g", RING_GROUP_CREATE, &rd), 0, "reader");
	for (int i = 0; i < THREADS; i++) {
		args[i] = (struct thread_arg){ r, (uint32_t)i, 0 };
		pthread_create(&th[i], NULL, producer_thread, &args[i]);
	}
	while (got < THREADS * PER_THREAD) {
		struct timespec dl;
		struct ring_msg m;
		uint32_t body[2];

		if (ring_peek(rd, &m, 0, tu_deadline_ms(&dl, 10000)))
			break;
		memcpy(body, m.data, sizeof(body));
		if (m.len != sizeof(body) || body[0] >= THREADS ||
		    body[0] != m.type || body[1] != next[body[0]])
			bad++;
		else
			next[body[0]]++;
		got++;
		ring_release(rd);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		errs += args[i].err != 0;
	}
	is(errs, 0, "no producing thread saw an error");
	is(got, THREADS * PER_THREAD, "every message of every thread arrived");
	is(bad, 0, "each thread's messages in its order");
	ring_stats(r, &st);
	is(st.committed, THREADS * PER_THREAD, "committed counts every thread");
	is(st.producers, THREADS, "one process entry per producing thread");
	ring_reader_close(rd);
	ring_close(r);
}

/* In a child: the inherited handle must refuse, a fresh open must work. */
static int child_uses_inherited(struct ring *r, struct ring_reader *rd,
				const char *path)
{
	struct ring_stats st;
	struct ring_msg m;
	struct ring *fresh;
	int fails = 0;

	fails += ring_send(r, 1, "x", 1, 0, NULL) != -ECHILD;
	fails += ring_peek(rd, &m, RING_NONBLOCK, NULL) != -ECHILD;
	fails += ring_stats(r, &st) != -ECHILD;
	fails += ring_group_create(r, "other", 0) != -ECHILD;
	fails += ring_reader_close(rd) != 0;
	fails += ring_close(r) != 0;
	if (ring_open(path, 0, &fresh))
		return 100;
	fails += ring_send(fresh, 7, "from child", 10, 0, NULL) != 0;
	ring_close(fresh);
	return fails;
}

static void test_fork(void)
{
	char path[TU_PATH_MAX];
	struct ring_config cfg;
	struct ring_reader *rd;
	struct ring_msg m;
	struct ring *r;
	pid_t pid;
	int status = -1;

	ring_config_init(&cfg);
	cfg.capacity = 64 << 10;
	tu_ring_path(path, "fork");
	ring_create(path, &cfg, 0, &r);
	ring_reader_open(r, "g", RING_GROUP_CREATE, &rd);
	ring_send(r, 1, "before", 6, 0, NULL);
	pid = fork();
	if (pid == 0)
		_exit(child_uses_inherited(r, rd, path));
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "child: inherited handles give -ECHILD, a fresh open works");
	/* The parent's reader lock survived the child's close. */
	ok(ring_peek(rd, &m, RING_NONBLOCK, NULL) == 0 && m.len == 6,
	   "parent still reads after the child closed its copies");
	ring_release(rd);
	ok(ring_peek(rd, &m, RING_NONBLOCK, NULL) == 0 && m.type == 7,
	   "the child's message arrived");
	ring_release(rd);
	ring_reader_close(rd);
	ring_close(r);
}

/* Open, produce, die (or close) many times in a table of 8 entries. */
static void test_table_reuse(void)
{
	char path[TU_PATH_MAX];
	struct ring_config cfg;
	struct ring_stats st;
	struct ring *r, *x;
	int failures = 0;

	ring_config_init(&cfg);
	cfg.capacity = 64 << 10;
	cfg.processes = 8;
	tu_ring_path(path, "reuse");
	ring_create(path, &cfg, 0, &r);
	for (int i = 0; i < 300; i++) {
		if (ring_open(path, 0, &x) || ring_send(x, 0, "a", 1, 0, NULL))
			failures++;
		ring_close(x);
	}
	is(failures, 0, "300 open/send/close in an 8-entry table");
	for (int i = 0; i < 100; i++) {
		pid_t pid = fork();
		int status;

		if (pid == 0) {
			struct ring *c;

			if (ring_open(path, 0, &c) ||
			    ring_send(c, 0, "b", 1, 0, NULL))
				_exit(1);
			kill(getpid(), SIGKILL);
		}
		waitpid(pid, &status, 0);
		if (!WIFSIGNALED(status))
			failures++;
	}
	is(failures, 0, "100 children opened, sent and were killed");
	ring_stats(r, &st);
	is(st.committed, 400, "their messages are counted after their death");
	ok(st.processes <= 1, "no dead entry counts as attached (%u)",
	   st.processes);
	ring_close(r);
}

static void test_timestamps(void)
{
	char path[TU_PATH_MAX];
	struct ring_config cfg;
	struct ring_reader *rd;
	struct timespec a, b;
	struct ring_msg m;
	struct ring *r;
	uint64_t lo, hi;

	ring_config_init(&cfg);
	cfg.capacity = 64 << 10;
	cfg.flags = RING_CFG_TIMESTAMPS;
	tu_ring_path(path, "ts");
	is(ring_create(path, &cfg, 0, &r), 0, "create with timestamps");
	ring_reader_open(r, "g", RING_GROUP_CREATE, &rd);
	clock_gettime(CLOCK_REALTIME, &a);
	ring_send(r, 3, "stamped", 7, 0, NULL);
	clock_gettime(CLOCK_REALTIME, &b);
	lo = (uint64_t)a.tv_sec * 1000000000ull + (uint64_t)a.tv_nsec;
	hi = (uint64_t)b.tv_sec * 1000000000ull + (uint64_t)b.tv_nsec;
	is(ring_peek(rd, &m, RING_NONBLOCK, NULL), 0, "message there");
	ok(m.timestamp >= lo && m.timestamp <= hi,
	   "timestamp taken at send time");
	ok(m.len == 7 && memcmp(m.data, "stamped", 7) == 0,
	   "payload after the timestamp");
	ring_release(rd);
	ring_reader_close(rd);
	ring_close(r);
}

int main(void)
{
	plan(18);
	alarm(120);
	test_threads();
	test_fork();
	test_table_reuse();
	test_timestamps();
	return exit_status();
}

/* SPDX-License-Identifier: MIT */
/*
 * t_sched_lease - the lease protocol of lease.c, step by step.
 *
 * Interleavings forced with schedule points:
 *  1. A taker stopped between its CAS and its lock ("lease:taken") holds
 *     the seat already: another process sees a live reader and is refused.
 *     (Were LOCKED set before the lock, the seat would look dead.)
 *  2. A holder stopped between clearing its word and dropping its lock
 *     ("lease:cleared"): a taker that meets the lock backs off and leaves
 *     the word free, and the seat is taken once the lock is gone.
 *
 * Owner words written as a hostile writer could write them (no lock
 * behind them, as when a reader's read locks kept the owner from locking):
 *  3. a live process's pid with its start time: alive;
 *  4. the same pid with another start time (the pid was reused): dead;
 *  5. a pid no process has: dead;
 *  6. LOCKED, no lock held, the process still there: alive (it may have
 *     given the lease up and taken it again between two looks: ABA);
 *  7. LOCKED, no lock held, no such process: dead.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ring.h"
#include "tap.h"
#include "lib/sched_hook.h"
#include "lib/testutil.h"
#include "../libring/src/layout.h"

static char path[TU_PATH_MAX];
static struct sched_hook hook;

/* Open a reader of "g" with @hook armed, hold it until killed. */
static int seat_taker(void *arg)
{
	struct ring_reader *rd;
	struct ring *r;

	(void)arg;
	if (ring_open(path, 0, &r))
		return 20;
	sched_arm(&hook);
	if (ring_reader_open(r, "g", 0, &rd))
		return 21;
	for (;;)
		pause();
}

/* Open a reader of "g", then close it with @hook armed. */
static int seat_leaver(void *arg)
{
	struct ring_reader *rd;
	struct ring *r;

	(void)arg;
	if (ring_open(path, 0, &r) || ring_reader_open(r, "g", 0, &rd))
		return 30;
	sched_arm(&hook);
	ring_reader_close(rd);
	for (;;)
		pause();
}

/* Offset in the file of group 0's owner word. */
static off_t owner_off(void)
{
	struct rl_super sb;

	if (tu_file_peek(path, 0, &sb, sizeof(sb)))
		bail_out("superblock");
	return (off_t)(sb.group_off + offsetof(struct rl_group, owner));
}

/* Start time of @pid from /proc, or 0. */
static uint64_t start_of(pid_t pid)
{
	char p[64], buf[1024];
	unsigned long long v = 0;
	FILE *f;
	char *s;
	int field = 2;

	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	f = fopen(p, "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	s = strrchr(buf, ')');
	for (; s && *s && field < 22; s++)
		if (*s == ' ')
			field++;
	if (s && field == 22)
		v = strtoull(s, NULL, 10);
	return v;
}

static uint64_t word(pid_t pid, uint64_t start, int locked)
{
	start &= (1ull << 41) - 1;
	return ((uint64_t)pid << 42) | ((start ? start : 1) << 1) | (locked ? 1 : 0);
}

/* Write @w as group 0's owner; may a reader of "g" be opened then? */
static int opens_with(struct ring *r, uint64_t w)
{
	struct ring_reader *rd;
	int rc;

	if (tu_file_patch(path, owner_off(), &w, sizeof(w)))
		bail_out("patch");
	rc = ring_reader_open(r, "g", 0, &rd);
	if (rc == 0)
		ring_reader_close(rd);
	return rc;
}

static int sleeper(void *arg)
{
	(void)arg;
	while (pause() < 0)
		;
	return 0;
}

int main(void)
{
	struct ring_group_stats gs;
	struct ring_config cfg;
	struct ring_reader *rd;
	struct ring *r;
	uint64_t start;
	pid_t p, live;
	int rc;

	plan(13);
	tu_guard(60);
	ring_config_init(&cfg);
	cfg.capacity = 64 << 10;
	if (ring_create(tu_ring_path(path, "sched-lease"), &cfg, 0, &r) ||
	    ring_group_create(r, "g", 0))
		bail_out("ring");

	/* 1 */
	if (sched_init(&hook, "lease:taken", SCHED_HOLD, 0))
		bail_out("hook");
	p = tu_fork(seat_taker, NULL);
	ok(sched_reached(&hook, 10000), "a taker stops between its CAS and its lock");
	ok(ring_group_stats(r, "g", &gs) == 0 && gs.reader_alive,
	   "its seat is reported held");
	ok(ring_reader_open(r, "g", 0, &rd) == -EBUSY,
	   "and is refused to another reader");
	sched_release(&hook);
	kill(p, SIGKILL);
	waitpid(p, NULL, 0);

	/* 2 */
	if (sched_init(&hook, "lease:cleared", SCHED_HOLD, 0))
		bail_out("hook");
	p = tu_fork(seat_leaver, NULL);
	ok(sched_reached(&hook, 10000),
	   "a reader stops between clearing its word and dropping its lock");
	ok(ring_reader_open(r, "g", 0, &rd) == -EBUSY,
	   "a taker meeting the lock backs off");
	sched_release(&hook);
	rc = -EBUSY;
	for (int i = 0; i < 10000 && rc == -EBUSY; i++) {
		rc = ring_reader_open(r, "g", 0, &rd);
		if (rc == -EBUSY)
			usleep(1000);
	}
	ok(rc == 0, "and gets the seat once the lock is dropped (%s)",
	   ring_strerror(rc));
	if (rc == 0)
		ring_reader_close(rd);
	kill(p, SIGKILL);
	waitpid(p, NULL, 0);

	/* 3-6 */
	live = tu_fork(sleeper, NULL);
	ok(start_of(live) != 0, "a live process and its start time");
	is(opens_with(r, word(live, start_of(live), 0)), -EBUSY,
	   "an unlocked owner word naming it: the seat is held");
	is(opens_with(r, word(live, start_of(live) + 1, 0)), 0,
	   "the same pid with another start time: the seat is free");
	is(opens_with(r, word(live, start_of(live), 1)), -EBUSY,
	   "LOCKED without a lock, its process alive: the seat is held");
	start = start_of(live);
	kill(live, SIGKILL);
	waitpid(live, NULL, 0);
	is(opens_with(r, word(live, start, 0)), 0,
	   "a pid without a process: the seat is free");
	is(opens_with(r, word(live, start, 1)), 0,
	   "LOCKED without a lock, no such process: the seat is free");
	is(opens_with(r, 0), 0, "a free word: the seat is free");

	ring_close(r);
	ring_unlink(path);
	return exit_status();
}

/* SPDX-License-Identifier: MIT */
/*
 * sched_hook.h - drive the schedule points of the test build of the library
 * (libring/src/sched_point.h) from a test: stop a thread at a named protocol step,
 * learn that it got there, let it go on. Header-only, since only the
 * t_sched_* tests link the library that has the points.
 *
 * A hook is set up in the parent (its pipes are inherited by a forked
 * child), armed in the thread that should stop, and fires once, at the
 * first hit of its point after @skip hits. A thread may arm a chain of
 * hooks (sched_chain()): they fire in order.
 */
#ifndef LIBRING_TESTS_SCHED_HOOK_H
#define LIBRING_TESTS_SCHED_HOOK_H

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "../../libring/src/sched_point.h"

enum sched_action {
	SCHED_HOLD = 1, /* report, then wait for sched_release() */
	SCHED_NOTE = 2, /* report and go on */
};

struct sched_hook {
	const char *point;
	unsigned skip;	/* hits let through before it fires */
	int action;
	int fired;
	int report[2];	/* the stopped thread writes one byte */
	int resume[2];	/* the test writes one byte to let it go on */
	struct sched_hook *next;
};

static __thread struct sched_hook *sched_mine;

static void sched_fn(const char *point, void *arg)
{
	struct sched_hook *h = sched_mine;
	char b = 'R';

	(void)arg;
	while (h && h->fired)
		h = h->next;
	if (!h || strcmp(point, h->point) != 0)
		return;
	if (h->skip) {
		h->skip--;
		return;
	}
	h->fired = 1;
	if (write(h->report[1], &b, 1) != 1)
		_exit(90);
	if (h->action == SCHED_HOLD) {
		while (read(h->resume[0], &b, 1) < 0 && errno == EINTR)
			;
	}
}

/* Set up @h to fire at @point; 0 or -1. */
static inline int sched_init(struct sched_hook *h, const char *point,
			     int action, unsigned skip)
{
	memset(h, 0, sizeof(*h));
	h->point = point;
	h->action = action;
	h->skip = skip;
	if (pipe(h->report) || pipe(h->resume))
		return -1;
	return 0;
}

/* Arm @h (and the hooks chained after it) in the calling thread. */
static inline void sched_arm(struct sched_hook *h)
{
	sched_mine = h;
	rl_sched_set(sched_fn, NULL);
}

/* Chain @b to fire after @a. */
static inline void sched_chain(struct sched_hook *a, struct sched_hook *b)
{
	a->next = b;
}

/* Wait up to @ms for @h to fire: 1 if it did, 0 if not in time. */
static inline int sched_reached(struct sched_hook *h, int ms)
{
	struct pollfd p = { .fd = h->report[0], .events = POLLIN };
	char b;

	if (poll(&p, 1, ms) != 1)
		return 0;
	return read(h->report[0], &b, 1) == 1;
}

/* Let the thread stopped at @h go on. */
static inline void sched_release(struct sched_hook *h)
{
	char b = 'G';

	if (write(h->resume[1], &b, 1) != 1)
		_exit(91);
}

#endif /* LIBRING_TESTS_SCHED_HOOK_H */

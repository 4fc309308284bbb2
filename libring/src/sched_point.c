// SPDX-License-Identifier: MIT
/*
 * sched_point.c - the schedule-point hook of the test build (sched_point.h). Compiled
 * into lib/libring-test.a only; the normal library has no such symbol.
 */
#ifdef RL_TEST_HOOKS
#include <stddef.h>

#include "order.h"
#include "sched_point.h"

static rl_sched_fn sched_fn;
static void *sched_arg;

void rl_sched_set(rl_sched_fn fn, void *arg)
{
	store_relaxed(&sched_arg, arg);
	/* R-sched: the argument before the hook; pairs with the acquire in
	 * rl_sched_point(). */
	store_release(&sched_fn, fn);
}

void rl_sched_point(const char *point)
{
	/* A-sched: pairs with the release in rl_sched_set(). */
	rl_sched_fn fn = load_acquire(&sched_fn);

	if (fn)
		fn(point, load_relaxed(&sched_arg));
}
#else
/* ISO C wants a translation unit to declare something. */
typedef int rl_sched_unused;
#endif

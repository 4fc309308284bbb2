// SPDX-License-Identifier: MIT
/*
 * wait.c - eventcounts in the file: sleeping and waking across processes
 * without a system call per message (DESIGN H7, H8).
 *
 * A waiter announces itself (waiters++), makes its announcement visible,
 * re-checks its condition and only then sleeps on the futex word `seq`. A
 * waker first makes its own change visible (the commit word, the cursor),
 * then reads `waiters` and enters the kernel only when it is non-zero.
 *
 * That is a Dekker pattern: each side stores, then loads the other side's
 * word, and without a full barrier on both sides both loads may miss. A full
 * fence on the waker's side would cost every message tens of cycles, so the
 * waker uses only a compiler barrier and the waiter, which is about to enter
 * the kernel anyway, pays with membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED):
 * it forces a full barrier on every CPU running a process that registered
 * for it. A process whose registration failed falls back to a fence on its
 * waker side, which is correct with any waiter.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <urcu/futex.h>

#include "internal.h"

static int membarrier_state; /* 0 unknown, 1 usable, -1 not available */

static int sys_membarrier(int cmd)
{
	return (int)syscall(__NR_membarrier, cmd, 0, 0);
}

/*
 * Register this process for expedited global barriers. Idempotent; cheap
 * enough to call at every open. A child after fork() must register again,
 * which its own ring_open() does.
 */
void rl_membarrier_register(struct ring *r)
{
	r->membarrier_ok = sys_membarrier(
				   MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) == 0;
	store_relaxed(&membarrier_state, r->membarrier_ok ? 1 : -1);
}

/* The waiter's barrier: after announcing, before re-checking. */
static void waiter_barrier(void)
{
	if (load_relaxed(&membarrier_state) == 1 &&
	    sys_membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) == 0)
		return;
	full_fence();
}

uint64_t rl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* An absolute deadline in ns, UINT64_MAX for none. */
uint64_t rl_deadline_ns(const struct timespec *deadline)
{
	if (!deadline)
		return UINT64_MAX;
	if (deadline->tv_sec < 0)
		return 0;
	return (uint64_t)deadline->tv_sec * 1000000000ull +
	       (uint64_t)deadline->tv_nsec;
}

/*
 * Wake every sleeper of @ec if one is announced. Called after the caller's
 * store that the sleepers wait for.
 */
void rl_wake(struct ring *r, struct rl_eventcount *ec)
{
	/* Order the caller's store before the load of waiters: a compiler
	 * barrier suffices against a waiter that issues membarrier (see the
	 * top of this file); otherwise a full fence. */
	if (likely(r->membarrier_ok))
		cmm_barrier();
	else
		full_fence();
	if (likely(load_relaxed(&ec->waiters) == 0))
		return;
	__atomic_fetch_add(&ec->seq, 1, __ATOMIC_SEQ_CST);
	futex((int32_t *)&ec->seq, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/*
 * Sleep on @ec until woken, until @wake_at_ns (monotonic, UINT64_MAX for
 * never) or spuriously, unless @ready(@arg) is already true after the
 * announcement. @me, if not NULL, records the announcement in the caller's
 * process entry so that it can be taken back if the caller dies asleep.
 * Returns 0 (re-check the condition) or -ETIMEDOUT when @wake_at_ns passed.
 */
int rl_ec_wait(struct ring *r, struct rl_eventcount *ec, struct rl_proc *me,
	       uint32_t sleep_kind, bool (*ready)(void *), void *arg,
	       uint64_t wake_at_ns)
{
	uint32_t seq0 = load_acquire(&ec->seq);
	struct timespec ts, *tsp = NULL;
	int ret = 0;

	__atomic_fetch_add(&ec->waiters, 1, __ATOMIC_SEQ_CST);
	if (me)
		store_relaxed(&me->sleeping, sleep_kind);
	waiter_barrier();
	if (!ready(arg)) {
		if (wake_at_ns != UINT64_MAX) {
			if (rl_now_ns() >= wake_at_ns) {
				ret = -ETIMEDOUT;
				goto out;
			}
			ts.tv_sec = (time_t)(wake_at_ns / 1000000000ull);
			ts.tv_nsec = (long)(wake_at_ns % 1000000000ull);
			tsp = &ts;
		}
		/* Absolute CLOCK_MONOTONIC timeout: FUTEX_WAIT_BITSET. The
		 * word is shared between processes: no FUTEX_PRIVATE_FLAG. */
		if (futex((int32_t *)&ec->seq, FUTEX_WAIT_BITSET,
				(int32_t)seq0, tsp, NULL,
				FUTEX_BITSET_MATCH_ANY) < 0 &&
		    errno == ETIMEDOUT)
			ret = -ETIMEDOUT;
	}
out:
	if (me)
		store_relaxed(&me->sleeping, RL_SLEEP_NONE);
	__atomic_fetch_sub(&ec->waiters, 1, __ATOMIC_SEQ_CST);
	return ret;
}

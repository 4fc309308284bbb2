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
 * word, and without a full barrier on both sides both loads may miss. Both
 * sides pay for one (a locked no-op on x86, see order.h), the waker once per
 * commit or release call, the waiter once per sleep.
 *
 * (An asymmetric barrier -- a compiler barrier for the waker and
 * membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) for the waiter -- was tried and
 * measured: on this project's virtual machines one membarrier costs about
 * 30 us of IPIs, and with more runnable processes than cores, where waiting
 * is frequent, it made the suite's stress tests spend most of their time in
 * the kernel.)
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <urcu/futex.h>

#include "internal.h"

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
	/* Order the caller's store before the load of waiters. */
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
 * Returns 0 (re-check the condition), -ETIMEDOUT when @wake_at_ns passed,
 * or -EINTR when a signal interrupted the sleep and @intr is set.
 */
int rl_ec_wait(struct ring *r, struct rl_eventcount *ec, struct rl_proc *me,
	       uint32_t sleep_kind, bool (*ready)(void *), void *arg,
	       uint64_t wake_at_ns, bool intr)
{
	uint32_t seq0 = load_acquire(&ec->seq);
	struct timespec ts, *tsp = NULL;
	int ret = 0;

	__atomic_fetch_add(&ec->waiters, 1, __ATOMIC_SEQ_CST);
	if (me)
		store_relaxed(&me->sleeping, sleep_kind);
	full_fence(); /* the announcement before the re-check */
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
				FUTEX_BITSET_MATCH_ANY) < 0) {
			if (errno == ETIMEDOUT)
				ret = -ETIMEDOUT;
			else if (errno == EINTR && intr)
				ret = -EINTR;
		}
	}
out:
	if (me)
		store_relaxed(&me->sleeping, RL_SLEEP_NONE);
	__atomic_fetch_sub(&ec->waiters, 1, __ATOMIC_SEQ_CST);
	return ret;
}

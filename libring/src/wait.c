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
 * word, and without a full barrier on both sides both loads may miss. A
 * full barrier on the waker's side would be paid on every commit and every
 * release, and it is not cheap: it waits until the waker's earlier stores
 * (the payload, the commit word) have reached cache lines that the other
 * side holds; measured here, that alone made a streaming producer four to
 * seven times slower. So the barrier is made asymmetric: the waker uses a
 * compiler barrier only, and the waiter, which is about to enter the kernel
 * anyway, calls membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED), which runs a
 * full barrier on every CPU running a process registered for it (about
 * 20 us here). Every process that opens a ring for writing registers; a
 * process whose registration fails uses a real fence as a waker, and a
 * waiter whose membarrier fails caps its sleep at RL_FALLBACK_SLEEP_NS.
 *
 * `waiters` is a flag, not a count: a waiter sets it, and the waker that
 * finds it set clears it (exchange) and wakes everybody, so a stream of
 * commits costs one futex call per sleep of the readers, not one per
 * message. A waiter that wakes up for another reason leaves the flag set,
 * which costs one needless wake at most.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <urcu/futex.h>

#include "internal.h"

#define RL_FALLBACK_SLEEP_NS 1000000ull

#ifdef RL_TEST_HOOKS
int rl_test_membarrier_errno; /* non-zero: act as if refused (sched_point.h) */
#endif

static int sys_membarrier(int cmd)
{
#ifdef RL_TEST_HOOKS
	if (load_relaxed(&rl_test_membarrier_errno)) {
		errno = load_relaxed(&rl_test_membarrier_errno);
		return -1;
	}
#endif
	return (int)syscall(__NR_membarrier, cmd, 0, 0);
}

/*
 * Register this process for expedited global barriers (idempotent, per
 * process). A child after fork() registers again through its own
 * ring_open().
 */
void rl_membarrier_register(struct ring *r)
{
	r->membarrier_ok =
		sys_membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) == 0;
}

/*
 * A full barrier on every CPU that runs a registered process (group.c uses
 * it to see every producer's intent). Returns 0, or -errno where refused.
 */
int rl_membarrier_all(void)
{
	return sys_membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) == 0 ? 0 : -errno;
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

/* rl_wake()'s slow path (internal.h): somebody announced a sleep. */
void rl_wake_slow(struct rl_eventcount *ec)
{
	if (!__atomic_exchange_n(&ec->waiters, 0, __ATOMIC_SEQ_CST))
		return; /* another waker took it */
	__atomic_fetch_add(&ec->seq, 1, __ATOMIC_SEQ_CST);
	futex((int32_t *)&ec->seq, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/*
 * A spinning waiter (a reader waiting for a commit, a producer waiting for
 * room, an observer) that has polled a whole round without progress gives
 * its CPU to whoever waits for it, once, and then polls again (H7). Where
 * there are more busy processes than CPUs, the process it waits for may be
 * the one waiting for this CPU: a producer preempted in the middle of a
 * claim, a reader that would make room. Without the yield each hand-over costs
 * the rest of a scheduler time slice (milliseconds: a producer and a
 * spinning reader sharing one CPU moved 1.6 M msg/s, 51 M with it, on the
 * build machine). With nothing else to run it returns at once: a system
 * call per round (about 10 us) of a wait that long, none while messages
 * flow. @point names the schedule point of the test build.
 */
void rl_spin_yield(const char *point)
{
	RL_SCHED(point);
	sched_yield();
}

/*
 * Sleep on @ec until woken, until @wake_at_ns (monotonic, UINT64_MAX for
 * never) or spuriously, unless @ready(@arg) is already true after the
 * announcement. @me, if not NULL, records the announcement in the caller's
 * process entry so that it can be taken back if the caller dies asleep.
 * Returns 0 (re-check the condition), -ETIMEDOUT when @wake_at_ns passed,
 * or -EINTR when a signal interrupted the sleep and @intr is set, or -EIO
 * when the handle is broken or the file shrank (sigbus.c). Where
 * membarrier() is refused each sleep is capped at RL_FALLBACK_SLEEP_NS;
 * the end of such a capped sleep returns 0, never -ETIMEDOUT.
 */
int rl_ec_wait(struct ring *r, struct rl_eventcount *ec, struct rl_proc *me,
	       uint32_t sleep_kind, bool (*ready)(void *), void *arg,
	       uint64_t wake_at_ns, bool intr)
{
	uint32_t seq0 = load_acquire(&ec->seq);
	struct timespec ts, *tsp = NULL;
	uint64_t asked = wake_at_ns, cap;
	int ret = 0;

	/* Announce (a locked exchange: ordered before our re-check). */
	__atomic_exchange_n(&ec->waiters, 1, __ATOMIC_SEQ_CST);
	if (me)
		store_relaxed(&me->sleeping, sleep_kind);
	/* The wakers' side of the barrier (see the top of this file). */
	if (sys_membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) != 0) {
		cap = rl_now_ns() + RL_FALLBACK_SLEEP_NS;
		if (cap < wake_at_ns)
			wake_at_ns = cap;
	}
	/* H13: a file that shrank took our futex word with it, and nobody
	 * can wake us through it: look at the size now and sleep at most
	 * RL_SIZE_CHECK_NS at a time (sigbus.c). */
	cap = rl_now_ns() + RL_SIZE_CHECK_NS;
	if (cap < wake_at_ns)
		wake_at_ns = cap;
	if (!ready(arg) && (ret = rl_size_check(r)) == 0) {
		RL_SCHED("ec:futex");
		if (wake_at_ns != UINT64_MAX) {
			if (rl_now_ns() >= wake_at_ns) {
				ret = -ETIMEDOUT; /* made 0 below for a cap */
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
			/* Only the caller's own deadline is a time-out: the
			 * end of a capped sleep is a re-check (below). */
			if (errno == ETIMEDOUT)
				ret = -ETIMEDOUT;
			else if (errno == EINTR && intr)
				ret = -EINTR;
		}
	}
out:
	/* Woken by one of our caps, not by the caller's time: look again. */
	if (ret == -ETIMEDOUT && rl_now_ns() < asked)
		ret = 0;
	if (me)
		store_relaxed(&me->sleeping, RL_SLEEP_NONE);
	return ret;
}

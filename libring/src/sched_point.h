/* SPDX-License-Identifier: MIT */
/*
 * sched_point.h - test-only schedule points.
 *
 * RL_SCHED("name") marks a named step of a protocol (after the intent,
 * after the tail CAS, inside a refresh of the cached minimum, ...). In the
 * normal build it expands to nothing. In the test build of the library
 * (compiled with -DRL_TEST_HOOKS, see libring/rules.mk: lib/libring-test.a)
 * it calls the hook a test installed with rl_sched_set(), which may stop
 * the calling thread there (block on a pipe, raise SIGSTOP) or end the
 * process (_exit, SIGKILL), so that a test can force one interleaving of
 * the protocol every run instead of waiting for it by luck.
 *
 * The names in use, by file:
 *   produce.c  claim:intent   intent published, the minimum not yet read
 *              claim:cas      the tail moved, claim_state not yet HELD
 *              claim:held     claim_state is HELD, nothing written yet
 *              claim:lost     the tail CAS failed, the stale intent still
 *                             published
 *              claim:commit   commit word stored, claim_state not yet NONE
 *              claim:full     no room found, before waking readers/waiting
 *   group.c    refresh:scan   a refresh scanned the groups, not yet stored
 *              group:joining  a new or reset group's cursor is placed and
 *                             the minimum lowered, before the intent scan
 *              group:locked   the group table lock is held (create/remove)
 *              group:chosen   create picked a free entry, not yet written
 *              group:idle     remove/reset found no reader of this handle,
 *                             the group's lock not yet taken
 *   consume.c  reader:sleep   a reader is about to sleep on `data`
 *   observe.c  observe:header an observer found a committed message and
 *                             read its header, the payload not yet copied
 *              observe:copied an observer copied a message, not yet
 *                             checked that it was not overwritten
 *   wait.c     ec:futex       announced and re-checked, before FUTEX_WAIT
 */
#ifndef LIBRING_SCHED_POINT_H
#define LIBRING_SCHED_POINT_H

#ifdef RL_TEST_HOOKS
/* Called at every schedule point with its name and @arg. */
typedef void (*rl_sched_fn)(const char *point, void *arg);

/* Install @fn (NULL to remove) as this process's schedule hook. */
void rl_sched_set(rl_sched_fn fn, void *arg);
void rl_sched_point(const char *point);
#define RL_SCHED(point) rl_sched_point(point)
/* Non-zero: membarrier() fails with this errno, as under seccomp. */
extern int rl_test_membarrier_errno;
#else
#define RL_SCHED(point) do { } while (0)
#endif

#endif /* LIBRING_SCHED_POINT_H */

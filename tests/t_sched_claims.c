/* SPDX-License-Identifier: MIT */
/*
 * t_sched_claims - the claim and recovery protocol under interleavings that
 * the schedule points of the test build force every run (sched.h):
 *
 *   full      a reader asleep with nothing to read; producers fill the ring
 *             with claims and die; another producer waits for room. The
 *             reader must wake, skip the dead claims, and the producer's
 *             message must arrive (it wedged forever when only commits
 *             woke readers).
 *   reclaim   a dead winner's entry reclaimed while a dead loser's stale
 *             intent reaches past the winner's end: the message committed
 *             right after the winner's claim must not be skipped.
 *   loser     a live loser stopped after its failed CAS, its stale intent
 *             covering a dead HELD winner's claim: recovery must not wait
 *             for the loser, and counts the claim once.
 *   nobarrier membarrier() refused: a blocking send with no deadline keeps
 *             waiting past the 1 ms sleep cap until room comes.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ring.h"
#include "tap.h"
#include "lib/sched_hook.h"
#include "lib/testutil.h"

static char path[TU_PATH_MAX];

static struct ring *make_ring(const char *tag, uint64_t capacity,
			      uint32_t max_message, int with_group)
{
	struct ring_config cfg;
	struct ring *r = NULL;

	ring_config_init(&cfg);
	cfg.capacity = capacity;
	cfg.slot_size = 16;
	cfg.max_message = max_message;
	if (ring_create(tu_ring_path(path, tag), &cfg, 0, &r) != 0)
		return NULL;
	if (with_group && ring_group_create(r, "g", 0) != 0) {
		ring_close(r);
		return NULL;
	}
	return r;
}

/* ---- full: a ring full of dead claims, the reader asleep ---- */

#define FULL_CAP (64u << 10)
#define FULL_MAX (16384u - 16u) /* 1024 slots: four claims fill the ring */
#define FULL_VICTIMS 4

static struct sched_hook reader_asleep;
static int victim_ready[2];

/* Reader of "g": reports its first sleep, then must get one message. */
static int full_reader(void *arg)
{
	struct ring_reader *rd;
	struct ring_msg m;
	struct timespec dl;
	struct ring *r;
	char buf[64];

	(void)arg;
	if (ring_open(path, 0, &r) || ring_reader_open(r, "g", 0, &rd))
		return 10;
	ring_set_recovery_ms(r, 50);
	sched_arm(&reader_asleep);
	if (ring_peek(rd, &m, 0, tu_deadline_ms(&dl, 20000)) != 0)
		return 11;
	snprintf(buf, sizeof(buf), "after");
	if (m.len != 5 || memcmp(m.data, buf, 5) != 0)
		return 12;
	return ring_release(rd) ? 13 : 0;
}

/* A producer that claims the largest message, says so, and waits to die. */
static int full_victim(void *arg)
{
	struct ring_claim c;
	struct ring *r;

	(void)arg;
	if (ring_open(path, 0, &r) ||
	    ring_reserve(r, FULL_MAX, 0, RING_FULL_FAIL, NULL, &c))
		return 20;
	memset(c.data, 'v', 100);
	if (tu_write_all(victim_ready[1], "V", 1))
		return 21;
	for (;;)
		pause();
}

/* A producer that waits for room (10 s at most) for one message. */
static int full_sender(void *arg)
{
	struct timespec dl;
	struct ring *r;
	int rc;

	(void)arg;
	if (ring_open(path, 0, &r))
		return 30;
	rc = ring_send(r, 1, "after", 5, RING_FULL_WAIT, tu_deadline_ms(&dl, 10000));
	return rc == 0 ? 0 : 31;
}

static void test_full(void)
{
	struct ring_stats st;
	pid_t reader, sender, victims[FULL_VICTIMS];
	struct ring *r = make_ring("full", FULL_CAP, FULL_MAX, 1);
	char b;
	int ok_all = 1;

	ok(r != NULL, "full: ring with a group");
	if (!r)
		return;
	if (sched_init(&reader_asleep, "ec:futex", SCHED_NOTE, 0) ||
	    pipe(victim_ready))
		bail_out("pipe");
	reader = tu_fork(full_reader, NULL);
	ok(sched_reached(&reader_asleep, 10000),
	   "full: the reader sleeps with nothing to read (tail == cursor)");
	for (int i = 0; i < FULL_VICTIMS; i++) {
		victims[i] = tu_fork(full_victim, NULL);
		if (tu_read_timeout(victim_ready[0], &b, 1, 10000))
			ok_all = 0;
	}
	ok(ok_all, "full: %d producers hold claims of %u bytes", FULL_VICTIMS,
	   FULL_MAX);
	ring_stats(r, &st);
	is(st.tail - st.min_cursor, st.slot_count,
	   "full: the claims fill the ring exactly");
	for (int i = 0; i < FULL_VICTIMS; i++) {
		kill(victims[i], SIGKILL);
		waitpid(victims[i], NULL, 0);
	}
	sender = tu_fork(full_sender, NULL);
	is(tu_wait(sender, 15000), 0,
	   "full: a producer waiting for room gets it (the reader woke)");
	is(tu_wait(reader, 15000), 0,
	   "full: the reader skipped the dead claims and got the message");
	ring_stats(r, &st);
	is(st.recovered, FULL_VICTIMS, "full: each dead claim counted once");
	ring_close(r);
	ring_unlink(path);
}

/* ---- reclaim and loser: a winner and a loser of one tail position ---- */

static struct sched_hook loser_intent, loser_lost, winner_held;

/* Claims 5 slots (64 bytes), stopped at its intent and after its CAS. */
static int loser(void *arg)
{
	struct ring_claim c;
	struct ring *r;

	(void)arg;
	if (ring_open(path, 0, &r))
		return 40;
	sched_chain(&loser_intent, &loser_lost);
	sched_arm(&loser_intent);
	if (ring_reserve(r, 64, 7, RING_FULL_FAIL, NULL, &c))
		return 41;
	memset(c.data, 'L', 64);
	return ring_commit(r, &c) ? 42 : 0;
}

/* Claims 2 slots (16 bytes) and is killed once it holds the claim. */
static int winner(void *arg)
{
	struct ring_claim c;
	struct ring *r;

	(void)arg;
	if (ring_open(path, 0, &r))
		return 50;
	sched_arm(&winner_held);
	if (ring_reserve(r, 16, 8, RING_FULL_FAIL, NULL, &c))
		return 51;
	return 52; /* killed before this */
}

/*
 * Start a loser stopped at its intent for position c, then a winner that
 * claims c first and is killed holding it, then let the loser's CAS fail:
 * it stops again after it. Returns the loser's pid.
 */
static pid_t race_for_c(const char *tag)
{
	pid_t l, w;

	if (sched_init(&loser_intent, "claim:intent", SCHED_HOLD, 0) ||
	    sched_init(&loser_lost, "claim:lost", SCHED_HOLD, 0) ||
	    sched_init(&winner_held, "claim:held", SCHED_HOLD, 0))
		bail_out("pipe");
	l = tu_fork(loser, NULL);
	ok(sched_reached(&loser_intent, 10000),
	   "%s: the loser published its intent for c", tag);
	w = tu_fork(winner, NULL);
	ok(sched_reached(&winner_held, 10000),
	   "%s: the winner claimed c and holds it", tag);
	kill(w, SIGKILL);
	waitpid(w, NULL, 0);
	sched_release(&loser_intent);
	ok(sched_reached(&loser_lost, 10000),
	   "%s: the loser's CAS failed, its stale intent covers c", tag);
	return l;
}

static void test_reclaim(void)
{
	struct ring_reader *rd;
	struct ring_stats st;
	struct ring_msg m;
	struct timespec dl;
	struct ring *r = make_ring("reclaim", 64u << 10, 0, 0), *r2;
	pid_t l;
	int rc;

	ok(r != NULL, "reclaim: ring without a group");
	if (!r)
		return;
	ring_send(r, 1, "before", 6, 0, NULL);
	l = race_for_c("reclaim");
	kill(l, SIGKILL);
	waitpid(l, NULL, 0);
	/* An open sweeps dead entries whose claims nobody needs: with no
	 * group, the winner's (the tail is past its end), not the loser's,
	 * whose stale intent reaches past the tail. */
	ok(ring_open(path, 0, &r2) == 0, "reclaim: reopen (sweeps the winner)");
	ring_proc_list(r2, NULL, 0);
	ok(ring_send(r2, 2, "next", 4, 0, NULL) == 0,
	   "reclaim: a message right after the winner's claim");
	ok(ring_reader_open(r2, "late", RING_GROUP_CREATE, &rd) == 0,
	   "reclaim: a group created from the oldest message");
	ring_set_recovery_ms(r2, 20);
	rc = ring_peek(rd, &m, 0, tu_deadline_ms(&dl, 5000));
	ok(rc == 0 && m.len == 6 && memcmp(m.data, "before", 6) == 0,
	   "reclaim: the message before the claims");
	ring_release(rd);
	rc = ring_peek(rd, &m, 0, tu_deadline_ms(&dl, 5000));
	ok(rc == 0 && m.len == 4 && memcmp(m.data, "next", 4) == 0,
	   "reclaim: the message after the winner's claim is not skipped");
	if (rc == 0)
		ring_release(rd);
	ring_stats(r2, &st);
	is(st.recovered, 1, "reclaim: the dead claim counted once");
	ring_reader_close(rd);
	ring_close(r2);
	ring_close(r);
	ring_unlink(path);
}

static void test_loser(void)
{
	struct ring_reader *rd;
	struct ring_stats st;
	struct ring_msg m;
	struct timespec dl;
	struct ring *r = make_ring("loser", 64u << 10, 0, 1);
	pid_t l;
	int rc;

	ok(r != NULL, "loser: ring with a group");
	if (!r)
		return;
	ring_set_recovery_ms(r, 20);
	ok(ring_reader_open(r, "g", 0, &rd) == 0, "loser: reader of g");
	l = race_for_c("loser");
	ok(ring_send(r, 2, "next", 4, 0, NULL) == 0,
	   "loser: a message after the dead winner's claim");
	rc = ring_peek(rd, &m, 0, tu_deadline_ms(&dl, 5000));
	ok(rc == 0 && m.len == 4 && memcmp(m.data, "next", 4) == 0,
	   "loser: the dead claim is skipped while the loser stays stopped");
	if (rc == 0)
		ring_release(rd);
	ring_stats(r, &st);
	is(st.recovered, 1, "loser: the dead claim counted once");
	sched_release(&loser_lost);
	is(tu_wait(l, 10000), 0, "loser: the loser claims again and commits");
	rc = ring_peek(rd, &m, 0, tu_deadline_ms(&dl, 5000));
	ok(rc == 0 && m.len == 64 && m.type == 7,
	   "loser: its message arrives after the others");
	ring_reader_close(rd);
	ring_close(r);
	ring_unlink(path);
}

/* ---- nobarrier: membarrier() refused ---- */

#define NB_LEN 1008u /* 64 slots */
#define NB_FILL 64   /* messages that fill 4096 slots */

static struct sched_hook sender_asleep;

static int nobarrier_sender(void *arg)
{
	char buf[NB_LEN];
	struct ring *r;

	(void)arg;
	rl_test_membarrier_errno = EPERM;
	if (ring_open(path, 0, &r))
		return 60;
	memset(buf, 's', sizeof(buf));
	for (int i = 0; i < NB_FILL; i++)
		if (ring_send(r, 1, buf, sizeof(buf), RING_FULL_FAIL, NULL))
			return 61;
	sched_arm(&sender_asleep);
	/* Full: this one waits, with no deadline, until the reader reads. */
	return ring_send(r, 2, buf, sizeof(buf), RING_FULL_WAIT, NULL) ? 62 : 0;
}

static void test_nobarrier(void)
{
	struct ring_reader *rd;
	struct ring_msg m;
	struct ring *r = make_ring("nobarrier", 64u << 10, 0, 1);
	pid_t s;
	int n = 0;

	ok(r != NULL, "nobarrier: ring with a group");
	if (!r)
		return;
	if (sched_init(&sender_asleep, "ec:futex", SCHED_NOTE, 0))
		bail_out("pipe");
	s = tu_fork(nobarrier_sender, NULL);
	ok(sched_reached(&sender_asleep, 10000),
	   "nobarrier: the sender fills the ring and sleeps for room");
	/* A hundred times the 1 ms cap of a sleep without membarrier(). */
	poll(NULL, 0, 100);
	ok(waitpid(s, NULL, WNOHANG) == 0,
	   "nobarrier: the sender still waits (no false time-out)");
	ok(ring_reader_open(r, "g", 0, &rd) == 0, "nobarrier: reader of g");
	while (ring_peek(rd, &m, RING_NONBLOCK, NULL) == 0 && n < NB_FILL) {
		ring_release(rd);
		n++;
	}
	is(n, NB_FILL, "nobarrier: the reader frees the ring");
	is(tu_wait(s, 10000), 0, "nobarrier: the waiting send succeeds");
	ring_reader_close(rd);
	ring_close(r);
	ring_unlink(path);
}

int main(void)
{
	plan(33);
	tu_guard(120);
	test_full();
	test_reclaim();
	test_loser();
	test_nobarrier();
	return exit_status();
}

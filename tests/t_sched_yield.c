// SPDX-License-Identifier: MIT
/*
 * t_sched_yield.c - spinning waits give up the CPU (rl_spin_yield() in
 * wait.c). A reader waiting for a commit, a producer waiting for room and
 * an observer waiting for a message that poll a whole round without
 * progress, with more polling to come, reach their yield points
 * (reader:yield, room:yield, observe:yield); one whose polling ends with
 * that round (ring_set_spin() of exactly one round: it sleeps next) does
 * not. Every wait here ends at its deadline, -ETIMEDOUT.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ring.h"
#include "tap.h"
#include "lib/sched_hook.h"
#include "lib/testutil.h"

#define ONE_ROUND 512u	/* RL_SPIN_ROUND (internal.h): pauses per round */
#define WAIT_MS 30

static char path[TU_PATH_MAX];

static int count_msg(const struct ring_msg *m, void *arg)
{
	(void)m;
	++*(int *)arg;
	return 0;
}

/* Arm a NOTE hook at @point in this thread. */
static void note_at(struct sched_hook *h, const char *point)
{
	if (sched_init(h, point, SCHED_NOTE, 0))
		bail_out("sched_init");
	sched_arm(h);
}

/* A reader of an empty ring polls with @spins until its deadline: did it
 * reach reader:yield? */
static int reader_yields(struct ring *r, struct ring_reader *rd,
			 uint32_t spins, int *rc)
{
	struct sched_hook h;
	struct timespec ts;
	int got = 0;

	ring_set_spin(r, spins);
	note_at(&h, "reader:yield");
	*rc = ring_poll(rd, count_msg, &got, 16, 0,
			tu_deadline_ms(&ts, WAIT_MS));
	rl_sched_set(NULL, NULL);
	return sched_reached(&h, 0);
}

/* A producer of a full ring waits for room with @spins until its
 * deadline: did it reach room:yield? */
static int producer_yields(struct ring *r, uint32_t spins, int *rc)
{
	struct sched_hook h;
	struct timespec ts;

	ring_set_spin(r, spins);
	note_at(&h, "room:yield");
	*rc = ring_send(r, 1, "x", 1, RING_FULL_WAIT,
			tu_deadline_ms(&ts, WAIT_MS));
	rl_sched_set(NULL, NULL);
	return sched_reached(&h, 0);
}

int main(void)
{
	struct ring_observer *o;
	struct ring_reader *rd;
	struct sched_hook h;
	struct ring_config cfg;
	struct ring_msg m;
	struct timespec ts;
	struct ring *r;
	char buf[64];
	int rc, yielded, sent = 0;

	plan(10);
	tu_guard(60);
	ring_config_init(&cfg);
	cfg.capacity = 4096;
	if (ring_create(tu_ring_path(path, "yield"), &cfg, 0, &r))
		bail_out("ring_create");
	if (ring_group_create(r, "g", RING_FROM_OLDEST) ||
	    ring_reader_open(r, "g", 0, &rd))
		bail_out("group");

	/* Readers. */
	yielded = reader_yields(r, rd, UINT32_MAX, &rc);
	is(rc, -ETIMEDOUT, "spinning reader of an empty ring: time-out");
	ok(yielded, "a reader that never sleeps yields after a round");
	yielded = reader_yields(r, rd, ONE_ROUND, &rc);
	is(rc, -ETIMEDOUT, "reader spinning one round: time-out");
	ok(!yielded, "a reader whose one round ends in a sleep does not yield");

	/* Producers: fill the ring (the group reads nothing), then wait. */
	while (ring_send(r, 1, "x", 1, RING_FULL_FAIL, NULL) == 0)
		sent++;
	yielded = producer_yields(r, UINT32_MAX, &rc);
	is(rc, -ETIMEDOUT, "spinning producer of a full ring (%d sent): "
	       "time-out", sent);
	ok(yielded, "a producer that never sleeps yields while it waits");
	yielded = producer_yields(r, ONE_ROUND, &rc);
	is(rc, -ETIMEDOUT, "producer spinning one round: time-out");
	ok(!yielded, "a producer whose one round ends in a sleep does not "
	   "yield");

	/* Observers: after the newest message, nothing comes. */
	if (ring_observer_open(path, 0, &o))
		bail_out("ring_observer_open");
	if (ring_observer_seek(o, RING_OBSERVE_NEWEST, 0))
		bail_out("ring_observer_seek");
	ring_set_spin(ring_observer_ring(o), UINT32_MAX);
	note_at(&h, "observe:yield");
	rc = ring_observer_copy(o, &m, buf, sizeof(buf), 0,
				tu_deadline_ms(&ts, WAIT_MS));
	rl_sched_set(NULL, NULL);
	is(rc, -ETIMEDOUT, "spinning observer after the newest: time-out");
	ok(sched_reached(&h, 0), "an observer that never sleeps yields after "
	   "a round");

	ring_observer_close(o);
	ring_reader_close(rd);
	ring_close(r);
	ring_unlink(path);
	return exit_status();
}

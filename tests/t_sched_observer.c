// SPDX-License-Identifier: MIT
/*
 * t_sched_observer.c - the windows of an observer's read (H16), hit every
 * run: an observer thread is stopped after it found a message and read
 * its header (observe:header) or after it copied it (observe:copied), the
 * producer (the main thread) sends meanwhile, and then the observer goes
 * on. Also a zero-copy view held across the producer's sends. Each window
 * is tried at the boundary, on a fresh full ring whose oldest message's
 * first slot is the next to be claimed: the producer sends nothing (the
 * message is intact and must be delivered), or one empty message, which
 * takes one slot and so reaches exactly the first slot of the observed
 * message (it must not be delivered, and the loss must be reported
 * exactly).
 *
 * Ring: 256 slots of 16 bytes, no group; every message of the fill takes
 * 2 slots (16-byte header + 16-byte payload): message i is at position 2i.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "ring.h"
#include "tap.h"
#include "lib/sched_hook.h"
#include "lib/testutil.h"

#define SLOTS 256u
#define LEN 16u
#define PER 2u /* slots per message */

static char path[TU_PATH_MAX];
static struct ring *prod;
static uint64_t sent;

static void send_n(uint64_t n);

/* A fresh ring, full: messages 0..127 at positions 0, 2, ... 254. */
static void fresh_ring(void)
{
	struct ring_config cfg;

	if (prod) {
		ring_close(prod);
		ring_unlink(path);
	}
	ring_config_init(&cfg);
	cfg.capacity = SLOTS * 16;
	if (ring_create(tu_ring_path(path, "sobs"), &cfg, 0, &prod))
		bail_out("ring_create");
	sent = 0;
	send_n(SLOTS / PER);
}

/* One empty message: one slot, the header alone. */
static void send_empty(void)
{
	if (ring_send(prod, 9, "", 0, 0, NULL))
		bail_out("ring_send");
}

static void send_n(uint64_t n)
{
	unsigned char buf[LEN];

	for (uint64_t i = 0; i < n; i++, sent++) {
		tu_msg_fill(buf, LEN, 1, sent);
		if (ring_send(prod, tu_msg_type(1, sent), buf, LEN, 0, NULL))
			bail_out("ring_send");
	}
}

struct obs_call {
	struct ring_observer *o;
	struct sched_hook *hook;
	struct ring_msg m;
	unsigned char buf[64];
	int rc;
};

static void *observe_once(void *arg)
{
	struct obs_call *c = arg;

	sched_arm(c->hook);
	c->rc = ring_observer_copy(c->o, &c->m, c->buf, sizeof(c->buf),
				   RING_NONBLOCK, NULL);
	sched_arm(NULL);
	return NULL;
}

/* Where an observer overrun at @tail goes on: the first message at or
 * after tail - SLOTS + SLOTS / 16. */
static uint64_t resume_at(uint64_t tail)
{
	uint64_t from = tail - SLOTS + SLOTS / 16;

	return (from + PER - 1) / PER * PER;
}

/*
 * An observer at the oldest message of a fresh full ring is stopped at
 * @point while the producer sends one empty message (@overrun) or nothing.
 */
static void window(const char *point, int overrun)
{
	struct ring_observer_stats st;
	struct obs_call c = { 0 };
	struct sched_hook h;
	pthread_t th;
	uint64_t seq, tail;

	fresh_ring();
	if (ring_observer_open(path, 0, &c.o))
		bail_out("ring_observer_open");
	/* The oldest message: the ring is full, so at tail - SLOTS. */
	ring_observer_stats(c.o, &st);
	seq = st.position / PER;
	if (sched_init(&h, point, SCHED_HOLD, 0))
		bail_out("pipe");
	c.hook = &h;
	pthread_create(&th, NULL, observe_once, &c);
	ok(sched_reached(&h, 10000), "%s%s: the observer stopped there "
	   "at message %llu", point, overrun ? ", one slot sent" : "",
	   (unsigned long long)seq);
	if (overrun)
		send_empty();
	tail = sent * PER + (overrun ? 1 : 0);
	sched_release(&h);
	pthread_join(th, NULL);
	ring_observer_stats(c.o, &st);
	if (!overrun) {
		ok(c.rc == 0 && !tu_msg_check(c.m.data, c.m.len, c.m.type, 1, seq),
		   "%s: the ring filled up to the message's slots: it is "
		   "delivered intact (%d)", point, c.rc);
	} else {
		ok(c.rc == -EOVERFLOW && st.delivered == 0 &&
		   st.last_lost == resume_at(tail) - seq * PER,
		   "%s: one slot more reached the message: -EOVERFLOW, %llu "
		   "positions lost (%d, %llu)", point,
		   (unsigned long long)(resume_at(tail) - seq * PER), c.rc,
		   (unsigned long long)st.last_lost);
		c.rc = ring_observer_copy(c.o, &c.m, c.buf, sizeof(c.buf),
					  RING_NONBLOCK, NULL);
		ok(c.rc == 0 && !tu_msg_check(c.m.data, c.m.len, c.m.type, 1,
					      resume_at(tail) / PER),
		   "%s: then it goes on with the oldest intact message", point);
	}
	ring_observer_close(c.o);
}

/* A zero-copy view held while the producer sends one slot (@overrun)
 * or nothing. */
static void view(int overrun)
{
	struct ring_observer_stats st;
	struct ring_observer *o;
	struct ring_msg m;
	unsigned char copy[LEN];
	uint64_t seq;
	int rc;

	fresh_ring();
	if (ring_observer_open(path, 0, &o))
		bail_out("ring_observer_open");
	ring_observer_stats(o, &st);
	seq = st.position / PER;
	rc = ring_observer_peek(o, &m, RING_NONBLOCK, NULL);
	ok(rc == 0 && m.len == LEN, "view: peeked message %llu",
	   (unsigned long long)seq);
	if (overrun)
		send_empty();
	memcpy(copy, m.data, LEN); /* read after the producer wrote */
	rc = ring_observer_release(o);
	if (!overrun) {
		ok(rc == 0 && !tu_msg_check(copy, LEN, tu_msg_type(1, seq), 1, seq),
		   "view: nothing sent, the release says intact and it is");
	} else {
		ring_observer_stats(o, &st);
		ok(rc == -EOVERFLOW && st.delivered == 0 &&
		   st.last_lost == resume_at(sent * PER + 1) - seq * PER,
		   "view: one slot sent, which rewrote the message's header: the "
		   "release says -EOVERFLOW with the loss (%d)", rc);
	}
	ring_observer_close(o);
}

int main(void)
{
	tu_guard(60);
	plan(14);
	window("observe:header", 0);
	window("observe:header", 1);
	window("observe:copied", 0);
	window("observe:copied", 1);
	view(0);
	view(1);
	ring_close(prod);
	return exit_status();
}

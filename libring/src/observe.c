// SPDX-License-Identifier: MIT
/*
 * observe.c - observers: reading a ring without taking part in it
 * (DESIGN 5 "Observers", H3, H4, H16).
 *
 * An observer maps the file PROT_READ through a RING_OPEN_RDONLY handle and
 * never writes a byte of it: no lock, no process-table entry, no cursor, no
 * announcement in an eventcount. Producers do not know it exists, so they
 * overwrite what it has not read yet. It detects that as a seqlock reader
 * does, with the tail as the sequence:
 *
 *   1. commit[p % n] == p + 1 (A1, as a reader): the message at p was
 *      committed, and its header and payload are those of p or of a later
 *      lap;
 *   2. read the header, bound its length (H3), copy the payload;
 *   3. an acquire fence (A10), then the tail: a slot of [p, p + slots) is
 *      written only by a claim of a position >= p + n, and a producer moves
 *      the tail past its claim before it writes a slot (R10 in produce.c).
 *      So a tail <= p + n read after the copy says no byte copied was being
 *      overwritten: the copy is the committed message, byte for byte.
 *
 * One look at the tail per message, after the whole copy (header
 * included): the header's length is bounded before the copy (H3), so a
 * torn one cannot make the copy leave the mapping, and the check after it
 * covers the header too.
 *
 * Otherwise the copy is discarded and counted: the observer moves on to the
 * oldest message still intact, RL_OBS_GUARD of the ring after the front
 * producers overwrite (so that a producer faster than the observer does not
 * lap it again at once), and the positions in between are reported lost.
 *
 * A claim that does not commit is handled as readers handle it (recover.c,
 * without counting it: counting writes the file): a live producer is waited
 * for, a dead one's claim skipped, and a position inside a message (a seek)
 * moves on to the next message.
 *
 * Waiting: spin on the commit word, then sleep on the data eventcount's
 * futex word. FUTEX_WAIT needs only read access, but a sleeper that cannot
 * set the waiters flag is not woken by producers, so each sleep is bounded
 * by the poll interval; a wake-up meant for a sleeping reader ends it early.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <urcu/futex.h>

#include "internal.h"

#define RL_OBS_POLL_NS 1000000ull /* default longest sleep */
#define RL_OBS_GUARD_SHIFT 4	  /* guard band after an overrun: n / 16 */

struct ring_observer {
	struct ring *r;
	uint64_t pos;		/* next position to read */
	uint64_t poll_ns;	/* longest sleep */
	bool peeked;		/* a view of the message at pos is out */
	uint32_t peek_slots;	/* its slots */
	uint64_t stuck_pos;	/* position a claim held us at, since: */
	uint64_t stuck_since;	/* monotonic ns, 0 if not stuck */
	uint64_t recovered_to;	/* where the last skip of a dead claim ended */
	bool recovered_to_valid;
	struct ring_observer_stats st;
};

/*
 * Were the slots of the message at @p intact until now? Everything the
 * caller read before the call is ordered before the look at the tail.
 */
static bool validate(const struct ring *r, uint64_t p)
{
	/* A10: the loads of the message's bytes come before the load of the
	 * tail; pairs with R10 in claim() and claim_fast(): a byte written by
	 * a later lap's claim comes with a tail past that claim's start. */
	acquire_fence();
	return pos_diff(load_relaxed(&r->hot->tail), p) <=
	       (int64_t)r->geo.slot_count;
}

/* Report an overrun at @tail: move past the overwritten positions. */
static int overrun(struct ring_observer *o, uint64_t tail)
{
	struct ring *r = o->r;
	uint64_t n = r->geo.slot_count;
	uint64_t from = tail - n + (n >> RL_OBS_GUARD_SHIFT);
	uint64_t to;

	if (pos_diff(from, o->pos) <= 0)
		from = o->pos + 1;
	if (pos_diff(from, tail) > 0)
		from = tail;
	/* The first committed message (or live claim) at or after from. */
	to = pos_diff(tail, from) > 0 ? rl_next_known_start(r, from - 1, tail) :
					tail;
	o->st.last_lost = to - o->pos;
	o->st.lost += to - o->pos;
	o->st.overruns++;
	o->pos = to;
	o->peeked = false;
	o->stuck_since = 0;
	return -EOVERFLOW;
}

static int obs_checks(const struct ring_observer *o)
{
	if (!o)
		return -EINVAL;
	if (o->r->forked)
		return -ECHILD;
	if (rl_broken(o->r))
		return -EIO;
	return 0;
}

/* The position is past a skip record, a dead claim or a bad message. */
static void skip_to(struct ring_observer *o, uint64_t to)
{
	o->st.skipped += to - o->pos;
	o->pos = to;
	o->stuck_since = 0;
}

/*
 * Nothing committed at o->pos although the tail is past it: a claim in
 * flight, a dead producer's claim, or a position inside a message. Returns
 * 1 if the observer moved on, 0 to wait, -EOVERFLOW if it was lapped.
 */
static int resolve(struct ring_observer *o, uint64_t now)
{
	struct ring *r = o->r;
	uint64_t recovery = (uint64_t)r->recovery_ms * 1000000ull, to, tail;
	bool continued;

	/* At once the first time (liveness is the kernel's word, not a
	 * timeout), then every recovery_ms while a live claim holds us. */
	if (o->stuck_since && o->stuck_pos == o->pos &&
	    now - o->stuck_since < recovery)
		return 0;
	continued = o->recovered_to_valid && o->recovered_to == o->pos;
	if (rl_resolve_stuck(r, o->pos, &to, continued, false)) {
		/* A lap meanwhile (the commit word we missed may be a later
		 * lap's) is an overrun, not a skip: the tail it saw was at
		 * most this one. */
		tail = load_acquire(&r->hot->tail); /* A7o */
		if (pos_diff(tail, o->pos) > (int64_t)r->geo.slot_count)
			return overrun(o, tail);
		o->recovered_to = to;
		o->recovered_to_valid = true;
		skip_to(o, to);
		return 1;
	}
	o->stuck_pos = o->pos;
	o->stuck_since = now;
	return 0;
}

/* Sleep on the data eventcount until woken or @until (monotonic ns). */
static int obs_sleep(struct ring_observer *o, uint64_t until, bool intr)
{
	struct ring *r = o->r;
	struct rl_eventcount *ec = &r->hot->data;
	/* No announcement (the file is not ours to write): the sleep ends
	 * at the poll interval, or early with a wake-up for readers. */
	uint32_t seq0 = load_acquire(&ec->seq);
	struct timespec ts;

	if (load_acquire(&r->commit[o->pos & r->mask]) == o->pos + 1)
		return 0; /* A1 as in rl_message_at() */
	ts.tv_sec = (time_t)(until / 1000000000ull);
	ts.tv_nsec = (long)(until % 1000000000ull);
	if (futex((int32_t *)&ec->seq, FUTEX_WAIT_BITSET, (int32_t)seq0, &ts,
		  NULL, FUTEX_BITSET_MATCH_ANY) == 0)
		return 0;
	if (errno == EINTR)
		return intr ? -EINTR : 0;
	if (errno == ETIMEDOUT || errno == EAGAIN)
		return 0;
	/* The kernel would not wait on this mapping: sleep instead. */
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		if (intr)
			return -EINTR;
	return 0;
}

/*
 * Nothing to deliver at o->pos yet. Spin, then sleep, as @flags say.
 * Returns 0 to look again, or -EAGAIN, -ETIMEDOUT, -EINTR, -EIO.
 */
static int obs_wait(struct ring_observer *o, unsigned flags, uint64_t dl,
		    uint32_t *spun)
{
	struct ring *r = o->r;
	uint64_t now = rl_now_ns(), until;
	int err;

	if ((err = rl_size_check_every(r, now)))
		return err;
	if (flags & RING_NONBLOCK)
		return -EAGAIN;
	if (now >= dl)
		return -ETIMEDOUT;
	if (*spun < r->spins) {
		/* Poll the commit word only: it is written once per lap, so
		 * polling it costs the producers nothing. */
		uint32_t round = r->spins - *spun, i;

		if (round > RL_SPIN_ROUND)
			round = RL_SPIN_ROUND;
		for (i = 0; i < round; i++) {
			cpu_relax();
			if ((i & 3) == 3 &&
			    load_acquire(&r->commit[o->pos & r->mask]) ==
				    o->pos + 1) /* A1 */
				break;
		}
		/* A whole round for nothing, more to come: as a reader. */
		if (i == RL_SPIN_ROUND && rl_polls_on(r, *spun + round))
			rl_spin_yield("observe:yield");
		*spun += round; /* UINT32_MAX: never reaches it, never sleeps */
		return 0;
	}
	until = now + o->poll_ns;
	if (o->stuck_since &&
	    o->stuck_since + (uint64_t)r->recovery_ms * 1000000ull < until)
		until = o->stuck_since + (uint64_t)r->recovery_ms * 1000000ull;
	if (dl < until)
		until = dl;
	return obs_sleep(o, until, flags & RING_INTR);
}

/* Pauses after which a claim that holds us is looked into. */
#define RL_OBS_RESOLVE_SPINS 4096u

/*
 * Find the message at the observer's position, waiting as @flags say. On
 * return 0, *@m describes it in place, its header bounded but not yet
 * validated: the caller validates once, after it read the payload too
 * (one look at the tail per message, a line producers write on every
 * claim). Skip records and corrupt headers are validated here, before
 * they move the observer.
 */
static int next_message(struct ring_observer *o, struct ring_msg *m,
			unsigned flags, const struct timespec *deadline)
{
	struct ring *r = o->r;
	uint64_t dl = UINT64_MAX, tail, to;
	bool have_dl = false;
	uint32_t spun = 0;
	int rc;

	for (;;) {
		rc = rl_message_at(r, o->pos, m);
		if (likely(rc == AT_MESSAGE)) {
			RL_SCHED("observe:header");
			return rl_broken(r) ? -EIO : 0;
		}
		if (rc != AT_NOTHING) {
			/* The header was read: was it this lap's? */
			if (!validate(r, o->pos))
				return overrun(o, load_acquire(&r->hot->tail));
			if (rl_broken(r))
				return -EIO;
			if (rc == AT_SKIP) {
				skip_to(o, o->pos + m->slots);
				continue;
			}
			/* Intact and still impossible: a damaged file. Move
			 * on (forward, whatever the file says). */
			tail = load_acquire(&r->hot->tail);
			to = rl_next_known_start(r, o->pos, tail);
			skip_to(o, pos_diff(to, o->pos) > 0 ? to : o->pos + 1);
			return -EBADMSG;
		}
		/* A7o: pairs with R7 in claim(): a claim's intent is visible
		 * with the tail that covers it. */
		tail = load_acquire(&r->hot->tail);
		if (pos_diff(tail, o->pos) > (int64_t)r->geo.slot_count)
			return overrun(o, tail);
		if (unlikely(pos_diff(tail, o->pos) < 0)) {
			/* The tail never moves back, but a repair may put a
			 * damaged one back (renumbering what was sent since),
			 * and a damaged file may say anything: go on at it. */
			o->pos = tail;
			o->stuck_since = 0;
		}
		if (pos_diff(tail, o->pos) > 0 &&
		    (spun >= r->spins || spun >= RL_OBS_RESOLVE_SPINS ||
		     (flags & RING_NONBLOCK))) {
			rc = resolve(o, rl_now_ns());
			if (rc < 0)
				return rc;
			if (rc)
				continue;
		}
		if (!have_dl) {
			dl = rl_deadline_ns(deadline);
			have_dl = true;
		}
		rc = obs_wait(o, flags, dl, &spun);
		if (rc)
			return rc;
	}
}

int ring_observer_copy(struct ring_observer *o, struct ring_msg *msg,
		       void *buf, size_t size, unsigned flags,
		       const struct timespec *deadline)
{
	struct ring_msg m;
	int err = obs_checks(o);

	if (err)
		return err;
	if (!msg || (!buf && size) || (flags & ~(RING_NONBLOCK | RING_INTR)))
		return -EINVAL;
	err = next_message(o, &m, flags, deadline);
	if (err)
		return err;
	if (m.len > size) {
		if (!validate(o->r, m.pos)) /* the length may be torn */
			return overrun(o, load_acquire(&o->r->hot->tail));
		*msg = m;
		msg->data = NULL;
		return -EMSGSIZE;
	}
	memcpy(buf, m.data, m.len);
	RL_SCHED("observe:copied");
	if (!validate(o->r, m.pos))
		return overrun(o, load_acquire(&o->r->hot->tail));
	if (rl_broken(o->r)) /* the copy may hold a lost page's zeros */
		return -EIO;
	*msg = m;
	msg->data = buf;
	o->pos = m.pos + m.slots;
	o->peeked = false;
	o->st.delivered++;
	return 0;
}

int ring_observer_peek(struct ring_observer *o, struct ring_msg *msg,
		       unsigned flags, const struct timespec *deadline)
{
	int err = obs_checks(o);

	if (err)
		return err;
	if (!msg || (flags & ~(RING_NONBLOCK | RING_INTR)))
		return -EINVAL;
	err = next_message(o, msg, flags, deadline);
	if (err)
		return err;
	o->peeked = true;
	o->peek_slots = msg->slots;
	return 0;
}

int ring_observer_release(struct ring_observer *o)
{
	int err = obs_checks(o);

	if (err)
		return err;
	if (!o->peeked)
		return -EINVAL;
	if (!validate(o->r, o->pos))
		return overrun(o, load_acquire(&o->r->hot->tail));
	if (rl_broken(o->r))
		return -EIO;
	o->pos += o->peek_slots;
	o->peeked = false;
	o->st.delivered++;
	return 0;
}

int ring_observer_seek(struct ring_observer *o, unsigned whence, uint64_t pos)
{
	struct ring *r;
	uint64_t tail, n;
	int err = obs_checks(o);

	if (err)
		return err;
	r = o->r;
	n = r->geo.slot_count;
	/* A7o as in next_message(). */
	tail = load_acquire(&r->hot->tail);
	switch (whence) {
	case RING_OBSERVE_OLDEST:
		/* Positions before tail - n are overwritten; the first
		 * message at or after it (or a live claim there). */
		pos = rl_next_known_start(r, tail - n - 1, tail);
		break;
	case RING_OBSERVE_NEWEST:
		pos = tail;
		break;
	case RING_OBSERVE_AT:
		if (pos_diff(pos, tail) > 0)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	o->pos = pos;
	o->peeked = false;
	o->stuck_since = 0;
	o->recovered_to_valid = false;
	return rl_broken(r) ? -EIO : 0;
}

int ring_observer_open(const char *path, unsigned flags,
		       struct ring_observer **out)
{
	struct ring_observer *o;
	int err;

	if (!out || (flags & ~(RING_OPEN_FOREIGN | RING_OPEN_NO_SIGBUS_HANDLER |
			       RING_OPEN_PREFAULT)))
		return -EINVAL;
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	err = ring_open(path, flags | RING_OPEN_RDONLY, &o->r);
	if (err) {
		free(o);
		return err;
	}
	o->poll_ns = RL_OBS_POLL_NS;
	err = ring_observer_seek(o, RING_OBSERVE_OLDEST, 0);
	if (err) {
		ring_close(o->r);
		free(o);
		return err;
	}
	*out = o;
	return 0;
}

int ring_observer_close(struct ring_observer *o)
{
	if (!o)
		return 0;
	ring_close(o->r);
	free(o);
	return 0;
}

struct ring *ring_observer_ring(struct ring_observer *o)
{
	return o ? o->r : NULL;
}

int ring_observer_stats(const struct ring_observer *o,
			struct ring_observer_stats *st)
{
	if (!o || !st)
		return -EINVAL;
	*st = o->st;
	st->position = o->pos;
	return 0;
}

void ring_observer_set_poll(struct ring_observer *o, uint32_t us)
{
	o->poll_ns = (uint64_t)(us ? us : 1) * 1000ull;
}

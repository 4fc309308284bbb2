// SPDX-License-Identifier: MIT
/*
 * consume.c - group readers: peek, release, poll (DESIGN 5, H3, H4, H6).
 *
 * A reader keeps its position privately and publishes it as the group's
 * cursor after messages were handled: once per release, once per poll
 * batch. A reader that dies has published nothing it had not finished with,
 * so its successor starts at the first unhandled message (at-least-once).
 *
 * Everything read from the file is treated as hostile (H3): the header is
 * copied to locals once, its length bounded before the payload is touched,
 * and since the slots are mapped twice back to back, no in-bounds message
 * can reach past the mapping.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "message.h"

/*
 * Pause instructions between two looks at the commit word while spinning.
 * A pause takes 10-140 cycles depending on the processor (about 20 ns on
 * the machines this was measured on). One: a look at a word nobody has
 * written since is a hit in the reader's own cache and costs the producer
 * nothing (its store invalidates the line once, however often the reader
 * looked), while every pause between looks adds to the time a waiting
 * reader takes to see a message (4 pauses: about 50 ns more per round trip,
 * bench/README.md).
 */
#ifndef RL_SPIN_CHUNK
#define RL_SPIN_CHUNK 1
#endif
#ifndef RL_COALESCE_CHUNK
#define RL_COALESCE_CHUNK 32 /* pauses between looks ahead (coalesce()) */
#endif
/*
 * A streaming reader's wait for a batch (coalesce()). Each time the reader
 * catches up with the producer it reads the lines the producer is writing,
 * and the producer waits for them back: the longer the batches, the rarer
 * that is. 20 us and 8192 slots: 1.15-1.8 times the single-message rate of
 * 5 us and 1024 slots with the vCPUs far apart, 1.1-1.4 times for batches
 * of 32 (bench/README.md); the cost is up to 20 us more latency for
 * messages that come in a stream faster than the reader takes them.
 */
#ifndef RL_COALESCE_NS
#define RL_COALESCE_NS 20000ull /* longest wait for a batch to build up */
#endif
#ifndef RL_COALESCE_SLOTS
#define RL_COALESCE_SLOTS 8192 /* a batch worth waiting for */
#endif

/* message_at() out of line, for the callers off the reading loops. */
int rl_message_at(struct ring *r, uint64_t c, struct ring_msg *m)
{
	return message_at(r, c, m);
}

/* Store the reader's position as the group's cursor; wake producers. */
static void publish_cursor(struct ring_reader *rd)
{
	struct ring *r = rd->r;
	struct rl_group *g = &r->groups[rd->gidx];

	store_relaxed(&g->released, rd->released);
	/* R2: every read of the released slots is done; pairs with A2 in
	 * rl_refresh_min(). */
	store_release(&g->cursor, rd->pos);
	rd->published = rd->pos;
	rl_wake(r, &r->hot->space);
}

struct data_wait {
	struct ring *r;
	uint64_t pos;
	bool caught_up; /* the tail was at pos: the sleep has no bound */
};

/*
 * Is there something to look at? A message at the position, or, for a
 * reader that was caught up, a claim that moved the tail past it: that
 * claim may never commit (its producer died, perhaps with the ring full),
 * and only a reader that wakes resolves it.
 */
static bool data_ready(void *arg)
{
	struct data_wait *w = arg;
	struct ring *r = w->r;

	/* A1 as in rl_message_at(). */
	if (load_acquire(&r->commit[w->pos & r->mask]) == w->pos + 1)
		return true;
	/* A7r: pairs with R7 in claim(). */
	return w->caught_up && load_acquire(&r->hot->tail) != w->pos;
}

/*
 * Have the producers committed a message starting within the 8 positions
 * from @p (one line of the commit array)? Messages of up to 8 slots leave
 * a start in every such window.
 */
static bool committed_near(struct ring *r, uint64_t p)
{
	for (uint64_t q = p; q != p + 8; q++)
		/* A1 as in rl_message_at(); only a hint here. */
		if (load_relaxed(&r->commit[q & r->mask]) == q + 1)
			return true;
	return false;
}

/*
 * Wait until the producers are RL_COALESCE_SLOTS ahead, or until @until.
 * Ahead is read off the commit array, not the tail: a single producer's
 * tail runs ahead of its messages, and the tail is a line producers write.
 */
static void coalesce(struct ring_reader *rd, uint64_t at, uint64_t until)
{
	struct ring *r = rd->r;
	uint64_t want = r->geo.slot_count / 8;

	if (want > RL_COALESCE_SLOTS)
		want = RL_COALESCE_SLOTS;
	do {
		for (int i = 0; i < RL_COALESCE_CHUNK; i++)
			cpu_relax();
	} while (!committed_near(r, at + want) && rl_now_ns() < until);
}

/*
 * Nothing is committed at position @at, where the reader (or a shared
 * group's member, at the group's next position) waits. Track how long a
 * claim has blocked it and resolve the claim after recovery_ms; then spin
 * or sleep, at most until @wake_by. Returns 0 to look again, 1 when the
 * claim at @at is resolved (*@skip_to: where reading goes on), or -EAGAIN,
 * -ETIMEDOUT, -EINTR, -EIO.
 */
int rl_reader_wait(struct ring_reader *rd, uint64_t at, unsigned flags,
		   uint64_t dl, uint64_t wake_by, uint32_t *spun,
		   uint64_t *skip_to)
{
	struct ring *r = rd->r;
	uint64_t recovery = (uint64_t)r->recovery_ms * 1000000ull;
	uint64_t now = rl_now_ns(), wake_at, to;
	uint64_t tail = load_acquire(&r->hot->tail);
	struct data_wait w = { r, at, tail == at };
	int rc;

	if (rl_broken(r)) /* H13: pages lost while waiting */
		return -EIO;
	if (pos_diff(tail, at) > 0) {
		if (rd->stuck_pos != at || !rd->stuck_since) {
			rd->stuck_pos = at;
			rd->stuck_since = now;
		} else if (now - rd->stuck_since >= recovery) {
			bool continued = rd->recovered_to_valid &&
					 rd->recovered_to == at;

			if (rl_resolve_stuck(r, at, &to, continued, true)) {
				rd->recovered_to = to;
				rd->recovered_to_valid = true;
				rd->stuck_since = 0;
				*skip_to = to;
				return 1;
			}
			rd->stuck_since = now;
		}
	} else {
		rd->stuck_since = 0;
	}
	if (flags & RING_NONBLOCK) /* an empty ring may be a cut one */
		return rl_size_check_every(r, now) ?: -EAGAIN;
	if (now >= dl)
		return -ETIMEDOUT;
	if (*spun == 0 && rd->run > 1 && r->spins) {
		/* Streaming: the reader caught up with a busy producer. Reading
		 * each message the moment it is committed would make both
		 * sides fight over the same cache lines; let the producer get
		 * a batch ahead (bounded in time), then read it in one go. */
		coalesce(rd, at,
			 now < dl - RL_COALESCE_NS ? now + RL_COALESCE_NS : dl);
		*spun = 1;
		return 0;
	}
	if (*spun < r->spins) {
		/* A round of polls of the commit word alone: the clock and
		 * the tail (a line the producers write) are looked at once per
		 * round, so polling costs the producer nothing. */
		uint32_t round = r->spins - *spun;
		bool ready = false;

		if (round > RL_SPIN_ROUND)
			round = RL_SPIN_ROUND;
		for (uint32_t i = 0; i < round && !ready; i += RL_SPIN_CHUNK) {
			for (int j = 0; j < RL_SPIN_CHUNK; j++)
				cpu_relax();
			ready = data_ready(&w);
		}
		/* A whole round for nothing, and more polling to come: let
		 * a producer that waits for this CPU run (wait.c). */
		if (!ready && round == RL_SPIN_ROUND &&
		    rl_polls_on(r, *spun + round))
			rl_spin_yield("reader:yield");
		if (r->spins != UINT32_MAX) /* UINT32_MAX: never sleep */
			*spun += round;
		else /* so look at the file's size now and then */
			return rl_size_check_every(r, now);
		return 0;
	}
	/*
	 * Sleep. Bounded by the recovery time when a claim blocks us; a
	 * caught-up reader sleeps until a commit, or until a claim moves the
	 * tail (data_ready() re-checks it after the announcement, and a
	 * producer that finds the ring full wakes sleepers: produce.c).
	 */
	wake_at = dl < wake_by ? dl : wake_by;
	if (rd->stuck_since && rd->stuck_since + recovery < wake_at)
		wake_at = rd->stuck_since + recovery;
	RL_SCHED("reader:sleep");
	rc = rl_ec_wait(r, &r->hot->data,
			rd->pidx == RL_NO_ENTRY ? NULL : &r->procs[rd->pidx],
			RL_SLEEP_DATA, data_ready, &w, wake_at, flags & RING_INTR);
	return rc == -EINTR || rc == -EIO ? rc : 0;
}

/* The next message at the reader's position, waiting as @flags says. */
static int next_message(struct ring_reader *rd, struct ring_msg *m,
			unsigned flags, const struct timespec *deadline)
{
	struct ring *r = rd->r;
	uint64_t dl = UINT64_MAX, skip_to;
	bool have_dl = false;
	uint32_t spun = 0;
	int rc;

	for (;;) {
		rc = rl_message_at(r, rd->pos, m);
		if (likely(rc == AT_MESSAGE)) {
			rd->run = have_dl ? 1 : rd->run + 1;
			return rl_broken(r) ? -EIO : 0;
		}
		if (rc == AT_SKIP) {
			rd->pos += m->slots;
			publish_cursor(rd);
			continue;
		}
		if (rc < 0)
			return rl_broken(r) ? -EIO : rc;
		if (!have_dl) {
			dl = rl_deadline_ns(deadline);
			have_dl = true;
		}
		rc = rl_reader_wait(rd, rd->pos, flags, dl, UINT64_MAX, &spun,
				    &skip_to);
		if (rc == 1) {
			rd->pos = skip_to;
			publish_cursor(rd);
			continue;
		}
		if (rc)
			return rc;
	}
}

static int reader_checks(const struct ring_reader *rd)
{
	if (!rd)
		return -EINVAL;
	if (rd->r->forked)
		return -ECHILD;
	if (rl_broken(rd->r))
		return -EIO;
	return 0;
}

int ring_peek(struct ring_reader *rd, struct ring_msg *msg, unsigned flags,
	      const struct timespec *deadline)
{
	int err = reader_checks(rd);

	if (err)
		return err;
	if (!msg || (flags & ~(RING_NONBLOCK | RING_INTR)))
		return -EINVAL;
	if (rd->shared) {
		err = rl_member_peek(rd, msg, 1, flags, deadline);
		return err < 0 ? err : 0;
	}
	err = next_message(rd, msg, flags, deadline);
	if (err)
		return err;
	rd->peeked = 1;
	return 0;
}

int ring_peek_batch(struct ring_reader *rd, struct ring_msg *msgs, unsigned max,
		    unsigned flags, const struct timespec *deadline)
{
	unsigned n = 1;
	uint64_t p;
	int rc = reader_checks(rd);

	if (rc)
		return rc;
	if (!msgs || !max || (flags & ~(RING_NONBLOCK | RING_INTR)))
		return -EINVAL;
	if (rd->shared)
		return rl_member_peek(rd, msgs, max, flags, deadline);
	rc = next_message(rd, &msgs[0], flags, deadline);
	if (rc)
		return rc;
	p = msgs[0].pos + msgs[0].slots;
	while (n < max) {
		rc = message_at(rd->r, p, &msgs[n]);
		while (rc == AT_SKIP) {
			p += msgs[n].slots;
			rc = message_at(rd->r, p, &msgs[n]);
		}
		if (rc != AT_MESSAGE)
			break;
		p += msgs[n].slots;
		n++;
	}
	if (rl_broken(rd->r)) /* some of them may have read lost pages */
		return -EIO;
	rd->peeked = n;
	return (int)n;
}

int ring_release_n(struct ring_reader *rd, unsigned n)
{
	struct ring_msg m;
	uint64_t p;
	int err = reader_checks(rd);

	if (err)
		return err;
	if (rd->shared)
		return rl_member_release(rd, n);
	if (!n || n > rd->peeked)
		return -EINVAL;
	/* Walk the n messages again: they cannot change under us, since
	 * producers keep out of unreleased room; a damaged file stops the
	 * walk where ring_peek_batch() stopped too. */
	p = rd->pos;
	for (unsigned i = 0; i < n;) {
		int rc = rl_message_at(rd->r, p, &m);

		if (rc == AT_SKIP) {
			p += m.slots;
			continue;
		}
		if (rc != AT_MESSAGE)
			return rl_broken(rd->r) ? -EIO : -EBADMSG;
		p += m.slots;
		i++;
	}
	if (rl_broken(rd->r))
		return -EIO;
	rd->pos = p;
	rd->peeked -= n;
	rd->released += n;
	publish_cursor(rd);
	return 0;
}

int ring_release(struct ring_reader *rd)
{
	return ring_release_n(rd, 1);
}

int ring_poll(struct ring_reader *rd, ring_handler_fn fn, void *arg,
	      unsigned max, unsigned flags, const struct timespec *deadline)
{
	struct ring_msg m;
	unsigned n = 0;
	int rc = reader_checks(rd);

	if (rc)
		return rc;
	if (!fn || !max || (flags & ~(RING_NONBLOCK | RING_INTR)))
		return -EINVAL;
	if (rd->shared)
		return rl_member_poll(rd, fn, arg, max, flags, deadline);
	rc = next_message(rd, &m, flags, deadline);
	if (rc)
		return rc;
	rd->peeked = 0;
	for (;;) {
		int stop = fn(&m, arg);

		n++;
		rd->pos += m.slots;
		rd->released++;
		if (stop || n == max)
			break;
		rd->run++;
		rc = message_at(rd->r, rd->pos, &m);
		while (rc == AT_SKIP) {
			rd->pos += m.slots;
			rc = message_at(rd->r, rd->pos, &m);
		}
		if (rc != AT_MESSAGE)
			break;
	}
	if (rl_broken(rd->r)) /* the batch is handed out again */
		return -EIO;
	publish_cursor(rd); /* once per batch */
	return (int)n;
}

int ring_reader_skip(struct ring_reader *rd)
{
	struct ring *r;
	uint64_t tail, from, to;
	int err = reader_checks(rd);

	if (err)
		return err;
	r = rd->r;
	if (rd->shared)
		return rl_member_skip(rd);
	tail = load_acquire(&r->hot->tail);
	from = rd->pos;
	if (pos_diff(tail, from) <= 0)
		return 0;
	if (pos_diff(tail, from) > (int64_t)r->geo.slot_count)
		from = tail - r->geo.slot_count;
	to = rl_next_known_start(r, from, tail);
	err = (int)(to - rd->pos > INT32_MAX ? INT32_MAX : to - rd->pos);
	rd->pos = to;
	rd->peeked = 0;
	publish_cursor(rd);
	return err;
}

uint64_t ring_reader_position(const struct ring_reader *rd)
{
	if (!rd)
		return 0;
	return rd->shared ? rl_member_position(rd) : rd->pos;
}

int ring_reader_open(struct ring *r, const char *group, unsigned flags,
		     struct ring_reader **out)
{
	struct ring_reader *rd;
	struct rl_group *g;
	uint64_t tail, pos;
	int gi, err;

	if (r->forked)
		return -ECHILD;
	if (rl_broken(r))
		return -EIO;
	if (r->open_flags & RING_OPEN_RDONLY)
		return -EROFS;
	if (!out || rl_group_name_ok(group) ||
	    (flags & ~(RING_FROM_NEWEST | RING_GROUP_CREATE | RING_GROUP_SHARED |
		       RING_GROUP_MEMBERS(0xff))))
		return -EINVAL;
	gi = rl_group_find(r, group);
	if (gi < 0 && (flags & RING_GROUP_CREATE)) {
		err = ring_group_create(r, group, flags & ~RING_GROUP_CREATE);
		if (err && err != -EEXIST)
			return err;
		gi = rl_group_find(r, group);
	}
	if (gi < 0)
		return -ENOENT;
	rd = calloc(1, sizeof(*rd));
	if (!rd)
		return -ENOMEM;
	/* Against this handle's own group changes (group.c lock_idle_group()). */
	pthread_mutex_lock(&r->table_lock);
	pthread_mutex_lock(&r->lock);
	g = &r->groups[gi];
	if (load_relaxed(&g->mode) == RL_GROUP_SHARED) {
		err = rl_member_open(r, (uint32_t)gi, rd);
		if (err)
			goto fail;
		if (strncmp(g->name, group, sizeof(g->name)) != 0) {
			err = -ENOENT; /* removed and made anew meanwhile */
			goto fail_unlock;
		}
		goto entry;
	}
	for (struct ring_reader *o = r->readers; o; o = o->next) {
		if (o->gidx == (uint32_t)gi) {
			err = -EBUSY;
			goto fail;
		}
	}
	/* H6: the group's lease says a live reader holds it. */
	err = rl_group_lease_try(r, (uint32_t)gi);
	if (err < 0)
		goto fail;
	rd->seat_locked = err;
	err = 0;
	if (load_acquire(&g->state) != RL_GROUP_ACTIVE ||
	    strncmp(g->name, group, sizeof(g->name)) != 0) {
		err = -ENOENT; /* removed meanwhile */
		goto fail_unlock;
	}
entry:
	/*
	 * H6 item: a table full of dead producers' unresolved claims must not
	 * keep out the reader that resolves them. Without an entry the reader
	 * works as well; it is only not listed by ring_proc_list(), and a
	 * sleep of its that a kill interrupts costs wakers one needless wake.
	 */
	err = rl_entry_alloc(r, RL_ROLE_READER, &rd->pidx);
	if (err == -EUSERS)
		rd->pidx = RL_NO_ENTRY;
	else if (err)
		goto fail_unlock;
	else
		store_relaxed(&r->procs[rd->pidx].group, (uint32_t)gi);
	err = 0;
	rd->r = r;
	rd->gidx = (uint32_t)gi;
	if (rd->shared)
		goto listed;
	tail = load_acquire(&r->hot->tail);
	pos = load_acquire(&g->cursor);
	if (pos_diff(pos, tail) > 0)
		pos = tail; /* a cursor ahead of the tail is damage */
	rd->pos = rd->published = pos;
	rd->released = load_relaxed(&g->released);
listed:
	store_relaxed(&g->reader_pid, (uint32_t)r->pid);
	rd->next = r->readers;
	r->readers = rd;
	pthread_mutex_unlock(&r->lock);
	pthread_mutex_unlock(&r->table_lock);
	*out = rd;
	return 0;
fail_unlock:
	if (rd->shared)
		rl_member_close(rd);
	else
		rl_group_lease_drop(r, (uint32_t)gi, rd->seat_locked);
fail:
	pthread_mutex_unlock(&r->lock);
	pthread_mutex_unlock(&r->table_lock);
	free(rd);
	return err;
}

/* Close @rd: give back its entry and the group's lock. */
void rl_reader_free(struct ring_reader *rd)
{
	struct ring *r = rd->r;

	for (struct ring_reader **pp = &r->readers; *pp; pp = &(*pp)->next) {
		if (*pp == rd) {
			*pp = rd->next;
			break;
		}
	}
	if (!r->forked) {
		if (rd->pidx != RL_NO_ENTRY)
			rl_entry_release(r, rd->pidx);
		if (rd->shared)
			rl_member_close(rd);
		else
			rl_group_lease_drop(r, rd->gidx, rd->seat_locked);
	}
	free(rd->taken); /* a member's, in a child after fork() */
	free(rd);
}

int ring_reader_close(struct ring_reader *rd)
{
	struct ring *r;

	if (!rd)
		return 0;
	r = rd->r;
	pthread_mutex_lock(&r->table_lock);
	pthread_mutex_lock(&r->lock);
	rl_reader_free(rd);
	pthread_mutex_unlock(&r->lock);
	pthread_mutex_unlock(&r->table_lock);
	return 0;
}

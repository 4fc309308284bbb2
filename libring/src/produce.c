// SPDX-License-Identifier: MIT
/*
 * produce.c - claiming room, writing in place, committing (DESIGN 5, H4, H5).
 *
 * A claim, per producing thread (its process-table entry `me`):
 *
 *   1. check room against the cached minimum cursor; refresh it only when
 *      the ring looks full
 *   2. publish the intent [t, t+n) in `me` (H5)
 *   3. CAS the tail from t to t+n (a plain store in single-producer mode)
 *   4. claim_state = HELD
 *   5. write header and payload in the slots
 *   6. commit word of t = t + 1 (release, R1), for each message of a batch
 *   7. claim_state = NONE, counters, wake readers if any sleep
 *
 * A reader that finds commit[c] != c + 1 while the tail is past c looks at
 * the entries whose intent or claim contains c (recover.c): live ones are
 * waited for, dead ones skipped.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

/* Publish the intent [start, end) under the entry's sequence (H5). */
static inline void publish_intent(struct rl_proc *me, uint64_t start,
				  uint64_t end)
{
	uint64_t seq = load_relaxed(&me->claim_seq);

	store_relaxed(&me->claim_seq, seq + 1); /* odd: being written */
	/* Release stores (plain moves on x86): none of them can become
	 * visible before the odd sequence number. */
	store_release(&me->claim_start, start);
	store_release(&me->claim_end, end);
	store_release(&me->claim_state, RL_CLAIM_INTENT);
	/* R6: the range is complete; pairs with A6 in read_claim(). */
	store_release(&me->claim_seq, seq + 2);
}

struct space_wait {
	struct ring *r;
	uint32_t need; /* slots wanted */
};

/* Is there room for w->need slots now? (Refreshes the cached minimum.) */
static bool room_ready(void *arg)
{
	struct space_wait *w = arg;
	uint64_t tail = load_acquire(&w->r->hot->tail);
	uint64_t m = rl_refresh_min(w->r, tail);

	return pos_diff(tail + w->need, m) <= (int64_t)w->r->geo.slot_count;
}

/* Number of messages of a batch whose slots fit in @room. */
static unsigned batch_fit(const uint32_t *prefix, unsigned n, uint64_t room)
{
	unsigned k = 0;

	while (k < n && prefix[k] <= room)
		k++;
	return k;
}

/*
 * Wait for room for at least @need slots beyond @tail, as the policy says.
 * Returns 0 to retry the claim, or -EAGAIN, -ENOBUFS (dropped), -ETIMEDOUT,
 * -EIO (the file shrank: sigbus.c).
 */
static int wait_for_room(struct ring *r, struct rl_proc *me, uint32_t need,
			 unsigned policy, uint64_t deadline, uint32_t *spun,
			 bool intr)
{
	struct space_wait w;
	uint64_t tail, m;

	/* H13: a full ring may be a cut one (at most one fstat a second). */
	if (rl_size_check_every(r, rl_now_ns()))
		return -EIO;
	if (policy == RING_FULL_FAIL)
		return -EAGAIN;
	if (policy == RING_FULL_DROP)
		return -ENOBUFS;
	tail = load_acquire(&r->hot->tail);
	m = rl_refresh_min(r, tail);
	if (pos_diff(tail + need, m) <= (int64_t)r->geo.slot_count)
		return 0;
	if (*spun < r->spins) {
		for (int i = 0; i < 16; i++)
			cpu_relax();
		*spun += 16;
		if (deadline != UINT64_MAX && rl_now_ns() >= deadline)
			return -ETIMEDOUT;
		return 0;
	}
	w.r = r;
	w.need = need;
	return rl_ec_wait(r, &r->hot->space, me, RL_SLEEP_SPACE, room_ready, &w,
			  deadline, intr);
}

/*
 * Claim room for the first k messages of a batch whose cumulative slot
 * counts are @prefix[0..n-1] (k >= 1, as many as fit). Returns k and the
 * start position, or a negative errno.
 */
static int claim(struct ring *r, struct rl_local *l, const uint32_t *prefix,
		 unsigned n, unsigned flags, const struct timespec *deadline,
		 uint64_t *startp)
{
	struct rl_proc *me = l->me;
	struct rl_hot *h = r->hot;
	unsigned policy = flags & RING_POLICY_MASK;
	uint64_t dl = UINT64_MAX;
	uint64_t count = r->geo.slot_count;
	uint32_t spun = 0;
	bool have_dl = false;
	uint64_t t, m;
	unsigned k;
	int err;

	if (!policy)
		policy = r->geo.full_policy;
	t = load_relaxed(&h->tail);
	for (;;) {
		/* A3: pairs with R3 in rl_refresh_min(). */
		m = load_acquire(&h->cached_min);
		k = batch_fit(prefix, n, count - (uint64_t)pos_diff(t, m));
		if (unlikely(pos_diff(t, m) < 0 || pos_diff(t, m) > (int64_t)count))
			k = 0; /* a stale or damaged minimum: look again */
		if (unlikely(!k)) {
			m = rl_refresh_min(r, t);
			k = batch_fit(prefix, n, count - (uint64_t)pos_diff(t, m));
			if (!k) {
				if (!have_dl) {
					dl = rl_deadline_ns(deadline);
					have_dl = true;
				}
				/* An intent left by a failed CAS is
				 * withdrawn before waiting or failing. */
				store_release(&me->claim_state, RL_CLAIM_NONE);
				err = wait_for_room(r, me, prefix[0], policy, dl,
						    &spun, flags & RING_INTR);
				if (err)
					return err;
				t = load_relaxed(&h->tail);
				continue;
			}
		}
		publish_intent(me, t, t + prefix[k - 1]);
		if (r->open_flags & RING_OPEN_SINGLE_PRODUCER) {
			/* The caller promised there is no other producer. */
			store_release(&h->tail, t + prefix[k - 1]);
			break;
		}
		/* R7: the intent is visible before the tail moves (seq_cst);
		 * pairs with A7 in rl_resolve_stuck(). */
		if (cas_seq_cst(&h->tail, t, t + prefix[k - 1]))
			break;
		t = load_relaxed(&h->tail);
	}
	store_release(&me->claim_state, RL_CLAIM_HELD);
	l->claim_open = true;
	l->claim_start = t;
	l->claim_end = t + prefix[k - 1];
	*startp = t;
	return (int)k;
}

/* Write a message header at @pos. */
static inline void write_header(struct ring *r, uint64_t pos, uint32_t len,
				uint32_t type, uint32_t flags)
{
	struct rl_msg_hdr *hdr = (struct rl_msg_hdr *)rl_slot(r, pos);

	hdr->len = len;
	hdr->type = type;
	hdr->flags = flags;
	hdr->pid = (uint32_t)r->pid;
	if (r->geo.hdr_size == RL_HDR_SIZE_TS) {
		struct timespec ts;
		uint64_t ns;

		clock_gettime(CLOCK_REALTIME, &ts);
		ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		memcpy((uint8_t *)hdr + RL_HDR_SIZE, &ns, sizeof(ns));
	}
}

/* Publish the message at @pos: everything written before is visible to a
 * reader that sees the commit word (H4). */
static inline void publish_commit(struct ring *r, uint64_t pos)
{
	/* R1: payload and header before the commit word; pairs with A1 in
	 * rl_message_at(). */
	store_release(&r->commit[pos & r->mask], pos + 1);
}

/* The claim is over: readers no longer need to look at this entry. */
static inline void close_claim(struct rl_local *l)
{
	/* R8: after the commit words; pairs with A8 in rl_resolve_stuck(). */
	store_release(&l->me->claim_state, RL_CLAIM_NONE);
	l->claim_open = false;
}

static inline void count(uint64_t *counter, uint64_t n)
{
	/* Only the entry's own thread writes it: no atomic increment. */
	store_relaxed(counter, load_relaxed(counter) + n);
}

/*
 * Publish the one message of this thread's claim at @pos, close the claim,
 * count it in @counter and wake readers if any sleep.
 */
static inline void finish_claim(struct ring *r, struct rl_local *l,
				uint64_t pos, uint64_t *counter)
{
	publish_commit(r, pos);
	close_claim(l);
	count(counter, 1);
	rl_wake(r, &r->hot->data);
}

static __attribute__((always_inline)) inline int
producer_checks(struct ring *r, struct rl_local **l)
{
	int err;

	if (unlikely(r->forked))
		return -ECHILD;
	if (rl_broken(r))
		return -EIO;
	if (unlikely(r->open_flags & RING_OPEN_RDONLY))
		return -EROFS;
	err = rl_producer_entry(r, l);
	if (unlikely(err))
		return err;
	if (unlikely((*l)->claim_open))
		return -EBUSY;
	return 0;
}

/*
 * The common case of claim() for one message, inline: room by the cached
 * minimum and no contention on the tail. Returns false when the general
 * path must decide (ring looks full, lost CAS); an intent it published is
 * then republished or withdrawn there.
 */
static inline bool claim_fast(struct ring *r, struct rl_local *l,
			      uint32_t slots, uint64_t *posp)
{
	struct rl_hot *h = r->hot;
	uint64_t t = load_relaxed(&h->tail);
	/* A3: pairs with R3 in rl_refresh_min(). */
	uint64_t m = load_acquire(&h->cached_min);

	/* One unsigned compare: a minimum ahead of t (stale) is huge too. */
	if (unlikely((uint64_t)pos_diff(t + slots, m) > r->geo.slot_count))
		return false;
	publish_intent(l->me, t, t + slots);
	if (r->open_flags & RING_OPEN_SINGLE_PRODUCER)
		store_release(&h->tail, t + slots);
	else if (unlikely(!cas_seq_cst(&h->tail, t, t + slots))) /* R7 */
		return false;
	store_release(&l->me->claim_state, RL_CLAIM_HELD);
	l->claim_open = true;
	l->claim_start = t;
	l->claim_end = t + slots;
	*posp = t;
	return true;
}

/*
 * Claim room for one message of @len bytes and write its header: the part
 * ring_reserve() and ring_send() share. Returns 0 with *@lp and *@posp, or
 * a negative errno (a drop counted).
 */
static __attribute__((always_inline)) inline int
claim_one(struct ring *r, size_t len, uint32_t type, unsigned flags,
	  const struct timespec *deadline, struct rl_local **lp, uint64_t *posp,
	  uint32_t *slotsp)
{
	struct rl_local *l;
	uint32_t slots;
	int err;

	err = producer_checks(r, &l);
	if (unlikely(err))
		return err;
	if (unlikely(len > r->geo.max_message))
		return -EMSGSIZE;
	slots = rl_msg_slots(r, len);
	if (unlikely(!claim_fast(r, l, slots, posp))) {
		err = claim(r, l, &slots, 1, flags, deadline, posp);
		if (unlikely(err < 0)) {
			if (err == -ENOBUFS)
				count(&l->me->dropped, 1);
			return err;
		}
	}
	write_header(r, *posp, (uint32_t)len, type, 0);
	*lp = l;
	*slotsp = slots;
	return 0;
}

int ring_reserve(struct ring *r, size_t len, uint32_t type, unsigned flags,
		 const struct timespec *deadline, struct ring_claim *c)
{
	struct rl_local *l;
	uint32_t slots;
	uint64_t pos;
	int err;

	if (unlikely(!c || (flags & ~(RING_POLICY_MASK | RING_INTR))))
		return -EINVAL;
	err = claim_one(r, len, type, flags, deadline, &l, &pos, &slots);
	if (unlikely(err))
		return err;
	if (rl_broken(r)) {
		rl_abort_claim_of(r, l);
		return -EIO;
	}
	c->data = rl_slot(r, pos) + r->geo.hdr_size;
	c->len = (uint32_t)len;
	c->type = type;
	c->pos = pos;
	c->slots = slots;
	c->_priv = l->idx;
	return 0;
}

/* This thread's state if @c is its open claim, or NULL. */
static struct rl_local *claim_owner(struct ring *r, const struct ring_claim *c)
{
	struct rl_local *l;

	if (!c || r->forked || rl_producer_entry(r, &l))
		return NULL;
	if (!l->claim_open || l->claim_start != c->pos ||
	    l->claim_end != c->pos + c->slots)
		return NULL;
	return l;
}

int ring_commit(struct ring *r, struct ring_claim *c)
{
	struct rl_local *l;

	if (unlikely(r->forked))
		return -ECHILD;
	l = claim_owner(r, c);
	if (unlikely(!l))
		return -EINVAL;
	if (rl_broken(r)) {
		/* The payload may not have reached the file: never publish
		 * it; readers that still see the file skip it. */
		rl_abort_claim_of(r, l);
		return -EIO;
	}
	((struct rl_msg_hdr *)rl_slot(r, c->pos))->type = c->type;
	finish_claim(r, l, c->pos, &l->me->committed);
	return 0;
}

/*
 * Turn this thread's open claim (from ring_reserve: one message, not
 * committed) into a skip record, so that readers pass over it.
 */
void rl_abort_claim_of(struct ring *r, struct rl_local *l)
{
	if (!l->claim_open) {
		store_release(&l->me->claim_state, RL_CLAIM_NONE);
		return;
	}
	write_header(r, l->claim_start, (uint32_t)(l->claim_end - l->claim_start),
		     0, RL_HDR_SKIP);
	finish_claim(r, l, l->claim_start, &l->me->aborted);
}

int ring_abort(struct ring *r, struct ring_claim *c)
{
	struct rl_local *l;

	if (unlikely(r->forked))
		return -ECHILD;
	l = claim_owner(r, c);
	if (unlikely(!l))
		return -EINVAL;
	rl_abort_claim_of(r, l);
	return rl_broken(r) ? -EIO : 0;
}

int ring_send(struct ring *r, uint32_t type, const void *data, size_t len,
	      unsigned flags, const struct timespec *deadline)
{
	struct rl_local *l;
	uint32_t slots;
	uint64_t pos;
	int err;

	if (unlikely((flags & ~(RING_POLICY_MASK | RING_INTR)) || (len && !data)))
		return -EINVAL;
	err = claim_one(r, len, type, flags, deadline, &l, &pos, &slots);
	if (unlikely(err))
		return err;
	if (len) /* data may be NULL for an empty message */
		memcpy(rl_slot(r, pos) + r->geo.hdr_size, data, len);
	if (rl_broken(r)) { /* as in ring_commit() */
		rl_abort_claim_of(r, l);
		return -EIO;
	}
	finish_claim(r, l, pos, &l->me->committed);
	return 0;
}

#define RL_BATCH_MAX 256u

int ring_send_batch(struct ring *r, const struct ring_out *msgs, unsigned n,
		    unsigned flags, const struct timespec *deadline)
{
	uint32_t prefix[RL_BATCH_MAX];
	struct rl_local *l;
	uint64_t pos, p;
	uint64_t total = 0;
	int k, err;

	if (unlikely(!msgs || !n || (flags & ~(RING_POLICY_MASK | RING_INTR))))
		return -EINVAL;
	err = producer_checks(r, &l);
	if (unlikely(err))
		return err;
	if (n > RL_BATCH_MAX)
		n = RL_BATCH_MAX;
	for (unsigned i = 0; i < n; i++) {
		if (msgs[i].len > r->geo.max_message) {
			if (i == 0)
				return -EMSGSIZE;
			n = i;
			break;
		}
		if (msgs[i].len && !msgs[i].data)
			return -EINVAL;
		total += rl_msg_slots(r, msgs[i].len);
		prefix[i] = (uint32_t)(total > UINT32_MAX ? UINT32_MAX : total);
	}
	k = claim(r, l, prefix, n, flags, deadline, &pos);
	if (unlikely(k < 0)) {
		if (k == -ENOBUFS)
			count(&l->me->dropped, n);
		return k;
	}
	p = pos;
	for (int i = 0; i < k; i++) {
		write_header(r, p, msgs[i].len, msgs[i].type, 0);
		if (msgs[i].len)
			memcpy(rl_slot(r, p) + r->geo.hdr_size, msgs[i].data,
			       msgs[i].len);
		p += rl_msg_slots(r, msgs[i].len);
	}
	if (rl_broken(r)) { /* one skip record for the batch */
		rl_abort_claim_of(r, l);
		return -EIO;
	}
	/* Commit words in position order, so that a producer dying here
	 * leaves a committed prefix and one claim to skip (recover.c). */
	p = pos;
	for (int i = 0; i < k; i++) {
		publish_commit(r, p);
		p += rl_msg_slots(r, msgs[i].len);
	}
	close_claim(l);
	count(&l->me->committed, (uint64_t)k);
	rl_wake(r, &r->hot->data);
	return k;
}

// SPDX-License-Identifier: MIT
/*
 * shared.c - shared groups (work sharing): several members read one
 * group, and each message goes to one of them.
 *
 * A member sits on a seat of the group (struct rl_seat, layout.h), held by
 * a lease (lease.c) as a reader holds an exclusive group. The group's
 * next word is the first position nobody has taken; a member takes a
 * stretch [n, e) of committed messages by one CAS of next from n to e and
 * records it in its seat (hold = first unreleased position + 1, hold_end).
 * The invariant everything rests on:
 *
 *   every position p with cursor <= p < next that no member has released
 *   lies in the stretch of some seat, at every moment, and a stretch never
 *   moves from one seat to another.
 *
 * Taking (claim()): read next (n), walk the committed messages from n to
 * e, store hold_end = e, pending = (e, seat) and hold = n + 1 (R16), then
 * CAS next n -> (e, seat) (R15), then clear pending. A scan that reads
 * next after the CAS sees the hold (A15). A failed CAS clears the hold
 * again at once.
 *
 * The next word carries, beside the position, the seat whose claim moved
 * it there (next_word()). That is what tells a claim that succeeded from
 * one that failed when its member died between the hold and clearing
 * pending: whoever moves next on from (e, s) first clears seat s's
 * pending if it is still (e, s) (confirm_claim(), R17), so a seat's
 * pending claim succeeded if and only if next is still (e, s) or pending
 * was cleared by somebody else (claim_succeeded()). A failed claim's hold
 * is cleared, never handed out: it may lie behind the cursor already (a
 * scan that read the seat before the hold was stored can raise the cursor
 * past it), and the messages are another member's.
 *
 * The cursor (advance()): read next, then every seat's hold; the cursor is
 * the smallest of next and the holds' first positions, raised by CAS and
 * never lowered. Every change that can raise that minimum (a release, a
 * cleared hold, next moved over a dead producer's claim) is followed by a
 * full fence and a scan: of two members releasing at once, at least one
 * sees both releases (store-load order), so the last scan leaves the
 * cursor where it belongs and nobody waits on a cursor left short. A
 * member killed between its scan and the cursor's CAS leaves the cursor
 * short; every member about to wait, and every member that joins, scans
 * again, so a stale cursor lasts only until somebody reads the group.
 *
 * Dead members: a seat whose lease nobody alive holds and whose hold is
 * not 0 is taken over whole: a joining member prefers such a seat, and a
 * member with nothing taken moves into one (giving up its own empty seat)
 * when it finds nothing to take and once per recovery time while taking.
 * The stretch stays in its seat, so no scan can miss it while it changes
 * hands. A live member's lease, also a stopped one's, is never taken, so
 * its messages are never handed out again. A stretch is checked before it
 * is delivered again: the claim succeeded (above), and cursor <= first <
 * end <= next (a damaged seat is cleared). A member killed after its CAS
 * and before it released leaves messages that are delivered again: at
 * least once, and only those.
 *
 * Seats and the group's lease: the group's lease is the lock under which
 * members join and under which the group is removed or reset (those refuse
 * while any seat is alive).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "message.h"

#define RL_TAKEN_MAX 64u /* messages one claim takes at most */

struct rl_seat *rl_seat_of(struct ring *r, uint32_t gi, uint32_t s)
{
	return &r->seats[(uint64_t)gi * RL_MEMBERS_MAX + s];
}

uint64_t rl_seat_lock_off(const struct ring *r, uint32_t gi, uint32_t s)
{
	return r->geo.member_off +
	       ((uint64_t)gi * RL_MEMBERS_MAX + s) * sizeof(struct rl_seat);
}

static struct rl_seat *my_seat(const struct ring_reader *rd)
{
	return rl_seat_of(rd->r, rd->gidx, rd->seat);
}

/* The seats a scan looks at: [0, seats_hi), bounded whatever the file says. */
static uint32_t seats_used(const struct rl_group *g)
{
	/* A14: pairs with R14 in take_seat(): a seat whose claims this
	 * thread has seen through next is below the bound read after. */
	uint32_t hi = load_acquire(&g->seats_hi);

	return hi > RL_MEMBERS_MAX ? RL_MEMBERS_MAX : hi;
}

static uint32_t member_limit(const struct rl_group *g)
{
	uint32_t m = load_relaxed(&g->max_members);

	return m == 0 || m > RL_MEMBERS_MAX ? RL_MEMBERS_MAX : m;
}

/* The next word of position @pos moved there by a claim of seat @tag - 1
 * (tag 0: not a claim). The position keeps its low 56 bits. */
static uint64_t next_word(uint64_t pos, uint32_t tag)
{
	return pos << RL_NEXT_TAG_BITS | tag;
}

static uint32_t next_tag(uint64_t w)
{
	return (uint32_t)(w & ((1u << RL_NEXT_TAG_BITS) - 1));
}

/* The full position of next word @w, by @ref, a position within 2^55 of
 * it: the group's cursor (at most a ring behind next, and never ahead of
 * it by more than the distance next moved since @w was read). */
static uint64_t next_pos(uint64_t w, uint64_t ref)
{
	const unsigned bits = 64 - RL_NEXT_TAG_BITS;
	uint64_t d = ((w >> RL_NEXT_TAG_BITS) - ref) & ((1ull << bits) - 1);

	if (d >> (bits - 1)) /* negative: sign-extend */
		d |= ~((1ull << bits) - 1);
	return ref + d;
}

/* Load the group's next word into *@w; returns its position. */
static uint64_t load_next(struct rl_group *g, uint64_t *w)
{
	/* A15: pairs with R15 in claim(): the holds stored before every
	 * claim up to this value of next are seen after it. */
	*w = load_acquire(&g->next);
	/* Any cursor will do as the reference (see next_pos()). */
	return next_pos(*w, load_relaxed(&g->cursor));
}

uint64_t rl_shared_next(struct ring *r, uint32_t gi)
{
	uint64_t w;

	return load_next(&r->groups[gi], &w);
}

void rl_shared_set_next(struct ring *r, uint32_t gi, uint64_t pos)
{
	/* R15' (as the CAS in claim()): not a claim, nothing to confirm. */
	store_release(&r->groups[gi].next, next_word(pos, 0));
}

/*
 * Before moving next on from word @w: if a seat's claim put it there and
 * its pending still says so, clear it, so that the claim is known to have
 * succeeded once next has moved on (claim_succeeded()).
 */
static void confirm_claim(struct ring *r, uint32_t gi, uint64_t w)
{
	uint32_t t = next_tag(w);
	struct rl_seat *st;

	if (!t || t > RL_MEMBERS_MAX)
		return;
	st = rl_seat_of(r, gi, t - 1);
	/* R17: before the CAS of next that follows; pairs with A17 in
	 * claim_succeeded(). A pending of another claim is left alone. */
	if (load_relaxed(&st->pending) == w)
		cas_seq_cst(&st->pending, w, 0);
}

/* Move next from word @w to position @to (a claim of seat @tag - 1, or 0);
 * true if it moved. */
static bool move_next(struct ring *r, uint32_t gi, uint64_t w, uint64_t to,
		      uint32_t tag)
{
	confirm_claim(r, gi, w);
	/* R15: pairs with A15 in load_next(); after the holds and R17. */
	return cas_seq_cst(&r->groups[gi].next, w, next_word(to, tag));
}

/*
 * Seat @st's pending claim (word @p, its member gone: the lease is this
 * thread's): did its CAS of next succeed?
 */
static bool claim_succeeded(struct rl_group *g, struct rl_seat *st, uint64_t p)
{
	/* A15 (as in load_next()): seq_cst, after the pending read. */
	if (load_seq_cst(&g->next) == p)
		return true; /* it moved next there, and nobody moved it on */
	/* A17: pairs with R17 in confirm_claim(): whoever moved next on from
	 * p cleared pending before; still p means next never was p. */
	return load_seq_cst(&st->pending) != p;
}

static int seat_try(struct ring *r, uint32_t gi, uint32_t s)
{
	struct rl_seat *st = rl_seat_of(r, gi, s);

	return rl_lease_try(r, &st->owner, &st->owner_ns,
			    rl_seat_lock_off(r, gi, s), NULL);
}

static void seat_drop(struct ring *r, uint32_t gi, uint32_t s, int locked)
{
	struct rl_seat *st = rl_seat_of(r, gi, s);

	rl_lease_drop(r, &st->owner, &st->owner_ns, rl_seat_lock_off(r, gi, s),
		      locked);
}

static bool seat_alive(struct ring *r, uint32_t gi, uint32_t s)
{
	struct rl_seat *st = rl_seat_of(r, gi, s);

	return rl_lease_alive(r, &st->owner, &st->owner_ns,
			      rl_seat_lock_off(r, gi, s));
}

/*
 * Raise the group's cursor to the oldest position no member has released:
 * the smallest of next and the first positions of the seats' stretches.
 */
static void advance(struct ring *r, uint32_t gi)
{
	struct rl_group *g = &r->groups[gi];
	uint64_t w, n = load_next(g, &w); /* A15 */
	uint32_t hi = seats_used(g);
	uint64_t c = n, cur;

	for (uint32_t s = 0; s < hi; s++) {
		/* A16: pairs with R16 in publish_hold(): the reads of the
		 * messages a seat released are done. */
		uint64_t h = load_acquire(&rl_seat_of(r, gi, s)->hold);

		if (h && pos_diff(h - 1, c) < 0)
			c = h - 1;
	}
	RL_SCHED("member:scanned");
	cur = load_relaxed(&g->cursor);
	while (pos_diff(c, cur) > 0) {
		/* R2 (as in publish_cursor()): pairs with A2 in scan_min();
		 * the acquire loads above come before it. */
		if (cas_seq_cst(&g->cursor, cur, c)) {
			rl_wake(r, &r->hot->space);
			return;
		}
		cur = load_relaxed(&g->cursor);
	}
}

/* Store the member's stretch as its seat's hold, then scan (see top). */
static void publish_hold(struct ring_reader *rd)
{
	struct rl_seat *st = my_seat(rd);

	/* R16: the member is done with what it released; pairs with A16. */
	store_release(&st->hold, rd->pos == rd->end ? 0 : rd->pos + 1);
	/* Store-load: the scan below sees a concurrent release, or that
	 * release's scan sees this one. */
	full_fence();
	advance(rd->r, rd->gidx);
}

/* Is [@from, @end) a stretch somebody took and nobody released? */
static bool stretch_valid(struct ring *r, struct rl_group *g, uint64_t from,
			  uint64_t end)
{
	/* A2' (as A2 in scan_min()); the cursor cannot pass a hold that
	 * is in the seat table, so it stays at or below from. */
	uint64_t cur = load_acquire(&g->cursor);
	uint64_t w, n = load_next(g, &w); /* A15 */

	return pos_diff(from, cur) >= 0 && pos_diff(end, from) > 0 &&
	       pos_diff(n, end) >= 0 && end - from <= r->geo.slot_count;
}

/*
 * Make seat @s (lease just taken) the member's: its stretch, if one is
 * left there and valid, is now the member's to deliver first.
 */
static void take_seat(struct ring_reader *rd, uint32_t s, int locked)
{
	struct ring *r = rd->r;
	struct rl_group *g = &r->groups[rd->gidx];
	struct rl_seat *st = rl_seat_of(r, rd->gidx, s);
	/* A6 (the lease taken, lease.c): what the last holder stored. */
	uint64_t h = load_acquire(&st->hold);
	uint64_t e = load_relaxed(&st->hold_end);
	/* Stored before the hold (R16): the claim of this hold, if any. */
	uint64_t p = load_relaxed(&st->pending);
	bool ok = h && (!p || claim_succeeded(g, st, p));

	rd->seat = s;
	rd->seat_locked = locked;
	store_relaxed(&st->pid, (uint32_t)r->pid);
	if (s + 1 > load_relaxed(&g->seats_hi))
		/* R14: pairs with A14 in seats_used(); before any claim. */
		store_release(&g->seats_hi, s + 1);
	rd->taken_i = rd->taken_n = 0; /* an inherited stretch is walked */
	if (ok && stretch_valid(r, g, h - 1, e)) {
		rd->pos = h - 1;
		rd->end = e;
		store_relaxed(&st->pending, 0); /* known: the seat's */
		return;
	}
	rd->pos = rd->end = 0;
	if (h) { /* a failed claim's hold (or damage): not the seat's */
		/* R16 (as in publish_hold()): nothing held. */
		store_release(&st->hold, 0);
		full_fence();
		advance(r, rd->gidx);
	}
	/* After the hold: a pending without a hold is no claim. */
	store_relaxed(&st->pending, 0);
}

/*
 * Move into the seat of a member that is gone and left messages (the
 * member holds nothing itself). True if it did.
 */
static bool rescue(struct ring_reader *rd)
{
	struct ring *r = rd->r;
	struct rl_group *g = &r->groups[rd->gidx];
	uint32_t hi = seats_used(g), old = rd->seat;
	int old_locked = rd->seat_locked;

	for (uint32_t s = 0; s < hi; s++) {
		struct rl_seat *st = rl_seat_of(r, rd->gidx, s);
		int lk;

		if (s == old || !load_relaxed(&st->hold))
			continue;
		lk = seat_try(r, rd->gidx, s);
		if (lk < 0)
			continue; /* alive: a live member keeps its own */
		RL_SCHED("member:rescue");
		take_seat(rd, s, lk);
		if (rd->pos != rd->end) {
			seat_drop(r, rd->gidx, old, old_locked);
			return true;
		}
		seat_drop(r, rd->gidx, s, lk);
		rd->seat = old;
		rd->seat_locked = old_locked;
	}
	return false;
}

/* Does a seat other than the member's hold messages? */
static bool others_hold(const struct ring_reader *rd)
{
	struct ring *r = rd->r;
	uint32_t hi = seats_used(&r->groups[rd->gidx]);

	for (uint32_t s = 0; s < hi; s++)
		if (s != rd->seat &&
		    load_relaxed(&rl_seat_of(r, rd->gidx, s)->hold))
			return true;
	return false;
}

/*
 * Take the next committed messages nobody has taken, at most @max (and at
 * most RL_TAKEN_MAX): 1 when the member now holds them (perhaps skip
 * records only), 0 when nothing is committed at the group's next position
 * (*@at), -EBADMSG when a damaged message is there. The messages' headers
 * are read once, here, into rd->taken (H3: what is delivered is what was
 * checked).
 */
static int claim(struct ring_reader *rd, unsigned max, uint64_t *at)
{
	struct ring *r = rd->r;
	struct rl_group *g = &r->groups[rd->gidx];
	struct rl_seat *st = my_seat(rd);

	if (max > RL_TAKEN_MAX)
		max = RL_TAKEN_MAX;
	for (;;) {
		/* A15 (load_next()): the messages before next are taken. */
		uint64_t w, n = load_next(g, &w), e = n, pw;
		unsigned k = 0;
		int rc = AT_NOTHING;

		while (k < max && e - n < r->geo.slot_count) {
			struct ring_msg *m = &rd->taken[k];

			rc = message_at(r, e, m);
			if (rc == AT_MESSAGE)
				k++;
			else if (rc != AT_SKIP)
				break;
			e += m->slots;
		}
		if (e == n) {
			*at = n;
			/* Taken and reused meanwhile, perhaps: look again.
			 * A15 (as in load_next()). */
			if (load_acquire(&g->next) != w)
				continue;
			return rc < 0 ? rc : 0;
		}
		pw = next_word(e, rd->seat + 1);
		store_relaxed(&st->hold_end, e);
		store_relaxed(&st->pending, pw);
		/* R16 (as in publish_hold()): end and pending first; R15
		 * below orders all three before the stretch is taken. */
		store_release(&st->hold, n + 1);
		RL_SCHED("member:hold");
		if (move_next(r, rd->gidx, w, e, rd->seat + 1)) {
			RL_SCHED("member:taken");
			/* Known to have succeeded: the seat's own word. */
			store_release(&st->pending, 0);
			rd->pos = n;
			rd->end = e;
			rd->taken_i = 0;
			rd->taken_n = k;
			return 1;
		}
		/* Another member took it: this hold is nobody's. R16 (as
		 * in publish_hold()); the hold before pending, so that a
		 * hold never stays without its pending. */
		store_release(&st->hold, 0);
		store_relaxed(&st->pending, 0);
		full_fence();
		advance(r, rd->gidx);
	}
}

/*
 * Up to @max messages of the member's stretch from its position, into
 * @msgs; leading skip records are passed. 0 when only skip records are
 * left (the stretch is then at its end), or -EBADMSG.
 */
static int stretch_messages(struct ring_reader *rd, struct ring_msg *msgs,
			    unsigned max)
{
	struct ring *r = rd->r;
	uint64_t p = rd->pos;
	unsigned n = 0;

	if (rd->taken_i < rd->taken_n) {
		n = rd->taken_n - rd->taken_i;
		if (n > max)
			n = max;
		memcpy(msgs, &rd->taken[rd->taken_i], n * sizeof(*msgs));
		return (int)n;
	}
	while (n < max && pos_diff(rd->end, p) > 0) {
		int rc = message_at(r, p, &msgs[n]);

		if (rc == AT_SKIP) {
			p += msgs[n].slots;
			if (!n)
				rd->pos = p;
			continue;
		}
		if (rc != AT_MESSAGE || pos_diff(p + msgs[n].slots, rd->end) > 0) {
			if (n)
				break;
			/* A taken stretch holds committed messages only. */
			return -EBADMSG;
		}
		p += msgs[n].slots;
		n++;
	}
	if (!n)
		rd->pos = rd->end;
	return (int)n;
}

/*
 * The next messages of the member: of its stretch, or of a new one of up
 * to @take messages, waiting as @flags says. Returns how many (>= 1) are
 * in @msgs (at most @max), or a negative errno as ring_peek().
 */
static int member_next(struct ring_reader *rd, struct ring_msg *msgs,
		       unsigned max, unsigned take, unsigned flags,
		       const struct timespec *deadline)
{
	struct ring *r = rd->r;
	struct rl_group *g = &r->groups[rd->gidx];
	uint64_t recovery = (uint64_t)r->recovery_ms * 1000000ull;
	uint64_t dl = UINT64_MAX, at, skip_to, now, w;
	bool have_dl = false;
	uint32_t spun = 0;
	int rc;

	for (;;) {
		if (rd->pos != rd->end) {
			rc = stretch_messages(rd, msgs, max);
			if (rc)
				return rl_broken(r) ? -EIO : rc;
			publish_hold(rd); /* skip records only: done */
		}
		now = rl_now_ns();
		if (now >= rd->rescue_at) {
			rd->rescue_at = now + recovery;
			if (others_hold(rd) && rescue(rd))
				continue;
		}
		rc = claim(rd, take, &at);
		if (rc == 1) {
			rd->run = have_dl ? 1 : rd->run + 1;
			continue;
		}
		if (rc < 0)
			return rl_broken(r) ? -EIO : rc;
		if (!have_dl) {
			dl = rl_deadline_ns(deadline);
			have_dl = true;
		}
		/* A member killed between its release's scan and its CAS
		 * left the cursor short of where it belongs; producers may be
		 * waiting on it. Whoever waits raises it. A15 (in
		 * load_next()); the cursor is only compared. */
		if (load_relaxed(&g->cursor) != load_next(g, &w))
			advance(r, rd->gidx);
		/* Asleep, look for dead members' messages now and then. */
		rc = rl_reader_wait(rd, at, flags, dl,
				    others_hold(rd) ? rd->rescue_at : UINT64_MAX,
				    &spun, &skip_to);
		if (rc == 1) {
			/* A dead producer's claim at next: nothing to
			 * deliver, so nobody holds it. */
			if (load_next(g, &w) == at && /* A15 */
			    move_next(r, rd->gidx, w, skip_to, 0)) {
				full_fence();
				advance(r, rd->gidx);
			}
			continue;
		}
		if (rc)
			return rc;
	}
}

int rl_member_peek(struct ring_reader *rd, struct ring_msg *msgs, unsigned max,
		   unsigned flags, const struct timespec *deadline)
{
	int n;

	if (rd->peeked && rd->pos != rd->end) {
		/* The same messages again until released. */
		n = stretch_messages(rd, msgs, max);
		if (n > 0)
			goto out;
	}
	n = member_next(rd, msgs, max, max, flags, deadline);
	if (n < 0)
		return n;
out:
	if (rl_broken(rd->r))
		return -EIO;
	rd->peeked = (unsigned)n;
	return n;
}

/* The position after the first @n messages of the stretch, or -EBADMSG. */
static int stretch_walk(struct ring_reader *rd, unsigned n, uint64_t *to)
{
	struct ring_msg m;
	uint64_t p = rd->pos;

	for (unsigned i = 0; i < n;) {
		int rc;

		if (pos_diff(rd->end, p) <= 0)
			return -EBADMSG;
		rc = message_at(rd->r, p, &m);
		if (rc == AT_SKIP) {
			p += m.slots;
			continue;
		}
		if (rc != AT_MESSAGE)
			return -EBADMSG;
		p += m.slots;
		i++;
	}
	/* Skip records right after are released with them. */
	while (pos_diff(rd->end, p) > 0) {
		if (message_at(rd->r, p, &m) != AT_SKIP)
			break;
		p += m.slots;
	}
	*to = p;
	return 0;
}

static void count_released(struct ring_reader *rd, unsigned n)
{
	struct rl_seat *st = my_seat(rd);

	rd->released += n;
	/* The seat's holder is its only writer. */
	store_relaxed(&st->released, load_relaxed(&st->released) + n);
}

int rl_member_release(struct ring_reader *rd, unsigned n)
{
	uint64_t to;
	int err;

	if (!n || n > rd->peeked)
		return -EINVAL;
	if (rd->taken_i < rd->taken_n) {
		/* peeked <= taken_n - taken_i: stretch_messages() */
		if (rl_broken(rd->r))
			return -EIO;
		rd->taken_i += n;
		to = rd->taken_i == rd->taken_n ? rd->end :
						  rd->taken[rd->taken_i].pos;
		err = 0;
	} else {
		err = stretch_walk(rd, n, &to);
	}
	if (rl_broken(rd->r))
		return -EIO;
	if (err)
		return err;
	rd->pos = to;
	rd->peeked -= n;
	count_released(rd, n);
	publish_hold(rd);
	return 0;
}

int rl_member_poll(struct ring_reader *rd, ring_handler_fn fn, void *arg,
		   unsigned max, unsigned flags, const struct timespec *deadline)
{
	struct ring_msg m;
	unsigned n = 0;
	uint64_t p;
	int rc = member_next(rd, &m, 1, max, flags, deadline);

	if (rc < 0)
		return rc;
	rd->peeked = 0;
	if (rd->taken_i < rd->taken_n) {
		/* The messages claim() read: handed out as they were read. */
		unsigned i = rd->taken_i, lim = rd->taken_n;

		if (lim - i > max)
			lim = i + max;
		while (i < lim)
			if (fn(&rd->taken[i++], arg))
				break;
		if (rl_broken(rd->r))
			return -EIO;
		n = i - rd->taken_i;
		rd->taken_i = i;
		rd->pos = i == rd->taken_n ? rd->end : rd->taken[i].pos;
		count_released(rd, n);
		publish_hold(rd);
		return (int)n;
	}
	p = rd->pos;
	for (;;) {
		int stop = fn(&m, arg);

		n++;
		p = m.pos + m.slots;
		if (stop || n == max)
			break;
		while (pos_diff(rd->end, p) > 0 &&
		       (rc = message_at(rd->r, p, &m)) == AT_SKIP)
			p += m.slots;
		if (pos_diff(rd->end, p) <= 0 || rc != AT_MESSAGE ||
		    pos_diff(p + m.slots, rd->end) > 0)
			break;
	}
	if (rl_broken(rd->r)) /* the batch is handed out again */
		return -EIO;
	while (pos_diff(rd->end, p) > 0 && message_at(rd->r, p, &m) == AT_SKIP)
		p += m.slots;
	rd->pos = p;
	count_released(rd, n);
	publish_hold(rd);
	return (int)n;
}

int rl_member_skip(struct ring_reader *rd)
{
	struct ring *r = rd->r;
	struct rl_group *g = &r->groups[rd->gidx];
	/* A7r: pairs with R7 in claim() (produce.c). */
	uint64_t tail = load_acquire(&r->hot->tail), from, to, w;

	rd->peeked = 0;
	rd->taken_i = rd->taken_n = 0;
	if (rd->pos != rd->end) {
		from = rd->pos;
		to = rl_next_known_start(r, from, tail);
		if (pos_diff(to, rd->end) > 0)
			to = rd->end;
		rd->pos = to;
		publish_hold(rd);
		return (int)(to - from > INT32_MAX ? INT32_MAX : to - from);
	}
	from = load_next(g, &w); /* A15 */
	if (pos_diff(tail, from) <= 0)
		return 0;
	to = rl_next_known_start(r, from, tail);
	if (!move_next(r, rd->gidx, w, to, 0))
		return 0; /* taken meanwhile: nothing to skip */
	full_fence();
	advance(r, rd->gidx);
	return (int)(to - from > INT32_MAX ? INT32_MAX : to - from);
}

uint64_t rl_member_position(const struct ring_reader *rd)
{
	if (rd->pos != rd->end)
		return rd->pos;
	return rl_shared_next(rd->r, rd->gidx); /* A15 */
}

int rl_member_open(struct ring *r, uint32_t gi, struct ring_reader *rd)
{
	struct rl_group *g = &r->groups[gi];
	uint64_t jl_off = rl_group_lock_off(r, gi);
	uint32_t limit = member_limit(g);
	int jl, lk = -1;
	uint32_t s;

	/* The group's lease: the join lock, held for microseconds. */
	jl = rl_lease_take_wait(r, &g->owner, &g->owner_ns, jl_off);
	if (jl < 0)
		return jl;
	/* A5: pairs with R5 in ring_group_create(): mode and next are set. */
	if (load_acquire(&g->state) != RL_GROUP_ACTIVE) {
		rl_lease_drop(r, &g->owner, &g->owner_ns, jl_off, jl);
		return -ENOENT;
	}
	rd->taken = calloc(RL_TAKEN_MAX, sizeof(*rd->taken));
	if (!rd->taken) {
		rl_lease_drop(r, &g->owner, &g->owner_ns, jl_off, jl);
		return -ENOMEM;
	}
	rd->r = r;
	rd->gidx = gi;
	rd->shared = true;
	/* First a seat a member left messages in, then any free one. */
	for (s = 0; s < limit; s++)
		/* A16 (as in advance()); only a hint: take_seat() reads the
		 * hold again under the seat's lease. */
		if (load_acquire(&rl_seat_of(r, gi, s)->hold) &&
		    (lk = seat_try(r, gi, s)) >= 0)
			break;
	if (s == limit)
		for (s = 0; s < limit; s++)
			if ((lk = seat_try(r, gi, s)) >= 0)
				break;
	if (s == limit) {
		rl_lease_drop(r, &g->owner, &g->owner_ns, jl_off, jl);
		free(rd->taken);
		rd->taken = NULL;
		return -EBUSY;
	}
	take_seat(rd, s, lk);
	rl_lease_drop(r, &g->owner, &g->owner_ns, jl_off, jl);
	/* A cursor a dead member left short (see member_next()). */
	advance(r, gi);
	rd->released = load_relaxed(&rl_seat_of(r, gi, s)->released);
	return 0;
}

void rl_member_close(struct ring_reader *rd)
{
	struct ring *r = rd->r;

	/* What is taken and not released stays in the seat, for the next
	 * member that takes it (rescue() or a join). */
	if (rd->pos != rd->end)
		/* R16 (as in publish_hold()). */
		store_release(&my_seat(rd)->hold, rd->pos + 1);
	seat_drop(r, rd->gidx, rd->seat, rd->seat_locked);
	free(rd->taken);
	rd->taken = NULL;
}

void rl_shared_init(struct ring *r, uint32_t gi, unsigned flags)
{
	struct rl_group *g = &r->groups[gi];
	uint32_t members = (flags >> 16) & 0xffu;

	for (uint32_t s = 0; s < RL_MEMBERS_MAX; s++) {
		struct rl_seat *st = rl_seat_of(r, gi, s);

		store_relaxed(&st->hold, 0);
		store_relaxed(&st->hold_end, 0);
		store_relaxed(&st->released, 0);
		store_relaxed(&st->pid, 0);
		store_relaxed(&st->pending, 0);
	}
	store_relaxed(&g->mode, (flags & RING_GROUP_SHARED) ? RL_GROUP_SHARED :
							       RL_GROUP_EXCLUSIVE);
	store_relaxed(&g->max_members, members ? members : RL_MEMBERS_MAX);
	store_relaxed(&g->seats_hi, 0);
	/* Nothing taken yet: everything from the cursor is the next. The
	 * group's state is stored with release after this (R5). */
	store_relaxed(&g->next, next_word(load_relaxed(&g->cursor), 0));
}

int rl_shared_idle(struct ring *r, uint32_t gi)
{
	uint32_t hi = seats_used(&r->groups[gi]);

	for (uint32_t s = 0; s < hi; s++)
		if (seat_alive(r, gi, s))
			return -EBUSY;
	return 0;
}

void rl_shared_reset(struct ring *r, uint32_t gi)
{
	struct rl_group *g = &r->groups[gi];

	/* Under the join lock with no seat alive: what dead members held is
	 * given up with the rest. The cursor was placed first. */
	for (uint32_t s = 0; s < RL_MEMBERS_MAX; s++) {
		struct rl_seat *st = rl_seat_of(r, gi, s);

		/* R16 (as in publish_hold()). */
		store_release(&st->hold, 0);
		store_relaxed(&st->pending, 0);
	}
	/* From the cursor place_group() stored (program order: this
	 * thread stored it). */
	rl_shared_set_next(r, gi, load_relaxed(&g->cursor));
}

bool rl_shared_alive(struct ring *r, uint32_t gi)
{
	uint32_t hi = seats_used(&r->groups[gi]);

	for (uint32_t s = 0; s < hi; s++)
		if (seat_alive(r, gi, s))
			return true;
	return false;
}

uint64_t rl_shared_released(struct ring *r, uint32_t gi)
{
	uint64_t sum = 0;

	for (uint32_t s = 0; s < RL_MEMBERS_MAX; s++)
		sum += load_relaxed(&rl_seat_of(r, gi, s)->released);
	return sum;
}

int ring_group_members(struct ring *r, const char *name,
		       struct ring_member_info *out, unsigned max,
		       unsigned *limit)
{
	struct rl_group *g;
	unsigned n = 0;
	uint32_t hi;
	int gi;

	if (!r || rl_group_name_ok(name) || (max && !out))
		return -EINVAL;
	if (r->forked)
		return -ECHILD;
	if (rl_broken(r))
		return -EIO;
	gi = rl_group_find(r, name);
	if (gi < 0)
		return gi;
	g = &r->groups[gi];
	if (load_relaxed(&g->mode) != RL_GROUP_SHARED)
		return -EMEDIUMTYPE;
	if (limit)
		*limit = member_limit(g);
	hi = seats_used(g);
	for (uint32_t s = 0; s < hi; s++) {
		struct rl_seat *st = rl_seat_of(r, (uint32_t)gi, s);
		/* A16 (as in advance()). */
		uint64_t h = load_acquire(&st->hold);
		bool alive = r->fd >= 0 && seat_alive(r, (uint32_t)gi, s);
		struct ring_member_info *mi;
		struct ring_msg m;

		if (!alive && !h)
			continue;
		if (n++ >= max)
			continue;
		mi = &out[n - 1];
		memset(mi, 0, sizeof(*mi));
		mi->pid = (pid_t)load_relaxed(&st->pid);
		mi->alive = alive;
		mi->released = load_relaxed(&st->released);
		if (!h)
			continue;
		mi->held_from = h - 1;
		mi->held_to = load_relaxed(&st->hold_end);
		if (pos_diff(mi->held_to, mi->held_from) < 0 ||
		    mi->held_to - mi->held_from > r->geo.slot_count) {
			mi->held_to = mi->held_from; /* damage: shown empty */
			continue;
		}
		for (uint64_t p = mi->held_from; pos_diff(mi->held_to, p) > 0;) {
			int at = rl_message_at(r, p, &m);

			if (at == AT_MESSAGE)
				mi->held++;
			else if (at != AT_SKIP)
				break;
			p += m.slots;
		}
	}
	return (int)n;
}

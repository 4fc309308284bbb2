// SPDX-License-Identifier: MIT
/*
 * check.c - ring_check() and ring_repair(): consistency of a ring's
 * mutable areas (the superblock was validated at open).
 *
 * Consistent means: the cached minimum and every cursor lie within one ring
 * behind the tail; from the slowest cursor to the tail, every position is
 * either a committed message with a sane header, or part of a claim that a
 * live producer holds; process entries of dead processes hold no claim that
 * readers still need.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

__attribute__((format(printf, 2, 3))) static void problem(
	struct ring_check_report *rep, const char *fmt, ...)
{
	va_list ap;

	if (rep->problems++ == 0) {
		va_start(ap, fmt);
		vsnprintf(rep->first_problem, sizeof(rep->first_problem), fmt,
			  ap);
		va_end(ap);
	}
}

/* Slots of a valid message or skip record at @p, or 0 if there is none. */
static uint64_t valid_at(struct ring *r, uint64_t p)
{
	struct ring_msg m;
	int rc = rl_message_at(r, p, &m);

	return rc == AT_MESSAGE || rc == AT_SKIP ? m.slots : 0;
}

enum { NOT_IN_FLIGHT, IN_FLIGHT, LOOK_AGAIN };

/*
 * Is position @p, which holds no valid message, inside a claim of a live
 * producer that is still being written? A HELD claim holds several
 * messages (a batch, a single producer's run), committed in position
 * order: a later position of it that is committed while @p still is not
 * means @p is damage, not in flight. LOOK_AGAIN: @p was committed meanwhile.
 */
static int in_flight(struct ring *r, uint64_t p)
{
	for (uint32_t i = 0; i < r->geo.procs; i++) {
		struct rl_proc *e = &r->procs[i];
		uint64_t s, end;
		uint32_t st;

		if (load_acquire(&e->state) != RL_PROC_USED)
			continue;
		st = load_acquire(&e->claim_state) & RL_CLAIM_MASK;
		if (!st)
			continue;
		s = load_relaxed(&e->claim_start);
		end = load_relaxed(&e->claim_end);
		if (pos_diff(p, s) < 0 || pos_diff(end, p) <= 0 ||
		    pos_diff(end, s) > (int64_t)r->geo.slot_count ||
		    !rl_entry_alive(r, i))
			continue;
		if (st != RL_CLAIM_HELD)
			return IN_FLIGHT;
		for (uint64_t q = p + 1; pos_diff(end, q) > 0; q++) {
			/* A1: pairs with R1 of the later message; the
			 * earlier commit words are stored before it. */
			if (load_acquire(&r->commit[q & r->mask]) != q + 1)
				continue;
			if (load_acquire(&r->commit[p & r->mask]) == p + 1)
				return LOOK_AGAIN;
			return NOT_IN_FLIGHT;
		}
		return IN_FLIGHT;
	}
	return NOT_IN_FLIGHT;
}

/*
 * Where cursor @c stands against @tail: within a ring behind (0), ahead by
 * at most a ring (1, a write not yet seen), or farther either way (2): a
 * distance no protocol step makes, so either the cursor or the tail was
 * damaged. Unsigned differences: no signed overflow at 2^63.
 */
static int cursor_distance(const struct ring *r, uint64_t c, uint64_t tail)
{
	if (tail - c <= r->geo.slot_count)
		return 0;
	if (c - tail <= r->geo.slot_count)
		return 1;
	return 2;
}

/* Slots of the message or skip record whose header is at @p's slot, or 0
 * if the header is not one (checked as rl_message_at() checks it). */
static uint64_t header_slots(struct ring *r, uint64_t p)
{
	const struct rl_msg_hdr *h = (const struct rl_msg_hdr *)rl_slot(r, p);
	uint32_t len = load_relaxed(&h->len), flags = load_relaxed(&h->flags);

	if (flags == RL_HDR_SKIP)
		return len && len <= r->geo.slot_count ? len : 0;
	if (flags || len > r->geo.max_message)
		return 0;
	return rl_msg_slots(r, len);
}

/*
 * The tail is the damaged one when every active group's cursor is at an
 * impossible distance from it while the cursors lie within a ring of each
 * other. Then the messages written since the damage sit in the slots after
 * the newest cursor's retained ones, under commit words of the damaged
 * numbering (the same slot, another lap). Renumber them in the cursors'
 * frame and put the tail after them: nothing committed is lost.
 * Returns the tail to go on with.
 */
static uint64_t check_tail(struct ring *r, struct ring_check_report *rep,
			   uint64_t tail, bool fix)
{
	uint64_t lo = 0, hi = 0, p, n;
	unsigned groups = 0, far = 0;

	for (uint32_t i = 0; i < r->geo.groups; i++) {
		struct rl_group *g = &r->groups[i];
		uint64_t c;

		if (load_acquire(&g->state) != RL_GROUP_ACTIVE)
			continue;
		c = load_acquire(&g->cursor);
		if (!groups++) {
			lo = hi = c;
		} else {
			if (pos_diff(c, lo) < 0)
				lo = c;
			if (pos_diff(c, hi) > 0)
				hi = c;
		}
		far += cursor_distance(r, c, tail) == 2;
	}
	if (!groups || far != groups || hi - lo > r->geo.slot_count)
		return tail;
	/* From the newest cursor: messages of either numbering, in order. */
	for (p = hi; p - lo < r->geo.slot_count; p += n) {
		uint64_t w = load_acquire(&r->commit[p & r->mask]);

		n = header_slots(r, p);
		if (!n || w == 0 || ((w - 1 - p) & r->mask) != 0)
			break; /* never written for this slot's positions */
		if (w != p + 1 && pos_diff(w - 1, tail) >= 0)
			break; /* a message of the damaged numbering's future */
		if (w != p + 1) {
			/* Older laps hold stale words too: only a word of the
			 * damaged numbering behind its tail is one of ours. */
			if (tail - (w - 1) > r->geo.slot_count)
				break;
			rep->renumbered++;
			if (fix)
				/* R1: the header and payload were published with
				 * the old word; the new one names the same bytes. */
				store_release(&r->commit[p & r->mask], p + 1);
		}
	}
	problem(rep, "tail %llu is at an impossible distance from every cursor (%llu..%llu): set to %llu",
		(unsigned long long)tail, (unsigned long long)lo,
		(unsigned long long)hi, (unsigned long long)p);
	if (!fix)
		return p;
	store_release(&r->hot->tail, p);
	rep->repaired++;
	return p;
}

/*
 * A shared group's next position and its seats' stretches, against its
 * cursor @c (already checked) and @tail: next within [c, tail], every
 * stretch within [c, next). With @fix, next goes back to the cursor (what
 * was taken is handed out again: at least once) and a stretch out of
 * range is cleared, for seats nobody alive holds.
 */
static void check_shared(struct ring *r, struct ring_check_report *rep,
			 uint32_t gi, uint64_t c, uint64_t tail, bool fix)
{
	struct rl_group *g = &r->groups[gi];
	uint64_t n = rl_shared_next(r, gi);
	uint32_t hi = load_relaxed(&g->seats_hi);

	if (pos_diff(n, c) < 0 || pos_diff(n, tail) > 0) {
		problem(rep, "shared group '%.47s' next position %llu outside cursor %llu..tail %llu",
			g->name, (unsigned long long)n, (unsigned long long)c,
			(unsigned long long)tail);
		if (fix) {
			rl_shared_set_next(r, gi, c);
			n = c;
			rep->repaired++;
		}
	}
	if (load_relaxed(&g->max_members) > RL_MEMBERS_MAX ||
	    hi > RL_MEMBERS_MAX) {
		problem(rep, "shared group '%.47s' member limit %u or seats %u above %u",
			g->name, load_relaxed(&g->max_members), hi,
			RL_MEMBERS_MAX);
		if (fix) {
			store_relaxed(&g->max_members, RL_MEMBERS_MAX);
			store_release(&g->seats_hi, RL_MEMBERS_MAX);
			rep->repaired++;
		}
		hi = RL_MEMBERS_MAX;
	}
	for (uint32_t s = 0; s < hi; s++) {
		struct rl_seat *st = rl_seat_of(r, gi, s);
		uint64_t h = load_acquire(&st->hold);
		uint64_t e = load_relaxed(&st->hold_end);

		if (!h || (pos_diff(h - 1, c) >= 0 && pos_diff(e, h - 1) > 0 &&
			   pos_diff(n, e) >= 0))
			continue;
		problem(rep, "shared group '%.47s' seat %u holds %llu..%llu outside cursor %llu..next %llu",
			g->name, s, (unsigned long long)(h - 1),
			(unsigned long long)e, (unsigned long long)c,
			(unsigned long long)n);
		if (fix && !(r->fd >= 0 &&
			     rl_lease_alive(r, &st->owner, &st->owner_ns,
					    rl_seat_lock_off(r, gi, s)))) {
			store_release(&st->hold, 0);
			rep->repaired++;
		}
	}
}

/* The oldest position any active group still needs (the tail if none),
 * counting damaged cursors as problems. */
static uint64_t check_cursors(struct ring *r, struct ring_check_report *rep,
			      uint64_t tail, bool fix)
{
	uint64_t m = tail;

	for (uint32_t i = 0; i < r->geo.groups; i++) {
		struct rl_group *g = &r->groups[i];
		uint64_t c;
		int dist;

		if (load_acquire(&g->state) == RL_GROUP_FREE)
			continue;
		if (load_relaxed(&g->state) == RL_GROUP_JOINING)
			continue; /* being created; freed if its creator died */
		if (load_relaxed(&g->state) != RL_GROUP_ACTIVE) {
			problem(rep, "group %u has unknown state %u", i,
				load_relaxed(&g->state));
			if (fix) {
				store_release(&g->state, RL_GROUP_FREE);
				rep->repaired++;
			}
			continue;
		}
		if (memchr(g->name, 0, sizeof(g->name)) == NULL) {
			problem(rep, "group %u name is not terminated", i);
			if (fix) {
				g->name[sizeof(g->name) - 1] = 0;
				rep->repaired++;
			}
		}
		c = load_acquire(&g->cursor);
		dist = cursor_distance(r, c, tail);
		if (dist) {
			problem(rep, "group '%.47s' cursor %llu %s tail %llu",
				g->name, (unsigned long long)c,
				dist == 1 ? "ahead of the" :
					    "at an impossible distance from the",
				(unsigned long long)tail);
			if (!fix)
				continue;
			/* Ahead: nothing there yet. Impossible: from the
			 * oldest message retained, so none is passed over. */
			c = dist == 1 ? tail :
					rl_next_known_start(r, tail - r->geo.slot_count - 1,
							    tail);
			store_release(&g->cursor, c);
			rep->repaired++;
		}
		if (load_relaxed(&g->mode) == RL_GROUP_SHARED)
			check_shared(r, rep, i, c, tail, fix);
		else if (load_relaxed(&g->mode) != RL_GROUP_EXCLUSIVE)
			problem(rep, "group '%.47s' has unknown mode %u",
				g->name, load_relaxed(&g->mode));
		if (pos_diff(c, m) < 0)
			m = c;
	}
	return m;
}

/*
 * Walk from @from to @tail. Each stretch that is neither a valid message
 * nor a live claim is a problem; with @fix it becomes a skip record up to
 * the next valid message (grown to cover that one too if a header would
 * not fit in the gap).
 */
static void check_messages(struct ring *r, struct ring_check_report *rep,
			   uint64_t from, uint64_t tail, bool fix)
{
	uint64_t p = from;

	while (pos_diff(tail, p) > 0) {
		uint64_t n = valid_at(r, p), q;

		if (n) {
			p += n;
			continue;
		}
		switch (in_flight(r, p)) {
		case IN_FLIGHT:
			p++;
			continue;
		case LOOK_AGAIN:
			continue;
		}
		q = p + 1;
		while (pos_diff(tail, q) > 0 && !valid_at(r, q))
			q++;
		problem(rep, "positions %llu..%llu hold no committed message",
			(unsigned long long)p, (unsigned long long)q);
		if (fix) {
			if (((q - p) << r->slot_shift) < r->geo.hdr_size &&
			    pos_diff(tail, q) > 0)
				q += valid_at(r, q);
			if (((q - p) << r->slot_shift) >= r->geo.hdr_size) {
				struct rl_msg_hdr *h =
					(struct rl_msg_hdr *)rl_slot(r, p);

				h->len = (uint32_t)(q - p);
				h->type = 0;
				h->flags = RL_HDR_SKIP;
				h->pid = 0;
				/* R1 as in publish_commit(). */
				store_release(&r->commit[p & r->mask], p + 1);
				rep->dropped_slots += q - p;
				rep->dropped_stretches++;
				rep->repaired++;
			}
		}
		p = q;
	}
}

/* Entries of dead processes: counted; with @fix reclaimed. */
static void check_procs(struct ring *r, struct ring_check_report *rep, bool fix)
{
	for (uint32_t i = 0; i < r->geo.procs; i++) {
		struct rl_proc *e = &r->procs[i];
		uint32_t st = load_acquire(&e->state);
		int locked;

		if (st == RL_PROC_FREE)
			continue;
		if (st != RL_PROC_USED) {
			problem(rep, "process entry %u has unknown state %u", i, st);
			if (fix) {
				store_release(&e->state, RL_PROC_FREE);
				rep->repaired++;
			}
			continue;
		}
		if (rl_entry_alive(r, i))
			continue;
		rep->dead_entries++;
		if (!fix)
			continue;
		locked = rl_lease_try(r, &e->owner, &e->owner_ns,
				      rl_proc_lock_off(r, i), NULL);
		if (locked >= 0) {
			store_relaxed(&e->claim_state, RL_CLAIM_NONE);
			store_relaxed(&e->sleeping, RL_SLEEP_NONE);
			store_release(&e->state, RL_PROC_FREE);
			rl_lease_drop(r, &e->owner, &e->owner_ns,
				      rl_proc_lock_off(r, i), locked);
		}
	}
}

static int check_or_repair(struct ring *r, struct ring_check_report *rep,
			   bool fix)
{
	uint64_t tail, from;

	if (!rep)
		return -EINVAL;
	if (r->forked)
		return -ECHILD;
	if (rl_size_check(r)) /* H13: a shrunk file is not checked */
		return -EIO;
	if (fix && (r->open_flags & RING_OPEN_RDONLY))
		return -EROFS;
	memset(rep, 0, sizeof(*rep));
	tail = load_acquire(&r->hot->tail);
	tail = check_tail(r, rep, tail, fix);
	from = check_cursors(r, rep, tail, fix);
	if (fix)
		rl_group_clear_abandoned(r);
	if (rl_min_used(tail, load_acquire(&r->hot->cached_min)) >
	    r->geo.slot_count) {
		problem(rep, "cached minimum is not within a ring of the tail");
		if (fix) {
			rep->repaired++;
		}
	}
	check_messages(r, rep, from, tail, fix);
	if (fix) {
		/* Dead entries last: their claims were turned into skips. */
		check_procs(r, rep, true);
		rl_refresh_min(r, tail);
		rl_wake(r, &r->hot->data);
		rl_wake(r, &r->hot->space);
	} else {
		check_procs(r, rep, false);
	}
	if (rl_broken(r)) /* pages that could not be read: no verdict */
		return -EIO;
	return rep->problems ? -EUCLEAN : 0;
}

int ring_check(struct ring *r, struct ring_check_report *rep)
{
	return check_or_repair(r, rep, false);
}

int ring_repair(struct ring *r, struct ring_check_report *rep)
{
	int err = check_or_repair(r, rep, true);

	if (err == -EUCLEAN && rep->repaired >= rep->problems)
		return 0;
	return err;
}

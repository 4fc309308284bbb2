// SPDX-License-Identifier: MIT
/*
 * recover.c - a reader stuck on a claim that never commits (DESIGN H5).
 *
 * A reader at position c that sees no commit word for c although the tail
 * is past c has waited recovery_ms; it now asks who claimed c:
 *
 *   1. an entry whose claim is HELD and contains c won the tail CAS for
 *      it (HELD is set only after a successful CAS, claims never overlap):
 *      it decides alone. Alive: wait. Dead: skip to its end. An intent of
 *      another entry that also contains c is a loser's, whatever its
 *      owner's state (a stopped loser does not block recovery);
 *   2. otherwise a live entry whose intent contains c may be between its
 *      CAS and HELD: wait (a slow or stopped producer is never skipped);
 *   3. otherwise the winner, if its entry still exists, is among the dead
 *      entries whose intent contains c (every winner published its intent
 *      before its CAS and keeps it until after its commit). Skip to the
 *      smallest end among them, but never past the next committed message
 *      start or live claim (rl_next_known_start()): if the winner's entry
 *      was reclaimed, a loser's stale intent may reach past the winner's
 *      end, and the messages after it must not be skipped;
 *   4. nobody contains c (a reclaimed entry, a damaged table): skip to the
 *      next committed message start, the start of a live claim, or the
 *      tail, whichever comes first.
 *
 * Readers skip locally and write nothing to the file but their cursor: the
 * decision depends only on entries that no longer change (their owners are
 * dead), so every group decides the same, and no two readers race to write
 * a record. The first reader to skip a dead claim counts it (a CAS on the
 * entry's claim_state sets RL_CLAIM_RECOVERED); a second step over the same
 * claim (rule 3 stopping short) is not counted again. Observers, which
 * may not write the file, decide the same way without counting
 * (@count_it false).
 */
#include "internal.h"

struct claim_view {
	uint64_t start, end;
	uint32_t state; /* with RL_CLAIM_RECOVERED */
};

/*
 * Read an entry's claim consistently (seqlock written by publish_intent()).
 * Returns false if it is being rewritten right now (its owner is alive).
 */
static bool read_claim(const struct rl_proc *e, struct claim_view *v)
{
	/* A6: pairs with R6 in publish_intent(). */
	uint64_t s1 = load_acquire(&e->claim_seq);

	if (s1 & 1)
		return false;
	/* Acquire loads: the second look at the sequence cannot move
	 * before them. */
	v->start = load_acquire(&e->claim_start);
	v->end = load_acquire(&e->claim_end);
	/* A8: pairs with R8 in close_claim(). */
	v->state = load_acquire(&e->claim_state);
	return load_relaxed(&e->claim_seq) == s1;
}

static bool contains(const struct claim_view *v, uint64_t c, uint64_t count)
{
	return pos_diff(v->end, v->start) > 0 &&
	       pos_diff(v->end, v->start) <= (int64_t)count &&
	       pos_diff(c, v->start) >= 0 && pos_diff(v->end, c) > 0;
}

/* The first position after c that starts a committed message or a live
 * claim, or the tail. */
uint64_t rl_next_known_start(struct ring *r, uint64_t c, uint64_t tail)
{
	uint64_t stop = tail;

	for (uint32_t i = 0; i < r->geo.procs; i++) {
		struct rl_proc *e = &r->procs[i];
		struct claim_view v;

		if (load_acquire(&e->state) != RL_PROC_USED || !read_claim(e, &v))
			continue;
		if ((v.state & RL_CLAIM_MASK) == RL_CLAIM_NONE)
			continue;
		if (pos_diff(v.start, c) > 0 && pos_diff(stop, v.start) > 0 &&
		    rl_entry_alive(r, i))
			stop = v.start;
	}
	for (uint64_t p = c + 1; pos_diff(stop, p) > 0; p++)
		if (load_acquire(&r->commit[p & r->mask]) == p + 1)
			return p;
	return stop;
}

/* Count the dead claim of entry @e as recovered, once over all readers. */
static void count_recovered(struct ring *r, struct rl_proc *e)
{
	uint32_t st = load_relaxed(&e->claim_state);

	if (!(st & RL_CLAIM_RECOVERED) &&
	    cas_seq_cst(&e->claim_state, st, st | RL_CLAIM_RECOVERED))
		fetch_add_relaxed(&r->hot->recovered, 1);
}

bool rl_resolve_stuck(struct ring *r, uint64_t c, uint64_t *skip_to,
		      bool continued, bool count_it)
{
	uint64_t count = r->geo.slot_count;
	/* A7: pairs with R7 in claim(): the winner's intent is visible. */
	uint64_t tail = load_acquire(&r->hot->tail);
	uint64_t held_end = 0, intent_end = 0, intent_start = 0, stop;
	int held = -1, intent = -1;
	bool live_intent = false;

	if (pos_diff(tail, c) <= 0)
		return false;
	if (pos_diff(tail, c) > (int64_t)count) {
		/* More than a ring behind: damage; resume at the oldest
		 * message still there. */
		*skip_to = rl_next_known_start(r, tail - count - 1, tail);
		return true;
	}
	for (uint32_t i = 0; i < r->geo.procs; i++) {
		struct rl_proc *e = &r->procs[i];
		struct claim_view v;
		uint32_t st;

		/* A4: pairs with R4 in rl_entry_alloc(). */
		if (load_acquire(&e->state) != RL_PROC_USED)
			continue;
		if (!read_claim(e, &v)) {
			/* Being rewritten by a live owner: its last claim is
			 * committed (R6 orders it first), its next one starts
			 * at the tail or later. An owner that died while
			 * writing its intent had not yet tried its CAS. */
			continue;
		}
		st = v.state & RL_CLAIM_MASK;
		if (st == RL_CLAIM_NONE || !contains(&v, c, count))
			continue;
		if (st == RL_CLAIM_HELD) {
			/* Rule 1: the winner. */
			if (rl_entry_alive(r, i))
				return false;
			held = (int)i;
			held_end = v.end;
			break;
		}
		if (rl_entry_alive(r, i)) {
			live_intent = true; /* rule 2, unless a HELD is found */
			continue;
		}
		if (intent < 0 || pos_diff(intent_end, v.end) > 0) {
			intent = (int)i;
			intent_end = v.end;
			intent_start = v.start;
		}
	}
	/* A1 again: the producer may have committed while we looked. */
	if (load_acquire(&r->commit[c & r->mask]) == c + 1)
		return false;
	if (held >= 0) {
		if (count_it)
			count_recovered(r, &r->procs[held]);
		*skip_to = held_end;
		return true;
	}
	if (live_intent)
		return false;
	stop = rl_next_known_start(r, c, tail);
	if (intent >= 0) {
		/* Rule 3. An intent that reaches past a committed message or
		 * a live claim overlaps another claim: a loser's, not to be
		 * counted (the winner's entry was reclaimed, and counted then).
		 * A continuation (this reader's last skip ended at c inside
		 * the same claim) was counted by the first step. */
		if (pos_diff(intent_end, stop) > 0) {
			*skip_to = stop;
			return true;
		}
		if (count_it && !(continued && pos_diff(c, intent_start) > 0))
			count_recovered(r, &r->procs[intent]);
		*skip_to = intent_end;
		return true;
	}
	*skip_to = stop;
	return pos_diff(*skip_to, c) > 0;
}

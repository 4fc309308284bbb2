// SPDX-License-Identifier: MIT
/*
 * recover.c - a reader stuck on a claim that never commits (DESIGN H5).
 *
 * A reader at position c that sees no commit word for c although the tail
 * is past c has waited recovery_ms; it now asks who claimed c:
 *
 *   - a live entry whose intent or held claim contains c: wait (a slow or
 *     stopped producer is never skipped);
 *   - otherwise the dead entries whose intent or claim contains c: the one
 *     that won the tail CAS is among them (every winner published its
 *     intent before its CAS, and keeps it until after its commit). Skip to
 *     the smallest end among them: that never passes the winner's end, and
 *     if it stops short, the next round finds the winner alone;
 *   - nobody contains c (a damaged table, or a group placed inside old
 *     data): skip to the next committed message start, the start of a live
 *     claim, or the tail, whichever comes first.
 *
 * Readers skip locally and write nothing to the file but their cursor: the
 * decision depends only on entries that no longer change (their owners are
 * dead), so every group decides the same, and no two readers race to write
 * a record. The first reader to skip a dead claim counts it (a CAS on the
 * entry's claim_state sets RL_CLAIM_RECOVERED).
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

bool rl_resolve_stuck(struct ring *r, uint64_t c, uint64_t *skip_to)
{
	uint64_t count = r->geo.slot_count;
	/* A7: pairs with R7 in claim(): the winner's intent is visible. */
	uint64_t tail = load_acquire(&r->hot->tail);
	uint64_t best_end = 0;
	bool best_held = false;
	int best = -1;

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

		/* A4: pairs with R4 in rl_entry_alloc(). */
		if (load_acquire(&e->state) != RL_PROC_USED)
			continue;
		if (!read_claim(e, &v)) {
			/* Being rewritten by a live owner: wait. An owner
			 * that died while writing its intent had not yet
			 * tried its CAS: it claims nothing. */
			if (rl_entry_alive(r, i))
				return false;
			continue;
		}
		if ((v.state & RL_CLAIM_MASK) == RL_CLAIM_NONE ||
		    !contains(&v, c, count))
			continue;
		if (rl_entry_alive(r, i))
			return false;
		/* A held claim is the winner's for sure (HELD is set only
		 * after a successful CAS); among intents, the smallest end. */
		if ((v.state & RL_CLAIM_MASK) == RL_CLAIM_HELD) {
			if (!best_held || pos_diff(best_end, v.end) > 0) {
				best = (int)i;
				best_end = v.end;
			}
			best_held = true;
		} else if (!best_held &&
			   (best < 0 || pos_diff(best_end, v.end) > 0)) {
			best = (int)i;
			best_end = v.end;
		}
	}
	/* A1 again: the producer may have committed while we looked. */
	if (load_acquire(&r->commit[c & r->mask]) == c + 1)
		return false;
	if (best >= 0) {
		struct rl_proc *e = &r->procs[best];
		uint32_t st = load_relaxed(&e->claim_state);

		if (!(st & RL_CLAIM_RECOVERED) &&
		    cas_seq_cst(&e->claim_state, st, st | RL_CLAIM_RECOVERED))
			fetch_add_relaxed(&r->hot->recovered, 1);
		*skip_to = best_end;
		return true;
	}
	*skip_to = rl_next_known_start(r, c, tail);
	return pos_diff(*skip_to, c) > 0;
}

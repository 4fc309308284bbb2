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

/* Is position @p inside a claim of a live producer? */
static bool live_claim_contains(struct ring *r, uint64_t p)
{
	for (uint32_t i = 0; i < r->geo.procs; i++) {
		struct rl_proc *e = &r->procs[i];
		uint64_t s, end;

		if (load_acquire(&e->state) != RL_PROC_USED ||
		    !(load_acquire(&e->claim_state) & RL_CLAIM_MASK))
			continue;
		s = load_relaxed(&e->claim_start);
		end = load_relaxed(&e->claim_end);
		if (pos_diff(p, s) >= 0 && pos_diff(end, p) > 0 &&
		    rl_entry_alive(r, i))
			return true;
	}
	return false;
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
		if (pos_diff(c, tail) > 0 ||
		    pos_diff(tail, c) > (int64_t)r->geo.slot_count) {
			problem(rep, "group '%.47s' cursor %llu outside [tail-%llu, tail=%llu]",
				g->name, (unsigned long long)c,
				(unsigned long long)r->geo.slot_count,
				(unsigned long long)tail);
			if (!fix)
				continue;
			c = pos_diff(c, tail) > 0 ?
				    tail :
				    rl_next_known_start(r, tail - r->geo.slot_count - 1,
							tail);
			store_release(&g->cursor, c);
			rep->repaired++;
		}
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
		if (live_claim_contains(r, p)) {
			p++;
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

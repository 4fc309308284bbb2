// SPDX-License-Identifier: MIT
/*
 * group.c - named consumer groups and the slowest-cursor computation.
 *
 * The group table changes under its lease (lease.c: an owner word in the
 * hot page and a lock byte), so two processes never add the same name
 * twice. A group's reader holds the group's lease; remove and reset take
 * it too, so they never pull a cursor from under a live reader.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

static uint64_t group_table_lock_off(const struct ring *r)
{
	return r->geo.hot_off + offsetof(struct rl_hot, table_owner);
}

/* Take the group table's lease, waiting for a live holder: 1 or 0 (with
 * or without its lock, for table_drop()) or -EIO. */
static int table_take(struct ring *r)
{
	return rl_lease_take_wait(r, &r->hot->table_owner,
				  &r->hot->table_owner_ns,
				  group_table_lock_off(r));
}

static void table_drop(struct ring *r, int locked)
{
	rl_lease_drop(r, &r->hot->table_owner, &r->hot->table_owner_ns,
		      group_table_lock_off(r), locked);
}

/* Take group @gi's reader lease if nobody alive holds it: 1 or 0 (with or
 * without its lock, for rl_group_lease_drop()), or -EBUSY. */
int rl_group_lease_try(struct ring *r, uint32_t gi)
{
	struct rl_group *g = &r->groups[gi];

	return rl_lease_try(r, &g->owner, &g->owner_ns,
			    rl_group_lock_off(r, gi), NULL);
}

void rl_group_lease_drop(struct ring *r, uint32_t gi, int locked)
{
	struct rl_group *g = &r->groups[gi];

	rl_lease_drop(r, &g->owner, &g->owner_ns, rl_group_lock_off(r, gi),
		      locked);
}

/* Does a live process other than this handle hold group @gi's lease? */
bool rl_group_lease_alive(struct ring *r, uint32_t gi)
{
	struct rl_group *g = &r->groups[gi];

	return rl_lease_alive(r, &g->owner, &g->owner_ns,
			      rl_group_lock_off(r, gi));
}

uint64_t rl_group_lock_off(const struct ring *r, uint32_t gidx)
{
	return r->geo.group_off + (uint64_t)gidx * sizeof(struct rl_group);
}

/* Does a group in state @st hold producers back? */
static inline bool holds_producers(uint32_t st)
{
	return st == RL_GROUP_ACTIVE || st == RL_GROUP_JOINING;
}

/*
 * The slowest cursor of the groups other than @self that hold producers
 * back, or @tail if there is none (*@any false). A cursor ahead of the tail
 * is damage and ignored; one more than a ring behind (damage too: no
 * placement or release makes one) counts as exactly a ring behind, so that
 * producers keep waiting for its reader, who resolves it (recover.c).
 */
static uint64_t scan_min(struct ring *r, uint64_t tail, int self, bool *any)
{
	uint64_t m = tail;

	*any = false;
	for (uint32_t i = 0; i < r->geo.groups; i++) {
		struct rl_group *g = &r->groups[i];
		uint64_t c;

		/* A5': pairs with R5 in ring_group_create() and the JOINING
		 * store in place_group(): the cursor is set. */
		if ((int)i == self || !holds_producers(load_acquire(&g->state)))
			continue;
		/* A2: the reader is done with everything before its cursor;
		 * pairs with R2 in publish_cursor(). */
		c = load_acquire(&g->cursor);
		if (pos_diff(c, tail) > 0)
			continue;
		if (pos_diff(tail, c) > (int64_t)r->geo.slot_count)
			c = tail - r->geo.slot_count;
		*any = true;
		if (pos_diff(c, m) < 0)
			m = c;
	}
	return m;
}

/*
 * The slowest group's cursor (the tail if there is none), stored as the
 * producers' cached minimum. Never above @tail, whatever the file says.
 *
 * The store is a CAS from the word read before the scan: a group create or
 * reset that lowered the minimum meanwhile bumped the word's generation, so
 * a scan that may have missed that group never overwrites it (a lost
 * update would let producers overwrite the new group's unread messages).
 * A CAS lost to another refresher stores nothing: that one's scan is as
 * recent. The return value is this scan's minimum, for the caller's own
 * decision.
 */
uint64_t rl_refresh_min(struct ring *r, uint64_t tail)
{
	/* A3': pairs with R3 in place_group(): a word with the bumped
	 * generation comes with the group's cursor and state. */
	uint64_t old = __atomic_load_n(&r->hot->cached_min, __ATOMIC_SEQ_CST);
	bool any;
	uint64_t m = scan_min(r, tail, -1, &any);
	uint64_t w = (old & ~RL_MIN_POS_MASK) | (m & RL_MIN_POS_MASK);

	RL_SCHED("refresh:scan");
	/* R3: pairs with A3 in claim(): a producer that sees this value
	 * also sees the cursor loads above as done. */
	if (w != old)
		cas_seq_cst(&r->hot->cached_min, old, w);
	return m;
}

/*
 * Lower the cached minimum to @pos (or leave it lower) and bump its
 * generation, so that no refresh that scanned before can store over it.
 */
static void lower_min(struct ring *r, uint64_t pos)
{
	uint64_t old, w, tail, m;

	do {
		old = __atomic_load_n(&r->hot->cached_min, __ATOMIC_SEQ_CST);
		tail = load_acquire(&r->hot->tail);
		m = rl_min_used(tail, old) > r->geo.slot_count ?
			    pos : tail - rl_min_used(tail, old);
		if (pos_diff(pos, m) < 0)
			m = pos;
		w = ((old + RL_MIN_GEN_ONE) & ~RL_MIN_POS_MASK) |
		    (m & RL_MIN_POS_MASK);
		/* R3 (as in rl_refresh_min()): the group's cursor and state
		 * were stored before. */
	} while (!cas_seq_cst(&r->hot->cached_min, old, w));
}

/* 0 if @name can name a group, else -EINVAL. */
int rl_group_name_ok(const char *name)
{
	size_t n;

	if (!name)
		return -EINVAL;
	n = strnlen(name, RING_GROUP_NAME_MAX + 1);
	if (n == 0 || n > RING_GROUP_NAME_MAX)
		return -EINVAL;
	/* No control characters: names are printed by tools. */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return -EINVAL;
	return 0;
}

/* Index of the active group called @name, or -ENOENT. */
int rl_group_find(struct ring *r, const char *name)
{
	for (uint32_t i = 0; i < r->geo.groups; i++) {
		struct rl_group *g = &r->groups[i];

		/* A5: pairs with R5 in ring_group_create(): name is set. */
		if (load_acquire(&g->state) == RL_GROUP_ACTIVE &&
		    strncmp(g->name, name, sizeof(g->name)) == 0)
			return (int)i;
	}
	return -ENOENT;
}

/* The first committed message start in [@from, @tail), or @tail. */
static uint64_t first_message(struct ring *r, uint64_t from, uint64_t tail)
{
	for (uint64_t p = from; pos_diff(tail, p) > 0; p++)
		/* A1: pairs with R1 in publish_commit(); commit words are
		 * unique to their position, so they mark message starts. */
		if (load_acquire(&r->commit[p & r->mask]) == p + 1)
			return p;
	return tail;
}

/*
 * The furthest position a claim may still reach that was checked against
 * a minimum from before place_group() lowered it: the tail, or the end of a
 * live producer's published intent beyond it. Called after membarrier()
 * (produce.c explains why every such claim's intent is visible then).
 */
static uint64_t claims_reach(struct ring *r)
{
	/* A7'': pairs with R7 in claim(): claims made so far are in it. */
	uint64_t e = load_acquire(&r->hot->tail);

	for (uint32_t i = 0; i < r->geo.procs; i++) {
		struct rl_proc *p = &r->procs[i];
		uint64_t s1, start, end;

		/* A4: pairs with R4 in rl_entry_alloc(). */
		if (load_acquire(&p->state) != RL_PROC_USED)
			continue;
		/* A6: pairs with R6 in publish_intent(). An odd sequence is an
		 * intent still being written: its minimum is read after it,
		 * so after this call's membarrier(), and is the lowered one. */
		s1 = load_acquire(&p->claim_seq);
		if (s1 & 1)
			continue;
		start = load_acquire(&p->claim_start);
		end = load_acquire(&p->claim_end);
		if ((load_acquire(&p->claim_state) & RL_CLAIM_MASK) != RL_CLAIM_INTENT ||
		    load_relaxed(&p->claim_seq) != s1)
			continue; /* none, held (in the tail), or a new intent */
		if (pos_diff(end, e) <= 0 || pos_diff(end, start) <= 0 ||
		    pos_diff(end, start) > (int64_t)r->geo.slot_count)
			continue;
		if (rl_entry_alive(r, i))
			e = end;
	}
	return e;
}

/*
 * Make every claim checked against an older minimum visible to
 * claims_reach(): membarrier() runs a full barrier on every CPU that runs a
 * registered process. Where it is refused, processes that could not
 * register fence every claim themselves (rl_intent_fence()); for those that
 * could, a pause of a millisecond lets their intents leave the store
 * buffers before they are read.
 */
static void intents_settle(void)
{
	struct timespec ms = { 0, 1000000 };

	if (rl_membarrier_all() == 0)
		return;
	full_fence();
	nanosleep(&ms, NULL);
}

/*
 * Where the newest messages start: the tail, or, when it is smaller, the
 * first position not yet committed of a claim held now (a single
 * producer's run holds room ahead of its messages: a group created from
 * the newest message must still get the run's next ones). @last_only: of
 * the claim that ends at the tail only (the room ahead of the messages,
 * not claims in flight behind others' committed messages: for lag).
 */
uint64_t rl_newest_start(struct ring *r, uint64_t tail, bool last_only)
{
	uint64_t pos = tail;

	for (uint32_t i = 0; i < r->geo.procs; i++) {
		struct rl_proc *e = &r->procs[i];
		struct ring_msg m;
		uint64_t s, end, p;
		int at;

		/* A4: pairs with R4 in rl_entry_alloc(). */
		if (load_acquire(&e->state) != RL_PROC_USED ||
		    (load_acquire(&e->claim_state) & RL_CLAIM_MASK) != RL_CLAIM_HELD)
			continue;
		s = load_relaxed(&e->claim_start);
		end = load_relaxed(&e->claim_end);
		if (pos_diff(end, s) <= 0 || pos_diff(tail, end) < 0 ||
		    tail - s > r->geo.slot_count)
			continue; /* stale or damaged */
		if (last_only && end != tail)
			continue;
		for (p = s; pos_diff(end, p) > 0; p += m.slots) {
			at = rl_message_at(r, p, &m);
			if (at != AT_MESSAGE && at != AT_SKIP)
				break;
		}
		if (pos_diff(p, pos) < 0)
			pos = p;
	}
	return pos;
}

/*
 * Place group @gi's cursor for a start from the oldest or the newest
 * message while producers run. Called with the group out of every
 * reader's reach (a new group is JOINING; a reset holds its reader lock).
 *
 *   1. a first guess: the slowest other group (producers are held by it),
 *      or the newest message, or with no group the oldest message that no
 *      producer would reach with one more maximum-size message;
 *   2. cursor = guess (the group holds producers from here on), lower the
 *      cached minimum to it with a new generation (no stale refresh can
 *      raise it again), membarrier();
 *   3. claims_reach(): no claim made from now on ends past that, since
 *      every later claim reads the lowered minimum;
 *   4. if the guess is more than a ring behind it, move the cursor up to
 *      the first message a ring behind it at most.
 *
 * So the group never starts where producers may still overwrite, and the
 * minimum never forgets it.
 */
static void place_group(struct ring *r, uint32_t gi, unsigned flags)
{
	struct rl_group *g = &r->groups[gi];
	uint64_t count = r->geo.slot_count;
	uint64_t tail = load_acquire(&r->hot->tail);
	uint64_t pos, reach, lo;
	bool others;
	uint64_t m = scan_min(r, tail, (int)gi, &others);

	if (flags & RING_FROM_NEWEST)
		pos = rl_newest_start(r, tail, false);
	else if (others)
		pos = m;
	else if (r->max_slots < count)
		pos = first_message(r, tail - count + r->max_slots, tail);
	else
		pos = tail;
	/* R2' (as in publish_cursor()): the cursor that scan_min() reads. */
	store_release(&g->cursor, pos);
	if (load_relaxed(&g->state) == RL_GROUP_FREE)
		/* R5': cursor before state; pairs with A5' in scan_min(). */
		store_release(&g->state, RL_GROUP_JOINING);
	lower_min(r, pos);
	RL_SCHED("group:joining");
	intents_settle();
	reach = claims_reach(r);
	lo = reach - count;
	if (pos_diff(lo, pos) > 0) {
		pos = first_message(r, lo, load_acquire(&r->hot->tail));
		/* Raising a cursor nobody reads yet is always safe. */
		store_release(&g->cursor, pos);
	}
}

/*
 * Free the groups that a creator left JOINING when it died (called with
 * the group table lock held: a live creator would hold it).
 */
static void clear_abandoned(struct ring *r)
{
	for (uint32_t i = 0; i < r->geo.groups; i++)
		if (load_acquire(&r->groups[i].state) == RL_GROUP_JOINING)
			store_release(&r->groups[i].state, RL_GROUP_FREE);
}

/* clear_abandoned(), if nobody holds the group table lock right now. */
void rl_group_clear_abandoned(struct ring *r)
{
	bool any = false;
	int tl;

	for (uint32_t i = 0; i < r->geo.groups; i++)
		if (load_acquire(&r->groups[i].state) == RL_GROUP_JOINING)
			any = true;
	if (!any)
		return;
	pthread_mutex_lock(&r->table_lock);
	tl = rl_lease_try(r, &r->hot->table_owner, &r->hot->table_owner_ns,
			  group_table_lock_off(r), NULL);
	if (tl >= 0) {
		clear_abandoned(r);
		table_drop(r, tl);
	}
	pthread_mutex_unlock(&r->table_lock);
}

/*
 * The checks every change of the group table starts with: a usable,
 * writable handle, a valid @name and no @flags outside @allowed.
 */
static int table_op_checks(struct ring *r, const char *name, unsigned flags,
			   unsigned allowed)
{
	if (r->forked)
		return -ECHILD;
	if (rl_broken(r))
		return -EIO;
	if (r->open_flags & RING_OPEN_RDONLY)
		return -EROFS;
	if (rl_group_name_ok(name) || (flags & ~allowed))
		return -EINVAL;
	return 0;
}

int ring_group_create(struct ring *r, const char *name, unsigned flags)
{
	int err, tl, gi = -1;

	err = table_op_checks(r, name, flags,
			      RING_FROM_NEWEST | RING_GROUP_SHARED |
				      RING_GROUP_MEMBERS(0xff));
	if (err)
		return err;
	if (((flags >> 16) & 0xffu) > RL_MEMBERS_MAX)
		return -EINVAL;
	pthread_mutex_lock(&r->table_lock);
	tl = table_take(r);
	if (tl < 0) {
		pthread_mutex_unlock(&r->table_lock);
		return tl;
	}
	RL_SCHED("group:locked");
	clear_abandoned(r);
	if (rl_group_find(r, name) >= 0) {
		err = -EEXIST;
		goto out;
	}
	for (uint32_t i = 0; i < r->geo.groups; i++) {
		if (load_acquire(&r->groups[i].state) == RL_GROUP_FREE &&
		    !rl_group_lease_alive(r, i)) {
			gi = (int)i;
			break;
		}
	}
	if (gi < 0) {
		err = -ENOSPC;
		goto out;
	}
	RL_SCHED("group:chosen");
	struct rl_group *g = &r->groups[gi];

	memset(g->name, 0, sizeof(g->name));
	strncpy(g->name, name, sizeof(g->name) - 1);
	store_relaxed(&g->released, 0);
	store_relaxed(&g->reader_pid, 0);
	place_group(r, (uint32_t)gi, flags);
	rl_shared_init(r, (uint32_t)gi, flags);
	/* R5: name, mode and cursor before readers can find the group;
	 * pairs with A5 in rl_group_find(). */
	store_release(&g->state, RL_GROUP_ACTIVE);
	fetch_add_relaxed(&r->hot->group_gen, 1);
out:
	table_drop(r, tl);
	pthread_mutex_unlock(&r->table_lock);
	return err;
}

/*
 * Take the group's reader lock for a change by somebody not reading it.
 * Called with r->table_lock held, which keeps this handle's own readers
 * from opening the group between the check and the lock (the OFD lock does
 * not exclude them: they share its open file description).
 */
static int lock_idle_group(struct ring *r, const char *name, int *gip,
			   int *locked)
{
	int gi;

	gi = rl_group_find(r, name);
	if (gi < 0)
		return gi;
	pthread_mutex_lock(&r->lock);
	for (struct ring_reader *rd = r->readers; rd; rd = rd->next) {
		if (rd->gidx == (uint32_t)gi) {
			pthread_mutex_unlock(&r->lock);
			return -EBUSY;
		}
	}
	pthread_mutex_unlock(&r->lock);
	RL_SCHED("group:idle");
	*locked = rl_group_lease_try(r, (uint32_t)gi);
	if (*locked < 0)
		return -EBUSY;
	/* Found before the lease: make sure it is still the same group. */
	if (load_acquire(&r->groups[gi].state) != RL_GROUP_ACTIVE ||
	    strncmp(r->groups[gi].name, name, sizeof(r->groups[gi].name)) != 0) {
		rl_group_lease_drop(r, (uint32_t)gi, *locked);
		return -ENOENT;
	}
	/* A shared group's lease is its join lock: no member joins while
	 * it is held, so none must be there now. */
	if (load_relaxed(&r->groups[gi].mode) == RL_GROUP_SHARED &&
	    rl_shared_idle(r, (uint32_t)gi)) {
		rl_group_lease_drop(r, (uint32_t)gi, *locked);
		return -EBUSY;
	}
	*gip = gi;
	return 0;
}

int ring_group_remove(struct ring *r, const char *name)
{
	int gi, err, tl, gl;

	err = table_op_checks(r, name, 0, 0);
	if (err)
		return err;
	pthread_mutex_lock(&r->table_lock);
	tl = table_take(r);
	if (tl < 0) {
		pthread_mutex_unlock(&r->table_lock);
		return tl;
	}
	RL_SCHED("group:locked");
	err = lock_idle_group(r, name, &gi, &gl);
	if (!err) {
		store_release(&r->groups[gi].state, RL_GROUP_FREE);
		fetch_add_relaxed(&r->hot->group_gen, 1);
		rl_group_lease_drop(r, (uint32_t)gi, gl);
		/* Producers waiting on this group's cursor may go on. */
		rl_refresh_min(r, load_acquire(&r->hot->tail));
		rl_wake(r, &r->hot->space);
	}
	table_drop(r, tl);
	pthread_mutex_unlock(&r->table_lock);
	return err;
}

int ring_group_reset(struct ring *r, const char *name, unsigned flags)
{
	int gi, err, gl;

	err = table_op_checks(r, name, flags, RING_FROM_NEWEST);
	if (err)
		return err;
	pthread_mutex_lock(&r->table_lock);
	err = lock_idle_group(r, name, &gi, &gl);
	if (!err) {
		place_group(r, (uint32_t)gi, flags);
		if (load_relaxed(&r->groups[gi].mode) == RL_GROUP_SHARED)
			rl_shared_reset(r, (uint32_t)gi);
		rl_group_lease_drop(r, (uint32_t)gi, gl);
		/* A reset to the newest message frees room. */
		rl_refresh_min(r, load_acquire(&r->hot->tail));
		rl_wake(r, &r->hot->space);
	}
	pthread_mutex_unlock(&r->table_lock);
	return err;
}

int ring_group_list(struct ring *r, char (*names)[RING_GROUP_NAME_MAX + 1],
		    unsigned max)
{
	unsigned n = 0;

	if (r->forked)
		return -ECHILD;
	if (rl_broken(r))
		return -EIO;
	for (uint32_t i = 0; i < r->geo.groups; i++) {
		struct rl_group *g = &r->groups[i];

		if (load_acquire(&g->state) != RL_GROUP_ACTIVE) /* A5 */
			continue;
		if (names && n < max) {
			memcpy(names[n], g->name, RING_GROUP_NAME_MAX);
			names[n][RING_GROUP_NAME_MAX] = '\0';
		}
		n++;
	}
	return (int)n;
}

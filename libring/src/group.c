// SPDX-License-Identifier: MIT
/*
 * group.c - named consumer groups and the slowest-cursor computation.
 *
 * The group table changes under an OFD lock on one byte of the hot page
 * (group_table_lock_off), so two processes never add the same name twice.
 * A group's reader holds the lock on the group entry's first byte; remove
 * and reset take that lock too, so they never pull a cursor from under a
 * live reader.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

static uint64_t group_table_lock_off(const struct ring *r)
{
	return r->geo.hot_off + sizeof(struct rl_hot);
}

uint64_t rl_group_lock_off(const struct ring *r, uint32_t gidx)
{
	return r->geo.group_off + (uint64_t)gidx * sizeof(struct rl_group);
}

/*
 * The slowest active group's cursor (the tail if there is none), stored as
 * the producers' cached minimum. Never above @tail, whatever the file says.
 */
uint64_t rl_refresh_min(struct ring *r, uint64_t tail)
{
	uint64_t m = tail;

	for (uint32_t i = 0; i < r->geo.groups; i++) {
		struct rl_group *g = &r->groups[i];
		uint64_t c;

		if (load_acquire(&g->state) != RL_GROUP_ACTIVE)
			continue;
		/* A2: the reader is done with everything before its cursor;
		 * pairs with R2 in publish_cursor(). */
		c = load_acquire(&g->cursor);
		if (pos_diff(c, m) < 0 && pos_diff(tail, c) <= (int64_t)r->geo.slot_count)
			m = c;
	}
	/* R3: pairs with A3 in claim(): a producer that sees this value
	 * also sees the cursor loads above as done. */
	store_release(&r->hot->cached_min, m);
	return m;
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

/* Count the live producer entries (for the margin of a late group). */
static uint32_t live_producers(struct ring *r)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < r->geo.procs; i++)
		if (load_acquire(&r->procs[i].state) == RL_PROC_USED &&
		    (load_relaxed(&r->procs[i].role) & RL_ROLE_PRODUCER))
			n++;
	return n;
}

/*
 * Where a group starting from the oldest message begins: the slowest other
 * group's cursor if there is one (producers are held back by it). With no
 * group, messages are retained only until overwritten, and producers that
 * checked for room before this group existed may still overwrite up to one
 * message each: start at the first committed message past that margin
 * (commit words are unique to their position, so they mark message starts).
 */
static uint64_t oldest_position(struct ring *r, int self)
{
	uint64_t tail = load_acquire(&r->hot->tail);
	uint64_t m = tail, margin, window, from;
	bool any = false;

	for (uint32_t i = 0; i < r->geo.groups; i++) {
		struct rl_group *g = &r->groups[i];
		uint64_t c;

		if ((int)i == self || load_acquire(&g->state) != RL_GROUP_ACTIVE)
			continue;
		c = load_acquire(&g->cursor); /* A2 as in rl_refresh_min() */
		if (pos_diff(c, m) < 0 &&
		    pos_diff(tail, c) <= (int64_t)r->geo.slot_count) {
			m = c;
			any = true;
		}
	}
	if (any)
		return m;
	margin = (uint64_t)(live_producers(r) + 1) * r->max_slots;
	if (margin >= r->geo.slot_count)
		return tail;
	window = r->geo.slot_count - margin;
	from = tail > window ? tail - window : 0;
	for (uint64_t p = from; pos_diff(tail, p) > 0; p++)
		if (load_acquire(&r->commit[p & r->mask]) == p + 1)
			return p;
	return tail;
}

/*
 * Set group @gi's cursor for a start from the oldest or newest message, and
 * lower the producers' cached minimum to it so that producers from now on
 * respect it. Called with the group's lock held.
 */
static void place_cursor(struct ring *r, uint32_t gi, unsigned flags)
{
	struct rl_group *g = &r->groups[gi];
	uint64_t pos = (flags & RING_FROM_NEWEST) ?
			       load_acquire(&r->hot->tail) :
			       oldest_position(r, (int)gi);
	uint64_t cm = load_acquire(&r->hot->cached_min);

	/* R2 (as in publish_cursor()): the cursor the producers read. */
	store_release(&g->cursor, pos);
	if (pos_diff(pos, cm) < 0)
		store_release(&r->hot->cached_min, pos);
	full_fence();
}

int ring_group_create(struct ring *r, const char *name, unsigned flags)
{
	int err, gi = -1;

	if (r->forked)
		return -ECHILD;
	if (rl_broken(r))
		return -EIO;
	if (r->open_flags & RING_OPEN_RDONLY)
		return -EROFS;
	if (rl_group_name_ok(name) || (flags & ~RING_FROM_NEWEST))
		return -EINVAL;
	err = rl_lock_byte(r, group_table_lock_off(r), true);
	if (err)
		return err;
	if (rl_group_find(r, name) >= 0) {
		err = -EEXIST;
		goto out;
	}
	for (uint32_t i = 0; i < r->geo.groups; i++) {
		if (load_acquire(&r->groups[i].state) == RL_GROUP_FREE &&
		    !rl_byte_locked_by_other(r, rl_group_lock_off(r, i))) {
			gi = (int)i;
			break;
		}
	}
	if (gi < 0) {
		err = -ENOSPC;
		goto out;
	}
	struct rl_group *g = &r->groups[gi];

	memset(g->name, 0, sizeof(g->name));
	strncpy(g->name, name, sizeof(g->name) - 1);
	store_relaxed(&g->released, 0);
	store_relaxed(&g->reader_pid, 0);
	place_cursor(r, (uint32_t)gi, flags);
	/* R5: name and cursor before the group counts; pairs with A5 in
	 * rl_group_find() and A2 in rl_refresh_min(). */
	store_release(&g->state, RL_GROUP_ACTIVE);
	fetch_add_relaxed(&r->hot->group_gen, 1);
	/* A new group from the oldest message may have lowered the minimum:
	 * producers whose cached value predates it re-check after this. */
	rl_refresh_min(r, load_acquire(&r->hot->tail));
out:
	rl_unlock_byte(r, group_table_lock_off(r));
	return err;
}

/* Take the group's reader lock for a change by somebody not reading it. */
static int lock_idle_group(struct ring *r, const char *name, int *gip)
{
	int gi;

	if (r->forked)
		return -ECHILD;
	if (rl_broken(r))
		return -EIO;
	if (r->open_flags & RING_OPEN_RDONLY)
		return -EROFS;
	if (rl_group_name_ok(name))
		return -EINVAL;
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
	if (rl_lock_byte(r, rl_group_lock_off(r, (uint32_t)gi), false))
		return -EBUSY;
	*gip = gi;
	return 0;
}

int ring_group_remove(struct ring *r, const char *name)
{
	int gi, err;

	if (r->forked)
		return -ECHILD;
	if (rl_broken(r))
		return -EIO;
	if (r->open_flags & RING_OPEN_RDONLY)
		return -EROFS;
	err = rl_lock_byte(r, group_table_lock_off(r), true);
	if (err)
		return err;
	err = lock_idle_group(r, name, &gi);
	if (!err) {
		store_release(&r->groups[gi].state, RL_GROUP_FREE);
		fetch_add_relaxed(&r->hot->group_gen, 1);
		rl_unlock_byte(r, rl_group_lock_off(r, (uint32_t)gi));
		/* Producers waiting on this group's cursor may go on. */
		rl_refresh_min(r, load_acquire(&r->hot->tail));
		rl_wake(r, &r->hot->space);
	}
	rl_unlock_byte(r, group_table_lock_off(r));
	return err;
}

int ring_group_reset(struct ring *r, const char *name, unsigned flags)
{
	int gi, err;

	if (flags & ~RING_FROM_NEWEST)
		return -EINVAL;
	err = lock_idle_group(r, name, &gi);
	if (err)
		return err;
	place_cursor(r, (uint32_t)gi, flags);
	rl_refresh_min(r, load_acquire(&r->hot->tail));
	rl_unlock_byte(r, rl_group_lock_off(r, (uint32_t)gi));
	rl_wake(r, &r->hot->space);
	return 0;
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

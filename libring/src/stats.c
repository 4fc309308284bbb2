// SPDX-License-Identifier: MIT
/*
 * stats.c - counters, read without stopping anybody.
 *
 * Producers count in their own process entries (plain stores by the one
 * owning thread, so counting costs no atomic operation); entries that were
 * closed or reclaimed were folded into the ring's retired totals. A sum
 * taken while an entry is being folded may count it twice for an instant.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

int ring_stats(struct ring *r, struct ring_stats *st)
{
	const struct rl_hot *h = r->hot;

	if (!st)
		return -EINVAL;
	if (r->forked)
		return -ECHILD;
	if (rl_size_check(r)) /* H13: an fstat, to see a shrunk file */
		return -EIO;
	memset(st, 0, sizeof(*st));
	st->slot_size = r->geo.slot_size;
	st->slot_count = r->geo.slot_count;
	st->capacity = st->slot_size * st->slot_count;
	st->max_message = r->geo.max_message;
	st->full_policy = r->geo.full_policy;
	st->flags = r->geo.flags;
	st->created_ns = r->geo.created_ns;
	st->version = r->geo.version;
	st->hdr_size = r->geo.hdr_size;
	st->file_size = r->geo.file_size;
	st->tail = load_acquire(&h->tail);
	st->recovered = load_relaxed(&h->recovered);
	st->committed = load_relaxed(&h->retired_committed);
	st->aborted = load_relaxed(&h->retired_aborted);
	st->dropped = load_relaxed(&h->retired_dropped);
	st->min_cursor = st->tail;
	for (uint32_t i = 0; i < r->geo.groups; i++) {
		const struct rl_group *g = &r->groups[i];
		uint64_t c;

		if (load_acquire(&g->state) != RL_GROUP_ACTIVE)
			continue;
		st->groups++;
		c = load_acquire(&g->cursor);
		if (pos_diff(c, st->min_cursor) < 0)
			st->min_cursor = c;
	}
	for (uint32_t i = 0; i < r->geo.procs; i++) {
		const struct rl_proc *e = &r->procs[i];
		uint32_t role;

		/* A4: pairs with R4 in rl_entry_alloc(). */
		if (load_acquire(&e->state) != RL_PROC_USED)
			continue;
		st->committed += load_relaxed(&e->committed);
		st->aborted += load_relaxed(&e->aborted);
		st->dropped += load_relaxed(&e->dropped);
		if (r->fd < 0 || !rl_entry_alive(r, i))
			continue;
		role = load_relaxed(&e->role);
		st->processes++;
		if (role & RL_ROLE_PRODUCER)
			st->producers++;
		if (role & RL_ROLE_READER)
			st->readers++;
	}
	return rl_broken(r) ? -EIO : 0;
}

/* Committed messages between @from and @tail, walking their headers. */
static uint64_t count_messages(struct ring *r, uint64_t from, uint64_t tail)
{
	uint64_t n = 0, p = from;

	if (pos_diff(tail, p) > (int64_t)r->geo.slot_count)
		return 0;
	while (pos_diff(tail, p) > 0) {
		struct ring_msg m;
		int rc = rl_message_at(r, p, &m);

		if (rc != AT_MESSAGE && rc != AT_SKIP)
			break;
		n += rc == AT_MESSAGE;
		p += m.slots;
	}
	return n;
}

int ring_group_stats(struct ring *r, const char *name,
		     struct ring_group_stats *st)
{
	const struct rl_group *g;
	uint64_t tail;
	int gi;

	if (!st || rl_group_name_ok(name))
		return -EINVAL;
	if (r->forked)
		return -ECHILD;
	if (rl_broken(r))
		return -EIO;
	gi = rl_group_find(r, name);
	if (gi < 0)
		return gi;
	g = &r->groups[gi];
	memset(st, 0, sizeof(*st));
	memcpy(st->name, g->name, RING_GROUP_NAME_MAX);
	/* Room a single producer's run holds beyond its messages is no lag. */
	tail = rl_newest_start(r, load_acquire(&r->hot->tail), true);
	st->cursor = load_acquire(&g->cursor);
	st->released = load_relaxed(&g->released);
	st->lag_slots = pos_diff(tail, st->cursor) > 0 ? tail - st->cursor : 0;
	st->lag_bytes = st->lag_slots * r->geo.slot_size;
	st->lag_messages = count_messages(r, st->cursor, tail);
	st->reader_pid = (pid_t)load_relaxed(&g->reader_pid);
	st->reader_alive = 0;
	for (struct ring_reader *rd = r->readers; rd; rd = rd->next)
		if (rd->gidx == (uint32_t)gi)
			st->reader_alive = 1;
	if (load_relaxed(&g->mode) == RL_GROUP_SHARED) {
		/* Members count on their seats, readers alive are seats. */
		st->released = rl_shared_released(r, (uint32_t)gi);
		if (!st->reader_alive && r->fd >= 0)
			st->reader_alive = rl_shared_alive(r, (uint32_t)gi);
		return 0;
	}
	if (!st->reader_alive && r->fd >= 0)
		st->reader_alive = rl_group_lease_alive(r, (uint32_t)gi);
	return 0;
}

int ring_proc_list(struct ring *r, struct ring_proc_info *out, unsigned max)
{
	unsigned n = 0;

	if (r->forked)
		return -ECHILD;
	if (rl_broken(r))
		return -EIO;
	if (max && !out)
		return -EINVAL;
	for (uint32_t i = 0; i < r->geo.procs; i++) {
		const struct rl_proc *e = &r->procs[i];
		struct ring_proc_info *pi;
		uint32_t g;

		/* A4: pairs with R4 in rl_entry_alloc(). */
		if (load_acquire(&e->state) != RL_PROC_USED)
			continue;
		if (n >= max) {
			n++;
			continue;
		}
		pi = &out[n++];
		memset(pi, 0, sizeof(*pi));
		pi->pid = (pid_t)load_relaxed(&e->pid);
		pi->tid = (pid_t)load_relaxed(&e->tid);
		pi->role = load_relaxed(&e->role);
		pi->alive = r->fd >= 0 && rl_entry_alive(r, i);
		pi->claim_open = (load_relaxed(&e->claim_state) &
				  RL_CLAIM_MASK) != RL_CLAIM_NONE;
		pi->committed = load_relaxed(&e->committed);
		pi->aborted = load_relaxed(&e->aborted);
		pi->dropped = load_relaxed(&e->dropped);
		pi->attach_ns = load_relaxed(&e->attach_ns);
		g = load_relaxed(&e->group);
		if ((pi->role & RL_ROLE_READER) && g < r->geo.groups)
			memcpy(pi->group, r->groups[g].name, RING_GROUP_NAME_MAX);
	}
	return (int)n;
}

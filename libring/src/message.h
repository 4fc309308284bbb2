/* SPDX-License-Identifier: MIT */
/*
 * message.h - what is at a position of the ring, checked as hostile (H3):
 * the reading loops of consume.c and shared.c inline it.
 */
#ifndef LIBRING_MESSAGE_H
#define LIBRING_MESSAGE_H

#include <string.h>

#include "internal.h"

/*
 * What is at position @c: AT_NOTHING (not committed), AT_MESSAGE (@m filled
 * in), AT_SKIP (@m->slots to pass over), or -EBADMSG.
 */
static __attribute__((always_inline)) inline int
message_at(struct ring *r, uint64_t c, struct ring_msg *m)
{
	const struct rl_msg_hdr *h;
	uint32_t len, flags;

	/* A1: pairs with R1 in publish_commit(): the header and payload are
	 * complete. The value is unique to c, so stale bytes never match. */
	if (load_acquire(&r->commit[c & r->mask]) != c + 1)
		return AT_NOTHING;
	h = (const struct rl_msg_hdr *)rl_slot(r, c);
	len = load_relaxed(&h->len);
	flags = load_relaxed(&h->flags);
	if (flags & RL_HDR_SKIP) {
		if (flags != RL_HDR_SKIP || len == 0 || len > r->geo.slot_count)
			return -EBADMSG;
		m->slots = len;
		return AT_SKIP;
	}
	if (flags || len > r->geo.max_message)
		return -EBADMSG;
	m->data = (const uint8_t *)h + r->geo.hdr_size;
	m->len = len;
	m->type = load_relaxed(&h->type);
	m->pid = load_relaxed(&h->pid);
	m->pos = c;
	m->slots = rl_msg_slots(r, len);
	m->timestamp = 0;
	if (r->geo.hdr_size == RL_HDR_SIZE_TS)
		memcpy(&m->timestamp, (const uint8_t *)h + RL_HDR_SIZE,
		       sizeof(m->timestamp));
	return AT_MESSAGE;
}

#endif /* LIBRING_MESSAGE_H */

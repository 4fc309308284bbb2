// SPDX-License-Identifier: MIT
/*
 * ship_nats_pub.c - the window of ring-ship --nats: messages published to
 * JetStream and not yet released in the ring, by ordinal (the n-th message
 * since start), each waiting for its acknowledgment, acknowledged, or
 * waiting to be published (again).
 *
 * Each message goes out as a core NATS publish (natsConnection_PublishMsg)
 * with the reply subject INBOX.ORDINAL; JetStream answers there, and the
 * main thread takes the answers from the link's synchronous subscription
 * (nats_window_collect), so the window has one owner and no lock. The
 * message object lives only for the publish: cnats copies it into its
 * buffer. This is what cnats' asynchronous JetStream publish does, without
 * its map of pending replies, its handler thread and a parsed jsPubAck
 * per message, which cost ring-ship 4-6 us of its 10-14 us per message.
 *
 * A message with no answer within --ack-timeout, or refused for a passing
 * reason (no responders, cluster not ready), is published again from the
 * ring, with the same Nats-Msg-Id. A stored answer is taken whenever it
 * comes, even after the entry was marked for publishing again: the stream
 * has the message either way.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"
#include "ship_nats_ack.h"
#include "ship_nats_int.h"

/* After a passing refusal, wait this long before publishing again. */
#define RETRY_PAUSE_NS (200 * 1000000ll)

/* Room kept for the headers when comparing with the max payload. */
#define HEADER_ROOM 256

int nats_window_init(struct nats_window *w, const struct ship_nats_config *c,
		     struct nats_link *l, uint64_t ring_id)
{
	unsigned cap = 1;

	memset(w, 0, sizeof(*w));
	while (cap < c->max_pending)
		cap *= 2;
	w->cap = cap;
	w->limit = c->max_pending;
	w->mask = cap - 1;
	w->pos = calloc(cap, sizeof(*w->pos));
	w->sent_ns = calloc(cap, sizeof(*w->sent_ns));
	w->state = calloc(cap, sizeof(*w->state));
	if (!w->pos || !w->sent_ns || !w->state) {
		nats_window_free(w);
		return -ENOMEM;
	}
	w->cfg = c;
	w->link = l;
	w->ring_id = ring_id;
	return 0;
}

void nats_window_free(struct nats_window *w)
{
	free(w->pos);
	free(w->sent_ns);
	free(w->state);
	w->pos = NULL;
	w->sent_ns = NULL;
	w->state = NULL;
}

/* Entry @ord is done (acked or dropped). */
static void mark_done(struct nats_window *w, uint64_t ord, int state)
{
	uint8_t *st = &w->state[ord & w->mask];

	*st = (uint8_t)((*st & W_SENT_BEFORE) | state);
	w->done++;
	w->settled++;
}

/* Entry @ord goes out again (keeping whether it went out before). */
static void mark_unsent(struct nats_window *w, uint64_t ord)
{
	uint8_t *st = &w->state[ord & w->mask];

	*st = (uint8_t)((*st & W_SENT_BEFORE) | W_UNSENT);
	w->resend = 1;
}

/* Remember the first refusal for the summary. */
static void note_reject(struct nats_window *w, uint64_t pos, const char *what)
{
	char clean[160];

	if (w->first_reject[0])
		return;
	nats_scrub(w->cfg, what, clean, sizeof(clean));
	snprintf(w->first_reject, sizeof(w->first_reject),
		 "position %" PRIu64 ": %s", pos, clean);
	cli_error("nats: message at position %" PRIu64 " not shipped: %s "
		  "(counted; later ones are counted only)", pos, clean);
}

/* @v in decimal at @p; returns the end. */
static char *put_dec(char *p, uint64_t v)
{
	char tmp[20];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

/* The ring id in hex at @p (16 digits); returns the end. */
static char *put_hex16(char *p, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	int i;

	for (i = 15; i >= 0; i--)
		*p++ = digits[(v >> (4 * i)) & 15];
	return p;
}

/*
 * The message to publish for @m, ordinal @ord, with its reply subject
 * INBOX.ORD and its headers: Nats-Msg-Id "RINGID:POS" (the ring's id in
 * 16 hex digits, the position in decimal), Ring-Pid, and Ring-Type unless
 * the type is 0. Every header costs cnats a handful of allocations per
 * message, so the position is not repeated in a header of its own.
 */
static natsStatus make_message(struct nats_window *w, const struct ring_msg *m,
			       uint64_t ord, natsMsg **out)
{
	const struct nats_link *l = w->link;
	char reply[sizeof(l->inbox) + 24], id[48], type[16], pid[16], *e;
	natsStatus s;

	memcpy(reply, l->inbox, l->inbox_len);
	reply[l->inbox_len] = '.';
	*put_dec(reply + l->inbox_len + 1, ord) = '\0';
	e = put_hex16(id, w->ring_id);
	*e++ = ':';
	*put_dec(e, m->pos) = '\0';
	*put_dec(pid, m->pid) = '\0';
	s = natsMsg_Create(out, w->cfg->subject, reply, m->data, (int)m->len);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(*out, "Nats-Msg-Id", id);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(*out, "Ring-Pid", pid);
	if (s == NATS_OK && m->type) {
		*put_dec(type, m->type) = '\0';
		s = natsMsgHeader_Set(*out, "Ring-Type", type);
	}
	return s;
}

/* Drop entry @ord as too large for the server. */
static void drop_too_large(struct nats_window *w, const struct ring_msg *m,
			   uint64_t ord)
{
	char what[96];

	snprintf(what, sizeof(what), "%" PRIu32 " bytes, more than the "
		 "server's max payload (%" PRId64 ")", m->len,
		 w->link->max_payload);
	w->cnt.too_large++;
	note_reject(w, m->pos, what);
	mark_done(w, ord, W_DROPPED);
}

int nats_window_send(struct nats_window *w, const struct ring_msg *m,
		     uint64_t ord)
{
	uint8_t *st = &w->state[ord & w->mask];
	natsMsg *msg = NULL;
	natsStatus s;
	int again;

	if (ord == w->tail) {
		w->pos[ord & w->mask] = m->pos;
		*st = W_UNSENT;
		w->tail++;
	}
	if ((int64_t)m->len + HEADER_ROOM > w->link->max_payload) {
		drop_too_large(w, m, ord);
		return 1;
	}
	s = make_message(w, m, ord, &msg);
	if (s == NATS_OK)
		s = natsConnection_PublishMsg(w->link->nc, msg);
	/* cnats copied it into its buffer (or failed): ours to free. */
	natsMsg_Destroy(msg);
	if (s == NATS_MAX_PAYLOAD) {
		drop_too_large(w, m, ord);
		return 1;
	}
	if (s != NATS_OK) {
		/* Disconnected, out of memory: stays unsent. */
		w->resend = 1;
		return 0;
	}
	again = *st & W_SENT_BEFORE;
	*st = W_PENDING | W_SENT_BEFORE;
	w->sent_ns[ord & w->mask] = nats_now_ns();
	if (again) {
		w->cnt.resent++;
	} else {
		w->cnt.shipped++;
		w->cnt.bytes += m->len;
	}
	return 1;
}

int nats_window_unsent(struct nats_window *w, uint64_t ord)
{
	return (w->state[ord & w->mask] & W_STATE) == W_UNSENT;
}

/* The ordinal an answer on @subject is for: 1 with *@ord if @subject is
 * INBOX.N, else 0. */
static int answer_ordinal(const struct nats_window *w, const char *subject,
			  uint64_t *ord)
{
	const struct nats_link *l = w->link;
	const char *p;
	uint64_t o = 0;

	if (!subject || strncmp(subject, l->inbox, l->inbox_len) ||
	    subject[l->inbox_len] != '.')
		return 0;
	p = subject + l->inbox_len + 1;
	if (!*p)
		return 0;
	for (; *p; p++) {
		if (*p < '0' || *p > '9' || o > UINT64_MAX / 10)
			return 0;
		o = o * 10 + (uint64_t)(*p - '0');
	}
	*ord = o;
	return 1;
}

/* Apply JetStream's answer @msg to its entry. */
static void take_answer(struct nats_window *w, natsMsg *msg)
{
	struct nats_ack a;
	uint8_t *st;
	uint64_t o;
	int state;

	if (!answer_ordinal(w, natsMsg_GetSubject(msg), &o))
		return; /* not ours */
	nats_ack_parse(natsMsg_GetData(msg),
		       (size_t)natsMsg_GetDataLength(msg), &a);
	/* Every duplicate the server reports counts, also one answering a
	 * copy published again after a timeout, whose entry may be gone. */
	if (a.kind == NATS_ACK_STORED)
		w->cnt.duplicates += (uint64_t)a.duplicate;
	if ((int64_t)(o - w->head) < 0 || (int64_t)(w->tail - o) <= 0)
		return; /* released already */
	st = &w->state[o & w->mask];
	state = *st & W_STATE;
	if (a.kind == NATS_ACK_STORED) {
		/* Pending, or marked to go again: stored either way. */
		if (state == W_PENDING ||
		    (state == W_UNSENT && (*st & W_SENT_BEFORE))) {
			w->cnt.acked++;
			mark_done(w, o, W_ACKED);
		}
	} else if (state != W_PENDING) {
		/* A refusal of an earlier copy: the entry moved on. */
	} else if (a.kind == NATS_ACK_GARBLED || nats_ack_transient(&a)) {
		mark_unsent(w, o);
		w->retry_after = nats_now_ns() + RETRY_PAUSE_NS;
	} else {
		if (a.err_code == NATS_ACK_TOO_LARGE)
			w->cnt.too_large++;
		else
			w->cnt.rejected++;
		note_reject(w, w->pos[o & w->mask],
			    a.text[0] ? a.text : "refused by JetStream");
		mark_done(w, o, W_DROPPED);
	}
}

/* Entries waiting longer than --ack-timeout go out again. */
static void expire_overdue(struct nats_window *w, int64_t now)
{
	int64_t timeout = w->cfg->ack_timeout * 1000000ll;
	uint64_t o;

	if (now < w->next_expiry)
		return;
	w->next_expiry = now + timeout / 8;
	for (o = w->head; o != w->tail; o++)
		if ((w->state[o & w->mask] & W_STATE) == W_PENDING &&
		    now - w->sent_ns[o & w->mask] >= timeout)
			mark_unsent(w, o);
}

void nats_window_collect(struct nats_window *w, unsigned n, int64_t ms)
{
	natsSubscription *acks = w->link->acks;
	int64_t end = nats_now_ns() + ms * 1000000ll, left, wait;
	uint64_t queued, settled = w->settled;
	natsMsg *msg;
	natsStatus s;

	for (;;) {
		wait = 0;
		if (ms > 0 && w->settled - settled < n) {
			left = end - nats_now_ns();
			if (left > 0)
				wait = (left + 999999) / 1000000;
		}
		if (!wait) {
			/* Only what has arrived. */
			queued = 0;
			if (natsSubscription_QueuedMsgs(acks, &queued) !=
			    NATS_OK || !queued)
				break;
			wait = 1; /* one is there: returns at once */
		}
		msg = NULL;
		s = natsSubscription_NextMsg(&msg, acks, wait);
		if (s == NATS_OK) {
			take_answer(w, msg);
			natsMsg_Destroy(msg);
		} else if (s == NATS_NO_RESPONDERS) {
			/* No stream listens (yet): everything pending
			 * meets the same; all of it goes again, later. */
			nats_window_requeue(w);
			w->retry_after = nats_now_ns() + RETRY_PAUSE_NS;
		} else if (s != NATS_TIMEOUT) {
			break; /* closed: the reconnect requeues */
		}
	}
	expire_overdue(w, nats_now_ns());
}

unsigned nats_window_take_done(struct nats_window *w)
{
	unsigned n = 0;
	uint8_t st;

	while (w->head != w->tail) {
		st = w->state[w->head & w->mask] & W_STATE;
		if (st != W_ACKED && st != W_DROPPED)
			break;
		w->head++;
		w->done--;
		n++;
	}
	w->cnt.released += n;
	return n;
}

void nats_window_requeue(struct nats_window *w)
{
	uint64_t o;

	for (o = w->head; o != w->tail; o++)
		if ((w->state[o & w->mask] & W_STATE) == W_PENDING)
			mark_unsent(w, o);
}

void nats_window_counters(struct nats_window *w, struct nats_counters *out)
{
	*out = w->cnt;
}

// SPDX-License-Identifier: MIT
/*
 * ship_nats_pub.c - the window of ring-ship --nats: messages published to
 * JetStream and not yet released in the ring, by ordinal (the n-th message
 * since start), each waiting for its acknowledgment, acknowledged, or
 * waiting to be published (again).
 *
 * The main thread appends and publishes; cnats' delivery thread reports
 * acknowledgments (nats_on_ack). Both hold w->mu while they touch an
 * entry. The window keeps each entry's natsMsg until the entry is released
 * or published again: the handler finds the entry by it (acknowledgments
 * come nearly in order, so w->hint finds it at once), and the main thread
 * frees it, which keeps malloc's per-thread caches warm (a message freed
 * by cnats' thread would leave the main thread's cache empty). A message with no
 * acknowledgment within --ack-timeout (cnats reports NATS_TIMEOUT), or
 * refused for a passing reason (no responders, cluster not ready), is
 * published again from the ring, with the same Nats-Msg-Id.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ring.h"
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
	w->state = calloc(cap, sizeof(*w->state));
	w->msg = calloc(cap, sizeof(*w->msg));
	if (!w->pos || !w->state || !w->msg) {
		free(w->pos);
		free(w->state);
		free(w->msg);
		return -ENOMEM;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->cfg = c;
	w->link = l;
	w->ring_id = ring_id;
	return 0;
}

void nats_window_free(struct nats_window *w)
{
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cond);
	free(w->pos);
	free(w->state);
	free(w->msg);
}

/* The ordinal in [head, tail) holding @msg, or tail. Under mu. */
static uint64_t find_ordinal(struct nats_window *w, const natsMsg *msg)
{
	uint64_t o;

	if ((int64_t)(w->hint - w->head) >= 0 &&
	    (int64_t)(w->tail - w->hint) > 0 &&
	    w->msg[w->hint & w->mask] == msg)
		return w->hint;
	for (o = w->head; o != w->tail; o++)
		if (w->msg[o & w->mask] == msg)
			return o;
	return w->tail;
}

/* Entry @ord is done (acked or dropped). Under mu. */
static void mark_done(struct nats_window *w, uint64_t ord, int state)
{
	uint8_t *st = &w->state[ord & w->mask];

	*st = (uint8_t)((*st & W_SENT_BEFORE) | state);
	w->done++;
	if (w->wake_at && w->done >= w->wake_at)
		pthread_cond_signal(&w->cond);
}

/* Remember the first refusal for the summary. Under mu. */
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

/* 1 if the refusal @pae may pass when the message is published again. */
static int transient(const jsPubAckErr *pae)
{
	if (pae->ErrCode == JSClusterNotAvailErr ||
	    pae->ErrCode == JSInsufficientResourcesErr)
		return 1;
	if (pae->ErrCode)
		return 0;
	return pae->Err != NATS_MAX_PAYLOAD && pae->Err != NATS_NOT_PERMITTED;
}

void nats_on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae,
		 void *closure)
{
	struct nats_window *w = closure;
	uint64_t ord;
	uint8_t *st;

	pthread_mutex_lock(&w->mu);
	ord = find_ordinal(w, msg);
	if (ord == w->tail) {
		/* Not ours any more (taken back after a reconnect). */
		pthread_mutex_unlock(&w->mu);
		natsMsg_Destroy(msg);
		return;
	}
	w->hint = ord + 1;
	st = &w->state[ord & w->mask];
	if ((*st & W_STATE) != W_PENDING) {
		/* An answer to an earlier copy: the entry moved on. */
	} else if (pa) {
		w->cnt.acked++;
		w->cnt.duplicates += pa->Duplicate;
		mark_done(w, ord, W_ACKED);
	} else if (!pae || transient(pae)) {
		*st = (uint8_t)((*st & W_SENT_BEFORE) | W_UNSENT);
		if (pae && pae->Err != NATS_TIMEOUT)
			w->retry_after = nats_now_ns() + RETRY_PAUSE_NS;
		if (w->wake_at)
			pthread_cond_signal(&w->cond);
	} else {
		if (pae->ErrCode == JSStreamMessageExceedsMaximumErr)
			w->cnt.too_large++;
		else
			w->cnt.rejected++;
		note_reject(w, w->pos[ord & w->mask],
			    pae->ErrText ? pae->ErrText :
					   natsStatus_GetText(pae->Err));
		mark_done(w, ord, W_DROPPED);
	}
	/* The message stays in w->msg: the main thread frees it. */
	pthread_mutex_unlock(&w->mu);
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
 * The message to publish for @m, with its headers: Nats-Msg-Id
 * "RINGID:POS" (the ring's id in 16 hex digits, the position in decimal),
 * Ring-Pid, and Ring-Type unless the type is 0. Every header costs cnats
 * a handful of allocations per message, so the position is not repeated
 * in a header of its own.
 */
static natsStatus make_message(struct nats_window *w, const struct ring_msg *m,
			       natsMsg **out)
{
	char id[48], type[16], pid[16], *e;
	natsStatus s;

	e = put_hex16(id, w->ring_id);
	*e++ = ':';
	*put_dec(e, m->pos) = '\0';
	*put_dec(pid, m->pid) = '\0';
	s = natsMsg_Create(out, w->cfg->subject, NULL, m->data, (int)m->len);
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
	pthread_mutex_lock(&w->mu);
	w->cnt.too_large++;
	note_reject(w, m->pos, what);
	mark_done(w, ord, W_DROPPED);
	pthread_mutex_unlock(&w->mu);
}

int nats_window_send(struct nats_window *w, const struct ring_msg *m,
		     uint64_t ord)
{
	uint8_t *st = &w->state[ord & w->mask];
	natsMsg **slot = &w->msg[ord & w->mask];
	natsMsg *msg = NULL, *old, *give;
	jsPubOptions po;
	natsStatus s;
	int again;

	if ((int64_t)m->len + HEADER_ROOM > w->link->max_payload) {
		pthread_mutex_lock(&w->mu);
		if (ord == w->tail) {
			w->pos[ord & w->mask] = m->pos;
			*st = W_UNSENT;
			w->tail++;
		}
		pthread_mutex_unlock(&w->mu);
		drop_too_large(w, m, ord);
		return 1;
	}
	s = make_message(w, m, &msg);
	if (s != NATS_OK) {
		natsMsg_Destroy(msg);
		return 0;
	}
	pthread_mutex_lock(&w->mu);
	if (ord == w->tail) {
		w->pos[ord & w->mask] = m->pos;
		*st = W_UNSENT;
		w->tail++;
	}
	again = *st & W_SENT_BEFORE;
	*st = W_PENDING | W_SENT_BEFORE;
	old = *slot;
	*slot = msg;
	pthread_mutex_unlock(&w->mu);
	natsMsg_Destroy(old); /* the copy sent before, back from cnats */

	jsPubOptions_Init(&po);
	po.MaxWait = w->cfg->ack_timeout;
	give = msg;
	s = js_PublishMsgAsync(w->link->js, &give, &po);
	if (s == NATS_MAX_PAYLOAD) {
		drop_too_large(w, m, ord);
		return 1;
	}
	if (s != NATS_OK) {
		/* Not sent (disconnected, buffer full): try again later. */
		pthread_mutex_lock(&w->mu);
		if ((*st & W_STATE) == W_PENDING)
			*st = (uint8_t)(again | W_UNSENT);
		pthread_mutex_unlock(&w->mu);
		return 0;
	}
	pthread_mutex_lock(&w->mu);
	if (again) {
		w->cnt.resent++;
	} else {
		w->cnt.shipped++;
		w->cnt.bytes += m->len;
	}
	pthread_mutex_unlock(&w->mu);
	return 1;
}

int nats_window_unsent(struct nats_window *w, uint64_t ord)
{
	int rc;

	pthread_mutex_lock(&w->mu);
	rc = (w->state[ord & w->mask] & W_STATE) == W_UNSENT &&
	     nats_now_ns() >= w->retry_after;
	pthread_mutex_unlock(&w->mu);
	return rc;
}

unsigned nats_window_take_done(struct nats_window *w)
{
	uint64_t first, o;
	unsigned n = 0;
	uint8_t st;

	pthread_mutex_lock(&w->mu);
	first = w->head;
	while (w->head != w->tail) {
		st = w->state[w->head & w->mask] & W_STATE;
		if (st != W_ACKED && st != W_DROPPED)
			break;
		w->head++;
		w->done--;
		n++;
	}
	w->cnt.released += n;
	pthread_mutex_unlock(&w->mu);
	/* Out of the window: cnats is done with them, nobody looks. */
	for (o = first; o != first + n; o++) {
		natsMsg_Destroy(w->msg[o & w->mask]);
		w->msg[o & w->mask] = NULL;
	}
	return n;
}

void nats_window_wait(struct nats_window *w, unsigned n, int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->mu);
	w->wake_at = n ? n : 1;
	while (w->done < w->wake_at &&
	       pthread_cond_timedwait(&w->cond, &w->mu, &ts) == 0) {
		/* A passing refusal wakes us too: something to resend. */
		if (nats_now_ns() >= w->retry_after) {
			uint64_t o;

			for (o = w->head; o != w->tail; o++)
				if ((w->state[o & w->mask] & W_STATE) ==
				    W_UNSENT)
					goto out;
		}
	}
out:
	w->wake_at = 0;
	pthread_mutex_unlock(&w->mu);
}

void nats_window_requeue(struct nats_window *w)
{
	natsMsgList list = { NULL, 0 };
	uint64_t o;
	uint8_t *st;
	int i;

	/* cnats 3.4 crashes on a context that never published. */
	if (!w->cnt.shipped)
		return;
	/* The messages are the window's: clear them from the list. */
	if (js_PublishAsyncGetPendingList(&list, w->link->js) == NATS_OK) {
		for (i = 0; i < list.Count; i++)
			list.Msgs[i] = NULL;
		natsMsgList_Destroy(&list);
	}
	pthread_mutex_lock(&w->mu);
	for (o = w->head; o != w->tail; o++) {
		st = &w->state[o & w->mask];
		if ((*st & W_STATE) == W_PENDING)
			*st = (uint8_t)((*st & W_SENT_BEFORE) | W_UNSENT);
	}
	pthread_mutex_unlock(&w->mu);
}

void nats_window_reclaim(struct nats_window *w)
{
	uint64_t o;

	nats_window_requeue(w);
	for (o = w->head; o != w->tail; o++) {
		natsMsg_Destroy(w->msg[o & w->mask]);
		w->msg[o & w->mask] = NULL;
	}
}

void nats_window_counters(struct nats_window *w, struct nats_counters *out)
{
	pthread_mutex_lock(&w->mu);
	*out = w->cnt;
	pthread_mutex_unlock(&w->mu);
}

/* SPDX-License-Identifier: MIT */
/*
 * ship_nats_int.h - what the parts of ring-ship --nats share: the link to
 * the servers (ship_nats_conn.c) and the window of published, not yet
 * released messages (ship_nats_pub.c). Only built with cnats.
 */
#ifndef LIBRING_CONSUMERS_SHIP_NATS_INT_H
#define LIBRING_CONSUMERS_SHIP_NATS_INT_H

#include <nats/nats.h>
#include <stdint.h>

#include "ship_nats.h"

struct ring_msg;

/*
 * The connection, the JetStream context (for the stream's lookup and
 * creation) and the stream, and the subscription on which the answers to
 * our publishes arrive: subject INBOX.ORDINAL for each, taken by the main
 * thread (a synchronous subscription: no delivery thread, no hand-over).
 */
struct nats_link {
	const struct ship_nats_config *cfg;
	natsOptions *opts;
	natsConnection *nc;
	jsCtx *js;
	natsSubscription *acks;	/* INBOX.* */
	char inbox[64];		/* _INBOX.<unique id> */
	size_t inbox_len;
	char stream[256];
	int64_t max_payload;
	char **urls;		/* --nats split at commas */
	int n_urls;
	int reconnected;	/* set by cnats' thread; atomic */
	int closing;		/* set before our own close; atomic */
	int closed;		/* set by the closed callback; atomic */
	uint64_t reconnects;	/* atomic */
};

/*
 * nats_link_connect - connect to one of the servers of @c (retrying with
 * back-off until --connect-timeout, or forever, or until *@stop), find or
 * create the stream, and subscribe to the answers' inbox. Returns 0, or
 * -1 after printing one line.
 */
int nats_link_connect(struct nats_link *l, const struct ship_nats_config *c,
		      volatile sig_atomic_t *stop);

/*
 * nats_link_connected - 1 while the connection is up.
 */
int nats_link_connected(struct nats_link *l);

/*
 * nats_link_shutdown - close the connection (no more acknowledgments).
 */
void nats_link_shutdown(struct nats_link *l);

/*
 * nats_link_close - close the connection and free the link.
 */
void nats_link_close(struct nats_link *l);

/*
 * nats_scrub - @text with every secret of @c (password, token) replaced by
 * "***" and cnats' "(file.c:LINE): " prefix cut off, into @buf. Returns
 * @buf.
 */
const char *nats_scrub(const struct ship_nats_config *c, const char *text,
		       char *buf, size_t len);

/*
 * nats_last_error - the text of cnats' last error on this thread (or of
 * @s), scrubbed of secrets, in @buf. Returns @buf.
 */
const char *nats_last_error(const struct ship_nats_config *c, natsStatus s,
			    char *buf, size_t len);

/* Counters of a run (see ship_nats_run). */
struct nats_counters {
	uint64_t shipped;	/* messages published (once each) */
	uint64_t bytes;		/* their payload bytes */
	uint64_t acked;		/* acknowledged by JetStream */
	uint64_t duplicates;	/* answers calling a message a duplicate */
	uint64_t too_large;	/* over the max payload: not shipped */
	uint64_t rejected;	/* refused by JetStream for good */
	uint64_t resent;	/* published again (no ack in time, reconnect) */
	uint64_t released;	/* released in the ring */
};

/*
 * Published, unreleased messages, in ring order, by ordinal (the n-th
 * message since start). Only the main thread touches it: acknowledgments
 * are taken from the link's synchronous subscription (nats_window_collect).
 */
struct nats_window {
	uint64_t head;		/* ordinal of the oldest unreleased message */
	uint64_t tail;		/* ordinal after the newest */
	uint64_t mask;		/* capacity - 1 */
	unsigned cap;		/* a power of two >= --max-pending */
	unsigned limit;		/* --max-pending */
	uint64_t *pos;		/* ring position of each ordinal */
	int64_t *sent_ns;	/* when it was last published (monotonic) */
	uint8_t *state;		/* W_* of each ordinal */
	unsigned done;		/* acked or dropped in [head, tail) */
	uint64_t settled;	/* entries that became done, ever */
	int resend;		/* an entry may wait to go out again */
	int64_t retry_after;	/* CLOCK_MONOTONIC ns: no resend before */
	int64_t next_expiry;	/* next look for acknowledgments overdue */
	uint64_t ring_id;	/* the ring's creation time (ns) */
	const struct ship_nats_config *cfg;
	struct nats_link *link;
	struct nats_counters cnt;
	char first_reject[200]; /* the first refusal, for the summary */
};

/* States of a window entry; W_SENT_BEFORE is or-ed in once published. */
enum { W_UNSENT, W_PENDING, W_ACKED, W_DROPPED, W_STATE = 3, W_SENT_BEFORE = 4 };

/*
 * nats_window_init - a window for --max-pending messages of the ring whose
 * creation time is @ring_id. Returns 0 or -ENOMEM.
 */
int nats_window_init(struct nats_window *w, const struct ship_nats_config *c,
		     struct nats_link *l, uint64_t ring_id);

void nats_window_free(struct nats_window *w);

/*
 * nats_window_send - publish @m, the message of ordinal @ord (appended to
 * the window when @ord is its tail). Returns 1 if published or dropped
 * (too large), 0 if it cannot go now (left unsent, for later).
 */
int nats_window_send(struct nats_window *w, const struct ring_msg *m,
		     uint64_t ord);

/*
 * nats_window_unsent - 1 if ordinal @ord waits to be published (again).
 * The caller looks at w->resend (set whenever an entry becomes unsent)
 * and w->retry_after (no resend before) first.
 */
int nats_window_unsent(struct nats_window *w, uint64_t ord);

/*
 * nats_window_collect - take every acknowledgment that has arrived; with
 * @ms > 0, wait until the answers taken made @n more entries done, or @ms
 * is over. Entries whose answer is overdue (--ack-timeout) become unsent.
 */
void nats_window_collect(struct nats_window *w, unsigned n, int64_t ms);

/*
 * nats_window_take_done - the number of messages from the head that are
 * acknowledged or dropped; the head moves past them (the caller releases
 * them in the ring).
 */
unsigned nats_window_take_done(struct nats_window *w);

/*
 * nats_window_requeue - after a reconnect (or an answer that nobody
 * listens on the subject): mark every entry still waiting for its
 * acknowledgment unsent, so that it goes out again, in order, before
 * newer messages, under the same Nats-Msg-Id.
 */
void nats_window_requeue(struct nats_window *w);

/*
 * nats_window_counters - a copy of the counters.
 */
void nats_window_counters(struct nats_window *w, struct nats_counters *out);

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t nats_now_ns(void);

#endif /* LIBRING_CONSUMERS_SHIP_NATS_INT_H */

// SPDX-License-Identifier: MIT
/*
 * ship_nats.c - ring-ship --nats: the loop that reads the group and feeds
 * the window (ship_nats_pub.c), releases what JetStream acknowledged, and
 * prints the counters.
 *
 * The group's messages are looked at in place with ring_peek_batch(), which
 * always starts at the cursor: the first (tail - head) messages it returns
 * are those already in the window, the rest are new. Only the acknowledged
 * (or dropped) prefix of the window is released, so a shipper killed at any
 * moment leaves every unacknowledged message in the ring; the next one
 * publishes it again under the same Nats-Msg-Id.
 *
 * That needs the group to itself: a member of a shared group gets only the
 * messages it takes, and another member's would never reach the window.
 * ring-ship.c refuses a shared group before it calls ship_nats_run().
 *
 * Flow control: at most --max-pending messages are unacknowledged; with
 * the window full the loop waits for an eighth of it to be acknowledged
 * (so that it re-reads the window in batches), and what does not fit
 * stays in the ring, where the producers' when-full policy applies.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <urcu/uatomic.h>

#include "ring.h"
#include "ship_nats_int.h"

/* Longest wait for new messages or acknowledgments, in ms. */
#define TICK_MS 50

/* How long new messages may wait while acknowledgments come in, in ms. */
#define WAIT_NEW_MS 2

/* How long a stop waits for what was in the ring to be acknowledged. */
#define DRAIN_MIN_MS 5000

int ship_nats_built_in(void)
{
	return 1;
}

/* Print the counters, as text on standard error or JSON on standard
 * output; @how is "stopped", "counters", ... */
static void print_counters(const struct ship_nats_config *c,
			   struct nats_window *w, const char *stream,
			   struct ring_reader *rd, const char *how)
{
	struct nats_counters k;
	uint64_t unacked;
	struct cli_buf b = { NULL, 0, 0 };

	nats_window_counters(w, &k);
	unacked = k.shipped - k.acked - k.rejected - k.too_large;
	if (k.shipped < k.acked + k.rejected + k.too_large)
		unacked = 0;
	fprintf(stderr, "%s: %s: shipped %" PRIu64 " messages (%" PRIu64
		" bytes) to stream %s, acked %" PRIu64 ", duplicates %" PRIu64
		", too large %" PRIu64 ", rejected %" PRIu64 ", resent %"
		PRIu64 ", reconnects %" PRIu64 "\n", cli_prog, how, k.shipped,
		k.bytes, stream, k.acked, k.duplicates, k.too_large,
		k.rejected, k.resent, uatomic_read(&w->link->reconnects));
	if (!c->json)
		return;
	cli_buf_put(&b, "{\"stream\":", 10);
	cli_buf_json_string(&b, stream, strlen(stream));
	cli_buf_put(&b, ",\"subject\":", 11);
	cli_buf_json_string(&b, c->subject, strlen(c->subject));
	cli_buf_printf(&b, ",\"shipped\":%" PRIu64 ",\"bytes\":%" PRIu64
		       ",\"acked\":%" PRIu64 ",\"duplicates\":%" PRIu64
		       ",\"too_large\":%" PRIu64 ",\"rejected\":%" PRIu64
		       ",\"resent\":%" PRIu64 ",\"unacked\":%" PRIu64
		       ",\"released\":%" PRIu64 ",\"reconnects\":%" PRIu64
		       ",\"cursor\":%" PRIu64 ",\"state\":\"%s\"}\n",
		       k.shipped, k.bytes, k.acked, k.duplicates, k.too_large,
		       k.rejected, k.resent, unacked, k.released,
		       uatomic_read(&w->link->reconnects),
		       ring_reader_position(rd), how);
	fwrite(b.data, 1, b.len, stdout);
	fflush(stdout);
	free(b.data);
}

/* The shipper's loop state. */
struct nats_run {
	const struct ship_nats_config *cfg;
	struct nats_link link;
	struct nats_window win;
	struct ring *r;
	struct ring_reader *rd;
	struct ring_msg *msgs;	/* cap entries, refilled by each peek */
	int draining;
	uint64_t drain_end;	/* the ring's tail when the stop came */
	int64_t drain_deadline;
};

/* Release what is done at the head of the window. Returns 0 or -errno. */
static int release_done(struct nats_run *x)
{
	unsigned k = nats_window_take_done(&x->win);

	return k ? ring_release_n(x->rd, k) : 0;
}

/*
 * Publish what waits in the window (again), then the new messages of
 * msgs[inflight..n). Returns the number published.
 */
static unsigned publish_round(struct nats_run *x, unsigned n,
			      unsigned inflight)
{
	struct nats_window *w = &x->win;
	unsigned i, sent = 0;

	if (!nats_link_connected(&x->link))
		return 0;
	if (w->resend && nats_now_ns() >= w->retry_after) {
		for (i = 0; i < inflight && i < n; i++) {
			if (!nats_window_unsent(w, w->head + i))
				continue;
			if (!nats_window_send(w, &x->msgs[i], w->head + i))
				return sent;
			sent++;
		}
		w->resend = 0; /* a whole pass: nothing left behind */
	}
	for (i = inflight; i < n && i < w->limit; i++) {
		if (x->draining &&
		    (int64_t)(x->msgs[i].pos - x->drain_end) >= 0)
			break;
		if (!nats_window_send(w, &x->msgs[i], w->tail))
			break;
		sent++;
	}
	return sent;
}

/* One round: release, read, publish, wait. Returns 1 to go on, 0 when the
 * drain is over, -1 on a fatal error (printed). */
static int ship_round(struct nats_run *x, volatile sig_atomic_t *stop)
{
	struct nats_window *w = &x->win;
	struct timespec dl;
	struct ring_stats st;
	unsigned inflight, flags = RING_INTR;
	int n, rc;

	/* After a reconnect, what waits for an answer may never get one. */
	if (uatomic_xchg(&x->link.reconnected, 0))
		nats_window_requeue(w);
	nats_window_collect(w, 0, 0);
	rc = release_done(x);
	if (rc < 0) {
		cli_error("release: %s", ring_strerror(rc));
		return -1;
	}
	inflight = (unsigned)(w->tail - w->head);
	if (*stop && !x->draining) {
		x->draining = 1;
		x->drain_end = ring_stats(x->r, &st) == 0 ? st.tail :
			ring_reader_position(x->rd);
		x->drain_deadline = nats_now_ns() + 1000000ll *
			(2 * x->cfg->ack_timeout > DRAIN_MIN_MS ?
			 2 * x->cfg->ack_timeout : DRAIN_MIN_MS);
	}
	if (x->draining) {
		if (!inflight && (int64_t)(ring_reader_position(x->rd) -
					   x->drain_end) >= 0)
			return 0;
		if (nats_now_ns() > x->drain_deadline)
			return 0;
	}

	if (inflight || x->draining)
		flags |= RING_NONBLOCK;
	if (inflight >= w->limit && !w->resend) {
		/* Full, nothing to publish again: no need to look. */
		nats_window_collect(w, w->limit / 8, TICK_MS);
		return 1;
	}
	n = ring_peek_batch(x->rd, x->msgs, w->cap, flags,
			    cli_deadline_after_ms(TICK_MS, &dl));
	if (n == -EBADMSG && !inflight) {
		rc = ring_reader_skip(x->rd);
		cli_error("skipped a corrupt message (%d slots)", rc);
		return rc < 0 ? -1 : 1;
	}
	if (n < 0 && n != -ETIMEDOUT && n != -EINTR && n != -EAGAIN) {
		cli_error("read: %s", ring_strerror(n));
		return -1;
	}
	if (n < 0)
		n = 0;
	if ((unsigned)n < inflight) {
		cli_error("read: the ring returned %d of %u unreleased "
			  "messages", n, inflight);
		return -1;
	}
	/*
	 * Nothing went out: the window is full, or the ring has nothing new.
	 * Wait for a part of the window to be acknowledged, not for each
	 * acknowledgment (a wake-up per message costs more than the message):
	 * an eighth of a full window, a quarter of a partly full one. New
	 * messages wait at most WAIT_NEW_MS meanwhile.
	 */
	if (publish_round(x, (unsigned)n, inflight) == 0 && inflight) {
		if (inflight >= w->limit)
			nats_window_collect(w, w->limit / 8, TICK_MS);
		else
			nats_window_collect(w, inflight / 4, WAIT_NEW_MS);
	}
	return 1;
}

int ship_nats_run(const struct ship_nats_config *c, struct ring *r,
		  struct ring_reader *rd, volatile sig_atomic_t *stop,
		  volatile sig_atomic_t *report)
{
	struct ring_stats st;
	struct nats_run x;
	int rc, status = CLI_EXIT_OK;

	memset(&x, 0, sizeof(x));
	x.cfg = c;
	x.r = r;
	x.rd = rd;
	rc = ring_stats(r, &st);
	if (rc < 0) {
		cli_error("stats: %s", ring_strerror(rc));
		return CLI_EXIT_FAIL;
	}
	if (nats_window_init(&x.win, c, &x.link, st.created_ns) < 0) {
		cli_error("out of memory");
		return CLI_EXIT_FAIL;
	}
	x.msgs = calloc(x.win.cap, sizeof(*x.msgs));
	if (!x.msgs) {
		cli_error("out of memory");
		nats_window_free(&x.win);
		return CLI_EXIT_FAIL;
	}
	if (nats_link_connect(&x.link, c, stop) < 0) {
		nats_link_close(&x.link);
		nats_window_free(&x.win);
		free(x.msgs);
		return CLI_EXIT_FAIL;
	}
	for (;;) {
		if (*report) {
			*report = 0;
			print_counters(c, &x.win, x.link.stream, rd,
				       "counters");
		}
		rc = ship_round(&x, stop);
		if (rc <= 0)
			break;
	}
	if (rc < 0)
		status = CLI_EXIT_FAIL;
	/* Release what was acknowledged until now. */
	nats_window_collect(&x.win, 0, 0);
	release_done(&x);
	nats_link_close(&x.link);
	print_counters(c, &x.win, x.link.stream, rd,
		       rc < 0 ? "stopped by an error" : "stopped");
	nats_window_free(&x.win);
	free(x.msgs);
	return status;
}

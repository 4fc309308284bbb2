/* SPDX-License-Identifier: MIT */
/*
 * transport_zmq.c - ring-bench over ZeroMQ PUSH/PULL sockets on ipc://
 * endpoints: each reader binds a PULL socket, each producer connects one
 * PUSH socket per channel. Contexts are made in the children (a ZeroMQ
 * context does not survive fork). Built only when libzmq is found.
 */
#ifdef HAVE_ZMQ

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "bench.h"

/* Endpoint of channel @ch (a socket file under /tmp). */
static void zmq_channel_endpoint(const struct bench *b, uint32_t ch,
				 char *buf, size_t len)
{
	snprintf(buf, len, "ipc:///tmp/%s-%u.ipc", b->tag, ch);
}

/* Nothing to make before the fork: the readers bind. */
static int zmq_setup(struct bench *b)
{
	b->channels = b->o.rtt ? 2 : b->o.groups;
	return 0;
}

/* Remove the socket files the readers bound. */
static void zmq_teardown(struct bench *b)
{
	char path[128];
	uint32_t i;

	for (i = 0; i < b->channels; i++) {
		snprintf(path, sizeof(path), "/tmp/%s-%u.ipc", b->tag, i);
		unlink(path);
	}
}

/* One endpoint: context, sockets, one message buffer. */
struct zmq_end {
	void *ctx;
	void **socks;
	uint32_t nsock;
	uint32_t size;
	char *buf;
};

/* Close an endpoint's sockets (waiting until sent messages are delivered)
 * and free it. */
static void zmq_end_free(void *st)
{
	struct zmq_end *e = st;
	uint32_t i;

	if (!e)
		return;
	for (i = 0; e->socks && i < e->nsock; i++)
		if (e->socks[i])
			zmq_close(e->socks[i]);
	if (e->ctx)
		zmq_ctx_term(e->ctx);
	free(e->socks);
	free(e->buf);
	free(e);
}

/* Make an endpoint with @n sockets of @type on channels [first, first + n),
 * binding (@bind) or connecting. Returns 0 or -errno. */
static int zmq_end_open(struct bench *b, uint32_t first, uint32_t n, int type,
			int bind, void **st)
{
	struct zmq_end *e = calloc(1, sizeof(*e));
	char ep[128] = "";
	int linger = -1;
	uint32_t i;

	*st = e;
	if (!e)
		return -ENOMEM;
	e->size = b->o.size;
	e->socks = calloc(n, sizeof(*e->socks));
	e->buf = malloc(b->o.size);
	e->ctx = zmq_ctx_new();
	if (!e->socks || !e->buf || !e->ctx)
		return -ENOMEM;
	bench_fill(e->buf, e->size);
	for (i = 0; i < n; i++) {
		int rc;

		zmq_channel_endpoint(b, first + i, ep, sizeof(ep));
		e->socks[i] = zmq_socket(e->ctx, type);
		e->nsock = i + 1;
		if (!e->socks[i])
			goto fail;
		/* Closing waits until every message is delivered. */
		if (zmq_setsockopt(e->socks[i], ZMQ_LINGER, &linger,
				   sizeof(linger)) < 0)
			goto fail;
		rc = bind ? zmq_bind(e->socks[i], ep)
			  : zmq_connect(e->socks[i], ep);
		if (rc < 0)
			goto fail;
	}
	return 0;
fail:
	bench_err("zmq %s: %s", ep, zmq_strerror(zmq_errno()));
	return -EIO;
}

/* A producer connects a PUSH socket to each of its channels. */
static int zmq_producer_init(struct bench *b, uint32_t id, void **st)
{
	return zmq_end_open(b, bench_first_channel(b, id),
			    bench_channel_count(b), ZMQ_PUSH, 0, st);
}

/* Send @count messages numbered from @first to every channel. */
static int zmq_produce(void *st, uint64_t first, uint64_t count)
{
	struct zmq_end *e = st;
	uint64_t n;
	uint32_t i;

	for (n = 0; n < count; n++) {
		bench_put_word(e->buf, first + n);
		for (i = 0; i < e->nsock; i++) {
			while (zmq_send(e->socks[i], e->buf, e->size, 0) < 0) {
				if (zmq_errno() == EINTR)
					continue;
				bench_err("zmq_send: %s",
					  zmq_strerror(zmq_errno()));
				return -EIO;
			}
		}
	}
	return 0;
}

/* A reader binds a PULL socket on its channel. */
static int zmq_reader_init(struct bench *b, uint32_t ch, void **st)
{
	return zmq_end_open(b, ch, 1, ZMQ_PULL, 1, st);
}

/* Receive exactly @count messages, adding their first words to *@sum. */
static int zmq_consume(void *st, uint64_t count, uint64_t *sum)
{
	struct zmq_end *e = st;
	uint64_t n;

	for (n = 0; n < count; n++) {
		int len;

		do
			len = zmq_recv(e->socks[0], e->buf, e->size, 0);
		while (len < 0 && zmq_errno() == EINTR);
		if (len < 0) {
			bench_err("zmq_recv: %s", zmq_strerror(zmq_errno()));
			return -EIO;
		}
		if ((uint32_t)len != e->size) {
			bench_err("zmq_recv: %d bytes, expected %u", len,
				  e->size);
			return -EBADMSG;
		}
		*sum += bench_get_word(e->buf);
	}
	return 0;
}

const struct transport transport_zmq = {
	.name = "zmq",
	.groups_note = "G PULL sockets; each producer pushes every message to each",
	.batch_note = "ignored (ZeroMQ batches internally)",
	.setup = zmq_setup,
	.teardown = zmq_teardown,
	.producer_init = zmq_producer_init,
	.produce = zmq_produce,
	.producer_fini = zmq_end_free,
	.reader_init = zmq_reader_init,
	.consume = zmq_consume,
	.reader_fini = zmq_end_free,
};

#endif /* HAVE_ZMQ */

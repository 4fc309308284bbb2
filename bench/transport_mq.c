/* SPDX-License-Identifier: MIT */
/*
 * transport_mq.c - ring-bench over POSIX message queues: one queue per
 * channel, shared by the producers, one mq_send()/mq_receive() per message.
 *
 * The queue is made as deep as the system allows: the message-queue
 * rlimit is raised first (root can), then the depth is tried from 65536
 * (the kernel's hard limit) down until mq_open() accepts it.
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench.h"

#define MQ_DEPTH_MAX 65536

struct mq_setup {
	char (*names)[80];
	uint32_t created;
	long depth;
};

/* Name of channel @ch's queue. */
static void mq_channel_name(const struct bench *b, uint32_t ch, char *name,
			    size_t len)
{
	snprintf(name, len, "/%s-%u", b->tag, ch);
}

/* Create one queue of @depth messages. Returns the descriptor or -errno. */
static mqd_t mq_create(const char *name, long depth, uint32_t size)
{
	struct mq_attr attr = { .mq_maxmsg = depth, .mq_msgsize = size };

	return mq_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600,
		       &attr);
}

/* Create one queue per channel, as deep as allowed. Returns 0 or -errno. */
static int mq_setup(struct bench *b)
{
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	struct mq_setup *ms = calloc(1, sizeof(*ms));
	uint32_t i;

	if (!ms)
		return -ENOMEM;
	b->priv = ms;
	b->channels = b->o.rtt ? 2 : b->o.groups;
	ms->names = calloc(b->channels, sizeof(*ms->names));
	if (!ms->names)
		return -ENOMEM;
	setrlimit(RLIMIT_MSGQUEUE, &unlimited); /* best effort */
	ms->depth = MQ_DEPTH_MAX;
	for (i = 0; i < b->channels; i++) {
		mqd_t q;

		mq_channel_name(b, i, ms->names[i], sizeof(ms->names[i]));
		for (;;) {
			q = mq_create(ms->names[i], ms->depth, b->o.size);
			if (q != (mqd_t)-1 || ms->depth <= 1 ||
			    (errno != EINVAL && errno != EMFILE &&
			     errno != ENOMEM))
				break;
			ms->depth /= 2;
		}
		if (q == (mqd_t)-1) {
			bench_err("mq_open %s: %s", ms->names[i],
				  strerror(errno));
			return -errno;
		}
		mq_close(q);
		ms->created = i + 1;
	}
	return 0;
}

/* Remove the queues. */
static void mq_teardown(struct bench *b)
{
	struct mq_setup *ms = b->priv;
	uint32_t i;

	if (!ms)
		return;
	for (i = 0; i < ms->created; i++)
		mq_unlink(ms->names[i]);
	free(ms->names);
	free(ms);
	b->priv = NULL;
}

/* One endpoint: its queues and one message buffer. */
struct mq_end {
	mqd_t *q;
	uint32_t nq;
	uint32_t size;
	char *buf;
};

/* Free an endpoint. */
static void mq_end_free(void *st)
{
	struct mq_end *e = st;
	uint32_t i;

	if (!e)
		return;
	for (i = 0; e->q && i < e->nq; i++)
		if (e->q[i] != (mqd_t)-1)
			mq_close(e->q[i]);
	free(e->q);
	free(e->buf);
	free(e);
}

/* Open channels [first, first + n) for @oflag. Returns 0 or -errno. */
static int mq_end_open(struct bench *b, uint32_t first, uint32_t n, int oflag,
		       void **st)
{
	struct mq_setup *ms = b->priv;
	struct mq_end *e = calloc(1, sizeof(*e));
	uint32_t i;

	*st = e;
	if (!e)
		return -ENOMEM;
	e->size = b->o.size;
	e->q = calloc(n, sizeof(*e->q));
	e->buf = malloc(b->o.size);
	if (!e->q || !e->buf)
		return -ENOMEM;
	bench_fill(e->buf, e->size);
	for (i = 0; i < n; i++) {
		e->q[i] = mq_open(ms->names[first + i], oflag | O_CLOEXEC);
		e->nq = i + 1;
		if (e->q[i] == (mqd_t)-1) {
			bench_err("mq_open %s: %s", ms->names[first + i],
				  strerror(errno));
			return -errno;
		}
	}
	return 0;
}

/* A producer opens its channels' queues for writing. */
static int mq_producer_init(struct bench *b, uint32_t id, void **st)
{
	return mq_end_open(b, bench_first_channel(b, id),
			   bench_channel_count(b), O_WRONLY, st);
}

/* Send @count messages numbered from @first to every queue. */
static int mq_produce(void *st, uint64_t first, uint64_t count)
{
	struct mq_end *e = st;
	uint64_t n;
	uint32_t i;

	for (n = 0; n < count; n++) {
		bench_put_word(e->buf, first + n);
		for (i = 0; i < e->nq; i++) {
			while (mq_send(e->q[i], e->buf, e->size, 0) < 0) {
				if (errno == EINTR)
					continue;
				bench_err("mq_send: %s", strerror(errno));
				return -errno;
			}
		}
	}
	return 0;
}

/* A reader opens its channel's queue for reading. */
static int mq_reader_init(struct bench *b, uint32_t ch, void **st)
{
	return mq_end_open(b, ch, 1, O_RDONLY, st);
}

/* Receive exactly @count messages, adding their first words to *@sum. */
static int mq_consume(void *st, uint64_t count, uint64_t *sum)
{
	struct mq_end *e = st;
	uint64_t n;

	for (n = 0; n < count; n++) {
		ssize_t len;

		do
			len = mq_receive(e->q[0], e->buf, e->size, NULL);
		while (len < 0 && errno == EINTR);
		if (len < 0) {
			bench_err("mq_receive: %s", strerror(errno));
			return -errno;
		}
		if ((size_t)len != e->size) {
			bench_err("mq_receive: %zd bytes, expected %u", len,
				  e->size);
			return -EBADMSG;
		}
		*sum += bench_get_word(e->buf);
	}
	return 0;
}

const struct transport transport_mq = {
	.name = "mq",
	.groups_note = "G queues; each producer sends every message to each",
	.batch_note = "ignored (one message per call)",
	.setup = mq_setup,
	.teardown = mq_teardown,
	.producer_init = mq_producer_init,
	.produce = mq_produce,
	.producer_fini = mq_end_free,
	.reader_init = mq_reader_init,
	.consume = mq_consume,
	.reader_fini = mq_end_free,
};

/* SPDX-License-Identifier: MIT */
/*
 * transport_unix.c - ring-bench over UNIX domain sockets.
 *
 * unix: SOCK_STREAM. Each producer has its own connection (socketpair) to
 * each reader, as a server with one connection per client; a reader with
 * several connections poll()s them.
 * seqpacket: SOCK_SEQPACKET, the way syslog-style loggers send: one
 * socketpair per channel, every producer sends on the same end (each send
 * is one record), --batch B uses sendmmsg()/recvmmsg() with B records.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "stream.h"

struct unix_setup {
	int (*sv)[2];	/* [channel * writers + producer] = { read, write } */
	uint32_t pairs;
	int *fds;	/* scratch: one process's descriptors */
};

/* Create @pairs socketpairs of @type. Returns 0 or -errno. */
static int unix_pairs(struct bench *b, int type, uint32_t pairs)
{
	struct unix_setup *us = calloc(1, sizeof(*us));
	uint32_t i;

	if (!us)
		return -ENOMEM;
	b->priv = us;
	us->sv = calloc(pairs, sizeof(*us->sv));
	us->fds = calloc(pairs, sizeof(*us->fds));
	if (!us->sv || !us->fds)
		return -ENOMEM;
	for (i = 0; i < pairs; i++) {
		if (socketpair(AF_UNIX, type, 0, us->sv[i]) < 0) {
			bench_err("socketpair: %s", strerror(errno));
			return -errno;
		}
		us->pairs = i + 1;
	}
	return 0;
}

/* Close every socketpair. */
static void unix_teardown(struct bench *b)
{
	struct unix_setup *us = b->priv;
	uint32_t i;

	if (!us)
		return;
	for (i = 0; i < us->pairs; i++) {
		close(us->sv[i][0]);
		close(us->sv[i][1]);
	}
	free(us->sv);
	free(us->fds);
	free(us);
	b->priv = NULL;
}

/* ---- unix (stream) ---- */

/* One connection per producer and channel. Returns 0 or -errno. */
static int unix_stream_setup(struct bench *b)
{
	b->channels = b->o.rtt ? 2 : b->o.groups;
	return unix_pairs(b, SOCK_STREAM, b->channels * bench_writers(b));
}

/* A producer writes to its connection of each of its channels. */
static int unix_stream_producer_init(struct bench *b, uint32_t id, void **st)
{
	struct unix_setup *us = b->priv;
	uint32_t first = bench_first_channel(b, id);
	uint32_t n = bench_channel_count(b);
	uint32_t w = bench_writers(b);
	uint32_t who = b->o.rtt ? 0 : id;
	uint32_t i;

	for (i = 0; i < n; i++)
		us->fds[i] = us->sv[(first + i) * w + who][1];
	*st = stream_writer_new(us->fds, n, b->o.size, b->o.batch);
	return *st ? 0 : -ENOMEM;
}

/* A reader reads every producer's connection of its channel. */
static int unix_stream_reader_init(struct bench *b, uint32_t ch, void **st)
{
	struct unix_setup *us = b->priv;
	uint32_t w = bench_writers(b);
	uint32_t i;

	for (i = 0; i < w; i++)
		us->fds[i] = us->sv[ch * w + i][0];
	*st = stream_reader_new(us->fds, w, b->o.size);
	return *st ? 0 : -ENOMEM;
}

const struct transport transport_unix = {
	.name = "unix",
	.groups_note = "G connections per producer; each gets every message",
	.batch_note = "B messages per write()",
	.setup = unix_stream_setup,
	.teardown = unix_teardown,
	.producer_init = unix_stream_producer_init,
	.produce = stream_write,
	.producer_fini = stream_writer_free,
	.reader_init = unix_stream_reader_init,
	.consume = stream_read,
	.reader_fini = stream_reader_free,
};

/* ---- seqpacket ---- */

/* A seqpacket endpoint: the descriptors and B records with their headers. */
struct seqpacket_end {
	int *fds;
	uint32_t nfd;
	uint32_t size;
	uint32_t batch;
	unsigned char *buf;
	struct iovec *iov;
	struct mmsghdr *mm;
};

/* Make an endpoint for @nfd descriptors taken from @fds. */
static struct seqpacket_end *seqpacket_end_new(const int *fds, uint32_t nfd,
					       uint32_t size, uint32_t batch)
{
	struct seqpacket_end *e = calloc(1, sizeof(*e));
	uint32_t i;

	if (!e)
		goto fail;
	e->nfd = nfd;
	e->size = size;
	e->batch = batch;
	e->fds = calloc(nfd, sizeof(*e->fds));
	e->buf = malloc((size_t)size * batch);
	e->iov = calloc(batch, sizeof(*e->iov));
	e->mm = calloc(batch, sizeof(*e->mm));
	if (!e->fds || !e->buf || !e->iov || !e->mm)
		goto fail;
	memcpy(e->fds, fds, nfd * sizeof(*fds));
	for (i = 0; i < batch; i++) {
		bench_fill(e->buf + (size_t)i * size, size);
		e->iov[i].iov_base = e->buf + (size_t)i * size;
		e->iov[i].iov_len = size;
		e->mm[i].msg_hdr.msg_iov = &e->iov[i];
		e->mm[i].msg_hdr.msg_iovlen = 1;
	}
	return e;
fail:
	bench_err("out of memory");
	if (e) {
		free(e->fds);
		free(e->buf);
		free(e->iov);
		free(e->mm);
	}
	free(e);
	return NULL;
}

/* Free an endpoint. */
static void seqpacket_end_free(void *st)
{
	struct seqpacket_end *e = st;

	if (!e)
		return;
	free(e->fds);
	free(e->buf);
	free(e->iov);
	free(e->mm);
	free(e);
}

/* One socketpair per channel, shared by the producers. */
static int seqpacket_setup(struct bench *b)
{
	b->channels = b->o.rtt ? 2 : b->o.groups;
	return unix_pairs(b, SOCK_SEQPACKET, b->channels);
}

/* A producer sends on the write end of each of its channels. */
static int seqpacket_producer_init(struct bench *b, uint32_t id, void **st)
{
	struct unix_setup *us = b->priv;
	uint32_t first = bench_first_channel(b, id);
	uint32_t n = bench_channel_count(b);
	uint32_t i;

	for (i = 0; i < n; i++)
		us->fds[i] = us->sv[first + i][1];
	*st = seqpacket_end_new(us->fds, n, b->o.size, b->o.batch);
	return *st ? 0 : -ENOMEM;
}

/* Send records [0, k) of @e's buffer on @fd. Returns 0 or -errno. */
static int seqpacket_send_all(struct seqpacket_end *e, int fd, uint32_t k)
{
	uint32_t done = 0;

	if (k == 1) {
		while (send(fd, e->buf, e->size, 0) < 0)
			if (errno != EINTR)
				return -errno;
		return 0;
	}
	while (done < k) {
		int n = sendmmsg(fd, e->mm + done, k - done, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		done += (uint32_t)n;
	}
	return 0;
}

/* Send @count records numbered from @first to every channel. */
static int seqpacket_produce(void *st, uint64_t first, uint64_t count)
{
	struct seqpacket_end *e = st;

	while (count > 0) {
		uint32_t k = count < e->batch ? (uint32_t)count : e->batch;
		uint32_t i;

		for (i = 0; i < k; i++)
			bench_put_word(e->buf + (size_t)i * e->size, first + i);
		for (i = 0; i < e->nfd; i++) {
			int err = seqpacket_send_all(e, e->fds[i], k);

			if (err) {
				bench_err("send: %s", strerror(-err));
				return err;
			}
		}
		first += k;
		count -= k;
	}
	return 0;
}

/* A reader receives on the read end of its channel. */
static int seqpacket_reader_init(struct bench *b, uint32_t ch, void **st)
{
	struct unix_setup *us = b->priv;

	*st = seqpacket_end_new(&us->sv[ch][0], 1, b->o.size, b->o.batch);
	return *st ? 0 : -ENOMEM;
}

/* Receive up to @max (<= batch) records into the buffer. Returns the
 * number received or -errno. */
static int seqpacket_recv_some(struct seqpacket_end *e, uint32_t max)
{
	int fd = e->fds[0];
	uint32_t i;
	int n;

	if (max == 1) {
		ssize_t len;

		do
			len = recv(fd, e->buf, e->size, 0);
		while (len < 0 && errno == EINTR);
		if (len < 0)
			return -errno;
		if (len == 0)
			return -EPIPE;
		return len == e->size ? 1 : -EBADMSG;
	}
	do
		n = recvmmsg(fd, e->mm, max, MSG_WAITFORONE, NULL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -EPIPE;
	for (i = 0; i < (uint32_t)n; i++)
		if (e->mm[i].msg_len != e->size)
			return -EBADMSG;
	return n;
}

/* Receive exactly @count records, adding their first words to *@sum. */
static int seqpacket_consume(void *st, uint64_t count, uint64_t *sum)
{
	struct seqpacket_end *e = st;

	while (count > 0) {
		uint32_t max = count < e->batch ? (uint32_t)count : e->batch;
		int n = seqpacket_recv_some(e, max);
		int i;

		if (n < 0) {
			bench_err("recv: %s", strerror(-n));
			return n;
		}
		for (i = 0; i < n; i++)
			*sum += bench_get_word(e->buf + (size_t)i * e->size);
		count -= (uint64_t)n;
	}
	return 0;
}

const struct transport transport_seqpacket = {
	.name = "seqpacket",
	.groups_note = "G socketpairs; each producer sends every message to each",
	.batch_note = "B records per sendmmsg()/recvmmsg()",
	.setup = seqpacket_setup,
	.teardown = unix_teardown,
	.producer_init = seqpacket_producer_init,
	.produce = seqpacket_produce,
	.producer_fini = seqpacket_end_free,
	.reader_init = seqpacket_reader_init,
	.consume = seqpacket_consume,
	.reader_fini = seqpacket_end_free,
};

/* SPDX-License-Identifier: MIT */
/*
 * transport_pipe.c - ring-bench over anonymous pipes: one pipe per channel,
 * shared by all producers. A write of at most PIPE_BUF bytes is atomic, so
 * with several producers a write never carries more than PIPE_BUF bytes.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "stream.h"

struct pipe_setup {
	int (*fds)[2];	/* [channel] = { read end, write end } */
	int *wfds;	/* scratch: a producer's write ends */
};

/* Create one pipe per channel. Returns 0 or -errno. */
static int pipe_setup(struct bench *b)
{
	struct pipe_setup *ps = calloc(1, sizeof(*ps));
	uint32_t i;

	if (!ps)
		return -ENOMEM;
	b->priv = ps;
	b->channels = b->o.rtt ? 2 : b->o.groups;
	if (bench_writers(b) > 1 && b->o.size > PIPE_BUF) {
		bench_err("pipe: messages over %d bytes are not atomic with "
			  "several producers", PIPE_BUF);
		return -EINVAL;
	}
	ps->fds = calloc(b->channels, sizeof(*ps->fds));
	ps->wfds = calloc(b->channels, sizeof(*ps->wfds));
	if (!ps->fds || !ps->wfds)
		return -ENOMEM;
	for (i = 0; i < b->channels; i++)
		ps->fds[i][0] = ps->fds[i][1] = -1;
	for (i = 0; i < b->channels; i++) {
		if (pipe(ps->fds[i]) < 0) {
			bench_err("pipe: %s", strerror(errno));
			return -errno;
		}
	}
	return 0;
}

/* Close the pipes. */
static void pipe_teardown(struct bench *b)
{
	struct pipe_setup *ps = b->priv;
	uint32_t i;

	if (!ps)
		return;
	for (i = 0; ps->fds && i < b->channels; i++) {
		if (ps->fds[i][0] >= 0)
			close(ps->fds[i][0]);
		if (ps->fds[i][1] >= 0)
			close(ps->fds[i][1]);
	}
	free(ps->fds);
	free(ps->wfds);
	free(ps);
	b->priv = NULL;
}

/* A producer writes to its channels' write ends. */
static int pipe_producer_init(struct bench *b, uint32_t id, void **st)
{
	struct pipe_setup *ps = b->priv;
	uint32_t first = bench_first_channel(b, id);
	uint32_t n = bench_channel_count(b);
	uint32_t batch = b->o.batch;
	uint32_t i;

	if (bench_writers(b) > 1 && batch * b->o.size > PIPE_BUF)
		batch = PIPE_BUF / b->o.size;
	for (i = 0; i < n; i++)
		ps->wfds[i] = ps->fds[first + i][1];
	*st = stream_writer_new(ps->wfds, n, b->o.size, batch);
	return *st ? 0 : -ENOMEM;
}

/* A reader reads its channel's read end. */
static int pipe_reader_init(struct bench *b, uint32_t ch, void **st)
{
	struct pipe_setup *ps = b->priv;

	*st = stream_reader_new(&ps->fds[ch][0], 1, b->o.size);
	return *st ? 0 : -ENOMEM;
}

const struct transport transport_pipe = {
	.name = "pipe",
	.groups_note = "G pipes; each producer writes every message to each",
	.batch_note = "B messages per write() (at most PIPE_BUF bytes when P > 1)",
	.setup = pipe_setup,
	.teardown = pipe_teardown,
	.producer_init = pipe_producer_init,
	.produce = stream_write,
	.producer_fini = stream_writer_free,
	.reader_init = pipe_reader_init,
	.consume = stream_read,
	.reader_fini = stream_reader_free,
};

/* SPDX-License-Identifier: MIT */
/*
 * stream.c - producer and reader loops for byte-stream transports.
 *
 * Messages are fixed-size records back to back in the stream. The writer
 * sends --batch records per write(); the reader reads whatever is there (up
 * to 64 KiB at a time) and walks the complete records, keeping a partial
 * one for the next read, the way a real stream consumer frames messages.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "stream.h"

#define STREAM_READ_CHUNK 65536u

struct stream_writer {
	int *fds;
	uint32_t nfd;
	uint32_t size;
	uint32_t batch;
	unsigned char *buf;	/* batch records */
};

/* One input of a reader, with the bytes read but not yet taken. */
struct stream_input {
	int fd;
	size_t off;		/* first byte not yet taken */
	size_t end;		/* end of the bytes read */
	unsigned char *buf;
};

struct stream_reader {
	uint32_t nfd;
	uint32_t size;
	size_t cap;
	struct stream_input *in;
	struct pollfd *pfd;
};

/* Make a writer for @nfd descriptors. Returns it, or NULL on failure. */
struct stream_writer *stream_writer_new(const int *fds, uint32_t nfd,
					uint32_t size, uint32_t batch)
{
	struct stream_writer *w = calloc(1, sizeof(*w));
	uint32_t i;

	if (!w)
		goto fail;
	w->nfd = nfd;
	w->size = size;
	w->batch = batch;
	w->fds = calloc(nfd, sizeof(*w->fds));
	w->buf = malloc((size_t)size * batch);
	if (!w->fds || !w->buf)
		goto fail;
	memcpy(w->fds, fds, nfd * sizeof(*fds));
	for (i = 0; i < batch; i++)
		bench_fill(w->buf + (size_t)i * size, size);
	return w;
fail:
	bench_err("out of memory");
	stream_writer_free(w);
	return NULL;
}

/* Send @count records numbered from @first to every descriptor, @batch per
 * write() call. Returns 0 or -errno. */
int stream_write(void *st, uint64_t first, uint64_t count)
{
	struct stream_writer *w = st;

	while (count > 0) {
		uint32_t k = count < w->batch ? (uint32_t)count : w->batch;
		uint32_t i;

		for (i = 0; i < k; i++)
			bench_put_word(w->buf + (size_t)i * w->size, first + i);
		for (i = 0; i < w->nfd; i++) {
			int err = bench_write_all(w->fds[i], w->buf,
						  (size_t)k * w->size);

			if (err) {
				bench_err("write: %s", strerror(-err));
				return err;
			}
		}
		first += k;
		count -= k;
	}
	return 0;
}

/* Free a writer. */
void stream_writer_free(void *st)
{
	struct stream_writer *w = st;

	if (!w)
		return;
	free(w->fds);
	free(w->buf);
	free(w);
}

/* Make a reader for @nfd descriptors. Returns it, or NULL on failure. */
struct stream_reader *stream_reader_new(const int *fds, uint32_t nfd,
					uint32_t size)
{
	struct stream_reader *r = calloc(1, sizeof(*r));
	uint32_t i;

	if (!r)
		goto fail;
	r->nfd = nfd;
	r->size = size;
	r->cap = STREAM_READ_CHUNK + 2 * (size_t)size;
	r->in = calloc(nfd, sizeof(*r->in));
	r->pfd = calloc(nfd, sizeof(*r->pfd));
	if (!r->in || !r->pfd)
		goto fail;
	for (i = 0; i < nfd; i++) {
		r->in[i].fd = fds[i];
		r->in[i].buf = malloc(r->cap);
		if (!r->in[i].buf)
			goto fail;
		r->pfd[i].fd = fds[i];
		r->pfd[i].events = POLLIN;
	}
	return r;
fail:
	bench_err("out of memory");
	stream_reader_free(r);
	return NULL;
}

/* Take up to @max complete records buffered in @in, adding their first
 * words to *@sum. Returns the number taken. */
static uint64_t stream_take(struct stream_input *in, uint32_t size,
			    uint64_t max, uint64_t *sum)
{
	uint64_t n = (in->end - in->off) / size;
	uint64_t i;
	uint64_t s = 0;

	if (n > max)
		n = max;
	for (i = 0; i < n; i++)
		s += bench_get_word(in->buf + in->off + i * size);
	*sum += s;
	in->off += n * size;
	return n;
}

/* Read more bytes into @in (blocking). Returns 0, -EPIPE at end of file,
 * or -errno. */
static int stream_fill(struct stream_reader *r, struct stream_input *in)
{
	long n;

	if (in->off > 0) {
		memmove(in->buf, in->buf + in->off, in->end - in->off);
		in->end -= in->off;
		in->off = 0;
	}
	n = bench_read_some(in->fd, in->buf + in->end, r->cap - in->end);
	if (n < 0) {
		bench_err("read: %s", strerror((int)-n));
		return (int)n;
	}
	if (n == 0)
		return -EPIPE;
	in->end += (size_t)n;
	return 0;
}

/* Wait until some input is readable and read from each readable one.
 * Returns 0 or -errno. */
static int stream_poll_fill(struct stream_reader *r)
{
	uint32_t i;
	int err;

	for (;;) {
		int n = poll(r->pfd, r->nfd, -1);

		if (n > 0)
			break;
		if (n < 0 && errno != EINTR) {
			bench_err("poll: %s", strerror(errno));
			return -errno;
		}
	}
	for (i = 0; i < r->nfd; i++) {
		if (!r->pfd[i].revents)
			continue;
		err = stream_fill(r, &r->in[i]);
		if (err)
			return err;
	}
	return 0;
}

/* Take exactly @count records from the inputs. Returns 0 or -errno. */
int stream_read(void *st, uint64_t count, uint64_t *sum)
{
	struct stream_reader *r = st;
	uint64_t got = 0;
	uint32_t i;
	int err;

	for (;;) {
		for (i = 0; i < r->nfd && got < count; i++)
			got += stream_take(&r->in[i], r->size, count - got, sum);
		if (got == count)
			return 0;
		if (r->nfd == 1)
			err = stream_fill(r, &r->in[0]);
		else
			err = stream_poll_fill(r);
		if (err == -EPIPE)
			bench_err("stream ended after %llu of %llu messages",
				  (unsigned long long)got,
				  (unsigned long long)count);
		if (err)
			return err;
	}
}

/* Free a reader. */
void stream_reader_free(void *st)
{
	struct stream_reader *r = st;
	uint32_t i;

	if (!r)
		return;
	for (i = 0; r->in && i < r->nfd; i++)
		free(r->in[i].buf);
	free(r->in);
	free(r->pfd);
	free(r);
}

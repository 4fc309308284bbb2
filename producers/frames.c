// SPDX-License-Identifier: MIT
/*
 * frames.c - split an input stream into messages (see frames.h).
 */
#include "frames.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Size of the read buffer when messages are small. */
#define FRAME_MIN_BUFFER (256u * 1024u)

/* Allocate a buffer that holds the largest frame and its delimiter. */
int frame_reader_init(struct frame_reader *fr, int fd, enum framing framing,
		      uint32_t max, int truncate)
{
	memset(fr, 0, sizeof(*fr));
	fr->fd = fd;
	fr->framing = framing;
	fr->max = max;
	fr->truncate = truncate;
	fr->cap = (size_t)max + 8;
	if (fr->cap < FRAME_MIN_BUFFER)
		fr->cap = FRAME_MIN_BUFFER;
	fr->buf = malloc(fr->cap);
	return fr->buf ? 0 : -ENOMEM;
}

/* Free the buffer. */
void frame_reader_free(struct frame_reader *fr)
{
	free(fr->buf);
	fr->buf = NULL;
}

/* What one unit of input is called in messages. */
const char *framing_unit(enum framing framing)
{
	switch (framing) {
	case FRAMING_LINE:
		return "line";
	case FRAMING_NUL:
		return "record";
	default:
		return "frame";
	}
}

/* Hand out @len bytes at @p as the next frame, consuming @used bytes. */
static enum frame_status frame_emit(struct frame_reader *fr, const char *p,
				    uint32_t len, size_t used,
				    const char **data, uint32_t *out_len)
{
	*data = p;
	*out_len = len;
	fr->start += used;
	fr->number++;
	return FRAME_OK;
}

/* A frame of @len bytes is too long: cut it or report it. */
static int frame_too_long(struct frame_reader *fr, uint64_t len)
{
	if (len <= fr->max)
		return 0;
	if (!fr->truncate) {
		fr->bad_frame = fr->number + 1;
		return -1;
	}
	fr->truncated++;
	return 1;
}

/* Next line or NUL-ended record. */
static enum frame_status delimited_next(struct frame_reader *fr,
					const char **data, uint32_t *len)
{
	char delim = fr->framing == FRAMING_NUL ? '\0' : '\n';
	const char *p = fr->buf + fr->start, *d;
	size_t avail = fr->end - fr->start;
	int cut;

	d = memchr(p, delim, avail);
	if (d) {
		cut = frame_too_long(fr, (uint64_t)(d - p));
		if (cut < 0)
			return FRAME_TOO_LONG;
		return frame_emit(fr, p, cut ? fr->max : (uint32_t)(d - p),
				  (size_t)(d - p) + 1, data, len);
	}
	if (avail > fr->max) {
		/* No delimiter within max + 1 bytes: too long for sure. */
		if (frame_too_long(fr, avail) < 0)
			return FRAME_TOO_LONG;
		fr->skip_to_delim = 1;
		return frame_emit(fr, p, fr->max, fr->max, data, len);
	}
	if (!fr->eof)
		return FRAME_MORE;
	if (!avail)
		return FRAME_END;
	/* A last line without its newline is still a message. */
	return frame_emit(fr, p, (uint32_t)avail, avail, data, len);
}

/* Next record with a 32-bit little-endian length in front. */
static enum frame_status len32_next(struct frame_reader *fr,
				    const char **data, uint32_t *len)
{
	const unsigned char *p = (const unsigned char *)fr->buf + fr->start;
	size_t avail = fr->end - fr->start;
	uint32_t n, want;
	int cut;

	if (avail < 4) {
		if (!fr->eof)
			return FRAME_MORE;
		if (!avail)
			return FRAME_END;
		fr->bad_frame = fr->number + 1;
		return FRAME_PARTIAL;
	}
	n = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
	cut = frame_too_long(fr, n);
	if (cut < 0)
		return FRAME_TOO_LONG;
	want = cut ? fr->max : n;
	if (avail - 4 < want) {
		if (!fr->eof)
			return FRAME_MORE;
		if (cut)
			fr->truncated--;
		fr->bad_frame = fr->number + 1;
		return FRAME_PARTIAL;
	}
	fr->skip = n - want;
	return frame_emit(fr, (const char *)p + 4, want, 4 + (size_t)want,
			  data, len);
}

/* The next complete frame in the buffer, or what is needed first. */
enum frame_status frame_next(struct frame_reader *fr, const char **data,
			     uint32_t *len)
{
	size_t avail, n;
	const char *d;

	for (;;) {
		avail = fr->end - fr->start;
		if (fr->skip) {
			n = fr->skip < avail ? (size_t)fr->skip : avail;
			fr->start += n;
			fr->skip -= n;
			if (!fr->skip)
				continue;
			if (!fr->eof)
				return FRAME_MORE;
			fr->bad_frame = fr->number;
			return FRAME_PARTIAL;
		}
		if (fr->skip_to_delim) {
			d = memchr(fr->buf + fr->start,
				   fr->framing == FRAMING_NUL ? '\0' : '\n',
				   avail);
			if (!d) {
				fr->start = fr->end;
				return fr->eof ? FRAME_END : FRAME_MORE;
			}
			fr->start += (size_t)(d - (fr->buf + fr->start)) + 1;
			fr->skip_to_delim = 0;
			continue;
		}
		if (fr->framing == FRAMING_LEN32)
			return len32_next(fr, data, len);
		return delimited_next(fr, data, len);
	}
}

/* Compact the buffer and read once more. */
int frame_fill(struct frame_reader *fr)
{
	ssize_t n;

	if (fr->start) {
		memmove(fr->buf, fr->buf + fr->start, fr->end - fr->start);
		fr->end -= fr->start;
		fr->start = 0;
	}
	for (;;) {
		n = read(fr->fd, fr->buf + fr->end, fr->cap - fr->end);
		if (n >= 0)
			break;
		if (errno != EINTR)
			return -errno;
	}
	if (n == 0)
		fr->eof = 1;
	fr->end += (size_t)n;
	return 0;
}

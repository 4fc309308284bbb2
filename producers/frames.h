/* SPDX-License-Identifier: MIT */
/*
 * frames.h - splitting an input stream into messages: lines, NUL-ended
 * records or records with a 32-bit little-endian length in front.
 */
#ifndef LIBRING_PRODUCERS_FRAMES_H
#define LIBRING_PRODUCERS_FRAMES_H

#include <stddef.h>
#include <stdint.h>

enum framing { FRAMING_LINE, FRAMING_NUL, FRAMING_LEN32 };

/* Reads frames from a file descriptor through one buffer. */
struct frame_reader {
	int fd;
	enum framing framing;
	uint32_t max;	    /* largest payload accepted */
	int truncate;	    /* cut longer frames instead of failing */
	char *buf;
	size_t cap;
	size_t start;	    /* first byte not yet consumed */
	size_t end;	    /* end of the bytes read */
	int eof;
	uint64_t skip;	    /* bytes still to discard of a cut frame */
	int skip_to_delim;  /* discard up to the next delimiter */
	uint64_t number;    /* frames returned so far */
	uint64_t truncated; /* frames cut to max */
	uint64_t bad_frame; /* number of the frame an error is about */
};

/* Outcome of frame_next(). */
enum frame_status {
	FRAME_OK,	/* *data, *len hold the next frame */
	FRAME_MORE,	/* call frame_fill() first */
	FRAME_END,	/* input ended */
	FRAME_TOO_LONG, /* frame bad_frame exceeds max */
	FRAME_PARTIAL,	/* input ended inside len32 frame bad_frame */
};

/*
 * frame_reader_init - read @fd split by @framing, payloads up to @max
 * bytes. Returns 0 or -ENOMEM.
 */
int frame_reader_init(struct frame_reader *fr, int fd, enum framing framing,
		      uint32_t max, int truncate);

/*
 * frame_reader_free - release the buffer.
 */
void frame_reader_free(struct frame_reader *fr);

/*
 * frame_next - the next complete frame in the buffer. The bytes stay valid
 * until frame_fill() is called.
 */
enum frame_status frame_next(struct frame_reader *fr, const char **data,
			     uint32_t *len);

/*
 * frame_fill - move the unconsumed bytes to the front of the buffer and
 * read more (one read). Returns 0 or -errno.
 */
int frame_fill(struct frame_reader *fr);

/*
 * framing_unit - "line", "record" or "frame": what an error calls one unit.
 */
const char *framing_unit(enum framing framing);

#endif /* LIBRING_PRODUCERS_FRAMES_H */

/* SPDX-License-Identifier: MIT */
/*
 * ship_output.h - the output files of ring-ship: appending lines, syncing,
 * rotating (FILE -> FILE.1 -> FILE.2 ...), keeping N, gzip compression.
 *
 * Every step leaves the files in a state from which a restarted ring-ship
 * goes on without losing a line: renames are done from the oldest file
 * down, and a compressed file replaces its source only once complete.
 */
#ifndef LIBRING_CONSUMERS_SHIP_OUTPUT_H
#define LIBRING_CONSUMERS_SHIP_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <time.h>

/* The current output file and how to rotate it. */
struct ship_output {
	const char *path;	/* FILE */
	int fd;			/* open on FILE for appending, or -1 */
	uint64_t size;		/* bytes in FILE */
	time_t born;		/* when FILE was created (CLOCK_REALTIME s) */
	unsigned keep;		/* rotated files kept; 0 keeps all */
	int compress;		/* gzip rotated files */
	int sync;		/* fdatasync before closing a file */
	int compress_pending;	/* a rotated file waits to be compressed */
	uint64_t rotations;
};

/*
 * ship_open - open (or create) o->path for appending and learn its size
 * and age. Returns 0 or -errno.
 */
int ship_open(struct ship_output *o);

/* Lines ship_write_lines() takes at most per call. */
#define SHIP_LINES_MAX 256

/*
 * ship_write_lines - append the @n (at most SHIP_LINES_MAX) payloads of
 * @lines, each followed by a newline unless it ends with one, with as few
 * writev(2) calls as possible. *@done receives how many were written in
 * full, also on error. Returns 0 or -errno (-EINVAL if @n is too large).
 */
int ship_write_lines(struct ship_output *o, const struct iovec *lines,
		     unsigned n, unsigned *done);

/*
 * ship_sync - fdatasync the current file. Returns 0 or -errno.
 */
int ship_sync(struct ship_output *o);

/*
 * ship_rotate - close FILE (synced if o->sync), shift FILE.N to FILE.N+1,
 * rename FILE to FILE.1, open a new FILE, remove files past o->keep.
 * Returns 0 or -errno.
 */
int ship_rotate(struct ship_output *o);

/*
 * ship_reopen - close and open o->path again (after an outside rotation).
 * Returns 0 or -errno.
 */
int ship_reopen(struct ship_output *o);

/*
 * ship_compress_rotated - gzip every rotated file not yet compressed
 * (FILE.N -> FILE.N.gz). Returns 0 or -errno.
 */
int ship_compress_rotated(struct ship_output *o);

/*
 * ship_close - close the current file (synced if o->sync).
 * Returns 0 or -errno.
 */
int ship_close(struct ship_output *o);

#endif /* LIBRING_CONSUMERS_SHIP_OUTPUT_H */

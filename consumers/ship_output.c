// SPDX-License-Identifier: MIT
/*
 * ship_output.c - ring-ship's output files (see ship_output.h).
 */
#include "ship_output.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include "../tools/cli.h"

/* Name of rotated file @i (FILE.i, or FILE.i.gz when @gz). */
static void rotated_name(const struct ship_output *o, unsigned i, int gz,
			 char *buf, size_t len)
{
	snprintf(buf, len, "%s.%u%s", o->path, i, gz ? ".gz" : "");
}

/* 1 if @path exists. */
static int exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* 1 if rotated file @i exists in either form. */
static int rotated_exists(const struct ship_output *o, unsigned i)
{
	char name[PATH_MAX];

	rotated_name(o, i, 0, name, sizeof(name));
	if (exists(name))
		return 1;
	rotated_name(o, i, 1, name, sizeof(name));
	return exists(name);
}

/* When the file on @fd was created, or now if the file system does not
 * say. */
static time_t birth_time(int fd)
{
	struct statx stx;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_BTIME, &stx) == 0 &&
	    (stx.stx_mask & STATX_BTIME))
		return (time_t)stx.stx_btime.tv_sec;
	return time(NULL);
}

/* Open FILE for appending. */
/*
 * Cut a file that does not end with a newline back to its last complete
 * line: what follows was a line cut short (a full disk, a crash) whose
 * message was never released, so it is written again whole.
 */
static int cut_partial_line(int fd, uint64_t *size)
{
	char buf[4096];
	uint64_t end = *size;

	while (end > 0) {
		size_t n = end < sizeof(buf) ? (size_t)end : sizeof(buf);
		ssize_t got = pread(fd, buf, n, (off_t)(end - n));

		if (got != (ssize_t)n)
			return got < 0 ? -errno : -EIO;
		for (size_t i = n; i > 0; i--) {
			if (buf[i - 1] == '\n') {
				end -= n - i;
				goto found;
			}
		}
		end -= n;
	}
found:
	if (end == *size)
		return 0;
	if (ftruncate(fd, (off_t)end) < 0)
		return -errno;
	*size = end;
	return 0;
}

int ship_open(struct ship_output *o)
{
	struct stat st;
	int err;

	/* Read access too: cut_partial_line() looks at the last line. */
	o->fd = open(o->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (o->fd < 0)
		return -errno;
	if (fstat(o->fd, &st) < 0) {
		err = -errno;
		close(o->fd);
		o->fd = -1;
		return err;
	}
	o->size = (uint64_t)st.st_size;
	err = cut_partial_line(o->fd, &o->size);
	if (err) {
		close(o->fd);
		o->fd = -1;
		return err;
	}
	o->born = birth_time(o->fd);
	return 0;
}

/* Append lines, each with a newline unless it ends with one. */
int ship_write_lines(struct ship_output *o, const struct iovec *lines,
		     unsigned n, unsigned *done)
{
	struct iovec iov[2 * SHIP_LINES_MAX];
	size_t end[SHIP_LINES_MAX], bytes = 0, written;
	unsigned i, k = 0;
	int rc;

	*done = 0;
	if (n > SHIP_LINES_MAX)
		return -EINVAL;
	if (!n)
		return 0;
	for (i = 0; i < n; i++) {
		const char *p = lines[i].iov_base;
		size_t len = lines[i].iov_len;

		iov[k++] = lines[i];
		bytes += len;
		if (!len || p[len - 1] != '\n') {
			iov[k].iov_base = "\n";
			iov[k++].iov_len = 1;
			bytes++;
		}
		end[i] = bytes;
	}
	rc = cli_writev_all(o->fd, iov, k, &written);
	for (i = 0; i < n && end[i] <= written; i++)
		;
	*done = i;
	if (rc && written > (i ? end[i - 1] : 0)) {
		/* A line cut short (a full disk): take it back, so that the
		 * next write, or the next run, starts on a line of its own. */
		size_t whole = i ? end[i - 1] : 0;

		/* If even that fails, ship_open() cuts it next time. */
		if (ftruncate(o->fd, (off_t)(o->size + whole)) == 0)
			written = whole;
	}
	o->size += written;
	return rc;
}

/* fdatasync the current file. */
int ship_sync(struct ship_output *o)
{
	if (o->fd >= 0 && fdatasync(o->fd) < 0)
		return -errno;
	return 0;
}

/* Close the current file, synced first if asked. */
int ship_close(struct ship_output *o)
{
	int rc = 0;

	if (o->fd < 0)
		return 0;
	if (o->sync)
		rc = ship_sync(o);
	if (close(o->fd) < 0 && !rc)
		rc = -errno;
	o->fd = -1;
	return rc;
}

/* Close and open FILE again. */
int ship_reopen(struct ship_output *o)
{
	int rc = ship_close(o);

	return rc ? rc : ship_open(o);
}

/* Rename rotated file @from to @to in both forms, when present. */
static int rename_rotated(const struct ship_output *o, unsigned from,
			  unsigned to)
{
	char a[PATH_MAX], b[PATH_MAX];
	int gz;

	for (gz = 0; gz <= 1; gz++) {
		rotated_name(o, from, gz, a, sizeof(a));
		rotated_name(o, to, gz, b, sizeof(b));
		if (rename(a, b) < 0 && errno != ENOENT)
			return -errno;
	}
	return 0;
}

/* Remove rotated file @i in both forms. */
static int remove_rotated(const struct ship_output *o, unsigned i)
{
	char name[PATH_MAX];
	int gz;

	for (gz = 0; gz <= 1; gz++) {
		rotated_name(o, i, gz, name, sizeof(name));
		if (unlink(name) < 0 && errno != ENOENT)
			return -errno;
	}
	return 0;
}

/* Rotate: FILE.N -> FILE.N+1 (oldest first), FILE -> FILE.1, new FILE. */
int ship_rotate(struct ship_output *o)
{
	char first[PATH_MAX];
	unsigned top = 0, i;
	int rc;

	rc = ship_close(o);
	if (rc)
		return rc;
	/*
	 * Shift only up to the first gap: a rotation interrupted halfway
	 * leaves a gap exactly where the next shift needs room, so the
	 * order of the files is kept.
	 */
	while (rotated_exists(o, top + 1))
		top++;
	for (i = top; i >= 1; i--) {
		rc = rename_rotated(o, i, i + 1);
		if (rc)
			return rc;
	}
	rotated_name(o, 1, 0, first, sizeof(first));
	if (rename(o->path, first) < 0 && errno != ENOENT)
		return -errno;
	o->rotations++;
	if (o->compress)
		o->compress_pending = 1;
	rc = ship_open(o);
	if (rc)
		return rc;
	if (o->keep) {
		for (i = o->keep + 1; i <= top + 1; i++) {
			rc = remove_rotated(o, i);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* The error of a failed gzwrite(): the system's (a full disk) if it was
 * one, else -EIO. */
static int gz_errno(gzFile gz)
{
	int saved = errno, zerr = Z_OK;

	gzerror(gz, &zerr);
	if (zerr == Z_ERRNO && saved)
		return -saved;
	return -EIO;
}

/* gzip @src into @dst (through a temporary name). */
static int gzip_file(const char *src, const char *dst, int sync)
{
	char tmp[PATH_MAX + 8], buf[65536];
	int in, out, rc = 0;
	ssize_t n;
	gzFile gz;

	snprintf(tmp, sizeof(tmp), "%s.tmp", dst);
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		rc = -errno;
		close(in);
		return rc;
	}
	gz = gzdopen(dup(out), "wb");
	if (!gz) {
		rc = -ENOMEM;
		goto out;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (gzwrite(gz, buf, (unsigned)n) != (int)n) {
			rc = gz_errno(gz);
			break;
		}
	}
	if (n < 0 && !rc)
		rc = -errno;
	errno = 0;
	if (gzclose(gz) != Z_OK && !rc)
		rc = errno ? -errno : -EIO;
	if (!rc && sync && fsync(out) < 0)
		rc = -errno;
out:
	close(out);
	close(in);
	if (!rc && rename(tmp, dst) < 0)
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}

/* Compress every rotated file that is not compressed yet. */
int ship_compress_rotated(struct ship_output *o)
{
	char plain[PATH_MAX], gz[PATH_MAX];
	unsigned i;
	int rc;

	o->compress_pending = 0;
	for (i = 1; rotated_exists(o, i); i++) {
		rotated_name(o, i, 0, plain, sizeof(plain));
		rotated_name(o, i, 1, gz, sizeof(gz));
		if (!exists(plain))
			continue;
		/* A .gz beside its source is complete: it was renamed into
		 * place only after gzclose. */
		if (!exists(gz)) {
			rc = gzip_file(plain, gz, o->sync);
			if (rc)
				return rc;
		}
		if (unlink(plain) < 0)
			return -errno;
	}
	return 0;
}

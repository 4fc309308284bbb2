/* SPDX-License-Identifier: MIT */
/*
 * bench_util.c - small helpers every ring-bench transport uses: errors,
 * the clock, full reads and writes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

/* Print "ring-bench: <message>" on stderr as one line. */
void bench_err(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\n", BENCH_PROG, line);
}

/* Current CLOCK_MONOTONIC time in nanoseconds. */
uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Write all of @buf to @fd, retrying short writes and EINTR.
 * Returns 0 or -errno. */
int bench_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read up to @len bytes from @fd, retrying EINTR. Returns the count, 0 at
 * end of file, or -errno. */
long bench_read_some(int fd, void *buf, size_t len)
{
	for (;;) {
		ssize_t n = read(fd, buf, len);

		if (n >= 0)
			return (long)n;
		if (errno != EINTR)
			return -errno;
	}
}

/* Fill @msg (of @size bytes) with a fixed byte pattern. */
void bench_fill(void *msg, uint32_t size)
{
	unsigned char *p = msg;
	uint32_t i;

	for (i = 0; i < size; i++)
		p[i] = (unsigned char)(i * 31u + 7u);
}

/* Messages all members of @m's group have taken so far, as published. A
 * member's own count is current; the others' may lag by a batch, which
 * only delays the moment a member sees its group done. */
uint64_t bench_tally_total(const struct bench_member *m)
{
	uint64_t total = 0;
	uint32_t i;

	for (i = 0; i < m->members; i++)
		total += i == m->me ? m->count :
			 __atomic_load_n(&m->tally[i].taken, __ATOMIC_ACQUIRE);
	return total;
}

/* SPDX-License-Identifier: MIT */
/*
 * fuzz_open.c - libFuzzer target for opening and validating ring files.
 *
 * Each input is the whole content of a ring file. It is written to a file
 * in /dev/shm (one per process), opened, and if it opens, used the way a
 * tool and a reader would: counters, ring_check, the group list, a reader
 * with a few non-blocking peeks and skips (and one short wait so that dead
 * claims are recovered), a small send, ring_repair. Before that, an
 * observer reads it (copies, views, seeks) and a copy-on-write handle
 * (RING_OPEN_PRIVATE) repairs it; neither may change a byte of the file
 * (the target aborts if one does). Every input is tried
 * twice: as it is, and with its superblock checksum made right, so that the
 * mutations also reach the checks behind the checksum.
 *
 * Built by `make fuzz` (tests/fuzz.mk) with clang -fsanitize=fuzzer,address;
 * tests/t_fuzz_corpus.c includes this file to run the seed corpus as part
 * of `make check`.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ring.h"
#include "../../libring/src/layout.h"

/* The library's superblock checksum (libring/src/file.c). */
uint64_t rl_super_checksum(const struct rl_super *sb);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_path[64];

/* Writes @size bytes at @data to the fuzz file. Returns 0 or -1. */
static int fuzz_write_file(const uint8_t *data, size_t size)
{
	int fd = open(fuzz_path, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW |
				 O_CLOEXEC, 0600);
	size_t done = 0;

	if (fd < 0)
		return -1;
	while (done < size) {
		ssize_t w = write(fd, data + done, size - done);

		if (w <= 0) {
			close(fd);
			return -1;
		}
		done += (size_t)w;
	}
	close(fd);
	return 0;
}

/* Reads what a reader of @group gets: a few messages, skips, one short
 * wait that lets a dead claim be recovered. */
static void fuzz_read(struct ring *r, const char *group, unsigned flags)
{
	struct ring_reader *rd;
	struct ring_msg m;
	unsigned i, waited = 0;
	uint64_t sum = 0;

	if (ring_reader_open(r, group, flags, &rd) != 0)
		return;
	for (i = 0; i < 16; i++) {
		int rc = ring_peek(rd, &m, RING_NONBLOCK, NULL);

		if (rc == -EAGAIN && !waited) {
			struct timespec dl;

			waited = 1;
			clock_gettime(CLOCK_MONOTONIC, &dl);
			dl.tv_nsec += 2000000;
			if (dl.tv_nsec >= 1000000000) {
				dl.tv_sec++;
				dl.tv_nsec -= 1000000000;
			}
			rc = ring_peek(rd, &m, 0, &dl);
		}
		if (rc == 0) {
			const volatile uint8_t *p = m.data;
			uint32_t j;

			for (j = 0; j < m.len; j++)
				sum += p[j];
			ring_release(rd);
		} else if (rc == -EBADMSG) {
			if (ring_reader_skip(rd) <= 0)
				break;
		} else {
			break;
		}
	}
	(void)sum;
	ring_reader_close(rd);
}

/* FNV-1a of the fuzz file's bytes (0 if it cannot be read). */
static uint64_t fuzz_file_sum(void)
{
	uint8_t buf[4096];
	uint64_t h = 0xcbf29ce484222325ull;
	ssize_t n;
	int fd = open(fuzz_path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++)
			h = (h ^ buf[i]) * 0x100000001b3ull;
	close(fd);
	return h;
}

/* What an observer gets: copies, views, seeks; nothing may be written. */
static void fuzz_observe(void)
{
	struct ring_observer_stats os;
	struct ring_check_report rep;
	struct ring_observer *o;
	struct ring_msg m;
	struct ring *p;
	uint8_t buf[512];
	uint64_t sum = 0, before = fuzz_file_sum();

	if (ring_observer_open(fuzz_path, 0, &o) == 0) {
		ring_set_spin(ring_observer_ring(o), 0);
		ring_set_recovery_ms(ring_observer_ring(o), 0);
		for (int pass = 0; pass < 3; pass++) {
			for (int i = 0; i < 24; i++) {
				int rc = pass == 1 ?
					ring_observer_peek(o, &m, RING_NONBLOCK, NULL) :
					ring_observer_copy(o, &m, buf, sizeof(buf),
							   RING_NONBLOCK, NULL);

				if (rc == 0 && pass == 1) {
					const volatile uint8_t *d = m.data;

					for (uint32_t j = 0; j < m.len; j++)
						sum += d[j];
					rc = ring_observer_release(o);
				}
				if (rc && rc != -EBADMSG && rc != -EOVERFLOW &&
				    rc != -EMSGSIZE)
					break;
				if (rc == -EMSGSIZE)
					ring_observer_seek(o, RING_OBSERVE_AT,
							   m.pos + m.slots);
			}
			ring_observer_stats(o, &os);
			ring_observer_seek(o, pass ? RING_OBSERVE_NEWEST :
						     RING_OBSERVE_AT,
					   os.position - os.skipped - 1);
		}
		ring_observer_close(o);
	}
	/* A dry run of the repair on a private copy. */
	if (ring_open(fuzz_path, RING_OPEN_PRIVATE, &p) == 0) {
		ring_set_recovery_ms(p, 0);
		ring_repair(p, &rep);
		ring_check(p, &rep);
		ring_close(p);
	}
	if (fuzz_file_sum() != before)
		abort(); /* an observer or a private handle wrote the file */
	(void)sum;
}

/* Opens the fuzz file and, if it opens, exercises the ring. */
static void fuzz_exercise(void)
{
	char names[4][RING_GROUP_NAME_MAX + 1];
	struct ring_check_report rep;
	struct ring_group_stats gs;
	struct ring_stats st;
	struct ring *r;
	int n, i;

	fuzz_observe();
	if (ring_open(fuzz_path, 0, &r) != 0)
		return;
	ring_set_recovery_ms(r, 0);
	ring_set_spin(r, 0);
	ring_stats(r, &st);
	ring_check(r, &rep);
	n = ring_group_list(r, names, 4);
	for (i = 0; i < n && i < 4; i++) {
		names[i][RING_GROUP_NAME_MAX] = 0;
		ring_group_stats(r, names[i], &gs);
	}
	if (n > 0)
		fuzz_read(r, names[0], 0);
	fuzz_read(r, "fuzz", RING_GROUP_CREATE);
	ring_send(r, 1, "fuzz", 4, RING_FULL_FAIL, NULL);
	ring_repair(r, &rep);
	ring_check(r, &rep);
	ring_close(r);
}

/*
 * The fuzz entry point: @data is a ring file's content. Inputs with no
 * magic are passed over: ring_open waits for such a file to finish being
 * created, which only slows the fuzzer down.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rl_super sb;
	uint8_t *copy;

	if (!fuzz_path[0])
		snprintf(fuzz_path, sizeof(fuzz_path),
			 "/dev/shm/libring-fuzz.%d", (int)getpid());
	if (size == 0 || (size >= sizeof(sb) &&
			  memcmp(data, "\0\0\0\0\0\0\0\0", 8) == 0))
		return 0;
	if (fuzz_write_file(data, size) == 0)
		fuzz_exercise();
	if (size >= sizeof(sb)) {
		memcpy(&sb, data, sizeof(sb));
		sb.checksum = rl_super_checksum(&sb);
		copy = malloc(size);
		if (copy) {
			memcpy(copy, data, size);
			memcpy(copy, &sb, sizeof(sb));
			if (fuzz_write_file(copy, size) == 0)
				fuzz_exercise();
			free(copy);
		}
	}
	unlink(fuzz_path);
	return 0;
}

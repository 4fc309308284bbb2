// SPDX-License-Identifier: MIT
/*
 * ceiling.c - what this machine allows, without libring: the round trip of
 * one cache line between two processes, and the rate of a minimal
 * single-producer ring of 80-byte records (the size of a 64-byte libring
 * message with its header) with no headers, no commit words and no waiting.
 * It publishes its tail every B records. libring's numbers are meaningful
 * against these.
 *
 *   ring-ceiling [RECORDS]       (make bench-ceiling)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define AREA (1u << 20)
#define REC 80u
#define PINGS 200000

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void pause_cpu(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ __volatile__("pause");
#endif
}

/* Two processes bounce a counter in one shared cache line. */
static void ping_pong(void)
{
	volatile uint64_t *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
				    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	volatile uint64_t *a = m, *b = m + 512;
	uint64_t *lat = malloc(PINGS * sizeof(*lat));

	if (m == MAP_FAILED || !lat)
		exit(1);
	if (fork() == 0) {
		for (uint64_t i = 1; i <= PINGS; i++) {
			while (*a != i)
				pause_cpu();
			*b = i;
		}
		_exit(0);
	}
	for (uint64_t i = 1; i <= PINGS; i++) {
		double t = now();

		*a = i;
		while (*b != i)
			pause_cpu();
		lat[i - 1] = (uint64_t)((now() - t) * 1e9);
	}
	wait(NULL);
	qsort(lat, PINGS, sizeof(*lat), cmp_u64);
	printf("cache-line round trip between two processes: p50 %llu ns, p99 %llu ns\n",
	       (unsigned long long)lat[PINGS / 2],
	       (unsigned long long)lat[PINGS * 99 / 100]);
	free(lat);
}

/* A minimal SPSC ring: records copied in, tail published every @batch. */
static void stream(uint64_t n, unsigned batch)
{
	uint8_t *m = mmap(NULL, AREA + 8192, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	uint64_t *tail = (uint64_t *)m, *head = (uint64_t *)(m + 4096);
	uint8_t *buf = m + 8192, rec[REC] = { 1 };
	uint64_t nrec = AREA / REC;
	double t0;

	if (m == MAP_FAILED)
		exit(1);
	if (fork() == 0) {
		uint64_t h = 0, t, sum = 0;

		while (h < n) {
			while ((t = __atomic_load_n(tail, __ATOMIC_ACQUIRE)) == h)
				pause_cpu();
			for (; h < t; h++)
				sum += *(uint64_t *)(buf + (h % nrec) * REC);
			__atomic_store_n(head, h, __ATOMIC_RELEASE);
		}
		_exit(sum == 0);
	}
	t0 = now();
	for (uint64_t i = 0; i < n;) {
		while (i + batch - __atomic_load_n(head, __ATOMIC_ACQUIRE) > nrec)
			pause_cpu();
		for (unsigned k = 0; k < batch; k++, i++) {
			memcpy(rec, &i, sizeof(i));
			memcpy(buf + (i % nrec) * REC, rec, REC);
		}
		__atomic_store_n(tail, i, __ATOMIC_RELEASE);
	}
	wait(NULL);
	printf("bare ring of %u-byte records, tail published every %2u: %6.1f M records/s\n",
	       REC, batch, (double)n / (now() - t0) / 1e6);
	munmap(m, AREA + 8192);
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : 20000000;

	ping_pong();
	stream(n / 4, 1);
	stream(n, 32);
	return 0;
}

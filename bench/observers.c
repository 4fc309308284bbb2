// SPDX-License-Identifier: MIT
/*
 * observers.c - ring-observer-bench: does attaching observers change a
 * producer's rate? A producer process sends N 64-byte messages to a ring
 * with one consumer group (a reader process drains it with ring_poll);
 * its rate is measured alone (A) and with K observer processes attached
 * (B), in interleaved rounds A B A B ..., and the median of the per-round
 * ratios B / A is reported. The observers either follow the ring
 * (ring_observer_copy in a loop, lapped as often as they fall behind),
 * at nice 0 or nice 19, or are stopped with SIGSTOP after they attached.
 *
 *   ring-observer-bench [--rounds R] [--messages N] [--observers K]
 *                       [--mode stopped|follow|follow-nice]
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ring.h"

#define MSG 64

struct shared {
	int stop;
	int attached;
	uint64_t observed, lost;
};

static struct shared *sh;
static char path[64];

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int count_one(const struct ring_msg *m, void *arg)
{
	(void)m;
	(*(uint64_t *)arg)++;
	return 0;
}

static void reader(uint64_t n)
{
	struct ring_reader *rd;
	struct ring *r;
	uint64_t got = 0;

	if (ring_open(path, 0, &r) || ring_reader_open(r, "g", 0, &rd))
		_exit(2);
	__atomic_add_fetch(&sh->attached, 1, __ATOMIC_RELEASE);
	while (got < n)
		if (ring_poll(rd, count_one, &got, 256, 0, NULL) < 0)
			_exit(3);
	_exit(0);
}

static void observer(int nice_level)
{
	struct ring_observer_stats st;
	struct ring_observer *o;
	struct ring_msg m;
	struct timespec dl;
	char buf[256];
	uint64_t seen = 0;

	if (nice_level)
		setpriority(PRIO_PROCESS, 0, nice_level);
	if (ring_observer_open(path, 0, &o))
		_exit(2);
	ring_observer_seek(o, RING_OBSERVE_NEWEST, 0);
	__atomic_add_fetch(&sh->attached, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
		clock_gettime(CLOCK_MONOTONIC, &dl);
		dl.tv_nsec += 10000000;
		if (dl.tv_nsec >= 1000000000) {
			dl.tv_sec++;
			dl.tv_nsec -= 1000000000;
		}
		if (ring_observer_copy(o, &m, buf, sizeof(buf), 0, &dl) == 0)
			seen++;
	}
	ring_observer_stats(o, &st);
	__atomic_add_fetch(&sh->observed, seen, __ATOMIC_RELAXED);
	__atomic_add_fetch(&sh->lost, st.lost, __ATOMIC_RELAXED);
	_exit(0);
}

/* One run: the producer's messages per second, with @k observers. */
static double run(uint64_t n, int k, const char *mode)
{
	struct ring_config cfg;
	struct ring *r;
	pid_t rpid, opid[16];
	char payload[MSG];
	uint64_t t0, t1;
	int status;

	ring_config_init(&cfg);
	cfg.capacity = 1 << 20;
	unlink(path);
	if (ring_create(path, &cfg, 0, &r) || ring_group_create(r, "g", 0)) {
		fprintf(stderr, "ring_create failed\n");
		exit(1);
	}
	memset(sh, 0, sizeof(*sh));
	rpid = fork();
	if (rpid == 0)
		reader(n);
	for (int i = 0; i < k; i++) {
		opid[i] = fork();
		if (opid[i] == 0)
			observer(strcmp(mode, "follow-nice") ? 0 : 19);
	}
	while (__atomic_load_n(&sh->attached, __ATOMIC_ACQUIRE) < 1 + k)
		usleep(1000);
	if (!strcmp(mode, "stopped"))
		for (int i = 0; i < k; i++) {
			kill(opid[i], SIGSTOP);
			waitpid(opid[i], &status, WUNTRACED);
		}
	memset(payload, 'x', sizeof(payload));
	t0 = now_ns();
	for (uint64_t i = 0; i < n; i++) {
		memcpy(payload, &i, sizeof(i));
		if (ring_send(r, 1, payload, sizeof(payload), 0, NULL)) {
			fprintf(stderr, "ring_send failed\n");
			exit(1);
		}
	}
	t1 = now_ns();
	waitpid(rpid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "the reader failed\n");
		exit(1);
	}
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < k; i++) {
		if (!strcmp(mode, "stopped"))
			kill(opid[i], SIGCONT);
		waitpid(opid[i], &status, 0);
	}
	ring_close(r);
	unlink(path);
	return n / ((t1 - t0) / 1e9);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	uint64_t n = 5000000;
	int rounds = 7, k = 4;
	const char *mode = "stopped";
	double ratio[64];

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--rounds"))
			rounds = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--messages"))
			n = strtoull(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--observers"))
			k = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--mode"))
			mode = argv[i + 1];
	}
	if (rounds < 1 || rounds > 64 || k < 0 || k > 16 ||
	    (strcmp(mode, "stopped") && strcmp(mode, "follow") &&
	     strcmp(mode, "follow-nice"))) {
		fprintf(stderr, "usage: ring-observer-bench [--rounds 1..64] "
			"[--messages N] [--observers 0..16] "
			"[--mode stopped|follow|follow-nice]\n");
		return 2;
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 1;
	snprintf(path, sizeof(path), "/dev/shm/ring-observer-bench.%d",
		 (int)getpid());
	printf("round,alone_msgs_per_s,with_%d_observers_%s,ratio,observed,lost_positions\n",
	       k, mode);
	for (int i = 0; i < rounds; i++) {
		double a = run(n, 0, mode);
		double b = run(n, k, mode);

		ratio[i] = b / a;
		printf("%d,%.0f,%.0f,%.3f,%llu,%llu\n", i + 1, a, b, ratio[i],
		       (unsigned long long)sh->observed,
		       (unsigned long long)sh->lost);
		fflush(stdout);
	}
	qsort(ratio, (size_t)rounds, sizeof(ratio[0]), cmp_double);
	printf("median ratio (with / without %d %s observers): %.3f\n", k, mode,
	       ratio[rounds / 2]);
	return 0;
}

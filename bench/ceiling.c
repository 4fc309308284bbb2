// SPDX-License-Identifier: MIT
/*
 * ceiling.c - what this machine allows without libring: the round trip of
 * one cache line between two processes, and the rate of the best simple
 * single-writer rings, the yardstick libring's message path is measured
 * against (make bench-ceiling; make bench-compare uses the best of a and b).
 *
 * Both rings move 80-byte records (a 64-byte payload behind a 16-byte
 * header, the size of a 64-byte libring message) through a 1 MiB shared
 * area between two processes that spin, and keep only what such a design
 * needs:
 *
 *   - no shared tail word: each record carries its own commit word, in the
 *     record's first cache line (the line the reader reads anyway), whose
 *     value is unique to the record's position (position + 1), so a stale
 *     record can never pass for a new one;
 *   - the reader publishes its read position only once per batch: when it
 *     has caught up with the writer, or every READ_MAX records;
 *   - a reader that has caught up with a streaming writer lets it get a run
 *     of records ahead before it reads again (see reader());
 *   - the writer keeps its own copy of the reader's position and reads the
 *     shared one again only when the ring looks full;
 *   - the writer asks for write ownership (PREFETCHW) of the lines of the
 *     record about 1 KiB ahead of the one it writes, so that the transfers
 *     of the lines the reader read a lap ago overlap (libring's single
 *     producer does the same).
 *
 *   a: the writer commits every record as soon as it is written;
 *   b: the writer writes a burst of 32 records, then their 32 commit words
 *      (what a batch send does: the reader then finds them ready together);
 *   c: as a, in libring's own format: 16-byte slots, a record takes 5 of
 *      them (the 16-byte header and the payload), and the commit words are
 *      an array of their own, 8 bytes per slot, apart from the records. Not
 *      a better ring than a: the gap between a and c is what the format
 *      costs, the gap between c and libring what its code costs.
 *
 * The reader reads every record's first payload word and checks the sum and
 * the length, so nothing is skipped. The first tenth of the records is a
 * warm-up; the time runs from the reader's taking record n/10 to its last.
 *
 *   ring-ceiling [-n RECORDS] [-p PINGS] [-c R/P] [cpus] [rtt] [a] [b] [c]
 *                                          (default: rtt a b c)
 *
 * -c R/P runs the reader (rtt: the pong side) on CPU R and the writer on
 * CPU P, as ring-bench --cpus does (pin.h). 'cpus' measures how fast each
 * CPU this process may use runs a fixed chain of dependent steps: on a
 * virtual machine they can differ by a factor of two for minutes.
 *
 * Output, one line each (bench/compare.sh reads the first words):
 *   cpus: 0 N ns 1 N ns ...   (per step; lower is faster)
 *   rtt: p50 N ns, p99 N ns, near|far
 *   ceiling-a: X M msg/s ...
 *   ceiling-b: X M msg/s ...
 *   ceiling-c: X M msg/s ...
 */
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pin.h"

#define AREA (1u << 20)		/* the record area */
#define PAYLOAD 64u
#define BURST 32u		/* records per commit in design b */
#define READ_MAX 1024u		/* the reader publishes at least this often */
#define COALESCE 1024u		/* a run worth waiting for ... */
#define COALESCE_NS 5000u	/* ... for at most this long */
#define NEAR_NS 250		/* round trips below this: the vCPUs are near */
#define AHEAD 13u		/* records prefetched ahead: about 1 KiB */

/* -c R/P: the reader's and the writer's CPU (none: the scheduler's). */
static struct pin_plan plan;

/* Move this process, number @k of @side, to its CPU, or end the
 * program. */
static void place_nth(enum pin_side side, unsigned k)
{
	int err = pin_self(&plan, side, k);

	if (err) {
		fprintf(stderr, "ring-ceiling: -c: cannot move to a CPU: %s\n",
			strerror(-err));
		exit(1);
	}
}

/* The same for the first (or only) process of @side. */
static void place(enum pin_side side)
{
	place_nth(side, 0);
}

/* One record: the 16-byte header, then the payload. */
struct rec {
	uint64_t commit;	/* position + 1 once committed */
	uint32_t len;
	uint32_t type;
	unsigned char payload[PAYLOAD];
};

_Static_assert(sizeof(struct rec) == 80, "80-byte records");

#define NREC (AREA / sizeof(struct rec))	/* 13107 records */

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Ask for the line at @p with the intent to write it (a hint). */
static void prefetch_write(const void *p)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ __volatile__("prefetchw %0" : : "m"(*(const char *)p));
#else
	__builtin_prefetch(p, 1, 3);
#endif
}

/* The first and last line of the @len bytes at @p. */
static void prefetch_span(const void *p, size_t len)
{
	prefetch_write(p);
	prefetch_write((const char *)p + len - 1);
}

static void pause_cpu(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ __volatile__("pause");
#endif
}

/* A shared anonymous mapping of @len bytes, zeroed (and so faulted in). */
static void *shared(size_t len)
{
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED) {
		perror("ring-ceiling: mmap");
		exit(1);
	}
	memset(m, 0, len);
	return m;
}

/* Two processes bounce a counter between two cache lines. */
static void ping_pong(unsigned pings)
{
	volatile uint64_t *m = shared(8192);
	volatile uint64_t *a = m, *b = m + 512;
	uint64_t *lat = malloc(pings * sizeof(*lat)), p50;

	if (!lat)
		exit(1);
	if (fork() == 0) {
		place(PIN_READERS);
		for (uint64_t i = 1; i <= pings; i++) {
			while (*a != i)
				pause_cpu();
			*b = i;
		}
		_exit(0);
	}
	place(PIN_PRODUCERS);
	for (uint64_t i = 1; i <= pings; i++) {
		uint64_t t = now_ns();

		*a = i;
		while (*b != i)
			pause_cpu();
		lat[i - 1] = now_ns() - t;
	}
	wait(NULL);
	qsort(lat, pings, sizeof(*lat), cmp_u64);
	p50 = lat[pings / 2];
	printf("rtt: p50 %llu ns, p99 %llu ns, %s (cache-line round trip "
	       "between two processes)\n", (unsigned long long)p50,
	       (unsigned long long)lat[(uint64_t)pings * 99 / 100],
	       p50 < NEAR_NS ? "near" : "far");
	free(lat);
	munmap((void *)m, 8192);
}

/* What the reader hands back. */
struct result {
	uint64_t t0, t1;	/* reader's clock at record n/10 and at the end */
	int bad;
};

/*
 * A reader's bookkeeping, the same for every design: it takes every record
 * in order and publishes its position once per batch (when it has caught
 * up, or every READ_MAX records). When it has caught up with a writer that
 * is streaming, it does not poll the next record (that line is the one
 * being written: both sides would trade it store by store) but the commit
 * word COALESCE records ahead, every 32 pauses, for at most COALESCE_NS,
 * and then reads the whole run in one go. (libring's reader does the same,
 * RL_COALESCE_*.)
 */
struct reader {
	uint64_t *head;		/* the shared position, reader-written */
	uint64_t n;		/* records to take */
	uint64_t h;		/* records taken */
	uint64_t pub;		/* position last published */
	uint64_t run;		/* records taken since the last wait */
	uint64_t sum;		/* of the records' first payload words */
	struct result *res;
};

static void reader_publish(struct reader *rd)
{
	/* R3: pairs with A3 in the writer. */
	__atomic_store_n(rd->head, rd->h, __ATOMIC_RELEASE);
	rd->pub = rd->h;
}

/* The record at the reader's position is not committed. @ahead(@arg, k)
 * is the commit word of record k and @value(k) the value that commits it. */
static void reader_wait(struct reader *rd,
			const uint64_t *(*ahead)(const void *, uint64_t),
			uint64_t (*value)(uint64_t), const void *arg)
{
	if (rd->pub != rd->h)	/* caught up: publish, then wait */
		reader_publish(rd);
	if (rd->run > 1) {	/* streaming: let the writer get ahead */
		uint64_t far = rd->h + COALESCE < rd->n ? rd->h + COALESCE : rd->n;
		const uint64_t *c = ahead(arg, far - 1);
		uint64_t until = now_ns() + COALESCE_NS;

		do {
			for (int k = 0; k < 32; k++)
				pause_cpu();
		} while (__atomic_load_n(c, __ATOMIC_RELAXED) != value(far - 1) &&
			 now_ns() < until);
	}
	rd->run = 0;
	pause_cpu();
}

/* The record at the reader's position was taken: @word its first word. */
static void reader_took(struct reader *rd, uint64_t word)
{
	rd->sum += word;
	rd->h++;
	rd->run++;
	if (rd->h - rd->pub >= READ_MAX)
		reader_publish(rd);
	if (rd->h == rd->n / 10)
		rd->res->t0 = now_ns();
}

/* All taken: the end of the time, and the sum of 0 .. n - 1. */
static void reader_done(struct reader *rd)
{
	uint64_t n = rd->n;

	rd->res->t1 = now_ns();
	if (rd->sum != (n % 2 ? n * ((n - 1) / 2) : (n / 2) * (n - 1)))
		rd->res->bad = 1;
}

/*
 * The end of a run: wait for the reader forked as @pid, exit on its
 * failure, and return the rate in M records/s over the timed @n - n/10.
 */
static double reader_rate(const char *name, pid_t pid, uint64_t n,
			  const struct result *res)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || status != 0 || res->bad) {
		fprintf(stderr, "ring-ceiling: %s: the reader failed\n", name);
		exit(1);
	}
	return (double)(n - n / 10) * 1e3 / (double)(res->t1 - res->t0);
}

/* Design a and b: record k's commit word, and its value when committed. */
static const uint64_t *rec_commit(const void *ring, uint64_t k)
{
	return &((const struct rec *)ring)[k % NREC].commit;
}

static uint64_t rec_committed(uint64_t k)
{
	return k + 1;
}

/* The reader of designs a and b. */
static void reader(struct rec *ring, uint64_t *head, uint64_t n,
		   struct result *res)
{
	struct reader rd = { .head = head, .n = n, .res = res };
	uint32_t i = 0;

	while (rd.h < n) {
		struct rec *r = &ring[i];

		/* A1: pairs with R1/R2 in the writer. */
		if (__atomic_load_n(&r->commit, __ATOMIC_ACQUIRE) !=
		    rec_committed(rd.h)) {
			reader_wait(&rd, rec_commit, rec_committed, ring);
			continue;
		}
		if (r->len != PAYLOAD)
			res->bad = 1;
		reader_took(&rd, *(const uint64_t *)(const void *)r->payload);
		i = i + 1 == NREC ? 0 : i + 1;
	}
	reader_done(&rd);
}

/* Run design a (@burst == 1) or b (@burst == BURST) over @n records. */
static void stream(const char *name, uint64_t n, uint32_t burst)
{
	unsigned char *m = shared(AREA + 4096);
	uint64_t *head = (uint64_t *)(void *)m;	/* reader-written line */
	struct rec *ring = (struct rec *)(void *)(m + 4096);
	struct result *res = shared(sizeof(*res));
	unsigned char src[PAYLOAD];
	uint64_t p = 0, seen = 0;	/* seen: cached reader position */
	uint32_t i = 0;
	pid_t pid;

	n -= n % burst;
	memset(src, 0x5a, sizeof(src));
	pid = fork();
	if (pid == 0) {
		place(PIN_READERS);
		reader(ring, head, n, res);
		_exit(0);
	}
	place(PIN_PRODUCERS);
	while (p < n) {
		uint32_t first = i;

		/* Room for the burst? Re-read the reader's position only
		 * when the cached one says the ring is full. */
		if (p + burst - seen > NREC) {
			/* A3: pairs with R3 in the reader. */
			while (p + burst - (seen = __atomic_load_n(head,
						__ATOMIC_ACQUIRE)) > NREC)
				pause_cpu();
		}
		for (uint32_t k = 0; k < burst; k++) {
			struct rec *r = &ring[i];
			uint64_t v = p + k;

			prefetch_span(&ring[(i + AHEAD) % NREC], sizeof(*r));
			memcpy(src, &v, sizeof(v));
			memcpy(r->payload, src, PAYLOAD);
			r->len = PAYLOAD;
			if (burst == 1)	/* R1: pairs with A1 in the reader */
				__atomic_store_n(&r->commit, p + 1,
						 __ATOMIC_RELEASE);
			i = i + 1 == NREC ? 0 : i + 1;
		}
		if (burst > 1) {
			/* R2: one release for the burst, pairs with A1. */
			__atomic_thread_fence(__ATOMIC_RELEASE);
			for (uint32_t k = 0; k < burst; k++) {
				__atomic_store_n(&ring[first].commit, p + k + 1,
						 __ATOMIC_RELAXED);
				first = first + 1 == NREC ? 0 : first + 1;
			}
		}
		p += burst;
	}
	printf("%s: %6.1f M msg/s (%u-byte payloads in %u-byte records, "
	       "1 MiB, commit word per record, %s)\n", name,
	       reader_rate(name, pid, n, res), PAYLOAD, (unsigned)sizeof(struct rec),
	       burst == 1 ? "committed one by one"
			  : "committed per burst of 32");
	fflush(stdout);
	munmap(m, AREA + 4096);
	munmap(res, sizeof(*res));
}

/*
 * Design c: libring's layout. SLOTS_C 16-byte slots (a multiple of 5, so
 * that no record crosses the end: libring maps its slots twice instead),
 * and a commit array of SLOTS_C words, commit[s] == position + 1 when the
 * record starting at slot position s is committed.
 */
#define SLOT_C 16u
#define REC_SLOTS 5u		/* (16 + 64) / 16 */
#define SLOTS_C (NREC * REC_SLOTS)	/* 65535 slots, 13107 records */

struct hdr_c {			/* libring's struct rl_msg_hdr */
	uint32_t len;
	uint32_t type;
	uint32_t flags;
	uint32_t pid;
};

struct ring_c {
	uint64_t *commit;	/* SLOTS_C words */
	unsigned char *slots;	/* SLOTS_C * SLOT_C bytes */
};

/* The commit word of record @k (0, 1, ...), and its header. */
static uint64_t *commit_of(const struct ring_c *rc, uint64_t k)
{
	return &rc->commit[(k * REC_SLOTS) % SLOTS_C];
}

static struct hdr_c *hdr_of(const struct ring_c *rc, uint64_t k)
{
	return (struct hdr_c *)(void *)(rc->slots +
					(k * REC_SLOTS) % SLOTS_C * SLOT_C);
}

/* Design c: record k's commit word, and its value when committed. */
static const uint64_t *c_commit(const void *rc, uint64_t k)
{
	return commit_of(rc, k);
}

static uint64_t c_committed(uint64_t k)
{
	return k * REC_SLOTS + 1;
}

/* The reader of design c: reader()'s, in libring's layout. */
static void reader_c(const struct ring_c *rc, uint64_t *head, uint64_t n,
		     struct result *res)
{
	struct reader rd = { .head = head, .n = n, .res = res };

	while (rd.h < n) {
		const struct hdr_c *hd = hdr_of(rc, rd.h);

		/* A1: pairs with R1 in stream_c(). */
		if (__atomic_load_n(commit_of(rc, rd.h), __ATOMIC_ACQUIRE) !=
		    c_committed(rd.h)) {
			reader_wait(&rd, c_commit, c_committed, rc);
			continue;
		}
		if (hd->len != PAYLOAD || hd->flags)
			res->bad = 1;
		reader_took(&rd, *(const uint64_t *)(const void *)(hd + 1));
	}
	reader_done(&rd);
}

/* Design c over @n records: header, payload, commit word per record. */
static void stream_c(const char *name, uint64_t n)
{
	size_t len = 4096 + SLOTS_C * 8 + SLOTS_C * SLOT_C;
	unsigned char *m = shared(len);
	uint64_t *head = (uint64_t *)(void *)m;	/* reader-written line */
	struct ring_c rc = { (uint64_t *)(void *)(m + 4096),
			     m + 4096 + SLOTS_C * 8 };
	struct result *res = shared(sizeof(*res));
	unsigned char src[PAYLOAD];
	uint64_t p, seen = 0;
	pid_t pid;

	memset(src, 0x5a, sizeof(src));
	pid = fork();
	if (pid == 0) {
		place(PIN_READERS);
		reader_c(&rc, head, n, res);
		_exit(0);
	}
	place(PIN_PRODUCERS);
	for (p = 0; p < n; p++) {
		struct hdr_c *hd = hdr_of(&rc, p);

		if (p + 1 - seen > NREC) {	/* A3: pairs with R3 */
			while (p + 1 - (seen = __atomic_load_n(head,
						__ATOMIC_ACQUIRE)) > NREC)
				pause_cpu();
		}
		prefetch_span(hdr_of(&rc, p + AHEAD), REC_SLOTS * SLOT_C);
		prefetch_write(commit_of(&rc, p + AHEAD));
		memcpy(src, &p, sizeof(p));
		hd->len = PAYLOAD;
		hd->type = 0;
		hd->flags = 0;
		hd->pid = 1;
		memcpy(hd + 1, src, PAYLOAD);
		/* R1: header and payload before the commit word. */
		__atomic_store_n(commit_of(&rc, p), c_committed(p),
				 __ATOMIC_RELEASE);
	}
	printf("%s: %6.1f M msg/s (%u-byte payloads in %u-byte slots, 1 MiB, "
	       "libring's layout: commit words apart)\n", name,
	       reader_rate(name, pid, n, res), PAYLOAD, SLOT_C);
	fflush(stdout);
	munmap(m, len);
	munmap(res, sizeof(*res));
}

/*
 * Design l: two writers, each with a lane of its own (a design-a ring of
 * half the area, NREC_L records, and its own reader position), and one
 * reader that takes what is committed in each lane in turn. Nothing is
 * shared between the writers, so this is the best a multi-producer ring
 * can do on this machine when the order across producers need not be
 * kept: what libring's two producers (one shared tail) are measured
 * against. Writer w writes the values w, w + 2, w + 4, ... so that the
 * reader's sum checks every record of both. Three processes share the
 * build machine's two CPUs, so a side that waits gives up its CPU now and
 * then (idle_pause()): a writer and the reader sharing a CPU then hand
 * over a lane's worth of records in that CPU's cache.
 */
#define LANES 2u
#define NREC_L (NREC / LANES)
#define TAKE_MAX 256u		/* records taken from a lane at a time */

struct lane {
	uint64_t *head;		/* the lane's reader position (own line) */
	struct rec *recs;	/* NREC_L records */
	uint64_t h;		/* records taken from it */
	uint64_t pub;		/* position last published */
};

static void lane_publish(struct lane *ln)
{
	/* R3: pairs with A3 in writer_l(). */
	__atomic_store_n(ln->head, ln->h, __ATOMIC_RELEASE);
	ln->pub = ln->h;
}

/* A waiting side of design l after a pause: every YIELD_PAUSES pauses
 * without progress it gives up its CPU once, as libring's waits do after
 * 512 (three processes share two CPUs here). 32 was the best measured
 * (design l, M msg/s: never 24-28, every pause 42-48, every 32 pauses
 * 97-119, every 512 41-42). */
#define YIELD_PAUSES 32u

static void idle_pause(uint32_t *idle)
{
	pause_cpu();
	if (++*idle % YIELD_PAUSES == 0)
		sched_yield();
}

/* The reader of design l: up to TAKE_MAX committed records of each lane in
 * turn; when no lane has any, it publishes its positions and pauses. */
static void reader_l(struct lane *lanes, uint64_t n, struct result *res)
{
	struct reader rd = { .n = n, .res = res };	/* the totals */
	uint32_t idle = 0;

	while (rd.h < n) {
		int took = 0;

		for (uint32_t l = 0; l < LANES; l++) {
			struct lane *ln = &lanes[l];

			for (uint32_t k = 0; k < TAKE_MAX; k++) {
				const struct rec *r = &ln->recs[ln->h % NREC_L];

				/* A1: pairs with R1 in writer_l(). */
				if (__atomic_load_n(&r->commit, __ATOMIC_ACQUIRE) !=
				    ln->h + 1)
					break;
				if (r->len != PAYLOAD)
					res->bad = 1;
				rd.sum += *(const uint64_t *)(const void *)r->payload;
				ln->h++;
				took = 1;
				if (ln->h - ln->pub >= READ_MAX)
					lane_publish(ln);
				if (++rd.h == n / 10)
					res->t0 = now_ns();
			}
		}
		if (took) {
			idle = 0;
			continue;
		}
		for (uint32_t l = 0; l < LANES; l++)
			if (lanes[l].pub != lanes[l].h)
				lane_publish(&lanes[l]);
		for (int k = 0; k < 32; k++)
			idle_pause(&idle);
	}
	reader_done(&rd);
}

/* Writer @w of design l: @count records into its lane, as design a. */
static void writer_l(struct lane *ln, uint32_t w, uint64_t count)
{
	unsigned char src[PAYLOAD];
	uint64_t seen = 0;
	uint32_t idle = 0;

	memset(src, 0x5a, sizeof(src));
	for (uint64_t p = 0; p < count; p++) {
		struct rec *r = &ln->recs[p % NREC_L];
		uint64_t v = p * LANES + w;

		if (p + 1 - seen > NREC_L) {	/* A3: pairs with R3 */
			while (p + 1 - (seen = __atomic_load_n(ln->head,
						__ATOMIC_ACQUIRE)) > NREC_L)
				idle_pause(&idle);
			idle = 0;
		}
		prefetch_span(&ln->recs[(p + AHEAD) % NREC_L], sizeof(*r));
		memcpy(src, &v, sizeof(v));
		memcpy(r->payload, src, PAYLOAD);
		r->len = PAYLOAD;
		/* R1: pairs with A1 in reader_l(). */
		__atomic_store_n(&r->commit, p + 1, __ATOMIC_RELEASE);
	}
}

/*
 * Designs l and m: fork LANES writer processes, writer w running
 * @writer(@arg, w, @n / LANES), and a reader running @rdr(@arg, @n, res);
 * wait for them and return the reader's rate (M records/s).
 */
static double run_writers(const char *name, uint64_t n,
			  void (*writer)(void *, uint32_t, uint64_t),
			  void (*rdr)(void *, uint64_t, struct result *),
			  void *arg)
{
	struct result *res = shared(sizeof(*res));
	pid_t writers[LANES], pid;
	int status, failed = 0;
	double rate;

	for (uint32_t w = 0; w < LANES; w++) {
		writers[w] = fork();
		if (writers[w] == 0) {
			place_nth(PIN_PRODUCERS, w);
			writer(arg, w, n / LANES);
			_exit(0);
		}
	}
	pid = fork();
	if (pid == 0) {
		place(PIN_READERS);
		rdr(arg, n, res);
		_exit(0);
	}
	for (uint32_t w = 0; w < LANES; w++)
		if (waitpid(writers[w], &status, 0) != writers[w] || status)
			failed = 1;
	if (failed) {
		fprintf(stderr, "ring-ceiling: %s: a writer failed\n", name);
		exit(1);
	}
	rate = reader_rate(name, pid, n, res);
	munmap(res, sizeof(*res));
	return rate;
}

static void writer_l_of(void *lanes, uint32_t w, uint64_t count)
{
	writer_l(&((struct lane *)lanes)[w], w, count);
}

static void reader_l_of(void *lanes, uint64_t n, struct result *res)
{
	reader_l(lanes, n, res);
}

/* Design l over @n records, n / LANES from each writer process. */
static void stream_l(const char *name, uint64_t n)
{
	unsigned char *m = shared(AREA + LANES * 4096);
	struct lane lanes[LANES];

	n -= n % LANES;
	for (uint32_t l = 0; l < LANES; l++)
		lanes[l] = (struct lane){
			.head = (uint64_t *)(void *)(m + l * 4096),
			.recs = (struct rec *)(void *)(m + LANES * 4096 +
					l * NREC_L * sizeof(struct rec)),
		};
	printf("%s: %6.1f M msg/s (%u writer processes, a lane of %u-byte "
	       "records each, 512 KiB, one reader)\n", name,
	       run_writers(name, n, writer_l_of, reader_l_of, lanes), LANES,
	       (unsigned)sizeof(struct rec));
	fflush(stdout);
	munmap(m, AREA + LANES * 4096);
}

/*
 * Design m: LANES writers share one ring of design-a records and claim
 * each record with a compare-and-swap on a shared tail word: libring's
 * scheme for several producers without the rest of libring, to tell what
 * the scheme costs (against design l) from what libring adds. As
 * libring's producers, a writer asks for the record AHEAD after its claim
 * and backs off after a lost compare-and-swap (with neither it ran at
 * 28-40 M msg/s, with both 51-54). Design a's reader. Writer w writes the
 * values w, w + 2, ... as in design l.
 */
#define CLAIM_BACKOFF 128	/* pauses after a lost claim (libring's) */

struct shared_tail {
	struct rec *ring;	/* NREC records */
	uint64_t *head;		/* the reader's position (own line) */
	uint64_t *tail;		/* the next position to claim (own line) */
};

static void writer_m(void *arg, uint32_t w, uint64_t count)
{
	struct shared_tail *st = arg;
	unsigned char src[PAYLOAD];
	uint64_t seen = 0;
	uint32_t idle = 0;

	memset(src, 0x5a, sizeof(src));
	for (uint64_t p = 0; p < count; p++) {
		uint64_t t = __atomic_load_n(st->tail, __ATOMIC_RELAXED);
		uint64_t v = p * LANES + w;
		struct rec *r;

		for (;;) {
			if (t + 1 - seen > NREC) {
				/* A3: pairs with R3 in the reader. */
				seen = __atomic_load_n(st->head, __ATOMIC_ACQUIRE);
				if (t + 1 - seen > NREC) {
					idle_pause(&idle);
					t = __atomic_load_n(st->tail,
							    __ATOMIC_RELAXED);
					continue;
				}
			}
			/* The claim; a lost one reloads t and, after a
			 * back-off that lets the winner claim on while the
			 * line is in its cache, tries again (as libring). */
			if (__atomic_compare_exchange_n(st->tail, &t, t + 1, 0,
							__ATOMIC_RELAXED,
							__ATOMIC_RELAXED))
				break;
			for (int k = 0; k < CLAIM_BACKOFF; k++)
				pause_cpu();
		}
		idle = 0;
		r = &st->ring[t % NREC];
		/* The record a little later, as libring's producers ask. */
		prefetch_span(&st->ring[(t + AHEAD) % NREC], sizeof(*r));
		memcpy(src, &v, sizeof(v));
		memcpy(r->payload, src, PAYLOAD);
		r->len = PAYLOAD;
		/* R1: pairs with A1 in reader(). */
		__atomic_store_n(&r->commit, t + 1, __ATOMIC_RELEASE);
	}
}

static void reader_m(void *arg, uint64_t n, struct result *res)
{
	struct shared_tail *st = arg;

	reader(st->ring, st->head, n, res);
}

/* Design m over @n records, n / LANES from each writer process. */
static void stream_m(const char *name, uint64_t n)
{
	unsigned char *m = shared(AREA + 2 * 4096);
	struct shared_tail st = {
		.head = (uint64_t *)(void *)m,
		.tail = (uint64_t *)(void *)(m + 4096),
		.ring = (struct rec *)(void *)(m + 2 * 4096),
	};

	n -= n % LANES;
	printf("%s: %6.1f M msg/s (%u writer processes claiming %u-byte "
	       "records with a compare-and-swap on one tail, 1 MiB, one "
	       "reader)\n", name,
	       run_writers(name, n, writer_m, reader_m, &st), LANES,
	       (unsigned)sizeof(struct rec));
	fflush(stdout);
	munmap(m, AREA + 2 * 4096);
}

/* How fast each CPU this process may use runs (pin_cpu_speed()). */
static void cpu_speeds(void)
{
	cpu_set_t allowed;

	if (sched_getaffinity(0, sizeof(allowed), &allowed)) {
		perror("ring-ceiling: sched_getaffinity");
		exit(1);
	}
	printf("cpus:");
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		double ns;

		if (!CPU_ISSET(cpu, &allowed))
			continue;
		ns = pin_cpu_speed(cpu);
		if (ns < 0) {
			fprintf(stderr, "ring-ceiling: CPU %d: %s\n", cpu,
				strerror((int)-ns));
			exit(1);
		}
		printf(" %d %.3f ns", cpu, ns);
	}
	printf(" (per step of a dependent chain; lower is faster)\n");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	uint64_t n = 50000000;
	unsigned pings = 200000;
	int opt, all = 1;
	char why[128];

	while ((opt = getopt(argc, argv, "n:p:c:")) != -1) {
		switch (opt) {
		case 'n':
			n = strtoull(optarg, NULL, 0);
			break;
		case 'p':
			pings = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 'c':
			if (pin_parse(optarg, &plan, why, sizeof(why))) {
				fprintf(stderr, "ring-ceiling: -c: %s\n", why);
				return 2;
			}
			break;
		default:
			fprintf(stderr, "usage: ring-ceiling [-n RECORDS] "
				"[-p PINGS] [-c R/P] [cpus] [rtt] [a] [b] "
				"[c] [l] [m]\n");
			return 2;
		}
	}
	if (n < 100 * BURST || pings < 100) {
		fprintf(stderr, "ring-ceiling: at least %u records and 100 "
			"pings\n", 100 * BURST);
		return 2;
	}
	for (int k = optind; k < argc; k++) {
		all = 0;
		if (strcmp(argv[k], "cpus") == 0) {
			cpu_speeds();
		} else if (strcmp(argv[k], "rtt") == 0) {
			ping_pong(pings);
		} else if (strcmp(argv[k], "a") == 0) {
			stream("ceiling-a", n, 1);
		} else if (strcmp(argv[k], "b") == 0) {
			stream("ceiling-b", n, BURST);
		} else if (strcmp(argv[k], "c") == 0) {
			stream_c("ceiling-c", n);
		} else if (strcmp(argv[k], "l") == 0) {
			stream_l("ceiling-l", n);
		} else if (strcmp(argv[k], "m") == 0) {
			stream_m("ceiling-m", n);
		} else {
			fprintf(stderr, "ring-ceiling: '%s': cpus, rtt, a, b, "
				"c, l or m\n", argv[k]);
			return 2;
		}
	}
	if (all) {
		ping_pong(pings);
		stream("ceiling-a", n, 1);
		stream("ceiling-b", n, BURST);
		stream_c("ceiling-c", n);
		stream_l("ceiling-l", n);
		stream_m("ceiling-m", n);
	}
	return 0;
}

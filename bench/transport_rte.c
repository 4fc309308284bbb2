/* SPDX-License-Identifier: MIT */
/*
 * transport_rte.c - ring-bench over DPDK's rte_ring, the ring people
 * compare a shared-memory ring with first. Built only when pkg-config finds
 * libdpdk (HAVE_DPDK).
 *
 * No EAL: the parent maps one shared anonymous area before any fork and
 * places each ring in it with rte_ring_get_memsize_elem() and
 * rte_ring_init(); the children inherit the mapping at the same address.
 * Enqueue and dequeue are inline functions of the DPDK headers, so only
 * librte_ring is linked (for rte_ring_init and rte_ring_get_memsize_elem;
 * it brings librte_eal in as its own dependency, and nothing here calls
 * into EAL).
 *
 * Elements are the payload itself (--size rounded up to a multiple of 4,
 * as the _elem API requires; 64 for 64-byte payloads), copied in by the
 * producer and out by the reader, as rte_ring always does. The ring holds
 * the largest power of two of elements that fits --capacity (1 MiB of
 * 64-byte elements: 16384, of which rte_ring uses 16383).
 *
 * Modes:
 *   rte        one element per call (rte_ring_sp/mp_enqueue_elem,
 *              rte_ring_sc_dequeue_elem); --batch is ignored (reported 1);
 *   rte-burst  bursts of --batch (default 32) on both sides
 *              (rte_ring_sp/mp_enqueue_burst_elem, sc_dequeue_burst_elem).
 * One producer per ring: single-producer enqueue (RING_F_SP_ENQ); with
 * --producers > 1 the multi-producer (compare-and-swap) enqueue. One reader
 * per ring, always single-consumer. --groups G: G rings, every producer
 * writes every message to each (rte_ring has no fan-out).
 *
 * rte_ring never sleeps: a full or empty ring is retried with rte_pause().
 * With --wait block the bench yields the CPU (sched_yield) after 1024
 * failed tries, which is the closest a futex-less ring gets to blocking.
 */
#ifdef HAVE_DPDK

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_pause.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "bench.h"

#define RTE_YIELD_AFTER 1024u	/* failed tries before sched_yield (block) */
#define RTE_MAX_COUNT (1u << 30)

struct rte_setup {
	unsigned char *map;	/* all rings, page-aligned each */
	size_t map_len;
	size_t stride;		/* bytes from one ring to the next */
	uint32_t esize;		/* element bytes */
	uint32_t count;		/* ring slots (power of two) */
	int burst;		/* rte-burst */
};

/* The ring of channel @ch. */
static struct rte_ring *rte_channel(const struct bench *b, uint32_t ch)
{
	const struct rte_setup *rs = b->priv;

	return (struct rte_ring *)(void *)(rs->map + (size_t)ch * rs->stride);
}

/* Map the shared area and initialise one ring per channel. */
static int rte_setup_common(struct bench *b, int burst)
{
	struct rte_setup *rs = calloc(1, sizeof(*rs));
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	unsigned flags = RING_F_SC_DEQ;
	uint64_t count;
	ssize_t mem;
	uint32_t i;

	if (!rs)
		return -ENOMEM;
	b->priv = rs;
	b->channels = b->o.rtt ? 2 : b->o.groups;
	rs->burst = burst;
	if (!burst)
		b->o.batch = 1;	/* one element per call, whatever --batch */
	rs->esize = (b->o.size + 3u) & ~3u;
	count = b->o.capacity / rs->esize;
	if (count > RTE_MAX_COUNT)
		count = RTE_MAX_COUNT;
	while (count & (count - 1))
		count &= count - 1;	/* largest power of two below */
	if (count < 2 || (burst && count - 1 < b->o.batch)) {
		bench_err("%s: --capacity %llu holds too few %u-byte elements",
			  b->o.transport, (unsigned long long)b->o.capacity,
			  rs->esize);
		return -EINVAL;
	}
	rs->count = (uint32_t)count;
	mem = rte_ring_get_memsize_elem(rs->esize, rs->count);
	if (mem < 0) {
		bench_err("rte_ring_get_memsize_elem: %s", strerror((int)-mem));
		return (int)mem;
	}
	rs->stride = ((size_t)mem + page - 1) & ~(page - 1);
	rs->map_len = rs->stride * b->channels;
	rs->map = mmap(NULL, rs->map_len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (rs->map == MAP_FAILED) {
		rs->map = NULL;
		bench_err("mmap %zu bytes: %s", rs->map_len, strerror(errno));
		return -errno;
	}
	if (bench_writers(b) == 1)
		flags |= RING_F_SP_ENQ;
	for (i = 0; i < b->channels; i++) {
		char name[RTE_RING_NAMESIZE];
		int err;

		snprintf(name, sizeof(name), "bench-%u", i);
		err = rte_ring_init(rte_channel(b, i), name, rs->count, flags);
		if (err) {
			bench_err("rte_ring_init: %s", strerror(-err));
			return err;
		}
	}
	return 0;
}

static int rte_setup_one(struct bench *b)
{
	return rte_setup_common(b, 0);
}

static int rte_setup_burst(struct bench *b)
{
	return rte_setup_common(b, 1);
}

/* Unmap the rings. */
static void rte_teardown(struct bench *b)
{
	struct rte_setup *rs = b->priv;

	if (!rs)
		return;
	if (rs->map)
		munmap(rs->map, rs->map_len);
	free(rs);
	b->priv = NULL;
}

/* Map every page of ring @ch into this process now, writable, so that
 * first-touch faults stay out of the run (as RING_OPEN_PREFAULT does for
 * libring). MADV_POPULATE_WRITE (Linux 5.14) leaves the contents alone;
 * without it, reading each page maps it (shared memory maps it writable). */
static void rte_prefault(const struct bench *b, uint32_t ch)
{
	const struct rte_setup *rs = b->priv;
	volatile unsigned char *p = (unsigned char *)rte_channel(b, ch);
	size_t off;

#ifdef MADV_POPULATE_WRITE
	if (madvise((void *)p, rs->stride, MADV_POPULATE_WRITE) == 0)
		return;
#endif
	for (off = 0; off < rs->stride; off += 4096)
		(void)p[off];
}

/* One failed try on a full or empty ring: pause, or yield now and then
 * with --wait block. */
static inline void rte_backoff(int block, uint32_t *tries)
{
	if (block && ++*tries >= RTE_YIELD_AFTER) {
		*tries = 0;
		sched_yield();
		return;
	}
	rte_pause();
}

/* Producer and reader state. */
struct rte_end {
	struct rte_ring *rings[BENCH_MAX_GROUPS];
	uint32_t nring;
	uint32_t esize;
	uint32_t batch;
	int burst;
	int sp;			/* single-producer enqueue */
	int block;		/* --wait block */
	unsigned char *buf;	/* batch elements */
};

static void rte_end_free(void *st)
{
	struct rte_end *e = st;

	if (!e)
		return;
	free(e->buf);
	free(e);
}

/* An endpoint on channels [first, first + n). */
static int rte_end_new(struct bench *b, uint32_t first, uint32_t n,
		       void **st)
{
	const struct rte_setup *rs = b->priv;
	struct rte_end *e = calloc(1, sizeof(*e));
	uint32_t i;

	*st = e;
	if (!e)
		return -ENOMEM;
	e->nring = n;
	e->esize = rs->esize;
	e->batch = b->o.batch;
	e->burst = rs->burst;
	e->sp = bench_writers(b) == 1;
	e->block = b->o.wait == BENCH_WAIT_BLOCK;
	e->buf = calloc(e->batch, e->esize);
	if (!e->buf)
		return -ENOMEM;
	for (i = 0; i < e->batch; i++)
		bench_fill(e->buf + (size_t)i * e->esize, b->o.size);
	for (i = 0; i < n; i++) {
		e->rings[i] = rte_channel(b, first + i);
		rte_prefault(b, first + i);
	}
	return 0;
}

static int rte_producer_init(struct bench *b, uint32_t id, void **st)
{
	return rte_end_new(b, bench_first_channel(b, id),
			   bench_channel_count(b), st);
}

static int rte_reader_init(struct bench *b, uint32_t ch, void **st)
{
	return rte_end_new(b, ch, 1, st);
}

/* Enqueue the @k elements of e->buf into @r, retrying a full ring. */
static void rte_put(struct rte_end *e, struct rte_ring *r, uint32_t k)
{
	uint32_t done = 0, tries = 0;

	if (!e->burst) {
		/* one element per call */
		while ((e->sp ? rte_ring_sp_enqueue_elem(r, e->buf, e->esize)
			      : rte_ring_mp_enqueue_elem(r, e->buf, e->esize)) != 0)
			rte_backoff(e->block, &tries);
		return;
	}
	while (done < k) {
		const unsigned char *from = e->buf + (size_t)done * e->esize;
		unsigned n = e->sp
			? rte_ring_sp_enqueue_burst_elem(r, from, e->esize,
							 k - done, NULL)
			: rte_ring_mp_enqueue_burst_elem(r, from, e->esize,
							 k - done, NULL);

		if (n == 0)
			rte_backoff(e->block, &tries);
		done += n;
	}
}

/* Send @count messages numbered from @first to every ring of the producer:
 * one element per call, or bursts of --batch. Never fails. */
static int rte_produce(void *st, uint64_t first, uint64_t count)
{
	struct rte_end *e = st;

	while (count > 0) {
		uint32_t k = count < e->batch ? (uint32_t)count : e->batch;
		uint32_t i;

		for (i = 0; i < k; i++)
			bench_put_word(e->buf + (size_t)i * e->esize, first + i);
		for (i = 0; i < e->nring; i++)
			rte_put(e, e->rings[i], k);
		first += k;
		count -= k;
	}
	return 0;
}

/* Take exactly @count elements, adding their first words to *@sum. */
static int rte_consume(void *st, uint64_t count, uint64_t *sum)
{
	struct rte_end *e = st;
	struct rte_ring *r = e->rings[0];
	uint64_t s = 0;
	uint32_t tries = 0;

	if (!e->burst) {
		for (; count > 0; count--) {
			while (rte_ring_sc_dequeue_elem(r, e->buf, e->esize))
				rte_backoff(e->block, &tries);
			s += bench_get_word(e->buf);
		}
	}
	while (count > 0) {
		uint32_t want = count < e->batch ? (uint32_t)count : e->batch;
		unsigned n = rte_ring_sc_dequeue_burst_elem(r, e->buf, e->esize,
							    want, NULL);
		unsigned i;

		if (n == 0) {
			rte_backoff(e->block, &tries);
			continue;
		}
		for (i = 0; i < n; i++)
			s += bench_get_word(e->buf + (size_t)i * e->esize);
		count -= n;
	}
	*sum += s;
	return 0;
}

const struct transport transport_rte = {
	.name = "rte",
	.groups_note = "G rte_rings; each producer enqueues every message to each",
	.batch_note = "ignored: one element per call (see rte-burst)",
	.setup = rte_setup_one,
	.teardown = rte_teardown,
	.producer_init = rte_producer_init,
	.produce = rte_produce,
	.producer_fini = rte_end_free,
	.reader_init = rte_reader_init,
	.consume = rte_consume,
	.reader_fini = rte_end_free,
};

const struct transport transport_rte_burst = {
	.name = "rte-burst",
	.groups_note = "as rte",
	.batch_note = "bursts of B elements per enqueue and dequeue (default 32)",
	.default_batch = 32,
	.setup = rte_setup_burst,
	.teardown = rte_teardown,
	.producer_init = rte_producer_init,
	.produce = rte_produce,
	.producer_fini = rte_end_free,
	.reader_init = rte_reader_init,
	.consume = rte_consume,
	.reader_fini = rte_end_free,
};

#endif /* HAVE_DPDK */

/* SPDX-License-Identifier: MIT */
/*
 * transport_ring.c - ring-bench over libring.
 *
 * One ring under /dev/shm (two with --rtt, one per direction), created by
 * the parent with its groups before any producer starts, so that every
 * group sees every message. Each child opens the ring itself: a single
 * producer opens it with RING_OPEN_SINGLE_PRODUCER (claims by plain store),
 * several producers claim by compare-and-swap. Every open pre-faults the
 * mapping (RING_OPEN_PREFAULT) unless RING_BENCH_NO_PREFAULT=1 is set in
 * the environment, which shows what first-touch page faults cost.
 *
 * --wait spin: ring_set_spin(UINT32_MAX), nobody ever sleeps;
 * --wait block: the library's default spin, then a futex sleep;
 * RING_BENCH_READER_SPIN=N (environment) sets the readers' spin to N
 * pauses instead (ring_set_spin(); 0: sleep at once).
 * --batch B > 1: ring_send_batch() with B messages per claim.
 * RING_BENCH_ZEROCOPY=1 (environment, --batch 1): ring_reserve(), the
 * payload written in place, ring_commit(), instead of ring_send().
 * Readers use ring_poll() and publish their cursor once per batch. With
 * --wait block they also time the longest wait between two batches (a
 * stall: e.g. a producer descheduled in the middle of a claim); spinning
 * readers skip the clock to keep their loop as short as possible.
 *
 * --members M: the ring has one group, "g0", created RING_GROUP_SHARED |
 * RING_GROUP_MEMBERS(M), and each of the M reader processes opens it as a
 * member (ring_reader_open) and reads it with ring_poll() as a reader
 * would; the library hands each member up to 64 messages per claim. A
 * member adds up the first words and their squares, publishes its count
 * after every batch (bench_tally_publish()) and reads the clock (the time
 * of its last batch ends the run if it is the last). Its ring_poll() has a
 * deadline, renewed every MEMBER_CHECK_NS: when that passes with nothing to
 * take, the member adds up the group's tally to see whether the phase is
 * over. Messages keep coming without a look at the clock or the tally
 * (ring_poll() looks at the deadline only when it would wait).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ring.h>

#include "bench.h"

#define RING_POLL_MAX 65536u
#define MEMBER_CHECK_NS 2000000ull /* a member with nothing to take looks at
				    * the group's tally this often */

struct ring_setup {
	char path[2][128];
	uint32_t created;
};

/* Flags every open of this run uses. */
static unsigned ring_open_flags(void)
{
	const char *no = getenv("RING_BENCH_NO_PREFAULT");

	return no && strcmp(no, "1") == 0 ? 0 : RING_OPEN_PREFAULT;
}

/* Create one ring at @path with @groups groups "g0".."g<groups-1>",
 * created with @gflags. Returns 0 or a negative errno (printed). */
static int ring_make(const struct bench *b, const char *path, uint32_t groups,
		     unsigned gflags)
{
	struct ring_config cfg;
	const char *slot;
	struct ring *r;
	char name[16];
	uint32_t i;
	int err;

	ring_config_init(&cfg);
	cfg.capacity = b->o.capacity;
	slot = getenv("RING_BENCH_SLOT"); /* slot size, for choosing the default */
	if (slot && *slot)
		cfg.slot_size = (uint32_t)strtoul(slot, NULL, 0);
	if (cfg.max_message < b->o.size)
		cfg.max_message = b->o.size;
	if (cfg.groups < groups)
		cfg.groups = groups;
	err = ring_create(path, &cfg, ring_open_flags(), &r);
	if (err) {
		bench_err("ring_create %s: %s", path, ring_strerror(err));
		return err;
	}
	for (i = 0; i < groups && !err; i++) {
		snprintf(name, sizeof(name), "g%u", i);
		err = ring_group_create(r, name, RING_FROM_OLDEST | gflags);
		if (err)
			bench_err("ring_group_create %s: %s", name,
				  ring_strerror(err));
	}
	ring_close(r);
	return err;
}

/* Create the ring(s) and groups. Returns 0 or -errno. */
static int ring_setup(struct bench *b)
{
	struct ring_setup *rs = calloc(1, sizeof(*rs));
	uint32_t nring = b->o.rtt ? 2 : 1;
	uint32_t i;
	int err;

	if (!rs)
		return -ENOMEM;
	b->priv = rs;
	b->channels = nring;
	for (i = 0; i < nring; i++) {
		snprintf(rs->path[i], sizeof(rs->path[i]), "/dev/shm/%s-%u",
			 b->tag, i);
		if (b->o.members)	/* one group, shared by M members */
			err = ring_make(b, rs->path[i], 1,
					RING_GROUP_SHARED |
					RING_GROUP_MEMBERS(b->o.members));
		else
			err = ring_make(b, rs->path[i],
					b->o.rtt ? 1 : b->o.groups, 0);
		if (err != -EEXIST)	/* never remove somebody else's file */
			rs->created = i + 1;
		if (err)
			return err;
	}
	return 0;
}

/* Remove the ring files. */
static void ring_teardown(struct bench *b)
{
	struct ring_setup *rs = b->priv;
	uint32_t i;

	if (!rs)
		return;
	for (i = 0; i < rs->created; i++)
		ring_unlink(rs->path[i]);
	free(rs);
	b->priv = NULL;
}

/* Open ring @idx in a child, with the run's wait mode. */
static int ring_child_open(struct bench *b, uint32_t idx, unsigned flags,
			   struct ring **r)
{
	struct ring_setup *rs = b->priv;
	int err = ring_open(rs->path[idx], flags | ring_open_flags(), r);

	if (err) {
		bench_err("ring_open %s: %s", rs->path[idx], ring_strerror(err));
		return err;
	}
	if (b->o.wait == BENCH_WAIT_SPIN)
		ring_set_spin(*r, UINT32_MAX);
	return 0;
}

struct ring_producer {
	struct ring *r;
	uint32_t size;
	uint32_t batch;
	int zerocopy;		/* reserve, write in place, commit */
	unsigned char *buf;	/* batch messages */
	struct ring_out *out;
};

/* Close a producer's handle and free it. */
static void ring_producer_fini(void *st)
{
	struct ring_producer *p = st;

	if (!p)
		return;
	ring_close(p->r);
	free(p->buf);
	free(p->out);
	free(p);
}

/* A producer opens the ring (its own with --rtt). */
static int ring_producer_init(struct bench *b, uint32_t id, void **st)
{
	struct ring_producer *p = calloc(1, sizeof(*p));
	unsigned flags = 0;
	uint32_t i;

	*st = p;
	if (!p)
		return -ENOMEM;
	p->size = b->o.size;
	p->batch = b->o.batch;
	p->buf = malloc((size_t)p->size * p->batch);
	p->out = calloc(p->batch, sizeof(*p->out));
	if (!p->buf || !p->out)
		return -ENOMEM;
	for (i = 0; i < p->batch; i++) {
		bench_fill(p->buf + (size_t)i * p->size, p->size);
		p->out[i].data = p->buf + (size_t)i * p->size;
		p->out[i].len = p->size;
	}
	p->zerocopy = getenv("RING_BENCH_ZEROCOPY") &&
		      strcmp(getenv("RING_BENCH_ZEROCOPY"), "1") == 0;
	if (bench_writers(b) == 1)
		flags |= RING_OPEN_SINGLE_PRODUCER;
	return ring_child_open(b, bench_first_channel(b, id), flags, &p->r);
}

/* Send @count messages numbered from @first, one ring_send() each or
 * ring_send_batch() with up to B. Returns 0 or a negative errno. */
static int ring_produce(void *st, uint64_t first, uint64_t count)
{
	struct ring_producer *p = st;
	int rc;

	if (p->batch == 1 && p->zerocopy) {
		struct ring_claim c;

		for (; count > 0; count--, first++) {
			rc = ring_reserve(p->r, p->size, 0, 0, NULL, &c);
			if (rc < 0)
				goto fail;
			memcpy(c.data, p->buf, p->size);
			bench_put_word(c.data, first);
			rc = ring_commit(p->r, &c);
			if (rc < 0)
				goto fail;
		}
		return 0;
	}
	if (p->batch == 1) {
		for (; count > 0; count--, first++) {
			bench_put_word(p->buf, first);
			rc = ring_send(p->r, 0, p->buf, p->size, 0, NULL);
			if (rc < 0)
				goto fail;
		}
		return 0;
	}
	while (count > 0) {
		uint32_t k = count < p->batch ? (uint32_t)count : p->batch;
		uint32_t i;

		for (i = 0; i < k; i++)
			bench_put_word(p->buf + (size_t)i * p->size, first + i);
		for (i = 0; i < k; i += (uint32_t)rc) {
			rc = ring_send_batch(p->r, p->out + i, k - i, 0, NULL);
			if (rc <= 0)
				goto fail;
		}
		first += k;
		count -= k;
	}
	return 0;
fail:
	if (rc == 0)
		rc = -EPROTO;
	bench_err("ring_send: %s", ring_strerror(rc));
	return rc;
}

struct ring_consumer {
	struct ring *r;
	struct ring_reader *rd;
	uint32_t size;
	uint64_t sum;
	uint64_t sumsq;		/* members: sum of the squares */
	uint32_t bad_len;	/* length of a wrong-sized message, if any */
	int time_gaps;		/* measure max_gap (--wait block) */
	uint64_t max_gap;	/* longest wait between batches, ns */
};

/* Close a reader's handles and free it. */
static void ring_consumer_fini(void *st)
{
	struct ring_consumer *c = st;

	if (!c)
		return;
	if (c->rd)
		ring_reader_close(c->rd);
	ring_close(c->r);
	free(c);
}

/* A reader opens the ring and becomes the reader of its group (with
 * --members: member @ch of the shared group g0). */
static int ring_consumer_init(struct bench *b, uint32_t ch, void **st)
{
	struct ring_consumer *c = calloc(1, sizeof(*c));
	char name[16];
	int err;

	*st = c;
	if (!c)
		return -ENOMEM;
	c->size = b->o.size;
	c->time_gaps = b->o.wait == BENCH_WAIT_BLOCK;
	err = ring_child_open(b, b->o.rtt ? ch : 0, 0, &c->r);
	if (err)
		return err;
	if (b->o.wait == BENCH_WAIT_BLOCK && getenv("RING_BENCH_READER_SPIN"))
		ring_set_spin(c->r, (uint32_t)strtoul(
				 getenv("RING_BENCH_READER_SPIN"), NULL, 0));
	snprintf(name, sizeof(name), "g%u", b->o.rtt || b->o.members ? 0 : ch);
	err = ring_reader_open(c->r, name, 0, &c->rd);
	if (err)
		bench_err("ring_reader_open %s: %s", name, ring_strerror(err));
	return err;
}

/* ring_poll() handler: add the message's first word to the sum. */
static int ring_take(const struct ring_msg *msg, void *arg)
{
	struct ring_consumer *c = arg;

	if (msg->len != c->size) {
		c->bad_len = msg->len ? msg->len : UINT32_MAX;
		return 1;
	}
	c->sum += bench_get_word(msg->data);
	return 0;
}

/* Take exactly @count messages, adding their first words to *@sum. */
static int ring_consume(void *st, uint64_t count, uint64_t *sum)
{
	struct ring_consumer *c = st;
	uint64_t last = 0, now;

	c->sum = 0;
	c->max_gap = 0;
	while (count > 0) {
		unsigned max = count < RING_POLL_MAX ? (unsigned)count
						     : RING_POLL_MAX;
		int n = ring_poll(c->rd, ring_take, c, max, 0, NULL);

		if (n < 0) {
			bench_err("ring_poll: %s", ring_strerror(n));
			return n;
		}
		if (c->bad_len) {
			bench_err("message of %u bytes, expected %u",
				  c->bad_len, c->size);
			return -EBADMSG;
		}
		if ((uint64_t)n > count) {
			bench_err("ring_poll returned %d, asked for %u", n, max);
			return -EPROTO;
		}
		count -= (uint64_t)n;
		if (c->time_gaps) {
			now = bench_now_ns();
			if (last && now - last > c->max_gap)
				c->max_gap = now - last;
			last = now;
		}
	}
	*sum += c->sum;
	return 0;
}

/* ring_poll() handler of a member: the first word and its square. */
static int ring_take_member(const struct ring_msg *msg, void *arg)
{
	struct ring_consumer *c = arg;
	uint64_t v;

	if (msg->len != c->size) {
		c->bad_len = msg->len ? msg->len : UINT32_MAX;
		return 1;
	}
	v = bench_get_word(msg->data);
	c->sum += v;
	c->sumsq += v * v;
	return 0;
}

/* @ns (CLOCK_MONOTONIC) as a timespec. */
static void ns_to_timespec(uint64_t ns, struct timespec *ts)
{
	ts->tv_sec = (time_t)(ns / 1000000000ull);
	ts->tv_nsec = (long)(ns % 1000000000ull);
}

/* A member takes messages until its group has taken @target since the
 * run started (bench.h). */
static int ring_consume_member(void *st, struct bench_member *mb,
			       uint64_t target)
{
	struct ring_consumer *c = st;
	struct timespec dl;
	uint64_t total;
	int n;

	c->sum = 0;
	c->sumsq = 0;
	ns_to_timespec(bench_now_ns() + MEMBER_CHECK_NS, &dl);
	for (;;) {
		n = ring_poll(c->rd, ring_take_member, c, RING_POLL_MAX, 0, &dl);
		if (n > 0) {
			mb->count += (uint64_t)n;
			mb->polls++;
			bench_tally_publish(mb);
			mb->last_ns = bench_now_ns();
			if (c->bad_len) {
				bench_err("message of %u bytes, expected %u",
					  c->bad_len, c->size);
				return -EBADMSG;
			}
			continue;
		}
		if (n != -ETIMEDOUT) {
			bench_err("ring_poll (member %u): %s", mb->me,
				  ring_strerror(n ? n : -EPROTO));
			return n ? n : -EPROTO;
		}
		/* Nothing to take for a while: has the group had it all? */
		total = bench_tally_total(mb);
		if (total >= target)
			break;
		ns_to_timespec(bench_now_ns() + MEMBER_CHECK_NS, &dl);
	}
	mb->sum += c->sum;
	mb->sumsq += c->sumsq;
	if (total > target) {
		bench_err("shared group: the members took %llu messages, only "
			  "%llu were sent: messages were received twice",
			  (unsigned long long)total,
			  (unsigned long long)target);
		return -EPROTO;
	}
	return 0;
}

/* Longest wait between two batches of the last ring_consume(), in ns. */
static uint64_t ring_max_gap(void *st)
{
	const struct ring_consumer *c = st;

	return c->max_gap;
}

const struct transport transport_ring = {
	.name = "ring",
	.groups_note = "G consumer groups of one ring; every group gets every message",
	.batch_note = "ring_send_batch() with B messages per claim",
	.setup = ring_setup,
	.teardown = ring_teardown,
	.producer_init = ring_producer_init,
	.produce = ring_produce,
	.producer_fini = ring_producer_fini,
	.reader_init = ring_consumer_init,
	.consume = ring_consume,
	.reader_fini = ring_consumer_fini,
	.max_gap_ns = ring_max_gap,
	.consume_member = ring_consume_member,
};

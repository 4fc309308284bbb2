/* SPDX-License-Identifier: MIT */
/*
 * bench.h - ring-bench: what the driver (ring-bench.c) and the transports
 * (transport_*.c) share.
 *
 * Model. A run moves fixed-size messages from producer processes to reader
 * processes over one transport. Every message's first 8 bytes hold a value
 * (the message's number, unique over the run); readers add these words up,
 * so every payload is read, and the driver checks both the count and the sum.
 *
 * Channels. The ring fans out natively: one ring, one consumer group per
 * reader. The other transports have no groups: with G groups they get G
 * channels (pipes, sockets, queues) and every producer writes each message
 * to each channel. In --rtt mode there are always two channels: channel 0
 * carries ping -> pong, channel 1 pong -> ping.
 *
 * Members. With --members M (ring only) the reading side is one shared
 * group read by M member processes instead: each message goes to one of
 * them. A member cannot know when the group has had everything, so each
 * one publishes what it has taken so far in a struct bench_tally of its
 * own (shared by the run's processes) and, when it finds nothing to take,
 * adds up the others'. The driver checks that the members' counts and
 * checksums add up to exactly the messages sent.
 */
#ifndef RING_BENCH_H
#define RING_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "pin.h"

#define BENCH_PROG "ring-bench"
#define BENCH_MAX_PRODUCERS 64
#define BENCH_MAX_GROUPS 16
#define BENCH_MAX_MEMBERS 64	/* RING_MEMBERS_MAX */

enum bench_wait { BENCH_WAIT_SPIN, BENCH_WAIT_BLOCK };

/* Options of one run, as parsed from the command line. */
struct bench_opts {
	const char *transport;
	uint32_t size;	     /* payload bytes (>= 8) */
	uint64_t messages;   /* timed messages (round trips with --rtt) */
	uint32_t producers;
	uint32_t groups;
	uint32_t members;    /* --members: one shared group of M (0: none) */
	uint64_t capacity;   /* ring bytes */
	enum bench_wait wait;
	uint32_t batch;	     /* messages per send call */
	int batch_given;     /* --batch was on the command line */
	int rtt;
	int json;
	struct pin_plan cpus; /* --cpus: readers' and producers' CPUs */
};

/* One run: options plus what the parent set up for the children. */
struct bench {
	struct bench_opts o;
	uint32_t channels;   /* channels the transport set up */
	char tag[64];	     /* unique name part: "ring-bench-<pid>" */
	void *priv;	     /* the transport's own set-up state */
};

/*
 * --members: what member @me of a shared group has taken since the run
 * started, on a cache line of its own (written by the member only, read by
 * the others when they find nothing to take). An array of members entries,
 * in memory shared by the run's processes.
 */
struct bench_tally {
	uint64_t taken;
	char pad[56];
} __attribute__((aligned(64)));

/* One member's view of the group and what it received (see consume_member
 * below). */
struct bench_member {
	struct bench_tally *tally;	/* [members] */
	uint32_t members;
	uint32_t me;
	uint64_t count;		/* messages it took, over all phases */
	uint64_t sum;		/* sum of their first words */
	uint64_t sumsq;		/* sum of their squares (mod 2^64) */
	uint64_t polls;		/* ring_poll() calls that returned messages */
	uint64_t last_ns;	/* when it took its last message */
};

/* Messages all members of @m's group have taken so far (as published). */
uint64_t bench_tally_total(const struct bench_member *m);

/* Publish that @m has taken m->count messages. */
static inline void bench_tally_publish(struct bench_member *m)
{
	__atomic_store_n(&m->tally[m->me].taken, m->count, __ATOMIC_RELEASE);
}

/*
 * One transport. setup runs in the parent before any fork; the *_init
 * functions run in a child after fork. Every function returns 0 or a
 * negative errno and, on failure, has printed a one-line error.
 *
 * producer_init(b, id, &st): producer @id (0..P-1); with --rtt, @id is the
 * channel to write to. produce(st, first, count) sends @count messages whose
 * first words hold first, first+1, ... (to every channel of the producer).
 * reader_init(b, ch, &st): the reader of group/channel @ch. consume(st,
 * count, &sum) receives exactly @count messages, adding their first words to
 * *sum; it never takes more than @count messages out of the transport's
 * buffers.
 */
struct transport {
	const char *name;
	const char *groups_note;	/* how --groups works, for --help */
	const char *batch_note;		/* what --batch does, for --help */
	uint32_t default_batch;		/* --batch when not given (0: 1) */
	int (*setup)(struct bench *b);
	void (*teardown)(struct bench *b);
	int (*producer_init)(struct bench *b, uint32_t id, void **st);
	int (*produce)(void *st, uint64_t first, uint64_t count);
	void (*producer_fini)(void *st);
	int (*reader_init)(struct bench *b, uint32_t ch, void **st);
	int (*consume)(void *st, uint64_t count, uint64_t *sum);
	void (*reader_fini)(void *st);
	/* Optional: longest wait between two consecutive receptions in
	 * the last consume() call, in ns (0 when not measured). */
	uint64_t (*max_gap_ns)(void *st);
	/* Optional: --members. reader_init(b, m, &st) makes member @m of the
	 * shared group; consume_member(st, mb, target) takes messages until
	 * all members together have taken @target since the run started
	 * (bench_tally_total()), adding to mb->count, sum, sumsq and polls,
	 * publishing mb->count after every batch and setting mb->last_ns to
	 * the time of each batch. The phases' targets are the only bound: the
	 * producers send no more than that before the members have it all. */
	int (*consume_member)(void *st, struct bench_member *mb,
			      uint64_t target);
};

extern const struct transport transport_ring;
extern const struct transport transport_pipe;
extern const struct transport transport_unix;
extern const struct transport transport_seqpacket;
extern const struct transport transport_mq;
#ifdef HAVE_ZMQ
extern const struct transport transport_zmq;
#endif
#ifdef HAVE_DPDK
extern const struct transport transport_rte;
extern const struct transport transport_rte_burst;
#endif

/* What one run measured (filled in by bench_run_*). */
struct bench_result {
	uint64_t messages;	/* timed messages (round trips with --rtt) */
	double seconds;
	double msgs_per_sec;
	double bytes_per_sec;
	uint64_t rtt_p50_ns, rtt_p99_ns, rtt_p999_ns, rtt_max_ns;
	uint64_t max_gap_ns;	/* 0: not measured */
	/* --members: timed messages each member received, and in how
	 * many batches (calls that returned messages) */
	uint64_t member_messages[BENCH_MAX_MEMBERS];
	uint64_t member_polls[BENCH_MAX_MEMBERS];
};

/* bench_run.c: fork the processes of a run and measure it. Returns 0, or 1
 * after a runtime error (printed). */
int bench_run_throughput(struct bench *b, const struct transport *t,
			 struct bench_result *res);
int bench_run_rtt(struct bench *b, const struct transport *t,
		  struct bench_result *res);

/* bench_util.c */

/* Print "ring-bench: <message>" on stderr. */
void bench_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Current CLOCK_MONOTONIC time in nanoseconds. */
uint64_t bench_now_ns(void);

/* Write all @len bytes of @buf to @fd (retrying short writes and EINTR).
 * Returns 0 or -errno. */
int bench_write_all(int fd, const void *buf, size_t len);

/* Read up to @len bytes from @fd, retrying EINTR. Returns the count, 0 at
 * end of file, or -errno. */
long bench_read_some(int fd, void *buf, size_t len);

/* Fill @msg (of @size bytes) with a fixed pattern (done once per buffer). */
void bench_fill(void *msg, uint32_t size);

/* Store @value in the first word of the message at @msg. */
static inline void bench_put_word(void *msg, uint64_t value)
{
	__builtin_memcpy(msg, &value, sizeof(value));
}

/* The first word of the message at @msg. */
static inline uint64_t bench_get_word(const void *msg)
{
	uint64_t value;

	__builtin_memcpy(&value, msg, sizeof(value));
	return value;
}

/* Channels a producer of this run writes to: with --rtt only its own. */
static inline uint32_t bench_first_channel(const struct bench *b, uint32_t id)
{
	return b->o.rtt ? id : 0;
}

/* Number of channels each producer writes to. */
static inline uint32_t bench_channel_count(const struct bench *b)
{
	return b->o.rtt ? 1 : b->channels;
}

/* Producers writing into each channel. */
static inline uint32_t bench_writers(const struct bench *b)
{
	return b->o.rtt ? 1 : b->o.producers;
}

#endif /* RING_BENCH_H */

/* SPDX-License-Identifier: MIT */
/*
 * stress.h - the multi-process stress run shared by t_stress and t_tiny:
 * producer processes send self-checking messages (testutil.h's format) of
 * random length, one reader process per group checks that it gets every
 * message exactly once, in order per producer, intact.
 */
#ifndef LIBRING_TESTS_STRESS_H
#define LIBRING_TESTS_STRESS_H

#include <stdint.h>

#include "ring.h"
#include "testutil.h"

#define STRESS_MAX_PRODUCERS 8
#define STRESS_MAX_GROUPS 8

/* How producer i sends: cfg.modes[i]. */
enum stress_mode {
	STRESS_SEND,	/* ring_send */
	STRESS_RESERVE, /* ring_reserve, fill in place, ring_commit */
	STRESS_BATCH,	/* ring_send_batch of up to 8 */
	STRESS_MIXED,	/* each of the above at random; probes for a full
			 * ring with RING_FULL_FAIL before waiting */
};

struct stress_config {
	const char *tag;	/* for the ring's file name */
	uint64_t capacity;
	uint32_t slot_size;
	uint32_t max_message;
	unsigned producers;
	unsigned groups;
	uint64_t per_producer;	/* messages each producer sends */
	uint32_t max_len;	/* lengths are uniform in 0..max_len */
	enum stress_mode modes[STRESS_MAX_PRODUCERS];
	long timeout_ms;	/* for the whole run */
};

struct stress_result {
	struct tu_report producer[STRESS_MAX_PRODUCERS]; /* extra[0]: times a
							  * FAIL probe found
							  * the ring full */
	struct tu_report reader[STRESS_MAX_GROUPS];	 /* count: messages;
							  * extra[0]: bytes */
	int producer_exit[STRESS_MAX_PRODUCERS];
	int reader_exit[STRESS_MAX_GROUPS];
	struct ring_stats stats;			 /* at the end */
	struct ring_group_stats group[STRESS_MAX_GROUPS];
	uint64_t elapsed_ns;
};

/*
 * stress_run - create the ring, its groups, fork the readers and producers,
 * collect their reports and the final counters. Returns 0 if the run could
 * be set up (the results say whether it passed), or a negative errno.
 */
int stress_run(const struct stress_config *cfg, struct stress_result *res);

#endif /* LIBRING_TESTS_STRESS_H */

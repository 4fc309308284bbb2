// SPDX-License-Identifier: MIT
/*
 * t_stress.c - 4 producer processes (ring_send, reserve/commit, batch and a
 * mix), 3 groups each read by its own process, at least 2 million messages
 * of random length 0..2048 through a 16 MiB ring: every group gets every
 * message exactly once, in order per producer, intact.
 * Sanitizer builds run a smaller count; RING_TEST_LONG=1 a larger one.
 */
#include <stdio.h>
#include <unistd.h>

#include "ring.h"
#include "tap.h"
#include "lib/stress.h"

#define PRODUCERS 4
#define GROUPS 3

int main(void)
{
	struct stress_config cfg = {
		.tag = "stress",
		.capacity = 16u << 20,
		.slot_size = 16,
		.max_message = 2048,
		.producers = PRODUCERS,
		.groups = GROUPS,
		.per_producer = TU_SANITIZED ? 300000 : 500000,
		.max_len = 2048,
		.modes = { STRESS_SEND, STRESS_RESERVE, STRESS_BATCH,
			   STRESS_MIXED },
		.timeout_ms = 100000,
	};
	static struct stress_result res;
	uint64_t total, bytes = 0;
	unsigned i;
	int rc;

	if (tu_long_run()) {
		cfg.per_producer *= 5;
		cfg.timeout_ms *= 10;
	}
	total = cfg.per_producer * PRODUCERS;
	plan(4 + 2 * PRODUCERS + 2 * GROUPS + 2 * GROUPS);
	tu_guard((unsigned)(cfg.timeout_ms / 1000) + 50);
	diag("%llu messages (%d producers x %llu), %d groups%s",
	     (unsigned long long)total, PRODUCERS,
	     (unsigned long long)cfg.per_producer, GROUPS,
	     TU_SANITIZED ? ", smaller count under sanitizers" : "");

	rc = stress_run(&cfg, &res);
	if (rc)
		bail_out("could not set up the stress run");
	for (i = 0; i < PRODUCERS; i++) {
		if (res.producer[i].failed)
			diag("producer %u: %s", i, res.producer[i].what);
		ok(!res.producer[i].failed && res.producer_exit[i] == 0,
		   "producer %u (mode %d) ran without error", i, cfg.modes[i]);
		is(res.producer[i].count, cfg.per_producer,
		   "producer %u sent all its messages", i);
	}
	for (i = 0; i < GROUPS; i++) {
		if (res.reader[i].failed)
			diag("reader g%u: %s", i, res.reader[i].what);
		ok(!res.reader[i].failed && res.reader_exit[i] == 0,
		   "group g%u: every message once, in order, intact", i);
		is(res.reader[i].count, total, "group g%u: message count", i);
		bytes += res.reader[i].extra[0];
	}
	is(res.stats.committed, total, "ring counts every commit");
	is(res.stats.aborted, 0, "nothing aborted");
	is(res.stats.dropped, 0, "nothing dropped");
	is(res.stats.recovered, 0, "nothing recovered");
	for (i = 0; i < GROUPS; i++) {
		is(res.group[i].cursor, res.stats.tail,
		   "group g%u cursor at the tail", i);
		is(res.group[i].released, total, "group g%u released all", i);
	}
	diag("%.1f s, %.0f msgs/s, %.0f MB/s read over all groups, %llu wraps",
	     res.elapsed_ns / 1e9, total / (res.elapsed_ns / 1e9),
	     bytes / (res.elapsed_ns / 1e3),
	     (unsigned long long)(res.stats.tail / res.stats.slot_count));
	tu_cleanup_rings();
	return exit_status();
}

// SPDX-License-Identifier: MIT
/*
 * t_tiny.c - the stress run through a tiny ring: 4096 bytes of 16-byte slots
 * (256 slots) with messages of up to 2048 bytes (129 slots), so the ring
 * wraps thousands of times and producers keep finding it full and blocking.
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
		.tag = "tiny",
		.capacity = 4096,
		.slot_size = 16,
		.max_message = 2048,
		.producers = PRODUCERS,
		.groups = GROUPS,
		.per_producer = TU_SANITIZED ? 10000 : 25000,
		.max_len = 2048,
		.modes = { STRESS_MIXED, STRESS_RESERVE, STRESS_BATCH,
			   STRESS_MIXED },
		.timeout_ms = 100000,
	};
	static struct stress_result res;
	uint64_t total, wraps, full = 0;
	unsigned i;

	if (tu_long_run()) {
		cfg.per_producer *= 10;
		cfg.timeout_ms *= 10;
	}
	total = cfg.per_producer * PRODUCERS;
	plan(2 * PRODUCERS + 2 * GROUPS + GROUPS + 4);
	tu_guard((unsigned)(cfg.timeout_ms / 1000) + 50);
	diag("%llu messages through 256 slots", (unsigned long long)total);

	if (stress_run(&cfg, &res))
		bail_out("could not set up the stress run");
	for (i = 0; i < PRODUCERS; i++) {
		if (res.producer[i].failed)
			diag("producer %u: %s", i, res.producer[i].what);
		ok(!res.producer[i].failed && res.producer_exit[i] == 0,
		   "producer %u (mode %d) ran without error", i, cfg.modes[i]);
		is(res.producer[i].count, cfg.per_producer,
		   "producer %u sent all its messages", i);
		full += res.producer[i].extra[0];
	}
	for (i = 0; i < GROUPS; i++) {
		if (res.reader[i].failed)
			diag("reader g%u: %s", i, res.reader[i].what);
		ok(!res.reader[i].failed && res.reader_exit[i] == 0,
		   "group g%u: every message once, in order, intact", i);
		is(res.reader[i].count, total, "group g%u: message count", i);
		is(res.group[i].cursor, res.stats.tail,
		   "group g%u cursor at the tail", i);
	}
	is(res.stats.committed, total, "ring counts every commit");
	is(res.stats.slot_count, 256, "256 slots");
	wraps = res.stats.tail / res.stats.slot_count;
	ok(wraps > 1000, "the ring wrapped %llu times",
	   (unsigned long long)wraps);
	ok(full > 0, "producers found the ring full %llu times and waited",
	   (unsigned long long)full);
	diag("%.1f s", res.elapsed_ns / 1e9);
	tu_cleanup_rings();
	return exit_status();
}

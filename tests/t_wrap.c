// SPDX-License-Identifier: MIT
/*
 * t_wrap.c - H1: positions are free-running 64-bit numbers compared by
 * difference. The ring is started a little before 2^64 (tail, cached
 * minimum and the group's cursor are set there in the file) and two
 * producer processes push messages through the wrap of the 64-bit
 * counter while a reader checks every message; the ring is small so the
 * producers also block on full across the wrap.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../libring/src/layout.h"
#include "lib/testutil.h"
#include "ring.h"
#include "tap.h"

#define PRODUCERS 2
#define PER_PRODUCER 60000
#define START_BEFORE_WRAP 50000ull /* slots before 2^64 */

struct offsets {
	uint64_t hot, group;
};

/* Place tail, cached minimum and group 0's cursor at @pos. */
static int move_ring_to(const char *path, const struct offsets *o, uint64_t pos)
{
	int err = 0;

	err |= tu_file_patch(path, (off_t)(o->hot + offsetof(struct rl_hot, tail)),
			     &pos, sizeof(pos));
	err |= tu_file_patch(path,
			     (off_t)(o->hot + offsetof(struct rl_hot, cached_min)),
			     &pos, sizeof(pos));
	err |= tu_file_patch(path,
			     (off_t)(o->group + offsetof(struct rl_group, cursor)),
			     &pos, sizeof(pos));
	return err;
}

static int producer(const char *path, uint32_t id)
{
	struct ring *r;
	char buf[200];

	if (ring_open(path, 0, &r))
		return 1;
	for (uint64_t seq = 0; seq < PER_PRODUCER; seq++) {
		size_t len = (seq * 7 + id * 13) % sizeof(buf);

		tu_msg_fill(buf, len, id, seq);
		if (ring_send(r, tu_msg_type(id, seq), buf, len, RING_FULL_WAIT,
			      NULL))
			return 2;
	}
	ring_close(r);
	return 0;
}

/*
 * A group created from the oldest message just after the tail passed 2^64
 * starts at the oldest message, which is before the wrap, and reads every
 * message from there in order.
 */
static void late_group_across_wrap(const char *path, const struct offsets *o)
{
	struct ring_reader *rd;
	struct ring_msg m;
	struct ring *r;
	uint64_t n = 0;
	int rc;

	ring_unlink(path);
	{
		struct ring_config cfg;

		ring_config_init(&cfg);
		cfg.capacity = 16 << 10;
		cfg.max_message = 1024;
		ring_create(path, &cfg, 0, &r);
		ring_close(r);
	}
	move_ring_to(path, o, 0 - 20ull);
	ring_open(path, 0, &r);
	for (uint64_t s = 0; s < 10; s++) { /* 3 slots each: 30 slots */
		char buf[32];

		tu_msg_fill(buf, sizeof(buf), 0, s);
		ring_send(r, tu_msg_type(0, s), buf, sizeof(buf), 0, NULL);
	}
	is(ring_reader_open(r, "late", RING_GROUP_CREATE, &rd), 0,
	   "late group created after the tail passed 2^64");
	while ((rc = ring_peek(rd, &m, RING_NONBLOCK, NULL)) == 0) {
		if (tu_msg_check(m.data, m.len, m.type, 0, n))
			break;
		n++;
		ring_release(rd);
	}
	is(n, 10, "it starts before the wrap and reads every message");
	ring_reader_close(rd);
	ring_close(r);
}

int main(void)
{
	char path[TU_PATH_MAX];
	struct ring_config cfg;
	struct ring_group_stats gs;
	struct ring_reader *rd;
	struct ring_stats st;
	struct rl_super sb;
	struct offsets o;
	uint64_t next[PRODUCERS] = { 0 };
	uint64_t start = 0 - START_BEFORE_WRAP, got = 0, bad = 0;
	uint64_t first_pos = 0, last_pos = 0;
	const char *why = NULL;
	pid_t pids[PRODUCERS];
	struct ring *r;
	int fails = 0;

	plan(11);
	alarm(120);
	ring_config_init(&cfg);
	cfg.capacity = 16 << 10; /* 1024 slots: blocks on full constantly */
	cfg.max_message = 1024;
	tu_ring_path(path, "wrap");
	ring_create(path, &cfg, 0, &r);
	ring_group_create(r, "g", RING_FROM_NEWEST);
	ring_close(r);
	tu_file_peek(path, 0, &sb, sizeof(sb));
	o.hot = sb.hot_off;
	o.group = sb.group_off;
	is(move_ring_to(path, &o, start), 0, "ring moved to 2^64 - %llu",
	   START_BEFORE_WRAP);

	is(ring_open(path, 0, &r), 0, "reopened");
	is(ring_reader_open(r, "g", 0, &rd), 0, "reader");
	ok(ring_reader_position(rd) == start, "the reader starts before the wrap");
	for (uint32_t i = 0; i < PRODUCERS; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			_exit(producer(path, i));
	}
	while (got < PRODUCERS * PER_PRODUCER) {
		struct timespec dl;
		struct ring_msg m;
		uint32_t id;

		if (ring_peek(rd, &m, 0, tu_deadline_ms(&dl, 20000)))
			break;
		if (!got)
			first_pos = m.pos;
		last_pos = m.pos;
		id = tu_msg_producer(m.type);
		if (id >= PRODUCERS ||
		    (why = tu_msg_check(m.data, m.len, m.type, id, next[id]))) {
			if (!bad++)
				diag("bad message at %llu: %s",
				     (unsigned long long)m.pos, why ? why : "id");
		} else {
			next[id]++;
		}
		got++;
		ring_release(rd);
	}
	for (int i = 0; i < PRODUCERS; i++)
		fails += tu_wait(pids[i], 30000) != 0;
	is(fails, 0, "producers sent everything");
	is(got, PRODUCERS * PER_PRODUCER, "every message arrived");
	is(bad, 0, "in order per producer and intact");
	ok(first_pos > last_pos && last_pos < (1ull << 32),
	   "positions wrapped past 2^64 (%llu .. %llu)",
	   (unsigned long long)first_pos, (unsigned long long)last_pos);
	ring_stats(r, &st);
	ring_group_stats(r, "g", &gs);
	ok(gs.cursor == st.tail && gs.lag_slots == 0,
	   "cursor at the tail after the wrap (lag %llu)",
	   (unsigned long long)gs.lag_slots);
	ring_reader_close(rd);
	ring_close(r);
	late_group_across_wrap(path, &o);
	return exit_status();
}

// SPDX-License-Identifier: MIT
/*
 * t_groups.c - consumer groups: fan-out, start at oldest or newest, one
 * reader per group (also across processes), resume after close, unreleased
 * peeks read again, one cursor publication per poll batch, producers held
 * back by the slowest group, group removal, listing, name rules.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ring.h"
#include "tap.h"
#include "lib/testutil.h"

/* A ring of @capacity bytes (16-byte slots, @groups groups) at @path. */
static struct ring *make_ring(char *path, const char *tag, uint64_t capacity,
			      uint32_t max_message, uint32_t groups)
{
	struct ring_config cfg;
	struct ring *r = NULL;
	int rc;

	ring_config_init(&cfg);
	cfg.capacity = capacity;
	cfg.max_message = max_message;
	cfg.groups = groups;
	cfg.full_policy = RING_FULL_FAIL;
	rc = ring_create(tu_ring_path(path, tag), &cfg, 0, &r);
	if (rc) {
		diag("ring_create(%s): %s", path, ring_strerror(rc));
		bail_out("cannot create a ring");
	}
	return r;
}

/* Sends @n messages whose type tags are @first, @first + 1, ... */
static int send_n(struct ring *r, uint32_t first, unsigned n)
{
	unsigned i;
	int rc;

	for (i = 0; i < n; i++) {
		rc = ring_send(r, first + i, &i, sizeof(i), 0, NULL);
		if (rc)
			return rc;
	}
	return 0;
}

/* Reads every waiting message; checks types run from @first. Returns the
 * count, or -1 if the order was wrong. */
static int read_all(struct ring_reader *rd, uint32_t first)
{
	struct ring_msg m;
	int n = 0, bad = 0;

	while (ring_peek(rd, &m, RING_NONBLOCK, NULL) == 0) {
		if (m.type != first + (uint32_t)n)
			bad = 1;
		ring_release(rd);
		n++;
	}
	return bad ? -1 : n;
}

/* Every group receives every message. */
static void test_fanout(void)
{
	char path[TU_PATH_MAX];
	struct ring_reader *a = NULL, *b = NULL;
	struct ring *r = make_ring(path, "fanout", 1 << 16, 1024, 16);

	is(ring_group_create(r, "one", RING_FROM_OLDEST), 0, "create group one");
	is(ring_group_create(r, "two", RING_FROM_OLDEST), 0, "create group two");
	is(ring_reader_open(r, "one", 0, &a), 0, "reader of one");
	is(ring_reader_open(r, "two", 0, &b), 0, "reader of two");
	is(send_n(r, 0, 100), 0, "send 100");
	is(read_all(a, 0), 100, "group one gets all 100 in order");
	is(read_all(b, 0), 100, "group two gets all 100 in order");
	ring_close(r);
}

/* RING_FROM_OLDEST vs RING_FROM_NEWEST, and ring_group_reset. */
static void test_from(void)
{
	char path[TU_PATH_MAX];
	struct ring_reader *old = NULL, *newest = NULL, *made = NULL;
	struct ring_group_stats gs;
	struct ring_stats st;
	struct ring_msg m;
	struct ring *r = make_ring(path, "from", 1 << 16, 1024, 16);

	ring_group_create(r, "anchor", RING_FROM_OLDEST);
	send_n(r, 0, 10);
	is(ring_group_create(r, "old", RING_FROM_OLDEST), 0, "group FROM_OLDEST");
	is(ring_group_create(r, "new", RING_FROM_NEWEST), 0, "group FROM_NEWEST");
	ring_stats(r, &st);
	ring_group_stats(r, "new", &gs);
	is(gs.cursor, st.tail, "FROM_NEWEST starts at the tail");
	ring_group_stats(r, "old", &gs);
	is(gs.cursor, 0, "FROM_OLDEST starts at the oldest retained message");
	ring_reader_open(r, "old", 0, &old);
	ring_reader_open(r, "new", 0, &newest);
	is(ring_peek(newest, &m, RING_NONBLOCK, NULL), -EAGAIN,
	   "FROM_NEWEST reader sees nothing old");
	is(ring_reader_open(r, "made", RING_GROUP_CREATE | RING_FROM_NEWEST,
			    &made),
	   0, "ring_reader_open RING_GROUP_CREATE | RING_FROM_NEWEST");
	send_n(r, 10, 1);
	is(read_all(newest, 10), 1, "FROM_NEWEST gets only the new message");
	is(read_all(made, 10), 1, "created-by-reader group likewise");
	is(read_all(old, 0), 11, "FROM_OLDEST gets all 11");

	is(ring_group_reset(r, "old", RING_FROM_OLDEST), -EBUSY,
	   "ring_group_reset with a live reader: -EBUSY");
	ring_reader_close(old);
	is(ring_group_reset(r, "old", RING_FROM_OLDEST), 0, "reset to oldest");
	ring_group_stats(r, "old", &gs);
	is(gs.cursor, 0, "  ... cursor back at the oldest retained");
	is(ring_group_reset(r, "old", RING_FROM_NEWEST), 0, "reset to newest");
	ring_stats(r, &st);
	ring_group_stats(r, "old", &gs);
	is(gs.cursor, st.tail, "  ... cursor at the tail");
	is(ring_group_reset(r, "nope", 0), -ENOENT, "reset of a missing group");
	ring_close(r);
}

/* Child: try to become the reader of group "g" of the ring at @arg.
 * Exit 0 on success, 10 on -EBUSY, other values on other errors. */
static int child_try_reader(void *arg)
{
	struct ring_reader *rd = NULL;
	struct ring *r = NULL;
	int rc;

	if (ring_open(arg, 0, &r))
		return 1;
	rc = ring_reader_open(r, "g", 0, &rd);
	if (rc == -EBUSY)
		return 10;
	if (rc)
		return 2;
	ring_close(r);
	return 0;
}

/* One reader per group, in this process and from another. */
static void test_busy(void)
{
	char path[TU_PATH_MAX];
	struct ring_reader *rd = NULL, *rd2 = NULL;
	struct ring *r = make_ring(path, "busy", 1 << 16, 1024, 16);
	pid_t pid;

	is(ring_reader_open(r, "g", RING_GROUP_CREATE, &rd), 0, "reader of g");
	is(ring_reader_open(r, "g", 0, &rd2), -EBUSY,
	   "second reader, same process: -EBUSY");
	pid = tu_fork(child_try_reader, path);
	is(tu_wait(pid, 10000), 10, "second reader in another process: -EBUSY");
	ring_reader_close(rd);
	pid = tu_fork(child_try_reader, path);
	is(tu_wait(pid, 10000), 0, "after close, another process may read");
	is(ring_reader_open(r, "g", 0, &rd2), 0,
	   "and after it, this process again");
	ring_close(r);
}

/* Close and reopen resumes at the last release; unreleased peek again. */
static void test_resume(void)
{
	char path[TU_PATH_MAX];
	struct ring_reader *rd = NULL;
	struct ring_group_stats gs;
	struct ring_msg m;
	struct ring *r = make_ring(path, "resume", 1 << 16, 1024, 16);
	uint64_t pos3 = 0;
	int i;

	ring_reader_open(r, "g", RING_GROUP_CREATE, &rd);
	send_n(r, 0, 10);
	for (i = 0; i < 3; i++) {
		ring_peek(rd, &m, RING_NONBLOCK, NULL);
		ring_release(rd);
	}
	is(ring_peek(rd, &m, RING_NONBLOCK, NULL), 0, "peek the 4th");
	is(m.type, 3, "  ... it is the 4th");
	pos3 = m.pos;
	is(ring_reader_position(rd), pos3, "position is the unreleased one");
	is(ring_reader_close(rd), 0, "close without releasing it");
	ring_group_stats(r, "g", &gs);
	is(gs.cursor, pos3, "group cursor stayed at the last release");
	is(gs.reader_alive, 0, "no live reader");
	is(ring_reader_open(r, "g", 0, &rd), 0, "reopen");
	ok(ring_peek(rd, &m, RING_NONBLOCK, NULL) == 0 && m.type == 3 &&
		   m.pos == pos3,
	   "the unreleased message is read again");
	ring_release(rd);
	is(read_all(rd, 4), 6, "then the rest, in order");
	ring_close(r);
}

struct batch_probe {
	struct ring *other; /* another handle on the same ring */
	uint64_t cursor0;   /* cursor when the batch began */
	int seen;
	int moved;	    /* cursor seen to move inside the batch */
	int stop_at;	    /* handler returns 1 at this message (1-based) */
};

/* ring_poll handler: watch the group cursor from another handle. */
static int probe_handler(const struct ring_msg *m, void *arg)
{
	struct batch_probe *p = arg;
	struct ring_group_stats gs;

	p->seen++;
	if (ring_group_stats(p->other, "g", &gs) != 0 ||
	    gs.cursor != p->cursor0)
		p->moved = 1;
	return p->seen == p->stop_at;
}

/* ring_poll hands over a batch and publishes the cursor once. */
static void test_poll_batch(void)
{
	char path[TU_PATH_MAX];
	struct ring_reader *rd = NULL;
	struct ring_group_stats gs;
	struct batch_probe p = { 0 };
	struct ring_msg m;
	struct ring *r = make_ring(path, "poll", 1 << 16, 1024, 16);
	uint64_t slot_per_msg;
	int rc;

	ring_reader_open(r, "g", RING_GROUP_CREATE, &rd);
	is(ring_open(path, 0, &p.other), 0, "a second handle");
	send_n(r, 0, 20);
	slot_per_msg = (16 + 4 + 15) / 16;
	rc = ring_poll(rd, probe_handler, &p, 8, 0, NULL);
	is(rc, 8, "ring_poll of 8 handles 8");
	is(p.seen, 8, "handler called 8 times");
	ok(!p.moved, "cursor unpublished during the batch");
	ring_group_stats(p.other, "g", &gs);
	is(gs.cursor, 8 * slot_per_msg, "cursor published after the batch");

	p.cursor0 = gs.cursor;
	p.seen = 0;
	p.stop_at = 3;
	is(ring_poll(rd, probe_handler, &p, 8, 0, NULL), 3,
	   "handler returning non-zero stops the batch after that message");
	ok(ring_peek(rd, &m, RING_NONBLOCK, NULL) == 0 && m.type == 11,
	   "  ... which was released");
	ring_release(rd);
	p.stop_at = 0;
	is(read_all(rd, 12), 8, "the rest");
	is(ring_poll(rd, probe_handler, &p, 8, RING_NONBLOCK, NULL), -EAGAIN,
	   "ring_poll on an empty ring, NONBLOCK: -EAGAIN");
	ring_close(p.other);
	ring_close(r);
}

/* Producers wait for the slowest group; removing it frees them. */
static void test_held_back(void)
{
	char path[TU_PATH_MAX];
	struct ring_reader *fast = NULL, *slow = NULL;
	struct ring_group_stats gs;
	struct ring_stats st;
	struct ring_msg m;
	struct ring *r = make_ring(path, "held", 4096, 1024, 16);
	char buf[200] = { 0 };
	int n = 0, rc;

	ring_reader_open(r, "fast", RING_GROUP_CREATE, &fast);
	ring_reader_open(r, "slow", RING_GROUP_CREATE, &slow);
	while ((rc = ring_send(r, (uint32_t)n, buf, 200, RING_FULL_FAIL,
			       NULL)) == 0)
		n++;
	is(rc, -EAGAIN, "ring fills: -EAGAIN");
	is(read_all(fast, 0), n, "fast group reads everything");
	is(ring_send(r, 0, buf, 200, RING_FULL_FAIL, NULL), -EAGAIN,
	   "still full: the slow group holds it");
	ring_stats(r, &st);
	ring_group_stats(r, "slow", &gs);
	is(st.min_cursor, gs.cursor, "min_cursor is the slow group's");
	ring_peek(slow, &m, RING_NONBLOCK, NULL);
	ring_release(slow);
	is(ring_send(r, (uint32_t)n, buf, 200, RING_FULL_FAIL, NULL), 0,
	   "slow group releases one: one send fits");
	is(ring_send(r, 0, buf, 200, RING_FULL_FAIL, NULL), -EAGAIN,
	   "then full again");
	is(ring_group_remove(r, "slow"), -EBUSY,
	   "ring_group_remove with a live reader: -EBUSY");
	ring_reader_close(slow);
	is(ring_group_remove(r, "slow"), 0, "ring_group_remove");
	is(ring_send(r, (uint32_t)n + 1, buf, 200, RING_FULL_FAIL, NULL), 0,
	   "producers no longer held back by it");
	is(read_all(fast, (uint32_t)n), 2, "fast group gets the new ones");
	is(ring_group_remove(r, "slow"), -ENOENT, "remove again: -ENOENT");
	ring_close(r);
}

/* Returns 1 if @name is among the first @n of @names. */
static int listed(char (*names)[RING_GROUP_NAME_MAX + 1], int n,
		  const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return 1;
	return 0;
}

/* ring_group_list and the name rules. */
static void test_list_and_names(void)
{
	char names[8][RING_GROUP_NAME_MAX + 1];
	char path[TU_PATH_MAX], name[64];
	struct ring_reader *rd = NULL;
	struct ring *r = make_ring(path, "names", 1 << 16, 1024, 4);
	int n;

	is(ring_group_list(r, names, 8), 0, "no groups at first");
	ring_group_create(r, "a", 0);
	ring_group_create(r, "b", 0);
	ring_group_create(r, "c", 0);
	memset(names, 0, sizeof(names));
	n = ring_group_list(r, names, 8);
	is(n, 3, "ring_group_list counts 3");
	ok(n == 3 && listed(names, 3, "a") && listed(names, 3, "b") &&
		   listed(names, 3, "c"),
	   "  ... and names a, b, c");
	memset(names, 0, sizeof(names));
	is(ring_group_list(r, names, 1), 3, "with room for one: still 3");
	ok(listed(names, 1, "a") || listed(names, 1, "b") ||
		   listed(names, 1, "c"),
	   "  ... and one of the names copied");
	ok(names[1][0] == 0, "  ... and only one");
	ring_group_remove(r, "b");
	n = ring_group_list(r, names, 8);
	ok(n == 2 && !listed(names, 2, "b"), "removed group no longer listed");

	is(ring_group_create(r, "", 0), -EINVAL, "empty name: -EINVAL");
	is(ring_group_create(r, "a\nb", 0), -EINVAL, "name with a newline: -EINVAL");
	is(ring_group_create(r, "a\033[2Jb", 0), -EINVAL,
	   "name with an escape sequence: -EINVAL");
	is(ring_group_create(r, "a\177", 0), -EINVAL, "name with DEL: -EINVAL");
	memset(name, 'x', 48);
	name[48] = 0;
	is(ring_group_create(r, name, 0), -EINVAL, "48-byte name: -EINVAL");
	is(ring_reader_open(r, name, RING_GROUP_CREATE, &rd), -EINVAL,
	   "ring_reader_open with a 48-byte name: -EINVAL");
	name[47] = 0;
	is(ring_group_create(r, name, 0), 0, "47-byte name accepted");
	is(ring_group_create(r, "a", 0), -EEXIST, "duplicate: -EEXIST");
	is(ring_group_create(r, "d", 0), 0, "a removed group's entry is reused");
	is(ring_group_create(r, "e", 0), -ENOSPC, "table full: -ENOSPC");
	is(ring_group_remove(r, "zz"), -ENOENT, "remove missing: -ENOENT");
	is(ring_reader_open(r, "zz", 0, &rd), -ENOENT,
	   "reader of a missing group without CREATE: -ENOENT");
	n = ring_group_list(r, names, 8);
	ok(n == 4 && listed(names, 4, name), "47-byte name listed whole");
	ring_close(r);

	/* A full process table has its own error, not "no space". */
	{
		struct ring_config cfg;
		char ppath[TU_PATH_MAX];
		struct ring *r1;

		ring_config_init(&cfg);
		cfg.capacity = 64 << 10;
		cfg.processes = 1;
		ring_create(tu_ring_path(ppath, "procs"), &cfg, 0, &r1);
		ok(ring_reader_open(r1, "a", RING_GROUP_CREATE, &rd) == 0,
		   "a reader takes the only process entry");
		is(ring_send(r1, 0, "x", 1, 0, NULL), -EUSERS,
		   "process table full: -EUSERS");
		ok(strstr(ring_strerror(-EUSERS), "process table") != NULL,
		   "and ring_strerror says so");
		ring_close(r1);
	}
}

int main(void)
{
	plan(79);
	tu_guard(60);
	test_fanout();
	test_from();
	test_busy();
	test_resume();
	test_poll_batch();
	test_held_back();
	test_list_and_names();
	tu_cleanup_rings();
	return exit_status();
}

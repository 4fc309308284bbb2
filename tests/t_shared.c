// SPDX-License-Identifier: MIT
/*
 * t_shared.c - shared groups (work sharing, issue 15): the API.
 *
 *   create     RING_GROUP_SHARED | RING_GROUP_MEMBERS(n): the limit and no
 *              seat in ring_group_members(), the default limit, -EINVAL for
 *              65, -EMEDIUMTYPE for an exclusive group, -ENOENT
 *   seats      members up to the limit in one process and from children,
 *              -EBUSY beyond it, a closed or dead member's empty seat free
 *              again; pid and alive per seat
 *   once       three members reading through ring_peek, ring_peek_batch and
 *              ring_poll: every message to exactly one of them, positions
 *              ascending per member; ring_peek takes the one message it returns
 *   partial    ring_release_n of part of a batch: the rest stays the
 *              member's (held_from/held_to/held/released), is returned
 *              again, and nobody else gets it
 *   close      a member closed holding messages: another live member gets
 *              them; the next member to join gets them first
 *   cursor     ring_group_stats: the cursor is the oldest unreleased
 *              position (an early batch held while later ones are
 *              released), and the end once everything is released
 *   full       producers are held back by a member's unreleased batch
 *              (RING_FULL_FAIL: -EAGAIN), and go on after its release
 *   busy       remove and reset refused while a member lives
 *   dead       a member SIGKILLed holding a batch: its seat shows it dead
 *              with the stretch; the next member to join takes the seat and
 *              gets exactly those messages first
 *   wait       a member asleep in ring_peek / ring_peek_batch (observed in
 *              the file) is woken by a send from another process
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ring.h"
#include "../libring/src/layout.h"
#include "tap.h"
#include "lib/testutil.h"

#define SHARED3 (RING_GROUP_SHARED | RING_GROUP_MEMBERS(3))

static char path[TU_PATH_MAX];

/* A ring of @capacity bytes at @path (16-byte slots, RING_FULL_FAIL). */
static struct ring *make_ring(const char *tag, uint64_t capacity)
{
	struct ring_config cfg;
	struct ring *r = NULL;
	int rc;

	ring_config_init(&cfg);
	cfg.capacity = capacity;
	cfg.max_message = 1024;
	cfg.groups = 8;
	cfg.full_policy = RING_FULL_FAIL;
	rc = ring_create(tu_ring_path(path, tag), &cfg, 0, &r);
	if (rc) {
		diag("ring_create(%s): %s", path, ring_strerror(rc));
		bail_out("cannot create a ring");
	}
	return r;
}

/* Sends @n messages of 16 bytes whose type tags are @first, @first + 1... */
static int send_n(struct ring *r, uint32_t first, unsigned n)
{
	char buf[16] = { 0 };
	unsigned i;
	int rc;

	for (i = 0; i < n; i++) {
		memcpy(buf, &i, sizeof(i));
		rc = ring_send(r, first + i, buf, sizeof(buf), 0, NULL);
		if (rc)
			return rc;
	}
	return 0;
}

/* The seats of group @g in use into @info (16 at most); the count. */
static int members(struct ring *r, const char *g, struct ring_member_info *info)
{
	memset(info, 0, 16 * sizeof(*info));
	return ring_group_members(r, g, info, 16, NULL);
}

/* The seat of @info[0..n) whose held_from is @from, or NULL. */
static const struct ring_member_info *
seat_from(const struct ring_member_info *info, int n, uint64_t from, int held)
{
	int i;

	for (i = 0; i < n && i < 16; i++)
		if (info[i].held_from == from && (!held || info[i].held))
			return &info[i];
	return NULL;
}

/* How many of @info[0..n) belong to @pid and are alive as @alive says. */
static int seats_of(const struct ring_member_info *info, int n, pid_t pid,
		    int alive)
{
	int i, k = 0;

	for (i = 0; i < n && i < 16; i++)
		if (info[i].pid == pid && info[i].alive == alive)
			k++;
	return k;
}

/* The ring's tail. */
static uint64_t tail_of(struct ring *r)
{
	struct ring_stats st;

	return ring_stats(r, &st) == 0 ? st.tail : ~0ull;
}

/* The cursor of group @g. */
static uint64_t cursor_of(struct ring *r, const char *g)
{
	struct ring_group_stats gs;

	return ring_group_stats(r, g, &gs) == 0 ? gs.cursor : ~0ull;
}

/* ---- create ---- */

static void test_create(void)
{
	struct ring_member_info info[16];
	struct ring_reader *rd = NULL;
	struct ring *r = make_ring("create", 1 << 16);
	unsigned limit = 0;

	is(ring_group_create(r, "w", SHARED3), 0,
	   "create: a shared group of 3 members");
	is(ring_group_members(r, "w", info, 16, &limit), 0,
	   "create: ring_group_members: no seat in use");
	is(limit, 3, "create: the member limit is 3");
	is(ring_group_create(r, "x", 0), 0, "create: an exclusive group");
	is(ring_group_members(r, "x", info, 16, &limit), -EMEDIUMTYPE,
	   "create: ring_group_members of an exclusive group: -EMEDIUMTYPE");
	is(ring_group_members(r, "nope", info, 16, &limit), -ENOENT,
	   "create: ring_group_members of a missing group: -ENOENT");
	is(ring_group_create(r, "y", RING_GROUP_SHARED | RING_GROUP_MEMBERS(65)),
	   -EINVAL, "create: RING_GROUP_MEMBERS(65): -EINVAL");
	is(ring_group_create(r, "y", RING_GROUP_SHARED), 0,
	   "create: a shared group without a limit");
	limit = 0;
	ring_group_members(r, "y", info, 16, &limit);
	is(limit, RING_MEMBERS_MAX, "create: its limit is RING_MEMBERS_MAX");
	is(ring_group_create(r, "z", RING_GROUP_SHARED |
				     RING_GROUP_MEMBERS(RING_MEMBERS_MAX)),
	   0, "create: RING_GROUP_MEMBERS(64) accepted");
	is(ring_reader_open(r, "made", RING_GROUP_CREATE | RING_GROUP_SHARED |
					       RING_GROUP_MEMBERS(2), &rd),
	   0, "create: ring_reader_open RING_GROUP_CREATE | RING_GROUP_SHARED");
	limit = 0;
	is(ring_group_members(r, "made", info, 16, &limit), 1,
	   "create: ... the group it made is shared, with the opener's seat");
	is(limit, 2, "create: ... and its limit");
	ok(info[0].pid == getpid() && info[0].alive == 1 &&
		   info[0].held == 0 && info[0].held_from == info[0].held_to,
	   "create: ... the seat: this pid, alive, holding nothing");
	ring_close(r);
}

/* ---- seats ---- */

struct child_member {
	int ready[2];	/* the child writes its open's result (int) */
	int go[2];	/* the child exits when this pipe closes or gets a byte */
};

/* Child: open a member of "w", report the result, wait, exit 0. */
static int child_member(void *arg)
{
	struct child_member *c = arg;
	struct ring_reader *rd = NULL;
	struct ring *r = NULL;
	int rc;
	char b;

	alarm(30);
	close(c->ready[0]);
	close(c->go[1]);
	rc = ring_open(path, 0, &r);
	if (rc == 0)
		rc = ring_reader_open(r, "w", 0, &rd);
	if (tu_write_all(c->ready[1], &rc, sizeof(rc)))
		return 2;
	if (rc)
		return 1;
	if (read(c->go[0], &b, 1) < 0)
		return 3;
	ring_close(r);
	return 0;
}

/* Starts a child member; *@rc: its open's result. Returns the pid. */
static pid_t start_member(struct child_member *c, int *rc)
{
	pid_t pid;

	if (pipe(c->ready) || pipe(c->go))
		bail_out("pipe");
	pid = tu_fork(child_member, c);
	close(c->ready[1]);
	close(c->go[0]);
	*rc = -9999;
	if (tu_read_timeout(c->ready[0], rc, sizeof(*rc), 20000))
		*rc = -9998;
	close(c->ready[0]);
	return pid;
}

static void test_seats(void)
{
	struct ring_member_info info[16];
	struct ring_reader *m[4] = { 0 };
	struct child_member c1, c2, c3;
	struct ring *r = make_ring("seats", 1 << 16);
	pid_t p1, p2, p3;
	int rc1, rc2, rc3, n, st;

	ring_group_create(r, "w", SHARED3);
	is(ring_reader_open(r, "w", 0, &m[0]), 0, "seats: member 1 opens");
	is(ring_reader_open(r, "w", 0, &m[1]), 0,
	   "seats: member 2, same process, opens");
	is(ring_reader_open(r, "w", 0, &m[2]), 0,
	   "seats: member 3, same process, opens");
	is(ring_reader_open(r, "w", 0, &m[3]), -EBUSY,
	   "seats: a fourth: -EBUSY");
	n = members(r, "w", info);
	is(n, 3, "seats: three seats in use");
	is(seats_of(info, n, getpid(), 1), 3,
	   "seats: ... each with this pid, alive");
	ring_reader_close(m[1]);
	n = members(r, "w", info);
	is(n, 2, "seats: a member closed holding nothing: its seat is free");
	is(ring_reader_open(r, "w", 0, &m[1]), 0,
	   "seats: so another member opens");
	ring_reader_close(m[0]);
	ring_reader_close(m[1]);
	ring_reader_close(m[2]);
	is(members(r, "w", info), 0, "seats: all closed: no seat in use");

	/* From other processes. */
	is(ring_reader_open(r, "w", 0, &m[0]), 0,
	   "seats: a member in this process");
	p1 = start_member(&c1, &rc1);
	p2 = start_member(&c2, &rc2);
	ok(rc1 == 0 && rc2 == 0, "seats: two members in child processes "
	   "(%d, %d)", rc1, rc2);
	is(ring_reader_open(r, "w", 0, &m[1]), -EBUSY,
	   "seats: a fourth in this process: -EBUSY");
	p3 = start_member(&c3, &rc3);
	is(rc3, -EBUSY, "seats: a fourth in another process: -EBUSY");
	close(c3.go[1]);
	tu_wait(p3, 10000);
	n = members(r, "w", info);
	ok(n == 3 && seats_of(info, n, getpid(), 1) == 1 &&
		   seats_of(info, n, p1, 1) == 1 &&
		   seats_of(info, n, p2, 1) == 1,
	   "seats: ring_group_members: this pid and both children's, alive");
	kill(p1, SIGKILL);
	st = tu_wait(p1, 10000);
	is(st, 128 + SIGKILL, "seats: a member killed holding nothing");
	n = members(r, "w", info);
	ok(n == 2 && seats_of(info, n, p1, 1) == 0 &&
		   seats_of(info, n, p1, 0) == 0,
	   "seats: ... its seat is no longer in use (%d seats)", n);
	is(ring_reader_open(r, "w", 0, &m[1]), 0,
	   "seats: ... and a new member takes its place");
	close(c2.go[1]);
	is(tu_wait(p2, 10000), 0, "seats: the other child closes and exits");
	close(c1.go[1]);
	ring_close(r);
}

/* ---- once ---- */

#define ONCE_N 3000

struct once_state {
	unsigned seen[ONCE_N];
	uint64_t last_pos[3];	/* per member, the last position it got */
	int has_last[3];
	int disorder;		/* a member got a position before its last */
	int member;		/* the member ring_poll runs for */
	unsigned got[3];
};

static void once_note(struct once_state *s, int who, const struct ring_msg *m)
{
	if (m->type < ONCE_N)
		s->seen[m->type]++;
	if (s->has_last[who] && m->pos <= s->last_pos[who])
		s->disorder = 1;
	s->last_pos[who] = m->pos;
	s->has_last[who] = 1;
	s->got[who]++;
}

static int once_handler(const struct ring_msg *m, void *arg)
{
	struct once_state *s = arg;

	once_note(s, s->member, m);
	return 0;
}

static void test_once(void)
{
	struct ring_member_info info[16];
	static struct once_state s;
	struct ring_reader *m[3] = { 0 };
	struct ring_msg msgs[64], one, again;
	const struct ring_member_info *seat;
	struct ring *r = make_ring("once", 1 << 20);
	unsigned i, total = 0, twice = 0, never = 0, max;
	int rc, k, n, progress, again_same = 1, batch_order = 1;
	uint64_t seed = 12345;

	memset(&s, 0, sizeof(s));
	ring_group_create(r, "w", SHARED3);
	for (k = 0; k < 3; k++)
		if (ring_reader_open(r, "w", 0, &m[k]))
			bail_out("cannot open three members");
	if (send_n(r, 0, ONCE_N))
		bail_out("cannot send");

	/* ring_peek takes the one message it returns, no more. */
	rc = ring_peek(m[0], &one, RING_NONBLOCK, NULL);
	is(rc, 0, "once: ring_peek of member 1");
	n = members(r, "w", info);
	seat = seat_from(info, n, one.pos, 1);
	ok(seat && seat->held == 1,
	   "once: ... its seat holds that one message (%llu)",
	   seat ? (unsigned long long)seat->held : 0ull);
	rc = ring_peek_batch(m[1], msgs, 4, RING_NONBLOCK, NULL);
	ok(rc == 4 && msgs[0].type == one.type + 1,
	   "once: member 2's first batch starts right after member 1's message");
	ring_release_n(m[1], 4);
	once_note(&s, 1, &msgs[0]);
	once_note(&s, 1, &msgs[1]);
	once_note(&s, 1, &msgs[2]);
	once_note(&s, 1, &msgs[3]);
	rc = ring_peek(m[0], &again, RING_NONBLOCK, NULL);
	ok(rc == 0 && again.pos == one.pos,
	   "once: ring_peek again before release: the same message");

	/* Round robin over the three ways of reading until nothing is left. */
	do {
		progress = 0;
		/* member 1: peek/release, a random number of times */
		max = 1 + (unsigned)(tu_rand(&seed) % 40);
		for (i = 0; i < max; i++) {
			rc = ring_peek(m[0], &one, RING_NONBLOCK, NULL);
			if (rc)
				break;
			rc = ring_peek(m[0], &again, RING_NONBLOCK, NULL);
			if (rc || again.pos != one.pos)
				again_same = 0;
			once_note(&s, 0, &one);
			ring_release(m[0]);
			progress = 1;
		}
		/* member 2: a batch, released whole */
		max = 1 + (unsigned)(tu_rand(&seed) % 64);
		rc = ring_peek_batch(m[1], msgs, max, RING_NONBLOCK, NULL);
		if (rc > 0) {
			for (k = 0; k < rc; k++) {
				if (k && msgs[k].pos <= msgs[k - 1].pos)
					batch_order = 0;
				once_note(&s, 1, &msgs[k]);
			}
			if ((unsigned)rc > max)
				batch_order = 0;
			ring_release_n(m[1], (unsigned)rc);
			progress = 1;
		}
		/* member 3: ring_poll */
		s.member = 2;
		max = 1 + (unsigned)(tu_rand(&seed) % 64);
		rc = ring_poll(m[2], once_handler, &s, max, RING_NONBLOCK, NULL);
		if (rc > 0)
			progress = 1;
	} while (progress);
	for (i = 0; i < ONCE_N; i++) {
		total += s.seen[i];
		twice += s.seen[i] > 1;
		never += s.seen[i] == 0;
	}
	diag("once: members got %u, %u, %u", s.got[0], s.got[1], s.got[2]);
	ok(total == ONCE_N && twice == 0 && never == 0,
	   "once: %d messages, each to exactly one member (%u deliveries, %u "
	   "twice, %u never)", ONCE_N, total, twice, never);
	ok(s.got[0] && s.got[1] && s.got[2],
	   "once: each of the three members got some");
	ok(!s.disorder, "once: each member's positions ascend");
	ok(batch_order, "once: within a ring_peek_batch positions ascend");
	ok(again_same, "once: ring_peek returns the same message until "
	   "ring_release");
	is(ring_peek(m[0], &one, RING_NONBLOCK, NULL), -EAGAIN,
	   "once: nothing left: ring_peek -EAGAIN");
	is(ring_peek_batch(m[1], msgs, 8, RING_NONBLOCK, NULL), -EAGAIN,
	   "once: ring_peek_batch -EAGAIN");
	is(ring_poll(m[2], once_handler, &s, 8, RING_NONBLOCK, NULL), -EAGAIN,
	   "once: ring_poll -EAGAIN");
	is(cursor_of(r, "w"), tail_of(r), "once: the cursor is at the tail");
	{
		struct ring_group_stats gs;

		ring_group_stats(r, "w", &gs);
		is(gs.released, ONCE_N, "once: the group released %d", ONCE_N);
		is(gs.lag_messages, 0, "once: no lag");
	}
	n = members(r, "w", info);
	ok(n == 3 && info[0].released + info[1].released + info[2].released ==
			     ONCE_N,
	   "once: the seats' released add up to %d", ONCE_N);
	ring_close(r);
}

/* ---- partial, close ---- */

static void test_partial_close(void)
{
	struct ring_member_info info[16];
	const struct ring_member_info *seat;
	struct ring_reader *a = NULL, *b = NULL, *c = NULL;
	struct ring_msg ma[16], mb[32], mc[32];
	struct ring *r = make_ring("partial", 1 << 16);
	uint64_t end;
	int rc, n, k, same;

	ring_group_create(r, "w", SHARED3);
	ring_reader_open(r, "w", 0, &a);
	ring_reader_open(r, "w", 0, &b);
	send_n(r, 0, 20);
	is(ring_release(a), -EINVAL, "partial: ring_release with nothing "
	   "peeked: -EINVAL");
	rc = ring_peek_batch(a, ma, 10, RING_NONBLOCK, NULL);
	ok(rc == 10 && ma[0].type == 0 && ma[9].type == 9,
	   "partial: member A takes a batch of 10 (%d)", rc);
	is(ring_release_n(a, 11), -EINVAL,
	   "partial: ring_release_n of more than peeked: -EINVAL");
	is(ring_release_n(a, 4), 0, "partial: A releases the first 4");
	end = ma[9].pos + ma[9].slots;
	n = members(r, "w", info);
	seat = seat_from(info, n, ma[4].pos, 1);
	ok(seat && seat->held_to == end && seat->held == 6 &&
		   seat->released == 4 && seat->alive == 1 &&
		   seat->pid == getpid(),
	   "partial: A's seat: held_from = 5th, held_to = end of batch, held "
	   "6, released 4, alive");
	is(cursor_of(r, "w"), ma[4].pos,
	   "partial: the cursor is at A's first unreleased");
	rc = ring_peek_batch(b, mb, 32, RING_NONBLOCK, NULL);
	ok(rc == 10 && mb[0].type == 10 && mb[9].type == 19,
	   "partial: member B gets the other 10, none of A's (%d)", rc);
	ring_release_n(b, 10);
	rc = ring_peek_batch(a, ma, 16, RING_NONBLOCK, NULL);
	ok(rc == 6 && ma[0].type == 4 && ma[5].type == 9,
	   "partial: A's next ring_peek_batch returns its 6 unreleased (%d)",
	   rc);

	/* Closed with the 6 unreleased: B, live, gets them. */
	is(ring_reader_close(a), 0, "close: A closes holding 6");
	n = members(r, "w", info);
	seat = seat_from(info, n, ma[0].pos, 1);
	ok(n == 2 && seat && seat->alive == 0 && seat->held == 6,
	   "close: its seat is still in use, not alive, holding 6");
	{
		struct timespec dl;

		rc = ring_peek_batch(b, mb, 32, 0, tu_deadline_ms(&dl, 10000));
	}
	same = rc == 6;
	for (k = 0; same && k < 6; k++)
		same = mb[k].pos == ma[k].pos && mb[k].type == (uint32_t)(4 + k);
	ok(same, "close: live member B gets exactly A's 6 (%d)", rc);
	ring_release_n(b, rc > 0 ? (unsigned)rc : 0);
	is(members(r, "w", info), 1, "close: A's seat no longer in use");
	is(cursor_of(r, "w"), tail_of(r), "close: the cursor is at the tail");

	/* Closed holding 5; the next member to join gets them first. */
	ring_reader_open(r, "w", 0, &a);
	send_n(r, 20, 12);
	rc = ring_peek_batch(a, ma, 5, RING_NONBLOCK, NULL);
	ok(rc == 5 && ma[0].type == 20, "close: A takes 5 again (%d)", rc);
	ring_reader_close(a);
	is(ring_reader_open(r, "w", 0, &c), 0, "close: member C joins");
	rc = ring_peek_batch(c, mc, 32, RING_NONBLOCK, NULL);
	same = rc >= 5;
	for (k = 0; same && k < 5; k++)
		same = mc[k].pos == ma[k].pos;
	ok(same, "close: C gets A's 5 first (%d)", rc);
	{
		unsigned seen[12] = { 0 }, bad = 0;

		do {
			for (k = 0; k < rc; k++) {
				if (mc[k].type >= 20 && mc[k].type < 32)
					seen[mc[k].type - 20]++;
				else
					bad++;
			}
			if (rc > 0)
				ring_release_n(c, (unsigned)rc);
			rc = ring_peek_batch(b, mb, 32, RING_NONBLOCK, NULL);
			for (k = 0; k < rc; k++) {
				if (mb[k].type >= 25 && mb[k].type < 32)
					seen[mb[k].type - 20]++;
				else
					bad++;
			}
			if (rc > 0)
				ring_release_n(b, (unsigned)rc);
			rc = ring_peek_batch(c, mc, 32, RING_NONBLOCK, NULL);
		} while (rc > 0);
		for (k = 0; k < 12; k++)
			if (seen[k] != 1)
				bad++;
		ok(bad == 0, "close: then B and C get the other 7, each once, "
		   "B none of A's");
	}
	is(cursor_of(r, "w"), tail_of(r), "close: the cursor is at the tail");
	ring_close(r);
}

/* ---- cursor ---- */

static void test_cursor(void)
{
	struct ring_member_info info[16];
	struct ring_group_stats gs;
	const struct ring_member_info *seat;
	struct ring_reader *a = NULL, *b = NULL;
	struct ring_msg ma[16], mb[64];
	struct ring *r = make_ring("cursor", 1 << 16);
	int ra, rb, n;

	ring_group_create(r, "w", SHARED3);
	ring_reader_open(r, "w", 0, &a);
	ring_reader_open(r, "w", 0, &b);
	send_n(r, 0, 40);
	is(cursor_of(r, "w"), 0, "cursor: at 0 before anyone reads");
	ra = ring_peek_batch(a, ma, 10, RING_NONBLOCK, NULL);
	rb = ring_peek_batch(b, mb, 64, RING_NONBLOCK, NULL);
	ok(ra == 10 && rb == 30, "cursor: A takes 10, B the other 30");
	is(ring_release_n(b, 30), 0, "cursor: B releases its 30");
	ring_group_stats(r, "w", &gs);
	is(gs.cursor, ma[0].pos, "cursor: stays at A's first position");
	is(gs.released, 30, "cursor: the group's released: 30");
	is(gs.lag_messages, 40, "cursor: lag_messages counted from the cursor");
	n = members(r, "w", info);
	seat = seat_from(info, n, ma[0].pos, 1);
	ok(seat && seat->held == 10 && seat->held_to == ma[9].pos + ma[9].slots,
	   "cursor: A's seat holds [first, end of its batch): 10");
	ok(n == 2 && seats_of(info, n, getpid(), 1) == 2 &&
		   (info[0].released == 30 || info[1].released == 30),
	   "cursor: B's seat: released 30");
	ring_release_n(a, 3);
	is(cursor_of(r, "w"), ma[3].pos,
	   "cursor: A releases 3: the cursor at its 4th");
	ring_release_n(a, 7);
	ring_group_stats(r, "w", &gs);
	is(gs.cursor, tail_of(r), "cursor: A releases the rest: at the end");
	is(gs.released, 40, "cursor: released 40");
	ring_close(r);
}

/* ---- full ---- */

static void test_full(void)
{
	struct ring_reader *a = NULL, *b = NULL;
	struct ring_msg ma[4], mb[64];
	struct ring *r = make_ring("full", 4096);
	char buf[200] = { 0 };
	int rc, n = 0, drained = 0;

	ring_group_create(r, "w", SHARED3);
	ring_reader_open(r, "w", 0, &a);
	ring_reader_open(r, "w", 0, &b);
	is(ring_send(r, 0, buf, sizeof(buf), RING_FULL_FAIL, NULL), 0,
	   "full: a first message");
	is(ring_peek_batch(a, ma, 1, RING_NONBLOCK, NULL), 1,
	   "full: member A holds it");
	for (;;) {
		rc = ring_send(r, 1, buf, sizeof(buf), RING_FULL_FAIL, NULL);
		if (rc == 0) {
			n++;
			continue;
		}
		/* B takes and releases everything else; if that made no
		 * room, the ring is full because of A. */
		drained = 0;
		while ((rc = ring_peek_batch(b, mb, 64, RING_NONBLOCK, NULL)) > 0) {
			drained += rc;
			ring_release_n(b, (unsigned)rc);
		}
		if (!drained || n > 1000)
			break;
	}
	ok(n > 10 && n < 1000, "full: %d more sent while B releases them", n);
	is(ring_send(r, 1, buf, sizeof(buf), RING_FULL_FAIL, NULL), -EAGAIN,
	   "full: B released all it took, still full: -EAGAIN (A holds one)");
	is(cursor_of(r, "w"), ma[0].pos, "full: the cursor is A's message");
	is(ring_release_n(a, 1), 0, "full: A releases it");
	is(ring_send(r, 2, buf, sizeof(buf), RING_FULL_FAIL, NULL), 0,
	   "full: then a send succeeds");
	ring_close(r);
}

/* ---- busy ---- */

static void test_busy(void)
{
	struct ring_member_info info[16];
	struct ring_reader *a = NULL, *b = NULL;
	struct ring_msg ma[8];
	struct ring *r = make_ring("busy", 1 << 16);

	ring_group_create(r, "w", SHARED3);
	ring_reader_open(r, "w", 0, &a);
	ring_reader_open(r, "w", 0, &b);
	send_n(r, 0, 10);
	ring_peek_batch(a, ma, 4, RING_NONBLOCK, NULL);
	is(ring_group_remove(r, "w"), -EBUSY, "busy: remove with two live "
	   "members: -EBUSY");
	is(ring_group_reset(r, "w", RING_FROM_NEWEST), -EBUSY,
	   "busy: reset: -EBUSY");
	ring_reader_close(b);
	is(ring_group_remove(r, "w"), -EBUSY,
	   "busy: remove with one live member (holding 4): -EBUSY");
	is(ring_group_reset(r, "w", RING_FROM_OLDEST), -EBUSY,
	   "busy: reset: -EBUSY");
	ring_reader_close(a);
	is(ring_group_reset(r, "w", RING_FROM_NEWEST), 0,
	   "busy: no live member (a closed one's 4 left): reset succeeds");
	is(cursor_of(r, "w"), tail_of(r), "busy: ... the cursor at the tail");
	is(members(r, "w", info), 0, "busy: ... no seat in use any more");
	ring_reader_open(r, "w", 0, &a);
	is(ring_peek_batch(a, ma, 8, RING_NONBLOCK, NULL), -EAGAIN,
	   "busy: a new member gets nothing old");
	send_n(r, 100, 1);
	ok(ring_peek_batch(a, ma, 8, RING_NONBLOCK, NULL) == 1 &&
		   ma[0].type == 100,
	   "busy: ... only what is sent after the reset");
	ring_release_n(a, 1);
	ring_reader_close(a);
	is(ring_group_remove(r, "w"), 0, "busy: remove succeeds");
	is(ring_group_members(r, "w", info, 16, NULL), -ENOENT,
	   "busy: ... and the group is gone");
	ring_close(r);
}

/* ---- dead ---- */

struct dead_report {
	int rc;
	int n;
	uint32_t slots;
	uint64_t pos[8];
	uint32_t type[8];
};

/* Child: a member that takes a batch of 8, reports it and waits to die. */
static int child_holder(void *arg)
{
	int fd = *(int *)arg;
	struct dead_report rep = { 0 };
	struct ring_reader *rd = NULL;
	struct ring_msg m[8];
	struct ring *r = NULL;
	int k;

	alarm(30);
	rep.rc = ring_open(path, 0, &r);
	if (!rep.rc)
		rep.rc = ring_reader_open(r, "w", 0, &rd);
	if (!rep.rc) {
		rep.n = ring_peek_batch(rd, m, 8, RING_NONBLOCK, NULL);
		for (k = 0; k < rep.n && k < 8; k++) {
			rep.pos[k] = m[k].pos;
			rep.type[k] = m[k].type;
			rep.slots = m[k].slots;
		}
	}
	tu_write_all(fd, &rep, sizeof(rep));
	for (;;)
		pause();
	return 0;
}

static void test_dead(void)
{
	struct ring_member_info info[16];
	const struct ring_member_info *seat;
	struct ring_reader *b = NULL, *c = NULL;
	struct dead_report rep;
	struct ring_msg mb[16], mc[32];
	struct ring *r = make_ring("dead", 1 << 16);
	int p[2], rc, n, k, same;
	pid_t pid;

	ring_group_create(r, "w", SHARED3);
	ring_reader_open(r, "w", 0, &b);
	send_n(r, 0, 30);
	rc = ring_peek_batch(b, mb, 4, RING_NONBLOCK, NULL);
	ring_release_n(b, 4);
	if (pipe(p))
		bail_out("pipe");
	pid = tu_fork(child_holder, &p[1]);
	close(p[1]);
	memset(&rep, 0, sizeof(rep));
	if (tu_read_timeout(p[0], &rep, sizeof(rep), 20000))
		rep.rc = -9999;
	close(p[0]);
	ok(rep.rc == 0 && rep.n == 8 && rep.type[0] == 4,
	   "dead: a child member takes 8 (rc %d, n %d)", rep.rc, rep.n);
	n = members(r, "w", info);
	seat = seat_from(info, n, rep.pos[0], 1);
	ok(seat && seat->pid == pid && seat->alive == 1 && seat->held == 8,
	   "dead: its seat: its pid, alive, holding 8");
	kill(pid, SIGKILL);
	is(tu_wait(pid, 10000), 128 + SIGKILL, "dead: SIGKILLed holding them");
	n = members(r, "w", info);
	seat = seat_from(info, n, rep.pos[0], 1);
	ok(n == 2 && seat && seat->pid == pid && seat->alive == 0 &&
		   seat->held == 8 && seat->held_to == rep.pos[7] + rep.slots,
	   "dead: its seat: in use, not alive, [first, end) of the 8");
	is(cursor_of(r, "w"), rep.pos[0], "dead: the cursor at its first");
	/* B stays idle: the member that joins takes the seat. */
	is(ring_reader_open(r, "w", 0, &c), 0, "dead: member C joins");
	n = members(r, "w", info);
	seat = seat_from(info, n, rep.pos[0], 1);
	ok(n == 2 && seat && seat->pid == getpid() && seat->alive == 1 &&
		   seat->held == 8,
	   "dead: C sits on the dead member's seat, with its 8");
	rc = ring_peek_batch(c, mc, 32, RING_NONBLOCK, NULL);
	same = rc >= 8;
	for (k = 0; same && k < 8; k++)
		same = mc[k].pos == rep.pos[k] && mc[k].type == rep.type[k];
	ok(same, "dead: C gets exactly the dead member's 8 first (%d)", rc);
	ring_release_n(c, rc > 0 ? (unsigned)rc : 0);
	rc = ring_peek_batch(b, mb, 16, RING_NONBLOCK, NULL);
	ok(rc > 0 && mb[0].type >= 12,
	   "dead: B then gets later messages only (first %u)",
	   rc > 0 ? mb[0].type : 0);
	ring_close(r);
}

/* ---- wait ---- */

/* Maps the hot words of the ring at @path read-only (NULL on failure). */
static const struct rl_hot *map_hot(void)
{
	struct rl_super sb;
	void *p;
	int fd;

	if (tu_file_peek(path, 0, &sb, sizeof(sb)))
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	p = mmap(NULL, RL_PAGE, PROT_READ, MAP_SHARED, fd, (off_t)sb.hot_off);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

/* Child: a member waiting without deadline; exit 0 if it got type 77
 * (@arg non-NULL: with ring_peek_batch). */
static int child_waiter(void *arg)
{
	struct ring_reader *rd = NULL;
	struct ring *r = NULL;
	struct ring_msg m[4];
	int rc;

	alarm(30);
	if (ring_open(path, 0, &r) || ring_reader_open(r, "w", 0, &rd))
		return 2;
	if (arg)
		rc = ring_peek_batch(rd, m, 4, 0, NULL) == 1 ? 0 : 3;
	else
		rc = ring_peek(rd, m, 0, NULL);
	if (rc)
		return 3;
	if (m[0].type != 77)
		return 4;
	return ring_release(rd) ? 5 : 0;
}

static void test_wait(void)
{
	struct ring *r = make_ring("wait", 1 << 16);
	const struct rl_hot *hot = map_hot();
	struct ring_member_info info[16];
	uint64_t end;
	int pass, saw;
	pid_t pid;

	ring_group_create(r, "w", SHARED3);
	for (pass = 0; pass < 2; pass++) {
		pid = tu_fork(child_waiter, pass ? (void *)1 : NULL);
		saw = 0;
		end = tu_now_ns() + 10000000000ull;
		while (!saw && hot && tu_now_ns() < end)
			saw = __atomic_load_n(&hot->data.waiters,
					      __ATOMIC_ACQUIRE) > 0;
		ok(saw, "wait: a member in another process asleep in %s",
		   pass ? "ring_peek_batch" : "ring_peek");
		is(ring_send(r, 77, "wake", 4, 0, NULL), 0, "wait: a send");
		is(tu_wait(pid, 10000), 0, "wait: ... wakes it, it gets the "
		   "message");
		end = tu_now_ns() + 10000000000ull;
		while (hot && tu_now_ns() < end &&
		       __atomic_load_n(&hot->data.waiters, __ATOMIC_ACQUIRE))
			;
	}
	is(members(r, "w", info), 0, "wait: the members exited: no seat in "
	   "use");
	ring_close(r);
}

int main(void)
{
	plan(111);
	tu_guard(120);
	test_create();
	test_seats();
	test_once();
	test_partial_close();
	test_cursor();
	test_full();
	test_busy();
	test_dead();
	test_wait();
	tu_cleanup_rings();
	return exit_status();
}

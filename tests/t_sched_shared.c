// SPDX-License-Identifier: MIT
/*
 * t_sched_shared - shared groups (issue 15) under interleavings the
 * schedule points of shared.c force every run (lib/sched_hook.h):
 *
 *   hold       a member stopped between its hold store and its CAS of the
 *              group's next position while another member takes the same
 *              messages: the other gets them, the cursor does not pass the
 *              in-flight hold, the stopped member's CAS fails and it takes
 *              the next messages; each message once.
 *   holddead   a member killed there with nobody else taking: its hold is
 *              no stretch of anybody's; the member that joins its seat gets
 *              every message once.
 *   holdtaken  a member killed there after another member took the same
 *              messages: its seat shows the hold dead, and the member that
 *              joins its seat finds the claim failed (the group's next word
 *              names the seat that moved it) and gets none of them: each
 *              message once.
 *   takendead  a member killed after its CAS and before it cleared its
 *   takenmoved pending claim, with next left there or moved on by another
 *              member's claim (which confirms it first): the claim
 *              succeeded, and the member that joins gets the stretch whole,
 *              once.
 *   scanned    a member killed inside its release, after its scan of the
 *              seats and before it raised the cursor, while producers wait
 *              for room it was the last to hold: the producers must get
 *              room (a cursor nobody will raise wedges them).
 *   rescue     a member stopped after taking a dead member's seat lease,
 *              before it took the stretch: a member that joins meanwhile
 *              does not get those messages, the rescuer does, once; and a
 *              rescuer killed there leaves them to the next member.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ring.h"
#include "tap.h"
#include "lib/sched_hook.h"
#include "lib/testutil.h"

#define SHARED (RING_GROUP_SHARED | RING_GROUP_MEMBERS(4))

static char path[TU_PATH_MAX];

static struct ring *make_ring(const char *tag, uint64_t capacity)
{
	struct ring_config cfg;
	struct ring *r = NULL;

	ring_config_init(&cfg);
	cfg.capacity = capacity;
	cfg.max_message = 1024;
	cfg.groups = 4;
	cfg.full_policy = RING_FULL_FAIL;
	if (ring_create(tu_ring_path(path, tag), &cfg, 0, &r) ||
	    ring_group_create(r, "w", SHARED))
		bail_out("cannot create the ring");
	ring_set_recovery_ms(r, 20);
	return r;
}

static int send_n(struct ring *r, uint32_t first, unsigned n, size_t len)
{
	char buf[256] = { 0 };
	unsigned i;

	for (i = 0; i < n; i++)
		if (ring_send(r, first + i, buf, len, RING_FULL_FAIL, NULL))
			return -1;
	return 0;
}

static uint64_t cursor_of(struct ring *r)
{
	struct ring_group_stats gs;

	return ring_group_stats(r, "w", &gs) == 0 ? gs.cursor : ~0ull;
}

static uint64_t tail_of(struct ring *r)
{
	struct ring_stats st;

	return ring_stats(r, &st) == 0 ? st.tail : ~0ull;
}

/* ---- a member in a child process, stopped at one point ---- */

struct batch {
	int rc;
	int n;
	uint32_t type[64];
	uint64_t pos[64];
};

struct job {
	struct sched_hook first; /* NOTE at a point before hook, if pre */
	struct sched_hook hook;
	int pre;
	int max;	/* ring_peek_batch's max */
	int wait_go;	/* read a byte from go[] before releasing */
	int release;	/* release the batch */
	int report[2];	/* the batch */
	int go[2];
};

static struct job job;

static int member_child(void *arg)
{
	struct ring_reader *rd = NULL;
	struct ring_msg m[64];
	struct batch b = { 0 };
	struct ring *r = NULL;
	struct timespec dl;
	char c;
	int k;

	(void)arg;
	alarm(60);
	b.rc = ring_open(path, 0, &r);
	if (!b.rc)
		b.rc = ring_reader_open(r, "w", 0, &rd);
	if (b.rc) {
		tu_write_all(job.report[1], &b, sizeof(b));
		return 2;
	}
	ring_set_recovery_ms(r, 20);
	if (job.pre) {
		ring_set_spin(r, 0);
		sched_chain(&job.first, &job.hook);
		sched_arm(&job.first);
	} else {
		sched_arm(&job.hook);
	}
	b.n = ring_peek_batch(rd, m, (unsigned)job.max, 0,
			      tu_deadline_ms(&dl, 20000));
	for (k = 0; k < b.n && k < 64; k++) {
		b.type[k] = m[k].type;
		b.pos[k] = m[k].pos;
	}
	if (tu_write_all(job.report[1], &b, sizeof(b)))
		return 3;
	if (b.n <= 0)
		return 4;
	if (job.wait_go && tu_read_all(job.go[0], &c, 1))
		return 5;
	if (job.release && ring_release_n(rd, (unsigned)b.n))
		return 6;
	ring_close(r);
	return 0;
}

static pid_t start_job2(const char *pre, const char *point, int max,
			int wait_go, int release)
{
	memset(&job, 0, sizeof(job));
	if (sched_init(&job.hook, point, SCHED_HOLD, 0) || pipe(job.report) ||
	    pipe(job.go))
		bail_out("pipe");
	if (pre) {
		if (sched_init(&job.first, pre, SCHED_NOTE, 0))
			bail_out("pipe");
		job.pre = 1;
	}
	job.max = max;
	job.wait_go = wait_go;
	job.release = release;
	return tu_fork(member_child, NULL);
}

static pid_t start_job(const char *point, int max, int wait_go, int release)
{
	return start_job2(NULL, point, max, wait_go, release);
}

static int job_batch(struct batch *b)
{
	memset(b, 0, sizeof(*b));
	if (tu_read_timeout(job.report[0], b, sizeof(*b), 20000))
		return -1;
	return b->rc ? -1 : b->n;
}

static void end_job(void)
{
	close(job.report[0]);
	close(job.report[1]);
	close(job.go[0]);
	close(job.go[1]);
	close(job.hook.report[0]);
	close(job.hook.report[1]);
	close(job.hook.resume[0]);
	close(job.hook.resume[1]);
	if (job.pre) {
		close(job.first.report[0]);
		close(job.first.report[1]);
		close(job.first.resume[0]);
		close(job.first.resume[1]);
	}
}

static void kill_wait(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* Reads everything @rd can get (NONBLOCK), counting types < @n in @seen. */
static void drain_into(struct ring_reader *rd, unsigned *seen, unsigned n)
{
	struct ring_msg m[64];
	int rc, k;

	while ((rc = ring_peek_batch(rd, m, 64, RING_NONBLOCK, NULL)) > 0) {
		for (k = 0; k < rc; k++)
			if (m[k].type < n)
				seen[m[k].type]++;
		ring_release_n(rd, (unsigned)rc);
	}
}

static int all_once(const unsigned *seen, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (seen[i] != 1)
			return 0;
	return 1;
}

/* ---- hold ---- */

static void test_hold(void)
{
	struct ring *r = make_ring("hold", 1 << 16);
	struct ring_reader *b = NULL;
	struct ring_msg m[64];
	unsigned seen[20] = { 0 };
	struct batch ab;
	int rc, k, okb = 1;
	pid_t a;

	send_n(r, 0, 20, 16);
	ring_reader_open(r, "w", 0, &b);
	a = start_job("member:hold", 4, 0, 1);
	ok(sched_reached(&job.hook, 10000),
	   "hold: member A stopped between its hold and its CAS");
	rc = ring_peek_batch(b, m, 10, RING_NONBLOCK, NULL);
	for (k = 0; k < rc; k++) {
		okb &= m[k].type == (uint32_t)k;
		seen[m[k].type]++;
	}
	ok(rc == 10 && okb, "hold: member B takes messages 0..9 meanwhile (%d)",
	   rc);
	ring_release_n(b, 10);
	is(cursor_of(r), m[0].pos, "hold: B released them; the cursor stays at "
	   "A's in-flight hold");
	sched_release(&job.hook);
	rc = job_batch(&ab);
	okb = rc == 4;
	for (k = 0; okb && k < 4; k++)
		okb = ab.type[k] == (uint32_t)(10 + k);
	ok(okb, "hold: A's CAS failed; it took 10..13 instead (%d, first %u)",
	   rc, rc > 0 ? ab.type[0] : 0);
	for (k = 0; k < rc && k < 64; k++)
		if (ab.type[k] < 20)
			seen[ab.type[k]]++;
	is(tu_wait(a, 10000), 0, "hold: A released them and exited");
	drain_into(b, seen, 20);
	ok(all_once(seen, 20), "hold: each of the 20 messages once");
	is(cursor_of(r), tail_of(r), "hold: the cursor at the tail");
	end_job();
	ring_close(r);
}

/* ---- holddead, holdtaken ---- */

static void test_hold_dead(int taken)
{
	const char *t = taken ? "holdtaken" : "holddead";
	struct ring *r = make_ring(t, 1 << 16);
	struct ring_member_info info[8];
	struct ring_reader *b = NULL, *c = NULL;
	struct ring_msg m[64];
	unsigned seen[20] = { 0 };
	int rc, k, n, dead = 0;
	pid_t a;

	ring_reader_open(r, "w", 0, &b);
	if (taken) {
		/* B's look for dead members' messages is now done for 100 s:
		 * its claim below does not come across A's hold first. */
		ring_set_recovery_ms(r, 100000);
		ring_peek_batch(b, m, 10, RING_NONBLOCK, NULL);
	}
	send_n(r, 0, 20, 16);
	a = start_job("member:hold", 4, 0, 1);
	ok(sched_reached(&job.hook, 10000),
	   "%s: member A stopped between its hold and its CAS", t);
	kill_wait(a);
	if (taken) {
		rc = ring_peek_batch(b, m, 10, RING_NONBLOCK, NULL);
		ok(rc == 10 && m[0].type == 0,
		   "%s: A killed there; B takes 0..9 and holds them", t);
		for (k = 0; k < rc; k++)
			seen[m[k].type]++;
		n = ring_group_members(r, "w", info, 8, NULL);
		for (k = 0; k < n && k < 8; k++)
			if (!info[k].alive && info[k].held)
				dead++;
		ok(dead == 1, "%s: ring_group_members shows A's seat dead "
		   "with the hold of its claim", t);
	}
	is(ring_reader_open(r, "w", 0, &c), 0,
	   "%s: member C joins (on A's seat)", t);
	if (taken) {
		/* A's claim failed (B moved next from 0): its hold is no
		 * stretch of anybody's, and B's messages are B's. */
		rc = ring_peek_batch(c, m, 64, RING_NONBLOCK, NULL);
		ok(rc >= 1 && m[0].type == 10,
		   "%s: C gets none of B's messages: its first is 10 (%d, %u)",
		   t, rc, rc >= 1 ? m[0].type : 0);
		for (k = 0; k < rc; k++)
			if (m[k].type < 20)
				seen[m[k].type]++;
		if (rc > 0)
			ring_release_n(c, (unsigned)rc);
		ring_release_n(b, 10);
	}
	drain_into(c, seen, 20);
	drain_into(b, seen, 20);
	ok(all_once(seen, 20), "%s: A's hold was nobody's: each of the 20 "
	   "messages exactly once", t);
	is(cursor_of(r), tail_of(r), "%s: the cursor at the tail", t);
	n = ring_group_members(r, "w", info, 8, NULL);
	is(n, 2, "%s: no dead seat left in use", t);
	end_job();
	ring_close(r);
}

/* ---- takendead, takenmoved ---- */

/*
 * A member killed after its CAS took the stretch and before it cleared its
 * pending claim: the claim succeeded, and the stretch goes whole to the
 * member that takes the seat, once; with @moved, after another member
 * moved next on from A's claim (confirming it on the way).
 */
static void test_taken_dead(int moved)
{
	const char *t = moved ? "takenmoved" : "takendead";
	struct ring *r = make_ring(t, 1 << 16);
	struct ring_reader *b = NULL, *c = NULL;
	struct ring_msg m[64];
	unsigned seen[20] = { 0 };
	int rc, k;
	pid_t a;

	ring_reader_open(r, "w", 0, &b);
	/* B does not look for dead members' messages for 100 s. */
	ring_set_recovery_ms(r, 100000);
	ring_peek_batch(b, m, 10, RING_NONBLOCK, NULL);
	send_n(r, 0, 20, 16);
	a = start_job("member:taken", 4, 0, 1);
	ok(sched_reached(&job.hook, 10000),
	   "%s: member A stopped after its CAS took 0..3", t);
	kill_wait(a);
	if (moved) {
		rc = ring_peek_batch(b, m, 6, RING_NONBLOCK, NULL);
		ok(rc == 6 && m[0].type == 4,
		   "%s: B takes 4..9 after A's stretch (%d, %u)", t, rc,
		   rc >= 1 ? m[0].type : 0);
		for (k = 0; k < rc; k++)
			seen[m[k].type]++;
		if (rc > 0)
			ring_release_n(b, (unsigned)rc);
	}
	is(ring_reader_open(r, "w", 0, &c), 0,
	   "%s: member C joins (on A's seat)", t);
	rc = ring_peek_batch(c, m, 64, RING_NONBLOCK, NULL);
	ok(rc == 4 && m[0].type == 0 && m[3].type == 3,
	   "%s: C gets A's stretch 0..3 first (%d, %u)", t, rc,
	   rc >= 1 ? m[0].type : 0);
	for (k = 0; k < rc; k++)
		if (m[k].type < 20)
			seen[m[k].type]++;
	if (rc > 0)
		ring_release_n(c, (unsigned)rc);
	drain_into(c, seen, 20);
	drain_into(b, seen, 20);
	ok(all_once(seen, 20), "%s: each of the 20 messages exactly once", t);
	is(cursor_of(r), tail_of(r), "%s: the cursor at the tail", t);
	end_job();
	ring_close(r);
}

/* ---- scanned ---- */

static void test_scanned(void)
{
	struct ring *r = make_ring("scanned", 4096);
	struct ring_reader *b = NULL, *c = NULL;
	struct ring_msg m[64];
	struct timespec dl;
	struct batch ab;
	int rc, n = 0, drained;
	pid_t a;

	ring_reader_open(r, "w", 0, &b);
	send_n(r, 0, 1, 200);
	a = start_job("member:scanned", 1, 1, 1);
	rc = job_batch(&ab);
	ok(rc == 1 && ab.type[0] == 0, "scanned: member A holds message 0");
	/* B takes and releases all else until the ring is full because of
	 * A's message. */
	for (;;) {
		if (send_n(r, 1, 1, 200) == 0) {
			n++;
			continue;
		}
		drained = 0;
		while ((rc = ring_peek_batch(b, m, 64, RING_NONBLOCK, NULL)) > 0) {
			drained += rc;
			ring_release_n(b, (unsigned)rc);
		}
		if (!drained || n > 1000)
			break;
	}
	ok(n > 5 && ring_send(r, 2, m, 200, RING_FULL_FAIL, NULL) == -EAGAIN,
	   "scanned: the ring is full, held back by A's message (%d sent)", n);
	if (tu_write_all(job.go[1], "G", 1))
		bail_out("pipe");
	ok(sched_reached(&job.hook, 10000),
	   "scanned: A releases it, stopped after its scan, before the cursor "
	   "moves");
	kill_wait(a);
	diag("scanned: A killed there; the cursor is %llu, the tail %llu",
	     (unsigned long long)cursor_of(r), (unsigned long long)tail_of(r));
	/* Everybody else does what they would: a member joins and looks,
	 * B looks, a producer waits for room. */
	is(ring_reader_open(r, "w", 0, &c), 0, "scanned: member C joins");
	ring_peek_batch(c, m, 64, RING_NONBLOCK, NULL);
	ring_peek_batch(b, m, 64, RING_NONBLOCK, NULL);
	rc = ring_send(r, 3, m, 200, RING_FULL_WAIT, tu_deadline_ms(&dl, 3000));
	is(rc, 0, "scanned: nothing is held: a producer waiting for room gets "
	   "it (%s)", ring_strerror(rc));
	rc = ring_peek_batch(c, m, 64, 0, tu_deadline_ms(&dl, 3000));
	if (rc < 0)
		rc = ring_peek_batch(b, m, 64, 0, tu_deadline_ms(&dl, 3000));
	ok(rc == 1 && m[0].type == 3, "scanned: and its message is delivered");
	end_job();
	ring_close(r);
}

/* ---- rescue ---- */

struct holder_rep {
	int n;
	uint64_t pos[8];
};

static int holder_fd;

/* Takes 8 and waits to be killed. */
static int holder(void *arg)
{
	struct ring_reader *rd = NULL;
	struct holder_rep rep = { 0 };
	struct ring_msg m[8];
	struct ring *r = NULL;
	int k;

	(void)arg;
	alarm(60);
	if (ring_open(path, 0, &r) || ring_reader_open(r, "w", 0, &rd))
		rep.n = -1;
	else
		rep.n = ring_peek_batch(rd, m, 8, RING_NONBLOCK, NULL);
	for (k = 0; k < rep.n && k < 8; k++)
		rep.pos[k] = m[k].pos;
	tu_write_all(holder_fd, &rep, sizeof(rep));
	for (;;)
		pause();
	return 0;
}

static void test_rescue(int kill_rescuer)
{
	const char *t = kill_rescuer ? "rescuedead" : "rescue";
	struct ring *r = make_ring(t, 1 << 16);
	struct ring_reader *c = NULL;
	struct holder_rep hr = { 0 };
	struct ring_msg m[64];
	struct timespec dl;
	struct batch bb;
	unsigned seen[8] = { 0 };
	int p[2], rc, k, same;
	pid_t h, b;

	send_n(r, 0, 8, 16);
	if (pipe(p))
		bail_out("pipe");
	holder_fd = p[1];
	h = tu_fork(holder, NULL);
	if (tu_read_timeout(p[0], &hr, sizeof(hr), 10000))
		hr.n = -1;
	close(p[0]);
	close(p[1]);
	ok(hr.n == 8, "%s: member D took all 8", t);
	b = start_job2("ec:futex", "member:rescue", 64, 0, 1);
	if (!sched_reached(&job.first, 10000))
		diag("%s: member B never slept", t);
	kill_wait(h);
	ok(sched_reached(&job.hook, 10000),
	   "%s: member B asleep with nothing to take; D SIGKILLed; B took "
	   "D's seat lease and stopped", t);
	if (kill_rescuer) {
		kill_wait(b);
		is(ring_reader_open(r, "w", 0, &c), 0,
		   "%s: B killed there; member C joins", t);
		rc = ring_peek_batch(c, m, 64, 0, tu_deadline_ms(&dl, 5000));
		same = rc == 8;
		for (k = 0; same && k < 8; k++)
			same = m[k].pos == hr.pos[k];
		ok(same, "%s: C gets D's 8 (%d)", t, rc);
		if (rc > 0)
			ring_release_n(c, (unsigned)rc);
	} else {
		is(ring_reader_open(r, "w", 0, &c), 0,
		   "%s: member C joins meanwhile", t);
		rc = ring_peek_batch(c, m, 64, RING_NONBLOCK, NULL);
		is(rc, -EAGAIN, "%s: C gets none of D's messages", t);
		sched_release(&job.hook);
		rc = job_batch(&bb);
		same = rc == 8;
		for (k = 0; same && k < 8; k++)
			same = bb.pos[k] == hr.pos[k];
		ok(same, "%s: B goes on and gets D's 8 (%d)", t, rc);
		for (k = 0; k < rc && k < 8; k++)
			if (bb.type[k] < 8)
				seen[bb.type[k]]++;
		is(tu_wait(b, 10000), 0, "%s: B released them", t);
		drain_into(c, seen, 8);
		ok(all_once(seen, 8), "%s: each once", t);
	}
	is(cursor_of(r), tail_of(r), "%s: the cursor at the tail", t);
	end_job();
	ring_close(r);
}

int main(void)
{
	/* hold, holddead, holdtaken, takendead, takenmoved, scanned, rescue */
	plan(7 + 5 + 8 + 5 + 6 + 6 + 8 + 5);
	tu_guard(120);
	test_hold();
	test_hold_dead(0);
	test_hold_dead(1);
	test_taken_dead(0);
	test_taken_dead(1);
	test_scanned();
	test_rescue(0);
	test_rescue(1);
	tu_cleanup_rings();
	return exit_status();
}

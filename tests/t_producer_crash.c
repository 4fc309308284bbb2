/* SPDX-License-Identifier: MIT */
/*
 * t_producer_crash - a producer killed between reserve and commit does not
 * wedge the readers: its claim is skipped once its death is seen, counted
 * once as recovered, and everything committed before and after it arrives.
 * A producer killed while it holds no claim recovers nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ring.h"
#include "tap.h"
#include "lib/crashutil.h"

#define MSG_LEN 200u
#define BEFORE 10u /* messages the victim commits before its claim */
#define AFTER 20u  /* messages another producer commits after the claim */

static char ring_path[128];

/* Child: producer @id sends @n messages; exits 0 or a step number. */
static void child_send(uint32_t id, unsigned n)
{
	uint8_t buf[MSG_LEN];
	struct ring *r;
	unsigned i;

	if (ring_open(ring_path, 0, &r) != 0)
		_exit(10);
	for (i = 0; i < n; i++) {
		crash_fill_payload(buf, sizeof(buf), id, i);
		if (ring_send(r, 0, buf, sizeof(buf), 0, NULL) != 0)
			_exit(11);
	}
	ring_close(r);
	_exit(0);
}

/*
 * Child: producer @id commits @n messages, then (if @hold) reserves one more
 * and writes half of it; then reports on @ready_fd and waits to be killed.
 */
static void child_stall(uint32_t id, unsigned n, int hold, int ready_fd)
{
	uint8_t buf[MSG_LEN];
	struct ring_claim c;
	struct ring *r;
	unsigned i;

	if (ring_open(ring_path, 0, &r) != 0)
		_exit(10);
	for (i = 0; i < n; i++) {
		crash_fill_payload(buf, sizeof(buf), id, i);
		if (ring_send(r, 0, buf, sizeof(buf), 0, NULL) != 0)
			_exit(11);
	}
	if (hold) {
		if (ring_reserve(r, MSG_LEN, 0, 0, NULL, &c) != 0)
			_exit(12);
		crash_fill_payload(buf, sizeof(buf), id, n);
		memcpy(c.data, buf, MSG_LEN / 2);
	}
	if (crash_write_all(ready_fd, "R", 1) != 0)
		_exit(13);
	for (;;)
		pause();
}

/* Child: fills the ring until it is full, reports how many messages it
 * sent on @ready_fd, then waits for room that never comes. */
static void child_fill_then_wait(uint32_t id, int ready_fd)
{
	uint8_t buf[MSG_LEN];
	struct ring *r;
	uint32_t n = 0;

	if (ring_open(ring_path, 0, &r) != 0)
		_exit(10);
	for (;;) {
		int rc;

		crash_fill_payload(buf, sizeof(buf), id, n);
		rc = ring_send(r, 0, buf, sizeof(buf), RING_FULL_FAIL, NULL);
		if (rc == -EAGAIN)
			break;
		if (rc != 0)
			_exit(11);
		n++;
	}
	if (crash_write_all(ready_fd, &n, sizeof(n)) != 0)
		_exit(13);
	crash_fill_payload(buf, sizeof(buf), id, n);
	ring_send(r, 0, buf, sizeof(buf), RING_FULL_WAIT, NULL);
	_exit(14); /* room appeared although no reader released anything */
}

/*
 * Reads one message of @rd within @ms and checks its payload. Returns
 * ring_peek()'s result, or -1000 for a payload that is not intact.
 */
static int read_one(struct ring_reader *rd, unsigned ms, uint32_t *id,
		    uint64_t *seq)
{
	struct timespec dl = crash_deadline_ms(ms);
	struct ring_msg m;
	int rc;

	rc = ring_peek(rd, &m, ms ? 0 : RING_NONBLOCK, ms ? &dl : NULL);
	if (rc != 0)
		return rc;
	if (crash_check_payload(m.data, m.len, id, seq) != 0)
		rc = -1000;
	ring_release(rd);
	return rc;
}

/*
 * Reads @n messages of producer @id with sequence numbers @first.. in order.
 * Returns how many were read correctly before the first mismatch.
 */
static unsigned read_run(struct ring_reader *rd, uint32_t id, uint64_t first,
			 unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		uint32_t got_id = 0;
		uint64_t seq = 0;
		int rc = read_one(rd, 3000, &got_id, &seq);

		if (rc != 0 || got_id != id || seq != first + i) {
			diag("message %u of producer %u: rc %d, got %u/%llu",
			     i, id, rc, got_id, (unsigned long long)seq);
			break;
		}
	}
	return i;
}

/*
 * Child: reader of group g3, already past the first @skip messages; reports
 * on @ready_fd, then blocks on the next message and writes the monotonic
 * time at which it got it (0 if it did not) to @ready_fd.
 */
static void child_blocked_reader(unsigned skip, int ready_fd)
{
	struct ring_reader *rd;
	struct timespec dl;
	struct ring_msg m;
	struct ring *r;
	uint64_t t = 0;
	unsigned i;

	if (ring_open(ring_path, 0, &r) != 0)
		_exit(10);
	ring_set_recovery_ms(r, 100);
	if (ring_reader_open(r, "g3", 0, &rd) != 0)
		_exit(11);
	for (i = 0; i < skip; i++) {
		if (ring_peek(rd, &m, RING_NONBLOCK, NULL) != 0)
			_exit(12);
		ring_release(rd);
	}
	if (crash_write_all(ready_fd, "R", 1) != 0)
		_exit(13);
	dl = crash_deadline_ms(20000);
	if (ring_peek(rd, &m, 0, &dl) == 0)
		t = crash_now_ns();
	if (crash_write_all(ready_fd, &t, sizeof(t)) != 0)
		_exit(14);
	_exit(0);
}

/* Returns the ring's recovered counter (or ~0 if ring_stats fails). */
static uint64_t recovered(struct ring *r)
{
	struct ring_stats st;

	if (ring_stats(r, &st) != 0)
		return ~0ull;
	return st.recovered;
}

/* Reads a byte from @fd within the test's alarm; 0 or -1. */
static int wait_ready(int fd)
{
	char c;

	return crash_read_all(fd, &c, 1);
}

/* Waits until process @pid sleeps (state S in /proc), at most @ms. */
static void wait_sleeping(pid_t pid, unsigned ms)
{
	uint64_t end = crash_now_ns() + ms * 1000000ull;
	char path[64], buf[256];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	while (crash_now_ns() < end) {
		FILE *f = fopen(path, "r");
		char *p = NULL;

		if (f) {
			if (fgets(buf, sizeof(buf), f))
				p = strrchr(buf, ')');
			fclose(f);
		}
		if (p && p[1] == ' ' && p[2] == 'S')
			return;
		usleep(1000);
	}
}

int main(void)
{
	struct ring_reader *rd1, *rd2;
	struct ring_config cfg;
	struct ring_check_report rep;
	struct ring *r;
	uint64_t t0, t1, dt;
	uint32_t id, filled;
	uint64_t seq;
	int pfd[2], status, rc;
	pid_t victim, other, blocked;
	char why[64];

	plan(25);
	crash_ring_path(ring_path, sizeof(ring_path), "producer-crash");
	crash_guard(120, ring_path);
	unlink(ring_path);

	ring_config_init(&cfg);
	cfg.capacity = 64 * 1024;
	cfg.processes = 32;
	if (ring_create(ring_path, &cfg, 0, &r) != 0)
		bail_out("ring_create failed");
	ring_set_recovery_ms(r, 100);
	if (ring_group_create(r, "g1", RING_FROM_OLDEST) != 0 ||
	    ring_group_create(r, "g2", RING_FROM_OLDEST) != 0 ||
	    ring_group_create(r, "g3", RING_FROM_OLDEST) != 0 ||
	    ring_reader_open(r, "g1", 0, &rd1) != 0 ||
	    ring_reader_open(r, "g2", 0, &rd2) != 0)
		bail_out("groups or readers could not be set up");
	if (pipe(pfd) != 0)
		bail_out("pipe");

	/* 1. A producer dies between reserve and commit. */
	victim = crash_fork();
	if (victim == 0)
		child_stall(1, BEFORE, 1, pfd[1]);
	ok(wait_ready(pfd[0]) == 0, "victim committed %u and holds a claim",
	   BEFORE);
	is(read_run(rd1, 1, 0, BEFORE), BEFORE,
	   "reader gets the messages committed before the claim");
	other = crash_fork();
	if (other == 0)
		child_send(2, AFTER);
	crash_wait_exit(other, 30000, &status);
	ok(crash_exited_ok(status), "another producer commits %u behind the "
	   "claim (%s)", AFTER, crash_status_text(status, why, sizeof(why)));
	rc = read_one(rd1, 400, &id, &seq);
	is(rc, -ETIMEDOUT, "a live producer's claim is waited for, not skipped");
	is(recovered(r), 0, "nothing recovered while the claimer lives");

	blocked = crash_fork();
	if (blocked == 0)
		child_blocked_reader(BEFORE, pfd[1]);
	if (wait_ready(pfd[0]) != 0)
		bail_out("blocked reader did not start");
	wait_sleeping(blocked, 2000);

	crash_kill_wait(victim);
	t0 = crash_now_ns();
	rc = read_one(rd1, 10000, &id, &seq);
	ok(rc == 0 && id == 2 && seq == 0,
	   "after the death the reader gets the next producer's first message");
	if (crash_read_all(pfd[0], &t1, sizeof(t1)) != 0)
		t1 = 0;
	crash_wait_exit(blocked, 10000, &status);
	ring_group_remove(r, "g3"); /* it would hold producers back */
	dt = t1 > t0 ? t1 - t0 : 0;
	diag("a reader blocked on the claim resumed %.1f ms after the claimer "
	     "died", dt / 1e6);
	ok(t1 != 0 && dt < 5000000000ull,
	   "a reader blocked on the claim resumed within 5 s of the death");
	is(read_run(rd1, 2, 1, AFTER - 1), AFTER - 1,
	   "the rest committed after the claim arrives in order");
	is(read_one(rd1, 0, &id, &seq), -EAGAIN, "and nothing else");
	is(recovered(r), 1, "the dead claim is counted as recovered");

	is(read_run(rd2, 1, 0, BEFORE), BEFORE,
	   "second group: messages before the claim");
	is(read_run(rd2, 2, 0, AFTER), AFTER,
	   "second group: messages after the claim");
	is(read_one(rd2, 0, &id, &seq), -EAGAIN, "second group: nothing else");
	is(recovered(r), 1, "the claim is counted once for both groups");

	/* 2. A producer dies while it holds no claim. */
	victim = crash_fork();
	if (victim == 0)
		child_stall(3, 5, 0, pfd[1]);
	ok(wait_ready(pfd[0]) == 0, "a producer committed 5 and holds no claim");
	crash_kill_wait(victim);
	other = crash_fork();
	if (other == 0)
		child_send(4, 5);
	crash_wait_exit(other, 30000, &status);
	ok(read_run(rd1, 3, 0, 5) == 5 && read_run(rd1, 4, 0, 5) == 5 &&
	   read_one(rd1, 0, &id, &seq) == -EAGAIN,
	   "all messages of the killed and the next producer arrive");
	ok(read_run(rd2, 3, 0, 5) == 5 && read_run(rd2, 4, 0, 5) == 5,
	   "and to the second group too");
	is(recovered(r), 1, "a producer killed without a claim recovers nothing");

	/* 3. A producer dies while it waits for room in a full ring. */
	victim = crash_fork();
	if (victim == 0)
		child_fill_then_wait(5, pfd[1]);
	rc = crash_read_all(pfd[0], &filled, sizeof(filled));
	ok(rc == 0 && filled > 0,
	   "a producer filled the ring (%u messages) and waits for room",
	   filled);
	wait_sleeping(victim, 2000);
	status = crash_kill_wait(victim);
	ok(WIFSIGNALED(status), "it was still waiting when killed (%s)",
	   crash_status_text(status, why, sizeof(why)));
	other = crash_fork();
	if (other == 0)
		child_send(6, 3);
	ok(read_run(rd1, 5, 0, filled) == filled &&
	   read_run(rd2, 5, 0, filled) == filled,
	   "both groups get the messages of the killed waiter");
	crash_wait_exit(other, 10000, &status);
	ok(crash_exited_ok(status), "the next producer can send (%s)",
	   crash_status_text(status, why, sizeof(why)));
	ok(read_run(rd1, 6, 0, 3) == 3 && read_run(rd2, 6, 0, 3) == 3,
	   "both groups get its messages");
	is(recovered(r), 1, "a producer killed while waiting recovers nothing");

	memset(&rep, 0, sizeof(rep));
	rc = ring_check(r, &rep);
	is(rc, 0, "ring_check finds the ring consistent after the deaths");
	if (rc != 0)
		diag("ring_check: %d, %u problems, first: %s", rc, rep.problems,
		     rep.first_problem);

	ring_reader_close(rd1);
	ring_reader_close(rd2);
	ring_close(r);
	ring_unlink(ring_path);
	return exit_status();
}

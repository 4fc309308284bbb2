/* SPDX-License-Identifier: MIT */
/*
 * t_sigstop - a producer that is merely slow is never skipped: stopped with
 * SIGSTOP between reserve and commit for many recovery periods, then
 * continued, it commits and the reader receives its message intact, with
 * nothing counted as recovered. RING_TEST_LONG=1 stops it for 10 s.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ring.h"
#include "tap.h"
#include "lib/crashutil.h"

#define MSG_LEN 256u
#define AFTER 8u

static char ring_path[128];

/*
 * Child: reserves a message as producer 1 and writes half of it, reports on
 * @ready_fd, waits for a byte on @go_fd, writes the rest and commits.
 */
static void child_slow(int ready_fd, int go_fd)
{
	uint8_t buf[MSG_LEN];
	struct ring_claim c;
	struct ring *r;
	char go;

	if (ring_open(ring_path, 0, &r) != 0)
		_exit(10);
	if (ring_reserve(r, MSG_LEN, 7, 0, NULL, &c) != 0)
		_exit(11);
	crash_fill_payload(buf, sizeof(buf), 1, 0);
	memcpy(c.data, buf, MSG_LEN / 2);
	if (crash_write_all(ready_fd, "R", 1) != 0 ||
	    crash_read_all(go_fd, &go, 1) != 0)
		_exit(12);
	memcpy((uint8_t *)c.data + MSG_LEN / 2, buf + MSG_LEN / 2,
	       MSG_LEN / 2);
	if (ring_commit(r, &c) != 0)
		_exit(13);
	ring_close(r);
	_exit(0);
}

/* Child: producer 2 sends AFTER messages. */
static void child_after(void)
{
	uint8_t buf[MSG_LEN];
	struct ring *r;
	unsigned i;

	if (ring_open(ring_path, 0, &r) != 0)
		_exit(10);
	for (i = 0; i < AFTER; i++) {
		crash_fill_payload(buf, sizeof(buf), 2, i);
		if (ring_send(r, 0, buf, sizeof(buf), 0, NULL) != 0)
			_exit(11);
	}
	ring_close(r);
	_exit(0);
}

/* Returns the ring's recovered counter (~0 if ring_stats fails). */
static uint64_t recovered(struct ring *r)
{
	struct ring_stats st;

	return ring_stats(r, &st) == 0 ? st.recovered : ~0ull;
}

int main(void)
{
	unsigned stop_ms = crash_test_long() ? 10000 : 2000;
	int ready[2], go[2], status, rc, intact;
	struct ring_reader *rd;
	struct ring_config cfg;
	struct timespec dl;
	struct ring_msg m;
	struct ring *r;
	pid_t slow, after;
	uint32_t id;
	uint64_t seq;
	unsigned i, n;
	char why[64];

	plan(10);
	crash_ring_path(ring_path, sizeof(ring_path), "sigstop");
	crash_guard(60 + stop_ms / 1000, ring_path);
	unlink(ring_path);

	ring_config_init(&cfg);
	cfg.capacity = 64 * 1024;
	if (ring_create(ring_path, &cfg, 0, &r) != 0)
		bail_out("ring_create failed");
	ring_set_recovery_ms(r, 50);
	if (ring_reader_open(r, "g", RING_GROUP_CREATE, &rd) != 0)
		bail_out("ring_reader_open failed");
	if (pipe(ready) != 0 || pipe(go) != 0)
		bail_out("pipe");

	slow = crash_fork();
	if (slow == 0)
		child_slow(ready[1], go[0]);
	ok(crash_read_all(ready[0], why, 1) == 0,
	   "the producer holds a half-written claim");
	kill(slow, SIGSTOP);
	ok(waitpid(slow, &status, WUNTRACED) == slow && WIFSTOPPED(status),
	   "the producer is stopped");

	after = crash_fork();
	if (after == 0)
		child_after();
	crash_wait_exit(after, 30000, &status);
	ok(crash_exited_ok(status), "another producer commits %u messages "
	   "behind the claim (%s)", AFTER,
	   crash_status_text(status, why, sizeof(why)));

	diag("reader waits %u ms (%u recovery periods of 50 ms)", stop_ms,
	     stop_ms / 50);
	dl = crash_deadline_ms(stop_ms);
	rc = ring_peek(rd, &m, 0, &dl);
	is(rc, -ETIMEDOUT, "the stopped producer's claim is waited for");
	is(recovered(r), 0, "nothing is recovered while it is stopped");

	kill(slow, SIGCONT);
	if (crash_write_all(go[1], "G", 1) != 0)
		bail_out("pipe write");
	dl = crash_deadline_ms(10000);
	rc = ring_peek(rd, &m, 0, &dl);
	intact = rc == 0 && crash_check_payload(m.data, m.len, &id, &seq) == 0
		 && id == 1 && seq == 0 && m.type == 7;
	ok(intact, "after SIGCONT the reader receives the claimed message "
	   "intact (rc %d)", rc);
	if (rc == 0)
		ring_release(rd);
	crash_wait_exit(slow, 10000, &status);
	ok(crash_exited_ok(status), "the slow producer committed (%s)",
	   crash_status_text(status, why, sizeof(why)));

	for (n = 0, i = 0; i < AFTER; i++) {
		dl = crash_deadline_ms(3000);
		if (ring_peek(rd, &m, 0, &dl) != 0)
			break;
		if (crash_check_payload(m.data, m.len, &id, &seq) == 0 &&
		    id == 2 && seq == i)
			n++;
		ring_release(rd);
	}
	is(n, AFTER, "then the messages committed behind it, in order");
	is(ring_peek(rd, &m, RING_NONBLOCK, NULL), -EAGAIN, "and nothing else");
	is(recovered(r), 0, "recovered stays 0");

	ring_reader_close(rd);
	ring_close(r);
	ring_unlink(ring_path);
	return exit_status();
}

// SPDX-License-Identifier: MIT
/*
 * t_api_batch.c - the batch and process-table API and interruptible waits:
 * ring_peek_batch() and ring_release_n() (order, no release, partial
 * releases, skip records, mixing with ring_peek/ring_release, a reader
 * killed inside a batch), ring_proc_list() (producer and reader entries, a
 * killed process's entry until it is reclaimed, the count past @max),
 * RING_INTR for a sleeping reader and a sleeping producer (and the same
 * signal without RING_INTR not ending the wait), and the ring_stats fields
 * version, hdr_size and file_size.
 *
 * "Asleep" is observed, not assumed: before it signals a child, the parent
 * waits until /proc shows the child blocked in futex(2).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ring.h"
#include "tap.h"
#include "lib/testutil.h"

#define WAIT_MS 10000
#define BATCH_MSGS 10

static char path[TU_PATH_MAX];

/* A small ring (one page of message space) with default other fields. */
static int make_ring(const char *tag, uint32_t cfg_flags, struct ring **out)
{
	struct ring_config cfg;

	ring_config_init(&cfg);
	cfg.capacity = 4096;
	cfg.slot_size = 16;
	cfg.flags = cfg_flags;
	return ring_create(tu_ring_path(path, tag), &cfg, 0, out);
}

/* The cursor of group @name, or UINT64_MAX if it cannot be read. */
static uint64_t cursor_of(struct ring *r, const char *name)
{
	struct ring_group_stats gs;

	if (ring_group_stats(r, name, &gs))
		return UINT64_MAX;
	return gs.cursor;
}

/* Send @n messages with types @first.. and an 8-byte payload each.
 * Returns 0 if all were sent. */
static int send_types(struct ring *r, uint32_t first, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t payload = first + i;

		if (ring_send(r, first + i, &payload, sizeof(payload),
			      RING_FULL_FAIL, NULL))
			return -1;
	}
	return 0;
}

/* 1 if @m[0..n) have types @first.. in order at growing positions. */
static int types_in_order(const struct ring_msg *m, int n, uint32_t first)
{
	for (int i = 0; i < n; i++) {
		if (m[i].type != first + (uint32_t)i || m[i].len != 8)
			return 0;
		if (i && m[i].pos != m[i - 1].pos + m[i - 1].slots)
			return 0;
	}
	return 1;
}

/* peek_batch returns messages in order without releasing; release_n. */
static void test_batch_basics(void)
{
	struct ring_msg m[BATCH_MSGS + 2], again[4], one;
	struct ring_reader *rd;
	struct ring *r;
	uint64_t start;
	int n;

	if (make_ring("batch", 0, &r) ||
	    ring_reader_open(r, "g", RING_GROUP_CREATE, &rd)) {
		bail_out("cannot create the ring or its reader");
	}
	start = cursor_of(r, "g");
	ok(send_types(r, 0, BATCH_MSGS) == 0, "sent %d messages", BATCH_MSGS);

	n = ring_peek_batch(rd, m, 4, 0, NULL);
	is(n, 4, "peek_batch(max 4) returns 4 of %d messages", BATCH_MSGS);
	ok(n == 4 && types_in_order(m, 4, 0),
	   "the batch holds the first 4 messages in order, adjacent");
	is(cursor_of(r, "g"), start, "peek_batch does not move the cursor");
	n = ring_peek_batch(rd, again, 4, 0, NULL);
	ok(n == 4 && again[0].pos == m[0].pos && again[0].type == 0 &&
	   again[3].pos == m[3].pos,
	   "a second peek_batch returns the same messages");

	is(ring_release_n(rd, 0), -EINVAL, "release_n(0) is -EINVAL");
	is(ring_release_n(rd, 5), -EINVAL,
	   "release_n(5) after a batch of 4 is -EINVAL");
	is(cursor_of(r, "g"), start, "the refused release_n moved nothing");

	is(ring_release_n(rd, 1), 0, "release_n(1) of the batch of 4");
	is(cursor_of(r, "g"), m[1].pos, "the cursor moved past exactly 1");
	is(ring_release_n(rd, 4), -EINVAL,
	   "release_n(4) with 3 still peeked is -EINVAL");
	is(ring_release_n(rd, 3), 0, "release_n(3): the rest of the batch");
	is(cursor_of(r, "g"), m[3].pos + m[3].slots,
	   "the cursor moved past the whole batch");
	is(ring_release_n(rd, 1), -EINVAL,
	   "release_n(1) with nothing peeked is -EINVAL");

	n = ring_peek_batch(rd, m, BATCH_MSGS + 2, 0, NULL);
	ok(n == BATCH_MSGS - 4 && types_in_order(m, n, 4),
	   "peek_batch(max %d) returns the %d remaining messages (got %d)",
	   BATCH_MSGS + 2, BATCH_MSGS - 4, n);

	/* Mixing with ring_peek / ring_release. */
	ok(ring_peek(rd, &one, 0, NULL) == 0 && one.pos == m[0].pos &&
	   one.type == 4,
	   "ring_peek after peek_batch returns its first message");
	is(ring_release_n(rd, 2), -EINVAL,
	   "release_n(2) after ring_peek (one message) is -EINVAL");
	ok(ring_release(rd) == 0 && cursor_of(r, "g") == m[1].pos,
	   "ring_release releases the one peeked message");
	n = ring_peek_batch(rd, m, 2, 0, NULL);
	ok(n == 2 && types_in_order(m, 2, 5), "peek_batch(2) gives types 5, 6");
	ok(ring_release(rd) == 0 && cursor_of(r, "g") == m[1].pos,
	   "ring_release after peek_batch releases only its first message");
	ok(ring_release_n(rd, 1) == 0 && cursor_of(r, "g") == m[1].pos + 2,
	   "release_n(1) releases the second one still peeked");
	ok(ring_peek(rd, &one, 0, NULL) == 0 && one.type == 7,
	   "ring_peek then returns the next message");
	is(ring_release_n(rd, 1), 0, "release_n(1) after ring_peek");
	n = ring_peek_batch(rd, m, 8, 0, NULL);
	ok(n == 2 && types_in_order(m, 2, 8) && ring_release_n(rd, 2) == 0,
	   "the last two messages are peeked and released");
	is(ring_peek_batch(rd, m, 8, RING_NONBLOCK, NULL), -EAGAIN,
	   "peek_batch on an empty group with RING_NONBLOCK is -EAGAIN");
	is(ring_peek_batch(rd, m, 0, RING_NONBLOCK, NULL), -EINVAL,
	   "peek_batch with max 0 is -EINVAL");

	ring_reader_close(rd);
	ring_close(r);
	ring_unlink(path);
}

/* Claim and abort a message: it becomes a skip record. */
static int abort_one(struct ring *r)
{
	struct ring_claim c;

	if (ring_reserve(r, 24, 99, RING_FULL_FAIL, NULL, &c))
		return -1;
	return ring_abort(r, &c);
}

/* Skip records of aborted claims inside a batch are passed over. */
static void test_batch_skips(void)
{
	struct ring_msg m[8];
	struct ring_reader *rd;
	struct ring_stats st;
	struct ring *r;
	int n, err = 0;

	if (make_ring("skip", 0, &r) ||
	    ring_reader_open(r, "g", RING_GROUP_CREATE, &rd))
		bail_out("cannot create the ring or its reader");
	err |= send_types(r, 0, 1);
	err |= abort_one(r);
	err |= abort_one(r);
	err |= send_types(r, 1, 1);
	err |= abort_one(r);
	err |= send_types(r, 2, 1);
	err |= abort_one(r);
	ok(!err, "3 messages sent with 4 aborted claims around them");

	n = ring_peek_batch(rd, m, 8, 0, NULL);
	ok(n == 3 && m[0].type == 0 && m[1].type == 1 && m[2].type == 2 &&
	   m[1].pos > m[0].pos + m[0].slots && m[2].pos > m[1].pos + m[1].slots,
	   "peek_batch passes over the skip records (got %d messages)", n);
	ok(n == 3 && ring_release_n(rd, 3) == 0 &&
	   cursor_of(r, "g") == m[2].pos + m[2].slots,
	   "release_n(3) moves the cursor past the third message");
	ok(ring_peek_batch(rd, m, 8, RING_NONBLOCK, NULL) == -EAGAIN &&
	   ring_stats(r, &st) == 0 && cursor_of(r, "g") == st.tail,
	   "the next peek_batch passes the trailing skip: -EAGAIN at the tail");

	ring_reader_close(rd);
	ring_close(r);
	ring_unlink(path);
}

/* Child: peek a batch of up to 5 in group "k", report the positions
 * through the pipe in @arg and wait to be killed. */
static int batch_then_wait(void *arg)
{
	int fd = *(int *)arg;
	struct ring_msg m[5];
	struct ring_reader *rd;
	uint64_t rep[6] = { 0 };
	struct ring *r;
	int n;

	if (ring_open(path, 0, &r) || ring_reader_open(r, "k", 0, &rd))
		return 2;
	n = ring_peek_batch(rd, m, 5, 0, NULL);
	if (n < 1)
		return 3;
	rep[0] = (uint64_t)n;
	for (int i = 0; i < n; i++)
		rep[i + 1] = m[i].pos;
	if (tu_write_all(fd, rep, sizeof(rep)))
		return 4;
	pause();
	return 5;
}

/* A reader killed between peek_batch and release_n leaves the batch. */
static void test_batch_kill(void)
{
	struct ring_msg m[8];
	struct ring_reader *rd;
	uint64_t rep[6];
	struct ring *r;
	int fds[2], n, status;
	pid_t pid;

	if (make_ring("bkill", 0, &r) || ring_group_create(r, "k", 0) ||
	    send_types(r, 0, 7) || pipe(fds))
		bail_out("cannot set up the killed-reader test");
	pid = tu_fork(batch_then_wait, &fds[1]);
	close(fds[1]);
	if (pid < 0 || tu_read_timeout(fds[0], rep, sizeof(rep), WAIT_MS)) {
		ok(0, "the child peeked a batch");
		kill(pid, SIGKILL);
		tu_wait(pid, WAIT_MS);
		skip(2, "no batch");
		goto out;
	}
	is(rep[0], 5, "the child peeked a batch of 5");
	kill(pid, SIGKILL);
	status = tu_wait(pid, WAIT_MS);
	is(status, 128 + SIGKILL, "the child was killed before release_n");
	n = ring_reader_open(r, "k", 0, &rd);
	if (n) {
		ok(0, "took the group over: %s", ring_strerror(n));
		goto out;
	}
	n = ring_peek_batch(rd, m, 5, 0, NULL);
	ok(n == 5 && m[0].pos == rep[1] && m[4].pos == rep[5] &&
	   types_in_order(m, 5, 0),
	   "the next reader gets the whole batch again");
	ring_reader_close(rd);
out:
	close(fds[0]);
	ring_close(r);
	ring_unlink(path);
}

/* Child: become the reader of group "pl", report, wait to be killed. */
static int reader_then_wait(void *arg)
{
	int fd = *(int *)arg;
	struct ring_reader *rd;
	struct ring *r;

	if (ring_open(path, 0, &r) ||
	    ring_reader_open(r, "pl", RING_GROUP_CREATE, &rd))
		return 2;
	if (tu_write_all(fd, "r", 1))
		return 3;
	pause();
	return 4;
}

/* The entry of @pid in @pi[0..n), or NULL. */
static const struct ring_proc_info *find_proc(const struct ring_proc_info *pi,
					      int n, pid_t pid)
{
	for (int i = 0; i < n; i++)
		if (pi[i].pid == pid)
			return &pi[i];
	return NULL;
}

/* ring_proc_list: a producer, a reader, a killed reader, the total count. */
static void test_proc_list(void)
{
	struct ring_proc_info pi[8];
	const struct ring_proc_info *p;
	struct ring *r, *r2;
	int fds[2], n;
	char c;
	pid_t pid;

	if (make_ring("procs", 0, &r) || pipe(fds))
		bail_out("cannot set up the process-list test");
	ok(send_types(r, 0, 3) == 0, "the parent committed 3 messages");
	pid = tu_fork(reader_then_wait, &fds[1]);
	close(fds[1]);
	if (pid < 0 || tu_read_timeout(fds[0], &c, 1, WAIT_MS))
		bail_out("the reader child did not start");

	n = ring_proc_list(r, pi, 8);
	is(n, 2, "ring_proc_list counts 2 entries");
	p = find_proc(pi, n < 8 ? n : 8, getpid());
	ok(p && p->role == RING_ROLE_PRODUCER && p->committed == 3 &&
	   p->alive == 1 && p->tid == getpid() && !p->claim_open,
	   "the producer entry: role, pid, tid, committed 3, alive");
	p = find_proc(pi, n < 8 ? n : 8, pid);
	ok(p && p->role == RING_ROLE_READER && p->alive == 1 &&
	   strcmp(p->group, "pl") == 0,
	   "the reader entry: role, pid, group \"pl\", alive");
	memset(pi, 0xa5, sizeof(pi));
	n = ring_proc_list(r, pi, 1);
	ok(n == 2 && (pi[0].pid == getpid() || pi[0].pid == pid) &&
	   pi[1].pid == (pid_t)0xa5a5a5a5,
	   "with max 1 it fills 1 entry and returns the total 2");
	is(ring_proc_list(r, NULL, 0), 2, "with max 0 it returns the count");

	kill(pid, SIGKILL);
	is(tu_wait(pid, WAIT_MS), 128 + SIGKILL, "the reader was killed");
	n = ring_proc_list(r, pi, 8);
	p = find_proc(pi, n < 8 ? n : 8, pid);
	ok(n == 2 && p && p->alive == 0 && p->role == RING_ROLE_READER,
	   "the killed reader's entry is listed with alive 0");
	if (ring_open(path, 0, &r2) == 0) {
		n = ring_proc_list(r, pi, 8);
		ok(n == 1 && !find_proc(pi, 1, pid),
		   "after reclaim (a new open) the entry is gone (%d left)", n);
		ring_close(r2);
	} else {
		ok(0, "reopened the ring to reclaim the entry");
	}
	close(fds[0]);
	ring_close(r);
	ring_unlink(path);
}

/* --- interruptible waits ------------------------------------------- */

static int handled_fd = -1;

/* SIGUSR1 handler: tell the parent through the pipe that it ran. */
static void on_usr1(int sig)
{
	char c = 'h';

	(void)sig;
	if (write(handled_fd, &c, 1) < 0)
		handled_fd = -1;
}

/* Install on_usr1 without SA_RESTART. Returns 0 or -1. */
static int install_handler(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
	return sigaction(SIGUSR1, &sa, NULL);
}

/* What a waiting child does. */
struct waiter {
	int fd;		/* pipe write end: 'r' ready, 'h' handled */
	int produce;	/* 1: ring_send on a full ring; 0: ring_peek */
	unsigned flags; /* RING_INTR or 0 */
};

/*
 * Child: wait as @arg says, with no spinning and no deadline.
 * Exit status: 0 if the call returned what was expected (-EINTR with
 * RING_INTR; without it, 0 and for a reader the message of type 77),
 * 10 + the unexpected error otherwise, 2..4 for setup failures.
 */
static int wait_child(void *arg)
{
	const struct waiter *w = arg;
	struct ring_reader *rd = NULL;
	struct ring_msg m;
	struct ring *r;
	uint64_t payload = 1;
	int rc;

	handled_fd = w->fd;
	if (install_handler())
		return 2;
	if (ring_open(path, 0, &r))
		return 3;
	ring_set_spin(r, 0);
	if (!w->produce && ring_reader_open(r, "w", 0, &rd))
		return 4;
	if (tu_write_all(w->fd, "r", 1))
		return 4;
	if (w->produce)
		rc = ring_send(r, 77, &payload, sizeof(payload),
			       RING_FULL_WAIT | w->flags, NULL);
	else
		rc = ring_peek(rd, &m, w->flags, NULL);
	if (w->flags & RING_INTR)
		return rc == -EINTR ? 0 : 10 + (rc < 0 ? -rc : 0);
	if (rc)
		return 10 + (rc < 0 ? -rc : 0);
	if (!w->produce && m.type != 77)
		return 9;
	return 0;
}

/*
 * Wait until process @pid is blocked in futex(2): state S in /proc, and
 * (where /proc/PID/syscall can be read) the futex system call.
 * Returns 0, or -1 if that did not happen within WAIT_MS.
 */
static int wait_asleep(pid_t pid)
{
	uint64_t end = tu_now_ns() + WAIT_MS * 1000000ull;
	char name[64], buf[512];

	while (tu_now_ns() < end) {
		FILE *f;
		char *p;
		long nr;
		int state_s = 0;

		snprintf(name, sizeof(name), "/proc/%d/stat", (int)pid);
		f = fopen(name, "r");
		if (!f)
			return -1;
		if (fgets(buf, sizeof(buf), f)) {
			p = strrchr(buf, ')');
			state_s = p && p[1] == ' ' && p[2] == 'S';
		}
		fclose(f);
		if (state_s) {
			snprintf(name, sizeof(name), "/proc/%d/syscall",
				 (int)pid);
			f = fopen(name, "r");
			if (!f)
				return 0;
			nr = -1;
			if (fscanf(f, "%ld", &nr) != 1)
				nr = SYS_futex;
			fclose(f);
			if (nr == SYS_futex)
				return 0;
		}
		usleep(1000);
	}
	return -1;
}

/*
 * Start a waiting child as @w says (its fd is filled in), wait until it
 * sleeps, send SIGUSR1 and wait until its handler ran. Returns the pid, or
 * -1 (the child is killed). *@pipe_rd is the pipe's read end.
 */
static pid_t start_and_signal(struct waiter *w, int *pipe_rd)
{
	int fds[2];
	pid_t pid;
	char c;

	if (pipe(fds))
		return -1;
	w->fd = fds[1];
	pid = tu_fork(wait_child, w);
	close(fds[1]);
	*pipe_rd = fds[0];
	if (pid < 0)
		return -1;
	if (tu_read_timeout(fds[0], &c, 1, WAIT_MS) || c != 'r' ||
	    wait_asleep(pid) || kill(pid, SIGUSR1) ||
	    tu_read_timeout(fds[0], &c, 1, WAIT_MS) || c != 'h') {
		kill(pid, SIGKILL);
		tu_wait(pid, WAIT_MS);
		return -1;
	}
	return pid;
}

/* 1 if @pid has not exited yet (it is still waiting). */
static int still_running(pid_t pid)
{
	return waitpid(pid, NULL, WNOHANG) == 0;
}

/* A reader asleep in ring_peek: -EINTR with RING_INTR, else it goes on. */
static void test_intr_reader(void)
{
	struct waiter w = { .produce = 0 };
	struct ring *r;
	int rfd = -1, status;
	pid_t pid;

	if (make_ring("intr-rd", 0, &r) || ring_group_create(r, "w", 0))
		bail_out("cannot set up the reader RING_INTR test");

	w.flags = RING_INTR;
	pid = start_and_signal(&w, &rfd);
	ok(pid > 0, "a reader child slept in ring_peek(RING_INTR) and "
	   "its handler ran");
	status = pid > 0 ? tu_wait(pid, WAIT_MS) : -1;
	is(status, 0, "ring_peek with RING_INTR returned -EINTR "
	   "(child status 10 + errno otherwise)");
	close(rfd);

	w.flags = 0;
	pid = start_and_signal(&w, &rfd);
	ok(pid > 0, "a reader child slept in ring_peek(0) and its handler ran");
	if (pid > 0) {
		ok(wait_asleep(pid) == 0 && still_running(pid),
		   "without RING_INTR the reader sleeps again after the "
		   "signal");
		ok(send_types(r, 77, 1) == 0, "sent the message of type 77");
		is(tu_wait(pid, WAIT_MS), 0,
		   "the reader's ring_peek returned that message");
	} else {
		skip(3, "no child");
	}
	close(rfd);
	ring_close(r);
	ring_unlink(path);
}

/* Fill the ring (group "full" holds it back). Returns messages sent. */
static int fill_ring(struct ring *r)
{
	uint64_t payload[14] = { 0 }; /* with its header: 8 slots */
	int n = 0;

	while (ring_send(r, 1, payload, sizeof(payload), RING_FULL_FAIL,
			 NULL) == 0)
		n++;
	return n;
}

/* A producer asleep on a full ring: -EINTR with RING_INTR, else waits. */
static void test_intr_producer(void)
{
	struct waiter w = { .produce = 1 };
	struct ring_reader *rd;
	struct ring_stats before, after;
	struct ring_msg m;
	struct ring *r;
	int rfd = -1, status, n;
	pid_t pid;

	if (make_ring("intr-pr", 0, &r) || ring_group_create(r, "full", 0))
		bail_out("cannot set up the producer RING_INTR test");
	n = fill_ring(r);
	ok(n > 0 && ring_send(r, 1, "x", 1, RING_FULL_FAIL, NULL) == -EAGAIN,
	   "the ring is full after %d messages", n);

	w.flags = RING_INTR;
	pid = start_and_signal(&w, &rfd);
	ok(pid > 0, "a producer child slept on the full ring (RING_INTR) and "
	   "its handler ran");
	status = pid > 0 ? tu_wait(pid, WAIT_MS) : -1;
	is(status, 0, "ring_send(RING_FULL_WAIT | RING_INTR) returned -EINTR");
	close(rfd);

	ring_stats(r, &before);
	w.flags = 0;
	pid = start_and_signal(&w, &rfd);
	ok(pid > 0, "a producer child slept on the full ring (no RING_INTR) "
	   "and its handler ran");
	if (pid > 0 && ring_reader_open(r, "full", 0, &rd) == 0) {
		ok(wait_asleep(pid) == 0 && still_running(pid),
		   "without RING_INTR the producer sleeps again after the "
		   "signal");
		ok(ring_peek(rd, &m, 0, NULL) == 0 && ring_release(rd) == 0,
		   "released one message to make room");
		is(tu_wait(pid, WAIT_MS), 0,
		   "the producer's ring_send returned 0");
		ring_stats(r, &after);
		is(after.committed, before.committed + 1,
		   "its message was committed");
		ring_reader_close(rd);
	} else {
		if (pid > 0) {
			kill(pid, SIGKILL);
			tu_wait(pid, WAIT_MS);
		}
		skip(4, "no child or no reader");
	}
	close(rfd);
	ring_close(r);
	ring_unlink(path);
}

/* --- stats fields -------------------------------------------------- */

/* version, hdr_size and file_size of a ring created with @cfg_flags. */
static void test_stats_fields(uint32_t cfg_flags, uint32_t hdr, const char *tag)
{
	struct ring_stats st;
	struct stat sb;
	struct ring *r;

	if (make_ring(tag, cfg_flags, &r))
		bail_out("cannot create a ring for the stats test");
	if (ring_stats(r, &st) || stat(path, &sb)) {
		ok(0, "ring_stats and stat (%s)", tag);
		skip(2, "no stats");
	} else {
		is(st.version, 2, "%s: version 2", tag);
		is(st.hdr_size, hdr, "%s: hdr_size %u", tag, hdr);
		is(st.file_size, sb.st_size, "%s: file_size is the file's size",
		   tag);
	}
	ring_close(r);
	ring_unlink(path);
}

int main(void)
{
	struct ring *r = NULL;

	plan(63);
	tu_guard(120);

	test_batch_basics();
	test_batch_skips();
	test_batch_kill();
	test_proc_list();
	test_intr_reader();
	test_intr_producer();
	test_stats_fields(0, 16, "plain");
	test_stats_fields(RING_CFG_TIMESTAMPS, 24, "timestamps");
	is(ring_open("/dev/shm", 0, &r), -EISDIR,
	   "ring_open of a directory is -EISDIR");
	return exit_status();
}

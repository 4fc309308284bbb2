/* SPDX-License-Identifier: MIT */
/*
 * t_readlock_take - H14, the acquisition half: a user who may only read the
 * ring file holds an OFD read lock over the whole file (as `fcntl(F_OFD_SETLK,
 * F_RDLCK)` lets anybody with read permission do) for the whole test. New
 * producers, readers and group changes must still get what they ask for,
 * mutual exclusion must still hold, and claims and seats of processes that
 * die must still be recovered: none of it may depend on a lock a reader can
 * keep a writer from taking.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ring.h"
#include "tap.h"
#include "lib/testutil.h"

#define NOBODY 65534

static char path[TU_PATH_MAX];
static int ready[2];

/* The read-only co-tenant: one read lock over every byte, then waits. */
static int locker(void *arg)
{
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET };
	int fd;

	(void)arg;
	if (getuid() == 0 && (setgid(NOBODY) || setuid(NOBODY)))
		return 10;
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 11;
	if (open(path, O_RDWR) >= 0)
		return 12; /* it must really be read-only */
	if (fcntl(fd, F_OFD_SETLK, &fl))
		return 13;
	if (tu_write_all(ready[1], "L", 1))
		return 14;
	for (;;)
		pause();
}

/* A new process sends one message. */
static int sender(void *arg)
{
	struct ring *r;

	if (ring_open(path, 0, &r))
		return 20;
	if (ring_send(r, 7, arg, strlen(arg), RING_FULL_FAIL, NULL))
		return 21;
	ring_close(r);
	return 0;
}

/* A producer that reserves a message and waits to be killed. */
static int claimer(void *arg)
{
	struct ring_claim c;
	struct ring *r;

	(void)arg;
	if (ring_open(path, 0, &r) || ring_reserve(r, 32, 0, 0, NULL, &c))
		return 30;
	if (tu_write_all(ready[1], "C", 1))
		return 31;
	for (;;)
		pause();
}

/* A reader of group "g" that reports and waits (to be killed or not). */
static int seated(void *arg)
{
	struct ring_reader *rd;
	struct ring *r;

	(void)arg;
	if (ring_open(path, 0, &r) || ring_reader_open(r, "g", 0, &rd))
		return 40;
	if (tu_write_all(ready[1], "R", 1))
		return 41;
	for (;;)
		pause();
}

/* Create and remove a group; exits 0 when both worked. */
static int table_user(void *arg)
{
	struct ring *r;

	(void)arg;
	if (ring_open(path, 0, &r))
		return 50;
	if (ring_group_create(r, "h", 0))
		return 51;
	if (ring_group_remove(r, "h"))
		return 52;
	ring_close(r);
	return 0;
}

/* Read "g" in a new process: exit 0 if the next message is @arg. */
static int reader(void *arg)
{
	struct ring_reader *rd;
	struct timespec dl;
	struct ring_msg m;
	struct ring *r;
	int rc;

	if (ring_open(path, 0, &r) || ring_reader_open(r, "g", 0, &rd))
		return 60;
	ring_set_recovery_ms(r, 20);
	rc = ring_peek(rd, &m, 0, tu_deadline_ms(&dl, 5000));
	if (rc)
		return 61;
	if (m.len != strlen(arg) || memcmp(m.data, arg, m.len))
		return 62;
	if (ring_release(rd))
		return 63;
	ring_reader_close(rd);
	ring_close(r);
	return 0;
}

static int wait_byte(void)
{
	char b;

	return tu_read_timeout(ready[0], &b, 1, 10000);
}

int main(void)
{
	struct ring_group_stats gs;
	struct ring_config cfg;
	struct ring_reader *rd;
	struct ring_stats st;
	struct ring *r;
	pid_t lk, p, q;
	int i, rc, bad;

	plan(12);
	tu_guard(120);
	ring_config_init(&cfg);
	cfg.capacity = 64 << 10;
	cfg.mode = 0644;
	cfg.processes = 8;
	ok(ring_create(tu_ring_path(path, "readlock-take"), &cfg, 0, &r) == 0 &&
	   ring_group_create(r, "g", 0) == 0 && pipe(ready) == 0,
	   "ring with a group, a table of 8 processes");
	lk = tu_fork(locker, NULL);
	rc = wait_byte();
	ok(rc == 0, "a read-only user holds a read lock over the whole file");
	if (rc)
		bail_out("the read-only locker failed");

	/* Entries: twice the table's size of processes come and go. */
	bad = 0;
	for (i = 0; i < 16; i++)
		bad += tu_wait(tu_fork(sender, "x"), 10000) != 0;
	is(bad, 0, "16 producers in turn take an entry of the 8 and send");

	/* A seat: taken without the lock, and still exclusive. */
	p = tu_fork(seated, NULL);
	ok(wait_byte() == 0, "a reader takes the group's seat");
	ok(ring_reader_open(r, "g", 0, &rd) == -EBUSY,
	   "a second reader of the group is refused while it lives");
	ok(ring_group_stats(r, "g", &gs) == 0 && gs.reader_alive,
	   "and the group's reader is reported alive");
	kill(p, SIGKILL);
	waitpid(p, NULL, 0);

	/* The group table: create and remove do not wait for the lock. */
	is(tu_wait(tu_fork(table_user, NULL), 10000), 0,
	   "a group is created and removed without waiting");

	/* A dead producer's claim is recovered. */
	q = tu_fork(claimer, NULL);
	ok(wait_byte() == 0, "a producer holds a claim");
	kill(q, SIGKILL);
	waitpid(q, NULL, 0);
	is(tu_wait(tu_fork(sender, "after"), 10000), 0, "a message after it");
	/* 16 "x" before the claim: drain them, then expect "after". */
	bad = 0;
	for (i = 0; i < 16; i++)
		bad += tu_wait(tu_fork(reader, "x"), 10000) != 0;
	is(bad, 0, "the dead reader's seat is taken over, 16 messages read");
	is(tu_wait(tu_fork(reader, "after"), 10000), 0,
	   "the dead claim is skipped and the next message delivered");
	ring_stats(r, &st);
	is(st.recovered, 1, "the dead claim is counted as recovered");

	kill(lk, SIGKILL);
	waitpid(lk, NULL, 0);
	ring_close(r);
	ring_unlink(path);
	return exit_status();
}

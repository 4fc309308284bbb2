/* SPDX-License-Identifier: MIT */
/*
 * t_readlock - H14: a process that may only read the ring file (it holds a
 * read-only descriptor, as a user with read permission does) takes OFD
 * read locks over the whole file. A producer killed holding a claim must
 * still be recognised as dead and its claim skipped: liveness is probed
 * with a read-lock request, which only the owners' write locks answer.
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

static char path[TU_PATH_MAX];
static int ready[2];

/*
 * A read-only co-tenant: read locks on every byte it can get (the bytes
 * live owners write-lock refuse it; the dead victim's byte does not), then
 * waits.
 */
static int locker(void *arg)
{
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_len = 1 };
	off_t size = lseek(open(path, O_RDONLY), 0, SEEK_END);
	int fd = open(path, O_RDONLY), got = 0;

	(void)arg;
	if (fd < 0 || size <= 0)
		return 10;
	for (fl.l_start = 0; fl.l_start < size; fl.l_start++)
		got += fcntl(fd, F_OFD_SETLK, &fl) == 0;
	if (!got)
		return 12;
	if (tu_write_all(ready[1], "L", 1))
		return 11;
	for (;;)
		pause();
}

/* A producer that reserves a message and waits to be killed. */
static int victim(void *arg)
{
	struct ring_claim c;
	struct ring *r;

	(void)arg;
	if (ring_open(path, 0, &r) || ring_reserve(r, 32, 0, 0, NULL, &c))
		return 20;
	if (tu_write_all(ready[1], "V", 1))
		return 21;
	for (;;)
		pause();
}

int main(void)
{
	struct ring_config cfg;
	struct ring_reader *rd;
	struct ring_stats st;
	struct ring_msg m;
	struct timespec dl;
	struct ring *r;
	pid_t lk, v;
	char b;
	int rc;

	plan(7);
	tu_guard(60);
	ring_config_init(&cfg);
	cfg.capacity = 64 << 10;
	cfg.mode = 0644;
	ok(ring_create(tu_ring_path(path, "readlock"), &cfg, 0, &r) == 0 &&
	   ring_reader_open(r, "g", RING_GROUP_CREATE, &rd) == 0 &&
	   pipe(ready) == 0, "ring with a reader");
	ring_set_recovery_ms(r, 20);
	/* This process's producer entry is taken before the locks: taking an
	 * entry while a reader holds read locks on every free one is the
	 * acquisition half of H14, not this test's. */
	if (ring_send(r, 1, "first", 5, 0, NULL) || ring_peek(rd, &m, 0, NULL) ||
	    ring_release(rd))
		bail_out("first message");
	v = tu_fork(victim, NULL);
	ok(tu_read_timeout(ready[0], &b, 1, 10000) == 0, "a producer holds a claim");
	kill(v, SIGKILL);
	waitpid(v, NULL, 0);
	lk = tu_fork(locker, NULL);
	ok(tu_read_timeout(ready[0], &b, 1, 10000) == 0,
	   "a read-only process holds read locks on the whole file");
	ok(ring_send(r, 1, "after", 5, RING_FULL_FAIL, NULL) == 0,
	   "a message after the dead claim");
	rc = ring_peek(rd, &m, 0, tu_deadline_ms(&dl, 5000));
	ok(rc == 0 && m.len == 5 && memcmp(m.data, "after", 5) == 0,
	   "the dead claim is skipped despite the read locks (%s)",
	   ring_strerror(rc));
	ring_stats(r, &st);
	is(st.recovered, 1, "and counted as recovered");
	kill(lk, SIGKILL);
	waitpid(lk, NULL, 0);
	ok(ring_release(rd) == 0, "released");
	ring_reader_close(rd);
	ring_close(r);
	ring_unlink(path);
	return exit_status();
}

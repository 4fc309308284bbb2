// SPDX-License-Identifier: MIT
/*
 * t_observer_perm.c - an observer as a user who may only read the ring
 * (mode 0640, group read): it reads every message, every path that would
 * write is refused, and no byte of the file changes (a checksum of the
 * whole file before and after). A copy-on-write handle (RING_OPEN_PRIVATE)
 * may even run ring_repair(): the file stays the same.
 *
 * Needs root to create the other user's view (a forked child switches to
 * uid/gid 65534); skipped otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ring.h"
#include "tap.h"
#include "lib/testutil.h"

#define NOBODY 65534
#define NMSG 50

/* What the unprivileged child did, in order; compared by the parent. */
enum {
	C_OPEN_RDWR,	/* open(2) O_RDWR: -EACCES */
	C_RING_OPEN,	/* ring_open(0): -EACCES */
	C_OBS_OPEN,	/* ring_observer_open: 0 */
	C_READ,		/* messages read intact: NMSG */
	C_SEND,		/* -EROFS from here ... */
	C_RESERVE,
	C_BATCH,
	C_GROUP_CREATE,
	C_GROUP_REMOVE,
	C_GROUP_RESET,
	C_READER_OPEN,
	C_REPAIR,	/* ... to here */
	C_CHECK,	/* ring_check: 0 (reads only) */
	C_STATS,	/* ring_stats: 0, committed == NMSG */
	C_UNLINK,	/* ring_unlink: refused (-EACCES or -EPERM) */
	C_TRUNCATE,	/* truncate(2): -EACCES */
	C_PRIVATE,	/* RING_OPEN_PRIVATE + ring_repair: 0 */
	C_N
};

static const struct {
	const char *what;
	int want;
} expect[C_N] = {
	[C_OPEN_RDWR] = { "open(2) O_RDWR", -EACCES },
	[C_RING_OPEN] = { "ring_open for writing", -EACCES },
	[C_OBS_OPEN] = { "ring_observer_open", 0 },
	[C_READ] = { "every message read intact", NMSG },
	[C_SEND] = { "ring_send", -EROFS },
	[C_RESERVE] = { "ring_reserve", -EROFS },
	[C_BATCH] = { "ring_send_batch", -EROFS },
	[C_GROUP_CREATE] = { "ring_group_create", -EROFS },
	[C_GROUP_REMOVE] = { "ring_group_remove", -EROFS },
	[C_GROUP_RESET] = { "ring_group_reset", -EROFS },
	[C_READER_OPEN] = { "ring_reader_open", -EROFS },
	[C_REPAIR] = { "ring_repair", -EROFS },
	[C_CHECK] = { "ring_check", 0 },
	[C_STATS] = { "ring_stats sees every message", 0 },
	[C_UNLINK] = { "ring_unlink", -EPERM },
	[C_TRUNCATE] = { "truncate(2)", -EACCES },
	[C_PRIVATE] = { "ring_repair on a RING_OPEN_PRIVATE handle", 0 },
};

static int child(const char *path, int fd)
{
	int res[C_N];
	struct ring_observer *o = NULL;
	struct ring_check_report rep;
	struct ring_reader *rd;
	struct ring_out out = { "x", 1, 0 };
	struct ring_claim c;
	struct ring_stats st;
	struct ring_msg m;
	struct ring *r, *p;
	unsigned char buf[64];
	int n = 0, rc;

	for (int i = 0; i < C_N; i++)
		res[i] = 1000;
	if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY))
		return 1;
	rc = open(path, O_RDWR);
	res[C_OPEN_RDWR] = rc < 0 ? -errno : 0;
	res[C_RING_OPEN] = ring_open(path, 0, &r);
	res[C_OBS_OPEN] = ring_observer_open(path, 0, &o);
	if (o) {
		while (ring_observer_copy(o, &m, buf, sizeof(buf), RING_NONBLOCK,
					  NULL) == 0)
			if (!tu_msg_check(m.data, m.len, m.type, 1, (uint64_t)n))
				n++;
		res[C_READ] = n;
		r = ring_observer_ring(o);
		res[C_SEND] = ring_send(r, 1, "x", 1, 0, NULL);
		res[C_RESERVE] = ring_reserve(r, 8, 1, 0, NULL, &c);
		res[C_BATCH] = ring_send_batch(r, &out, 1, 0, NULL);
		res[C_GROUP_CREATE] = ring_group_create(r, "new", 0);
		res[C_GROUP_REMOVE] = ring_group_remove(r, "g");
		res[C_GROUP_RESET] = ring_group_reset(r, "g", RING_FROM_NEWEST);
		res[C_READER_OPEN] = ring_reader_open(r, "g", 0, &rd);
		res[C_REPAIR] = ring_repair(r, &rep);
		res[C_CHECK] = ring_check(r, &rep);
		rc = ring_stats(r, &st);
		res[C_STATS] = rc ? rc : st.committed == NMSG ? 0 : 1;
	}
	rc = ring_unlink(path);
	res[C_UNLINK] = rc == -EACCES ? -EPERM : rc;
	rc = truncate(path, 0);
	res[C_TRUNCATE] = rc < 0 ? -errno : 0;
	rc = ring_open(path, RING_OPEN_PRIVATE, &p);
	if (rc == 0) {
		/* Dirty the private copy: repair rewrites the cached minimum
		 * and wakes through its eventcounts. */
		rc = ring_repair(p, &rep);
		ring_close(p);
	}
	res[C_PRIVATE] = rc;
	ring_observer_close(o);
	return tu_write_all(fd, res, sizeof(res)) ? 2 : 0;
}

/* FNV-1a over the whole file, or 0. */
static uint64_t file_sum(const char *path, off_t *size)
{
	unsigned char buf[65536];
	uint64_t h = TU_FNV64_INIT;
	ssize_t n;
	int fd = open(path, O_RDONLY);

	*size = 0;
	if (fd < 0)
		return 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		h = tu_fnv1a64(h, buf, (size_t)n);
		*size += n;
	}
	close(fd);
	return h;
}

int main(void)
{
	char path[TU_PATH_MAX];
	struct ring_config cfg;
	struct ring *r;
	struct stat sb1, sb2;
	unsigned char buf[64];
	uint64_t before, after;
	off_t size1, size2;
	int res[C_N], pfd[2], status = -1, rc;
	pid_t pid;

	tu_guard(60);
	if (geteuid() != 0) {
		plan(0 + 1);
		skip(1, "needs root to switch to an unprivileged user");
		return exit_status();
	}
	plan(C_N + 4);
	ring_config_init(&cfg);
	cfg.capacity = 1 << 16;
	cfg.mode = 0640;
	rc = ring_create(tu_ring_path(path, "operm"), &cfg, 0, &r);
	if (rc)
		bail_out("ring_create");
	if (chown(path, 0, NOBODY) != 0)
		bail_out("chown");
	ring_group_create(r, "g", 0);
	for (int i = 0; i < NMSG; i++) {
		tu_msg_fill(buf, 40, 1, (uint64_t)i);
		ring_send(r, tu_msg_type(1, (uint64_t)i), buf, 40, 0, NULL);
	}
	stat(path, &sb1);
	before = file_sum(path, &size1);
	if (pipe(pfd))
		bail_out("pipe");
	pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		_exit(child(path, pfd[1]));
	}
	close(pfd[1]);
	memset(res, 0x7f, sizeof(res));
	rc = tu_read_timeout(pfd[0], res, sizeof(res), 30000);
	status = tu_wait(pid, 30000);
	ok(rc == 0 && status == 0, "the child ran as uid %d (exit %d)", NOBODY,
	   status);
	for (int i = 0; i < C_N; i++)
		ok(res[i] == expect[i].want, "as the other user: %s gives %d (%s)",
		   expect[i].what, res[i],
		   res[i] < 0 ? ring_strerror(res[i]) : "a count or success");
	after = file_sum(path, &size2);
	stat(path, &sb2);
	ok(before == after && size1 == size2 && size1 > 0,
	   "no byte of the file changed (FNV-1a %016llx, %lld bytes)",
	   (unsigned long long)after, (long long)size2);
	ok(sb1.st_mtim.tv_sec == sb2.st_mtim.tv_sec &&
	   sb1.st_mtim.tv_nsec == sb2.st_mtim.tv_nsec &&
	   (sb2.st_mode & 07777) == 0640,
	   "mtime and mode (0%o) unchanged", sb2.st_mode & 07777);
	ok(ring_send(r, 1, "after", 5, 0, NULL) == 0,
	   "the owner still sends");
	ring_close(r);
	return exit_status();
}

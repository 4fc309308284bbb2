/* SPDX-License-Identifier: MIT */
/*
 * t_tmpfs - safe files: a ring larger than a small tmpfs fails at create
 * with -ENOSPC (never SIGBUS later), a ring created before its file system
 * filled up still works on every page, a symlink at a ring's path is
 * refused, a new ring is mode 0600, and a ring the caller may only read
 * opens read-only, where produce calls give -EROFS and stats work.
 * The tmpfs and user-switching parts need root and skip otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ring.h"
#include "tap.h"
#include "lib/crashutil.h"

#define NOBODY 65534

static char mnt_dir[64];
static int mounted;

/* Fills the file system holding @dir until it reports ENOSPC. Returns the
 * number of bytes written. */
static size_t fill_fs(const char *dir)
{
	static char block[4096];
	char path[128];
	size_t total = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/filler", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return 0;
	for (;;) {
		ssize_t w = write(fd, block, sizeof(block));

		if (w <= 0)
			break;
		total += (size_t)w;
	}
	close(fd);
	return total;
}

/* The tmpfs part: ENOSPC at create, and no SIGBUS on a full file system. */
static void test_tmpfs(void)
{
	struct ring_config cfg;
	struct ring_stats st;
	struct ring *r = NULL;
	char path[128], other[128];
	static char msg[1000];
	unsigned i;
	int rc;

	snprintf(path, sizeof(path), "%s/big", mnt_dir);
	ring_config_init(&cfg);
	cfg.capacity = 4 * 1024 * 1024;
	rc = ring_create(path, &cfg, 0, &r);
	is(rc, -ENOSPC, "a ring larger than the file system: -ENOSPC at create");
	if (rc == 0)
		ring_close(r);
	ok(access(path, F_OK) != 0, "and no half-made file is left behind");

	snprintf(other, sizeof(other), "%s/small", mnt_dir);
	cfg.capacity = 256 * 1024;
	rc = ring_create(other, &cfg, 0, &r);
	is(rc, 0, "a ring that fits is created");
	if (rc != 0) {
		skip(2, "no ring");
		return;
	}
	diag("filled the rest of the tmpfs with %zu bytes", fill_fs(mnt_dir));
	/* No group: nothing holds producers back, so the ring is overwritten
	 * several times and every page of it is written. */
	for (i = 0; i < 4 * 256 * 1024 / sizeof(msg); i++) {
		rc = ring_send(r, 0, msg, sizeof(msg), RING_FULL_FAIL, NULL);
		if (rc != 0)
			break;
	}
	is(rc, 0, "every page of a ring on a full file system can be written "
	   "(no SIGBUS)");
	ok(ring_stats(r, &st) == 0 && st.committed == i,
	   "and every message counted");
	ring_close(r);
}

/* Symlinks at a ring's path are refused by create, open and unlink. */
static void test_symlink(const char *ring)
{
	char link_path[160], target[160];
	struct ring *r = NULL;
	int rc;

	snprintf(link_path, sizeof(link_path), "%s.link", ring);
	snprintf(target, sizeof(target), "%s.target", ring);
	unlink(link_path);
	unlink(target);

	if (symlink(ring, link_path) != 0)
		bail_out("symlink");
	rc = ring_open(link_path, 0, &r);
	is(rc, -ELOOP, "ring_open refuses a symlink to a ring");
	if (rc == 0)
		ring_close(r);
	rc = ring_create(link_path, NULL, 0, &r);
	ok(rc < 0, "ring_create refuses a symlink to a ring (%d)", rc);
	if (rc == 0)
		ring_close(r);
	is(ring_unlink(link_path), -ELOOP, "ring_unlink refuses a symlink");
	ok(access(ring, F_OK) == 0, "the ring it points to is still there");
	unlink(link_path);

	if (symlink(target, link_path) != 0)
		bail_out("symlink");
	rc = ring_create(link_path, NULL, 0, &r);
	ok(rc < 0, "ring_create refuses a dangling symlink (%d)", rc);
	if (rc == 0)
		ring_close(r);
	ok(access(target, F_OK) != 0, "and creates nothing where it points");
	unlink(link_path);
	unlink(target);
}

/* Child as user nobody: opens @ring read-write (expects -EACCES) and
 * read-only (expects success, -EROFS to produce, working stats). */
static int child_nobody(const char *ring)
{
	struct ring_stats st;
	struct ring *r;

	if (setgid(NOBODY) != 0 || setuid(NOBODY) != 0)
		return 10;
	if (ring_open(ring, 0, &r) != -EACCES)
		return 11;
	if (ring_open(ring, RING_OPEN_RDONLY, &r) != 0)
		return 12;
	if (ring_stats(r, &st) != 0 || st.committed != 3)
		return 13;
	if (ring_send(r, 0, "x", 1, 0, NULL) != -EROFS)
		return 14;
	ring_close(r);
	return 0;
}

/* Read-only rings: mode 0444 and RING_OPEN_RDONLY. */
static void test_readonly(const char *ring)
{
	struct ring_reader *rd = NULL;
	struct ring_claim c;
	struct ring_stats st;
	struct ring *r = NULL;
	struct stat sb = { 0 };
	char why[64];
	int rc, status;
	pid_t pid;

	rc = stat(ring, &sb);
	ok(rc == 0 && (sb.st_mode & 07777) == 0600,
	   "a new ring file has mode 0600 (%o)", sb.st_mode & 07777);
	chmod(ring, 0444);
	rc = ring_open(ring, RING_OPEN_RDONLY, &r);
	is(rc, 0, "a 0444 ring opens with RING_OPEN_RDONLY");
	if (rc != 0) {
		skip(5, "not opened");
	} else {
		ok(ring_stats(r, &st) == 0 && st.committed == 3,
		   "ring_stats works on a read-only handle");
		is(ring_send(r, 0, "x", 1, 0, NULL), -EROFS,
		   "ring_send: -EROFS");
		is(ring_reserve(r, 8, 0, 0, NULL, &c), -EROFS,
		   "ring_reserve: -EROFS");
		is(ring_group_create(r, "new", 0), -EROFS,
		   "ring_group_create: -EROFS");
		rc = ring_reader_open(r, "g", 0, &rd);
		is(rc, -EROFS, "ring_reader_open: -EROFS");
		if (rc == 0)
			ring_reader_close(rd);
		ring_close(r);
	}
	if (geteuid() != 0) {
		skip(1, "needs root to switch to user nobody");
		return;
	}
	pid = crash_fork();
	if (pid == 0)
		_exit(child_nobody(ring));
	crash_wait_exit(pid, 10000, &status);
	ok(crash_exited_ok(status), "as another user: read-write open -EACCES, "
	   "read-only open, stats and -EROFS work (%s)",
	   crash_status_text(status, why, sizeof(why)));
}

/* Removes the mount and its directory. */
static void cleanup_mount(void)
{
	if (mounted)
		umount2(mnt_dir, MNT_DETACH);
	mounted = 0;
	if (mnt_dir[0])
		rmdir(mnt_dir);
}

int main(void)
{
	char ring[128];
	struct ring *r;
	unsigned i;

	plan(20);
	crash_ring_path(ring, sizeof(ring), "tmpfs");
	crash_guard(60, ring);
	unlink(ring);

	if (geteuid() != 0) {
		skip(5, "not root: cannot mount a tmpfs");
	} else {
		snprintf(mnt_dir, sizeof(mnt_dir), "/tmp/libring-tmpfs.XXXXXX");
		if (!mkdtemp(mnt_dir)) {
			mnt_dir[0] = 0;
			skip(5, "mkdtemp failed");
		} else if (mount("tmpfs", mnt_dir, "tmpfs", MS_NOSUID | MS_NODEV,
				 "size=1m,mode=0700") != 0) {
			skip(5, "mounting a tmpfs failed");
		} else {
			mounted = 1;
			test_tmpfs();
		}
		cleanup_mount();
	}

	if (ring_create(ring, NULL, 0, &r) != 0)
		bail_out("ring_create failed");
	for (i = 0; i < 3; i++)
		ring_send(r, 0, "abc", 3, 0, NULL);
	ring_close(r);
	test_symlink(ring);
	test_readonly(ring);
	if (geteuid() == 0) {
		int rc = ring_open(ring, 0, &r);

		is(rc, 0, "root may still open a 0444 ring read-write");
		if (rc == 0)
			ring_close(r);
	} else {
		is(ring_open(ring, 0, &r), -EACCES,
		   "a 0444 ring does not open read-write: -EACCES");
	}
	ring_unlink(ring);
	return exit_status();
}

/* SPDX-License-Identifier: MIT */
/*
 * t_paths - H15: paths are resolved without following a symbolic link in
 * any component, and ring_unlink removes only the ring it checked.
 */
#include <errno.h>
#include <linux/fs.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ring.h"
#include "tap.h"
#include "lib/testutil.h"

/*
 * A racer swaps two directories (renameat2 RENAME_EXCHANGE) in a loop while
 * ring_unlink removes a ring in one of them: the other holds a file that is
 * no ring, which must never be removed.
 */
static int race_unlink(const char *top, struct ring_config *cfg)
{
	char a[192], b[192], ring[224], victim[224];
	struct ring *r;
	pid_t racer;
	int removed = 0, fd;

	snprintf(a, sizeof(a), "%s/a", top);
	snprintf(b, sizeof(b), "%s/b", top);
	snprintf(ring, sizeof(ring), "%s/x.ring", a);
	snprintf(victim, sizeof(victim), "%s/x.ring", b);
	if (mkdir(a, 0700) || mkdir(b, 0700))
		return -1;
	fd = open(victim, O_CREAT | O_WRONLY, 0600);
	if (fd < 0 || write(fd, "precious\n", 9) != 9)
		return -1;
	close(fd);
	racer = fork();
	if (racer == 0) {
		for (;;)
			syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b,
				RENAME_EXCHANGE);
	}
	for (int i = 0; i < 2000; i++) {
		if (ring_create(ring, cfg, 0, &r) == 0)
			ring_close(r);
		if (ring_unlink(ring) == 0)
			removed++;
	}
	kill(racer, SIGKILL);
	waitpid(racer, NULL, 0);
	diag("%d rings removed in 2000 tries while the directories swapped",
	     removed);
	/* The victim, whole, in either directory (a leftover ring may be
	 * in the other one). */
	fd = -1;
	for (int d = 0; d < 2 && fd < 0; d++) {
		char buf[16] = { 0 };
		int f;

		snprintf(victim, sizeof(victim), "%s/x.ring", d ? a : b);
		f = open(victim, O_RDONLY);
		if (f < 0)
			continue;
		if (read(f, buf, sizeof(buf)) == 9 && !strcmp(buf, "precious\n"))
			fd = 0;
		close(f);
	}
	unlink(ring);
	snprintf(ring, sizeof(ring), "%s/x.ring", b);
	unlink(ring);
	rmdir(a);
	rmdir(b);
	return fd >= 0 ? removed : -1;
}

int main(void)
{
	char dir[] = "/tmp/libring-paths-XXXXXX", real[128], link[128], p[192];
	char q[192];
	struct ring_config cfg;
	struct ring *r;
	struct stat st;

	plan(15);
	tu_guard(30);
	ring_config_init(&cfg);
	cfg.capacity = 64 << 10;
	if (!mkdtemp(dir))
		bail_out("mkdtemp");
	snprintf(real, sizeof(real), "%s/real", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	ok(mkdir(real, 0700) == 0 && symlink(real, link) == 0,
	   "a directory and a symbolic link to it");
	snprintf(p, sizeof(p), "%s/x.ring", link);
	snprintf(q, sizeof(q), "%s/x.ring", real);
	is(ring_create(p, &cfg, 0, &r), -ELOOP,
	   "create through a linked directory: -ELOOP");
	ok(stat(q, &st) < 0 && errno == ENOENT,
	   "nothing was created in the link's target");
	ok(ring_create(q, &cfg, 0, &r) == 0, "create in the real directory");
	ring_close(r);
	is(ring_open(p, 0, &r), -ELOOP, "open through the linked directory: -ELOOP");
	is(ring_unlink(p), -ELOOP, "unlink through the linked directory: -ELOOP");
	ok(stat(q, &st) == 0, "the ring is still there");
	is(ring_create(q, &cfg, 0, &r), -EEXIST, "create over an existing name: -EEXIST");
	ok(ring_unlink(q) == 0 && stat(q, &st) < 0, "unlink by its real path");

	/* H15: a ring owned by another user is not adopted silently. */
	snprintf(q, sizeof(q), "%s/squat.ring", real);
	ok(ring_create(q, &cfg, 0, &r) == 0, "a ring for the owner test");
	ring_close(r);
	if (geteuid() != 0 || chown(q, 65534, 65534) != 0) {
		skip(4, "needs root to give the ring to another user");
	} else {
		is(ring_open(q, 0, &r), -EPERM,
		   "a ring owned by another user: -EPERM");
		is(ring_open(q, RING_OPEN_RDONLY, &r), -EPERM,
		   "also read-only");
		ok(ring_open(q, RING_OPEN_FOREIGN, &r) == 0,
		   "accepted with RING_OPEN_FOREIGN");
		ring_close(r);
		is(ring_create(q, &cfg, 0, &r), -EEXIST,
		   "create never adopts the other user's file");
	}
	ring_unlink(q);
	ok(race_unlink(real, &cfg) >= 0,
	   "a directory swapped during ring_unlink never costs a non-ring file");
	unlink(link);
	rmdir(real);
	rmdir(dir);
	return exit_status();
}

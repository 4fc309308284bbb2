/* SPDX-License-Identifier: MIT */
/*
 * t_paths - H15: paths are resolved without following a symbolic link in
 * any component, and ring_unlink removes only the ring it checked.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ring.h"
#include "tap.h"
#include "lib/testutil.h"

int main(void)
{
	char dir[] = "/tmp/libring-paths-XXXXXX", real[128], link[128], p[192];
	char q[192];
	struct ring_config cfg;
	struct ring *r;
	struct stat st;

	plan(14);
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
	unlink(link);
	rmdir(real);
	rmdir(dir);
	return exit_status();
}

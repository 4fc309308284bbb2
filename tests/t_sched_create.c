/* SPDX-License-Identifier: MIT */
/*
 * t_sched_create - H11: a ring's name appears only when the ring is
 * complete. A creator stopped after building the ring but before naming it
 * has left no name; killed there, it leaves none at all, and the name can
 * be created afresh.
 */
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ring.h"
#include "tap.h"
#include "lib/sched_hook.h"
#include "lib/testutil.h"

static char path[TU_PATH_MAX];
static struct sched_hook built;

static int creator(void *arg)
{
	struct ring_config cfg;
	struct ring *r;

	(void)arg;
	ring_config_init(&cfg);
	cfg.capacity = 1 << 20;
	sched_arm(&built);
	return ring_create(path, &cfg, 0, &r) ? 1 : 0;
}

int main(void)
{
	struct ring_config cfg;
	struct ring *r;
	struct stat st;
	pid_t c;

	plan(5);
	tu_guard(30);
	tu_ring_path(path, "create");
	if (sched_init(&built, "create:built", SCHED_HOLD, 0))
		bail_out("pipe");
	c = tu_fork(creator, NULL);
	ok(sched_reached(&built, 10000), "a creator has built the ring");
	ok(stat(path, &st) < 0 && errno == ENOENT, "its name does not exist yet");
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
	ok(stat(path, &st) < 0 && errno == ENOENT,
	   "killed there, it leaves no name behind");
	ring_config_init(&cfg);
	cfg.capacity = 64 << 10;
	ok(ring_create(path, &cfg, 0, &r) == 0, "the name is created afresh");
	ring_close(r);
	if (sched_init(&built, "create:built", SCHED_HOLD, 0))
		bail_out("pipe");
	unlink(path);
	c = tu_fork(creator, NULL);
	sched_reached(&built, 10000);
	sched_release(&built);
	is(tu_wait(c, 10000), 0, "let go, the creator names its ring");
	ring_unlink(path);
	return exit_status();
}

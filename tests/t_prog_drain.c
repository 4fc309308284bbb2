// SPDX-License-Identifier: MIT
/*
 * t_prog_drain - a draining ring-recv (no --follow) at a claim that is not
 * committed: it waits out the recovery time before it calls the ring
 * drained, so a dead producer's claim is skipped and what was committed
 * after it is printed, in this run and in later ones; a live producer's
 * open claim ends the drain after that wait, without hanging.
 * Runs the program in $RING_BIN (bin/ unless set).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ring.h"
#include "tap.h"
#include "lib/testutil.h"

static char ring_path[TU_PATH_MAX];

/* Child: claim room for a message, then die (or wait on @arg's pipe). */
static int child_claim(void *arg)
{
	int *gate = arg;
	struct ring_claim c;
	struct ring *r;
	char x;

	if (ring_open(ring_path, 0, &r) != 0)
		return 10;
	if (ring_reserve(r, 5, 0, 0, NULL, &c) != 0)
		return 11;
	memcpy(c.data, "stuck", 5);
	if (!gate)
		_exit(0); /* dies holding the claim */
	if (write(gate[1], "r", 1) != 1 || read(gate[0], &x, 1) != 1)
		return 12;
	if (ring_commit(r, &c) != 0)
		return 13;
	ring_close(r);
	return 0;
}

/* Run "ring-recv RING --group g" with a time limit; its output in @out. */
static int run_recv(char *out, size_t len)
{
	const char *bin = getenv("RING_BIN");
	char prog[512];
	int fd[2], status;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	snprintf(prog, sizeof(prog), "%s/ring-recv", bin ? bin : "bin");
	if (pipe(fd) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(fd[1], 1);
		close(fd[0]);
		alarm(20);
		execl(prog, prog, ring_path, "--group", "g", (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	while (got + 1 < len && (n = read(fd[0], out + got, len - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(fd[0]);
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(void)
{
	struct ring_config cfg;
	struct ring *r;
	char out[256];
	int gate[2], back[2], rc;
	uint64_t t0;
	pid_t pid;
	char x;

	plan(8);
	tu_guard(60);
	tu_ring_path(ring_path, "drain");
	ring_config_init(&cfg);
	cfg.capacity = 64 << 10;
	if (ring_create(ring_path, &cfg, 0, &r) || ring_group_create(r, "g", 0))
		bail_out("cannot create the ring");

	/* A dead claim between two committed messages. */
	ring_send(r, 0, "before", 6, 0, NULL);
	pid = tu_fork(child_claim, NULL);
	is(tu_wait(pid, 10000), 0, "a producer died holding a claim");
	ring_send(r, 0, "after", 5, 0, NULL);
	rc = run_recv(out, sizeof(out));
	is(rc, 0, "ring-recv drains and exits 0");
	is_str(out, "before\nafter\n",
	       "the dead claim is skipped: what was committed after it is printed");

	/* A dead claim at the end, then a message: a later run gets it. */
	pid = tu_fork(child_claim, NULL);
	tu_wait(pid, 10000);
	rc = run_recv(out, sizeof(out));
	is_str(out, "", "nothing after the second dead claim yet");
	ring_send(r, 0, "later", 5, 0, NULL);
	rc = run_recv(out, sizeof(out));
	is_str(out, "later\n", "a later run skips it and prints what followed");

	/* A live producer holding a claim: the drain ends, the rest waits. */
	if (pipe(gate) < 0 || pipe(back) < 0)
		bail_out("pipe");
	{
		int fds[2] = { gate[0], back[1] };

		pid = tu_fork(child_claim, fds);
	}
	if (read(back[0], &x, 1) != 1)
		bail_out("child did not claim");
	ring_send(r, 0, "queued", 6, 0, NULL);
	t0 = tu_now_ns();
	rc = run_recv(out, sizeof(out));
	diag("drain at a live claim took %.0f ms",
	     (double)(tu_now_ns() - t0) / 1e6);
	is(rc, 0, "at a live producer's open claim ring-recv still ends");
	if (write(gate[1], "c", 1) != 1)
		bail_out("write");
	is(tu_wait(pid, 10000), 0, "the producer commits");
	rc = run_recv(out, sizeof(out));
	is_str(out, "stuck\nqueued\n", "and the next run prints its message "
	       "and the one after it");
	ring_close(r);
	return exit_status();
}

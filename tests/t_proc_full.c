/* SPDX-License-Identifier: MIT */
/*
 * t_proc_full - a process table filled by dead producers' claims while the
 * group's reader is down. Their entries cannot be reused before the claims
 * are resolved, and only a reader resolves them: the reader must attach
 * although the table is full, skip the dead claims, and then new
 * producers must attach again (issue: the table of 8, eight producers
 * killed holding a claim, wedged every later ring-send and ring-recv).
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ring.h"
#include "tap.h"
#include "lib/testutil.h"

#define PROCS 8

static char path[TU_PATH_MAX];
static int ready[2];

/* A producer that sends one message, reserves another and waits. */
static int claimer(void *arg)
{
	struct ring_claim c;
	struct ring *r;

	(void)arg;
	if (ring_open(path, 0, &r) || ring_send(r, 1, "before", 6, 0, NULL) ||
	    ring_reserve(r, 32, 0, 0, NULL, &c))
		return 30;
	if (tu_write_all(ready[1], "C", 1))
		return 31;
	for (;;)
		pause();
}

static int sender(void *arg)
{
	struct ring *r;
	int rc;

	if (ring_open(path, 0, &r))
		return 20;
	rc = ring_send(r, 7, arg, strlen(arg), RING_FULL_FAIL, NULL);
	ring_close(r);
	return rc == -EUSERS ? 22 : rc ? 21 : 0;
}

int main(void)
{
	struct ring_config cfg;
	struct ring_reader *rd;
	struct timespec dl;
	struct ring_stats st;
	struct ring_msg m;
	struct ring *r;
	pid_t kids[PROCS];
	unsigned before = 0;
	int i, rc, bad = 0;
	char b;

	plan(7);
	tu_guard(60);
	ring_config_init(&cfg);
	cfg.capacity = 64 << 10;
	cfg.processes = PROCS;
	if (ring_create(tu_ring_path(path, "proc-full"), &cfg, 0, &r) ||
	    ring_group_create(r, "g", 0) || pipe(ready))
		bail_out("ring");
	ring_set_recovery_ms(r, 20);
	for (i = 0; i < PROCS; i++) {
		kids[i] = tu_fork(claimer, NULL);
		bad += tu_read_timeout(ready[0], &b, 1, 10000) != 0;
	}
	is(bad, 0, "%d producers hold a claim each: the table is full", PROCS);
	for (i = 0; i < PROCS; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	is(tu_wait(tu_fork(sender, "x"), 10000), 22,
	   "a new producer finds no entry (-EUSERS): the claims are unresolved");
	rc = ring_reader_open(r, "g", 0, &rd);
	ok(rc == 0, "the group's reader attaches all the same (%s)",
	   ring_strerror(rc));
	if (rc)
		bail_out("no reader");
	while ((rc = ring_peek(rd, &m, 0, tu_deadline_ms(&dl, 2000))) == 0) {
		before += m.len == 6 && memcmp(m.data, "before", 6) == 0;
		ring_release(rd);
	}
	is(rc, -ETIMEDOUT, "it reads up to the tail");
	is(before, PROCS, "every committed message, and skips the %d dead claims",
	   PROCS);
	is(tu_wait(tu_fork(sender, "after"), 10000), 0,
	   "then a new producer attaches again and sends");
	rc = ring_peek(rd, &m, 0, tu_deadline_ms(&dl, 5000));
	ring_stats(r, &st);
	ok(rc == 0 && m.len == 5 && memcmp(m.data, "after", 5) == 0 &&
	   st.recovered == PROCS,
	   "its message arrives; %llu claims counted as recovered",
	   (unsigned long long)st.recovered);
	ring_reader_close(rd);
	ring_close(r);
	ring_unlink(path);
	return exit_status();
}

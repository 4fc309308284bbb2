/* SPDX-License-Identifier: MIT */
/*
 * t_reader_crash - a reader process killed at random points (200 times)
 * while producers run loses nothing: the next reader takes the group over
 * (no -EBUSY from the dead holder) at the cursor of the last release, the
 * union of what the readers handled covers every committed message, and a
 * message is handled twice only if a killed reader had handled it without
 * releasing it (its last batch).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ring.h"
#include "tap.h"
#include "lib/crashutil.h"

#define PRODUCERS 2
#define MAX_SEQ (1u << 21) /* messages per producer at most */
#define MSG_MAX 300u
#define GROUP "g"

/* State shared by the test process and its children. */
struct shared {
	int stop;		  /* producers: finish */
	int drain;		  /* reader: finish at drain_tail */
	uint64_t drain_tail;
	uint64_t logged[PRODUCERS]; /* messages whose commit returned */
	uint64_t released;	  /* last cursor a reader recorded after release */
	uint64_t handled_end;	  /* furthest end of a handled message */
	uint64_t handled;	  /* handlings in all */
	uint64_t duplicates;	  /* handlings of a message handled before */
	uint64_t errors;
	char first_error[160];
	int open_rc;		  /* first ring_reader_open failure */
	uint64_t start_pos;	  /* cursor the running instance started at */
	uint64_t window_end;	  /* handled_end when it started */
	unsigned opened;	  /* reader instances that took the group */
};

static char ring_path[128];
static struct shared *sh;
static uint8_t *count[PRODUCERS]; /* [seq]: times handled (saturating) */

/* Records the first error. */
static void record_error(const char *what, uint64_t pos)
{
	if (sh->errors++ == 0)
		snprintf(sh->first_error, sizeof(sh->first_error),
			 "%s at position %llu", what, (unsigned long long)pos);
}

/* Producer process @id: sends sequence-numbered messages until told to stop
 * (or until MAX_SEQ). */
static void producer(uint32_t id)
{
	uint64_t rnd = crash_seed() ^ id, seq = 0;
	uint8_t buf[MSG_MAX];
	struct ring *r;

	if (ring_open(ring_path, 0, &r) != 0)
		_exit(10);
	while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
		struct timespec dl = crash_deadline_ms(200);
		uint32_t len = CRASH_PAYLOAD_MIN +
			       crash_rand(&rnd) % (MSG_MAX - CRASH_PAYLOAD_MIN);
		int rc;

		if (seq >= MAX_SEQ) {
			usleep(1000);
			continue;
		}
		crash_fill_payload(buf, len, id, seq);
		rc = ring_send(r, 0, buf, len, 0, &dl);
		if (rc == -ETIMEDOUT)
			continue;
		if (rc != 0)
			_exit(11);
		seq++;
		__atomic_store_n(&sh->logged[id], seq, __ATOMIC_RELEASE);
	}
	ring_close(r);
	_exit(0);
}

/* Handles one message: logs it (before it is released) and checks that a
 * second handling is one of an unreleased batch of a killed reader. */
static int handle(const struct ring_msg *m, void *arg)
{
	uint64_t seq, end = m->pos + m->slots;
	uint32_t id, spin;

	(void)arg;
	if (crash_check_payload(m->data, m->len, &id, &seq) != 0 ||
	    id >= PRODUCERS || seq >= MAX_SEQ) {
		record_error("corrupt payload", m->pos);
		return 0;
	}
	/* The furthest handled end first: a kill between the two stores
	 * must not make the next handling look like an error. */
	if ((int64_t)(end - sh->handled_end) > 0)
		sh->handled_end = end;
	if (count[id][seq]) {
		sh->duplicates++;
		if (m->pos < sh->start_pos || m->pos >= sh->window_end)
			record_error("handled twice outside an unreleased batch",
				     m->pos);
	}
	if (count[id][seq] < 255)
		count[id][seq]++;
	sh->handled++;
	for (spin = m->len; spin > 0; spin--) /* some work to be killed in */
		__asm__ volatile("" ::: "memory");
	return 0;
}

/* One reader instance: takes the group over and reads until killed (or,
 * when draining, until the cursor reaches the final tail). */
static void reader_instance(uint64_t seed)
{
	uint64_t rnd = seed;
	unsigned max = 1 + crash_rand(&rnd) % 64;
	int use_peek = crash_rand(&rnd) % 4 == 0;
	struct ring_reader *rd;
	struct ring *r;
	uint64_t start;
	int rc;

	if (ring_open(ring_path, 0, &r) != 0)
		_exit(10);
	rc = ring_reader_open(r, GROUP, 0, &rd);
	if (rc != 0) {
		if (!sh->open_rc)
			sh->open_rc = rc;
		_exit(11);
	}
	__atomic_add_fetch(&sh->opened, 1, __ATOMIC_RELEASE);
	start = ring_reader_position(rd);
	if (start < sh->released)
		record_error("cursor behind the last release", start);
	sh->start_pos = start;
	sh->window_end = sh->handled_end;
	for (;;) {
		struct timespec dl = crash_deadline_ms(100);
		struct ring_msg m;

		if (use_peek) {
			rc = ring_peek(rd, &m, 0, &dl);
			if (rc == 0) {
				handle(&m, NULL);
				ring_release(rd);
			}
		} else {
			rc = ring_poll(rd, handle, NULL, max, 0, &dl);
		}
		if (rc >= 0)
			sh->released = ring_reader_position(rd);
		else if (rc != -ETIMEDOUT && rc != -EAGAIN)
			record_error(ring_strerror(rc),
				     ring_reader_position(rd));
		if (__atomic_load_n(&sh->drain, __ATOMIC_ACQUIRE) &&
		    ring_reader_position(rd) >= sh->drain_tail)
			break;
	}
	ring_reader_close(rd);
	ring_close(r);
	_exit(0);
}

/* Starts a reader instance. */
static pid_t start_reader(uint64_t *rnd)
{
	uint64_t seed = crash_rand(rnd) | 1;
	pid_t pid = crash_fork();

	if (pid == 0)
		reader_instance(seed);
	return pid;
}

/* Returns how many committed messages were never handled. */
static uint64_t count_lost(void)
{
	uint64_t lost = 0, seq;
	int p;

	for (p = 0; p < PRODUCERS; p++)
		for (seq = 0; seq < sh->logged[p]; seq++)
			if (!count[p][seq] && lost++ < 3)
				diag("producer %d seq %llu was never handled",
				     p, (unsigned long long)seq);
	return lost;
}

int main(void)
{
	unsigned kills = 200, k, killed = 0, busy = 0;
	uint64_t rnd = crash_seed();
	struct ring_reader *probe;
	struct ring_config cfg;
	struct ring_group_stats gs;
	struct ring_stats st;
	pid_t prod[PRODUCERS], rdr;
	struct ring *r;
	int p, status, rc;
	char why[64];

	plan(9);
	crash_ring_path(ring_path, sizeof(ring_path), "reader-crash");
	crash_guard(300, ring_path);
	unlink(ring_path);

	sh = crash_shared_alloc(sizeof(*sh));
	for (p = 0; p < PRODUCERS; p++)
		count[p] = crash_shared_alloc(MAX_SEQ);
	if (!sh || !count[0] || !count[1])
		bail_out("shared memory");

	ring_config_init(&cfg);
	cfg.capacity = 32 * 1024;
	cfg.processes = 32;
	if (ring_create(ring_path, &cfg, 0, &r) != 0)
		bail_out("ring_create failed");
	if (ring_group_create(r, GROUP, RING_FROM_OLDEST) != 0)
		bail_out("ring_group_create failed");
	for (p = 0; p < PRODUCERS; p++) {
		prod[p] = crash_fork();
		if (prod[p] == 0)
			producer((uint32_t)p);
	}

	rdr = start_reader(&rnd);
	for (k = 0; k < kills; k++) {
		usleep(crash_rand(&rnd) % 30000);
		if (k == kills / 2) {
			uint64_t end = crash_now_ns() + 10000000000ull;

			/* instance k holds the group once it counted itself */
			while (__atomic_load_n(&sh->opened, __ATOMIC_ACQUIRE) <=
				       k && crash_now_ns() < end)
				usleep(1000);
			rc = ring_reader_open(r, GROUP, 0, &probe);
			busy = rc == -EBUSY;
			if (rc == 0)
				ring_reader_close(probe);
			if (!busy)
				diag("second reader of a live holder's group: "
				     "%d", rc);
		}
		status = crash_kill_wait(rdr);
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
			killed++;
		else
			diag("reader instance %u ended by itself: %s", k,
			     crash_status_text(status, why, sizeof(why)));
		rdr = start_reader(&rnd);
	}
	is(killed, kills, "%u reader instances were killed while reading",
	   kills);
	ok(busy, "a second reader gets -EBUSY while the holder lives");

	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
	for (p = 0, rc = 1; p < PRODUCERS; p++) {
		crash_wait_exit(prod[p], 30000, &status);
		rc &= crash_exited_ok(status);
	}
	ok(rc, "the producers ran without error");
	if (ring_stats(r, &st) != 0)
		bail_out("ring_stats failed");
	sh->drain_tail = st.tail;
	__atomic_store_n(&sh->drain, 1, __ATOMIC_RELEASE);
	crash_wait_exit(rdr, 60000, &status);
	ok(crash_exited_ok(status), "the last reader drained the ring (%s)",
	   crash_status_text(status, why, sizeof(why)));

	is(sh->open_rc, 0, "every reader instance took the group over");
	diag("%llu + %llu messages committed, %llu handlings, %llu duplicates",
	     (unsigned long long)sh->logged[0],
	     (unsigned long long)sh->logged[1],
	     (unsigned long long)sh->handled,
	     (unsigned long long)sh->duplicates);
	ok(sh->logged[0] > 0 && sh->logged[1] > 0, "both producers committed");
	is(count_lost(), 0, "every committed message was handled");
	if (sh->errors)
		diag("%llu errors, first: %s", (unsigned long long)sh->errors,
		     sh->first_error);
	is(sh->errors, 0, "duplicates only of unreleased batches, no corrupt "
	   "message, no cursor behind a release");
	rc = ring_group_stats(r, GROUP, &gs);
	ok(rc == 0 && gs.cursor == st.tail && !gs.reader_alive,
	   "the group's cursor is at the tail and no reader is alive "
	   "(rc %d, cursor %llu, tail %llu, alive %d)", rc,
	   (unsigned long long)gs.cursor, (unsigned long long)st.tail,
	   gs.reader_alive);

	ring_close(r);
	ring_unlink(ring_path);
	return exit_status();
}

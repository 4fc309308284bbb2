/* SPDX-License-Identifier: MIT */
/*
 * t_random_kill - producer processes sending at full speed are SIGKILLed at
 * random moments (500 times, 5000 with RING_TEST_LONG=1) and replaced by new
 * ones; every tenth is first asked to stall inside a claim so that dead
 * claims are sure to happen. Two groups are read by reader processes.
 * Every message whose commit returned reaches every group exactly once and
 * in order per producer, no message is corrupt, and the readers never stall
 * for long.
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

#define GROUPS 2
#define LIVE_PRODUCERS 2
#define BATCH_MAX 8u
#define MSG_MAX 600u
#define HOLD_EVERY 10u

/* What one reader process found, in shared memory. */
struct group_result {
	uint64_t delivered;
	uint64_t errors;
	uint64_t max_gap_ns;
	char first_error[160];
};

/* State shared by the test process and its children. */
struct shared {
	int stop;		/* producers: finish now */
	int drain;		/* readers: finish once at drain_tail */
	uint64_t drain_tail;
	struct group_result group[GROUPS];
};

static char ring_path[128];
static const char *const group_names[GROUPS] = { "alpha", "beta" };
static struct shared *sh;
static uint32_t max_producers;
static uint64_t *logged;	/* [producer]: messages whose commit returned */
static uint32_t *hold_request;	/* [producer]: stall in the next claim */
static uint32_t *holding;	/* [producer]: stalled in a claim */
static uint64_t *next_seq[GROUPS]; /* [producer]: next expected per group */

/* Producer: publishes that messages below @count have been committed. */
static void log_committed(uint32_t id, uint64_t count)
{
	__atomic_store_n(&logged[id], count, __ATOMIC_RELEASE);
}

/* Producer: reserves, writes half, reports and waits to be killed. */
static void hold_claim_forever(struct ring *r, uint32_t id, uint64_t seq)
{
	uint8_t buf[MSG_MAX];
	struct ring_claim c;
	int rc;

	do {
		struct timespec dl = crash_deadline_ms(200);

		rc = ring_reserve(r, MSG_MAX, 0, 0, &dl, &c);
	} while (rc == -ETIMEDOUT);
	if (rc != 0)
		_exit(21);
	crash_fill_payload(buf, MSG_MAX, id, seq);
	memcpy(c.data, buf, MSG_MAX / 2);
	__atomic_store_n(&holding[id], 1, __ATOMIC_RELEASE);
	for (;;)
		pause();
}

/*
 * Producer: sends messages seq, seq+1, ... in the way its id selects
 * (ring_send, reserve/commit, or ring_send_batch). Returns how many were
 * committed, 0 when the wait timed out, or exits on an unexpected error.
 */
static unsigned produce_some(struct ring *r, uint32_t id, uint64_t seq,
			     uint64_t *rnd)
{
	static uint8_t bufs[BATCH_MAX][MSG_MAX];
	struct timespec dl = crash_deadline_ms(200);
	struct ring_out out[BATCH_MAX];
	struct ring_claim c;
	uint32_t len = CRASH_PAYLOAD_MIN + crash_rand(rnd) % (MSG_MAX -
							       CRASH_PAYLOAD_MIN);
	unsigned i, n;
	int rc;

	switch (id % 3) {
	case 0:
		crash_fill_payload(bufs[0], len, id, seq);
		rc = ring_send(r, 1, bufs[0], len, 0, &dl);
		break;
	case 1:
		rc = ring_reserve(r, len, 1, 0, &dl, &c);
		if (rc == 0) {
			crash_fill_payload(c.data, len, id, seq);
			rc = ring_commit(r, &c);
		}
		break;
	default:
		n = 1 + crash_rand(rnd) % BATCH_MAX;
		for (i = 0; i < n; i++) {
			len = CRASH_PAYLOAD_MIN + crash_rand(rnd) % 200;
			crash_fill_payload(bufs[i], len, id, seq + i);
			out[i] = (struct ring_out){ bufs[i], len, 1 };
		}
		rc = ring_send_batch(r, out, n, 0, &dl);
		if (rc > 0)
			return (unsigned)rc;
		break;
	}
	if (rc == 0)
		return 1;
	if (rc == -ETIMEDOUT || rc == -EUSERS) /* full ring or table */
		return 0;
	_exit(20);
}

/* Producer process @id: sends until told to stop or killed. */
static void producer(uint32_t id)
{
	uint64_t rnd = crash_seed() ^ id, seq = 0;
	struct ring *r;

	if (ring_open(ring_path, 0, &r) != 0)
		_exit(10);
	while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
		if (__atomic_load_n(&hold_request[id], __ATOMIC_ACQUIRE))
			hold_claim_forever(r, id, seq);
		seq += produce_some(r, id, seq, &rnd);
		log_committed(id, seq);
	}
	ring_close(r);
	_exit(0);
}

/* Reader: records the first error of its group. */
static void reader_error(struct group_result *g, const char *what,
			 uint64_t pos)
{
	if (g->errors++ == 0)
		snprintf(g->first_error, sizeof(g->first_error),
			 "%s at position %llu", what, (unsigned long long)pos);
}

struct reader_ctx {
	int gi;
	uint64_t last_ns;
};

/* ring_poll handler: checks one message and its place in its producer's
 * sequence. */
static int reader_handle(const struct ring_msg *m, void *arg)
{
	struct reader_ctx *ctx = arg;
	struct group_result *g = &sh->group[ctx->gi];
	uint64_t now = crash_now_ns(), seq;
	uint32_t id;

	if (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE) && ctx->last_ns &&
	    now - ctx->last_ns > g->max_gap_ns)
		g->max_gap_ns = now - ctx->last_ns;
	ctx->last_ns = now;
	g->delivered++;
	if (crash_check_payload(m->data, m->len, &id, &seq) != 0) {
		reader_error(g, "corrupt payload", m->pos);
		return 0;
	}
	if (id >= max_producers) {
		reader_error(g, "unknown producer", m->pos);
		return 0;
	}
	if (seq != next_seq[ctx->gi][id]) {
		char what[96];

		snprintf(what, sizeof(what), "producer %u: seq %llu, expected "
			 "%llu", id, (unsigned long long)seq,
			 (unsigned long long)next_seq[ctx->gi][id]);
		reader_error(g, what, m->pos);
	}
	next_seq[ctx->gi][id] = seq + 1;
	return 0;
}

/* Reader process of group @gi: reads until drained. */
static void reader(int gi)
{
	struct reader_ctx ctx = { .gi = gi };
	struct group_result *g = &sh->group[gi];
	struct ring_reader *rd;
	struct ring *r;
	uint64_t drain_end = 0;

	if (ring_open(ring_path, 0, &r) != 0)
		_exit(10);
	if (ring_reader_open(r, group_names[gi], 0, &rd) != 0)
		_exit(11);
	for (;;) {
		struct timespec dl = crash_deadline_ms(200);
		int rc = ring_poll(rd, reader_handle, &ctx, 64, 0, &dl);

		if (rc == -EBADMSG) {
			reader_error(g, "EBADMSG", ring_reader_position(rd));
			ring_reader_skip(rd);
		} else if (rc < 0 && rc != -ETIMEDOUT && rc != -EAGAIN) {
			reader_error(g, ring_strerror(rc),
				     ring_reader_position(rd));
		}
		if (!__atomic_load_n(&sh->drain, __ATOMIC_ACQUIRE))
			continue;
		if (!drain_end)
			drain_end = crash_now_ns() + 20000000000ull;
		if (ring_reader_position(rd) >= sh->drain_tail)
			break;
		if (crash_now_ns() > drain_end)
			_exit(3);
	}
	ring_reader_close(rd);
	ring_close(r);
	_exit(0);
}

/* Starts producer process @id. */
static pid_t start_producer(uint32_t id)
{
	pid_t pid = crash_fork();

	if (pid == 0)
		producer(id);
	return pid;
}

/* Stops the producer in @pid (id @id): stalled in a claim first if @hold.
 * Returns 1 if it died as expected, 0 if it had exited by itself. */
static int kill_producer(pid_t pid, uint32_t id, int hold, uint64_t *rnd,
			 unsigned *holds)
{
	char why[64];
	int status;

	if (hold) {
		uint64_t end = crash_now_ns() + 10000000000ull;

		__atomic_store_n(&hold_request[id], 1, __ATOMIC_RELEASE);
		while (!__atomic_load_n(&holding[id], __ATOMIC_ACQUIRE) &&
		       crash_now_ns() < end)
			usleep(200);
		if (holding[id])
			(*holds)++;
	} else {
		usleep(crash_rand(rnd) % 20000);
	}
	status = crash_kill_wait(pid);
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		return 1;
	diag("producer %u ended by itself: %s", id,
	     crash_status_text(status, why, sizeof(why)));
	return 0;
}

/* Compares what group @gi received with the producers' logs. */
static void check_group(int gi, uint32_t producers)
{
	struct group_result *g = &sh->group[gi];
	unsigned missing = 0, extra = 0;
	uint32_t p;

	for (p = 0; p < producers; p++) {
		uint64_t got = next_seq[gi][p], want = logged[p];
		uint64_t slack = p % 3 == 2 ? BATCH_MAX : 1;

		if (got < want && missing++ < 3)
			diag("%s: producer %u: %llu delivered, %llu committed",
			     group_names[gi], p, (unsigned long long)got,
			     (unsigned long long)want);
		if (got > want + slack && extra++ < 3)
			diag("%s: producer %u: %llu delivered, only %llu sent",
			     group_names[gi], p, (unsigned long long)got,
			     (unsigned long long)want);
	}
	ok(missing == 0, "%s: every committed message was delivered",
	   group_names[gi]);
	ok(extra == 0, "%s: nothing beyond what was sent", group_names[gi]);
	if (g->errors)
		diag("%s: %llu errors, first: %s", group_names[gi],
		     (unsigned long long)g->errors, g->first_error);
	is(g->errors, 0, "%s: no corrupt, duplicate or out-of-order message "
	   "(%llu delivered)", group_names[gi],
	   (unsigned long long)g->delivered);
	diag("%s: longest gap between deliveries %.1f ms", group_names[gi],
	     g->max_gap_ns / 1e6);
	ok(g->max_gap_ns < 5000000000ull, "%s: the reader never stalled 5 s",
	   group_names[gi]);
}

int main(void)
{
	unsigned kills = crash_test_long() ? 5000 : 500;
	unsigned k, holds = 0, killed = 0, gi;
	pid_t prod[LIVE_PRODUCERS], rdr[GROUPS];
	uint32_t prod_id[LIVE_PRODUCERS], next_id = 0;
	struct ring_check_report rep;
	struct ring_config cfg;
	struct ring_stats st;
	uint64_t rnd = crash_seed(), t0 = crash_now_ns();
	struct ring *r;
	char why[64];
	int status, rc, i;

	plan(3 + 4 * GROUPS + 3);
	crash_ring_path(ring_path, sizeof(ring_path), "random-kill");
	crash_guard(crash_test_long() ? 1800 : 300, ring_path);
	unlink(ring_path);

	max_producers = kills + LIVE_PRODUCERS + 1;
	sh = crash_shared_alloc(sizeof(*sh));
	logged = crash_shared_alloc(max_producers * sizeof(*logged));
	hold_request = crash_shared_alloc(max_producers * sizeof(uint32_t));
	holding = crash_shared_alloc(max_producers * sizeof(uint32_t));
	for (gi = 0; gi < GROUPS; gi++)
		next_seq[gi] = crash_shared_alloc(max_producers * 8);
	if (!sh || !logged || !hold_request || !holding || !next_seq[0] ||
	    !next_seq[1])
		bail_out("shared memory");

	ring_config_init(&cfg);
	cfg.capacity = 64 * 1024;
	cfg.processes = 32;
	if (ring_create(ring_path, &cfg, 0, &r) != 0)
		bail_out("ring_create failed");
	for (gi = 0; gi < GROUPS; gi++)
		if (ring_group_create(r, group_names[gi], RING_FROM_OLDEST))
			bail_out("ring_group_create failed");
	for (gi = 0; gi < GROUPS; gi++) {
		rdr[gi] = crash_fork();
		if (rdr[gi] == 0)
			reader((int)gi);
	}
	for (i = 0; i < LIVE_PRODUCERS; i++) {
		prod_id[i] = next_id++;
		prod[i] = start_producer(prod_id[i]);
	}

	for (k = 0; k < kills; k++) {
		i = (int)(crash_rand(&rnd) % LIVE_PRODUCERS);
		killed += kill_producer(prod[i], prod_id[i],
					k % HOLD_EVERY == 0, &rnd, &holds);
		prod_id[i] = next_id++;
		prod[i] = start_producer(prod_id[i]);
	}
	diag("%u kills (%u inside a stalled claim) in %.1f s", kills, holds,
	     (crash_now_ns() - t0) / 1e9);
	is(killed, kills, "every producer was still running when killed");

	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < LIVE_PRODUCERS; i++) {
		crash_wait_exit(prod[i], 30000, &status);
		if (!crash_exited_ok(status))
			diag("last producer %u: %s", prod_id[i],
			     crash_status_text(status, why, sizeof(why)));
	}
	if (ring_stats(r, &st) != 0)
		bail_out("ring_stats failed");
	sh->drain_tail = st.tail;
	__atomic_store_n(&sh->drain, 1, __ATOMIC_RELEASE);
	for (gi = 0, rc = 1; gi < GROUPS; gi++) {
		crash_wait_exit(rdr[gi], 60000, &status);
		if (!crash_exited_ok(status)) {
			rc = 0;
			diag("reader of %s: %s", group_names[gi],
			     crash_status_text(status, why, sizeof(why)));
		}
	}
	ok(rc, "both readers drained the ring and exited normally");

	for (gi = 0; gi < GROUPS; gi++)
		check_group((int)gi, next_id);

	if (ring_stats(r, &st) != 0)
		bail_out("ring_stats failed");
	diag("recovered %llu claims, committed %llu",
	     (unsigned long long)st.recovered,
	     (unsigned long long)st.committed);
	ok(holds >= kills / HOLD_EVERY / 2, "most stall requests were honoured "
	   "(%u)", holds);
	ok(st.recovered >= holds, "every stalled claim was recovered");
	ok(st.recovered <= kills, "no claim was recovered twice");
	memset(&rep, 0, sizeof(rep));
	rc = ring_check(r, &rep);
	is(rc, 0, "ring_check finds the ring consistent");
	if (rc)
		diag("ring_check: %u problems, first: %s", rep.problems,
		     rep.first_problem);

	ring_close(r);
	ring_unlink(ring_path);
	return exit_status();
}

// SPDX-License-Identifier: MIT
/*
 * t_shared_stress.c - shared groups (issue 15) under load, with members
 * killed and stopped.
 *
 * Every member process writes what it does to a file of its own before it
 * releases anything: a TOOK record for each batch ring_peek_batch() gave
 * it (first position, end, count), written before it looks at a message,
 * then one HANDLED record per message (producer, sequence, position, and
 * whether the payload's checksum was right). The test process merges the
 * files afterwards.
 *
 *   a  4 members, 2 producers, RING_SHARED_MESSAGES (2,000,000; five times
 *      as many with RING_TEST_LONG=1) messages of 64 bytes through a 4 MiB
 *      ring (about 40 laps): every message handled exactly once,
 *      intact, positions ascending within every batch.
 *   b  the same with RING_SHARED_KILLS (100) members SIGKILLed at moments
 *      spread over the run, each replaced by a new member: every message
 *      at least once; duplicates only of positions that a killed member
 *      held when it died (the dead seats' stretches, read with
 *      ring_group_members() while the other members are stopped, or the
 *      last batch in the killed member's file), and no more of them than
 *      the killed members held.
 *   c  a member SIGSTOPped for 5 s holding a batch: it stays alive in
 *      ring_group_members() with its stretch, the cursor stays at the
 *      batch, the other members handle every message sent after the stop
 *      while it is stopped; after SIGCONT it releases its batch, nothing
 *      is delivered twice.
 *   d  an exclusive group beside the shared one on the same ring: its
 *      reader gets every message once, in order per producer; the shared
 *      group's members together get every message once.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ring.h"
#include "tap.h"
#include "lib/testutil.h"

#define MSG_LEN 64u
#define MAX_PRODUCERS 4
#define MAX_INSTANCES 512
#define MEMBERS 4
#define BATCH_MAX 64
#define STOP_MS 5000

enum { REC_TOOK = 1, REC_HANDLED = 2, REC_BAD = 0x100 };

/* A record of a member's file. TOOK: seq = count, [pos, end). HANDLED:
 * producer, seq, pos (kind has REC_BAD if the payload was wrong). */
struct rec {
	uint32_t kind;
	uint32_t producer;
	uint64_t seq;
	uint64_t pos;
	uint64_t end;
};

/* Shared by the test process and its children. */
struct shm {
	int stop;				/* members: exit when idle */
	int joined[MAX_INSTANCES];		/* member opened its reader */
	uint64_t handled[MAX_INSTANCES];	/* messages it released */
	uint64_t by_producer[MAX_INSTANCES][MAX_PRODUCERS];
	char error[MAX_INSTANCES][120];		/* a member's first error */
	uint64_t pcount[MAX_PRODUCERS];		/* messages per producer */
	char perror[MAX_PRODUCERS][120];
	/* c: instance stop_member raises SIGSTOP holding its first batch
	 * after stop_after messages, and publishes the batch here */
	int stop_member;
	uint64_t stop_after;
	int stop_done;
	uint64_t stop_from, stop_end, stop_n;
	/* d: the exclusive reader */
	uint64_t excl_count, excl_errors;
	char excl_error[120];
};

static struct shm *sh;
static char path[TU_PATH_MAX];
static char dir[TU_PATH_MAX];

/* ---- children ---- */

static void member_fail(unsigned inst, const char *what, int rc)
{
	if (!sh->error[inst][0])
		snprintf(sh->error[inst], sizeof(sh->error[inst]), "%s: %s",
			 what, ring_strerror(rc));
}

/* A member of "work": instance @arg; writes dir/m<inst>. */
static int member_main(void *arg)
{
	unsigned inst = (unsigned)(uintptr_t)arg;
	struct rec recs[BATCH_MAX];
	struct ring_msg msgs[BATCH_MAX];
	struct ring_reader *rd = NULL;
	struct ring *r = NULL;
	struct timespec dl;
	char fpath[TU_PATH_MAX + 16];
	uint64_t seed = 0x9e3779b97f4a7c15ull ^ ((uint64_t)getpid() << 16) ^ inst;
	uint64_t mine = 0;
	int fd, rc, n, k, max;

	snprintf(fpath, sizeof(fpath), "%s/m%03u", dir, inst);
	fd = open(fpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		member_fail(inst, "open file", -errno);
		return 2;
	}
	rc = ring_open(path, 0, &r);
	if (!rc)
		rc = ring_reader_open(r, "work", 0, &rd);
	if (rc) {
		member_fail(inst, "ring_reader_open", rc);
		return 2;
	}
	__atomic_store_n(&sh->joined[inst], 1, __ATOMIC_RELEASE);
	for (;;) {
		max = 1 + (int)(tu_rand(&seed) % BATCH_MAX);
		n = ring_peek_batch(rd, msgs, (unsigned)max, 0,
				    tu_deadline_ms(&dl, 20));
		if (n == -ETIMEDOUT) {
			if (__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE))
				break;
			continue;
		}
		if (n <= 0 || n > max) {
			member_fail(inst, "ring_peek_batch", n);
			return 3;
		}
		recs[0] = (struct rec){ .kind = REC_TOOK, .seq = (uint64_t)n,
					.pos = msgs[0].pos,
					.end = msgs[n - 1].pos +
					       msgs[n - 1].slots };
		if (tu_write_all(fd, recs, sizeof(recs[0]))) {
			member_fail(inst, "write", -errno);
			return 4;
		}
		if ((int)inst == sh->stop_member && !sh->stop_done &&
		    mine >= sh->stop_after) {
			sh->stop_from = recs[0].pos;
			sh->stop_end = recs[0].end;
			sh->stop_n = recs[0].seq;
			__atomic_store_n(&sh->stop_done, 1, __ATOMIC_RELEASE);
			raise(SIGSTOP);
		}
		for (k = 0; k < n; k++) {
			struct tu_msg h = { 0 };
			const struct ring_msg *m = &msgs[k];

			if (m->len >= sizeof(h))
				memcpy(&h, m->data, sizeof(h));
			recs[k] = (struct rec){ .kind = REC_HANDLED,
						.producer = h.producer,
						.seq = h.seq, .pos = m->pos };
			if (m->len != MSG_LEN || h.producer >= MAX_PRODUCERS ||
			    tu_msg_check(m->data, m->len, m->type, h.producer,
					 h.seq))
				recs[k].kind |= REC_BAD;
			else
				sh->by_producer[inst][h.producer]++;
		}
		if (tu_write_all(fd, recs, (size_t)n * sizeof(recs[0]))) {
			member_fail(inst, "write", -errno);
			return 4;
		}
		rc = ring_release_n(rd, (unsigned)n);
		if (rc) {
			member_fail(inst, "ring_release_n", rc);
			return 5;
		}
		mine += (uint64_t)n;
		__atomic_fetch_add(&sh->handled[inst], (uint64_t)n,
				   __ATOMIC_RELEASE);
	}
	ring_reader_close(rd);
	ring_close(r);
	close(fd);
	return 0;
}

/* A producer: sh->pcount[id] messages of MSG_LEN bytes, batches of 1..16. */
static int producer_main(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	uint8_t bufs[16][MSG_LEN];
	struct ring_out out[16];
	uint64_t seed = 0x1234567ull + id, seq = 0, count = sh->pcount[id];
	struct ring *r = NULL;
	struct timespec dl;
	unsigned k, n;
	int rc;

	rc = ring_open(path, 0, &r);
	if (rc) {
		snprintf(sh->perror[id], 120, "ring_open: %s", ring_strerror(rc));
		return 2;
	}
	while (seq < count) {
		n = 1 + (unsigned)(tu_rand(&seed) % 16);
		if (n > count - seq)
			n = (unsigned)(count - seq);
		for (k = 0; k < n; k++) {
			tu_msg_fill(bufs[k], MSG_LEN, id, seq + k);
			out[k] = (struct ring_out){ bufs[k], MSG_LEN,
						    tu_msg_type(id, seq + k) };
		}
		rc = ring_send_batch(r, out, n, RING_FULL_WAIT,
				     tu_deadline_ms(&dl, 60000));
		if (rc <= 0) {
			snprintf(sh->perror[id], 120, "ring_send_batch: %s",
				 ring_strerror(rc));
			return 3;
		}
		seq += (uint64_t)rc;
	}
	ring_close(r);
	return 0;
}

static int excl_handler(const struct ring_msg *m, void *arg)
{
	uint64_t *next = arg; /* [MAX_PRODUCERS] next seq, then last pos + 1 */
	uint32_t p = tu_msg_producer(m->type);
	const char *why = NULL;

	if (p >= MAX_PRODUCERS)
		why = "producer out of range";
	else if (next[MAX_PRODUCERS] && m->pos < next[MAX_PRODUCERS])
		why = "positions out of order";
	else
		why = tu_msg_check(m->data, m->len, m->type, p, next[p]);
	if (why) {
		if (!sh->excl_errors++)
			snprintf(sh->excl_error, sizeof(sh->excl_error),
				 "at %llu: %s", (unsigned long long)m->pos, why);
	} else {
		next[p]++;
	}
	next[MAX_PRODUCERS] = m->pos + 1;
	__atomic_fetch_add(&sh->excl_count, 1, __ATOMIC_RELEASE);
	return 0;
}

/* The reader of the exclusive group "all": every message, in order. */
static int excl_main(void *arg)
{
	uint64_t total = (uint64_t)(uintptr_t)arg, next[MAX_PRODUCERS + 1] = { 0 };
	struct ring_reader *rd = NULL;
	struct ring *r = NULL;
	struct timespec dl;
	int rc;

	rc = ring_open(path, 0, &r);
	if (!rc)
		rc = ring_reader_open(r, "all", 0, &rd);
	if (rc)
		return 2;
	while (__atomic_load_n(&sh->excl_count, __ATOMIC_ACQUIRE) < total) {
		rc = ring_poll(rd, excl_handler, next, 256, 0,
			       tu_deadline_ms(&dl, 30000));
		if (rc < 0)
			return 3;
	}
	ring_close(r);
	return 0;
}

/* ---- the test process ---- */

static struct ring *make_ring(const char *tag, uint64_t capacity, int excl)
{
	struct ring_config cfg;
	struct ring *r = NULL;

	ring_config_init(&cfg);
	cfg.capacity = capacity;
	cfg.max_message = 1024;
	cfg.groups = 4;
	if (ring_create(tu_ring_path(path, tag), &cfg, 0, &r))
		bail_out("cannot create the ring");
	if (ring_group_create(r, "work", RING_GROUP_SHARED |
					     RING_GROUP_MEMBERS(MEMBERS)))
		bail_out("cannot create the shared group");
	if (excl && ring_group_create(r, "all", 0))
		bail_out("cannot create the exclusive group");
	return r;
}

/* A fresh directory for the members' files; resets the shared state. */
static void new_run(const char *tag)
{
	memset(sh, 0, sizeof(*sh));
	sh->stop_member = -1;
	snprintf(dir, sizeof(dir), "/dev/shm/libring-t-%s-%d", tag,
		 (int)getpid());
	mkdir(dir, 0700);
}

static void remove_run(unsigned ninst)
{
	char f[TU_PATH_MAX + 16];
	unsigned i;

	for (i = 0; i < ninst; i++) {
		snprintf(f, sizeof(f), "%s/m%03u", dir, i);
		unlink(f);
	}
	rmdir(dir);
}

/* Messages released so far by all members. */
static uint64_t progress(unsigned ninst)
{
	uint64_t n = 0;
	unsigned i;

	for (i = 0; i < ninst; i++)
		n += __atomic_load_n(&sh->handled[i], __ATOMIC_ACQUIRE);
	return n;
}

/* Waits (up to @ms) until every producer has exited and the group has
 * released everything up to the tail; then tells the members to stop.
 * Returns 1 if it got there. */
static int drain(struct ring *r, pid_t *prod, int *pstatus, unsigned np,
		 long ms)
{
	uint64_t end = tu_now_ns() + (uint64_t)ms * 1000000ull;
	struct ring_group_stats gs;
	struct ring_stats st;
	unsigned i;
	int done = 0;

	for (i = 0; i < np; i++)
		pstatus[i] = tu_wait(prod[i], ms);
	while (tu_now_ns() < end) {
		if (ring_stats(r, &st) == 0 &&
		    ring_group_stats(r, "work", &gs) == 0 &&
		    gs.cursor == st.tail) {
			done = 1;
			break;
		}
		poll(NULL, 0, 1);
	}
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
	return done;
}

/* A stretch a killed member held. */
struct span {
	uint64_t from, end, held;
	pid_t pid;
};

struct check {
	uint64_t missing, dups, dup_outside, bad, structure, deliveries;
	uint64_t incomplete; /* killed members' last batches not all handled */
	char first[200];
};

/* The first problem found, with two numbers. */
#define check_note(c, fmt, a, b)                                              \
	do {                                                                  \
		if (!(c)->first[0])                                           \
			snprintf((c)->first, sizeof((c)->first), fmt,          \
				 (unsigned long long)(a),                     \
				 (unsigned long long)(b));                    \
	} while (0)

static int in_spans(const struct span *s, unsigned ns, uint64_t pos)
{
	unsigned i;

	for (i = 0; i < ns; i++)
		if (pos >= s[i].from && pos < s[i].end)
			return 1;
	return 0;
}

/*
 * Merges the files of instances [0, @ninst): @killed[i] says instance i was
 * SIGKILLed (its file may end inside a batch or a record; its last batch
 * is added to @spans). Fills @c.
 */
static void check_files(unsigned ninst, const int *killed, unsigned np,
			struct span *spans, unsigned *nspans, unsigned maxspans,
			struct check *c)
{
	uint8_t *count[MAX_PRODUCERS];
	uint64_t *posof[MAX_PRODUCERS];
	char f[TU_PATH_MAX + 16];
	unsigned i, p;
	uint64_t s;

	memset(c, 0, sizeof(*c));
	for (p = 0; p < np; p++) {
		count[p] = calloc(sh->pcount[p] + 1, 1);
		posof[p] = calloc(sh->pcount[p] + 1, sizeof(uint64_t));
		if (!count[p] || !posof[p])
			bail_out("out of memory");
	}
	for (i = 0; i < ninst; i++) {
		struct rec *recs, took = { 0 };
		uint64_t left = 0, prev = 0, nrec, j;
		struct stat stb;
		int fd;

		snprintf(f, sizeof(f), "%s/m%03u", dir, i);
		fd = open(f, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &stb)) {
			c->structure++;
			check_note(c, "instance %llu: no file%llu", i, 0);
			if (fd >= 0)
				close(fd);
			continue;
		}
		nrec = (uint64_t)stb.st_size / sizeof(struct rec);
		if ((uint64_t)stb.st_size % sizeof(struct rec) && !killed[i]) {
			c->structure++;
			check_note(c, "instance %llu: file of %llu bytes", i,
				   (unsigned long long)stb.st_size);
		}
		recs = nrec ? mmap(NULL, nrec * sizeof(struct rec), PROT_READ,
				   MAP_PRIVATE, fd, 0) : NULL;
		close(fd);
		if (recs == MAP_FAILED)
			bail_out("mmap of a member's file");
		for (j = 0; j < nrec; j++) {
			const struct rec *x = &recs[j];

			if (x->kind == REC_TOOK) {
				if (left) {
					c->structure++;
					check_note(c, "instance %llu: batch at "
						   "%llu cut short", i, took.pos);
				}
				took = *x;
				left = x->seq;
				prev = 0;
				if (!left || left > BATCH_MAX ||
				    x->end <= x->pos) {
					c->structure++;
					check_note(c, "instance %llu: bad batch "
						   "at %llu", i, x->pos);
				}
				continue;
			}
			if ((x->kind & ~(uint32_t)REC_BAD) != REC_HANDLED ||
			    !left) {
				c->structure++;
				check_note(c, "instance %llu: record %llu out "
					   "of place", i, j);
				continue;
			}
			left--;
			if (x->pos < took.pos || x->pos >= took.end ||
			    (prev && x->pos <= prev - 1)) {
				c->structure++;
				check_note(c, "instance %llu: position %llu "
					   "outside its batch or out of order",
					   i, x->pos);
			}
			prev = x->pos + 1;
			if ((x->kind & REC_BAD) || x->producer >= np ||
			    x->seq >= sh->pcount[x->producer]) {
				c->bad++;
				check_note(c, "instance %llu: bad payload at "
					   "%llu", i, x->pos);
				continue;
			}
			c->deliveries++;
			s = x->seq;
			if (count[x->producer][s] == 0)
				posof[x->producer][s] = x->pos;
			else if (posof[x->producer][s] != x->pos) {
				c->structure++;
				check_note(c, "message at %llu also at %llu",
					   posof[x->producer][s], x->pos);
			}
			if (count[x->producer][s] < 255)
				count[x->producer][s]++;
		}
		if (left) {
			if (!killed[i]) {
				c->structure++;
				check_note(c, "instance %llu: last batch at "
					   "%llu cut short", i, took.pos);
			} else {
				c->incomplete++;
			}
		}
		if (killed[i] && took.kind && *nspans < maxspans)
			spans[(*nspans)++] = (struct span){ took.pos, took.end,
							    0, 0 };
		if (recs)
			munmap(recs, nrec * sizeof(struct rec));
	}
	for (p = 0; p < np; p++) {
		for (s = 0; s < sh->pcount[p]; s++) {
			if (count[p][s] == 0) {
				if (!c->missing++)
					check_note(c, "producer %llu seq %llu "
						   "never handled", p, s);
			} else if (count[p][s] > 1) {
				c->dups += count[p][s] - 1u;
				if (!in_spans(spans, *nspans, posof[p][s])) {
					if (!c->dup_outside++)
						check_note(c, "duplicate at %llu "
							   "(producer %llu) not "
							   "held by a killed "
							   "member",
							   posof[p][s], p);
				}
			}
		}
		free(count[p]);
		free(posof[p]);
	}
}

/* Starts producers 0..np-1 with @per messages each (sh->pcount). */
static void start_producers(pid_t *prod, unsigned first, unsigned np)
{
	unsigned i;

	for (i = first; i < first + np; i++)
		prod[i] = tu_fork(producer_main, (void *)(uintptr_t)i);
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : dflt;
}

static int all_zero(const int *st, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (st[i] != 0)
			return 0;
	return 1;
}

static void diag_errors(unsigned ninst, unsigned np)
{
	unsigned i;

	for (i = 0; i < ninst; i++)
		if (sh->error[i][0])
			diag("member %u: %s", i, sh->error[i]);
	for (i = 0; i < np; i++)
		if (sh->perror[i][0])
			diag("producer %u: %s", i, sh->perror[i]);
}

/* ---- a: nobody dies ---- */

static void test_plain(uint64_t total)
{
	int pst[2], mst[MEMBERS], killed[MEMBERS] = { 0 };
	pid_t prod[2], mem[MEMBERS];
	struct ring_group_stats gs;
	struct span spans[1];
	unsigned i, nspans = 0;
	struct check c;
	struct ring *r;
	uint64_t t0 = tu_now_ns();
	int drained;

	new_run("shs-a");
	r = make_ring("shs-a", 4 << 20, 0);
	sh->pcount[0] = total / 2;
	sh->pcount[1] = total - total / 2;
	for (i = 0; i < MEMBERS; i++)
		mem[i] = tu_fork(member_main, (void *)(uintptr_t)i);
	start_producers(prod, 0, 2);
	drained = drain(r, prod, pst, 2, 120000);
	for (i = 0; i < MEMBERS; i++)
		mst[i] = tu_wait(mem[i], 20000);
	diag_errors(MEMBERS, 2);
	ok(all_zero(pst, 2), "a: 2 producers sent %llu messages",
	   (unsigned long long)total);
	ok(drained, "a: the group's cursor reached the tail");
	ok(all_zero(mst, MEMBERS), "a: %d members exited cleanly", MEMBERS);
	check_files(MEMBERS, killed, 2, spans, &nspans, 0, &c);
	if (c.first[0])
		diag("a: %s", c.first);
	ok(c.missing == 0 && c.dups == 0 && c.deliveries == total,
	   "a: every message handled exactly once (%llu deliveries, %llu "
	   "missing, %llu twice)", (unsigned long long)c.deliveries,
	   (unsigned long long)c.missing, (unsigned long long)c.dups);
	is(c.bad, 0, "a: every payload's checksum right");
	is(c.structure, 0, "a: within every batch positions ascend");
	ring_group_stats(r, "work", &gs);
	is(gs.released, total, "a: the group released %llu",
	   (unsigned long long)total);
	for (i = 0; i < MEMBERS; i++)
		diag("a: member %u handled %llu", i,
		     (unsigned long long)sh->handled[i]);
	diag("a: %.2f s", (double)(tu_now_ns() - t0) / 1e9);
	ring_close(r);
	remove_run(MEMBERS);
}

/* ---- b: members killed ---- */

static int stop_and_wait(pid_t pid)
{
	int status;

	if (kill(pid, SIGSTOP))
		return -1;
	if (waitpid(pid, &status, WUNTRACED) != pid)
		return -1;
	return WIFSTOPPED(status) ? 0 : -1;
}

static void test_kills(uint64_t total, unsigned kills)
{
	static struct span spans[4 * MAX_INSTANCES];
	static int killed[MAX_INSTANCES];
	struct ring_member_info info[RING_MEMBERS_MAX];
	unsigned slot_inst[MEMBERS], ninst = 0, nspans = 0, done = 0, i, j;
	int pst[2], mst, bad_status = 0, clean = 1, stopfail = 0, drained;
	uint64_t seed = tu_now_ns() | 1, held_total = 0, t0 = tu_now_ns();
	uint64_t deadline;
	pid_t prod[2], pid_of[MAX_INSTANCES];
	struct check c;
	struct ring *r;

	if (kills + MEMBERS > MAX_INSTANCES)
		kills = MAX_INSTANCES - MEMBERS;
	memset(killed, 0, sizeof(killed));
	new_run("shs-b");
	r = make_ring("shs-b", 4 << 20, 0);
	sh->pcount[0] = total / 2;
	sh->pcount[1] = total - total / 2;
	for (i = 0; i < MEMBERS; i++) {
		slot_inst[i] = ninst;
		pid_of[ninst] = tu_fork(member_main, (void *)(uintptr_t)ninst);
		ninst++;
	}
	start_producers(prod, 0, 2);
	deadline = tu_now_ns() + 120000000000ull;
	while (done < kills && tu_now_ns() < deadline) {
		uint64_t want = total * (done + 1) / (kills + 1);
		unsigned v, spin, n;
		int status;

		if (progress(ninst) < want) {
			poll(NULL, 0, 1);
			continue;
		}
		/* Every current member has joined (none holds the join
		 * lock while the others are stopped). */
		for (i = 0; i < MEMBERS; i++)
			if (!__atomic_load_n(&sh->joined[slot_inst[i]],
					     __ATOMIC_ACQUIRE))
				break;
		if (i < MEMBERS) {
			poll(NULL, 0, 1);
			continue;
		}
		/* a random moment: up to ~200 us more */
		spin = (unsigned)(tu_rand(&seed) % 200);
		{
			uint64_t until = tu_now_ns() + spin * 1000ull;

			while (tu_now_ns() < until)
				;
		}
		v = (unsigned)(tu_rand(&seed) % MEMBERS);
		for (i = 0; i < MEMBERS; i++)
			if (i != v && stop_and_wait(pid_of[slot_inst[i]]))
				stopfail++;
		kill(pid_of[slot_inst[v]], SIGKILL);
		if (waitpid(pid_of[slot_inst[v]], &status, 0) !=
			    pid_of[slot_inst[v]] ||
		    !WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
			bad_status++;
		killed[slot_inst[v]] = 1;
		/* the dead seats' stretches, nobody able to take them now */
		n = (unsigned)ring_group_members(r, "work", info,
						 RING_MEMBERS_MAX, NULL);
		for (i = 0; i < n && i < RING_MEMBERS_MAX; i++) {
			if (info[i].alive || !info[i].held)
				continue;
			for (j = 0; j < nspans; j++)
				if (spans[j].from == info[i].held_from &&
				    spans[j].end == info[i].held_to &&
				    spans[j].pid == info[i].pid)
					break;
			if (j < nspans || nspans >= 3 * MAX_INSTANCES)
				continue;
			spans[nspans++] = (struct span){ info[i].held_from,
							 info[i].held_to,
							 info[i].held,
							 info[i].pid };
			held_total += info[i].held;
		}
		for (i = 0; i < MEMBERS; i++)
			if (i != v)
				kill(pid_of[slot_inst[i]], SIGCONT);
		slot_inst[v] = ninst;
		pid_of[ninst] = tu_fork(member_main, (void *)(uintptr_t)ninst);
		ninst++;
		done++;
	}
	drained = drain(r, prod, pst, 2, 120000);
	for (i = 0; i < MEMBERS; i++) {
		mst = tu_wait(pid_of[slot_inst[i]], 20000);
		if (mst != 0)
			clean = 0;
	}
	diag_errors(ninst, 2);
	ok(all_zero(pst, 2), "b: 2 producers sent %llu messages",
	   (unsigned long long)total);
	is(done, kills, "b: %u members SIGKILLed at moments spread over the "
	   "run, each replaced", kills);
	ok(bad_status == 0 && stopfail == 0,
	   "b: each victim was alive until killed; the others stopped for "
	   "the look at the seats");
	ok(drained, "b: the group's cursor reached the tail");
	ok(clean, "b: the last %d members exited cleanly", MEMBERS);
	check_files(ninst, killed, 2, spans, &nspans, 4 * MAX_INSTANCES, &c);
	if (c.first[0])
		diag("b: %s", c.first);
	is(c.missing, 0, "b: every message handled at least once");
	is(c.bad, 0, "b: every payload's checksum right");
	is(c.structure, 0, "b: within every batch positions ascend");
	diag("b: %llu duplicates; the killed members held %llu messages at "
	     "death; %llu killed inside a batch", (unsigned long long)c.dups,
	     (unsigned long long)held_total,
	     (unsigned long long)c.incomplete);
	is(c.dup_outside, 0, "b: duplicates only of messages a killed member "
	   "held");
	ok(c.dups <= held_total, "b: no more duplicates (%llu) than the killed "
	   "members held (%llu)", (unsigned long long)c.dups,
	   (unsigned long long)held_total);
	diag("b: %.2f s, %u member processes", (double)(tu_now_ns() - t0) / 1e9,
	     ninst);
	ring_close(r);
	remove_run(ninst);
}

/* ---- c: a member stopped ---- */

#define C_PHASE1 100000u
#define C_PHASE2 50000u

static void test_stopped(void)
{
	int pst[4], mst[MEMBERS], killed[MEMBERS] = { 0 }, status, drained;
	struct ring_member_info info[RING_MEMBERS_MAX];
	const struct ring_member_info *seat = NULL;
	pid_t prod[4], mem[MEMBERS];
	struct ring_group_stats gs;
	struct span spans[1];
	unsigned i, nspans = 0, n;
	uint64_t t_stop, after = 0, end;
	int stopped = 0, seat_ok = 0, seat_ok2 = 0, got_all = 0;
	struct check c;
	struct ring *r;

	new_run("shs-c");
	r = make_ring("shs-c", 16 << 20, 0);
	sh->pcount[0] = C_PHASE1 / 2;
	sh->pcount[1] = C_PHASE1 / 2;
	sh->pcount[2] = C_PHASE2 / 2;
	sh->pcount[3] = C_PHASE2 / 2;
	sh->stop_member = 0;
	sh->stop_after = 100;
	for (i = 0; i < MEMBERS; i++)
		mem[i] = tu_fork(member_main, (void *)(uintptr_t)i);
	start_producers(prod, 0, 2);
	if (waitpid(mem[0], &status, WUNTRACED) == mem[0] &&
	    WIFSTOPPED(status))
		stopped = 1;
	t_stop = tu_now_ns();
	ok(stopped && sh->stop_done, "c: member 1 stopped (SIGSTOP) holding a "
	   "batch of %llu", (unsigned long long)sh->stop_n);
	start_producers(prod, 2, 2);
	n = (unsigned)ring_group_members(r, "work", info, RING_MEMBERS_MAX,
					 NULL);
	for (i = 0; i < n && i < RING_MEMBERS_MAX; i++)
		if (info[i].pid == mem[0])
			seat = &info[i];
	seat_ok = seat && seat->alive == 1 && seat->held_from == sh->stop_from &&
		  seat->held_to == sh->stop_end && seat->held == sh->stop_n;
	ok(seat_ok, "c: ring_group_members: its seat alive, holding its batch");
	/* The others handle the second phase while it is stopped. */
	end = t_stop + STOP_MS * 1000000ull;
	while (tu_now_ns() < end) {
		after = 0;
		for (i = 1; i < MEMBERS; i++)
			after += __atomic_load_n(&sh->by_producer[i][2],
						 __ATOMIC_ACQUIRE) +
				 __atomic_load_n(&sh->by_producer[i][3],
						 __ATOMIC_ACQUIRE);
		if (after == C_PHASE2) {
			got_all = 1;
			break;
		}
		poll(NULL, 0, 5);
	}
	ok(got_all, "c: the other members handled all %u messages sent after "
	   "the stop while it was stopped (%llu)", C_PHASE2,
	   (unsigned long long)after);
	ring_group_stats(r, "work", &gs);
	is(gs.cursor, sh->stop_from, "c: the cursor stays at its batch");
	while (tu_now_ns() < end)
		poll(NULL, 0, 50);
	seat = NULL;
	n = (unsigned)ring_group_members(r, "work", info, RING_MEMBERS_MAX,
					 NULL);
	for (i = 0; i < n && i < RING_MEMBERS_MAX; i++)
		if (info[i].pid == mem[0])
			seat = &info[i];
	seat_ok2 = seat && seat->alive == 1 && seat->held_from == sh->stop_from &&
		   seat->held == sh->stop_n;
	ok(seat_ok2, "c: after %d s still alive and holding it (not taken "
	   "over)", STOP_MS / 1000);
	kill(mem[0], SIGCONT);
	drained = drain(r, prod, pst, 4, 60000);
	for (i = 0; i < MEMBERS; i++)
		mst[i] = tu_wait(mem[i], 20000);
	diag_errors(MEMBERS, 4);
	ok(all_zero(pst, 4) && drained, "c: all sent; the cursor reached the "
	   "tail after SIGCONT");
	is(mst[0], 0, "c: the stopped member released its batch and exited "
	   "cleanly");
	ok(all_zero(mst, MEMBERS), "c: all members exited cleanly");
	check_files(MEMBERS, killed, 4, spans, &nspans, 0, &c);
	if (c.first[0])
		diag("c: %s", c.first);
	ok(c.missing == 0 && c.dups == 0 && c.bad == 0 && c.structure == 0 &&
		   c.deliveries == C_PHASE1 + C_PHASE2,
	   "c: every message handled exactly once, intact (%llu deliveries, "
	   "%llu twice)", (unsigned long long)c.deliveries,
	   (unsigned long long)c.dups);
	ring_close(r);
	remove_run(MEMBERS);
}

/* ---- d: an exclusive group beside ---- */

static void test_mixed(uint64_t total)
{
	int pst[2], mst[3], killed[3] = { 0 }, est, drained;
	pid_t prod[2], mem[3], excl;
	struct span spans[1];
	unsigned i, nspans = 0;
	struct check c;
	struct ring *r;
	uint64_t t0 = tu_now_ns();

	new_run("shs-d");
	r = make_ring("shs-d", 4 << 20, 1);
	sh->pcount[0] = total / 2;
	sh->pcount[1] = total - total / 2;
	excl = tu_fork(excl_main, (void *)(uintptr_t)total);
	for (i = 0; i < 3; i++)
		mem[i] = tu_fork(member_main, (void *)(uintptr_t)i);
	start_producers(prod, 0, 2);
	drained = drain(r, prod, pst, 2, 120000);
	est = tu_wait(excl, 60000);
	for (i = 0; i < 3; i++)
		mst[i] = tu_wait(mem[i], 20000);
	diag_errors(3, 2);
	ok(all_zero(pst, 2) && drained, "d: %llu sent, the shared group "
	   "drained", (unsigned long long)total);
	if (sh->excl_errors)
		diag("d: exclusive reader: %s", sh->excl_error);
	ok(est == 0 && sh->excl_count == total && sh->excl_errors == 0,
	   "d: the exclusive reader got every message once, in order "
	   "(%llu, %llu wrong)", (unsigned long long)sh->excl_count,
	   (unsigned long long)sh->excl_errors);
	ok(all_zero(mst, 3), "d: 3 shared members exited cleanly");
	check_files(3, killed, 2, spans, &nspans, 0, &c);
	if (c.first[0])
		diag("d: %s", c.first);
	ok(c.missing == 0 && c.dups == 0 && c.bad == 0 && c.structure == 0 &&
		   c.deliveries == total,
	   "d: the shared members together got every message once (%llu)",
	   (unsigned long long)c.deliveries);
	diag("d: %.2f s", (double)(tu_now_ns() - t0) / 1e9);
	ring_close(r);
	remove_run(3);
}

int main(void)
{
	uint64_t total = env_u64("RING_SHARED_MESSAGES", 2000000);
	unsigned kills = (unsigned)env_u64("RING_SHARED_KILLS", 100);

	if (tu_long_run())
		total *= 5;
	plan(7 + 10 + 9 + 4);
	tu_guard(600);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		bail_out("mmap");
	diag("%llu messages, %u kills (RING_SHARED_MESSAGES, "
	     "RING_SHARED_KILLS)", (unsigned long long)total, kills);
	test_plain(total);
	test_kills(total, kills);
	test_stopped();
	test_mixed(total / 4);
	tu_cleanup_rings();
	return exit_status();
}

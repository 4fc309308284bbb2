/* SPDX-License-Identifier: MIT */
/*
 * t_corrupt_live - random bytes written into a live ring (hot words, group
 * and process tables, commit words, headers, payloads: everything but the
 * superblock, which is validated only at open) while a reader and a
 * producer process run: they only ever get messages or clean errors, never
 * crash (built with SANITIZE=address they run under AddressSanitizer), and
 * no call overruns its deadline. An observer process reads the same ring
 * meanwhile (copies and zero-copy views): it too gets only messages or
 * clean errors. A corrupt superblock makes ring_open fail
 * with a specific error. ring_check finds planted problems and ring_repair
 * makes ring_check pass, also after the random corruption.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ring.h"
#include "tap.h"
#include "lib/crashutil.h"
#include "../libring/src/layout.h"

#define CALL_MS 100u		/* deadline of every waiting call */
#define LATE_NS 2000000000ull	/* a call this late past its deadline hangs */
#define MSG_LEN 48u

/* What the children saw, in shared memory. */
struct shared {
	int stop;
	uint64_t messages, badmsg, other_errors, calls;
	uint64_t max_late_ns;	/* worst overrun of a deadline */
	int first_other;	/* first unexpected error code */
	uint64_t sent, send_errors;
	int first_send_error;
	int started;		/* children that opened the ring */
	uint64_t payload_sum;	/* of every byte the reader received */
	uint64_t obs_messages, obs_overruns, obs_badmsg, obs_other;
	int obs_first_other;	/* first unexpected error of the observer */
};

static char ring_path[128];
static struct shared *sh;

/* Notes how long past @deadline_ns a call returned. */
static void note_lateness(uint64_t deadline_ns)
{
	uint64_t now = crash_now_ns();

	sh->calls++;
	if (now > deadline_ns && now - deadline_ns > sh->max_late_ns)
		sh->max_late_ns = now - deadline_ns;
}

/* Reader process: peeks with deadlines, touches every payload byte,
 * skips what is reported corrupt. Exits 0 unless it could not start. */
static void reader(void)
{
	struct ring_reader *rd;
	struct ring *r;
	uint64_t sum = 0;

	alarm(120);
	if (ring_open(ring_path, 0, &r) != 0)
		_exit(10);
	ring_set_recovery_ms(r, 20);
	if (ring_reader_open(r, "g", 0, &rd) != 0)
		_exit(11);
	__atomic_add_fetch(&sh->started, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
		struct timespec dl = crash_deadline_ms(CALL_MS);
		uint64_t dl_ns = crash_now_ns() + CALL_MS * 1000000ull;
		const uint8_t *p;
		struct ring_msg m;
		uint32_t i;
		int rc = ring_peek(rd, &m, 0, &dl);

		note_lateness(dl_ns);
		if (rc == 0) {
			for (p = m.data, i = 0; i < m.len; i++)
				sum += p[i];
			sh->messages++;
			ring_release(rd);
		} else if (rc == -EBADMSG) {
			sh->badmsg++;
			ring_reader_skip(rd);
			note_lateness(dl_ns);
		} else if (rc != -ETIMEDOUT && rc != -EAGAIN) {
			if (!sh->other_errors++)
				sh->first_other = rc;
		}
	}
	ring_reader_close(rd);
	ring_close(r);
	sh->payload_sum = sum; /* the payload reads are not optimised away */
	_exit(0);
}

/* Observer process: copies and views with deadlines, touching every
 * payload byte. Exits 0 unless it could not start. */
static void observer(void)
{
	static uint8_t buf[64 * 1024];
	struct ring_observer *o;
	uint64_t sum = 0, n = 0;

	alarm(120);
	if (ring_observer_open(ring_path, 0, &o) != 0)
		_exit(10);
	ring_set_recovery_ms(ring_observer_ring(o), 20);
	ring_observer_set_poll(o, 200);
	__atomic_add_fetch(&sh->started, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
		struct timespec dl = crash_deadline_ms(CALL_MS);
		uint64_t dl_ns = crash_now_ns() + CALL_MS * 1000000ull;
		struct ring_msg m;
		int rc;

		if (n++ & 1) {
			rc = ring_observer_copy(o, &m, buf, sizeof(buf), 0, &dl);
		} else {
			rc = ring_observer_peek(o, &m, 0, &dl);
			if (rc == 0) {
				const volatile uint8_t *p = m.data;

				for (uint32_t i = 0; i < m.len; i++)
					sum += p[i];
				rc = ring_observer_release(o);
			}
		}
		note_lateness(dl_ns);
		if (rc == 0)
			sh->obs_messages++;
		else if (rc == -EOVERFLOW)
			sh->obs_overruns++;
		else if (rc == -EBADMSG)
			sh->obs_badmsg++;
		else if (rc != -ETIMEDOUT && !sh->obs_other++)
			sh->obs_first_other = rc;
	}
	ring_observer_close(o);
	sh->payload_sum += sum;
	_exit(0);
}

/* Producer process: sends with deadlines until told to stop. */
static void producer(void)
{
	uint8_t buf[MSG_LEN];
	struct ring *r;
	uint64_t seq = 0;

	alarm(120);
	if (ring_open(ring_path, 0, &r) != 0)
		_exit(10);
	__atomic_add_fetch(&sh->started, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
		struct timespec dl = crash_deadline_ms(CALL_MS);
		uint64_t dl_ns = crash_now_ns() + CALL_MS * 1000000ull;
		int rc;

		crash_fill_payload(buf, sizeof(buf), 1, seq++);
		rc = ring_send(r, 0, buf, sizeof(buf), 0, &dl);
		note_lateness(dl_ns);
		if (rc == 0)
			sh->sent++;
		else if (!sh->send_errors++)
			sh->first_send_error = rc;
	}
	ring_close(r);
	_exit(0);
}

/* The writable areas of a mapped ring file, from its superblock. */
struct areas {
	uint8_t *base;
	size_t size;
	uint64_t off[5], len[5];
};

/* Maps @path read-write and finds its areas. Returns 0 or -1. */
static int map_areas(const char *path, struct areas *a)
{
	const struct rl_super *sb;
	struct stat st;
	int fd = open(path, O_RDWR);

	if (fd < 0 || fstat(fd, &st) != 0)
		return -1;
	a->size = (size_t)st.st_size;
	a->base = mmap(NULL, a->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		       0);
	close(fd);
	if (a->base == MAP_FAILED)
		return -1;
	sb = (const struct rl_super *)a->base;
	a->off[0] = sb->hot_off;
	a->off[1] = sb->group_off;
	a->off[2] = sb->proc_off;
	a->off[3] = sb->commit_off;
	a->off[4] = sb->slots_off;
	a->len[0] = sizeof(struct rl_hot);
	a->len[1] = (uint64_t)sb->groups * sizeof(struct rl_group);
	a->len[2] = (uint64_t)sb->procs * sizeof(struct rl_proc);
	a->len[3] = sb->slot_count * 8;
	a->len[4] = sb->slot_count * sb->slot_size;
	return 0;
}

/* Writes 1..8 random bytes at a random offset of a random area. */
static void corrupt_once(struct areas *a, uint64_t *rnd)
{
	unsigned area = crash_rand(rnd) % 5;
	unsigned n = 1 + crash_rand(rnd) % 8, i;
	uint64_t off = a->off[area] + crash_rand(rnd) % (a->len[area] - 8);
	uint64_t v = crash_rand(rnd);

	if (crash_rand(rnd) % 4 == 0) /* often: a plausible small value */
		v %= 4096;
	for (i = 0; i < n; i++)
		a->base[off + i] = (uint8_t)(v >> (8 * (i % 8)));
}

/* Live phase: a reader and a producer run while bytes are corrupted. */
static void test_live(struct ring *r, uint64_t *rnd, unsigned seconds)
{
	struct ring_check_report rep;
	struct areas a;
	pid_t rd_pid, pr_pid, ob_pid;
	uint64_t end, writes = 0;
	char why[64];
	int status, rc;

	if (map_areas(ring_path, &a) != 0)
		bail_out("cannot map the ring file");
	rd_pid = crash_fork();
	if (rd_pid == 0)
		reader();
	pr_pid = crash_fork();
	if (pr_pid == 0)
		producer();
	ob_pid = crash_fork();
	if (ob_pid == 0)
		observer();

	/* Corrupt only once both are attached and a message went through:
	 * the group must be intact when the reader opens it. */
	end = crash_now_ns() + 10000000000ull;
	while ((__atomic_load_n(&sh->started, __ATOMIC_ACQUIRE) < 3 ||
		!__atomic_load_n(&sh->messages, __ATOMIC_ACQUIRE)) &&
	       crash_now_ns() < end)
		usleep(1000);
	end = crash_now_ns() + seconds * 1000000000ull;
	while (crash_now_ns() < end) {
		corrupt_once(&a, rnd);
		writes++;
		usleep(500);
	}
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
	crash_wait_exit(rd_pid, 20000, &status);
	ok(crash_exited_ok(status), "the reader exited normally (%s)",
	   crash_status_text(status, why, sizeof(why)));
	crash_wait_exit(pr_pid, 20000, &status);
	ok(crash_exited_ok(status), "the producer exited normally (%s)",
	   crash_status_text(status, why, sizeof(why)));
	crash_wait_exit(ob_pid, 20000, &status);
	ok(crash_exited_ok(status), "the observer exited normally (%s)",
	   crash_status_text(status, why, sizeof(why)));
	diag("observer: %llu messages, %llu overruns, %llu EBADMSG, %llu other "
	     "errors (first %d)", (unsigned long long)sh->obs_messages,
	     (unsigned long long)sh->obs_overruns,
	     (unsigned long long)sh->obs_badmsg,
	     (unsigned long long)sh->obs_other, sh->obs_first_other);
	ok(sh->obs_messages > 0 && sh->obs_other == 0,
	   "the observer got messages and only the errors of a damaged ring "
	   "(%llu other)", (unsigned long long)sh->obs_other);
	diag("%llu corrupting writes; reader: %llu messages, %llu EBADMSG, "
	     "%llu other errors (first %d); producer: %llu sent, %llu failed "
	     "(first %d)",
	     (unsigned long long)writes, (unsigned long long)sh->messages,
	     (unsigned long long)sh->badmsg,
	     (unsigned long long)sh->other_errors, sh->first_other,
	     (unsigned long long)sh->sent,
	     (unsigned long long)sh->send_errors, sh->first_send_error);
	diag("worst overrun of a deadline: %.1f ms over %llu calls",
	     sh->max_late_ns / 1e6, (unsigned long long)sh->calls);
	ok(sh->max_late_ns < LATE_NS, "no call overran its deadline by 2 s");

	/* Superblock: corrupt it on the live file, open again, restore. */
	a.base[20] ^= 0x5a;
	{
		struct ring *r2 = NULL;

		rc = ring_open(ring_path, 0, &r2);
		is(rc, -EUCLEAN, "a live ring whose superblock changed does not "
		   "open: -EUCLEAN");
		if (rc == 0)
			ring_close(r2);
	}
	a.base[20] ^= 0x5a;

	memset(&rep, 0, sizeof(rep));
	rc = ring_repair(r, &rep);
	is(rc, 0, "ring_repair succeeds after the random corruption");
	diag("repair: %u problems, %u repaired, %llu slots dropped, first: %s",
	     rep.problems, rep.repaired,
	     (unsigned long long)rep.dropped_slots, rep.first_problem);
	memset(&rep, 0, sizeof(rep));
	rc = ring_check(r, &rep);
	is(rc, 0, "then ring_check passes");
	if (rc)
		diag("check: %u problems, first: %s", rep.problems,
		     rep.first_problem);
	munmap(a.base, a.size);
}

/* Superblock phase: one changed byte anywhere in the checked fields makes
 * ring_open fail; a changed size too. */
static void test_superblock(uint64_t *rnd)
{
	unsigned trials = crash_test_long() ? 2000 : 300, t, opened = 0;
	unsigned bad_magic = 0;
	uint8_t saved[sizeof(struct rl_super)];
	struct ring *r2;
	struct areas a;
	struct stat st;
	int rc, fd;

	if (map_areas(ring_path, &a) != 0)
		bail_out("cannot map the ring file");
	memcpy(saved, a.base, sizeof(saved));
	for (t = 0; t < trials; t++) {
		unsigned off = crash_rand(rnd) % sizeof(saved);
		uint8_t x = (uint8_t)(1 + crash_rand(rnd) % 255);

		a.base[off] ^= x;
		rc = ring_open(ring_path, 0, &r2);
		if (rc == 0) {
			opened++;
			ring_close(r2);
		} else if (off < 8 && rc != -ENOEXEC && rc != -EINPROGRESS) {
			bad_magic++;
		}
		memcpy(a.base, saved, sizeof(saved));
	}
	is(opened, 0, "%u single-byte superblock corruptions: none opens",
	   trials);
	is(bad_magic, 0, "a wrong magic gives -ENOEXEC");
	rc = ring_open(ring_path, 0, &r2);
	is(rc, 0, "the restored superblock opens");
	if (rc == 0)
		ring_close(r2);

	fd = open(ring_path, O_RDWR);
	if (fd < 0 || fstat(fd, &st) != 0 ||
	    ftruncate(fd, st.st_size - 4096) != 0)
		bail_out("truncate");
	is(ring_open(ring_path, 0, &r2), -ENODATA, "a truncated ring: -ENODATA");
	if (ftruncate(fd, st.st_size) != 0)
		bail_out("truncate");
	close(fd);
	munmap(a.base, a.size);
}

/* Finds group @name in the group table of @a. */
static struct rl_group *find_group(struct areas *a, const char *name)
{
	const struct rl_super *sb = (const struct rl_super *)a->base;
	struct rl_group *g = (struct rl_group *)(a->base + sb->group_off);
	uint32_t i;

	for (i = 0; i < sb->groups; i++)
		if (g[i].state == RL_GROUP_ACTIVE &&
		    strncmp(g[i].name, name, sizeof(g[i].name)) == 0)
			return &g[i];
	return NULL;
}

/* Planted problems: a hostile length, a wrong commit word, a cursor ahead
 * of the tail are found by ring_check, handled by a reader, fixed by
 * ring_repair. */
static void test_planted(void)
{
	uint64_t pos[10];
	struct ring_check_report rep;
	struct ring_reader *rd;
	struct ring_config cfg;
	struct ring_stats st;
	struct rl_msg_hdr *h;
	struct rl_group *g;
	struct ring_msg m;
	struct areas a;
	struct ring *r;
	uint8_t buf[MSG_LEN];
	unsigned i, got = 0, bad = 0;
	int rc;

	unlink(ring_path);
	ring_config_init(&cfg);
	cfg.capacity = 64 * 1024;
	if (ring_create(ring_path, &cfg, 0, &r) != 0 ||
	    ring_group_create(r, "keep", RING_FROM_OLDEST) != 0 ||
	    ring_reader_open(r, "scan", RING_GROUP_CREATE, &rd) != 0)
		bail_out("planted: setup");
	for (i = 0; i < 10; i++) {
		crash_fill_payload(buf, sizeof(buf), 9, i);
		if (ring_send(r, 0, buf, sizeof(buf), 0, NULL) != 0 ||
		    ring_peek(rd, &m, RING_NONBLOCK, NULL) != 0)
			bail_out("planted: send");
		pos[i] = m.pos;
		ring_release(rd);
	}
	ring_reader_close(rd);
	ring_group_remove(r, "scan");
	memset(&rep, 0, sizeof(rep));
	is(ring_check(r, &rep), 0, "planted: the clean ring passes ring_check");

	if (map_areas(ring_path, &a) != 0)
		bail_out("planted: map");
	h = (struct rl_msg_hdr *)(a.base + a.off[4] +
				  (pos[3] % (a.len[4] / cfg.slot_size)) *
					  cfg.slot_size);
	h->len = 0xfffffff0u;
	memset(&rep, 0, sizeof(rep));
	rc = ring_check(r, &rep);
	ok(rc == -EUCLEAN && rep.problems >= 1,
	   "planted: a hostile length is reported (%d, %u: %s)", rc,
	   rep.problems, rep.first_problem);

	if (ring_reader_open(r, "keep", 0, &rd) != 0)
		bail_out("planted: reader");
	for (i = 0; i < 20; i++) {
		uint32_t id;
		uint64_t seq;

		rc = ring_peek(rd, &m, RING_NONBLOCK, NULL);
		if (rc == -EBADMSG) {
			bad++;
			if (ring_reader_skip(rd) <= 0)
				break;
			continue;
		}
		if (rc != 0)
			break;
		if (crash_check_payload(m.data, m.len, &id, &seq) == 0 &&
		    id == 9 && seq == (got < 3 ? got : got + 1))
			got++;
		ring_release(rd);
	}
	ok(bad == 1 && got == 9, "planted: the reader gets -EBADMSG once, "
	   "skips it and gets the 9 others (%u bad, %u good)", bad, got);
	ring_reader_close(rd);
	ring_group_reset(r, "keep", RING_FROM_OLDEST);

	a.base[a.off[3] + (pos[6] % (a.len[3] / 8)) * 8] ^= 0x40;
	memset(&rep, 0, sizeof(rep));
	rc = ring_check(r, &rep);
	ok(rc == -EUCLEAN && rep.problems >= 1,
	   "planted: a wrong commit word is reported (%d, %u problems: %s)",
	   rc, rep.problems, rep.first_problem);
	memset(&rep, 0, sizeof(rep));
	rc = ring_repair(r, &rep);
	ok(rc == 0 && rep.repaired >= 1, "planted: ring_repair fixes it "
	   "(%d, %u problems, %u repaired, %llu slots dropped)", rc,
	   rep.problems, rep.repaired,
	   (unsigned long long)rep.dropped_slots);
	memset(&rep, 0, sizeof(rep));
	rc = ring_check(r, &rep);
	is(rc, 0, "planted: ring_check passes after ring_repair");
	if (rc)
		diag("check: %s", rep.first_problem);

	g = find_group(&a, "keep");
	if (g)
		g->cursor += 1u << 20;
	memset(&rep, 0, sizeof(rep));
	rc = ring_check(r, &rep);
	ok(g && rc == -EUCLEAN && rep.problems >= 1,
	   "planted: a cursor ahead of the tail is reported (%d: %s)", rc,
	   rep.first_problem);
	memset(&rep, 0, sizeof(rep));
	rc = ring_repair(r, &rep);
	ok(rc == 0 && rep.repaired >= 1, "planted: ring_repair clamps it "
	   "(%d, %u repaired)", rc, rep.repaired);
	memset(&rep, 0, sizeof(rep));
	rc = ring_check(r, &rep);
	is(rc, 0, "planted: then ring_check passes");
	if (rc)
		diag("check: %s", rep.first_problem);
	ok(ring_stats(r, &st) == 0 && g && (int64_t)(st.tail - g->cursor) >= 0,
	   "planted: the cursor is no longer ahead of the tail");
	rc = ring_send(r, 0, "after", 5, RING_FULL_FAIL, NULL);
	is(rc, 0, "planted: the repaired ring takes a new message");
	munmap(a.base, a.size);
	ring_close(r);
}

int main(void)
{
	unsigned seconds = crash_test_long() ? 30 : 3;
	uint64_t rnd = crash_seed();
	struct ring_config cfg;
	struct ring *r;

	plan(8 + 4 + 11);
	crash_ring_path(ring_path, sizeof(ring_path), "corrupt-live");
	crash_guard(240, ring_path);
	unlink(ring_path);
	sh = crash_shared_alloc(sizeof(*sh));
	if (!sh)
		bail_out("shared memory");

	ring_config_init(&cfg);
	cfg.capacity = 64 * 1024;
	cfg.processes = 16;
	cfg.groups = 4;
	if (ring_create(ring_path, &cfg, 0, &r) != 0 ||
	    ring_group_create(r, "g", RING_FROM_OLDEST) != 0)
		bail_out("ring_create failed");
	test_live(r, &rnd, seconds);
	test_superblock(&rnd);
	ring_close(r);
	test_planted();
	ring_unlink(ring_path);
	return exit_status();
}

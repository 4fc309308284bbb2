/* SPDX-License-Identifier: MIT */
/*
 * t_sigbus - a ring file that shrinks under running processes (DESIGN H13).
 *
 *   - truncated to 0, to 8192 bytes and to half its size while a producer
 *     process and a reader process run (each produce and read call in
 *     turn): neither dies of a signal, both get -EIO within a bound;
 *   - a reader asleep on an empty ring and a producer asleep on a full one
 *     get -EIO although nobody can wake them through the lost file, and so
 *     do a reader polling without waiting and a producer that fails when
 *     the ring is full, which touch no lost page (the size is checked);
 *   - chaining: a handler the program installed before ring_open() still
 *     gets the faults outside ring mappings and the signals sent to it; a
 *     program with the default action still dies of such a fault; a fault
 *     inside a ring mapping reaches neither and breaks the handle (-EIO from
 *     every call);
 *   - declining: RING_OPEN_NO_SIGBUS_HANDLER and ring_sigbus_handler(0)
 *     leave SIGBUS alone (a fault in the ring then kills), ring_sigbus_handler(0)
 *     puts the previous action back, and an application's own handler
 *     recovers ring faults with ring_sigbus_recover().
 *
 * Built with AddressSanitizer, this program runs with handle_sigbus=0 (see
 * __asan_default_options below), so that "the previous action" is the
 * default one here as in a normal build; the programs' shell test
 * (prog_sigbus.t) runs with ASan's own handler in place.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ring.h"
#include "tap.h"
#include "lib/crashutil.h"

#if defined(__SANITIZE_ADDRESS__)
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "handle_sigbus=0";
}
#endif

#define CAPACITY (256u * 1024u)
#define ROUNDS 3

/* What the children of one round share with the parent. */
struct shared {
	volatile uint64_t sent;	    /* messages the producer got through */
	volatile uint64_t received; /* messages the reader released */
	volatile int ready;	    /* children that opened the ring */
	volatile int prod_rc;	    /* the error the producer ended with */
	volatile int read_rc;	    /* the error the reader ended with */
	volatile int chk[8];	    /* results of the chaining child */
};

static struct shared *sh;
static char ring_path[128];

/* A child that must not leave a core file behind when it dies. */
static void no_core(void)
{
	struct rlimit rl = { 0, 0 };

	setrlimit(RLIMIT_CORE, &rl);
}

/* File size of @path, or 0. */
static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : 0;
}

static int make_ring(const char *path, unsigned flags, struct ring **r)
{
	struct ring_config cfg;
	int rc;

	unlink(path);
	ring_config_init(&cfg);
	cfg.capacity = CAPACITY;
	rc = ring_create(path, &cfg, flags, r);
	if (rc == 0)
		rc = ring_group_create(*r, "g", 0);
	return rc;
}

/* ---- children of the truncation rounds ---------------------------------- */

/* Producer: sends until a call fails; exit 0 if that was -EIO. Round
 * @way % 3 picks ring_send, ring_send_batch or reserve + commit. */
static int producer(int way)
{
	static char payload[200];
	struct ring_out out[8];
	struct ring_claim c;
	struct ring *r;
	int rc;

	alarm(30);
	if (ring_open(ring_path, 0, &r) != 0)
		return 10;
	__atomic_fetch_add(&sh->ready, 1, __ATOMIC_SEQ_CST);
	for (int i = 0; i < 8; i++)
		out[i] = (struct ring_out){ payload, (uint32_t)(16 + 20 * i), 1 };
	for (uint64_t n = 0;; n++) {
		memset(payload, (int)n, sizeof(payload));
		switch (way % 3) {
		case 0:
			rc = ring_send(r, 1, payload, 64 + n % 128, 0, NULL);
			break;
		case 1:
			rc = ring_send_batch(r, out, 8, 0, NULL);
			rc = rc > 0 ? 0 : rc;
			break;
		default:
			rc = ring_reserve(r, 100, 1, 0, NULL, &c);
			if (rc == 0) {
				memcpy(c.data, payload, 100);
				rc = ring_commit(r, &c);
			}
			break;
		}
		if (rc)
			break;
		sh->sent = n + 1;
	}
	sh->prod_rc = rc;
	/* Every later call says the same; close works. */
	if (ring_send(r, 1, "x", 1, RING_FULL_FAIL, NULL) != -EIO)
		return 12;
	ring_close(r);
	return rc == -EIO ? 0 : 11;
}

static int count_msg(const struct ring_msg *m, void *arg)
{
	(void)m;
	(void)arg;
	return 0;
}

/* Reader of group g: reads until a call fails; exit 0 if -EIO. Round
 * @way % 3 picks peek + release, peek_batch + release_n, or poll. */
static int reader(int way)
{
	struct ring_msg msgs[16];
	struct ring_reader *rd;
	struct ring *r;
	uint64_t n = 0;
	int rc;

	alarm(30);
	if (ring_open(ring_path, 0, &r) != 0)
		return 10;
	if (ring_reader_open(r, "g", 0, &rd) != 0)
		return 13;
	__atomic_fetch_add(&sh->ready, 1, __ATOMIC_SEQ_CST);
	for (;;) {
		switch (way % 3) {
		case 0:
			rc = ring_peek(rd, msgs, 0, NULL);
			if (rc == 0)
				rc = ring_release(rd);
			if (rc == 0)
				n++;
			break;
		case 1:
			rc = ring_peek_batch(rd, msgs, 16, 0, NULL);
			if (rc > 0) {
				int k = rc;

				rc = ring_release_n(rd, (unsigned)k);
				if (rc == 0)
					n += (unsigned)k;
			}
			break;
		default:
			rc = ring_poll(rd, count_msg, NULL, 16, 0, NULL);
			if (rc > 0) {
				n += (unsigned)rc;
				rc = 0;
			}
			break;
		}
		if (rc)
			break;
		sh->received = n;
	}
	sh->read_rc = rc;
	if (ring_peek(rd, msgs, RING_NONBLOCK, NULL) != -EIO)
		return 12;
	ring_reader_close(rd);
	ring_close(r);
	return rc == -EIO ? 0 : 11;
}

/* Waits until *@v reaches @at_least, for at most @ms; returns whether. */
static int wait_for(volatile uint64_t *v, uint64_t at_least, unsigned ms)
{
	uint64_t end = crash_now_ns() + (uint64_t)ms * 1000000ull;

	while (*v < at_least && crash_now_ns() < end)
		usleep(1000);
	return *v >= at_least;
}

static pid_t fork_child(int (*fn)(int), int way)
{
	pid_t pid = crash_fork();

	if (pid == 0)
		_exit(fn(way));
	return pid;
}

/* One round: producer and reader run, the file is cut to @size. */
static void truncate_round(off_t size, const char *what, int way)
{
	struct ring *r;
	char why_p[64], why_r[64];
	int st_p, st_r, flowing;
	uint64_t t0, ms;
	pid_t p, q;

	if (make_ring(ring_path, 0, &r) != 0)
		bail_out("ring_create");
	ring_close(r);
	memset(sh, 0, sizeof(*sh));
	p = fork_child(producer, way);
	q = fork_child(reader, way);
	flowing = wait_for(&sh->received, 2000, 10000) &&
		  wait_for(&sh->sent, 2000, 10000);
	t0 = crash_now_ns();
	if (truncate(ring_path, size) != 0)
		bail_out("truncate");
	crash_wait_exit(p, 10000, &st_p);
	crash_wait_exit(q, 10000, &st_r);
	ms = (crash_now_ns() - t0) / 1000000;
	ok(flowing && crash_exited_ok(st_p) && crash_exited_ok(st_r),
	   "truncated to %s (round %d): producer and reader both return -EIO, "
	   "none dies (producer: %s, reader: %s; %llu ms)",
	   what, way + 1, crash_status_text(st_p, why_p, sizeof(why_p)),
	   crash_status_text(st_r, why_r, sizeof(why_r)),
	   (unsigned long long)ms);
	if (!flowing || !crash_exited_ok(st_p) || !crash_exited_ok(st_r))
		diag("sent %llu, read %llu before the cut (%s); the producer's "
		     "last call returned %d, the reader's %d",
		     (unsigned long long)sh->sent,
		     (unsigned long long)sh->received,
		     flowing ? "flowing" : "not flowing", sh->prod_rc,
		     sh->read_rc);
	unlink(ring_path);
}

/* A reader asleep on an empty ring, a producer asleep on a full one. */
static void sleepers(void)
{
	struct ring *r;
	char why[64];
	int st;
	pid_t pid;

	/* The reader: nothing is ever sent. */
	if (make_ring(ring_path, 0, &r) != 0)
		bail_out("ring_create");
	ring_close(r);
	memset(sh, 0, sizeof(*sh));
	pid = fork_child(reader, 0);
	while (!sh->ready && waitpid(pid, &st, WNOHANG) == 0)
		usleep(1000);
	usleep(100000); /* (it is asleep by now; if not, it looks later) */
	if (truncate(ring_path, 0) != 0)
		bail_out("truncate");
	crash_wait_exit(pid, 10000, &st);
	ok(crash_exited_ok(st),
	   "a reader asleep on an empty ring returns -EIO after a cut to 0 (%s)",
	   crash_status_text(st, why, sizeof(why)));
	unlink(ring_path);

	/* The producer: a group that nobody reads holds it back. */
	if (make_ring(ring_path, 0, &r) != 0)
		bail_out("ring_create");
	ring_close(r);
	memset(sh, 0, sizeof(*sh));
	pid = fork_child(producer, 0);
	wait_for(&sh->sent, CAPACITY / 256, 10000);
	usleep(100000);
	if (truncate(ring_path, 8192) != 0)
		bail_out("truncate");
	crash_wait_exit(pid, 10000, &st);
	ok(crash_exited_ok(st) && sh->sent < CAPACITY / 16,
	   "a producer asleep on a full ring returns -EIO after a cut to 8192 "
	   "(%s, %llu sent)", crash_status_text(st, why, sizeof(why)),
	   (unsigned long long)sh->sent);
	unlink(ring_path);
}

/* Calls that never wait, on a ring cut where they touch nothing lost: a
 * reader polling an empty ring, a producer failing on a full one. */
static void pollers(void)
{
	struct ring_reader *rd;
	struct ring *r;
	uint64_t end;
	int rc, n = 0;

	if (make_ring(ring_path, 0, &r) != 0 ||
	    ring_reader_open(r, "g", 0, &rd) != 0)
		bail_out("ring_create");
	if (truncate(ring_path, file_size(ring_path) / 2) != 0)
		bail_out("truncate");
	end = crash_now_ns() + 5000000000ull;
	do {
		rc = ring_peek(rd, (struct ring_msg[1]){ { 0 } }, RING_NONBLOCK,
			       NULL);
		n++;
	} while (rc == -EAGAIN && crash_now_ns() < end);
	is(rc, -EIO, "a reader polling an empty ring (RING_NONBLOCK) cut to "
	   "half gets -EIO (after %d calls)", n);
	ring_reader_close(rd);
	ring_close(r);

	if (make_ring(ring_path, 0, &r) != 0)
		bail_out("ring_create");
	while (ring_send(r, 1, "0123456789", 10, RING_FULL_FAIL, NULL) == 0)
		;
	if (truncate(ring_path, file_size(ring_path) / 2) != 0)
		bail_out("truncate");
	/* (the next send would fault on its slots; a full ring touches
	 * nothing lost) */
	end = crash_now_ns() + 5000000000ull;
	n = 0;
	do {
		rc = ring_send(r, 1, "x", 1, RING_FULL_FAIL, NULL);
		n++;
	} while (rc == -EAGAIN && crash_now_ns() < end);
	is(rc, -EIO, "a producer failing on a full ring (RING_FULL_FAIL) cut "
	   "to half gets -EIO (after %d calls)", n);
	ring_close(r);
	unlink(ring_path);
}

/* ---- chaining and declining --------------------------------------------- */

/* What the application's own handler saw. */
static volatile sig_atomic_t app_calls, app_recovered;
static void *volatile app_addr;
static volatile int app_code;
static long page;

/* The application's handler: records the signal; for a fault, puts a page
 * in place so that the access completes. */
static void app_bus(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	app_calls++;
	app_addr = si->si_addr;
	app_code = si->si_code;
	if (si->si_code > 0)
		mmap((void *)((uintptr_t)si->si_addr & ~(uintptr_t)(page - 1)),
		     (size_t)page, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
}

/* An application handler that asks the library first. */
static void app_bus_asking(int sig, siginfo_t *si, void *uc)
{
	if (si->si_code > 0 && ring_sigbus_recover(si->si_addr)) {
		app_recovered++;
		return;
	}
	app_bus(sig, si, uc);
}

static void install(void (*fn)(int, siginfo_t *, void *))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL) != 0)
		bail_out("sigaction");
}

/* The SIGBUS action now, as a pointer to compare. */
static void *current_action(void)
{
	struct sigaction sa;

	sigaction(SIGBUS, NULL, &sa);
	return (void *)sa.sa_sigaction;
}

/* A page of a file that is not a ring, mapped and then cut away: touching
 * it is a SIGBUS outside every ring mapping. */
static volatile char *foreign_fault_page(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	void *p;

	if (fd < 0 || ftruncate(fd, 2 * page) != 0)
		return NULL;
	p = mmap(NULL, (size_t)(2 * page), PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, 0);
	if (p == MAP_FAILED || ftruncate(fd, 0) != 0)
		return NULL;
	close(fd);
	unlink(path);
	return (volatile char *)p + page;
}

static char child_ring[160], other_file[160];

/* Declined by the open flag: SIGBUS is left alone, so a cut kills. */
static int child_flag(void)
{
	void *before = current_action();
	struct ring *r;

	no_core();
	if (make_ring(child_ring, RING_OPEN_NO_SIGBUS_HANDLER, &r) != 0)
		return 10;
	if (current_action() != before)
		return 11;
	truncate(child_ring, 0);
	ring_send(r, 1, "x", 1, 0, NULL);
	return 12; /* survived: somebody handled it */
}

/* Declined by ring_sigbus_handler(0) before the first open. */
static int child_call(void)
{
	void *before = current_action();
	struct ring *r;

	if (ring_sigbus_handler(0) != 0)
		return 10;
	if (make_ring(child_ring, 0, &r) != 0)
		return 11;
	if (current_action() != before)
		return 12;
	ring_close(r);
	return 0;
}

/* ring_sigbus_handler(0) after an open puts the old action back. */
static int child_restore(void)
{
	void *before = current_action();
	struct ring *r;

	if (make_ring(child_ring, 0, &r) != 0)
		return 10;
	if (current_action() == before)
		return 11; /* nothing was installed */
	if (ring_sigbus_handler(0) != 0 || current_action() != before)
		return 12;
	ring_close(r);
	return 0;
}

/* The application's own handler recovers ring faults through the library. */
static int child_own_handler(void)
{
	struct ring *r;
	int rc;

	install(app_bus_asking);
	if (make_ring(child_ring, RING_OPEN_NO_SIGBUS_HANDLER, &r) != 0)
		return 10;
	if (current_action() != (void *)app_bus_asking)
		return 11;
	truncate(child_ring, 0);
	rc = ring_send(r, 1, "x", 1, 0, NULL);
	if (rc != -EIO)
		return 12;
	if (!app_recovered || app_calls)
		return 13;
	ring_close(r);
	return 0;
}

/* With the default action before the library's, a fault outside rings
 * still kills the process with SIGBUS. */
static int child_default(void)
{
	volatile char *p;
	struct ring *r;

	no_core();
	if (make_ring(child_ring, 0, &r) != 0)
		return 10;
	p = foreign_fault_page(other_file);
	if (!p)
		return 11;
	(void)*p;
	return 12;
}

static void run_child(int (*fn)(void), int want_sig, const char *what)
{
	char why[64];
	int st;
	pid_t pid = crash_fork();

	if (pid == 0)
		_exit(fn());
	crash_wait_exit(pid, 10000, &st);
	if (want_sig)
		ok(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == want_sig,
		   "%s (%s)", what, crash_status_text(st, why, sizeof(why)));
	else
		ok(crash_exited_ok(st), "%s (%s)", what,
		   crash_status_text(st, why, sizeof(why)));
	unlink(child_ring);
}

/* Checks of the chaining child, reported by the parent. */
enum {
	CH_INSTALLED, CH_FOREIGN, CH_SENT, CH_EIO, CH_NOT_APP, CH_LATER,
	CH_CLOSE, CH_COUNT
};
static const char *const ch_text[CH_COUNT] = {
	"ring_create installs the library's handler over the program's",
	"a fault outside ring mappings reaches the program's handler, with "
	"its address",
	"so does a SIGBUS sent to the process",
	"a send into the cut ring returns -EIO",
	"and its fault never reached the program's handler",
	"every later call on the handle returns -EIO (stats, check, groups)",
	"ring_close of the broken handle",
};

/* The program's handler first, then the library's (in a child, so that
 * the other tests run with the default action before the library's). */
static int child_chaining(void)
{
	struct ring_check_report rep;
	struct ring_stats st;
	volatile char *p;
	struct ring *r;
	int calls;

	install(app_bus);
	if (make_ring(child_ring, 0, &r) != 0)
		return 10;
	sh->chk[CH_INSTALLED] = current_action() != (void *)app_bus;
	p = foreign_fault_page(other_file);
	if (!p)
		return 11;
	(void)*p;
	sh->chk[CH_FOREIGN] = app_calls == 1 && app_addr == (void *)p &&
			      app_code > 0;
	raise(SIGBUS);
	sh->chk[CH_SENT] = app_calls == 2 && app_code <= 0;
	calls = app_calls;
	if (truncate(child_ring, 8192) != 0)
		return 12;
	sh->chk[CH_EIO] = ring_send(r, 1, "hello", 5, 0, NULL) == -EIO;
	sh->chk[CH_NOT_APP] = app_calls == calls;
	sh->chk[CH_LATER] = ring_stats(r, &st) == -EIO &&
			    ring_check(r, &rep) == -EIO &&
			    ring_group_create(r, "h", 0) == -EIO;
	sh->chk[CH_CLOSE] = ring_close(r) == 0;
	return 0;
}

static void chaining(void)
{
	char why[64];
	int st;
	pid_t pid;

	memset(sh, 0, sizeof(*sh));
	pid = crash_fork();
	if (pid == 0)
		_exit(child_chaining());
	crash_wait_exit(pid, 10000, &st);
	if (!crash_exited_ok(st))
		diag("the chaining child ended: %s",
		     crash_status_text(st, why, sizeof(why)));
	for (int i = 0; i < CH_COUNT; i++)
		ok(crash_exited_ok(st) && sh->chk[i], "%s", ch_text[i]);
	unlink(child_ring);
}

int main(void)
{
	char what[32];
	off_t sizes[3] = { 0, 8192, 0 };

	plan(9 + 2 + 2 + 5 + 7);
	page = sysconf(_SC_PAGESIZE);
	crash_ring_path(ring_path, sizeof(ring_path), "sigbus");
	snprintf(child_ring, sizeof(child_ring), "%s.child", ring_path);
	snprintf(other_file, sizeof(other_file), "%s.other", ring_path);
	crash_guard(240, ring_path);
	sh = crash_shared_alloc(sizeof(*sh));
	if (!sh)
		bail_out("shared memory");

	/* Before this process ever opens a ring (children inherit that). */
	run_child(child_flag, SIGBUS,
		  "RING_OPEN_NO_SIGBUS_HANDLER: no handler installed, a cut "
		  "ring kills with SIGBUS as before");
	run_child(child_call, 0,
		  "ring_sigbus_handler(0) before the first open: none installed");
	run_child(child_restore, 0,
		  "ring_sigbus_handler(0) after an open restores the previous "
		  "action");
	run_child(child_own_handler, 0,
		  "a program's own handler recovers ring faults with "
		  "ring_sigbus_recover(): the call returns -EIO");
	run_child(child_default, SIGBUS,
		  "with the default action before it, a fault outside rings "
		  "still kills with SIGBUS");
	chaining();

	for (int s = 0; s < 3; s++) {
		for (int round = 0; round < ROUNDS; round++) {
			struct ring *r;

			if (s == 2) {
				if (make_ring(ring_path, 0, &r) != 0)
					bail_out("ring_create");
				ring_close(r);
				sizes[2] = file_size(ring_path) / 2;
			}
			snprintf(what, sizeof(what), "%lld",
				 (long long)sizes[s]);
			truncate_round(sizes[s], s == 2 ? "half" : what, round);
		}
	}
	sleepers();
	pollers();
	unlink(child_ring);
	return exit_status();
}

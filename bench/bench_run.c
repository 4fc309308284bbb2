/* SPDX-License-Identifier: MIT */
/*
 * bench_run.c - the processes of a ring-bench run and their timing.
 *
 * Throughput: every reader and every producer is its own forked process.
 * The readers start first and say on a "ready" pipe when they are attached.
 * Producers first send a warm-up tenth of the messages (the first moments
 * of a busy pair of processes run slower: caches, page tables, CPU
 * frequency and the scheduler settle), readers take it, and all say so on
 * a "ready" pipe. The parent then reads the clock and closes the "go" pipe,
 * which releases every producer at once; each reader reads the clock when
 * it has its last message. The time is from the release to the last
 * message received by the slowest reader. Producers stay until every
 * reader has said it has everything (a third byte on "ready"), then the
 * parent closes the "done" pipe and all exit.
 *
 * Shared group (--members M): the M readers are the members of one shared
 * group and each message goes to one of them, so no member knows how many
 * it will get. Each counts what it takes in a tally line of its own
 * (struct bench_tally, a second shared mapping) and, whenever it finds
 * nothing to take, adds up the tally; a phase (the warm-up, then the timed
 * messages) ends for a member when the group has taken all of it. A member
 * reads the clock after each batch; the time ends at the last batch any
 * member took. The parent then checks that the members' counts, sums and
 * sums of squares add up to exactly the messages sent: a message lost and
 * another received twice would change the sums.
 *
 * Round trip: a "ping" process sends a message on channel 0, a "pong"
 * process echoes one back on channel 1, and ping times every round trip
 * with CLOCK_MONOTONIC after the warm-up. Pong stays until ping has ended.
 *
 * Children report through a shared anonymous mapping and their exit
 * status. A child that fails prints its error and exits 1; the parent then
 * kills the others. A watchdog (RING_BENCH_TIMEOUT seconds, default 300)
 * ends a run that hangs.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define MAX_READERS (BENCH_MAX_GROUPS > BENCH_MAX_MEMBERS ? \
		     BENCH_MAX_GROUPS : BENCH_MAX_MEMBERS)
#define MAX_CHILDREN (BENCH_MAX_PRODUCERS + MAX_READERS)

/* What a child leaves for the parent in the shared mapping. */
struct child_report {
	uint64_t count;		/* messages received (readers) */
	uint64_t sum;		/* sum of their first words */
	uint64_t sumsq;		/* members: sum of their squares */
	uint64_t timed;		/* members: of count, timed messages */
	uint64_t polls;		/* members: batches of the timed messages */
	uint64_t start_ns;	/* rtt: start of the timed round trips */
	uint64_t end_ns;	/* time of the last message received */
	uint64_t rtt[4];	/* p50, p99, p99.9, max */
	uint64_t max_gap_ns;	/* longest wait between receptions */
};

static pid_t children[MAX_CHILDREN];
static unsigned nchildren;

/* Kill every child not yet reaped (async-signal-safe). */
static void kill_children(void)
{
	unsigned i;

	for (i = 0; i < nchildren; i++)
		if (children[i] > 0)
			kill(children[i], SIGKILL);
}

/* Watchdog: the children of a run that hangs are killed; the parent then
 * sees them die, fails the run and removes what the transport made. */
static void on_alarm(int sig)
{
	static const char msg[] = BENCH_PROG ": run timed out, killed\n";
	ssize_t rc;

	(void)sig;
	rc = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)rc;
	kill_children();
}

/* Arm the watchdog for one run. */
static void arm_watchdog(void)
{
	const char *env = getenv("RING_BENCH_TIMEOUT");
	unsigned secs = env ? (unsigned)strtoul(env, NULL, 10) : 300;

	signal(SIGALRM, on_alarm);
	alarm(secs ? secs : 300);
}

/* Fork a child that runs @fn(@b, @t, @arg...) and exits with its result,
 * on the CPU --cpus gives process @id of @side. Returns 0 or -errno. */
static int spawn(void (*fn)(struct bench *, const struct transport *,
			    uint32_t, void *),
		 enum pin_side side, struct bench *b,
		 const struct transport *t, uint32_t id, void *arg)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	int err;

	if (pid < 0) {
		bench_err("fork: %s", strerror(errno));
		return -errno;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		signal(SIGALRM, SIG_DFL);
		signal(SIGPIPE, SIG_IGN);	/* EPIPE: reported, not fatal */
		err = pin_self(&b->o.cpus, side, id);
		if (err) {
			bench_err("--cpus: cannot move process %u: %s", id,
				  strerror(-err));
			_exit(1);
		}
		fn(b, t, id, arg);
		_exit(0);
	}
	children[nchildren++] = pid;
	return 0;
}

/* Forget a reaped child so it is never killed by pid. */
static void forget_child(pid_t pid)
{
	unsigned i;

	for (i = 0; i < nchildren; i++)
		if (children[i] == pid)
			children[i] = 0;
}

/* Reap every child; when @trigger is reaped, close *@close_fd (and set it
 * to -1). Returns 0 if all exited 0, else 1 (the others killed). */
static int reap_children_then(pid_t trigger, int *close_fd)
{
	unsigned left = 0, i;
	int failed = 0;

	for (i = 0; i < nchildren; i++)
		left += children[i] > 0;
	while (left > 0) {
		int status;
		pid_t pid = waitpid(-1, &status, 0);

		if (pid < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		forget_child(pid);
		left--;
		if (pid == trigger && *close_fd >= 0) {
			close(*close_fd);
			*close_fd = -1;
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			if (!failed && WIFSIGNALED(status))
				bench_err("a child process died of signal %d",
					  WTERMSIG(status));
			failed = 1;
			kill_children();
		}
	}
	nchildren = 0;
	return failed;
}

/* Reap every child. Returns 0 if all exited 0, else 1 (the others killed). */
static int reap_children(void)
{
	return reap_children_then(-1, NULL);
}

/* Sum of 0 + 1 + ... + (n - 1), modulo 2^64 like the readers' sums. */
static uint64_t sum_below(uint64_t n)
{
	if (n == 0)
		return 0;
	return n % 2 == 0 ? (n / 2) * (n - 1) : n * ((n - 1) / 2);
}

/* Sum of 0^2 + 1^2 + ... + (n - 1)^2 = (n - 1) n (2n - 1) / 6, modulo
 * 2^64 like the members' sums: 6 is divided out of the factors first. */
static uint64_t sumsq_below(uint64_t n)
{
	uint64_t a = n, b = n - 1, c = 2 * n - 1;

	if (n == 0)
		return 0;
	if (a % 2 == 0)
		a /= 2;
	else
		b /= 2;
	if (a % 3 == 0)
		a /= 3;
	else if (b % 3 == 0)
		b /= 3;
	else
		c /= 3;
	return a * b * c;
}

/* Messages of the warm-up for @n timed ones. */
static uint64_t warmup_count(uint64_t n)
{
	return n / 10 > 0 ? n / 10 : 1;
}

/* State shared by the children of a throughput run (before fork). */
struct tp_run {
	int ready_w;		/* a child writes one byte when warm */
	int go_r;		/* end of file here releases the producers */
	int go_w;
	int done_r;		/* end of file here: the readers have all */
	int done_w;
	uint64_t warm, timed;
	struct child_report *reports;	/* [reader] */
	struct bench_tally *tally;	/* --members: [member] */
};

/* Close the parent's ends that a child must not hold. */
static void tp_child_fds(struct tp_run *run)
{
	close(run->go_w);
	close(run->done_w);
}

/* Tell the parent this child reached its next step (attached, warm, done). */
static int tp_ready(struct tp_run *run)
{
	char c = 'r';

	return bench_write_all(run->ready_w, &c, 1);
}

/* Member @m of the shared group: its part of the warm-up, then of the
 * timed messages (a phase ends when the whole group has it). */
static void tp_member(struct bench *b, const struct transport *t, uint32_t m,
		      struct tp_run *run)
{
	struct child_report *rep = &run->reports[m];
	struct bench_member mb = { .tally = run->tally,
				   .members = b->o.members, .me = m };
	uint64_t warm_taken, warm_polls;
	void *st = NULL;

	if (t->reader_init(b, m, &st) || tp_ready(run) ||
	    t->consume_member(st, &mb, run->warm) || tp_ready(run))
		_exit(1);
	warm_taken = mb.count;
	warm_polls = mb.polls;
	if (t->consume_member(st, &mb, run->warm + run->timed))
		_exit(1);
	rep->end_ns = mb.last_ns;
	rep->count = mb.count;
	rep->timed = mb.count - warm_taken;
	rep->polls = mb.polls - warm_polls;
	rep->sum = mb.sum;
	rep->sumsq = mb.sumsq;
	if (tp_ready(run))
		_exit(1);
	t->reader_fini(st);
}

/* Reader @g: warm-up, then the timed messages. */
static void tp_reader(struct bench *b, const struct transport *t, uint32_t g,
		      void *arg)
{
	struct tp_run *run = arg;
	struct child_report *rep = &run->reports[g];
	uint64_t sum = 0;
	void *st = NULL;

	tp_child_fds(run);
	close(run->go_r);
	close(run->done_r);
	if (b->o.members) {
		tp_member(b, t, g, run);
		return;
	}
	if (t->reader_init(b, g, &st) || tp_ready(run) ||
	    t->consume(st, run->warm, &sum) || tp_ready(run) ||
	    t->consume(st, run->timed, &sum))
		_exit(1);
	rep->end_ns = bench_now_ns();
	rep->count = run->warm + run->timed;
	rep->sum = sum;
	if (t->max_gap_ns)
		rep->max_gap_ns = t->max_gap_ns(st);
	if (tp_ready(run))
		_exit(1);
	t->reader_fini(st);
}

/* Producer @p: its share of the warm-up, wait for go, its timed share. */
static void tp_producer(struct bench *b, const struct transport *t,
			uint32_t p, void *arg)
{
	struct tp_run *run = arg;
	uint32_t np = b->o.producers;
	uint64_t w0 = run->warm * p / np, w1 = run->warm * (p + 1) / np;
	uint64_t m0 = run->timed * p / np, m1 = run->timed * (p + 1) / np;
	void *st = NULL;
	char c;

	tp_child_fds(run);
	if (t->producer_init(b, p, &st) || t->produce(st, w0, w1 - w0) ||
	    tp_ready(run))
		_exit(1);
	if (bench_read_some(run->go_r, &c, 1) != 0) {
		bench_err("start barrier broken");
		_exit(1);
	}
	if (t->produce(st, run->warm + m0, m1 - m0))
		_exit(1);
	/* Stay connected until every reader has everything: ZeroMQ (4.3)
	 * loses queued messages of a peer that goes away too early. */
	if (bench_read_some(run->done_r, &c, 1) != 0) {
		bench_err("end barrier broken");
		_exit(1);
	}
	t->producer_fini(st);
}

/* Wait for @n bytes on the "ready" pipe @fd; fail if a child fails
 * meanwhile. Returns 0 or 1. */
static int wait_ready(int fd, unsigned n)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char buf[64];

	while (n > 0) {
		int rc = poll(&pfd, 1, 200);
		int status;
		long got;
		pid_t pid;

		if (rc > 0) {
			got = bench_read_some(fd, buf,
					      n < sizeof(buf) ? n : sizeof(buf));
			if (got <= 0)
				return 1;
			n -= (unsigned)got;
			continue;
		}
		/* A reader that has said "done" may exit while we wait for
		 * the others: only an abnormal end is a failure. */
		pid = waitpid(-1, &status, WNOHANG);
		if (pid > 0) {
			forget_child(pid);
			if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
				continue;
			if (WIFSIGNALED(status))
				bench_err("a child process died of signal %d",
					  WTERMSIG(status));
			return 1;
		}
	}
	return 0;
}

/* Allocate @n zeroed reports shared with the children, or NULL. */
static struct child_report *shared_reports(unsigned n)
{
	void *p = mmap(NULL, n * sizeof(struct child_report),
		       PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		bench_err("mmap: %s", strerror(errno));
		return NULL;
	}
	return p;
}

/* The members' reports of @run against what was sent: every message
 * received once. Fills in @res's per-member counts and *@end (the last
 * batch any member took). Returns 0, or 1 after printing what is wrong. */
static int check_members(const struct bench *b, const struct tp_run *run,
			 struct bench_result *res, uint64_t *end)
{
	uint64_t n = run->warm + run->timed, count = 0, sum = 0, sumsq = 0;
	char each[BENCH_MAX_MEMBERS * 24] = "";
	size_t len = 0;
	uint32_t i;

	for (i = 0; i < b->o.members; i++) {
		const struct child_report *r = &run->reports[i];

		count += r->count;
		sum += r->sum;
		sumsq += r->sumsq;
		if (r->end_ns > *end)
			*end = r->end_ns;
		res->member_messages[i] = r->timed;
		res->member_polls[i] = r->polls;
		if (len < sizeof(each))
			len += (size_t)snprintf(each + len, sizeof(each) - len,
						"%s%llu", i ? " + " : "",
						(unsigned long long)r->count);
	}
	if (count == n && sum == sum_below(n) && sumsq == sumsq_below(n))
		return 0;
	bench_err("shared group: the %u members received %llu messages "
		  "(%s), sum %llu, sum of squares %llu; sent %llu, sum %llu, "
		  "sum of squares %llu: messages were lost or received twice",
		  b->o.members, (unsigned long long)count, each,
		  (unsigned long long)sum, (unsigned long long)sumsq,
		  (unsigned long long)n, (unsigned long long)sum_below(n),
		  (unsigned long long)sumsq_below(n));
	return 1;
}

/* Run a throughput measurement. Returns 0, or 1 after an error. */
int bench_run_throughput(struct bench *b, const struct transport *t,
			 struct bench_result *res)
{
	struct tp_run run = { .timed = b->o.messages };
	uint32_t readers = b->o.members ? b->o.members : b->o.groups;
	uint64_t t0, end = 0, expect;
	int ready[2], go[2], done[2];
	uint32_t i;
	int failed = 1;

	run.warm = warmup_count(run.timed);
	run.reports = shared_reports(readers);
	if (!run.reports)
		return 1;
	if (b->o.members) {
		run.tally = mmap(NULL, b->o.members * sizeof(*run.tally),
				 PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (run.tally == MAP_FAILED) {
			bench_err("mmap: %s", strerror(errno));
			munmap(run.reports, readers * sizeof(*run.reports));
			return 1;
		}
	}
	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0 ||
	    pipe2(done, O_CLOEXEC) < 0) {
		bench_err("pipe: %s", strerror(errno));
		return 1;
	}
	run.ready_w = ready[1];
	run.go_r = go[0];
	run.go_w = go[1];
	run.done_r = done[0];
	run.done_w = done[1];
	arm_watchdog();
	for (i = 0; i < readers; i++)
		if (spawn(tp_reader, PIN_READERS, b, t, i, &run))
			goto out;
	/* Readers are in place (bound, attached) before any producer. */
	if (wait_ready(ready[0], readers))
		goto out;
	for (i = 0; i < b->o.producers; i++)
		if (spawn(tp_producer, PIN_PRODUCERS, b, t, i, &run))
			goto out;
	close(ready[1]);
	close(go[0]);
	close(done[0]);
	if (wait_ready(ready[0], readers + b->o.producers))
		goto out;
	t0 = bench_now_ns();
	close(go[1]);
	go[1] = -1;
	if (wait_ready(ready[0], readers))
		goto out;
	close(done[1]);
	done[1] = -1;
	if (reap_children())
		goto out_reaped;
	expect = sum_below(run.warm + run.timed);
	if (b->o.members && check_members(b, &run, res, &end))
		goto out_reaped;
	for (i = 0; i < b->o.groups && !b->o.members; i++) {
		struct child_report *r = &run.reports[i];

		if (r->count != run.warm + run.timed || r->sum != expect) {
			bench_err("reader %u: %llu messages, sum %llu; "
				  "expected %llu, sum %llu", i,
				  (unsigned long long)r->count,
				  (unsigned long long)r->sum,
				  (unsigned long long)(run.warm + run.timed),
				  (unsigned long long)expect);
			goto out_reaped;
		}
		if (r->end_ns > end)
			end = r->end_ns;
		if (r->max_gap_ns > res->max_gap_ns)
			res->max_gap_ns = r->max_gap_ns;
	}
	res->messages = run.timed;
	res->seconds = (double)(end - t0) / 1e9;
	failed = 0;
	goto out_reaped;
out:
	kill_children();
	reap_children();
out_reaped:
	alarm(0);
	close(ready[0]);
	if (go[1] >= 0)
		close(go[1]);
	if (done[1] >= 0)
		close(done[1]);
	munmap(run.reports, readers * sizeof(*run.reports));
	if (run.tally)
		munmap(run.tally, b->o.members * sizeof(*run.tally));
	return failed;
}

/* Sort helper for the latencies. */
static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile @num/@den of the sorted @v[@n]. */
static uint64_t percentile(const uint64_t *v, uint64_t n, uint64_t num,
			   uint64_t den)
{
	uint64_t rank = (n * num + den - 1) / den;

	return v[rank > 0 ? rank - 1 : 0];
}

/* Round-trip state shared by ping and pong (before fork). */
struct rtt_run {
	uint64_t warm, timed;
	struct child_report *reports;	/* [0] ping, [1] pong */
	int done_r;	/* end of file here: ping has ended */
	int done_w;
};

/* Pong: echo every message of channel 0 back on channel 1. */
static void rtt_pong(struct bench *b, const struct transport *t, uint32_t id,
		     void *arg)
{
	struct rtt_run *run = arg;
	uint64_t i, n = run->warm + run->timed, sum = 0;
	void *rd = NULL, *wr = NULL;
	char c;

	(void)id;
	if (t->reader_init(b, 0, &rd) || t->producer_init(b, 1, &wr))
		_exit(1);
	close(run->done_w);
	for (i = 0; i < n; i++)
		if (t->consume(rd, 1, &sum) || t->produce(wr, i, 1))
			_exit(1);
	run->reports[1].count = n;
	run->reports[1].sum = sum;
	/* Stay until ping has its last reply (see tp_producer). */
	if (bench_read_some(run->done_r, &c, 1) != 0)
		_exit(1);
	t->reader_fini(rd);
	t->producer_fini(wr);
}

/* Ping: time every round trip after the warm-up. */
static void rtt_ping(struct bench *b, const struct transport *t, uint32_t id,
		     void *arg)
{
	struct rtt_run *run = arg;
	struct child_report *rep = &run->reports[0];
	uint64_t i, n = run->warm + run->timed, sum = 0;
	uint64_t *lat = malloc(run->timed * sizeof(*lat));
	void *rd = NULL, *wr = NULL;

	(void)id;
	close(run->done_w);
	close(run->done_r);
	if (!lat) {
		bench_err("out of memory");
		_exit(1);
	}
	if (t->producer_init(b, 0, &wr) || t->reader_init(b, 1, &rd))
		_exit(1);
	for (i = 0; i < n; i++) {
		uint64_t start = bench_now_ns();

		if (i == run->warm)
			rep->start_ns = start;
		if (t->produce(wr, i, 1) || t->consume(rd, 1, &sum))
			_exit(1);
		if (i >= run->warm)
			lat[i - run->warm] = bench_now_ns() - start;
	}
	rep->end_ns = bench_now_ns();
	qsort(lat, run->timed, sizeof(*lat), cmp_u64);
	rep->rtt[0] = percentile(lat, run->timed, 50, 100);
	rep->rtt[1] = percentile(lat, run->timed, 99, 100);
	rep->rtt[2] = percentile(lat, run->timed, 999, 1000);
	rep->rtt[3] = lat[run->timed - 1];
	rep->count = n;
	rep->sum = sum;
	t->producer_fini(wr);
	t->reader_fini(rd);
	free(lat);
}

/* Run a round-trip measurement. Returns 0, or 1 after an error. */
int bench_run_rtt(struct bench *b, const struct transport *t,
		  struct bench_result *res)
{
	struct rtt_run run = { .timed = b->o.messages };
	uint64_t expect;
	int failed = 1, done[2];
	unsigned i;

	run.warm = warmup_count(run.timed);
	run.reports = shared_reports(2);
	if (!run.reports)
		return 1;
	if (pipe2(done, O_CLOEXEC) < 0) {
		bench_err("pipe: %s", strerror(errno));
		goto out;
	}
	run.done_r = done[0];
	run.done_w = done[1];
	arm_watchdog();
	if (spawn(rtt_pong, PIN_READERS, b, t, 0, &run) ||
	    spawn(rtt_ping, PIN_PRODUCERS, b, t, 0, &run)) {
		close(done[0]);
		close(done[1]);
		kill_children();
		reap_children();
		goto out;
	}
	close(done[0]);
	/* When ping (the last child) ends, release pong. */
	if (reap_children_then(children[nchildren - 1], &done[1])) {
		if (done[1] >= 0)
			close(done[1]);
		goto out;
	}
	expect = sum_below(run.warm + run.timed);
	for (i = 0; i < 2; i++) {
		if (run.reports[i].count != run.warm + run.timed ||
		    run.reports[i].sum != expect) {
			bench_err("%s: wrong count or sum of messages",
				  i ? "pong" : "ping");
			goto out;
		}
	}
	res->messages = run.timed;
	res->seconds = (double)(run.reports[0].end_ns -
				run.reports[0].start_ns) / 1e9;
	res->rtt_p50_ns = run.reports[0].rtt[0];
	res->rtt_p99_ns = run.reports[0].rtt[1];
	res->rtt_p999_ns = run.reports[0].rtt[2];
	res->rtt_max_ns = run.reports[0].rtt[3];
	failed = 0;
out:
	alarm(0);
	munmap(run.reports, 2 * sizeof(*run.reports));
	return failed;
}

// SPDX-License-Identifier: MIT
/*
 * t_observer_stop.c - observers that are stopped (SIGSTOP) or killed hold
 * nobody up. A producer sends to a ring with one group whose reader (a
 * process) must get every message exactly once and in order, while four
 * observer processes follow the ring: two are stopped in the middle (in
 * whatever call they are), one is killed, one runs on. Then:
 *
 *   - the producer sent everything with no error, and the group got every
 *     message exactly once, in order;
 *   - the observers take no process-table entry (the ring counts only the
 *     producer and the reader);
 *   - the stopped observers, continued, were lapped: they report the
 *     overrun and then deliver, delivered + lost == sent, exactly;
 *   - the killed one died of SIGKILL, and that changed nothing.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ring.h"
#include "tap.h"
#include "lib/testutil.h"

#define LEN 24u	  /* payload bytes: 40 with the header, 3 slots */
#define SLOTS 3u
#define NOBS 4

static const char *ring_path;
static uint64_t nmsg;

/* Shared with the children: how far each observer got. */
struct shared {
	uint64_t delivered[NOBS];
	int ready[NOBS + 1];
};
static struct shared *sh;

/* The group's reader: every message exactly once, in order. */
static int reader(void *arg)
{
	struct ring_reader *rd;
	struct ring_msg m;
	struct timespec dl;
	struct ring *r;

	if (ring_open(ring_path, 0, &r) || ring_reader_open(r, "g", 0, &rd))
		return 2;
	__atomic_store_n(&sh->ready[NOBS], 1, __ATOMIC_RELEASE);
	for (uint64_t i = 0; i < nmsg; i++) {
		if (ring_peek(rd, &m, 0, tu_deadline_ms(&dl, 30000)))
			return 3;
		if (tu_msg_check(m.data, m.len, m.type, 1, i))
			return 4;
		ring_release(rd);
	}
	if (ring_peek(rd, &m, RING_NONBLOCK, NULL) != -EAGAIN)
		return 5; /* one more than sent */
	return 0;
}

/* An observer following the ring to its end; exit 0 if the accounting of
 * what it delivered and lost is exact. */
static int observer(void *arg)
{
	int k = (int)(intptr_t)arg;
	struct ring_observer *o;
	struct ring_observer_stats st;
	struct ring_msg m;
	struct timespec dl;
	unsigned char buf[64];
	uint64_t lost = 0, delivered = 0, next = 0, end = nmsg * SLOTS;
	int rc;

	if (ring_observer_open(ring_path, 0, &o))
		return 2;
	__atomic_store_n(&sh->ready[k], 1, __ATOMIC_RELEASE);
	for (;;) {
		ring_observer_stats(o, &st);
		if (st.position == end)
			break;
		rc = ring_observer_copy(o, &m, buf, sizeof(buf), 0,
					tu_deadline_ms(&dl, 30000));
		if (rc == -EOVERFLOW) {
			ring_observer_stats(o, &st);
			lost += st.last_lost;
			continue;
		}
		if (rc)
			return 3;
		struct tu_msg h;

		memcpy(&h, m.data, sizeof(h));
		if (tu_msg_check(m.data, m.len, m.type, 1, h.seq))
			return 4; /* torn */
		if (h.seq < next || (h.seq - next) * SLOTS != lost)
			return 5; /* stale, or a gap not reported exactly */
		lost = 0;
		next = h.seq + 1;
		delivered++;
		__atomic_store_n(&sh->delivered[k], delivered, __ATOMIC_RELAXED);
	}
	if ((nmsg - next) * SLOTS != lost)
		return 6;
	ring_observer_stats(o, &st);
	if (st.delivered != delivered || st.delivered + st.lost / SLOTS != nmsg)
		return 7;
	return 0;
}

static void wait_ready(int k)
{
	uint64_t until = tu_now_ns() + 10000000000ull;

	while (!__atomic_load_n(&sh->ready[k], __ATOMIC_ACQUIRE) &&
	       tu_now_ns() < until)
		usleep(1000);
}

int main(void)
{
	char path[TU_PATH_MAX];
	struct ring_config cfg;
	struct ring_stats st;
	struct ring *r;
	unsigned char buf[LEN];
	pid_t obs[NOBS], rpid;
	int status[NOBS], rs, send_err = 0;
	uint64_t stopped_at[2] = { 0, 0 };

	tu_guard(120);
	plan(8);
	nmsg = TU_SANITIZED ? 30000 : 200000;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		bail_out("mmap");
	memset(sh, 0, sizeof(*sh));
	ring_config_init(&cfg);
	cfg.capacity = 1 << 16; /* 4096 slots, 1365 messages */
	cfg.full_policy = RING_FULL_WAIT;
	if (ring_create(tu_ring_path(path, "ostop"), &cfg, 0, &r) ||
	    ring_group_create(r, "g", 0))
		bail_out("ring_create");
	ring_path = path;
	rpid = tu_fork(reader, NULL);
	for (int k = 0; k < NOBS; k++)
		obs[k] = tu_fork(observer, (void *)(intptr_t)k);
	for (int k = 0; k <= NOBS; k++)
		wait_ready(k);

	for (uint64_t i = 0; i < nmsg && !send_err; i++) {
		if (i == nmsg / 4) {
			/* In whatever call they are right now. */
			kill(obs[0], SIGSTOP);
			kill(obs[1], SIGSTOP);
			kill(obs[2], SIGKILL);
			/* Count from when they are really stopped. */
			for (int k = 0; k < 2; k++) {
				int ws;

				waitpid(obs[k], &ws, WUNTRACED);
			}
			stopped_at[0] = __atomic_load_n(&sh->delivered[0],
							__ATOMIC_RELAXED);
			stopped_at[1] = __atomic_load_n(&sh->delivered[1],
							__ATOMIC_RELAXED);
		}
		tu_msg_fill(buf, LEN, 1, i);
		send_err = ring_send(r, tu_msg_type(1, i), buf, LEN, 0, NULL);
	}
	ok(send_err == 0, "the producer sent %llu messages (%s)",
	   (unsigned long long)nmsg, ring_strerror(send_err));
	rs = tu_wait(rpid, 60000);
	is(rs, 0, "the group's reader got every message once, in order (exit %d)",
	   rs);
	ring_stats(r, &st);
	ok(st.processes == 1 && st.readers == 0 && st.committed == nmsg,
	   "the ring counts only the producer: observers take no entry "
	   "(%u processes, %llu committed)", st.processes,
	   (unsigned long long)st.committed);
	ok(sh->delivered[0] == stopped_at[0] && sh->delivered[1] == stopped_at[1],
	   "the stopped observers delivered nothing while stopped");
	kill(obs[0], SIGCONT);
	kill(obs[1], SIGCONT);
	for (int k = 0; k < NOBS; k++)
		status[k] = tu_wait(obs[k], 60000);
	ok(status[0] == 0 && status[1] == 0,
	   "continued, the stopped observers reported the overrun and "
	   "delivered + lost == sent exactly (exit %d, %d; delivered %llu, %llu)",
	   status[0], status[1], (unsigned long long)sh->delivered[0],
	   (unsigned long long)sh->delivered[1]);
	ok(sh->delivered[0] < nmsg && sh->delivered[1] < nmsg,
	   "and they were lapped (they lost messages)");
	is(status[2], 128 + SIGKILL, "the killed observer died of SIGKILL");
	is(status[3], 0, "the observer that ran on accounted for every message "
	   "(delivered %llu)", (unsigned long long)sh->delivered[3]);
	ring_close(r);
	return exit_status();
}

// SPDX-License-Identifier: MIT
/*
 * stress.c - the multi-process stress run shared by t_stress and t_tiny
 * (see stress.h).
 */
#include "stress.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BATCH_MAX 8

/* What a forked child is told. */
struct stress_child {
	const struct stress_config *cfg;
	const char *path;
	unsigned index;
	int fd; /* write end of its report pipe */
};

/* A reader's progress. */
struct reader_state {
	const struct stress_config *cfg;
	struct tu_report rep;
	uint64_t expected[STRESS_MAX_PRODUCERS];
	uint64_t remaining;
};

/* Sends the report and returns the child's exit status. */
static int child_finish(const struct stress_child *ch, struct tu_report *rep)
{
	if (tu_write_all(ch->fd, rep, sizeof(*rep)))
		return 3;
	close(ch->fd);
	return rep->failed ? 1 : 0;
}

/* A random length in 0..max_len. */
static size_t random_len(const struct stress_config *cfg, uint64_t *rng)
{
	return (size_t)(tu_rand(rng) % ((uint64_t)cfg->max_len + 1));
}

/*
 * The policy of one produce call: RING_FULL_WAIT, or for the mixed producer
 * first a RING_FULL_FAIL probe (@probe set), counted when it finds the ring
 * full.
 */
static int produce_one(struct ring *r, int probe, struct tu_report *rep,
		       uint32_t type, const void *buf, size_t len)
{
	int rc;

	if (probe) {
		rc = ring_send(r, type, buf, len, RING_FULL_FAIL, NULL);
		if (rc != -EAGAIN)
			return rc;
		rep->extra[0]++;
	}
	return ring_send(r, type, buf, len, RING_FULL_WAIT, NULL);
}

/* Sends @seq..@seq+k-1 with ring_send_batch, resending what did not fit. */
static int produce_batch(struct ring *r, int probe, struct tu_report *rep,
			 struct ring_out *outs, unsigned k)
{
	unsigned sent = 0;
	int rc;

	while (sent < k) {
		rc = -EAGAIN;
		if (probe) {
			rc = ring_send_batch(r, outs + sent, k - sent,
					     RING_FULL_FAIL, NULL);
			if (rc == -EAGAIN)
				rep->extra[0]++;
		}
		if (rc == -EAGAIN)
			rc = ring_send_batch(r, outs + sent, k - sent,
					     RING_FULL_WAIT, NULL);
		if (rc <= 0)
			return rc ? rc : -EPROTO;
		if ((unsigned)rc > k - sent)
			return -EPROTO;
		sent += (unsigned)rc;
	}
	return 0;
}

/* Reserves, fills in place and commits message (id, seq). */
static int produce_reserved(struct ring *r, int probe, struct tu_report *rep,
			    uint32_t id, uint64_t seq, size_t len)
{
	struct ring_claim c;
	int rc = -EAGAIN;

	if (probe) {
		rc = ring_reserve(r, len, tu_msg_type(id, seq), RING_FULL_FAIL,
				  NULL, &c);
		if (rc == -EAGAIN)
			rep->extra[0]++;
	}
	if (rc == -EAGAIN)
		rc = ring_reserve(r, len, tu_msg_type(id, seq), RING_FULL_WAIT,
				  NULL, &c);
	if (rc)
		return rc;
	if (c.len != len)
		return -EPROTO;
	tu_msg_fill(c.data, len, id, seq);
	return ring_commit(r, &c);
}

/* A producer process: sends cfg->per_producer messages. */
static int producer_main(void *arg)
{
	const struct stress_child *ch = arg;
	const struct stress_config *cfg = ch->cfg;
	struct ring_out outs[BATCH_MAX];
	struct tu_report rep = { 0 };
	uint64_t rng = 0x9e3779b97f4a7c15ull * (ch->index + 1) ^ getpid();
	enum stress_mode mode = cfg->modes[ch->index];
	int probe = mode == STRESS_MIXED;
	struct ring *r = NULL;
	unsigned char *buf;
	uint64_t seq = 0;
	unsigned k, i;
	size_t len;
	int rc;

	buf = malloc((size_t)BATCH_MAX * (cfg->max_len + 1));
	rc = buf ? ring_open(ch->path, 0, &r) : -ENOMEM;
	if (rc) {
		tu_report_fail(&rep, "producer %u: ring_open: %s", ch->index,
			       ring_strerror(rc));
		return child_finish(ch, &rep);
	}
	while (seq < cfg->per_producer && !rep.failed) {
		mode = probe ? (enum stress_mode)(tu_rand(&rng) % 3) :
			       cfg->modes[ch->index];
		switch (mode) {
		case STRESS_RESERVE:
			len = random_len(cfg, &rng);
			rc = produce_reserved(r, probe, &rep, ch->index, seq,
					      len);
			seq += rc == 0;
			break;
		case STRESS_BATCH:
			k = 1 + (unsigned)(tu_rand(&rng) % BATCH_MAX);
			if (k > cfg->per_producer - seq)
				k = (unsigned)(cfg->per_producer - seq);
			for (i = 0; i < k; i++) {
				unsigned char *b = buf + i * (cfg->max_len + 1);

				len = random_len(cfg, &rng);
				tu_msg_fill(b, len, ch->index, seq + i);
				outs[i] = (struct ring_out){
					b, (uint32_t)len,
					tu_msg_type(ch->index, seq + i)
				};
			}
			rc = produce_batch(r, probe, &rep, outs, k);
			seq += rc == 0 ? k : 0;
			break;
		default:
			len = random_len(cfg, &rng);
			tu_msg_fill(buf, len, ch->index, seq);
			rc = produce_one(r, probe, &rep,
					 tu_msg_type(ch->index, seq), buf, len);
			seq += rc == 0;
			break;
		}
		if (rc)
			tu_report_fail(&rep, "producer %u, seq %llu, mode %d: %s",
				       ch->index, (unsigned long long)seq,
				       (int)mode, ring_strerror(rc));
	}
	rep.count = seq;
	ring_close(r);
	free(buf);
	return child_finish(ch, &rep);
}

/* Checks one received message against what its producer must send next. */
static int check_message(const struct ring_msg *m, void *arg)
{
	struct reader_state *st = arg;
	uint32_t p = tu_msg_producer(m->type);
	const char *what;

	if (p >= st->cfg->producers) {
		tu_report_fail(&st->rep,
			       "message of unknown producer %u (type %#x, len %u, pos %llu)",
			       p, m->type, m->len, (unsigned long long)m->pos);
		return 1;
	}
	if (st->expected[p] >= st->cfg->per_producer) {
		tu_report_fail(&st->rep,
			       "extra message from producer %u (type %#x, pos %llu)",
			       p, m->type, (unsigned long long)m->pos);
		return 1;
	}
	what = tu_msg_check(m->data, m->len, m->type, p, st->expected[p]);
	if (what) {
		tu_report_fail(&st->rep,
			       "producer %u, expected seq %llu, got type %#x len %u at pos %llu: %s",
			       p, (unsigned long long)st->expected[p], m->type,
			       m->len, (unsigned long long)m->pos, what);
		return 1;
	}
	st->expected[p]++;
	st->remaining--;
	st->rep.count++;
	st->rep.extra[0] += m->len;
	return 0;
}

/* Describes where a stalled reader stands. */
static void report_stall(struct reader_state *st, unsigned g, int rc)
{
	char counts[120] = "";
	size_t off = 0;
	unsigned p;

	for (p = 0; p < st->cfg->producers && off < sizeof(counts); p++)
		off += (size_t)snprintf(counts + off, sizeof(counts) - off,
					" %llu",
					(unsigned long long)st->expected[p]);
	tu_report_fail(&st->rep, "reader g%u: %s; per producer:%s", g,
		       ring_strerror(rc), counts);
}

/* A reader process: reads group g<index> until it has every message. */
static int reader_main(void *arg)
{
	const struct stress_child *ch = arg;
	const struct stress_config *cfg = ch->cfg;
	struct reader_state st = { .cfg = cfg };
	struct ring_reader *rd = NULL;
	struct ring *r = NULL;
	struct timespec deadline;
	struct ring_msg m;
	uint64_t rng = 0x51ed270b27ull * (ch->index + 1);
	char name[16];
	int use_poll, rc;

	st.remaining = cfg->per_producer * cfg->producers;
	snprintf(name, sizeof(name), "g%u", ch->index);
	rc = ring_open(ch->path, 0, &r);
	if (!rc)
		rc = ring_reader_open(r, name, 0, &rd);
	if (rc) {
		tu_report_fail(&st.rep, "reader %s: open: %s", name,
			       ring_strerror(rc));
		return child_finish(ch, &st.rep);
	}
	while (st.remaining && !st.rep.failed) {
		tu_deadline_ms(&deadline, cfg->timeout_ms / 2);
		use_poll = ch->index % 3 == 0 ||
			   (ch->index % 3 == 2 && (tu_rand(&rng) & 1));
		if (use_poll) {
			rc = ring_poll(rd, check_message, &st,
				       1 + (unsigned)(tu_rand(&rng) % 64), 0,
				       &deadline);
			if (rc < 0)
				report_stall(&st, ch->index, rc);
			continue;
		}
		rc = ring_peek(rd, &m, 0, &deadline);
		if (rc) {
			report_stall(&st, ch->index, rc);
			continue;
		}
		check_message(&m, &st);
		rc = ring_release(rd);
		if (rc)
			tu_report_fail(&st.rep, "ring_release: %s",
				       ring_strerror(rc));
	}
	if (!st.rep.failed) {
		rc = ring_peek(rd, &m, RING_NONBLOCK, NULL);
		if (rc != -EAGAIN)
			tu_report_fail(&st.rep,
				       "after every message, ring_peek gave %d (type %#x)",
				       rc, rc == 0 ? m.type : 0);
	}
	ring_close(r);
	return child_finish(ch, &st.rep);
}

/* Collects one report per child from @fds within @deadline_ns; the first
 * failure ends the run early. */
static void collect(int *fds, struct tu_report **reps, unsigned n,
		    uint64_t deadline_ns)
{
	struct pollfd pfd[STRESS_MAX_PRODUCERS + STRESS_MAX_GROUPS];
	unsigned i, left = n;
	uint64_t now;
	int rc;

	while (left) {
		for (i = 0; i < n; i++)
			pfd[i] = (struct pollfd){ .fd = fds[i],
						  .events = POLLIN };
		now = tu_now_ns();
		if (now >= deadline_ns)
			break;
		rc = poll(pfd, n, (int)((deadline_ns - now) / 1000000) + 1);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			break;
		for (i = 0; i < n; i++) {
			if (fds[i] < 0 || !pfd[i].revents)
				continue;
			if (tu_read_all(fds[i], reps[i], sizeof(*reps[i])))
				tu_report_fail(reps[i],
					       "exited without a report");
			close(fds[i]);
			fds[i] = -1;
			left--;
			if (reps[i]->failed)
				return;
		}
	}
	for (i = 0; i < n; i++)
		if (fds[i] >= 0) {
			tu_report_fail(reps[i], "no report before the deadline");
			close(fds[i]);
			fds[i] = -1;
		}
}

/* Creates the ring and its groups; returns the handle or NULL. */
static struct ring *stress_ring(const struct stress_config *cfg, char *path)
{
	struct ring_config rc_cfg;
	struct ring *r = NULL;
	char name[16];
	unsigned g;

	ring_config_init(&rc_cfg);
	rc_cfg.capacity = cfg->capacity;
	rc_cfg.slot_size = cfg->slot_size;
	rc_cfg.max_message = cfg->max_message;
	rc_cfg.groups = cfg->groups;
	if (ring_create(tu_ring_path(path, cfg->tag), &rc_cfg, 0, &r))
		return NULL;
	for (g = 0; g < cfg->groups; g++) {
		snprintf(name, sizeof(name), "g%u", g);
		if (ring_group_create(r, name, RING_FROM_OLDEST)) {
			ring_close(r);
			return NULL;
		}
	}
	return r;
}

/* Runs the stress test described by @cfg (see stress.h). */
int stress_run(const struct stress_config *cfg, struct stress_result *res)
{
	struct stress_child ch[STRESS_MAX_PRODUCERS + STRESS_MAX_GROUPS];
	struct tu_report *reps[STRESS_MAX_PRODUCERS + STRESS_MAX_GROUPS];
	int fds[STRESS_MAX_PRODUCERS + STRESS_MAX_GROUPS];
	pid_t pids[STRESS_MAX_PRODUCERS + STRESS_MAX_GROUPS];
	unsigned n = cfg->groups + cfg->producers, i;
	char path[TU_PATH_MAX], name[16];
	uint64_t t0 = tu_now_ns();
	struct ring *r;
	int p[2], status, failed = 0;

	memset(res, 0, sizeof(*res));
	if (cfg->producers > STRESS_MAX_PRODUCERS ||
	    cfg->groups > STRESS_MAX_GROUPS)
		return -EINVAL;
	r = stress_ring(cfg, path);
	if (!r)
		return -EIO;
	/* Children 0..groups-1 are readers, then the producers. */
	for (i = 0; i < n; i++) {
		int reader = i < cfg->groups;

		if (pipe(p))
			return -errno;
		ch[i] = (struct stress_child){
			.cfg = cfg,
			.path = path,
			.index = reader ? i : i - cfg->groups,
			.fd = p[1],
		};
		reps[i] = reader ? &res->reader[i] :
				   &res->producer[i - cfg->groups];
		pids[i] = tu_fork(reader ? reader_main : producer_main, &ch[i]);
		close(p[1]);
		fds[i] = p[0];
		if (pids[i] < 0)
			return -errno;
	}
	collect(fds, reps, n, t0 + (uint64_t)cfg->timeout_ms * 1000000ull);
	for (i = 0; i < n; i++)
		failed += reps[i]->failed != 0;
	for (i = 0; failed && i < n; i++)
		kill(pids[i], SIGKILL);
	for (i = 0; i < n; i++) {
		status = tu_wait(pids[i], failed ? 1000 : 5000);
		if (i < cfg->groups)
			res->reader_exit[i] = status;
		else
			res->producer_exit[i - cfg->groups] = status;
	}
	res->elapsed_ns = tu_now_ns() - t0;
	ring_stats(r, &res->stats);
	for (i = 0; i < cfg->groups; i++) {
		snprintf(name, sizeof(name), "g%u", i);
		ring_group_stats(r, name, &res->group[i]);
	}
	ring_close(r);
	ring_unlink(path);
	return 0;
}

// SPDX-License-Identifier: MIT
/*
 * lease.c - who holds a process entry, a group's reader seat or the group
 * table, told in a way that a user who may only read the file can neither
 * fake nor block (DESIGN H6, H14).
 *
 * Each of these has an owner word in the mapping and a lock byte in the
 * file. The owner word is the ownership: it changes only by CAS, so only a
 * process that may write the file can take or hold anything. It names the
 * owner by an identity the kernel never gives two processes: pid and start
 * time (clock ticks after boot, /proc/PID/stat). After winning the CAS the
 * owner takes an OFD write lock on the lock byte and, if it got it, sets
 * RL_LEASE_LOCKED in its word. Liveness is then:
 *
 *  - LOCKED: alive while the kernel keeps the write lock, which it drops
 *    when the owner's process dies. The probe asks for a read lock, which
 *    only write locks answer, so read locks taken by a reader change
 *    nothing. No lock is not enough to call it dead: an owner that gave
 *    the lease up and took it again between two looks has the same word
 *    again (ABA). Dead is: no lock, and no process with its identity (or
 *    the identity cannot be told, and then the lock alone decides; a taker
 *    fooled by ABA meets the holder's lock and hands the word back).
 *  - not LOCKED: somebody held read locks on the byte when the owner took
 *    the lease (only readers can be in the way: writers take the lock only
 *    after winning the CAS). The owner is alive while a process with its
 *    pid and start time exists. Where that cannot be told (another pid
 *    namespace, no /proc), it is taken as alive: a live producer must
 *    never be skipped.
 *
 * Order of the release: word cleared first (by CAS: a taker may hold it
 * for a moment, see above), lock dropped after, so that "LOCKED and no
 * write lock" means the owner died or is between two leases.
 * tests/model/lease.pml checks this protocol.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define LEASE_PID_SHIFT 42
#define LEASE_START_MASK ((1ull << 41) - 1)

/* Fields of /proc/PID/stat that matter here. */
struct proc_stat {
	char state;
	long threads;
	uint64_t start;
};

/* Read /proc/@pid/stat (pid 0: this process): 0, -ESRCH, or -errno. */
static int read_proc_stat(pid_t pid, struct proc_stat *ps, pid_t *seen_pid)
{
	char path[40], buf[1024];
	unsigned long long start;
	const char *p;
	ssize_t n;
	int fd, field;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/stat");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 && errno == ESRCH ? -ESRCH : -EIO;
	buf[n] = '\0';
	if (seen_pid)
		*seen_pid = (pid_t)atoi(buf);
	/* The command name may hold anything: fields start after its last ')'. */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -EIO;
	p += 2;
	ps->state = *p;
	ps->threads = 0;
	start = 0;
	for (field = 3; *p && field < 22; p++) {
		if (*p != ' ')
			continue;
		field++;
		if (field == 20)
			ps->threads = strtol(p + 1, NULL, 10);
	}
	if (field != 22 || sscanf(p, "%llu", &start) != 1)
		return -EIO;
	ps->start = start;
	return 0;
}

/* The start-time field of an owner word: never 0 (0 means unknown). */
static uint64_t start_field(uint64_t start)
{
	uint64_t s = start & LEASE_START_MASK;

	return s ? s : 1;
}

void rl_lease_ident(struct ring *r)
{
	struct proc_stat ps;
	struct stat st;
	pid_t seen = 0;
	uint64_t start = 0;

	r->pidns = 0;
	/* /proc must be this process's own: its idea of our pid is ours. */
	if (read_proc_stat(0, &ps, &seen) == 0 && seen == r->pid) {
		start = start_field(ps.start);
		if (stat("/proc/self/ns/pid", &st) == 0)
			r->pidns = (uint32_t)st.st_ino ? (uint32_t)st.st_ino : 1;
	}
	r->ident = ((uint64_t)(uint32_t)r->pid << LEASE_PID_SHIFT) | (start << 1);
}

enum ident_state { IDENT_DEAD, IDENT_ALIVE, IDENT_UNKNOWN };

/* Does the process named by owner word @w (namespace @ns) exist? */
static enum ident_state ident_state(struct ring *r, uint64_t w, uint32_t ns)
{
	pid_t pid = (pid_t)(w >> LEASE_PID_SHIFT);
	uint64_t start = (w >> 1) & LEASE_START_MASK;
	struct proc_stat ps;
	int err;

	if ((w & ~RL_LEASE_LOCKED) == r->ident)
		return IDENT_ALIVE; /* this process */
	if (!start || !r->pidns || ns != r->pidns || pid <= 0)
		return IDENT_UNKNOWN; /* cannot be told from here */
	err = read_proc_stat(pid, &ps, NULL);
	if (err == -ESRCH)
		return IDENT_DEAD;
	if (err)
		return IDENT_UNKNOWN;
	if (start_field(ps.start) != start)
		return IDENT_DEAD; /* the pid was given to another process */
	/* A zombie holds no files; a leader that exited before its threads
	 * shows as one too, but with threads left. */
	if ((ps.state == 'Z' || ps.state == 'X') && ps.threads <= 1)
		return IDENT_DEAD;
	return IDENT_ALIVE;
}

/* Is the owner named by @w, read from @word, alive? Unknown means yes. */
static bool word_alive(struct ring *r, uint64_t *word, uint64_t w,
		       uint32_t ns, uint64_t lock_off)
{
	bool alive;

	if (!w) /* a write lock without a word: an older library's owner */
		return rl_byte_locked_by_other(r, lock_off);
	if (w & RL_LEASE_LOCKED)
		alive = rl_byte_locked_by_other(r, lock_off) ||
			ident_state(r, w, ns) == IDENT_ALIVE;
	else
		alive = ident_state(r, w, ns) != IDENT_DEAD;
	/* A6: pairs with R6. Changed while we looked: somebody took or left
	 * it; say alive, the caller asks again later. */
	if (!alive && load_acquire(word) != w)
		return true;
	return alive;
}

bool rl_lease_alive(struct ring *r, uint64_t *word, uint32_t *ns,
		    uint64_t lock_off)
{
	/* A6: pairs with R6 in rl_lease_take() and rl_lease_drop(). */
	uint64_t w = load_acquire(word);

	return word_alive(r, word, w, load_relaxed(ns), lock_off);
}

/*
 * Try the write lock on @off: 1 when taken, 0 when only read locks are in
 * the way (or the kernel refuses locks), -EBUSY when a write lock is.
 */
static int try_write_lock(struct ring *r, uint64_t off)
{
	for (int tries = 0; tries < 3; tries++) {
		int err = rl_lock_byte(r, off, false);

		if (!err)
			return 1;
		if (err != -EBUSY)
			return 0;
		if (rl_byte_locked_by_other(r, off))
			return -EBUSY;
		/* Read locks, or a write lock dropped meanwhile: again. */
	}
	return 0;
}

int rl_lease_take(struct ring *r, uint64_t *word, uint32_t *ns,
		  uint64_t lock_off, uint64_t prev)
{
	int got;

	/* R6: the CAS is the ownership; seq_cst, so that what the previous
	 * owner wrote before its release (R6 in rl_lease_drop()) is seen by
	 * the caller's reads that follow. */
	if (!cas_seq_cst(word, prev, r->ident))
		return -EBUSY;
	store_relaxed(ns, r->pidns);
	RL_SCHED("lease:taken");
	got = try_write_lock(r, lock_off);
	if (got < 0) {
		/* A holder of the lock: one whose word we took by ABA, an
		 * older library, or a previous owner between its release and
		 * its unlock. Its word back. */
		store_release(word, prev);
		return -EBUSY;
	}
	if (got)
		/* R6: LOCKED only once the lock is ours; pairs with A6. */
		store_release(word, r->ident | RL_LEASE_LOCKED);
	return got;
}

int rl_lease_try(struct ring *r, uint64_t *word, uint32_t *ns,
		 uint64_t lock_off, uint64_t *prev)
{
	/* A6: pairs with R6 (the word of a holder, live or dead). The CAS
	 * is from the very word judged, never from a later one. */
	uint64_t w = load_acquire(word);

	if (word_alive(r, word, w, load_relaxed(ns), lock_off))
		return -EBUSY;
	if (prev)
		*prev = w;
	return rl_lease_take(r, word, ns, lock_off, w);
}

int rl_lease_take_wait(struct ring *r, uint64_t *word, uint32_t *ns,
		       uint64_t lock_off)
{
	const struct timespec pause = { 0, 1000000 };

	for (unsigned n = 0;; n++) {
		int got = rl_lease_try(r, word, ns, lock_off, NULL);

		if (got >= 0)
			return got;
		if (rl_broken(r))
			return -EIO;
		/* Holders keep it for microseconds: spin a little, then
		 * sleep in steps of a millisecond. */
		if (n < 64)
			cpu_relax();
		else
			nanosleep(&pause, NULL);
	}
}

void rl_lease_restore(struct ring *r, uint64_t *word, uint32_t *ns,
		      uint64_t lock_off, bool locked, uint64_t prev)
{
	uint64_t mine = r->ident | (locked ? RL_LEASE_LOCKED : 0);
	const struct timespec pause = { 0, 100000 };

	/* A taker holds it for microseconds; a word that stays another's
	 * for 100 ms is damage a writer did, and is left as it is. */
	for (unsigned n = 0; n < 1000; n++) {
		/* A6: pairs with R6 of a taker that holds it for a moment. */
		uint64_t w = load_acquire(word);

		/* R6: what was written under the lease, before the word;
		 * from our word, or from that of a taker that died holding
		 * it (only where the identity test cannot be told: one that
		 * can never takes a live holder's word). */
		if (w == mine || (w && !(w & RL_LEASE_LOCKED) &&
				  ident_state(r, w, load_relaxed(ns)) == IDENT_DEAD)) {
			if (cas_seq_cst(word, w, prev))
				break;
			continue;
		}
		if (!w || w == prev)
			break; /* not ours any more: damage; leave it */
		nanosleep(&pause, NULL);
	}
	RL_SCHED("lease:cleared");
	if (locked)
		rl_unlock_byte(r, lock_off);
}

void rl_lease_drop(struct ring *r, uint64_t *word, uint32_t *ns,
		   uint64_t lock_off, bool locked)
{
	rl_lease_restore(r, word, ns, lock_off, locked, 0);
}

// SPDX-License-Identifier: MIT
/*
 * proc.c - the process table: entries, liveness, reclaim (DESIGN H5, H6).
 *
 * Liveness is the kernel's word, never a timeout: an entry is held by a
 * lease (lease.c), an owner word taken by CAS plus an OFD write lock on the
 * entry's first byte, which the kernel drops when the owner dies (or, if a
 * reader's read locks kept the owner from locking, the owner's pid and
 * start time). Locks of the same open file description never conflict
 * with each other, so a handle treats its own entries as alive without
 * asking (the `owned` bitmap).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

__thread struct rl_tls_slot rl_tls[RL_TLS_SLOTS];
static __thread unsigned rl_tls_next;

/* An OFD lock request of @type on the one byte at file offset @off. */
static struct flock byte_lock(short type, uint64_t off)
{
	struct flock fl = {
		.l_type = type,
		.l_whence = SEEK_SET,
		.l_start = (off_t)off,
		.l_len = 1,
	};

	return fl;
}

/* Take (or, with @wait, wait for) the write lock on byte @off. */
int rl_lock_byte(struct ring *r, uint64_t off, bool wait)
{
	struct flock fl = byte_lock(F_WRLCK, off);

	/* A private copy (RING_OPEN_PRIVATE) is this process's alone and its
	 * descriptor cannot take write locks: "would the lock be granted?"
	 * is answered by the probe, and nothing is taken. */
	if (r->open_flags & RING_OPEN_PRIVATE)
		return rl_byte_locked_by_other(r, off) ? -EBUSY : 0;

	while (fcntl(r->fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EACCES)
			return -EBUSY;
		return -errno;
	}
	return 0;
}

void rl_unlock_byte(struct ring *r, uint64_t off)
{
	struct flock fl = byte_lock(F_UNLCK, off);

	if (r->open_flags & RING_OPEN_PRIVATE)
		return; /* nothing was taken */
	fcntl(r->fd, F_OFD_SETLK, &fl);
}

/*
 * Does a process other than this handle hold the write lock on byte @off?
 * The probe asks for a read lock, which only write locks conflict with:
 * a user who may only read the file can take read locks on any byte, but
 * never a write lock, so it cannot make a dead owner look alive (H14).
 * When the kernel cannot tell, the answer is yes: a live producer must
 * never be skipped.
 */
bool rl_byte_locked_by_other(struct ring *r, uint64_t off)
{
	struct flock fl = byte_lock(F_RDLCK, off);

	if (r->fd < 0 || fcntl(r->fd, F_OFD_GETLK, &fl) < 0)
		return true;
	return fl.l_type != F_UNLCK;
}

/* Is the owner of process entry @idx alive? */
bool rl_entry_alive(struct ring *r, uint32_t idx)
{
	struct rl_proc *e = &r->procs[idx];

	if (rl_owned(r, idx))
		return true;
	return rl_lease_alive(r, &e->owner, &e->owner_ns,
			      rl_proc_lock_off(r, idx));
}

static void set_bit(uint8_t *map, uint32_t idx, bool on)
{
	uint8_t bit = (uint8_t)(1u << (idx & 7));
	uint8_t v = load_relaxed(&map[idx >> 3]);

	store_relaxed(&map[idx >> 3], on ? v | bit : v & ~bit);
}

static void set_owned(struct ring *r, uint32_t idx, bool on, bool locked)
{
	set_bit(r->lease_locked, idx, on && locked);
	set_bit(r->owned, idx, on);
}

static bool lease_locked(const struct ring *r, uint32_t idx)
{
	return (r->lease_locked[idx >> 3] >> (idx & 7)) & 1;
}

/*
 * Can the entry of a dead owner be reused? Only once its claim (if any) no
 * longer matters: every active group has read past it.
 */
static bool claim_resolved(struct ring *r, struct rl_proc *e)
{
	uint32_t st = load_acquire(&e->claim_state) & RL_CLAIM_MASK;
	uint64_t end = load_relaxed(&e->claim_end);
	uint64_t tail = load_acquire(&r->hot->tail);

	if (st == RL_CLAIM_NONE)
		return true;
	return pos_diff(rl_refresh_min(r, tail), end) >= 0;
}

/*
 * Fold a dead (or closing) entry's counters into the ring's totals and take
 * back any eventcount announcement it left behind. Called with the entry's
 * lock held.
 */
static void retire_entry(struct ring *r, struct rl_proc *e)
{
	struct rl_hot *h = r->hot;
	uint32_t cs = load_relaxed(&e->claim_state);

	fetch_add_relaxed(&h->retired_committed, load_relaxed(&e->committed));
	fetch_add_relaxed(&h->retired_aborted, load_relaxed(&e->aborted));
	fetch_add_relaxed(&h->retired_dropped, load_relaxed(&e->dropped));
	/* A held claim nobody counted was lost with its owner. */
	if ((cs & RL_CLAIM_MASK) == RL_CLAIM_HELD && !(cs & RL_CLAIM_RECOVERED)) {
		uint64_t s = load_relaxed(&e->claim_start);

		if (load_acquire(&r->commit[s & r->mask]) != s + 1)
			fetch_add_relaxed(&h->recovered, 1);
	}
	/* A sleeper that died asleep left the eventcount's flag set: the
	 * next waker clears it with one needless wake (wait.c). */
	store_relaxed(&e->sleeping, RL_SLEEP_NONE);
	store_relaxed(&e->committed, 0);
	store_relaxed(&e->aborted, 0);
	store_relaxed(&e->dropped, 0);
	store_relaxed(&e->claim_state, RL_CLAIM_NONE);
}

/*
 * Allocate a process-table entry for this handle. The entry's lease is the
 * allocation's mutual exclusion: whoever takes it owns the entry.
 * Returns 0 and *@idx, or -EUSERS when every entry is live or unresolved.
 */
int rl_entry_alloc(struct ring *r, uint32_t role, uint32_t *idx)
{
	uint32_t n = r->geo.procs;
	uint32_t start = (uint32_t)getpid() % n;
	struct timespec now;

	for (uint32_t k = 0; k < n; k++) {
		uint32_t i = (start + k) % n;
		struct rl_proc *e = &r->procs[i];
		uint64_t off = rl_proc_lock_off(r, i), prev;
		int locked;

		if (rl_owned(r, i))
			continue;
		locked = rl_lease_try(r, &e->owner, &e->owner_ns, off, &prev);
		if (locked < 0)
			continue;
		if (load_acquire(&e->state) != RL_PROC_FREE) {
			if (!claim_resolved(r, e)) {
				/* The dead owner's claim still matters. */
				rl_lease_restore(r, &e->owner, &e->owner_ns,
						 off, locked, prev);
				continue;
			}
			retire_entry(r, e);
		}
		clock_gettime(CLOCK_REALTIME, &now);
		store_relaxed(&e->pid, (uint32_t)getpid());
		store_relaxed(&e->tid, (uint32_t)syscall(SYS_gettid));
		store_relaxed(&e->role, role);
		store_relaxed(&e->committed, 0);
		store_relaxed(&e->aborted, 0);
		store_relaxed(&e->dropped, 0);
		store_relaxed(&e->sleeping, RL_SLEEP_NONE);
		store_relaxed(&e->attach_ns,
			      (uint64_t)now.tv_sec * 1000000000ull + now.tv_nsec);
		store_relaxed(&e->claim_state, RL_CLAIM_NONE);
		/* R4: entry initialised before it is seen as used; pairs with
		 * A4 in the readers of the table (stats, recovery). */
		store_release(&e->state, RL_PROC_USED);
		set_owned(r, i, true, locked);
		*idx = i;
		return 0;
	}
	return -EUSERS;
}

/* Give back an entry this handle owns (its claim must be closed). */
void rl_entry_release(struct ring *r, uint32_t idx)
{
	struct rl_proc *e = &r->procs[idx];

	if (!rl_owned(r, idx))
		return;
	bool locked = lease_locked(r, idx);

	retire_entry(r, e);
	store_release(&e->state, RL_PROC_FREE);
	set_owned(r, idx, false, false);
	rl_lease_drop(r, &e->owner, &e->owner_ns, rl_proc_lock_off(r, idx),
		      locked);
}

/*
 * Reclaim the entries of dead processes whose claims are resolved, so that a
 * ring opened and killed many times does not fill up, and so that a killed
 * sleeper's announcement no longer makes wakers enter the kernel. Called at
 * open.
 */
void rl_sweep_dead(struct ring *r)
{
	for (uint32_t i = 0; i < r->geo.procs; i++) {
		struct rl_proc *e = &r->procs[i];
		uint64_t off = rl_proc_lock_off(r, i), prev;
		int locked;

		/* A4: pairs with R4 in rl_entry_alloc(). */
		if (load_acquire(&e->state) != RL_PROC_USED || rl_owned(r, i))
			continue;
		locked = rl_lease_try(r, &e->owner, &e->owner_ns, off, &prev);
		if (locked < 0)
			continue; /* alive */
		if (load_acquire(&e->state) == RL_PROC_USED &&
		    claim_resolved(r, e)) {
			retire_entry(r, e);
			store_release(&e->state, RL_PROC_FREE);
			prev = 0;
		}
		rl_lease_restore(r, &e->owner, &e->owner_ns, off, locked, prev);
	}
	rl_group_clear_abandoned(r);
}

/*
 * The slow path of rl_producer_entry(): find or allocate this thread's
 * entry and put it in the thread's cache.
 */
int rl_producer_entry_slow(struct ring *r, struct rl_local **lp)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);
	struct rl_local *l;
	int err = 0;

	if (r->forked)
		return -ECHILD;
	if (r->open_flags & RING_OPEN_RDONLY)
		return -EROFS;
	pthread_mutex_lock(&r->lock);
	for (l = r->locals; l; l = l->next)
		if (l->tid == tid)
			break;
	if (!l) {
		l = calloc(1, sizeof(*l));
		if (!l) {
			err = -ENOMEM;
			goto out;
		}
		err = rl_entry_alloc(r, RL_ROLE_PRODUCER, &l->idx);
		if (err) {
			free(l);
			goto out;
		}
		l->tid = tid;
		l->me = &r->procs[l->idx];
		l->next = r->locals;
		r->locals = l;
	}
	rl_tls[rl_tls_next % RL_TLS_SLOTS].ring_id = r->id;
	rl_tls[rl_tls_next % RL_TLS_SLOTS].local = l;
	rl_tls_next++;
	*lp = l;
out:
	pthread_mutex_unlock(&r->lock);
	return err;
}

/* SPDX-License-Identifier: MIT */
/*
 * internal.h - the in-process state of a ring handle and the functions the
 * library's files share. Nothing here is part of the API.
 */
#ifndef LIBRING_INTERNAL_H
#define LIBRING_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "layout.h"
#include "order.h"
#include "ring.h"
#include "sched_point.h"

#define RL_DEFAULT_SPINS 1000u
#define RL_RUN_SLOTS 256u /* a single producer's room per claim (produce.c) */
#define RL_CLAIM_BACKOFF 128 /* pauses after a lost claim (produce.c) */
#ifndef RL_PREFETCH_BYTES
#define RL_PREFETCH_BYTES 1024u /* how far ahead in the slot area a
				 * producer asks for its lines (produce.c) */
#endif
#define RL_NO_ENTRY UINT32_MAX /* a reader that found the process table full */
#define RL_DEFAULT_RECOVERY_MS 100u
/* How often a waiting call looks at the file's size (sigbus.c). */
#define RL_SIZE_CHECK_NS 1000000000ull

/*
 * A producing thread's state, kept in process memory: its process-table
 * entry and its open claim. The file's copy of the claim is for other
 * processes (recovery); this one is what the thread trusts, so no byte of
 * the file can make a producer believe it holds a claim.
 */
struct rl_local {
	pid_t tid;
	uint32_t idx;		/* process-table entry */
	struct rl_proc *me;	/* &procs[idx] */
	bool claim_open;	/* a message (or batch) claimed, not committed */
	uint64_t claim_start;	/* its positions */
	uint64_t claim_end;
	/* Single producer: a run of room claimed ahead of the messages
	 * (produce.c). The entry's HELD claim is [claim, run_end). */
	bool run_open;
	uint64_t run_next;	/* first position of the run not yet used */
	uint64_t run_end;
	bool kicked;		/* kicked_min is set */
	uint64_t kicked_min;	/* minimum at this thread's last full-ring kick */
	struct rl_local *next;
};

struct ring {
	int fd;
	unsigned open_flags;   /* RING_OPEN_* */
	volatile int forked;   /* set in a child after fork(): handle unusable */
	uint32_t broken;       /* the file shrank or lost pages under the
				* mapping: every call gives -EIO (sigbus.c) */
	int sigbus_slot;       /* entry in sigbus.c's table of mappings */
	uint64_t size_checked_ns; /* last fstat of the file size (sigbus.c) */
	uint64_t id;	       /* unique per handle, for the per-thread cache */
	pid_t pid;	       /* of the process that opened it */
	uint64_t ident;	       /* owner word naming this process (lease.c) */
	uint32_t pidns;	       /* its pid namespace, 0 if unknown */

	uint8_t *map;	       /* start of the reserved address range */
	size_t map_len;	       /* file size + a second view of the slots */

	/* Validated geometry: a private copy, never re-read from the file. */
	struct rl_super geo;
	uint64_t mask;	       /* slot_count - 1 */
	uint32_t slot_shift;   /* log2(slot_size) */
	uint32_t max_slots;    /* slots of the largest message */

	struct rl_hot *hot;
	struct rl_group *groups;
	struct rl_seat *seats; /* groups * RL_MEMBERS_MAX */
	struct rl_proc *procs;
	uint64_t *commit;
	uint8_t *slots;

	uint32_t spins;
	uint32_t recovery_ms;
	bool membarrier_ok;    /* wakers may skip their fence (wait.c) */
	volatile bool send_in_run; /* ring_send() may take its short path:
				* single producer with runs, no
				* timestamps, writable; cleared in a
				* child after fork() (produce.c) */
	uint32_t prefetch_slots; /* single producer: how many slots ahead of
				  * a message it asks for lines (produce.c) */

	/* Serializes this handle's group-table changes and reader opens: the
	 * OFD locks that exclude other processes do not exclude two threads
	 * of one open file description. Taken before `lock`. */
	pthread_mutex_t table_lock;
	pthread_mutex_t lock;  /* guards locals, owned, readers */
	struct rl_local *locals; /* list; nodes live until ring_close */
	uint8_t *owned;	       /* bitmap of process entries this handle holds */
	uint8_t *lease_locked; /* of those, the ones it holds the lock of */
	struct ring_reader *readers;

	struct ring *next_open; /* list of open handles, for fork handling */
};

struct ring_reader {
	struct ring *r;
	uint32_t gidx;	       /* group table index */
	uint32_t pidx;	       /* process table index, or RL_NO_ENTRY */
	int seat_locked;       /* the group's lease came with its lock */
	uint64_t pos;	       /* next position to read (local copy of cursor) */
	uint64_t published;    /* last cursor value stored to the file */
	uint64_t released;     /* messages released, mirrors the group counter */
	unsigned peeked;       /* messages peeked and not yet released */
	uint64_t run;	       /* messages found without waiting, in a row */
	uint64_t stuck_pos;    /* position waited on since stuck_since */
	uint64_t stuck_since;  /* monotonic ns */
	uint64_t recovered_to; /* where the last recovery skip ended */
	bool recovered_to_valid;
	/* A shared group's member (shared.c): pos..end is the stretch it
	 * holds (empty when pos == end), seat its seat in the group. */
	bool shared;
	uint32_t seat;
	uint64_t end;
	uint64_t rescue_at;    /* monotonic ns of the next look for dead seats */
	struct ring_msg *taken; /* the messages of a stretch claim() took, */
	unsigned taken_i;      /* [taken_i, taken_n) not yet released; */
	unsigned taken_n;      /* taken_i == taken_n: walk the stretch */
	struct ring_reader *next;
};

/* ---- file.c ---- */
uint64_t rl_super_checksum(const struct rl_super *sb);
int rl_geometry(struct rl_geometry *g, uint32_t slot_size, uint64_t slot_count,
		uint32_t groups, uint32_t procs, uint32_t page_size);

/* ---- path.c ---- */
/* openat() resolving no symbolic link in any component; fd or -errno. */
int rl_path_openat(int dirfd, const char *path, int flags, mode_t mode);
/* The directory of @path (O_PATH, no link followed) and its last name. */
int rl_path_parent(const char *path, int *dirfd, const char **base);
/* @path, or for a name without a slash RING_DEFAULT_DIR/@path built in
 * @buf (@len bytes); NULL if that does not fit. */
const char *rl_path_full(const char *path, char *buf, size_t len);
/* An unnamed file in @dirfd (*@hidden), else @base created O_EXCL. */
int rl_path_create_hidden(int dirfd, const char *base, mode_t mode,
			  bool *hidden);
/* Give the unnamed file @fd the name @base in @dirfd; -EEXIST if taken. */
int rl_path_publish(int fd, int dirfd, const char *base);

/* ---- sigbus.c ---- */
int rl_sigbus_register(struct ring *r, bool install);
void rl_sigbus_unregister(struct ring *r);
int rl_size_check(struct ring *r);
int rl_size_check_every(struct ring *r, uint64_t now);

/* True once the handle lost pages of its mapping (set by the handler). */
static inline bool rl_broken(const struct ring *r)
{
	return unlikely(load_relaxed(&r->broken) != 0);
}

/* ---- fork.c ---- */
void rl_register_handle(struct ring *r);
void rl_unregister_handle(struct ring *r);

/* ---- proc.c ---- */
int rl_entry_alloc(struct ring *r, uint32_t role, uint32_t *idx);
void rl_entry_release(struct ring *r, uint32_t idx);
bool rl_entry_alive(struct ring *r, uint32_t idx);
int rl_producer_entry_slow(struct ring *r, struct rl_local **l);
void rl_sweep_dead(struct ring *r);
int rl_lock_byte(struct ring *r, uint64_t off, bool wait);
void rl_unlock_byte(struct ring *r, uint64_t off);
bool rl_byte_locked_by_other(struct ring *r, uint64_t off);

/* ---- lease.c ---- */
/* Fill r->ident and r->pidns for the process that opens @r. */
void rl_lease_ident(struct ring *r);
/* Is the lease in @word (with its namespace @ns, lock byte @lock_off)
 * held by a live process other than this handle? Unknown means yes. */
bool rl_lease_alive(struct ring *r, uint64_t *word, uint32_t *ns,
		    uint64_t lock_off);
/* Take the lease if @word still holds @prev (0: free, else a dead owner
 * the caller judged): 1 with the write lock, 0 without (a reader's read
 * locks were in the way), or -EBUSY. */
int rl_lease_take(struct ring *r, uint64_t *word, uint32_t *ns,
		  uint64_t lock_off, uint64_t prev);
/* Take the lease if it is free or its owner is dead (*@prev: the word
 * found, for rl_lease_restore()): as rl_lease_take(). */
int rl_lease_try(struct ring *r, uint64_t *word, uint32_t *ns,
		 uint64_t lock_off, uint64_t *prev);
/* Take the lease, waiting while a live process holds it: as
 * rl_lease_take(), or -EIO. */
int rl_lease_take_wait(struct ring *r, uint64_t *word, uint32_t *ns,
		       uint64_t lock_off);
/* Hand a lease taken from @prev (a dead owner) back to @prev; @locked is
 * what the take returned. */
void rl_lease_restore(struct ring *r, uint64_t *word, uint32_t *ns,
		      uint64_t lock_off, bool locked, uint64_t prev);
/* Give a lease up: the word first, then the lock. */
void rl_lease_drop(struct ring *r, uint64_t *word, uint32_t *ns,
		   uint64_t lock_off, bool locked);

/* ---- group.c ---- */
uint64_t rl_refresh_min(struct ring *r, uint64_t tail);
void rl_group_clear_abandoned(struct ring *r);
int rl_group_find(struct ring *r, const char *name);
int rl_group_name_ok(const char *name);
uint64_t rl_group_lock_off(const struct ring *r, uint32_t gidx);
/* The tail, or the first position not yet committed of a claim held now
 * (@last_only: of the one ending at the tail) if that is smaller. */
uint64_t rl_newest_start(struct ring *r, uint64_t tail, bool last_only);
int rl_group_lease_try(struct ring *r, uint32_t gi);
void rl_group_lease_drop(struct ring *r, uint32_t gi, int locked);
bool rl_group_lease_alive(struct ring *r, uint32_t gi);

/* ---- wait.c ---- */
void rl_membarrier_register(struct ring *r);
int rl_membarrier_all(void);
uint64_t rl_now_ns(void);
uint64_t rl_deadline_ns(const struct timespec *deadline);
void rl_wake_slow(struct rl_eventcount *ec);
int rl_ec_wait(struct ring *r, struct rl_eventcount *ec, struct rl_proc *me,
	       uint32_t sleep_kind, bool (*ready)(void *), void *arg,
	       uint64_t wake_at_ns, bool intr);
void rl_spin_yield(const char *point);

/* Pauses in one round of a spinning wait: about 10 us here. A waiter that
 * polls a whole round without progress gives up its CPU once
 * (rl_spin_yield()) before the next round. */
#define RL_SPIN_ROUND 512

/* Does a waiter that has polled @spun pauses poll on, rather than sleep
 * (UINT32_MAX spins: it never sleeps)? */
static inline bool rl_polls_on(const struct ring *r, uint32_t spun)
{
	return r->spins == UINT32_MAX || spun < r->spins;
}

/* ---- recover.c ---- */
bool rl_resolve_stuck(struct ring *r, uint64_t c, uint64_t *skip_to,
		      bool continued, bool count_it);
uint64_t rl_next_known_start(struct ring *r, uint64_t c, uint64_t tail);

/* ---- produce.c ---- */
void rl_abort_claim_of(struct ring *r, struct rl_local *l);
/* Abort an open claim and close the run of thread state @l (at close). */
void rl_producer_close(struct ring *r, struct rl_local *l);

/* ---- consume.c ---- */
void rl_reader_free(struct ring_reader *rd);
int rl_reader_wait(struct ring_reader *rd, uint64_t at, unsigned flags,
		   uint64_t dl, uint64_t wake_by, uint32_t *spun,
		   uint64_t *skip_to);

/* ---- shared.c: shared groups' members ---- */
struct rl_seat *rl_seat_of(struct ring *r, uint32_t gi, uint32_t s);
uint64_t rl_seat_lock_off(const struct ring *r, uint32_t gi, uint32_t s);
void rl_shared_init(struct ring *r, uint32_t gi, unsigned flags);
int rl_shared_idle(struct ring *r, uint32_t gi);
void rl_shared_reset(struct ring *r, uint32_t gi);
int rl_member_open(struct ring *r, uint32_t gi, struct ring_reader *rd);
void rl_member_close(struct ring_reader *rd);
int rl_member_peek(struct ring_reader *rd, struct ring_msg *msgs, unsigned max,
		   unsigned flags, const struct timespec *deadline);
int rl_member_release(struct ring_reader *rd, unsigned n);
int rl_member_poll(struct ring_reader *rd, ring_handler_fn fn, void *arg,
		   unsigned max, unsigned flags, const struct timespec *deadline);
int rl_member_skip(struct ring_reader *rd);
uint64_t rl_member_position(const struct ring_reader *rd);
bool rl_shared_alive(struct ring *r, uint32_t gi);
/* A shared group's next position, and setting it (repair: not a claim). */
uint64_t rl_shared_next(struct ring *r, uint32_t gi);
void rl_shared_set_next(struct ring *r, uint32_t gi, uint64_t pos);
uint64_t rl_shared_released(struct ring *r, uint32_t gi);
/* What rl_message_at() found at a position. */
enum { AT_NOTHING = 0, AT_MESSAGE = 1, AT_SKIP = 2 };
int rl_message_at(struct ring *r, uint64_t c, struct ring_msg *m);

/* ---- helpers ---- */

/*
 * The cached-minimum word (hot->cached_min): the low RL_MIN_POS_BITS bits of
 * the slowest cursor, and above them a generation that every lowering by a
 * group create or reset bumps. A refresher stores its scan with a CAS from
 * the word it read before scanning, so a scan that missed a new group
 * always fails to store (group.c). Positions are recovered against the
 * tail: the minimum is never more than slot_count (< 2^RL_MIN_POS_BITS)
 * behind it.
 */
#define RL_MIN_POS_BITS 44
#define RL_MIN_POS_MASK ((1ull << RL_MIN_POS_BITS) - 1)
#define RL_MIN_GEN_ONE (1ull << RL_MIN_POS_BITS)

/* Slots between the minimum in word @w and @tail; above slot_count when
 * the word is stale (ahead of the tail) or damaged. */
static inline uint64_t rl_min_used(uint64_t tail, uint64_t w)
{
	return (tail - w) & RL_MIN_POS_MASK;
}

/*
 * Order a producer's intent before its load of the cached minimum. A group
 * creator's membarrier() supplies the fence for processes registered for
 * it (group.c); others pay a real one.
 */
static inline void rl_intent_fence(struct ring *r)
{
	if (likely(r->membarrier_ok))
		cmm_barrier();
	else
		full_fence();
}

/*
 * Wake every sleeper of @ec if one is announced (wait.c explains the
 * protocol). Called after the caller's store that the sleepers wait for.
 */
static inline void rl_wake(struct ring *r, struct rl_eventcount *ec)
{
	/* Order the caller's store before the load of the flag: the
	 * waiter's membarrier() makes a compiler barrier enough here. */
	if (likely(r->membarrier_ok))
		cmm_barrier();
	else
		full_fence();
	if (unlikely(load_relaxed(&ec->waiters) != 0))
		rl_wake_slow(ec);
}

/* Slots needed by a message of @len payload bytes. */
static inline uint32_t rl_msg_slots(const struct ring *r, uint64_t len)
{
	return (uint32_t)((r->geo.hdr_size + len + r->geo.slot_size - 1) >>
			  r->slot_shift);
}

/*
 * Ask for the cache line at @p with the intent to write it (x86: PREFETCHW,
 * a no-op on processors without it). A hint: it never faults, even on a
 * page the file no longer has, and changes no memory.
 */
static inline void rl_prefetch_write(const void *p)
{
#if defined(__x86_64__) || defined(__i386__)
	/* __builtin_prefetch(p, 1) gives a read prefetch unless the target
	 * has PRFCHW; the opcode is a hint (a no-op) everywhere. */
	__asm__ __volatile__("prefetchw %0" : : "m"(*(const char *)p));
#else
	__builtin_prefetch(p, 1, 3);
#endif
}

/* Address of the slot of position @pos. */
static inline uint8_t *rl_slot(const struct ring *r, uint64_t pos)
{
	return r->slots + ((pos & r->mask) << r->slot_shift);
}

/* File offset of the lock byte of process entry @idx. */
static inline uint64_t rl_proc_lock_off(const struct ring *r, uint32_t idx)
{
	return r->geo.proc_off + (uint64_t)idx * sizeof(struct rl_proc);
}

static inline bool rl_owned(const struct ring *r, uint32_t idx)
{
	return (load_relaxed(&r->owned[idx >> 3]) >> (idx & 7)) & 1;
}

/* The per-thread cache of producer entries, see produce.c. */
struct rl_tls_slot {
	uint64_t ring_id;	/* never reused, so a stale slot never matches */
	struct rl_local *local;
};
#define RL_TLS_SLOTS 4
extern __thread struct rl_tls_slot rl_tls[RL_TLS_SLOTS];

/* This thread's producer state of @r, allocating an entry on first use. */
static inline int rl_producer_entry(struct ring *r, struct rl_local **l)
{
	for (int k = 0; k < RL_TLS_SLOTS; k++) {
		if (rl_tls[k].ring_id == r->id) {
			*l = rl_tls[k].local;
			return 0;
		}
	}
	return rl_producer_entry_slow(r, l);
}

/* This thread's state for @r if the per-thread cache holds it, else NULL
 * (it may still exist: rl_producer_entry() finds it). */
static inline struct rl_local *rl_cached_local(const struct ring *r)
{
	for (int k = 0; k < RL_TLS_SLOTS; k++)
		if (rl_tls[k].ring_id == r->id)
			return rl_tls[k].local;
	return NULL;
}

#endif /* LIBRING_INTERNAL_H */

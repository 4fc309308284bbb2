/* SPDX-License-Identifier: MIT */
/*
 * ring.h - libring: messages between processes through one memory-mapped file.
 *
 * A ring is a file. A name without a slash ("events") means a ring in
 * RING_DEFAULT_DIR (/dev/shm/events) for ring_create(), ring_open() and
 * ring_unlink() alike, as for the programs; write "./events" for a ring in
 * the current directory. Producers claim room in it,
 * write a message in place and commit it; readers of named consumer groups see
 * the message where it lies and release it when done. Every group receives
 * every message. In steady state no call makes a system call per message.
 *
 * Conventions
 *   - Every function returns 0 (or a count) on success and a negative errno
 *     value on failure; ring_strerror() turns either into text.
 *   - The library never prints, exits or aborts, whatever the file contains.
 *   - Deadlines are absolute CLOCK_MONOTONIC times; NULL means "no deadline".
 *   - Positions are 64-bit slot sequence numbers that only grow.
 *
 * Concurrency (which calls may run at the same time)
 *
 *   call                              | same handle, other threads | other processes
 *   ----------------------------------+----------------------------+----------------
 *   ring_send / ring_reserve / commit | yes (one open claim per    | yes
 *     / abort / ring_send_batch       | thread per handle)         |
 *   ring_reader_* on one reader       | no: one thread at a time   | -EBUSY (one live
 *                                     |                            | reader per group)
 *   ring_group_create/remove/reset,   | yes (serialized inside the | yes (serialized by
 *     ring_reader_open                |  handle)                   |  the file's locks)
 *   ring_stats / ring_group_stats     | yes                        | yes
 *   ring_observer_* on one observer   | no: one thread at a time   | yes (any number,
 *                                     |                            | nobody waits)
 *   ring_close                        | no: last call on a handle  | yes
 *   ring_sigbus_recover               | yes, also in a signal handler (async-signal-safe)
 *   ring_sigbus_handler               | not while another thread changes SIGBUS's action
 *
 * Forking: a child process inherits the mapping but must not use the
 * parent's handles; the library closes their descriptors in the child (so
 * the child cannot keep the parent's liveness locks alive) and every call on
 * such a handle that returns an int returns -ECHILD, except ring_close() and
 * ring_reader_close(), which free it. Open the ring again in the child.
 *
 * Groups: with no group at all, producers are never held back and old
 * messages are overwritten (not counted as dropped); create the groups
 * (ringctl create, ring_group_create) before producers start if nothing may
 * be lost. A group created (or reset) while producers run starts at a
 * message producers will not overwrite any more: within one ring of every
 * claim in flight, and from then on it holds producers back like any other.
 * Payload alignment: every payload (ring_msg.data, ring_claim.data) starts
 * at a multiple of RING_PAYLOAD_ALIGN (8) bytes, and of 16 in a ring whose
 * slot size is 16 or more and that records no timestamps (the header is 16
 * bytes then): ring_payload_align() tells which for a given ring. A struct
 * needing no more may be read and written in place by a cast.
 *
 * Liveness is per process: a thread that exits while it holds a claim keeps
 * readers waiting on that claim until its process exits or closes the ring.
 *
 * A file that shrinks or loses pages under the mapping (SIGBUS)
 *   Whoever may write the file can truncate it, and a sparse copy of a ring
 *   on a full tmpfs cannot allocate the pages it lacks; touching such a page
 *   of a mapping raises SIGBUS, which kills a process by default. So the
 *   first ring_open() or ring_create() installs a process-wide SIGBUS
 *   handler (sigaction with SA_SIGINFO | SA_ONSTACK | SA_NODEFER |
 *   SA_RESTART). For a fault inside a ring's mapping it maps an anonymous
 *   zero page over the faulting page, so the access completes (reads see
 *   zeros, writes go nowhere), marks that handle broken and returns. From
 *   then on every call on the handle that returns an int returns -EIO
 *   ("ring file changed size or lost pages while mapped"), calls under way
 *   included: waiting readers and producers look at the flag, and at the
 *   file's size with fstat(), before they sleep and at least once a second
 *   while they wait. Close the handle (ring_close() is safe) and open the
 *   ring again if it still exists. Message data read in place from a lost
 *   page (a ring_msg's payload) reads as zeros; the call after it says
 *   -EIO. A produce call on a broken handle publishes nothing.
 *
 *   Any other SIGBUS (outside every ring mapping, or sent with kill()) goes
 *   to the action that was in place when the library installed its handler:
 *   that handler is called (under its sa_mask), or the default action is
 *   taken (the process dies of SIGBUS, as it would have without libring).
 *   An application that installs its own SIGBUS handler later replaces the
 *   library's; it can then ask the library from its handler, as below.
 *
 *   Declining: open with RING_OPEN_NO_SIGBUS_HANDLER (that call installs
 *   nothing), or call ring_sigbus_handler(0) before the first open (or
 *   later, to put the previous action back). The library still records
 *   every mapping, so an application's own handler can do
 *
 *       static void on_bus(int sig, siginfo_t *si, void *uc)
 *       {
 *               if (si->si_code > 0 && ring_sigbus_recover(si->si_addr))
 *                       return;  // a ring's page: replaced, handle broken
 *               ...              // the application's own faults
 *       }
 *
 *   Sanitizers: AddressSanitizer installs its own SIGBUS handler at start
 *   (handle_sigbus=1, the default); the library's replaces it and chains to
 *   it for faults outside rings, so both work. With handle_sigbus=0 the
 *   previous action is the default one.
 */
#ifndef LIBRING_RING_H
#define LIBRING_RING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this header; ring_version() gives the library's. */
#define RING_VERSION_MAJOR 0
#define RING_VERSION_MINOR 1
#define RING_VERSION_PATCH 0
#define RING_VERSION_NUMBER (RING_VERSION_MAJOR * 10000 + \
			     RING_VERSION_MINOR * 100 + RING_VERSION_PATCH)

/* Where a ring named without a slash lives. */
#define RING_DEFAULT_DIR "/dev/shm"

/* The alignment every payload has at least (see the top of this file). */
#define RING_PAYLOAD_ALIGN 8u

/* Opaque handles. */
struct ring;
struct ring_reader;
struct ring_observer;

/* What a producer does when the ring is full (per ring default, per call). */
enum ring_full_policy {
	RING_FULL_DEFAULT = 0, /* per call: use the ring's default */
	RING_FULL_WAIT = 1,    /* wait for room, until the deadline */
	RING_FULL_FAIL = 2,    /* fail at once with -EAGAIN */
	RING_FULL_DROP = 3,    /* discard the message, count it, return -ENOBUFS */
};

/* Creation flags (struct ring_config.flags). */
#define RING_CFG_TIMESTAMPS 0x1u /* every message records CLOCK_REALTIME ns */

/* ring_open() flags. */
#define RING_OPEN_RDONLY 0x1u	     /* map read-only: stats and info only */
#define RING_OPEN_SINGLE_PRODUCER 0x2u /* caller promises to be the only producer
					* anywhere: room is claimed in runs of
					* 256 slots by a plain store, messages
					* placed in them (ring_create(3)) */
#define RING_OPEN_PREFAULT 0x4u	     /* touch every page at open (MAP_POPULATE) */
#define RING_OPEN_FOREIGN 0x8u	     /* accept a ring owned by another user
					(ring_open; see H15 in its page) */
#define RING_OPEN_NO_SIGBUS_HANDLER 0x10u /* do not install the SIGBUS handler
					  * (see the top of this file) */
#define RING_OPEN_PRIVATE 0x20u /* open O_RDONLY, map copy-on-write
				 * (MAP_PRIVATE): writes, e.g. ring_repair(),
				 * change this process's copy, never the file */

/* Per-call flags of the produce calls: the low two bits are a policy. */
#define RING_POLICY_MASK 0x3u
/* Per-call flag of the read calls: return -EAGAIN instead of waiting. */
#define RING_NONBLOCK 0x4u
/* Per-call flag of every waiting call: return -EINTR when a signal
 * interrupts the sleep (by default the wait goes on). The signal's handler
 * must be installed without SA_RESTART; a signal that arrives while the call
 * is still polling, before it sleeps, is noticed only at the next sleep. */
#define RING_INTR 0x8u

/* ring_group_create() / ring_reader_open() flags. */
#define RING_FROM_OLDEST 0x0u /* a new group starts at the oldest retained message */
#define RING_FROM_NEWEST 0x1u /* a new group starts after the newest message */
#define RING_GROUP_CREATE 0x2u /* ring_reader_open: create the group if missing */
#define RING_GROUP_SHARED 0x4u /* a new group is shared: its messages are
				* shared out among its members (work sharing) */
/* The member limit of a new shared group, 1..RING_MEMBERS_MAX (0: the most). */
#define RING_GROUP_MEMBERS(n) (((unsigned)(n) & 0xffu) << 16)
#define RING_MEMBERS_MAX 64

#define RING_GROUP_NAME_MAX 47 /* bytes of a group name, without the NUL */

/* Parameters of a new ring; ring_config_init() fills in the defaults. */
struct ring_config {
	uint64_t capacity;    /* bytes of message space: power of two >= page size
			       * (default 64 MiB) */
	uint32_t slot_size;   /* allocation unit: power of two, 8..4096
			       * (default 16) */
	uint32_t max_message; /* largest payload in bytes; 0 (the default) means
			       * capacity / 4 less the header, at most 16 MiB */
	uint32_t groups;      /* entries in the group table (default 16) */
	uint32_t processes;   /* entries in the process table: one per producing
			       * thread or reader (default 256) */
	uint32_t full_policy; /* enum ring_full_policy (default RING_FULL_WAIT) */
	uint32_t mode;	      /* file mode (default 0600) */
	uint32_t flags;	      /* RING_CFG_* */
	uint32_t reserved[7]; /* must be zero (-EINVAL otherwise) */
};

/* A message as a reader sees it, in place in the shared mapping. */
struct ring_msg {
	const void *data;  /* payload; valid until released */
	uint32_t len;	   /* payload bytes */
	uint32_t type;	   /* the producer's type tag */
	uint64_t pos;	   /* position of the message in the ring */
	uint32_t pid;	   /* process id of the producer (as it recorded it) */
	uint32_t slots;	   /* slots the message occupies */
	uint64_t timestamp; /* CLOCK_REALTIME ns if the ring records it, else 0 */
};

/* A claim: room reserved by ring_reserve(), to be committed or aborted. */
struct ring_claim {
	void *data;	/* where to write the payload (len bytes) */
	uint32_t len;	/* payload bytes reserved */
	uint32_t type;	/* type tag; may be changed before commit */
	uint64_t pos;	/* position of the message */
	uint32_t slots; /* slots the message occupies */
	uint32_t _priv; /* internal */
};

/* One message for ring_send_batch(). */
struct ring_out {
	const void *data;
	uint32_t len;
	uint32_t type;
};

/* Ring-wide counters (ring_stats). Totals over all processes, ever. */
struct ring_stats {
	uint64_t capacity;	/* bytes of message space */
	uint64_t slot_size;
	uint64_t slot_count;
	uint64_t max_message;
	uint64_t tail;		/* next position to claim */
	uint64_t min_cursor;	/* slowest active group's cursor (tail if none) */
	uint64_t committed;	/* messages committed */
	uint64_t aborted;	/* claims aborted by their producer */
	uint64_t dropped;	/* messages discarded under RING_FULL_DROP */
	uint64_t recovered;	/* claims of dead producers turned into skips */
	uint32_t groups;	/* active groups */
	uint32_t processes;	/* attached (live) process-table entries */
	uint32_t producers;	/* of which producing */
	uint32_t readers;	/* of which reading */
	uint32_t full_policy;
	uint32_t flags;		/* RING_CFG_* the ring was created with */
	uint64_t created_ns;	/* CLOCK_REALTIME of creation */
	uint32_t version;	/* on-file format version */
	uint32_t hdr_size;	/* bytes of header before each payload */
	uint64_t file_size;	/* bytes of the ring file */
};

/* One attached process-table entry (ring_proc_list). */
struct ring_proc_info {
	pid_t pid;
	pid_t tid;		/* the producing thread (readers: opener) */
	uint32_t role;		/* RING_ROLE_* */
	int alive;		/* 1 if its process still holds it */
	int claim_open;		/* 1 while it holds an uncommitted claim */
	uint64_t committed;	/* messages it committed */
	uint64_t aborted;
	uint64_t dropped;
	uint64_t attach_ns;	/* CLOCK_REALTIME when it attached */
	char group[RING_GROUP_NAME_MAX + 1]; /* readers: the group read */
};
#define RING_ROLE_PRODUCER 0x1u
#define RING_ROLE_READER 0x2u

/* Per-group counters (ring_group_stats). */
struct ring_group_stats {
	char name[RING_GROUP_NAME_MAX + 1];
	uint64_t cursor;	/* next position this group reads */
	uint64_t released;	/* messages released by this group's readers */
	uint64_t lag_slots;	/* tail - cursor */
	uint64_t lag_bytes;	/* lag_slots * slot_size */
	uint64_t lag_messages;	/* committed messages between cursor and tail */
	int reader_alive;	/* 1 if a live process holds the reader */
	pid_t reader_pid;	/* last reader's pid (0 if never read) */
};

/* One seat of a shared group (ring_group_members). */
struct ring_member_info {
	pid_t pid;		/* the member's pid (the last one's, if none now) */
	int alive;		/* 1 if a live process holds the seat */
	uint64_t held_from;	/* the messages it holds: [held_from, held_to) */
	uint64_t held_to;	/* (equal when it holds none) */
	uint64_t held;		/* how many messages that stretch has */
	uint64_t released;	/* messages released from this seat, ever */
};

/* Handler for ring_poll(): return 0 to go on, non-zero to stop after this
 * message (it is released all the same). */
typedef int (*ring_handler_fn)(const struct ring_msg *msg, void *arg);

/*
 * ring_version - the version of the library actually loaded, as
 * RING_VERSION_NUMBER encodes it (major * 10000 + minor * 100 + patch).
 * Compare with RING_VERSION_NUMBER to detect a header/library mismatch.
 * Never fails; may be called at any time from any thread.
 */
int ring_version(void);

/*
 * ring_config_init - fill @cfg with the defaults.
 */
void ring_config_init(struct ring_config *cfg);

/*
 * ring_create - create a new ring file at @path and open it.
 * @path: a path, or a name without a slash for RING_DEFAULT_DIR/@path.
 * @cfg: parameters, or NULL for the defaults.
 * @flags: RING_OPEN_* as for ring_open().
 *
 * The file is created with O_EXCL|O_NOFOLLOW (an existing file or a symlink
 * at @path is refused), its whole size is reserved up front (a full file
 * system fails here with -ENOSPC, never later with SIGBUS), every field is
 * initialised, and the magic number is published last so that a concurrent
 * ring_open() never sees a half-made ring.
 * Returns 0 and *@out, or -EEXIST, -EINVAL (bad @cfg), -ENOSPC, -errno.
 */
int ring_create(const char *path, const struct ring_config *cfg, unsigned flags,
		struct ring **out);

/*
 * ring_open - map an existing ring after validating it.
 * @path: a path, or a name without a slash for RING_DEFAULT_DIR/@path.
 *
 * Checks the magic, the format version, the superblock checksum, every size
 * and offset, and that the file's size is the one they imply. A file whose
 * magic is not yet published (still being created) is waited for briefly.
 * Any number of processes may have the same ring open.
 * Returns 0 and *@out, or: -ENOENT, -EACCES, -ELOOP (symlink), -EISDIR,
 * -EINPROGRESS (still being created), -ENOEXEC (not a ring file),
 * -EPROTONOSUPPORT (format version), -EUCLEAN (corrupt superblock),
 * -EDOM (impossible geometry), -ENODATA (file size does not match),
 * -EIO (the file shrank or lost pages while being opened), -EMFILE (more
 * than 1024 rings open in this process), -errno.
 * RING_OPEN_PRIVATE opens the file O_RDONLY and maps it copy-on-write:
 * writes (ring_repair()) change this process's copy only.
 * Unless @flags has RING_OPEN_NO_SIGBUS_HANDLER or ring_sigbus_handler(0)
 * was called, the library's SIGBUS handler is installed (once per process).
 */
int ring_open(const char *path, unsigned flags, struct ring **out);

/*
 * ring_close - unmap and release a handle. Claims still open on it are
 * aborted, its readers are closed (their cursors stay where the last release
 * left them). Returns 0. @r may be NULL. Works on a broken handle (-EIO).
 */
int ring_close(struct ring *r);

/*
 * ring_sigbus_handler - whether the library installs its SIGBUS handler
 * (see "A file that shrinks or loses pages" at the top of this file).
 * @install: 0 declines: no later open installs it, and if it is installed
 * and still in place it is replaced by the action it replaced; non-zero
 * installs it now (once per process) and lets later opens do so again.
 * Not async-signal-safe; call it while no other thread changes SIGBUS.
 * Returns 0 or -errno (from sigaction).
 */
int ring_sigbus_handler(int install);

/*
 * ring_sigbus_recover - for an application's own SIGBUS handler: if @addr
 * (the si_addr of a fault, si_code > 0) lies inside a ring mapping of this
 * process, map a zero page over its page, mark the handle broken (its calls
 * return -EIO) and return 1; the handler then returns and the access
 * completes. Returns 0 for any other address (not the library's fault).
 * Async-signal-safe; never fails otherwise.
 */
int ring_sigbus_recover(void *addr);

/*
 * ring_unlink - remove the ring file at @path (a name without a slash is
 * in RING_DEFAULT_DIR, as for ring_open; processes that have it open
 * keep using it until they close it). Refuses anything that is not a ring
 * file (-ENOEXEC) or a symlink (-ELOOP). Returns 0 or -errno.
 */
int ring_unlink(const char *path);

/*
 * ring_strerror - text for a value returned by any ring_* call (negative
 * errno or positive errno). Never NULL.
 */
const char *ring_strerror(int err);

/*
 * ring_max_message - largest payload this ring accepts, in bytes.
 */
uint32_t ring_max_message(const struct ring *r);

/*
 * ring_payload_align - the alignment in bytes that every payload of this
 * ring has: 16 when the slot size is 16 or more and the ring records no
 * timestamps, otherwise 8 (RING_PAYLOAD_ALIGN). Never fails.
 */
uint32_t ring_payload_align(const struct ring *r);

/*
 * ring_set_spin - how long a waiting call polls before it sleeps on a
 * futex, counted in CPU pause instructions (default 1000: about 20 us where
 * a pause takes 20 ns). 0 sleeps at once; UINT32_MAX never sleeps (busy
 * polling: lowest latency, one core kept busy). A call that polled a
 * round of 512 pauses without progress and polls on gives up its CPU once
 * (sched_yield) before the next round.
 */
void ring_set_spin(struct ring *r, uint32_t spins);

/*
 * ring_set_recovery_ms - how long a reader waits on a claim before it checks
 * whether the claiming process is still alive (default 100 ms). Dead
 * producers' claims are skipped and counted as recovered; live ones, however
 * slow, are waited for.
 */
void ring_set_recovery_ms(struct ring *r, uint32_t ms);

/* ---- producing --------------------------------------------------------- */

/*
 * ring_reserve - claim room for a message of @len payload bytes.
 * @flags: a RING_FULL_* policy (0 = the ring's default), | RING_INTR.
 * @deadline: for RING_FULL_WAIT; NULL waits without limit.
 *
 * On success @c->data points at @len writable bytes in the shared file,
 * contiguous even across the end of the ring. Write the payload there, then
 * call ring_commit() or ring_abort() from the same thread. A thread holds at
 * most one open claim per handle (a second ring_reserve gives -EBUSY).
 * Nothing is visible to readers before the commit.
 * Returns 0, or -EMSGSIZE (@len > max), -EAGAIN (full, RING_FULL_FAIL),
 * -ENOBUFS (full, RING_FULL_DROP: counted as dropped), -ETIMEDOUT,
 * -EINTR (a signal, with RING_INTR),
 * -EBUSY, -EROFS (read-only handle), -EUSERS (process table full), -ECHILD,
 * -EIO (the file shrank or lost pages: nothing is published, also when
 * that happened while waiting for room).
 */
int ring_reserve(struct ring *r, size_t len, uint32_t type, unsigned flags,
		 const struct timespec *deadline, struct ring_claim *c);

/*
 * ring_commit - publish a reserved message. Its payload writes are visible to
 * every reader that sees the message (release). Messages of one thread are
 * seen in commit order; across producers in claim order.
 * Returns 0, or -EINVAL if @c is not this thread's open claim.
 */
int ring_commit(struct ring *r, struct ring_claim *c);

/*
 * ring_abort - give up a reserved message; readers skip it. Counted as
 * aborted. Returns 0 or -EINVAL.
 */
int ring_abort(struct ring *r, struct ring_claim *c);

/*
 * ring_send - copy one message into the ring (reserve, copy, commit).
 * Same flags, deadline and errors as ring_reserve(). Returns 0.
 */
int ring_send(struct ring *r, uint32_t type, const void *data, size_t len,
	      unsigned flags, const struct timespec *deadline);

/*
 * ring_send_batch - copy up to @n messages with one claim (one atomic
 * operation for all of them). Once room is available (waiting as the policy
 * says) it claims room for as many of the first messages as fit, at least
 * one, and commits them in order. At most 256 messages go in one call, and
 * a message longer than the maximum ends the batch before it.
 * Returns the number sent (1..@n; the rest are the caller's to send again:
 * under RING_FULL_DROP too, only messages for which there was no room at
 * all are dropped), or a negative errno as ring_reserve() when none was
 * sent (-EMSGSIZE if the first is too long, -EINVAL for NULL or @n == 0).
 * Under RING_FULL_DROP a full ring drops (and counts) the whole batch and
 * returns -ENOBUFS.
 */
int ring_send_batch(struct ring *r, const struct ring_out *msgs, unsigned n,
		    unsigned flags, const struct timespec *deadline);

/* ---- groups ---------------------------------------------------------- */

/*
 * ring_group_create - add a named consumer group (name: 1..47 bytes, no
 * NUL). From now on producers keep every message until the group released
 * it. RING_FROM_OLDEST starts at the oldest message producers still keep:
 * the slowest other group's cursor, or with no other group the oldest
 * message not yet overwritten. RING_FROM_NEWEST starts after the newest.
 *
 * RING_GROUP_SHARED makes a shared group (work sharing): up to
 * RING_GROUP_MEMBERS(n) readers (default and at most RING_MEMBERS_MAX) may
 * read it at once, and each message goes to one of them. A member takes
 * the next messages nobody has taken, a batch at a time (one atomic
 * operation per batch), and releases them when handled; members finish in
 * any order, and the group's cursor (what producers wait for) is the
 * oldest position some member has not released. There is no order across
 * members; within one batch, messages are in position order. A member that
 * dies leaves its unreleased messages to another member or to the next
 * one that joins (at least once); a live member, also a stopped one,
 * keeps its own.
 * Returns 0, or -EEXIST, -ENOSPC (table full), -EINVAL (name, or a member
 * limit above RING_MEMBERS_MAX), -EROFS.
 */
int ring_group_create(struct ring *r, const char *name, unsigned flags);

/*
 * ring_group_remove - delete a group; producers no longer wait for it.
 * Returns 0, -ENOENT, or -EBUSY while a live reader holds it.
 */
int ring_group_remove(struct ring *r, const char *name);

/*
 * ring_group_reset - move a group's cursor to the oldest or newest message.
 * Returns 0, -ENOENT, or -EBUSY while a live reader holds it.
 */
int ring_group_reset(struct ring *r, const char *name, unsigned flags);

/*
 * ring_group_list - copy up to @max active group names into @names.
 * Returns the number of active groups (may exceed @max).
 */
int ring_group_list(struct ring *r, char (*names)[RING_GROUP_NAME_MAX + 1],
		    unsigned max);

/*
 * ring_group_members - the seats of shared group @name in use (held by a
 * live member, or by a dead one whose messages nobody has taken over yet),
 * up to @max of them into @out; the group's member limit into *@limit
 * (may be NULL). Returns the number of seats in use (may exceed @max),
 * -ENOENT, or -EMEDIUMTYPE if the group is not shared.
 */
int ring_group_members(struct ring *r, const char *name,
		       struct ring_member_info *out, unsigned max,
		       unsigned *limit);

/* ---- reading --------------------------------------------------------- */

/*
 * ring_reader_open - become the reader of group @group.
 * @flags: RING_GROUP_CREATE (create the group if missing) | RING_FROM_* |
 *         RING_GROUP_SHARED | RING_GROUP_MEMBERS(n) (for the group created).
 *
 * One live reader per group: a second gets -EBUSY while the holder's process
 * lives; a dead holder's group is taken over at its saved cursor. A full
 * process table does not keep a reader out (it then has no entry, and is
 * not listed by ring_proc_list()).
 *
 * A shared group takes readers up to its member limit (then -EBUSY), each
 * on a seat of its own. A member that joins where a dead member left
 * messages takes that seat and gets those messages first. The read calls
 * work on a member as on a reader, on the messages it takes: ring_peek()
 * takes one message, ring_peek_batch() and ring_poll() up to @max (at most
 * 64 at a time), each with one atomic operation on the group; what a
 * member has taken is its own until it releases it or dies. ring_reader_close()
 * gives back what it has taken and not released.
 * Returns 0 and *@out, or -ENOENT, -EBUSY, -EINVAL, -EROFS, -ENOSPC
 * (group table full, with RING_GROUP_CREATE).
 */
int ring_reader_open(struct ring *r, const char *group, unsigned flags,
		     struct ring_reader **out);

/*
 * ring_reader_close - give up the group. Its cursor stays where the last
 * release left it; an unreleased peeked message will be read again.
 */
int ring_reader_close(struct ring_reader *rd);

/*
 * ring_peek - the next message of the group, in place.
 * @flags: RING_NONBLOCK to return -EAGAIN at once when there is none;
 *         RING_INTR to return -EINTR when a signal interrupts the sleep.
 * @deadline: absolute CLOCK_MONOTONIC limit of the wait, NULL for none.
 *
 * The same message is returned until ring_release(). Skip records of aborted
 * or recovered claims are passed over. Every length is checked before use.
 * Returns 0 and *@msg, or -EAGAIN, -ETIMEDOUT, -EINTR (only with RING_INTR),
 * -EBADMSG (the message at the cursor is corrupt: ring_reader_skip() moves
 * past it), -ECHILD, -EIO (the file shrank or lost pages, also while
 * waiting).
 */
int ring_peek(struct ring_reader *rd, struct ring_msg *msg, unsigned flags,
	      const struct timespec *deadline);

/*
 * ring_release - done with the message ring_peek() returned: move the
 * group's cursor past it and publish the cursor (release: producers may
 * reuse its room only after this). Returns 0 or -EINVAL (nothing peeked).
 */
int ring_release(struct ring_reader *rd);

/*
 * ring_poll - hand up to @max messages to @fn, then publish the cursor once
 * for the whole batch. Waits (as ring_peek) only for the first message.
 * If the process dies inside the batch, the cursor has not moved: the next
 * reader of the group gets the batch again (at-least-once).
 * Returns the number of messages handled, or a negative errno as ring_peek.
 */
int ring_poll(struct ring_reader *rd, ring_handler_fn fn, void *arg,
	      unsigned max, unsigned flags, const struct timespec *deadline);

/*
 * ring_peek_batch - up to @max next messages of the group, in place, without
 * releasing any (zero-copy batch). Waits as ring_peek() for the first one
 * only. The messages stay valid and are returned again until released with
 * ring_release_n(); a process that dies before that leaves them to the next
 * reader. Returns the number of messages (>= 1) or a negative errno as
 * ring_peek().
 */
int ring_peek_batch(struct ring_reader *rd, struct ring_msg *msgs, unsigned max,
		    unsigned flags, const struct timespec *deadline);

/*
 * ring_release_n - release the first @n messages of those the last
 * ring_peek() or ring_peek_batch() returned, publishing the cursor once.
 * Returns 0, or -EINVAL if fewer than @n messages are peeked, -EBADMSG if
 * the file was damaged under the peeked messages (nothing is released),
 * -ECHILD.
 */
int ring_release_n(struct ring_reader *rd, unsigned n);

/*
 * ring_reader_skip - move past the message at the cursor that ring_peek()
 * reported as corrupt (-EBADMSG), to the next committed message.
 * Returns the number of slots skipped, or -errno.
 */
int ring_reader_skip(struct ring_reader *rd);

/*
 * ring_reader_position - the group's cursor as this reader sees it.
 */
uint64_t ring_reader_position(const struct ring_reader *rd);

/* ---- counters -------------------------------------------------------- */

/*
 * ring_stats - ring-wide counters and sizes. Counters are read without
 * stopping anybody, so they are a consistent-enough snapshot, not atomic.
 */
int ring_stats(struct ring *r, struct ring_stats *st);

/*
 * ring_proc_list - the entries of the process table in use (attached
 * producers and readers, and dead ones not yet reclaimed), up to @max of
 * them into @out. Returns how many entries are in use (may exceed @max).
 */
int ring_proc_list(struct ring *r, struct ring_proc_info *out, unsigned max);

/*
 * ring_group_stats - counters of group @name. Returns 0, -ENOENT.
 */
int ring_group_stats(struct ring *r, const char *name,
		     struct ring_group_stats *st);

/* ---- observing (read without consuming) -------------------------------- */

/* Where ring_observer_seek() puts an observer. */
#define RING_OBSERVE_OLDEST 0u /* the oldest message not yet overwritten */
#define RING_OBSERVE_NEWEST 1u /* after the newest: the next one committed */
#define RING_OBSERVE_AT 2u     /* the given position */

/* What an observer has seen (ring_observer_stats). */
struct ring_observer_stats {
	uint64_t position;  /* next position it reads */
	uint64_t delivered; /* messages returned intact */
	uint64_t lost;	    /* positions lost to overruns, in total */
	uint64_t overruns;  /* times it was overrun (-EOVERFLOW returned) */
	uint64_t last_lost; /* positions lost by the last overrun */
	uint64_t skipped;   /* positions passed over: aborted and dead claims,
			     * corrupt messages, the rest of a message a seek
			     * landed inside */
};

/*
 * ring_observer_open - watch the ring at @path without taking part in it.
 * @flags: 0 or RING_OPEN_FOREIGN | RING_OPEN_NO_SIGBUS_HANDLER |
 *         RING_OPEN_PREFAULT, as for ring_open().
 *
 * The file is opened O_RDONLY and mapped PROT_READ after the validation
 * ring_open() does, so read permission is enough and no byte of the file
 * is ever written through the observer. It takes no lock, no process-table
 * entry and no cursor: producers never wait for it, and it may be stopped
 * or killed at any time without effect on anybody. Producers therefore may
 * overwrite what it has not read yet (see ring_observer_copy()).
 * It starts at the oldest message (RING_OBSERVE_OLDEST).
 * Returns 0 and *@out, or the errors of ring_open(), -EINVAL, -ENOMEM.
 */
int ring_observer_open(const char *path, unsigned flags,
		       struct ring_observer **out);

/*
 * ring_observer_close - unmap and free @o. Returns 0. @o may be NULL.
 */
int ring_observer_close(struct ring_observer *o);

/*
 * ring_observer_ring - the read-only ring handle under @o, for
 * ring_stats(), ring_group_stats(), ring_check(), ring_set_spin() and
 * ring_set_recovery_ms(); every call that would write returns -EROFS.
 * Valid until ring_observer_close(); do not ring_close() it.
 */
struct ring *ring_observer_ring(struct ring_observer *o);

/*
 * ring_observer_seek - move @o to the oldest message still in the ring
 * (the first one that starts at most slot_count positions before the
 * tail), after the newest message (RING_OBSERVE_NEWEST), or to position
 * @pos (RING_OBSERVE_AT; a position already overwritten makes the next
 * read report the overrun, one inside a message skips to the next one).
 * Returns 0, or -EINVAL (bad @whence, @pos after the tail), -ECHILD, -EIO.
 */
int ring_observer_seek(struct ring_observer *o, unsigned whence, uint64_t pos);

/*
 * ring_observer_copy - copy the next message into @buf (@size bytes).
 * @flags: RING_NONBLOCK, RING_INTR as for ring_peek().
 * @deadline: absolute CLOCK_MONOTONIC limit of the wait, NULL for none.
 *
 * Waits as ring_peek() does, except that an observer cannot announce
 * itself to producers: after spinning it sleeps on the data eventcount for
 * at most the poll interval (ring_observer_set_poll()) at a time.
 * A message it returns is one a producer committed, byte for byte: after
 * copying it checks that no claim of a later lap has reached the slots it
 * copied (the tail is at most slot_count beyond the message's position).
 * If one has, the copy is discarded, the observer moves on to the oldest
 * message still intact beyond a guard band (slot_count / 16 positions
 * after the producers' overwrite front, so that it is not lapped again at
 * once) and -EOVERFLOW says how much was lost (ring_observer_stats():
 * last_lost positions, the guard band included). Skip records, and claims of
 * dead producers, are passed over as readers pass them.
 * On success *@msg describes the copy (@msg->data == @buf).
 * Returns 0, or -EOVERFLOW (overrun: nothing delivered, call again),
 * -EMSGSIZE (@size too small: @msg->len says what is needed, the
 * observer stays), -EAGAIN, -ETIMEDOUT, -EINTR, -EBADMSG (a corrupt message
 * was passed over), -EINVAL, -ECHILD, -EIO.
 */
int ring_observer_copy(struct ring_observer *o, struct ring_msg *msg,
		       void *buf, size_t size, unsigned flags,
		       const struct timespec *deadline);

/*
 * ring_observer_peek - the next message in place, without a copy.
 * Waits and reports as ring_observer_copy(). @msg->data points into the
 * read-only mapping, and producers may overwrite it at any moment: treat
 * what it shows as unconfirmed until ring_observer_release() says it was
 * intact. The same message is returned until then.
 * Returns 0, or the errors of ring_observer_copy() but -EMSGSIZE.
 */
int ring_observer_peek(struct ring_observer *o, struct ring_msg *msg,
		       unsigned flags, const struct timespec *deadline);

/*
 * ring_observer_release - done with the message ring_observer_peek()
 * returned: checks that nothing the caller read through @msg->data (before
 * this call) can have been overwritten, and moves past the message.
 * Returns 0 if it was intact, -EOVERFLOW if producers reached it meanwhile
 * (discard whatever was read through it; the observer moved on to the
 * oldest intact message and counted the loss), -EINVAL if nothing is
 * peeked, -EIO.
 */
int ring_observer_release(struct ring_observer *o);

/*
 * ring_observer_stats - what @o has delivered and lost so far.
 * Returns 0 or -EINVAL.
 */
int ring_observer_stats(const struct ring_observer *o,
			struct ring_observer_stats *st);

/*
 * ring_observer_set_poll - the longest sleep of a waiting observer call
 * between two looks at the ring, in microseconds (default 1000; at least
 * 1). Producers do not wake observers (they cannot announce themselves in
 * a file they may not write); a wake-up meant for a sleeping reader wakes
 * them too.
 */
void ring_observer_set_poll(struct ring_observer *o, uint32_t us);

/* ---- checking -------------------------------------------------------- */

/* What ring_check()/ring_repair() found. */
struct ring_check_report {
	uint32_t problems;	  /* inconsistencies found */
	uint32_t repaired;	  /* of which fixed by ring_repair */
	uint64_t dropped_slots;	  /* slots turned into skips by ring_repair */
	uint64_t dead_entries;	  /* process-table entries of dead processes */
	char first_problem[128];  /* description of the first problem */
	uint64_t dropped_stretches; /* runs of slots holding no committed
				     * message, each turned into one skip */
	uint64_t renumbered;	  /* committed messages written after damage
				   * to the tail, kept under repaired numbers */
};

/*
 * ring_check - verify a ring's consistency: cursors not ahead of the tail nor
 * more than a ring behind it, the commit words and headers of the retained
 * messages, the process table. Reads only. Returns 0 if consistent,
 * -EUCLEAN if problems were found (see @rep), or -errno.
 */
int ring_check(struct ring *r, struct ring_check_report *rep);

/*
 * ring_repair - bring a ring left half-written (e.g. by a crash, or copied
 * from a crashed machine) back to consistency: uncommitted or corrupt claims
 * behind the tail become skip records (each run counted in
 * dropped_stretches, its slots in dropped_slots), impossible cursors are
 * clamped, dead process entries are freed. A tail at an impossible
 * distance from every cursor is damage to the tail: the messages committed
 * after it are renumbered (renumbered) and the tail put after them, so
 * that no committed message is dropped. Committed messages are never
 * skipped by a repair. Must not run while producers are live.
 * Returns 0 with @rep filled in, or -errno.
 */
int ring_repair(struct ring *r, struct ring_check_report *rep);

#ifdef __cplusplus
}
#endif

#endif /* LIBRING_RING_H */

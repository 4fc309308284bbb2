/* SPDX-License-Identifier: MIT */
/*
 * layout.h - the on-file format of a ring. Plain structs, offsets never
 * pointers (H2), every offset that matters checked at compile time (H9).
 *
 * File, in order (each area starts on a page boundary):
 *
 *   superblock   one page: immutable geometry + checksum, magic published last
 *   hot words    producer line, cached-minimum line, data and space
 *                eventcounts, ring-wide counters: each on its own cache line
 *   group table  groups * struct rl_group (2 cache lines each)
 *   member table groups * RL_MEMBERS_MAX * struct rl_seat (a cache line
 *                each): the seats of shared groups' members
 *   proc table   processes * struct rl_proc (2 cache lines each)
 *   commit array slot_count * 8 bytes: commit[pos % count] == pos + 1 means
 *                "the message starting at pos is committed" (H4)
 *   slots        slot_count * slot_size bytes; mapped twice back to back so a
 *                message is contiguous across the end of the area
 *
 * A message occupies ceil((header + len) / slot_size) consecutive slots,
 * starting with struct rl_msg_hdr (and a 64-bit timestamp after it when the
 * ring was created with RING_CFG_TIMESTAMPS).
 *
 * All multi-byte fields are in the machine's byte order: a ring is shared by
 * processes of one machine.
 */
#ifndef LIBRING_LAYOUT_H
#define LIBRING_LAYOUT_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#define RL_MAGIC 0x31474e495242494cull /* "LIBRING1" little-endian */
#define RL_VERSION 2u /* 2: the member table (shared groups) */
#define RL_CACHELINE 64u
#define RL_PAGE 4096u /* areas are aligned to this (and to the system page) */

#define RL_SLOT_MIN 8u
#define RL_SLOT_MAX 4096u
#define RL_GROUPS_MAX 1024u
#define RL_PROCS_MAX 65536u
#define RL_MESSAGE_MAX (1u << 30)
#define RL_CAPACITY_MAX (1ull << 40)

/* The superblock. Every field before checksum is immutable after create. */
struct rl_super {
	uint64_t magic;	      /* RL_MAGIC, stored last with release at create */
	uint32_t version;     /* RL_VERSION */
	uint32_t flags;	      /* RING_CFG_* */
	uint32_t page_size;   /* RL_PAGE */
	uint32_t slot_size;   /* power of two, RL_SLOT_MIN..RL_SLOT_MAX */
	uint64_t slot_count;  /* power of two */
	uint32_t max_message; /* largest payload in bytes */
	uint32_t hdr_size;    /* bytes before a payload: 16, or 24 with timestamps */
	uint32_t groups;      /* entries in the group table */
	uint32_t procs;	      /* entries in the process table */
	uint32_t full_policy; /* default enum ring_full_policy */
	uint32_t pad0;
	uint64_t hot_off;     /* area offsets from the start of the file */
	uint64_t group_off;
	uint64_t member_off;
	uint64_t proc_off;
	uint64_t commit_off;
	uint64_t slots_off;
	uint64_t file_size;
	uint64_t created_ns;  /* CLOCK_REALTIME at create */
	uint64_t checksum;    /* rl_super_checksum() of the bytes above */
};
static_assert(offsetof(struct rl_super, checksum) == 120, "superblock layout");

/*
 * Hot words. One cache line per group of writers (H9):
 *   prod:   tail, written by producers (CAS, or a plain store in SP mode)
 *   minc:   cached minimum of the group cursors, written by producers when
 *           the ring looks full, and by group create/reset
 *   data:   eventcount readers sleep on; producers bump it to wake them
 *   space:  eventcount producers sleep on; readers bump it
 *   ctrs:   counters written rarely (recovered, totals of closed entries)
 */
struct rl_eventcount {
	uint32_t seq;	  /* futex word: bumped by a waker that saw waiters */
	uint32_t waiters; /* non-zero: somebody announced it may sleep */
};

struct rl_hot {
	uint64_t tail;
	uint8_t pad_prod[RL_CACHELINE - 8];

	uint64_t cached_min; /* generation and position, see internal.h */
	uint8_t pad_minc[RL_CACHELINE - 8];

	struct rl_eventcount data;
	uint8_t pad_data[RL_CACHELINE - sizeof(struct rl_eventcount)];

	struct rl_eventcount space;
	uint8_t pad_space[RL_CACHELINE - sizeof(struct rl_eventcount)];

	uint64_t recovered;	    /* dead claims turned into skips */
	uint64_t retired_committed; /* counters of process entries closed or */
	uint64_t retired_aborted;   /* reclaimed, folded in here */
	uint64_t retired_dropped;
	uint64_t group_gen;	    /* bumped by group create/remove */
	uint8_t pad_ctrs[RL_CACHELINE - 40];

	/* The group table's lease (lease.c); its lock byte is the first
	 * byte of this line. */
	uint64_t table_owner;
	uint32_t table_owner_ns;
	uint8_t pad_table[RL_CACHELINE - 12];
};
static_assert(offsetof(struct rl_hot, cached_min) == 1 * RL_CACHELINE, "H9");
static_assert(offsetof(struct rl_hot, data) == 2 * RL_CACHELINE, "H9");
static_assert(offsetof(struct rl_hot, space) == 3 * RL_CACHELINE, "H9");
static_assert(offsetof(struct rl_hot, recovered) == 4 * RL_CACHELINE, "H9");
static_assert(offsetof(struct rl_hot, table_owner) == 5 * RL_CACHELINE, "H9");
static_assert(sizeof(struct rl_hot) == 6 * RL_CACHELINE, "H9");

/*
 * Owner words (lease.c): pid << 42 | start time (41 bits, never 0 when
 * known) << 1 | RL_LEASE_LOCKED; 0 is free. LOCKED: the owner holds the
 * OFD write lock on the lease's lock byte, and is alive exactly as long.
 */
#define RL_LEASE_LOCKED 0x1ull

/*
 * Group states. JOINING: being placed by a creator that holds the group
 * table lock; producers respect its cursor, readers cannot open it yet. A
 * JOINING group whose creator died is freed by the next holder of the lock.
 */
enum { RL_GROUP_FREE = 0, RL_GROUP_ACTIVE = 1, RL_GROUP_JOINING = 2 };

/* Group modes (rl_group.mode), fixed at create. */
enum { RL_GROUP_EXCLUSIVE = 0, RL_GROUP_SHARED = 1 };

/*
 * A consumer group. An exclusive group's reader holds the group's lease
 * (owner word and an OFD write lock on the entry's first byte) while it
 * reads (liveness, H6); the cursor line is written only by that reader.
 * A shared group's members each hold a seat (struct rl_seat) instead; the
 * group's lease is then the lock under which members join and the group
 * is removed or reset, and the cursor line is written by every member
 * (shared.c).
 */
struct rl_group {
	/* line 0: written at create/remove/takeover */
	uint32_t state;			/* RL_GROUP_* */
	uint32_t reader_pid;		/* last reader's pid, informational */
	char name[48];			/* NUL-terminated */
	uint64_t owner;			/* the reader's lease (lease.c) */
	/* line 1: the reader's (a shared group's: its members') */
	uint64_t cursor;   /* next position to read; release-stored by the reader */
	uint64_t released; /* messages released */
	uint32_t owner_ns; /* pid namespace of the lease's owner */
	uint32_t mode;	   /* RL_GROUP_EXCLUSIVE or RL_GROUP_SHARED */
	uint64_t next;	   /* shared: the next position no member has taken,
			    * << RL_NEXT_TAG_BITS | the seat + 1 whose claim
			    * moved it there (0: not a claim) */
	uint32_t max_members; /* shared: seats that may be live at once */
	uint32_t seats_hi; /* shared: seats [0, seats_hi) have been used */
	uint8_t pad_cursor[RL_CACHELINE - 40];
};
static_assert(offsetof(struct rl_group, cursor) == RL_CACHELINE, "H9");
static_assert(sizeof(struct rl_group) == 2 * RL_CACHELINE, "group size");

#define RL_MEMBERS_MAX 64u /* seats per group in the member table */
#define RL_NEXT_TAG_BITS 8u /* low bits of rl_group.next: the claiming seat */

/*
 * A seat of a shared group: one member's. Its holder holds its lease (the
 * owner word, and an OFD write lock on the seat's first byte). @hold is 0
 * when the seat holds no message, else the lowest position it has taken
 * and not released, plus one; [hold - 1, hold_end) is the stretch it holds.
 * @pending says the stretch is a claim that may have failed (shared.c).
 * The stretch outlives its holder: whoever takes the seat's lease next
 * (a joining member, or a member rescuing a dead one's messages) owns it.
 */
struct rl_seat {
	uint64_t owner;	   /* the member's lease (lease.c) */
	uint32_t owner_ns; /* pid namespace of the lease's owner */
	uint32_t pid;	   /* last holder's pid, informational */
	uint64_t hold;	   /* 0, or first unreleased position held + 1 */
	uint64_t hold_end; /* end of the stretch held */
	uint64_t released; /* messages released from this seat */
	uint64_t pending;  /* 0, or the next word a claim of the holder's
			    * stores, until it is known to have succeeded */
	uint8_t pad[RL_CACHELINE - 48];
};
static_assert(sizeof(struct rl_seat) == RL_CACHELINE, "H9: a line per seat");

/* Process-table entry states. */
enum { RL_PROC_FREE = 0, RL_PROC_USED = 1 };
/* Claim states (H5). */
enum { RL_CLAIM_NONE = 0, RL_CLAIM_INTENT = 1, RL_CLAIM_HELD = 2 };
#define RL_CLAIM_MASK 0x3u
#define RL_CLAIM_RECOVERED 0x4u /* a reader counted this dead claim */
/* Which eventcount an entry's owner has announced itself in. */
enum { RL_SLEEP_NONE = 0, RL_SLEEP_DATA = 1, RL_SLEEP_SPACE = 2 };
/* Roles (the same values as RING_ROLE_* in ring.h). */
#define RL_ROLE_PRODUCER 0x1u
#define RL_ROLE_READER 0x2u

/*
 * A process-table entry: one per producing thread (per handle) or reader.
 * Its owner holds an OFD write lock on the entry's first byte for as long as
 * it lives (the OS drops it when the process dies). Written only by its
 * owner, except for reclaim after the owner's death.
 *
 * The claim protocol (H5): before its CAS on the tail a producer publishes
 * its intent [claim_start, claim_end) under claim_seq (odd while the range
 * is being written); after the CAS succeeds it sets claim_state = HELD; after
 * the commit words are written it sets claim_state = NONE.
 */
struct rl_proc {
	/* line 0: identity and counters, written by the owner */
	uint32_t state; /* RL_PROC_* */
	uint32_t pid;
	uint32_t role; /* RL_ROLE_* */
	uint32_t tid;
	uint64_t committed; /* plain stores by the one owning thread */
	uint64_t aborted;
	uint64_t dropped;
	uint64_t attach_ns;
	uint32_t sleeping; /* RL_SLEEP_*: announced in an eventcount */
	uint32_t group;	   /* readers: index of the group read */
	uint64_t owner;	   /* the entry's lease (lease.c) */
	/* line 1: the claim */
	uint64_t claim_seq;
	uint64_t claim_start;
	uint64_t claim_end;
	uint32_t claim_state; /* RL_CLAIM_*, | RL_CLAIM_RECOVERED once counted */
	uint32_t owner_ns; /* pid namespace of the lease's owner */
	uint8_t pad_claim[RL_CACHELINE - 32];
};
static_assert(offsetof(struct rl_proc, claim_seq) == RL_CACHELINE, "H9");
static_assert(sizeof(struct rl_proc) == 2 * RL_CACHELINE, "proc size");

/* Message header flags. */
#define RL_HDR_SKIP 0x1u /* aborted claim: @len is the number of slots to pass */

/*
 * The header at the first slot of every message. @len is bounded by
 * max_message (or, for a skip record, by the slot count) before any use.
 */
struct rl_msg_hdr {
	uint32_t len;	/* payload bytes; for a skip record: slots to pass over */
	uint32_t type;	/* caller's tag */
	uint32_t flags; /* RL_HDR_* */
	uint32_t pid;	/* producer's pid */
};
static_assert(sizeof(struct rl_msg_hdr) == 16, "header size");

#define RL_HDR_SIZE 16u
#define RL_HDR_SIZE_TS 24u

/* Area sizes and offsets computed from a geometry (create and validate). */
struct rl_geometry {
	uint32_t slot_size;
	uint64_t slot_count;
	uint32_t groups;
	uint32_t procs;
	uint64_t hot_off, group_off, member_off, proc_off, commit_off, slots_off;
	uint64_t file_size;
};

#endif /* LIBRING_LAYOUT_H */

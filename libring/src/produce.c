// SPDX-License-Identifier: MIT
/*
 * produce.c - claiming room, writing in place, committing (DESIGN 5, H4, H5).
 *
 * A claim, per producing thread (its process-table entry `me`):
 *
 *   1. publish the intent [t, t+n) in `me` (H5), t the tail just read
 *   2. read the cached minimum cursor and check room against it; refresh
 *      it only when the ring looks full (then also wake sleeping readers
 *      once: the ring may be full of dead claims they must resolve)
 *   3. CAS the tail from t to t+n (a plain store in single-producer mode)
 *   4. claim_state = HELD
 *   5. write header and payload in the slots
 *   6. commit word of t = t + 1 (release, R1), for each message of a batch
 *   7. claim_state = NONE, counters, wake readers if any sleep
 *
 * The intent comes before the minimum is read (1 before 2): a group being
 * created from the oldest message lowers the minimum, issues membarrier()
 * and then reads every intent (group.c). Either the producer read the
 * lowered minimum, or the creator sees the intent and keeps the group's
 * start within one ring of the claim's end. A claim can therefore never
 * overwrite what a group has not yet read, however late the group came.
 *
 * A reader that finds commit[c] != c + 1 while the tail is past c looks at
 * the entries whose intent or claim contains c (recover.c): live ones are
 * waited for, dead ones skipped.
 *
 * A single producer (RING_OPEN_SINGLE_PRODUCER) claims room a run of
 * RL_RUN_SLOTS at a time, by the same steps, and then places message after
 * message in it with no shared store but the message's own: header,
 * payload, commit word. Its entry's HELD claim covers the rest of the run,
 * so readers wait at the first position not yet written as they wait for
 * any live claim, and skip it if the producer dies, as any dead claim
 * (rule 1 of recover.c: committed messages before it are delivered). A
 * message that does not fit in what is left closes the run: the rest
 * becomes one skip record (which needs a slot that holds a header: runs
 * are used where slot_size >= hdr_size) and a new run is claimed. Nobody
 * else claims, so the run costs other producers nothing; a batch closes
 * the run first and claims as it always did.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

/* Publish the intent [start, end) under the entry's sequence (H5). */
static inline void publish_intent(struct rl_proc *me, uint64_t start,
				  uint64_t end)
{
	uint64_t seq = load_relaxed(&me->claim_seq);

	/* Odd: being written. A release store, so that a reader that sees it
	 * also sees this thread's earlier commit words and NONE (on weakly
	 * ordered CPUs a relaxed store could overtake them, and a reader in
	 * rl_next_known_start() would pass a message just committed). */
	store_release(&me->claim_seq, seq + 1);
	/* Release stores (plain moves on x86): none of them can become
	 * visible before the odd sequence number. */
	store_release(&me->claim_start, start);
	store_release(&me->claim_end, end);
	store_release(&me->claim_state, RL_CLAIM_INTENT);
	/* R6: the range is complete; pairs with A6 in read_claim(). */
	store_release(&me->claim_seq, seq + 2);
}

struct space_wait {
	struct ring *r;
	uint32_t need; /* slots wanted */
};

/* Is there room for w->need slots now? (Refreshes the cached minimum.) */
static bool room_ready(void *arg)
{
	struct space_wait *w = arg;
	uint64_t tail = load_acquire(&w->r->hot->tail);
	uint64_t m = rl_refresh_min(w->r, tail);

	return pos_diff(tail + w->need, m) <= (int64_t)w->r->geo.slot_count;
}

/* Number of messages of a batch whose slots fit in @room. */
static unsigned batch_fit(const uint32_t *prefix, unsigned n, uint64_t room)
{
	unsigned k = 0;

	while (k < n && prefix[k] <= room)
		k++;
	return k;
}

/*
 * The ring looks full at minimum @m: readers asleep with nothing committed
 * at their position are woken once per distinct minimum, so that they look
 * at the claims that fill the ring (a ring full of dead claims is resolved
 * only by its readers, and nobody else would wake them: no commit comes).
 */
static void kick_readers(struct ring *r, struct rl_local *l, uint64_t m)
{
	RL_SCHED("claim:full");
	if (l->kicked && l->kicked_min == m)
		return;
	l->kicked = true;
	l->kicked_min = m;
	rl_wake(r, &r->hot->data);
}

/*
 * Wait for room for at least @need slots beyond the tail, as the policy
 * says. Returns 0 to retry the claim, or -EAGAIN, -ENOBUFS (dropped),
 * -ETIMEDOUT, -EINTR, -EIO (the file shrank: sigbus.c).
 */
static int wait_for_room(struct ring *r, struct rl_local *l, uint32_t need,
			 unsigned policy, uint64_t deadline, uint32_t *spun,
			 bool intr)
{
	struct space_wait w;
	uint64_t tail, m;

	/* H13: a full ring may be a cut one (at most one fstat a second). */
	if (rl_size_check_every(r, rl_now_ns()))
		return -EIO;
	/* A7': pairs with the tail CAS (R7) of the claims that fill it. */
	tail = load_acquire(&r->hot->tail);
	m = rl_refresh_min(r, tail);
	if (pos_diff(tail + need, m) <= (int64_t)r->geo.slot_count)
		return 0;
	kick_readers(r, l, m);
	if (policy == RING_FULL_FAIL)
		return -EAGAIN;
	if (policy == RING_FULL_DROP)
		return -ENOBUFS;
	if (*spun < r->spins) {
		for (int i = 0; i < 16; i++)
			cpu_relax();
		*spun += 16;
		/* Every RL_SPIN_ROUND pauses without room, with more polling
		 * to come: let a reader that waits for this CPU run
		 * (wait.c). */
		if (*spun % RL_SPIN_ROUND == 0 && rl_polls_on(r, *spun))
			rl_spin_yield("room:yield");
		if (deadline != UINT64_MAX && rl_now_ns() >= deadline)
			return -ETIMEDOUT;
		return 0;
	}
	w.r = r;
	w.need = need;
	return rl_ec_wait(r, &r->hot->space, l->me, RL_SLEEP_SPACE, room_ready,
			  &w, deadline, intr);
}

/* Room left beyond @t by the minimum in word @w (0 if the word is stale). */
static inline uint64_t room_at(const struct ring *r, uint64_t t, uint64_t w)
{
	uint64_t used = rl_min_used(t, w);

	return used > r->geo.slot_count ? 0 : r->geo.slot_count - used;
}

/*
 * A producer whose compare-and-swap on the tail lost to another producer
 * waits RL_CLAIM_BACKOFF pauses before it tries again, so that the winner
 * makes its next claims while the tail's line is still in its cache
 * instead of trading the line claim by claim. Measured on the 2-vCPU
 * build machine, vCPUs far apart: two producers 1.05-1.36 times as fast,
 * four 1.29-1.46, two with blocking waits 1.17-1.40; 32 pauses gave less
 * (bench/README.md). The loser's message pays for it: about 2.3 us (128
 * pauses of 18 ns here) per lost claim.
 */
static inline void lost_claim_backoff(void)
{
	for (int i = 0; i < RL_CLAIM_BACKOFF; i++)
		cpu_relax();
}

/*
 * Claim room for the first k messages of a batch whose cumulative slot
 * counts are @prefix[0..n-1] (k >= 1, as many as fit). Returns k and the
 * start position, or a negative errno.
 */
static int claim(struct ring *r, struct rl_local *l, const uint32_t *prefix,
		 unsigned n, unsigned flags, const struct timespec *deadline,
		 uint64_t *startp)
{
	struct rl_proc *me = l->me;
	struct rl_hot *h = r->hot;
	unsigned policy = flags & RING_POLICY_MASK;
	uint64_t dl = UINT64_MAX;
	uint32_t spun = 0;
	bool have_dl = false;
	uint64_t t, end;
	unsigned k;
	int err;

	if (!policy)
		policy = r->geo.full_policy;
	for (;;) {
		t = load_relaxed(&h->tail);
		/* A3: pairs with R3 in rl_refresh_min() and place_group(). */
		k = batch_fit(prefix, n, room_at(r, t, load_acquire(&h->cached_min)));
		if (k) {
			end = t + prefix[k - 1];
			publish_intent(me, t, end);
			RL_SCHED("claim:intent");
			rl_intent_fence(r);
			/* The check that counts: the minimum read after the
			 * intent is visible (A3 again). */
			if (room_at(r, t, load_acquire(&h->cached_min)) >= prefix[k - 1]) {
				if (r->open_flags & RING_OPEN_SINGLE_PRODUCER) {
					/* The caller promised there is no
					 * other producer. */
					store_release(&h->tail, end);
					break;
				}
				/* R7: the intent is visible before the tail
				 * moves (seq_cst); pairs with A7 in
				 * rl_resolve_stuck(). */
				if (cas_seq_cst(&h->tail, t, end))
					break;
				RL_SCHED("claim:lost");
				lost_claim_backoff();
				continue; /* lost the race: a new intent */
			}
		}
		if (!have_dl) {
			dl = rl_deadline_ns(deadline);
			have_dl = true;
		}
		/* An intent that found no room is withdrawn before waiting or
		 * failing. */
		store_release(&me->claim_state, RL_CLAIM_NONE);
		err = wait_for_room(r, l, prefix[0], policy, dl, &spun,
				    flags & RING_INTR);
		if (err)
			return err;
	}
	/* R10: the tail moved before any slot of the claim is written;
	 * pairs with A10 in observe.c validate(). */
	release_fence();
	RL_SCHED("claim:cas");
	store_release(&me->claim_state, RL_CLAIM_HELD);
	RL_SCHED("claim:held");
	l->claim_open = true;
	l->claim_start = t;
	l->claim_end = end;
	*startp = t;
	return (int)k;
}

/* Write a message header at @hdr, without the timestamp. */
static inline void write_header_fields(struct ring *r, struct rl_msg_hdr *hdr,
				       uint32_t len, uint32_t type,
				       uint32_t flags)
{
	hdr->len = len;
	hdr->type = type;
	hdr->flags = flags;
	hdr->pid = (uint32_t)r->pid;
}

/* Write a message header at @hdr (and its timestamp, if the ring has them). */
static inline void write_header_at(struct ring *r, struct rl_msg_hdr *hdr,
				   uint32_t len, uint32_t type, uint32_t flags)
{
	write_header_fields(r, hdr, len, type, flags);
	if (r->geo.hdr_size == RL_HDR_SIZE_TS) {
		struct timespec ts;
		uint64_t ns;

		clock_gettime(CLOCK_REALTIME, &ts);
		ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		memcpy((uint8_t *)hdr + RL_HDR_SIZE, &ns, sizeof(ns));
	}
}

/* Write the header of the message at position @pos. */
static inline void write_header(struct ring *r, uint64_t pos, uint32_t len,
				uint32_t type, uint32_t flags)
{
	write_header_at(r, (struct rl_msg_hdr *)rl_slot(r, pos), len, type,
			flags);
}

/* Publish the message at @pos: everything written before is visible to a
 * reader that sees the commit word (H4). */
static inline void publish_commit(struct ring *r, uint64_t pos)
{
	/* R1: payload and header before the commit word; pairs with A1 in
	 * rl_message_at(). */
	store_release(&r->commit[pos & r->mask], pos + 1);
}

/* The claim is over: readers no longer need to look at this entry. */
static inline void close_claim(struct rl_local *l)
{
	/* R8: after the commit words; pairs with A8 in rl_resolve_stuck(). */
	store_release(&l->me->claim_state, RL_CLAIM_NONE);
	l->claim_open = false;
	l->run_open = false;
}

static inline void count(uint64_t *counter, uint64_t n)
{
	/* Only the entry's own thread writes it: no atomic increment. */
	store_relaxed(counter, load_relaxed(counter) + n);
}

/*
 * Publish the one message of this thread's claim at @pos, close the claim
 * (@in_run: a message of the open run, whose claim stays HELD), count it
 * in @counter and wake readers if any sleep.
 */
static __attribute__((always_inline)) inline void
finish_claim_as(struct ring *r, struct rl_local *l, uint64_t pos,
		uint64_t *counter, bool in_run)
{
	publish_commit(r, pos);
	RL_SCHED("claim:commit");
	if (in_run)
		l->claim_open = false;
	else
		close_claim(l);
	count(counter, 1);
	rl_wake(r, &r->hot->data);
}

static inline void finish_claim(struct ring *r, struct rl_local *l,
				uint64_t pos, uint64_t *counter)
{
	finish_claim_as(r, l, pos, counter, l->run_open);
}

/* Where message @i of a batch claimed at @pos starts: @prefix[i] is the
 * slots of messages 0..i together. */
static inline uint64_t batch_msg_start(uint64_t pos, const uint32_t *prefix,
				       int i)
{
	return pos + (i ? prefix[i - 1] : 0);
}

/* Does this handle place single messages in runs? */
static inline bool uses_runs(const struct ring *r)
{
	return (r->open_flags & RING_OPEN_SINGLE_PRODUCER) &&
	       r->geo.slot_size >= r->geo.hdr_size;
}

/*
 * Close thread @l's run: what is left of it becomes one skip record (a
 * message published as any other, R1), and the entry's claim is closed.
 */
static void close_run(struct ring *r, struct rl_local *l)
{
	if (!l->run_open)
		return;
	if (l->run_next != l->run_end) {
		write_header(r, l->run_next, (uint32_t)(l->run_end - l->run_next),
			     0, RL_HDR_SKIP);
		publish_commit(r, l->run_next);
	}
	close_claim(l);
	rl_wake(r, &r->hot->data);
}

void rl_producer_close(struct ring *r, struct rl_local *l)
{
	if (l->claim_open)
		rl_abort_claim_of(r, l);
	close_run(r, l);
}

static __attribute__((always_inline)) inline int
producer_checks(struct ring *r, struct rl_local **l)
{
	int err;

	if (unlikely(r->forked))
		return -ECHILD;
	if (rl_broken(r))
		return -EIO;
	if (unlikely(r->open_flags & RING_OPEN_RDONLY))
		return -EROFS;
	err = rl_producer_entry(r, l);
	if (unlikely(err))
		return err;
	if (unlikely((*l)->claim_open))
		return -EBUSY;
	return 0;
}

/*
 * A message takes [@pos, @pos + @slots): ask for the lines of the stretch
 * r->prefetch_slots further on (its first and last line in the slot area,
 * and its commit word's line), which a message a little later will write.
 * Readers read those lines a lap ago, so each is a transfer from another
 * core; a store that waits for one holds up every later store of this
 * thread (stores become visible in order), while prefetches keep many
 * transfers in flight. On the 2-vCPU build machine, with the two vCPUs far
 * apart, this made a single producer's ring_send of 64-byte messages about
 * 1.5 times as fast (8-byte: 1.85), ring_send_batch of 32 about 1.15
 * times; near each other, where a transfer is cheap, the three prefetches
 * cost 64-byte sends about 3% and 8-byte ones about 10%. With several
 * producers the lines ahead are written by whichever producer claims
 * them, and each claim's compare-and-swap waits until the claimer's
 * earlier stores are done: asked for after each claim, two producers'
 * single sends went 2.0-2.5 times as fast, blocking ones 2.3-3
 * (bench/README.md). Only a hint: nothing is written, and lines past the
 * thread's claim are only asked for.
 */
static inline void prefetch_ahead(const struct ring *r, uint64_t pos,
				  uint32_t slots)
{
	uint64_t p = pos + r->prefetch_slots;
	const uint8_t *first = rl_slot(r, p);

	/* Its first and last line (the lines inside a longer stretch are
	 * left to the processor's own prefetching); the second view of the
	 * slots lies behind the first, so the stretch is contiguous. The
	 * first line is often the last of the message before, but asking
	 * for the last alone left a fifth of the lines of 64-byte messages
	 * to be waited for, and cost most of the gain. */
	rl_prefetch_write(first);
	rl_prefetch_write(first + ((uint64_t)slots << r->slot_shift) - 1);
	rl_prefetch_write(&r->commit[p & r->mask]);
}

/*
 * The common case of claim() for one message, inline: room by the cached
 * minimum and no contention on the tail. Returns false when the general
 * path must decide (ring looks full, lost CAS); an intent it published is
 * then republished or withdrawn there.
 */
static inline bool claim_fast(struct ring *r, struct rl_local *l,
			      uint32_t slots, uint64_t *posp)
{
	struct rl_hot *h = r->hot;
	uint64_t t = load_relaxed(&h->tail);

	publish_intent(l->me, t, t + slots);
	RL_SCHED("claim:intent");
	rl_intent_fence(r);
	/* A3: pairs with R3 in rl_refresh_min() and place_group(). One
	 * compare: a stale or damaged word gives a huge distance too. */
	if (unlikely(rl_min_used(t, load_acquire(&h->cached_min)) + slots >
		     r->geo.slot_count))
		return false;
	if (r->open_flags & RING_OPEN_SINGLE_PRODUCER)
		store_release(&h->tail, t + slots);
	else if (unlikely(!cas_seq_cst(&h->tail, t, t + slots))) { /* R7 */
		RL_SCHED("claim:lost");
		lost_claim_backoff();
		return false;
	}
	/* The lines a message a little later will write: with several
	 * producers the next CAS waits until this message's stores are
	 * done, so their transfers had better be under way. */
	prefetch_ahead(r, t, slots);
	/* R10 as in claim(). */
	release_fence();
	RL_SCHED("claim:cas");
	store_release(&l->me->claim_state, RL_CLAIM_HELD);
	RL_SCHED("claim:held");
	l->claim_open = true;
	l->claim_start = t;
	l->claim_end = t + slots;
	*posp = t;
	return true;
}

/*
 * A single producer's next run: close the current one, claim a run of
 * RL_RUN_SLOTS (or just @slots, if the ring has no more room). Returns 0
 * with *@posp, the run's first position, or a negative errno.
 */
static int claim_run(struct ring *r, struct rl_local *l, uint32_t slots,
		     unsigned flags, const struct timespec *deadline,
		     uint64_t *posp)
{
	uint32_t prefix[2] = { slots, slots > RL_RUN_SLOTS ? slots : RL_RUN_SLOTS };
	int k;

	close_run(r, l);
	k = claim(r, l, prefix, 2, flags, deadline, posp);
	if (k < 0)
		return k;
	l->run_open = true;
	l->run_next = *posp;
	l->run_end = *posp + prefix[k - 1];
	return 0;
}

/*
 * The short claim: room for a message of @len bytes in the open run of a
 * single-producer handle (r->send_in_run: no timestamps, writable, not a
 * forked child) whose thread state is in the per-thread cache, and its
 * header written. It does what claim_one() does for such a message
 * without its general cases: the room is in the run, so nothing shared is
 * written but the header. Returns true with *@lp, *@posp, *@slotsp and the
 * payload's address in *@datap, or false when claim_one() must do it.
 */
static __attribute__((always_inline)) inline bool
claim_in_run(struct ring *r, size_t len, uint32_t type, struct rl_local **lp,
	     uint64_t *posp, uint32_t *slotsp, uint8_t **datap)
{
	struct rl_msg_hdr *hdr;
	struct rl_local *l;
	uint32_t slots;
	uint64_t pos;
	int k;

	if (!r->send_in_run || rl_broken(r) || len > r->geo.max_message)
		return false;
	for (k = 0; k < RL_TLS_SLOTS && rl_tls[k].ring_id != r->id; k++)
		;
	if (k == RL_TLS_SLOTS)
		return false;
	l = rl_tls[k].local;
	slots = rl_msg_slots(r, len);
	pos = l->run_next;
	if (!l->run_open || l->claim_open || l->run_end - pos < slots)
		return false;
	/* As claim_one(): the message is this thread's open claim until it
	 * is committed (a nested call gets -EBUSY; an abort finds it). */
	l->run_next = pos + slots;
	l->claim_open = true;
	l->claim_start = pos;
	l->claim_end = pos + slots;
	prefetch_ahead(r, pos, slots);
	hdr = (struct rl_msg_hdr *)rl_slot(r, pos);
	write_header_fields(r, hdr, (uint32_t)len, type, 0); /* no timestamps */
	*lp = l;
	*posp = pos;
	*slotsp = slots;
	*datap = (uint8_t *)hdr + RL_HDR_SIZE;
	return true;
}

/*
 * Claim room for one message of @len bytes and write its header: the part
 * ring_reserve() and ring_send() share. Returns 0 with *@lp and *@posp, or
 * a negative errno (a drop counted).
 */
static __attribute__((always_inline)) inline int
claim_one(struct ring *r, size_t len, uint32_t type, unsigned flags,
	  const struct timespec *deadline, struct rl_local **lp, uint64_t *posp,
	  uint32_t *slotsp)
{
	struct rl_local *l;
	uint32_t slots;
	int err;

	err = producer_checks(r, &l);
	if (unlikely(err))
		return err;
	if (unlikely(len > r->geo.max_message))
		return -EMSGSIZE;
	slots = rl_msg_slots(r, len);
	if (uses_runs(r)) {
		if (likely(l->run_open && l->run_end - l->run_next >= slots))
			*posp = l->run_next;
		else
			err = claim_run(r, l, slots, flags, deadline, posp);
	} else if (unlikely(!claim_fast(r, l, slots, posp))) {
		err = claim(r, l, &slots, 1, flags, deadline, posp);
		if (err > 0) /* as claim_fast() does */
			prefetch_ahead(r, *posp, slots);
	}
	if (unlikely(err < 0)) {
		if (err == -ENOBUFS)
			count(&l->me->dropped, 1);
		return err;
	}
	if (uses_runs(r)) {
		l->run_next = *posp + slots;
		l->claim_open = true;
		l->claim_start = *posp;
		l->claim_end = *posp + slots;
	}
	write_header(r, *posp, (uint32_t)len, type, 0);
	*lp = l;
	*slotsp = slots;
	return 0;
}

/* Fill @c for the claim of @l at @pos (@slots slots, payload at @payload). */
static __attribute__((always_inline)) inline void
fill_claim(struct ring_claim *c, const struct rl_local *l, void *payload,
	   size_t len, uint32_t type, uint64_t pos, uint32_t slots)
{
	c->data = payload;
	c->len = (uint32_t)len;
	c->type = type;
	c->pos = pos;
	c->slots = slots;
	c->_priv = l->idx;
}

/* ring_reserve() for what claim_in_run() leaves: claim_one() out of line,
 * so that the short path saves no registers it does not use. */
static __attribute__((noinline)) int
reserve_general(struct ring *r, size_t len, uint32_t type, unsigned flags,
		const struct timespec *deadline, struct ring_claim *c)
{
	struct rl_local *l;
	uint32_t slots;
	uint64_t pos;
	int err;

	err = claim_one(r, len, type, flags, deadline, &l, &pos, &slots);
	if (unlikely(err))
		return err;
	if (rl_broken(r)) {
		rl_abort_claim_of(r, l);
		return -EIO;
	}
	fill_claim(c, l, rl_slot(r, pos) + r->geo.hdr_size, len, type, pos,
		   slots);
	return 0;
}

int ring_reserve(struct ring *r, size_t len, uint32_t type, unsigned flags,
		 const struct timespec *deadline, struct ring_claim *c)
{
	struct rl_local *l;
	uint8_t *payload;
	uint32_t slots;
	uint64_t pos;

	if (unlikely(!c || (flags & ~(RING_POLICY_MASK | RING_INTR))))
		return -EINVAL;
	if (!claim_in_run(r, len, type, &l, &pos, &slots, &payload))
		return reserve_general(r, len, type, flags, deadline, c);
	if (unlikely(rl_broken(r))) {
		rl_abort_claim_of(r, l);
		return -EIO;
	}
	fill_claim(c, l, payload, len, type, pos, slots);
	return 0;
}

/* Is @c thread state @l's open claim? */
static __attribute__((always_inline)) inline bool
is_open_claim(const struct rl_local *l, const struct ring_claim *c)
{
	return l->claim_open && l->claim_start == c->pos &&
	       l->claim_end == c->pos + c->slots;
}

/* This thread's state if @c is its open claim, or NULL. */
static __attribute__((always_inline)) inline struct rl_local *
claim_owner(struct ring *r, const struct ring_claim *c)
{
	struct rl_local *l;

	if (!c || r->forked || rl_producer_entry(r, &l))
		return NULL;
	return is_open_claim(l, c) ? l : NULL;
}

/* Publish @c, thread state @l's open claim from ring_reserve(), with the
 * type it has now. */
static __attribute__((always_inline)) inline void
commit_claim(struct ring *r, struct rl_local *l, const struct ring_claim *c)
{
	((struct rl_msg_hdr *)rl_slot(r, c->pos))->type = c->type;
	/* R1 in publish_commit(): header and payload before the commit
	 * word. */
	finish_claim(r, l, c->pos, &l->me->committed);
}

/* ring_commit() for what its short path leaves (a forked child, a broken
 * handle, the thread's state not in the per-thread cache, no claim). */
static __attribute__((noinline)) int
commit_general(struct ring *r, struct ring_claim *c)
{
	struct rl_local *l;

	if (unlikely(r->forked))
		return -ECHILD;
	l = claim_owner(r, c);
	if (unlikely(!l))
		return -EINVAL;
	if (rl_broken(r)) {
		/* The payload may not have reached the file: never publish
		 * it; readers that still see the file skip it. */
		rl_abort_claim_of(r, l);
		return -EIO;
	}
	commit_claim(r, l, c);
	return 0;
}

int ring_commit(struct ring *r, struct ring_claim *c)
{
	struct rl_local *l = rl_cached_local(r);

	if (unlikely(!l || !c || r->forked || rl_broken(r)))
		return commit_general(r, c);
	if (unlikely(!is_open_claim(l, c)))
		return -EINVAL;
	commit_claim(r, l, c);
	return 0;
}

/*
 * Turn this thread's open claim (from ring_reserve: one message, not
 * committed) into a skip record, so that readers pass over it.
 */
void rl_abort_claim_of(struct ring *r, struct rl_local *l)
{
	if (!l->claim_open) {
		if (!l->run_open) /* a run's claim stays until the run ends */
			store_release(&l->me->claim_state, RL_CLAIM_NONE);
		return;
	}
	write_header(r, l->claim_start, (uint32_t)(l->claim_end - l->claim_start),
		     0, RL_HDR_SKIP);
	finish_claim(r, l, l->claim_start, &l->me->aborted);
}

int ring_abort(struct ring *r, struct ring_claim *c)
{
	struct rl_local *l;

	if (unlikely(r->forked))
		return -ECHILD;
	l = claim_owner(r, c);
	if (unlikely(!l))
		return -EINVAL;
	rl_abort_claim_of(r, l);
	return rl_broken(r) ? -EIO : 0;
}

/*
 * ring_send()'s short path, for a message claim_in_run() takes: the copy
 * and finish_claim()'s part for a message of a run. Returns 0 or -EIO when
 * it handled the message, 1 when the general path must.
 */
static __attribute__((always_inline)) inline int
send_in_run(struct ring *r, uint32_t type, const void *data, size_t len)
{
	struct rl_local *l;
	uint8_t *payload;
	uint32_t slots;
	uint64_t pos;

	if (!claim_in_run(r, len, type, &l, &pos, &slots, &payload))
		return 1;
	if (len)
		memcpy(payload, data, len);
	if (rl_broken(r)) { /* as in ring_commit() */
		rl_abort_claim_of(r, l);
		return -EIO;
	}
	/* R1 (publish_commit): header and payload before the commit word;
	 * pairs with A1 in rl_message_at(). The run's claim stays HELD. */
	finish_claim_as(r, l, pos, &l->me->committed, true);
	return 0;
}

/* ring_send() for every message send_in_run() does not take. */
static __attribute__((noinline)) int
send_general(struct ring *r, uint32_t type, const void *data, size_t len,
	     unsigned flags, const struct timespec *deadline)
{
	struct rl_local *l;
	uint32_t slots;
	uint64_t pos;
	int err;

	err = claim_one(r, len, type, flags, deadline, &l, &pos, &slots);
	if (unlikely(err))
		return err;
	if (len) /* data may be NULL for an empty message */
		memcpy(rl_slot(r, pos) + r->geo.hdr_size, data, len);
	if (rl_broken(r)) { /* as in ring_commit() */
		rl_abort_claim_of(r, l);
		return -EIO;
	}
	finish_claim(r, l, pos, &l->me->committed);
	return 0;
}

int ring_send(struct ring *r, uint32_t type, const void *data, size_t len,
	      unsigned flags, const struct timespec *deadline)
{
	int err;

	if (unlikely((flags & ~(RING_POLICY_MASK | RING_INTR)) || (len && !data)))
		return -EINVAL;
	err = send_in_run(r, type, data, len);
	if (likely(err <= 0))
		return err;
	return send_general(r, type, data, len, flags, deadline);
}

#define RL_BATCH_MAX 256u

int ring_send_batch(struct ring *r, const struct ring_out *msgs, unsigned n,
		    unsigned flags, const struct timespec *deadline)
{
	/* Locals, so that the copies do not make the compiler load these
	 * again for every message. */
	const uint64_t max_message = r->geo.max_message;
	const uint64_t hdr_size = r->geo.hdr_size;
	const uint64_t slot_size = r->geo.slot_size;
	const uint32_t shift = r->slot_shift;
	uint8_t *const slots = r->slots;
	const uint64_t mask = r->mask;
	uint32_t prefix[RL_BATCH_MAX];
	struct rl_local *l;
	uint64_t pos, p;
	uint64_t total = 0;
	int k, err;

	if (unlikely(!msgs || !n || (flags & ~(RING_POLICY_MASK | RING_INTR))))
		return -EINVAL;
	err = producer_checks(r, &l);
	if (unlikely(err))
		return err;
	if (n > RL_BATCH_MAX)
		n = RL_BATCH_MAX;
	close_run(r, l);
	for (unsigned i = 0; i < n; i++) {
		uint32_t len = msgs[i].len;

		if (len > max_message) {
			if (i == 0)
				return -EMSGSIZE;
			n = i;
			break;
		}
		if (len && !msgs[i].data)
			return -EINVAL;
		total += (hdr_size + len + slot_size - 1) >> shift;
		prefix[i] = (uint32_t)(total > UINT32_MAX ? UINT32_MAX : total);
	}
	k = claim(r, l, prefix, n, flags, deadline, &pos);
	if (unlikely(k < 0)) {
		if (k == -ENOBUFS)
			count(&l->me->dropped, n);
		return k;
	}
	/* Message i starts prefix[i - 1] slots after pos (exact for i < k:
	 * the claim took only what fits in the ring). */
	for (int i = 0; i < k; i++) {
		uint8_t *slot;

		p = batch_msg_start(pos, prefix, i);
		slot = slots + ((p & mask) << shift);
		/* the slots of message i: prefix[i] - (p - pos) */
		prefetch_ahead(r, p, prefix[i] - (uint32_t)(p - pos));
		write_header_at(r, (struct rl_msg_hdr *)slot, msgs[i].len,
				msgs[i].type, 0);
		if (msgs[i].len)
			memcpy(slot + hdr_size, msgs[i].data, msgs[i].len);
	}
	if (rl_broken(r)) { /* one skip record for the batch */
		rl_abort_claim_of(r, l);
		return -EIO;
	}
	/* Commit words in position order, so that a producer dying here
	 * leaves a committed prefix and one claim to skip (recover.c). */
	for (int i = 0; i < k; i++)
		publish_commit(r, batch_msg_start(pos, prefix, i));
	RL_SCHED("claim:commit");
	close_claim(l);
	count(&l->me->committed, (uint64_t)k);
	rl_wake(r, &r->hot->data);
	return k;
}

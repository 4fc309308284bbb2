/*
 * shared.pml - the shared-group (work-sharing) protocol of libring
 * (libring/src/shared.c: claim(), move_next() with confirm_claim(),
 * publish_hold(), advance(), take_seat() with claim_succeeded() and
 * stretch_valid(), rescue(), member_next(), rl_member_open(),
 * rl_member_close()), checked by spin for two members that may die after
 * every store and close at any call boundary, each replaced by a new
 * member that joins.
 *
 * The group: its next word, moved only by CAS: the first position nobody
 * has taken and a tag, the seat + 1 whose claim moved next there (0: the
 * start, or a move over a dead producer's claim; next_word()); its cursor
 * (the oldest position not released); and S seats (S = MEM), each with a
 * hold (0, or the first unreleased position of its stretch + 1), a
 * hold_end, a pending (0, or the next word a claim of the seat's holder
 * stores, until the claim is known to have succeeded) and a lease: its
 * live holder, or 0; taken in one step when free, and a dead holder's is
 * free (lease.pml checks the lease itself). M messages of one slot each,
 * at positions 0..M-1, are committed before the members start. With
 * -DPROD a producer commits them one by one into a ring of R slots
 * instead, waiting for the cursor when the ring is full and waking the
 * sleeping members once per cursor value it waits on (kick_readers());
 * the members sleep on the data eventcount (announce, re-check, sleep
 * until woken). With -DHOLE=h the position h is a dead producer's claim,
 * never committed: a member waiting there resolves it (rl_reader_wait()
 * after the recovery time) and moves next over it (move_next(), tag 0),
 * then fence and scan (member_next()).
 *
 * A member joins (rl_member_open(), under the group's lease, so one at a
 * time: the first seat that holds a stretch and whose lease it can take,
 * else the first seat it can take; take_seat(); then advance()). It loops
 * as member_next() and rl_member_poll() / rl_member_peek() +
 * rl_member_release(): with a stretch, it hands out the next message (a
 * delivery, counted per position) and either releases all it handed out
 * (publish_hold(): the hold, fence, advance()) or hands out one more first
 * (a batch). With none, it may move into the seat of a member that is gone
 * and left a stretch (rescue(): the seat's lease, take_seat(), its own
 * seat given up), then claims (claim(): read next, word w at position n,
 * walk the committed messages from n to any e, store pending = the word
 * (e, seat + 1), hold_end and hold = n + 1, then move_next(): CAS next
 * w -> (e, seat + 1); on success pending = 0; on failure hold = 0, then
 * pending = 0, fence, scan); with nothing at next it raises a cursor that
 * lags next and sleeps (bounded by the recovery time while another seat
 * holds a stretch). advance(): read next, then every seat's hold, then
 * raise the cursor to the minimum by CAS, never lowering it.
 *
 * move_next() from word w, whoever moves next (a claim, or the move over a
 * dead producer's claim), first calls confirm_claim(w): if w's tag is
 * t + 1 and seat t's pending is still w, it is cleared by CAS. So a
 * seat's pending claim succeeded if and only if next is still its word or
 * its pending, read after next, is no longer that word. take_seat() (the
 * seat's lease taken, its holder dead or closed) reads hold h, hold_end e
 * and pending p; the stretch is the member's if h != 0, the claim behind
 * it succeeded (p == 0, or claim_succeeded(): next == p, else pending
 * read again != p) and stretch_valid(): cursor <= h - 1 < e <= next; then
 * pending = 0. Else the hold, if any, is cleared (then fence and scan),
 * then pending = 0.
 *
 * A member may die after every store to shared memory: a death between
 * two loads is the same as one after the store before them (loads change
 * nothing, and the member may stay at a death point as long as it likes).
 * That takes in every window of a claim: after its pending, after its
 * hold (before a CAS that may fail), after a confirm_claim() (before the
 * CAS of next), after its CAS (before pending is cleared), and between
 * clearing a failed claim's hold and its pending. A store of 0 over 0
 * changes nothing and is no death point. A member may close at every call
 * boundary (rl_member_close(): the hold stays, the lease is dropped), also
 * with messages handed out and not released. Either way a new member
 * joins in its place; EXITS deaths and closes in all (1; 2 with
 * -DEXITS=2).
 *
 * Memory is sequentially consistent. What makes that true of the C code
 * is named at each step: the hold's release store (R16) and the seq_cst
 * CAS of next (R15) against the acquire loads of next (A15), then of the
 * holds (A16): a scan that reads next after a claim's CAS sees its hold,
 * and whoever reads a claim's word in next sees the pending stored before
 * it (so confirm_claim()'s relaxed load finds it, or a later value: once
 * next was w, pending is never w again, and the load and its CAS are one
 * step here); confirm_claim()'s seq_cst CAS (R17) before the seq_cst CAS
 * of next, against claim_succeeded()'s seq_cst loads of next, then of
 * pending (A17): a taker that sees next moved on from p sees p cleared;
 * the full fence between every store of a hold (or move of next over a
 * dead claim) and the scan after it: store-load order, so of two members
 * releasing at once at least one scan sees both releases; the lease (A6,
 * lease.c) between a seat's last holder and its next.
 *
 * Properties (assertions; the checks at the end run when every process
 * is blocked, i.e. all members asleep):
 *   S1 at least once: the cursor passes only positions released at least
 *      once; at the end every committed position was delivered;
 *   S2 exactly once without deaths: a position is delivered again only if
 *      a member that held it unreleased (after a claim that succeeded, or
 *      a take-over) died or closed;
 *   S3 the cursor never passes next nor a position that a live member
 *      holds unreleased (and never moves back: it only moves by a CAS that
 *      raises it); a member hands out only positions taken (below next)
 *      and not passed by the cursor (else a producer may be writing them);
 *   S4 a stretch is taken over only from a seat whose lease is free or
 *      whose holder is dead, and overlaps no live member's stretch;
 *   S5 no wedge: at the end next and the cursor are both at the end (no
 *      producer is left waiting on a cursor left short); with -DPROD a
 *      producer waiting for room for ever fails S1 at the end;
 *   S6 a stretch take_seat() finds a won claim's (claim_succeeded()) is
 *      valid: stretch_valid() refuses only damage (not modelled).
 *
 * Each BUG flag puts one defect back; spin finds each:
 * -DBUG8:  claim() stores the hold after the CAS of next (a scan between
 *          them lets the cursor pass the member's unreleased messages).
 * -DBUG9:  advance() reads the holds before next.
 * -DBUG11: no advance() before sleeping nor on joining (a member killed
 *          between its release's scan and the cursor's CAS leaves the
 *          cursor short for good).
 * -DBUG12: rl_member_close() clears the hold (messages handed out and
 *          not released are lost).
 * -DBUG13: take_seat() without claim_succeeded(): any hold that
 *          stretch_valid() passes is the seat's (shared.c before it had
 *          pending). A member killed between the hold and the CAS of a
 *          claim another member won leaves a hold nobody can tell from a
 *          won claim's: the member taking its seat over takes the
 *          winner's messages (S4, and S2 once it hands them out), and a
 *          scan that read the seat before the hold was stored can raise
 *          the cursor past them after the check (S3: handed out behind
 *          the cursor).
 * -DBUG14: move_next() without confirm_claim(): a member killed after a
 *          won CAS and before clearing pending, next moved on by another
 *          claim: the member taking its seat over finds next moved and
 *          pending still set, takes the claim for a failed one and
 *          clears the hold: the cursor passes the stretch (S1).
 * (take_seat() without stretch_valid(), BUG10 before, is no defect any
 * more: S6 says the check never refuses a stretch claim_succeeded()
 * accepts.)
 */
#ifndef M
#define M 3           /* messages: positions 0 .. M-1 */
#endif
#ifndef MEM
#define MEM 2         /* members at once */
#endif
#ifndef S
#define S MEM         /* seats */
#endif
#ifndef EXITS
#define EXITS 1       /* deaths and closes, in all */
#endif
#ifndef R
#define R 2           /* -DPROD: slots of the ring */
#endif
#ifndef HOLE
#define HOLE 255      /* -DHOLE=h: a dead producer's claim at h */
#endif
#define NONE 255

/* A next word (next_word()): the position and the tag, the seat + 1
 * whose claim moved next there (0: not a claim). */
#define WORD(pos, tag) ((pos) * 8 + (tag))
#define POS(x) ((x) / 8)
#define TAG(x) ((x) % 8)
#define NEXT POS(next)   /* the position of next */

byte next;            /* the group's next word, moved only by CAS */
byte cursor;
byte hold[S], hend[S];
byte pend[S];         /* the seat's pending: 0, or a next word */
byte owner[S];        /* the seat's lease: its live holder (k + 1), or 0 */
byte mpos[MEM], mend[MEM];   /* each member's rd->pos, rd->end */
byte exits;
/* ghosts */
byte deliv[M];        /* deliveries of each position */
bool rel[M];          /* released at least once (a hole: from the start) */
bool lost[M];         /* held unreleased by a member that died or closed */
#ifdef PROD
bool committed[M];
bool waiting[MEM];    /* member k announced itself on the data eventcount */
bool woken[MEM];      /* ... and was woken since */
#define COMMITTED(p) ((p) < M && committed[p])
#define NEWDATA woken[k]
#else
#define NEWDATA false
#define COMMITTED(p) ((p) < M && (p) != HOLE)
#endif

/* a lease is taken when free or when its owner is dead; the kernel drops
 * a dead owner's lock, and the model forgets its name at once */
#define TAKEABLE(x) (owner[x] == 0)
/* a seat other than the member's with a stretch nobody alive holds */
#define RESC(x) ((x) != s && hold[x] && TAKEABLE(x))
/* a seat other than the member's with a stretch (others_hold()) */
#define OH(x) ((x) != s && hold[x])
#if S == 2
#define ANYRESC (RESC(0) || RESC(1))
#define ANYOH (OH(0) || OH(1))
#elif S == 3
#define ANYRESC (RESC(0) || RESC(1) || RESC(2))
#define ANYOH (OH(0) || OH(1) || OH(2))
#elif S == 4
#define ANYRESC (RESC(0) || RESC(1) || RESC(2) || RESC(3))
#define ANYOH (OH(0) || OH(1) || OH(2) || OH(3))
#endif
/* an exit (death or close) while the budget lasts: counted at once */
#define MAYDIE if :: atomic { exits < EXITS -> exits++ }; goto dead :: true -> skip fi
#define MAYCLOSE if :: atomic { exits < EXITS -> exits++ }; goto close :: true -> skip fi

/*
 * advance(): read next (A15: pairs with R15, the CAS in move_next(), so
 * the holds stored before every claim up to it are seen), then every
 * seat's hold (A16: pairs with R16), the minimum, and raise the cursor by
 * CAS (R2, seq_cst), never lowering it. The callers put the full fence
 * before.
 */
inline advance()
{
#ifdef BUG9
	c = NONE;
	for (i : 0 .. S - 1) {
		atomic { h = hold[i]; if :: h && h - 1 < c -> c = h - 1 :: else fi }
	};
	atomic { nn = NEXT; if :: nn < c -> c = nn :: else fi };
#else
	atomic { nn = NEXT; c = nn };
	for (i : 0 .. S - 1) {
		atomic { h = hold[i]; if :: h && h - 1 < c -> c = h - 1 :: else fi }
	};
#endif
	cur = cursor;
	do
	:: c <= cur -> break
	:: c > cur ->
		atomic {
			if
			:: cursor == cur ->
				/* S3: not past next, nor a live member's stretch */
				assert(c <= NEXT);
				for (j : 0 .. MEM - 1) {
					assert(mpos[j] == mend[j] || c <= mpos[j])
				};
				/* S1: only past what was released */
				for (p : cur .. c - 1) { assert(rel[p]) };
				cursor = c;
				cur = c
			:: else -> cur = cursor
			fi
		}
	od;
	atomic { nn = 0; c = 0; h = 0; cur = 0; i = 0; j = 0; p = 0 }
}

/*
 * confirm_claim(): before moving next on from word @x, the pending of the
 * seat whose claim put next there is cleared if it is still @x (R17, a
 * seq_cst CAS; the relaxed load before it only saves the CAS: pending
 * never becomes @x again once next was @x). A store: a death after it.
 */
inline confirm(x)
{
#ifndef BUG14
	if
	:: atomic { TAG(x) && pend[TAG(x) - 1] == x -> pend[TAG(x) - 1] = 0 };
		MAYDIE
	:: else
	fi
#else
	skip
#endif
}

/* Seat @x's pending = 0 (a store over 0 changes nothing: no death). */
inline clear_pend(x)
{
	if
	:: atomic { pend[x] != 0 -> pend[x] = 0 }; MAYDIE
	:: else
	fi
}

/* The member hands out position @x (stretch_messages()), the next. */
inline deliver(x)
{
	atomic {
		assert(x >= cursor && x < NEXT);               /* S3 */
		assert(deliv[x] == 0 || lost[x]);              /* S2 */
		deliv[x]++;
		x++
	}
}

/*
 * take_seat(): the lease of seat @t is this member's (A6: what its last
 * holder stored is seen); its hold and hold_end are stable (only the
 * lease's holder writes them), its pending may be cleared meanwhile by a
 * confirm_claim(). The stretch is the member's if the claim behind it
 * succeeded (pending 0, or claim_succeeded(): next is still the pending
 * word (A15, seq_cst), or else pending, read again (A17: pairs with R17),
 * is no longer that word) and stretch_valid(): cursor <= from < end <=
 * next (A2', then A15).
 */
inline take_seat(t)
{
	atomic { h = hold[t]; e = hend[t]; pw = pend[t] };
	ok = 0;
	if
	:: h ->
#ifdef BUG13
		/* before the fix: any hold that stretch_valid() passes */
		cur = cursor;
		atomic { nn = NEXT; ok = (h - 1 >= cur && e > h - 1 && nn >= e) }
#else
		if
		:: pw == 0 -> ok = 1
		:: else ->
			ok = (next == pw);
			if
			:: !ok -> ok = (pend[t] != pw)
			:: else
			fi
		fi;
		if
		:: ok ->
			/* S6: a claim that succeeded left a valid stretch:
			 * stretch_valid() refuses only damage */
			cur = cursor;
			atomic { nn = NEXT; assert(h - 1 >= cur && e > h - 1 && nn >= e) }
		:: else
		fi
#endif
	:: else
	fi;
	if
	:: ok ->
		atomic {
			/* S4: nobody alive holds any of it */
			for (j : 0 .. MEM - 1) {
				assert(j == k || mpos[j] == mend[j] ||
				       mpos[j] >= e || h - 1 >= mend[j])
			};
			j = 0;
			mpos[k] = h - 1; mend[k] = e; dlv = h - 1
		};
		clear_pend(t)                    /* known: the seat's */
	:: else ->
		if
		:: h ->
			/* a failed claim's hold: not the seat's (R16),
			 * fence, scan */
			atomic { hold[t] = 0; hend[t] = 0 };
			MAYDIE;
			advance();
			MAYDIE
		:: else
		fi;
		clear_pend(t)                    /* after the hold */
	fi;
	atomic { h = 0; e = 0; cur = 0; nn = 0; ok = 0; pw = 0 }
}

proctype member(byte k)
{
	byte me = k + 1, s, old, sc, h, e, n, nn, c, cur, i, j, p, dlv, at, w, pw;
	bool ok, oh;
join:
	/* rl_member_open(), under the group's lease: joins are one at a time */
	do
	:: atomic {
		s = NONE;
		for (i : 0 .. S - 1) {
			if :: s == NONE && hold[i] && TAKEABLE(i) -> s = i :: else fi
		};
		for (i : 0 .. S - 1) {
			if :: s == NONE && TAKEABLE(i) -> s = i :: else fi
		};
		i = 0;
		if
		:: s != NONE ->
			assert(TAKEABLE(s));     /* S4 */
			owner[s] = me;
			break
		:: else                          /* -EBUSY: tried again */
		fi
	   }
	od;
	MAYDIE;
	take_seat(s);
#ifndef BUG11
	/* a cursor a dead member left short */
	advance();
	MAYDIE;
#endif
	do
	:: mpos[k] != mend[k] ->
		/* member_next(): the next message of the stretch */
		deliver(dlv);
		/* the call returned: the caller may close without releasing */
		MAYCLOSE;
		if
		:: dlv < mend[k] -> skip     /* a batch: one more before releasing */
		:: true ->
			/* rl_member_release() / the end of rl_member_poll() */
			atomic {
				for (p : mpos[k] .. dlv - 1) { rel[p] = 1 };
				mpos[k] = dlv; p = 0;
				if
				:: mpos[k] == mend[k] -> mpos[k] = 0; mend[k] = 0; dlv = 0
				:: else
				fi
			};
			/* publish_hold(): R16, pairs with A16 */
			if
			:: mpos[k] == mend[k] -> atomic { hold[s] = 0; hend[s] = 0 }
			:: else -> hold[s] = mpos[k] + 1
			fi;
			MAYDIE;
			advance();                   /* after full_fence() */
			MAYDIE;
			MAYCLOSE
		fi
	:: mpos[k] == mend[k] ->
		/* now >= rescue_at: rescue() moves into a dead member's seat
		 * (the look for one finding nothing is left out: it changes
		 * nothing) */
		if
		:: ANYRESC ->
			old = s;
			for (sc : 0 .. S - 1) {
				if
				:: mpos[k] == mend[k] && sc != old ->
					atomic {
						if
						:: hold[sc] && TAKEABLE(sc) ->
							assert(TAKEABLE(sc));    /* S4 */
							owner[sc] = me; ok = 1
						:: else -> ok = 0
						fi
					};
					if
					:: ok ->
						MAYDIE;
						s = sc;
						take_seat(sc);
						if
						:: mpos[k] != mend[k] -> owner[old] = 0   /* seat_drop(old) */
						:: else -> owner[sc] = 0; s = old
						fi;
						MAYDIE
					:: else
					fi
				:: else
				fi
			};
			old = 0; sc = 0;
			if
			:: mpos[k] != mend[k] -> goto again
			:: else
			fi
		:: true
		fi;
		/* claim() */
		atomic { w = next; n = POS(w) };  /* load_next(): A15 */
		e = n;
		do
		:: COMMITTED(e) -> e++           /* message_at(): A1 */
		:: e > n -> break                /* max messages taken */
		:: !COMMITTED(e) -> break
		od;
		if
		:: e == n ->
			at = n;
			if
			:: next != w -> goto again   /* taken meanwhile: look again */
			:: else
			fi;
			/* nothing at next: wait (rl_reader_wait()) */
#if HOLE != 255
			if
			:: at == HOLE ->
				/* the dead claim, resolved: move_next() over it,
				 * tag 0, if next is still there (A15: the word
				 * read above, as next's position is still at) */
				if
				:: next == w ->
					confirm(w);
					atomic {
						if
						:: next == w -> next = WORD(at + 1, 0); ok = 1
						:: else -> ok = 0
						fi
					};
					if
					:: ok ->
						ok = 0;
						MAYDIE;
						advance();   /* after full_fence() */
						MAYDIE
					:: else
					fi
				:: else
				fi;
				goto again
			:: else
			fi;
#endif
#ifndef BUG11
			/* a cursor that lags next is raised (A15, relaxed cursor) */
			if
			:: cursor != NEXT -> advance(); MAYDIE
			:: else
			fi;
#endif
			oh = ANYOH;
#ifdef PROD
			waiting[k] = 1;              /* announce, then re-check */
			if
			:: COMMITTED(at) -> goto again
			:: else
			fi;
#endif
			if
			:: oh ->
				/* a bounded sleep (until rescue_at), again and again:
				 * left out while a new look would change nothing */
				ANYRESC || !ANYOH || cursor != NEXT || NEXT != at || NEWDATA
			:: else ->
end_wait:			NEWDATA
			fi;
			goto again
		:: else
		fi;
		/* pending = the word the claim stores (with hold_end before it
		 * in shared.c: hold_end is read only where the hold is not 0,
		 * so it is stored in one step with the hold here, and cleared
		 * with it, to keep the states few) */
		pend[s] = WORD(e, s + 1);
		MAYDIE;
#ifndef BUG8
		/* the hold (R16); R15 below orders it (and pending) first */
		atomic { hend[s] = e; hold[s] = n + 1 };
		MAYDIE;
#endif
		/* move_next(): confirm_claim(), then R15, the CAS of next,
		 * seq_cst */
		confirm(w);
		atomic {
			if
			:: next == w ->
				next = WORD(e, s + 1);
				mpos[k] = n; mend[k] = e; dlv = n; ok = 1
			:: else -> ok = 0
			fi
		};
#ifdef BUG8
		if
		:: ok -> atomic { hend[s] = e; hold[s] = n + 1 }
		:: else
		fi;
#endif
		if
		:: ok ->
			MAYDIE;
			clear_pend(s)                /* known to have succeeded */
		:: else ->
			/* another member took it: this hold is nobody's; the
			 * hold before pending */
			atomic { hold[s] = 0; hend[s] = 0 };
			MAYDIE;
			clear_pend(s);
			advance();                   /* after full_fence() */
			MAYDIE
		fi;
again:
		atomic {
			n = 0; e = 0; at = 0; ok = 0; oh = 0; w = 0;
#ifdef PROD
			waiting[k] = 0; woken[k] = 0;     /* awake */
#endif
		}
	od;

close:
	/* rl_member_close(): the hold stays (it is pos + 1), the lease goes */
#ifdef BUG12
	if
	:: mpos[k] != mend[k] ->
		atomic { hold[s] = 0; hend[s] = 0; mpos[k] = 0; mend[k] = 0 };
		MAYDIE;
		advance()
	:: else
	fi;
#endif
	atomic {
		for (p : mpos[k] .. mend[k] - 1) { lost[p] = 1 };
		owner[s] = 0;
		mpos[k] = 0; mend[k] = 0
	};
	goto gone;
dead:
	atomic {
		/* the kernel drops its leases: they can be taken */
		for (i : 0 .. S - 1) {
			if :: owner[i] == me -> owner[i] = 0 :: else fi
		};
		for (p : mpos[k] .. mend[k] - 1) { lost[p] = 1 };
		mpos[k] = 0; mend[k] = 0
	};
gone:
	/* a new member joins in its place */
	atomic {
#ifdef PROD
		waiting[k] = 0; woken[k] = 0;
#endif
		s = 0; old = 0; sc = 0; h = 0; e = 0; n = 0; nn = 0; c = 0; cur = 0;
		i = 0; j = 0; p = 0; dlv = 0; at = 0; w = 0; pw = 0; ok = 0; oh = 0
	};
	goto join
}

#ifdef PROD
/* rl_wake(): the announced sleepers */
#define WAKE1(x) if :: waiting[x] -> waiting[x] = 0; woken[x] = 1 :: else fi
#if MEM == 2
#define WAKE atomic { WAKE1(0); WAKE1(1) }
#else
#define WAKE atomic { WAKE1(0); WAKE1(1); WAKE1(2) }
#endif
/* Commits positions 0..M-1 as room allows (H5: the hole is never). */
proctype producer()
{
	byte q, m, kicked = NONE;
	for (q : 0 .. M - 1) {
		if
		:: q == HOLE -> skip
		:: else ->
			do
			:: q < cursor + R -> break
			:: else ->
				m = cursor;
				if
				:: q >= m + R ->
					/* kick_readers(): once per minimum */
					if
					:: kicked != m -> kicked = m; WAKE
					:: else
					fi;
					cursor != m      /* wait_for_room() */
				:: else
				fi
			od;
			committed[q] = 1;        /* R1 */
			WAKE                     /* the data eventcount */
		fi
	}
}
#endif

init {
	byte q;
	atomic {
#if HOLE != 255
		rel[HOLE] = 1;
#endif
		run member(0);
		run member(1);
#if MEM > 2
		run member(2);
#endif
#ifdef PROD
		run producer();
#endif
	};
	/* everybody asleep: S1 and S5 */
	timeout;
	for (q : 0 .. M - 1) {
		assert(q == HOLE || deliv[q] > 0)
	};
	assert(NEXT == M && cursor == M)
}

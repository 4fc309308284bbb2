/*
 * claims.pml - the claim and dead-claim recovery protocol of libring
 * (libring/src/produce.c claim(), recover.c rl_resolve_stuck(),
 * consume.c reader_wait()), checked by spin for two producers that may die
 * at every step and one reader of one group.
 *
 * Abstractions: memory is sequentially consistent (the acquire/release
 * pairs of the C code are named where they matter); an entry's intent is
 * published atomically (the claim_seq seqlock makes a torn intent
 * unreadable, and a reader skips an unreadable entry); liveness is exact
 * (the kernel's word); "recovery_ms elapsed" is a nondeterministic choice
 * of the reader; waiting for room is waiting for the cursor to move (the
 * space eventcount is not modelled). The data eventcount is: the reader
 * announces itself, re-checks, and sleeps until the sequence changes, or,
 * when a claim blocks it, until a time-out. The reader's resolution of a
 * stuck position (its tail read, the scan of the entries, the re-check of
 * the commit word, the scan for the next known start) is one atomic step:
 * coarser than the C code, whose scan interleaves with the producers (the
 * ordering arguments for that are in recover.c); the claim side is fine
 * grained, with a death point after every step.
 *
 * Properties (assertions; invalid end states are wedges):
 *   P1 a reader reads only bytes written for the position it reads;
 *   P2 a producer never overwrites a slot the group has not released;
 *   P3 a reader never skips a committed message;
 *   P4 a reader never skips a claim that a live producer won;
 *   P5 no wedge: producers waiting for room while the reader sleeps for
 *      good is an invalid end state.
 *
 * -DBUG1: the reader's re-check before an unbounded sleep looks at the
 * commit word only, and producers that find the ring full do not wake
 * readers (the defect of a ring full of dead claims).
 *
 * -DRUN: one single producer (RING_OPEN_SINGLE_PRODUCER) that claims a run
 * of 2 slots and places K messages of 1 slot in runs one at a time, as
 * produce.c claim_run() and claim_one() do: a message that does not fit
 * closes the run with a skip record over its rest; the run's claim stays
 * HELD between messages, so the reader waits at its first unused position
 * while the producer lives and skips the run's rest when it dies.
 * -DRUN -DBUG7: the run's claim is closed after each message (the HELD
 * state withdrawn while room is still claimed).
 */
#ifndef N
#define N 3           /* slots */
#endif
#ifndef P
#define P 2           /* producers: 2 or 3 */
#endif
#ifndef K
#define K 1           /* messages per producer */
#endif
#define NONE 0
#define INTENT 1
#define HELD 2

byte tail;
byte commit[N];       /* commit[p % N] == p + 1: position p committed */
byte slotpos[N];      /* which position's bytes the slot holds (255: none) */
byte cursor;          /* the group's published cursor */
byte e_state[P], e_start[P], e_end[P];
bool alive[P];
bool won[P];          /* ghost: holds a claim it won (CAS done, not committed) */
byte msglen[N];       /* the header: slots of the message at a start */
bool waiters;         /* data eventcount */
bool woken;           /* the futex word changed since the sleeper looked */

inline wake() {
	atomic { if :: waiters -> waiters = 0; woken = 1 :: else -> skip fi }
}

#define DIE(id) if :: true -> alive[id] = 0; goto dead :: true -> skip fi

proctype producer(byte id)
{
	byte t, n, m, k, i, kicked = 255;
	alive[id] = 1;
	for (k : 1 .. K) {
claim:
		t = tail;
		if :: n = 1 :: n = 2 fi;
		/* publish_intent() */
		atomic { e_start[id] = t; e_end[id] = t + n; e_state[id] = INTENT };
		DIE(id);
		m = cursor;   /* cached minimum read after the intent (A3) */
		if
		:: t + n - m > N ->
			e_state[id] = NONE;
			/* kick_readers(): once per distinct minimum */
#ifndef BUG1
			if :: kicked != m -> kicked = m; wake() :: else -> skip fi;
#endif
			DIE(id);
			(cursor != m);     /* wait_for_room() */
			goto claim
		:: else -> skip
		fi;
		/* R7: the tail CAS */
		atomic {
			if
			:: tail == t -> tail = t + n; won[id] = 1
			:: else -> skip
			fi
		};
		if :: !won[id] -> DIE(id); goto claim :: else -> skip fi;
		DIE(id);
		e_state[id] = HELD;
		DIE(id);
		/* write the slots: P2 */
		for (i : 0 .. n - 1) {
			atomic {
				assert(t + i < N + cursor);
				slotpos[(t + i) % N] = t + i;
				if :: i == 0 -> msglen[t % N] = n :: else -> skip fi
			}
		};
		DIE(id);
		atomic { commit[t % N] = t + 1; won[id] = 0 };   /* R1 */
		DIE(id);
		e_state[id] = NONE;                               /* R8 */
		wake()
	};
	alive[id] = 0;
dead:
	skip
}


#ifdef RUN
/* claim_run(): close the run (skip over its rest), claim a new one */
proctype sp_producer()
{
	byte t, k, next, rend, m;
	bool open = 0;
	alive[0] = 1;
	for (k : 1 .. K) {
		if
		:: open && next < rend -> skip
		:: else ->
			if
			:: open ->
				/* close_run(): the rest is a skip record */
				if
				:: next < rend ->
					atomic { slotpos[next % N] = next; msglen[next % N] = rend - next };
					DIE(0);
					commit[next % N] = next + 1;
					DIE(0)
				:: else -> skip
				fi;
				e_state[0] = NONE; won[0] = 0; open = 0;
				wake();
				DIE(0)
			:: else -> skip
			fi;
claim:
			t = tail;
			atomic { e_start[0] = t; e_end[0] = t + 2; e_state[0] = INTENT };
			DIE(0);
			m = cursor;
			if
			:: t + 2 - m > N ->
				e_state[0] = NONE;
				DIE(0);
				(cursor != m);
				goto claim
			:: else -> skip
			fi;
			atomic { tail = t + 2; won[0] = 1 };   /* the plain store */
			DIE(0);
			e_state[0] = HELD;
			DIE(0);
			open = 1; next = t; rend = t + 2
		fi;
		/* a message of 1 slot at next */
		atomic {
			assert(next < N + cursor);
			slotpos[next % N] = next;
			msglen[next % N] = 1
		};
		DIE(0);
		commit[next % N] = next + 1;      /* R1 */
		next++;
#ifdef BUG7
		e_state[0] = NONE; won[0] = 0; open = 0;
#endif
		DIE(0);
		wake()
	};
	alive[0] = 0;
dead:
	skip
}
#endif

/* rl_next_known_start(): first committed start after c, live claim start, or tail */
inline next_known(c, tl, res) {
	res = tl;
	for (j : 0 .. P - 1) {
		atomic {
			if
			:: alive[j] && e_state[j] != NONE && e_start[j] > c && e_start[j] < res ->
				res = e_start[j]
			:: else -> skip
			fi
		}
	};
	q = c + 1;
	do
	:: q < res && commit[q % N] == q + 1 -> res = q; break
	:: q < res && commit[q % N] != q + 1 -> q++
	:: q >= res -> break
	od
}

/* P3, P4 at the moment a skip from c to s is decided */
inline check_skip(c, s) {
	atomic {
		for (q : c .. s - 1) { assert(commit[q % N] != q + 1) };
		for (j : 0 .. P - 1) {
			assert(!(alive[j] && won[j] && e_start[j] < s && e_end[j] > c))
		}
	}
}

proctype reader()
{
	byte c = 0, tl, s, j, q, n, hend, iend;
	bool held, live_intent, intent, ready;
	do
	:: commit[c % N] == c + 1 ->
		/* rl_message_at(): the header says how many slots (msglen);
		 * P1: every slot holds the bytes written for its position */
		atomic {
			n = msglen[c % N];
			assert(n >= 1 && n <= 2);
			for (q : 0 .. n - 1) { assert(slotpos[(c + q) % N] == c + q) };
			c = c + n;
			n = 0; q = 0
		};
		cursor = c                              /* R2: publish_cursor() */
	:: commit[c % N] != c + 1 ->
		tl = tail;                              /* A7 */
		if
		:: tl == c ->
			/* caught up: announce, re-check, sleep until woken */
			atomic { woken = 0; tl = 0 };   /* seq0 = seq */
			waiters = 1;
#ifdef BUG1
			ready = (commit[c % N] == c + 1);
#else
			ready = (commit[c % N] == c + 1 || tail != c);
#endif
			if
			:: ready -> skip
			:: else ->
end_sleep:			woken
			fi;
			ready = 0
		:: tl > c ->
			if
			:: true -> tl = 0 /* a bounded sleep ends, or a commit */
			:: true ->        /* recovery_ms passed: rl_resolve_stuck() */
				atomic {
				held = 0; live_intent = 0; intent = 0; iend = 255;
				for (j : 0 .. P - 1) {
					atomic {
						if
						:: held -> skip
						:: e_state[j] == HELD && e_start[j] <= c && c < e_end[j] ->
							held = 1; hend = e_end[j];
							if :: alive[j] -> live_intent = 1 :: else -> skip fi
						:: e_state[j] == INTENT && e_start[j] <= c && c < e_end[j] ->
							if
							:: alive[j] -> live_intent = 1
							:: else ->
								intent = 1;
								if :: e_end[j] < iend -> iend = e_end[j] :: else -> skip fi
							fi
						:: else -> skip
						fi
					}
				};
				if
				:: commit[c % N] == c + 1 -> skip      /* committed meanwhile */
				:: else ->
					if
					:: held && !live_intent -> s = hend; check_skip(c, s); c = s; cursor = c
					:: held && live_intent -> skip     /* the winner lives */
					:: !held && live_intent -> skip
					:: !held && !live_intent ->
						next_known(c, tl, s);
						if :: intent && iend < s -> s = iend :: else -> skip fi;
						if :: s > c -> check_skip(c, s); c = s; cursor = c :: else -> skip fi
					fi
				fi
				};
				held = 0; live_intent = 0; intent = 0; iend = 0; hend = 0; s = 0; j = 0; q = 0; tl = 0
			fi
		fi
	od
}

init {
	byte i;
	for (i : 0 .. N - 1) { slotpos[i] = 255; commit[i] = i };
	atomic {
#ifdef RUN
		run sp_producer();
#else
		run producer(0);
		run producer(1);
#if P > 2
		run producer(2);
#endif
#endif
		run reader()
	}
}

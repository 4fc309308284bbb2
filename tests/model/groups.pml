/*
 * groups.pml - a group created from the oldest message while a producer
 * runs, and the producers' cached minimum cursor (libring/src/group.c
 * place_group(), lower_min(), rl_refresh_min(); produce.c claim()).
 *
 * One producer sends K messages of 1 or 3 slots into a ring of N slots
 * with no group; refreshing the cached minimum when the ring looks full.
 * A creator creates a group from the oldest message at any moment, with
 * any first guess of its start (a committed message start within the last
 * ring, or the tail): the protocol must be safe whatever the guess. The
 * group's reader then reads from the group's cursor.
 *
 * Memory is sequentially consistent: the creator's membarrier() is what
 * makes that true of the producer's intent store and its later load of the
 * minimum (produce.c, group.c explain the pairing).
 *
 * Properties (assertions):
 *   G1 the reader reads only bytes written for the position it reads;
 *   G2 the producer never overwrites a slot an active group has not read.
 *
 * -DBUG2: the producer reads the minimum before it publishes its intent,
 *         and the creator does not move the cursor past in-flight claims
 *         (the defect of a late group starting more than a ring behind).
 * -DBUG3: a refresh stores its minimum unconditionally, without the
 *         generation check (the lost update of the cached minimum).
 */
#define N 4
#define K 4
#define FREE 0
#define JOINING 1
#define ACTIVE 2
#define NONE 0
#define INTENT 1
#define HELD 2

byte tail;
byte commit[N];        /* commit[p % N] == p + 1: position p committed */
byte slotpos[N];       /* which position's bytes the slot holds */
byte msglen[N];        /* header: slots of the message at a start */
byte gstate, gcursor;
byte wgen, wpos;       /* the cached-minimum word: generation, position */
byte e_state, e_start, e_end;
bool done;

proctype producer()
{
	byte t, n, m, k, i, og, op, ms;
	for (k : 1 .. K) {
claim:
		t = tail;
		if :: n = 1 :: n = 3 fi;
#ifdef BUG2
		m = wpos;
		atomic { e_start = t; e_end = t + n; e_state = INTENT };
#else
		atomic { e_start = t; e_end = t + n; e_state = INTENT };  /* 1. intent */
		m = wpos;                                              /* 2. A3 */
#endif
		if
		:: t + n > N + m ->
			e_state = NONE;
			/* rl_refresh_min(): read the word, scan, store */
			atomic { og = wgen; op = wpos };
			atomic { if :: gstate != FREE -> ms = gcursor :: else -> ms = tail fi };
#ifdef BUG3
			wpos = ms;
#else
			atomic { if :: wgen == og && wpos == op -> wpos = ms :: else -> skip fi };
#endif
			atomic { og = 0; op = 0; ms = 0 };
			goto claim
		:: else -> skip
		fi;
		tail = t + n;          /* single producer: a plain store */
		e_state = HELD;
		for (i : 0 .. n - 1) {
			atomic {
				/* G2 */
				assert(!(gstate == ACTIVE && t + i >= N + gcursor));
				slotpos[(t + i) % N] = t + i;
				if :: i == 0 -> msglen[t % N] = n :: else -> skip fi
			}
		};
		commit[t % N] = t + 1;
		e_state = NONE;
		atomic { m = 0; i = 0 }
	};
	done = 1
}

proctype creator()
{
	byte tl, q, pos, reach;
	/* 1. a first guess: any committed start within a ring, or the tail */
	atomic {
		tl = tail;
		q = (tl >= N -> tl - N + 1 : 0);
		do
		:: q < tl && commit[q % N] == q + 1 -> pos = q; break
		:: q < tl -> q++
		:: q >= tl -> pos = tl; break
		od
	};
	/* 2. cursor, JOINING, lower the minimum with a new generation */
	gcursor = pos;
	gstate = JOINING;
	atomic { wgen++; if :: pos < wpos -> wpos = pos :: else -> skip fi };
#ifndef BUG2
	/* membarrier(); 3. claims_reach(); 4. move up past them */
	atomic {
		reach = tail;
		if :: e_state == INTENT && e_end > reach -> reach = e_end :: else -> skip fi
	};
	if
	:: reach >= N + pos + 1 ->
		atomic {
			q = reach - N;
			tl = tail;
			do
			:: q < tl && commit[q % N] == q + 1 -> break
			:: q < tl && commit[q % N] != q + 1 -> q++
			:: q >= tl -> q = tl; break
			od;
			gcursor = q
		}
	:: else -> skip
	fi;
#endif
	gstate = ACTIVE
}

proctype reader()
{
	byte c, n, q;
	(gstate == ACTIVE);
	c = gcursor;
	do
	:: commit[c % N] == c + 1 ->
		atomic {
			n = msglen[c % N];
			for (q : 0 .. n - 1) { assert(slotpos[(c + q) % N] == c + q) };  /* G1 */
			c = c + n;
			n = 0; q = 0
		};
		gcursor = c                           /* R2 */
	:: done && c == tail -> break
	od
}

init {
	byte i;
	for (i : 0 .. N - 1) { slotpos[i] = 255; commit[i] = i };
	atomic {
		run producer();
		run creator();
		run reader()
	}
}

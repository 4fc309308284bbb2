/*
 * lease.pml - the lease of libring/src/lease.c: an owner word taken by CAS,
 * then an OFD write lock on the lease's lock byte, which a user with read
 * permission may keep anybody from taking (its read locks conflict with
 * write locks) but can never hold itself.
 *
 * Two workers take the lease, hold it, give it up, again and again; each
 * may die at any step, and is then started again as a new process (a new
 * identity: pid and start time). The kernel drops a dead process's lock.
 * At each lock attempt a reader may or may not hold read locks on the byte.
 *
 * A checker's liveness test, as rl_lease_alive(): read the word; LOCKED:
 * alive if somebody else holds the write lock; not LOCKED: alive if the
 * named process is (the /proc identity test, exact within one pid
 * namespace); the word changed while it looked: alive.
 *
 * A LOCKED owner is dead when it holds no lock AND no process has its
 * identity: the lock alone is not a stable verdict, since an owner that
 * gave the lease up and took it again between a checker's looks has the
 * same word again (ABA). Where the identity cannot be told (-DCROSSNS:
 * another pid namespace) the lock alone decides; a checker fooled by ABA
 * then takes the word of a live holder, but its lock attempt meets the
 * holder's write lock and it hands the word back, and the holder's own
 * release waits for that (a CAS from its own word, or from the word of a
 * taker that died in between). L1 holds there too; L2 does not (a taker
 * that dies before handing the word back leaves it naming a dead process,
 * which is why the identity test comes first).
 *
 * Properties (assertions):
 *   L1 mutual exclusion: never two live holders;
 *   L2 a live holder's word names it, or (-DCROSSNS) a taker that will
 *      hand it back;
 *   and no process waits for ever (spin's invalid end states).
 *
 * -DBUG4: the taker sets LOCKED at its CAS, before it has the lock.
 * -DBUG5: the holder drops its lock before it clears its word.
 * -DBUG6: the holder clears its word with a plain store.
 */
#define NONE 0
#define IDS 5          /* identities 1..4: two workers, two lives each */

byte word_id;          /* owner identity, 0 = free */
bool word_locked;      /* RL_LEASE_LOCKED */
byte lock;             /* identity holding the write lock, NONE if free */
bool alive[IDS];
bool holds[IDS];
bool transient[IDS];   /* between its CAS and its lock attempt's outcome */
byte holders;

/* A dead process: the kernel drops its lock. */
inline die(me)
{
	atomic {
		alive[me] = false;
		transient[me] = false;
		if
		:: lock == me -> lock = NONE
		:: else -> skip
		fi;
		if
		:: holds[me] -> holds[me] = false; holders--
		:: else -> skip
		fi
	}
	goto dead
}

#ifdef CROSSNS
#define L2(me) skip
#else
#define L2(me) assert(word_id == me)
#endif
#define MAYDIE(me) if :: die(me) :: skip fi

/* rl_lease_alive() of the word @me read (p_id, p_locked), into @res;
 * the word changed meanwhile: alive (the caller will look again). */
inline lease_alive(me, res)
{
	if
	:: p_id == NONE -> res = (lock != NONE && lock != me) /* an old library */
	:: else ->
		if
#ifdef CROSSNS
		/* the identity cannot be told: the lock alone */
		:: p_locked -> res = (lock != NONE && lock != me)
#else
		/* no lock, and no such process: a stable verdict */
		:: p_locked -> res = (lock != NONE && lock != me) || alive[p_id]
#endif
		:: else -> res = alive[p_id]
		fi;
		if
		:: !res && (word_id != p_id || word_locked != p_locked) -> res = true
		:: else -> skip
		fi
	fi
}

proctype worker(byte me; byte left)
{
	byte p_id, o_id;
	bool p_locked, busy, got, haslock;
	alive[me] = true;
	do
	:: true ->
		/* rl_lease_try(): the word, then the liveness of its owner */
		atomic { p_id = word_id; p_locked = word_locked };
		MAYDIE(me);
		busy = false;
		lease_alive(me, busy);
		MAYDIE(me);
		if
		:: busy -> goto again
		:: else -> skip
		fi;
		/* rl_lease_take(): CAS from what was read */
		atomic {
			if
			:: word_id == p_id && word_locked == p_locked ->
				word_id = me;
				transient[me] = true;
#ifdef BUG4
				word_locked = true;
#else
				word_locked = false;
#endif
				got = true
			:: else -> got = false
			fi
		};
		if
		:: !got -> goto again
		:: else -> skip
		fi;
		MAYDIE(me);
		/* try_write_lock(): a reader's read locks may be in the way */
		atomic {
			if
			:: lock == NONE -> lock = me; got = true
			:: lock == NONE -> got = false    /* read-locked */
			:: lock != NONE -> got = false
			fi
		};
		if
		:: !got && lock != NONE && lock != me ->
			/* a write lock: hand the word back */
			atomic { word_id = p_id; word_locked = p_locked; transient[me] = false };
			goto again
		:: else -> skip
		fi;
		MAYDIE(me);
		haslock = got;
		transient[me] = false;
		if
		:: got -> word_locked = true
		:: else -> skip
		fi;
		/* hold it */
		atomic {
			holds[me] = true;
			holders++;
			assert(holders == 1);              /* L1 */
			L2(me)
		};
		MAYDIE(me);
		atomic {
			L2(me);
			holds[me] = false;
			holders--
		};
		/* rl_lease_drop() */
#ifdef BUG5
		if
		:: lock == me -> lock = NONE
		:: else -> skip
		fi;
		MAYDIE(me);
		atomic { word_id = NONE; word_locked = false };
#elif defined(BUG6)
		atomic { word_id = NONE; word_locked = false };
		MAYDIE(me);
		if
		:: haslock -> lock = NONE
		:: else -> skip
		fi;
#else
		/* CAS from our word, or from the word of a dead taker that replaced it;
		 * that of a live taker: wait until it hands ours back */
		do
		:: atomic { word_id == me && word_locked == haslock ->
				word_id = NONE; word_locked = false }; break
		:: atomic { word_id != me && word_id != NONE && !word_locked &&
				!alive[word_id] ->
				word_id = NONE; word_locked = false }; break
		:: die(me)
		od;
		MAYDIE(me);
		if
		:: haslock -> lock = NONE
		:: else -> skip
		fi;
#endif
again:
		if
		:: left > 0 -> left--
		:: else -> break
		fi
	od;
	/* a clean exit: the kernel drops what is left */
	atomic { alive[me] = false; if :: lock == me -> lock = NONE :: else -> skip fi };
	goto out;
dead:
	if
	:: me <= 2 -> run worker(me + 2, 1)
	:: else -> skip
	fi;
out:
	skip
}

init {
	atomic {
		run worker(1, 1);
		run worker(2, 1)
	}
}

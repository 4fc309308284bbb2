// SPDX-License-Identifier: MIT
/*
 * sigbus.c - surviving a ring file that shrinks or loses pages under its
 * mappings (DESIGN H13).
 *
 * Anybody who may write the file can truncate it, and a sparse file on a
 * full tmpfs cannot allocate the page a first touch needs. Either way the
 * access is a SIGBUS, whose default action kills the process. The library
 * cannot stop that, so it survives it:
 *
 *   - every handle's mapping (the file and the second view of the slots,
 *     one contiguous range) is entered in a fixed table of ranges that a
 *     signal handler can read without a lock;
 *   - a process-wide SIGBUS handler, installed by the first ring_open() or
 *     ring_create() unless declined, looks the faulting address up; inside
 *     a ring mapping it maps an anonymous zero page over the faulting page
 *     (mmap with MAP_FIXED: one system call, no library state), marks the
 *     handle broken and returns, so the access completes on the new page;
 *   - every other SIGBUS goes to the action that was installed before ours
 *     (its handler, or the default action: the process dies as it would
 *     have without the library);
 *   - every call on a broken handle returns -EIO, and waiting calls look at
 *     the flag and at the file's size (fstat) before they sleep and at
 *     least once a second, so a waiter whose futex word went away with the
 *     file still returns.
 *
 * An application with its own SIGBUS handler declines ours
 * (RING_OPEN_NO_SIGBUS_HANDLER, ring_sigbus_handler(0)) and calls
 * ring_sigbus_recover() from its handler; the ranges are kept either way.
 *
 * The table: an entry is taken and given back under reg_lock (never in a
 * handler); its range is published by a release store of `start` after
 * `len` and `r`. A handler that finds an address inside a range announces
 * itself in `users` and reads `start` again (both sequentially consistent)
 * before it touches the handle; unregistering clears `start`, then waits
 * for `users` to drop to zero, so a handle is never freed under a handler
 * (a Dekker pair: each side writes its word, then reads the other's).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* Most handles one process can have open at once (-EMFILE beyond). */
#define RL_SIGBUS_RANGES 1024u

struct rl_range {
	uintptr_t start;  /* first byte of the mapping; 0: not in use */
	size_t len;	  /* bytes of the mapping */
	struct ring *r;	  /* the handle to mark broken */
	uint32_t users;	  /* handlers looking at this entry right now */
	uint32_t taken;	  /* entry allocated (reg_lock) */
};

static struct rl_range ranges[RL_SIGBUS_RANGES];
static uint32_t ranges_used; /* entries [0, ranges_used) were ever taken */
static uintptr_t page_bytes; /* system page size, set before any range */

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sigaction previous; /* the action ours replaced */
static int installed;		  /* ours was installed (reg_lock) */
static int declined;		  /* ring_sigbus_handler(0) (reg_lock) */

/*
 * If @addr lies in a registered ring mapping: put a zero page over its
 * page, mark the handle broken, return true. Async-signal-safe.
 */
static bool recover(uintptr_t addr)
{
	uint32_t n = load_acquire(&ranges_used);

	for (uint32_t i = 0; i < n; i++) {
		struct rl_range *e = &ranges[i];
		uintptr_t s = load_acquire(&e->start);
		bool done = false;

		if (!s || addr - s >= load_relaxed(&e->len))
			continue;
		__atomic_fetch_add(&e->users, 1, __ATOMIC_SEQ_CST);
		/* A9: pairs with R9 in rl_sigbus_register(): len and r are
		 * those of the range published at s. Seq_cst: if
		 * rl_sigbus_unregister() cleared start before our users++,
		 * we see 0 here; otherwise it waits for us. */
		s = __atomic_load_n(&e->start, __ATOMIC_SEQ_CST);
		if (s && addr - s < load_relaxed(&e->len)) {
			void *page = (void *)(addr & ~(page_bytes - 1));

			if (mmap(page, page_bytes, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
				 0) != MAP_FAILED) {
				__atomic_store_n(&e->r->broken, 1,
						 __ATOMIC_RELEASE);
				done = true;
			}
		}
		__atomic_fetch_sub(&e->users, 1, __ATOMIC_SEQ_CST);
		if (done)
			return true;
	}
	return false;
}

int ring_sigbus_recover(void *addr)
{
	int saved = errno;
	bool done = page_bytes && recover((uintptr_t)addr);

	errno = saved;
	return done;
}

/* A SIGBUS that is not ours: do what the previous action would have. */
static void chain(int sig, siginfo_t *si, void *uc)
{
	struct sigaction p = previous;
	sigset_t mask, old;

	if (p.sa_flags & SA_RESETHAND) {
		/* The kernel would have reset it on delivery. */
		previous.sa_handler = SIG_DFL;
		previous.sa_flags &= ~SA_SIGINFO;
	}
	if ((p.sa_flags & SA_SIGINFO) ||
	    (p.sa_handler != SIG_DFL && p.sa_handler != SIG_IGN)) {
		/* Its handler runs under the mask it asked for. */
		mask = p.sa_mask;
		if (!(p.sa_flags & SA_NODEFER))
			sigaddset(&mask, sig);
		pthread_sigmask(SIG_BLOCK, &mask, &old);
		if (p.sa_flags & SA_SIGINFO)
			p.sa_sigaction(sig, si, uc);
		else
			p.sa_handler(sig);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return;
	}
	/* Ignored: a sent signal is dropped. A fault cannot be ignored (the
	 * access would fault again for ever): the kernel kills then too. */
	if (p.sa_handler == SIG_IGN && si->si_code <= 0)
		return;
	/* The default action: die of SIGBUS. A fault re-executes its access
	 * on return and dies there, with the faulting context in the core;
	 * anything else is raised again. */
	memset(&p, 0, sizeof(p));
	p.sa_handler = SIG_DFL;
	sigaction(sig, &p, NULL);
	if (si->si_code > 0 && si->si_code != BUS_MCEERR_AO)
		return;
	sigemptyset(&mask);
	sigaddset(&mask, sig);
	pthread_sigmask(SIG_UNBLOCK, &mask, NULL);
	raise(sig);
}

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;

	/* si_code > 0: sent by the kernel for an access; si_addr is it. */
	if (!(si->si_code > 0 && recover((uintptr_t)si->si_addr)))
		chain(sig, si, uc);
	errno = saved;
}

/* Install our handler if it is not (reg_lock held). */
static int install_locked(void)
{
	struct sigaction sa, old;

	if (installed)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	/* ONSTACK: a thread that set up an alternate stack (for a stack
	 * overflow) keeps using it; NODEFER: a fault inside a chained
	 * handler is delivered, not fatal. */
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	/* Read the old action first, so that a fault elsewhere in the
	 * instant after ours is in place already finds it. */
	if (sigaction(SIGBUS, NULL, &previous) < 0)
		return -errno;
	if ((previous.sa_flags & SA_SIGINFO) &&
	    previous.sa_sigaction == on_sigbus) {
		installed = 1; /* inherited across fork() */
		return 0;
	}
	if (sigaction(SIGBUS, &sa, &old) < 0)
		return -errno;
	previous = old;
	installed = 1;
	return 0;
}

int ring_sigbus_handler(int install)
{
	struct sigaction cur;
	int err = 0;

	pthread_mutex_lock(&reg_lock);
	if (install) {
		declined = 0;
		err = install_locked();
	} else {
		declined = 1;
		/* Put the previous action back, unless somebody replaced
		 * ours meanwhile (their handler may chain to ours, which
		 * keeps working). */
		if (installed && sigaction(SIGBUS, NULL, &cur) == 0 &&
		    (cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_sigbus)
			sigaction(SIGBUS, &previous, NULL);
		installed = 0;
	}
	pthread_mutex_unlock(&reg_lock);
	return err;
}

/*
 * Enter @r's mapping in the table and, if @install and not declined,
 * make sure our handler is installed. Returns 0, or -EMFILE (table full).
 */
int rl_sigbus_register(struct ring *r, bool install)
{
	uint32_t i;
	int err = 0;

	r->sigbus_slot = -1;
	pthread_mutex_lock(&reg_lock);
	if (!page_bytes)
		page_bytes = (uintptr_t)sysconf(_SC_PAGESIZE);
	for (i = 0; i < RL_SIGBUS_RANGES && ranges[i].taken; i++)
		;
	if (i == RL_SIGBUS_RANGES) {
		err = -EMFILE;
		goto out;
	}
	if (install && !declined) {
		err = install_locked();
		if (err)
			goto out;
	}
	ranges[i].taken = 1;
	ranges[i].len = r->map_len;
	ranges[i].r = r;
	/* R9: the range is complete; pairs with A9 in recover(). */
	__atomic_store_n(&ranges[i].start, (uintptr_t)r->map, __ATOMIC_SEQ_CST);
	if (i >= ranges_used)
		store_release(&ranges_used, i + 1);
	r->sigbus_slot = (int)i;
out:
	pthread_mutex_unlock(&reg_lock);
	return err;
}

/* Take @r's mapping out of the table; no handler uses @r afterwards. */
void rl_sigbus_unregister(struct ring *r)
{
	struct rl_range *e;

	if (r->sigbus_slot < 0)
		return;
	e = &ranges[r->sigbus_slot];
	__atomic_store_n(&e->start, 0, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&e->users, __ATOMIC_SEQ_CST))
		sched_yield(); /* a handler's mmap() is under way */
	pthread_mutex_lock(&reg_lock);
	e->taken = 0;
	pthread_mutex_unlock(&reg_lock);
	r->sigbus_slot = -1;
}

/*
 * The handle is broken, or its file is now shorter than the mapping (which
 * breaks it). Returns -EIO then, else 0. Costs an fstat().
 */
int rl_size_check(struct ring *r)
{
	struct stat st;

	if (rl_broken(r))
		return -EIO;
	if (r->fd >= 0 && fstat(r->fd, &st) == 0 &&
	    (uint64_t)st.st_size < r->geo.file_size) {
		__atomic_store_n(&r->broken, 1, __ATOMIC_RELEASE);
		return -EIO;
	}
	return 0;
}

/*
 * rl_size_check() at most once per RL_SIZE_CHECK_NS (the flag always),
 * for loops that poll without sleeping. @now is monotonic ns.
 */
int rl_size_check_every(struct ring *r, uint64_t now)
{
	uint64_t last = load_relaxed(&r->size_checked_ns);

	if (rl_broken(r))
		return -EIO;
	if (now - last < RL_SIZE_CHECK_NS)
		return 0;
	store_relaxed(&r->size_checked_ns, now);
	return rl_size_check(r);
}

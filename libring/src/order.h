/* SPDX-License-Identifier: MIT */
/*
 * order.h - the memory-ordering vocabulary of the library, in one place.
 *
 * Every access to a word of the shared file that another process writes or
 * reads concurrently goes through one of these. Each acquire in the code
 * names the release it pairs with in a comment ("A3: pairs with R3 in
 * ring_commit()"), per DESIGN H12.
 *
 * liburcu 0.13 (Debian 12) has no acquire/release loads and stores, so these
 * use the compiler's __atomic builtins, which also tell ThreadSanitizer what
 * is meant; liburcu provides the CAS, the fences, the likely/unlikely hints
 * and the futex wrapper.
 */
#ifndef LIBRING_ORDER_H
#define LIBRING_ORDER_H

#include <stdint.h>
#include <urcu/arch.h>
#include <urcu/compiler.h>
#include <urcu/uatomic.h>

#define load_acquire(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define store_release(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define load_relaxed(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define load_seq_cst(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define store_relaxed(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
/*
 * Full barrier: orders earlier stores before later loads (Dekker). On x86 a
 * locked no-op on the stack is several times cheaper than mfence and orders
 * the same for ordinary (write-back) memory.
 */
#if defined(__SANITIZE_THREAD__)
/* ThreadSanitizer does not model fences; a seq_cst RMW is what it sees. */
static int rl_fence_word __attribute__((unused));
#define full_fence() __atomic_fetch_add(&rl_fence_word, 0, __ATOMIC_SEQ_CST)
#elif defined(__x86_64__)
#define full_fence() __asm__ __volatile__("lock; orq $0, (%%rsp)" ::: "memory", "cc")
#else
#define full_fence() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif
/*
 * Acquire and release fences (free on x86: compiler barriers). Under
 * ThreadSanitizer, which rejects fences, the same seq_cst RMW as
 * full_fence() stands in.
 */
#if defined(__SANITIZE_THREAD__)
#define acquire_fence() full_fence()
#define release_fence() full_fence()
#else
#define acquire_fence() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define release_fence() __atomic_thread_fence(__ATOMIC_RELEASE)
#endif

/* Sequentially consistent compare-and-swap; true if *p was old. */
#define cas_seq_cst(p, old, new)                                               \
	({                                                                     \
		__typeof__(*(p)) cas_expected_ = (old);                        \
		__atomic_compare_exchange_n((p), &cas_expected_, (new), 0,     \
					    __ATOMIC_SEQ_CST,                  \
					    __ATOMIC_RELAXED);                 \
	})
#define fetch_add_relaxed(p, v) __atomic_fetch_add((p), (v), __ATOMIC_RELAXED)

#define likely(x) caa_likely(x)
#define unlikely(x) caa_unlikely(x)
#define cpu_relax() caa_cpu_relax()

/* Signed distance from b to a of two free-running positions (H1). */
static inline int64_t pos_diff(uint64_t a, uint64_t b)
{
	return (int64_t)(a - b);
}

#endif /* LIBRING_ORDER_H */

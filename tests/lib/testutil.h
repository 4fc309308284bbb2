/* SPDX-License-Identifier: MIT */
/*
 * testutil.h - helpers shared by the C test programs: ring paths, deadlines,
 * forked children, checksums and the self-checking message format.
 */
#ifndef LIBRING_TESTS_TESTUTIL_H
#define LIBRING_TESTS_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define TU_PATH_MAX 128

/* TU_SANITIZED is 1 in sanitizer builds, which run smaller counts. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TU_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TU_SANITIZED 1
#endif
#endif
#ifndef TU_SANITIZED
#define TU_SANITIZED 0
#endif

/*
 * tu_ring_path - write a unique ring path "/dev/shm/libring-t-<tag>-<pid>-<n>"
 * into @buf (TU_PATH_MAX bytes), register it for tu_cleanup_rings(), and
 * remove any leftover file of that name. Returns @buf.
 */
char *tu_ring_path(char *buf, const char *tag);

/*
 * tu_cleanup_rings - unlink every path tu_ring_path() handed out in this
 * process. Registered with atexit() by the first tu_ring_path() call.
 */
void tu_cleanup_rings(void);

/*
 * tu_guard - fail the test program if it runs longer than @seconds: on
 * SIGALRM it prints a TAP "Bail out!", removes the registered rings and
 * exits with status 255. (Forked children do not inherit the alarm.)
 */
void tu_guard(unsigned seconds);

/* tu_now_ns - CLOCK_MONOTONIC now, in nanoseconds. */
uint64_t tu_now_ns(void);

/* tu_deadline_ms - fill @ts with CLOCK_MONOTONIC now + @ms (may be < 0). */
struct timespec *tu_deadline_ms(struct timespec *ts, long ms);

/* tu_ts_ns - a timespec as nanoseconds. */
uint64_t tu_ts_ns(const struct timespec *ts);

/* tu_long_run - true when RING_TEST_LONG is set in the environment. */
int tu_long_run(void);

/*
 * tu_fork - run @fn(@arg) in a child process that dies with the parent
 * (PR_SET_PDEATHSIG) and exits with @fn's return value. Returns the child's
 * pid, or -1 (errno set).
 */
pid_t tu_fork(int (*fn)(void *arg), void *arg);

/*
 * tu_wait - wait for @pid for at most @ms milliseconds (SIGKILL after that).
 * Returns its exit status (0..255), 128 + signal if it was killed, or -1.
 */
int tu_wait(pid_t pid, long ms);

/*
 * tu_write_all / tu_read_all - move exactly @len bytes through a pipe,
 * retrying on EINTR. Return 0, or -1 on error or early end of file.
 */
int tu_write_all(int fd, const void *buf, size_t len);
int tu_read_all(int fd, void *buf, size_t len);

/*
 * tu_read_timeout - read exactly @len bytes from @fd, waiting at most @ms
 * milliseconds in total. Returns 0, or -1 (timeout, error, end of file).
 */
int tu_read_timeout(int fd, void *buf, size_t len, long ms);

/* tu_fnv1a64 - FNV-1a 64 over @len bytes, continuing from @h. */
#define TU_FNV64_INIT 0xcbf29ce484222325ull
uint64_t tu_fnv1a64(uint64_t h, const void *data, size_t len);

/*
 * tu_checksum - a fast 32-bit payload checksum: FNV-1a style over 64-bit
 * words, then over the trailing bytes, folded to 32 bits.
 */
uint32_t tu_checksum(const void *data, size_t len);

/* tu_rand - xorshift64* step on *@state (never 0). */
uint64_t tu_rand(uint64_t *state);

/*
 * The self-checking message format of the stress tests. A message of @len
 * payload bytes from producer @producer with per-producer sequence @seq:
 *   - its type tag is tu_msg_type(producer, seq);
 *   - if len >= sizeof(struct tu_msg), it starts with struct tu_msg and the
 *     rest is filler whose tu_checksum() is in @sum;
 *   - if shorter, it holds the first @len bytes of the struct tu_msg the
 *     message would carry with an empty filler.
 * The filler is pseudo-random, a function of (producer, seq).
 */
#define TU_MSG_MAGIC 0x6d756e72u
struct tu_msg {
	uint32_t magic;
	uint32_t producer;
	uint64_t seq;
	uint32_t len;
	uint32_t sum;
};

/* tu_msg_type - the type tag of a message: producer in the top byte. */
static inline uint32_t tu_msg_type(uint32_t producer, uint64_t seq)
{
	return (producer & 0xffu) << 24 | (uint32_t)(seq & 0xffffffu);
}

/* tu_msg_fill - write the message (producer, seq) of @len bytes to @buf. */
void tu_msg_fill(void *buf, size_t len, uint32_t producer, uint64_t seq);

/*
 * tu_msg_check - check a received message against the one expected from
 * @producer with sequence @seq. Returns NULL if it is that message, or a
 * short description of what is wrong.
 */
const char *tu_msg_check(const void *data, size_t len, uint32_t type,
			 uint32_t producer, uint64_t seq);

/* tu_msg_producer - the producer id a type tag names. */
static inline uint32_t tu_msg_producer(uint32_t type)
{
	return type >> 24;
}

/*
 * A child's result, sent to the parent through a pipe: @failed is 0 on
 * success; @what says what went wrong first.
 */
struct tu_report {
	int failed;
	uint64_t count;
	uint64_t extra[4];
	char what[200];
};

/* tu_report_fail - record the first failure in @rep (printf format). */
__attribute__((format(printf, 2, 3)))
void tu_report_fail(struct tu_report *rep, const char *fmt, ...);

/*
 * tu_file_patch - overwrite @len bytes at @off of the file at @path.
 * tu_file_peek - read them. Return 0 or -errno.
 */
int tu_file_patch(const char *path, off_t off, const void *buf, size_t len);
int tu_file_peek(const char *path, off_t off, void *buf, size_t len);

#endif /* LIBRING_TESTS_TESTUTIL_H */

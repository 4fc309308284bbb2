/* SPDX-License-Identifier: MIT */
/*
 * crashutil.h - helpers of the crash, corruption and fuzz tests: unique ring
 * paths, monotonic deadlines, pipes, shared memory, child processes and
 * self-checking payloads.
 */
#ifndef LIBRING_TESTS_CRASHUTIL_H
#define LIBRING_TESTS_CRASHUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* Smallest payload crash_fill_payload() accepts: producer, len, seq. */
#define CRASH_PAYLOAD_MIN 16u

/* Writes "/dev/shm/libring-<tag>.<pid>" into @buf (@n bytes). */
void crash_ring_path(char *buf, size_t n, const char *tag);

/* Returns CLOCK_MONOTONIC now in nanoseconds. */
uint64_t crash_now_ns(void);

/* Returns the absolute CLOCK_MONOTONIC time @ms milliseconds from now. */
struct timespec crash_deadline_ms(unsigned ms);

/* Returns 1 when RING_TEST_LONG=1 asks for the long counts, else 0. */
int crash_test_long(void);

/* Writes all @n bytes to @fd (retrying short writes and EINTR); 0 or -1. */
int crash_write_all(int fd, const void *buf, size_t n);

/* Reads exactly @n bytes from @fd; 0, or -1 on error or end of file. */
int crash_read_all(int fd, void *buf, size_t n);

/* Returns @n zeroed bytes shared with forked children, or NULL. */
void *crash_shared_alloc(size_t n);

/*
 * Waits up to @timeout_ms for child @pid to end and stores its wait status
 * in *@status. Returns 0, or -1 if it did not end in time (it is then killed
 * with SIGKILL and reaped, and *@status is that death).
 */
int crash_wait_exit(pid_t pid, unsigned timeout_ms, int *status);

/* Kills child @pid with SIGKILL and reaps it. Returns its wait status. */
int crash_kill_wait(pid_t pid);

/* Returns 1 if @status is a normal exit with code 0, else 0. */
int crash_exited_ok(int status);

/* Describes wait status @status in @buf (@n bytes); returns @buf. */
const char *crash_status_text(int status, char *buf, size_t n);

/*
 * Forks a child that is killed when the test process dies (so a test that
 * fails or times out never leaves children behind). Returns as fork().
 */
pid_t crash_fork(void);

/*
 * Arms alarm(@seconds): when it fires, @path (kept, may be NULL) is
 * unlinked, "Bail out!" is printed and the process exits with 255.
 */
void crash_guard(unsigned seconds, const char *path);

/* Next value of a xorshift64* generator whose state is *@state (non-zero). */
uint64_t crash_rand(uint64_t *state);

/* Returns a seed from the clock and the pid (never zero). */
uint64_t crash_seed(void);

/*
 * Fills @len (>= CRASH_PAYLOAD_MIN) bytes at @buf with a payload that names
 * @producer and @seq and whose every byte depends on them.
 */
void crash_fill_payload(void *buf, uint32_t len, uint32_t producer,
			uint64_t seq);

/*
 * Checks a payload made by crash_fill_payload(). Returns 0 and the producer
 * and sequence number it names, or -1 if any byte is wrong.
 */
int crash_check_payload(const void *buf, uint32_t len, uint32_t *producer,
			uint64_t *seq);

#endif /* LIBRING_TESTS_CRASHUTIL_H */

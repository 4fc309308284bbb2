/* SPDX-License-Identifier: MIT */
/*
 * crashutil.c - helpers of the crash, corruption and fuzz tests (see
 * crashutil.h).
 */
#include "crashutil.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* Writes "/dev/shm/libring-<tag>.<pid>" into @buf. */
void crash_ring_path(char *buf, size_t n, const char *tag)
{
	snprintf(buf, n, "/dev/shm/libring-%s.%d", tag, (int)getpid());
}

/* Returns CLOCK_MONOTONIC now in nanoseconds. */
uint64_t crash_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Returns the absolute CLOCK_MONOTONIC time @ms milliseconds from now. */
struct timespec crash_deadline_ms(unsigned ms)
{
	uint64_t t = crash_now_ns() + (uint64_t)ms * 1000000ull;
	struct timespec ts = {
		.tv_sec = (time_t)(t / 1000000000ull),
		.tv_nsec = (long)(t % 1000000000ull),
	};

	return ts;
}

/* Returns 1 when RING_TEST_LONG=1 asks for the long counts. */
int crash_test_long(void)
{
	const char *v = getenv("RING_TEST_LONG");

	return v && strcmp(v, "1") == 0;
}

/* Writes all @n bytes to @fd; 0 or -1. */
int crash_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads exactly @n bytes from @fd; 0, or -1 on error or end of file. */
int crash_read_all(int fd, void *buf, size_t n)
{
	char *p = buf;

	while (n > 0) {
		ssize_t r = read(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Returns @n zeroed bytes shared with forked children, or NULL. */
void *crash_shared_alloc(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Waits up to @timeout_ms for @pid; kills it when late. 0 or -1. */
int crash_wait_exit(pid_t pid, unsigned timeout_ms, int *status)
{
	uint64_t end = crash_now_ns() + (uint64_t)timeout_ms * 1000000ull;

	for (;;) {
		pid_t w = waitpid(pid, status, WNOHANG);

		if (w == pid)
			return 0;
		if (w < 0 && errno != EINTR) {
			*status = -1;
			return -1;
		}
		if (crash_now_ns() > end)
			break;
		usleep(2000);
	}
	*status = crash_kill_wait(pid);
	return -1;
}

/* Kills @pid with SIGKILL and reaps it; returns its wait status. */
int crash_kill_wait(pid_t pid)
{
	int status = -1;

	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

/* Returns 1 if @status is a normal exit with code 0. */
int crash_exited_ok(int status)
{
	return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Describes wait status @status in @buf. */
const char *crash_status_text(int status, char *buf, size_t n)
{
	if (status == -1)
		snprintf(buf, n, "no status");
	else if (WIFEXITED(status))
		snprintf(buf, n, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, n, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(buf, n, "status 0x%x", status);
	return buf;
}

/* Forks a child that dies with the test process. */
pid_t crash_fork(void)
{
	pid_t parent = getpid();
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(98);
	}
	return pid;
}

static const char *guard_path;

/* SIGALRM handler of crash_guard(): clean up and bail out. */
static void guard_fired(int sig)
{
	static const char msg[] = "Bail out! test timed out\n";
	ssize_t ignored;

	(void)sig;
	if (guard_path)
		unlink(guard_path);
	ignored = write(STDOUT_FILENO, msg, sizeof(msg) - 1);
	(void)ignored;
	_exit(255);
}

/* Arms a whole-test timeout that removes @path and bails out. */
void crash_guard(unsigned seconds, const char *path)
{
	guard_path = path;
	signal(SIGALRM, guard_fired);
	alarm(seconds);
}

/* Next value of a xorshift64* generator. */
uint64_t crash_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* Returns a non-zero seed from the clock and the pid. */
uint64_t crash_seed(void)
{
	uint64_t s = crash_now_ns() ^ ((uint64_t)getpid() << 32);

	return s ? s : 1;
}

/* The byte at offset @i of the payload of (@producer, @seq). */
static uint8_t payload_byte(uint32_t producer, uint64_t seq, uint32_t i)
{
	uint64_t x = seq * 0x9e3779b97f4a7c15ull + producer * 31u + i;

	return (uint8_t)(x ^ (x >> 29) ^ (x >> 47));
}

/* Fills a self-checking payload of @len bytes. */
void crash_fill_payload(void *buf, uint32_t len, uint32_t producer,
			uint64_t seq)
{
	uint8_t *p = buf;
	uint32_t i;

	memcpy(p, &producer, 4);
	memcpy(p + 4, &len, 4);
	memcpy(p + 8, &seq, 8);
	for (i = CRASH_PAYLOAD_MIN; i < len; i++)
		p[i] = payload_byte(producer, seq, i);
}

/* Checks a self-checking payload; 0 and its names, or -1. */
int crash_check_payload(const void *buf, uint32_t len, uint32_t *producer,
			uint64_t *seq)
{
	const uint8_t *p = buf;
	uint32_t i, l;

	if (len < CRASH_PAYLOAD_MIN)
		return -1;
	memcpy(producer, p, 4);
	memcpy(&l, p + 4, 4);
	memcpy(seq, p + 8, 8);
	if (l != len)
		return -1;
	for (i = CRASH_PAYLOAD_MIN; i < len; i++)
		if (p[i] != payload_byte(*producer, *seq, i))
			return -1;
	return 0;
}

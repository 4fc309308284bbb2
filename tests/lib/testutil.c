// SPDX-License-Identifier: MIT
/*
 * testutil.c - helpers shared by the C test programs (see testutil.h).
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define TU_MAX_RINGS 256

static char tu_paths[TU_MAX_RINGS][TU_PATH_MAX];
static unsigned tu_npaths;
static pid_t tu_paths_owner;

/* Unlinks every registered ring path, in the process that registered it. */
void tu_cleanup_rings(void)
{
	unsigned i;

	if (getpid() != tu_paths_owner)
		return;
	for (i = 0; i < tu_npaths; i++)
		unlink(tu_paths[i]);
	tu_npaths = 0;
}

/* Makes a unique path under /dev/shm and registers it for cleanup. */
char *tu_ring_path(char *buf, const char *tag)
{
	static unsigned counter;

	snprintf(buf, TU_PATH_MAX, "/dev/shm/libring-t-%s-%d-%u", tag,
		 (int)getpid(), counter++);
	unlink(buf);
	if (tu_paths_owner != getpid()) {
		tu_paths_owner = getpid();
		tu_npaths = 0;
		atexit(tu_cleanup_rings);
	}
	if (tu_npaths < TU_MAX_RINGS)
		snprintf(tu_paths[tu_npaths++], TU_PATH_MAX, "%s", buf);
	return buf;
}

/* SIGALRM: report, clean up with async-signal-safe calls only, exit. */
static void tu_on_alarm(int sig)
{
	static const char msg[] = "Bail out! timed out (alarm)\n";
	unsigned i;

	(void)sig;
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(255);
	if (getpid() == tu_paths_owner)
		for (i = 0; i < tu_npaths; i++)
			unlink(tu_paths[i]);
	_exit(255);
}

/* Arms the timeout guard of a test program. */
void tu_guard(unsigned seconds)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = tu_on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	alarm(seconds);
}

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t tu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return tu_ts_ns(&ts);
}

/* A timespec as nanoseconds. */
uint64_t tu_ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

/* Fills @ts with an absolute CLOCK_MONOTONIC time @ms from now. */
struct timespec *tu_deadline_ms(struct timespec *ts, long ms)
{
	long long ns;

	clock_gettime(CLOCK_MONOTONIC, ts);
	ns = (long long)ts->tv_sec * 1000000000ll + ts->tv_nsec +
	     (long long)ms * 1000000ll;
	if (ns < 0)
		ns = 0;
	ts->tv_sec = ns / 1000000000ll;
	ts->tv_nsec = ns % 1000000000ll;
	return ts;
}

/* True when the long variants of the tests were asked for. */
int tu_long_run(void)
{
	const char *v = getenv("RING_TEST_LONG");

	return v && *v && strcmp(v, "0") != 0;
}

/* Forks a child that runs @fn and exits with its result. */
pid_t tu_fork(int (*fn)(void *arg), void *arg)
{
	pid_t parent = getpid();
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid != 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(98);
	_exit(fn(arg) & 0xff);
}

/* Waits for @pid for at most @ms ms, killing it after that. */
int tu_wait(pid_t pid, long ms)
{
	uint64_t end = tu_now_ns() + (uint64_t)ms * 1000000ull;
	int status;
	pid_t got;

	for (;;) {
		got = waitpid(pid, &status, WNOHANG);
		if (got == pid)
			break;
		if (got < 0 && errno != EINTR)
			return -1;
		if (tu_now_ns() > end) {
			kill(pid, SIGKILL);
			if (waitpid(pid, &status, 0) != pid)
				return -1;
			break;
		}
		poll(NULL, 0, 2);
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

/* Writes all of @buf, retrying on EINTR and short writes. */
int tu_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads exactly @len bytes, retrying on EINTR and short reads. */
int tu_read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	ssize_t n;

	while (len) {
		n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads exactly @len bytes within @ms milliseconds. */
int tu_read_timeout(int fd, void *buf, size_t len, long ms)
{
	uint64_t end = tu_now_ns() + (uint64_t)ms * 1000000ull;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char *p = buf;
	uint64_t now;
	ssize_t n;
	int rc;

	while (len) {
		now = tu_now_ns();
		if (now >= end)
			return -1;
		rc = poll(&pfd, 1, (int)((end - now) / 1000000ull) + 1);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			return -1;
		n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* FNV-1a 64 over @len bytes, continuing from @h. */
uint64_t tu_fnv1a64(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len--) {
		h ^= *p++;
		h *= 0x100000001b3ull;
	}
	return h;
}

/* FNV-1a style over 64-bit words, then bytes, folded to 32 bits. */
uint32_t tu_checksum(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = TU_FNV64_INIT ^ len;
	uint64_t w;

	while (len >= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0x100000001b3ull;
		h ^= h >> 29;
		p += 8;
		len -= 8;
	}
	h = tu_fnv1a64(h, p, len);
	return (uint32_t)(h ^ (h >> 32));
}

/* xorshift64*: a small, fast pseudo-random generator. */
uint64_t tu_rand(uint64_t *state)
{
	uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ull;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

#define TU_POOL_SIZE 65536u

/* A pool of pseudo-random bytes the message fillers are cut from. */
static const unsigned char *tu_pool(void)
{
	static unsigned char pool[TU_POOL_SIZE + 8];
	static int ready;
	uint64_t s = 0x243f6a8885a308d3ull;
	uint64_t v;
	size_t i;

	if (ready)
		return pool;
	for (i = 0; i < TU_POOL_SIZE; i += 8) {
		v = tu_rand(&s);
		memcpy(pool + i, &v, 8);
	}
	ready = 1;
	return pool;
}

/* Where in the pool the filler of message (producer, seq) starts. */
static size_t tu_filler_offset(uint32_t producer, uint64_t seq)
{
	uint64_t h = (seq + 1) * 0x9e3779b97f4a7c15ull ^ producer;

	return (size_t)(h % (TU_POOL_SIZE / 2));
}

/* The header a message (producer, seq, len) carries. */
static void tu_msg_header(struct tu_msg *h, size_t len, uint32_t producer,
			  uint64_t seq, const unsigned char *filler)
{
	size_t flen = len > sizeof(*h) ? len - sizeof(*h) : 0;

	memset(h, 0, sizeof(*h));
	h->magic = TU_MSG_MAGIC;
	h->producer = producer;
	h->seq = seq;
	h->len = (uint32_t)len;
	h->sum = tu_checksum(filler, flen);
}

/* Writes message (producer, seq) of @len bytes to @buf. */
void tu_msg_fill(void *buf, size_t len, uint32_t producer, uint64_t seq)
{
	const unsigned char *filler = tu_pool() +
				      tu_filler_offset(producer, seq);
	struct tu_msg h;

	tu_msg_header(&h, len, producer, seq, filler);
	if (len < sizeof(h)) {
		memcpy(buf, &h, len);
		return;
	}
	memcpy(buf, &h, sizeof(h));
	memcpy((char *)buf + sizeof(h), filler, len - sizeof(h));
}

/* Checks that @data is message (producer, seq); NULL if so. */
const char *tu_msg_check(const void *data, size_t len, uint32_t type,
			 uint32_t producer, uint64_t seq)
{
	struct tu_msg h, want;

	if (type != tu_msg_type(producer, seq))
		return "type tag is not the expected producer/sequence";
	if (len < sizeof(h)) {
		tu_msg_header(&want, len, producer, seq, tu_pool());
		if (memcmp(data, &want, len) != 0)
			return "short message bytes differ";
		return NULL;
	}
	memcpy(&h, data, sizeof(h));
	if (h.magic != TU_MSG_MAGIC)
		return "bad magic in message header";
	if (h.producer != producer || h.seq != seq)
		return "producer/sequence in payload not the expected one";
	if (h.len != len)
		return "length in payload differs from message length";
	if (tu_checksum((const char *)data + sizeof(h), len - sizeof(h)) !=
	    h.sum)
		return "payload checksum mismatch";
	return NULL;
}

/* Records the first failure of a child. */
void tu_report_fail(struct tu_report *rep, const char *fmt, ...)
{
	va_list ap;

	if (rep->failed++)
		return;
	va_start(ap, fmt);
	vsnprintf(rep->what, sizeof(rep->what), fmt, ap);
	va_end(ap);
}

/* Overwrites @len bytes at @off of the file at @path. */
int tu_file_patch(const char *path, off_t off, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = pwrite(fd, buf, len, off);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

/* Reads @len bytes at @off of the file at @path. */
int tu_file_peek(const char *path, off_t off, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = pread(fd, buf, len, off);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

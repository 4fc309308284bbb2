// SPDX-License-Identifier: MIT
/*
 * deadline.c - a blocking reader with a deadline: ring_peek() sleeps until
 * a message comes or the absolute CLOCK_MONOTONIC deadline passes
 * (-ETIMEDOUT), here 200 ms with nobody sending, then a message that a
 * child process sends while the reader sleeps.
 *
 *   cc deadline.c $(pkg-config --cflags --libs libring) -o deadline
 *   ./deadline
 */
#include <errno.h>
#include <ring.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* An absolute deadline @ms milliseconds from now. */
static struct timespec *after_ms(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
	return ts;
}

int main(void)
{
	struct ring_reader *rd;
	struct timespec dl;
	struct ring_msg m;
	struct ring *r;
	char name[64];
	int err, status;
	pid_t pid;

	snprintf(name, sizeof(name), "example-deadline-%d", (int)getpid());
	if ((err = ring_create(name, NULL, 0, &r)) ||
	    (err = ring_reader_open(r, "events", RING_GROUP_CREATE, &rd)))
		goto fail;

	err = ring_peek(rd, &m, 0, after_ms(&dl, 200));
	if (err != -ETIMEDOUT)
		goto fail;
	printf("nothing within 200 ms: %s\n", ring_strerror(err));

	pid = fork();
	if (pid == 0) {
		struct ring *w;

		if (ring_open(name, 0, &w) ||
		    ring_send(w, 3, "wake up", 7, 0, NULL))
			_exit(1);
		_exit(ring_close(w));
	}
	err = ring_peek(rd, &m, 0, after_ms(&dl, 10000));
	waitpid(pid, &status, 0);
	if (err)
		goto fail;
	printf("got \"%.*s\" (type %u)\n", (int)m.len, (const char *)m.data,
	       m.type);
	ring_release(rd);
	ring_reader_close(rd);
	ring_close(r);
	ring_unlink(name);
	return !WIFEXITED(status) || WEXITSTATUS(status);
fail:
	fprintf(stderr, "%s: %s\n", name, ring_strerror(err ? err : -EINVAL));
	ring_unlink(name);
	return 1;
}

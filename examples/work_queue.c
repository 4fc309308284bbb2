// SPDX-License-Identifier: MIT
/*
 * work_queue.c - a shared group as a work queue: three worker processes
 * are members of the group "jobs", and each job goes to one of them. The
 * parent sends the numbers 1..1000 as jobs, then one "stop" job per
 * worker; each worker adds up what it got and reports its sum through a
 * pipe. Together the sums make 1 + 2 + ... + 1000, each job counted once.
 *
 *   cc work_queue.c $(pkg-config --cflags --libs libring) -o work_queue
 *   ./work_queue
 */
#include <ring.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define WORKERS 3
#define JOBS 1000
#define JOB_STOP 1 /* message type of the job that ends a worker */

struct tally {
	uint64_t sum;
	unsigned jobs;
	int stop;
};

/* ring_poll() handler: one job. Returns non-zero to stop the batch. */
static int handle(const struct ring_msg *m, void *arg)
{
	struct tally *t = arg;
	uint32_t n;

	if (m->type == JOB_STOP)
		return t->stop = 1;
	if (m->len == sizeof(n)) {
		memcpy(&n, m->data, sizeof(n));
		t->sum += n;
		t->jobs++;
		usleep(20); /* the work a job stands for */
	}
	return 0;
}

/* A worker: joins the group, handles jobs until its stop job, writes its
 * tally to @fd. Returns the process's exit status. */
static int worker(const char *name, int fd)
{
	struct tally t = { 0 };
	struct ring_reader *rd;
	struct ring *r;
	int rc;

	if (ring_open(name, 0, &r) || ring_reader_open(r, "jobs", 0, &rd))
		return 1;
	/* Each poll takes a batch of jobs nobody else has, with one atomic
	 * operation, and releases them once handled. It waits when there
	 * are none. */
	while (!t.stop)
		if ((rc = ring_poll(rd, handle, &t, 64, 0, NULL)) < 0)
			return 1;
	ring_reader_close(rd);
	ring_close(r);
	return write(fd, &t, sizeof(t)) == (ssize_t)sizeof(t) ? 0 : 1;
}

int main(void)
{
	uint64_t total = 0;
	unsigned jobs = 0, busy = 0;
	struct ring *r;
	char name[64];
	int fds[2], err, i, status, bad = 0;

	snprintf(name, sizeof(name), "example-work-queue-%d", (int)getpid());
	if ((err = ring_create(name, NULL, 0, &r)) ||
	    (err = ring_group_create(r, "jobs", RING_GROUP_SHARED |
						RING_GROUP_MEMBERS(WORKERS))))
		goto fail;
	if (pipe(fds))
		return 1;
	for (i = 0; i < WORKERS; i++)
		if (fork() == 0)
			_exit(worker(name, fds[1]));
	for (uint32_t n = 1; n <= JOBS; n++)
		if ((err = ring_send(r, 0, &n, sizeof(n), 0, NULL)))
			goto fail;
	for (i = 0; i < WORKERS; i++)
		if ((err = ring_send(r, JOB_STOP, "", 0, 0, NULL)))
			goto fail;
	for (i = 0; i < WORKERS; i++) {
		struct tally t;

		if (read(fds[0], &t, sizeof(t)) != (ssize_t)sizeof(t))
			bad = 1;
		printf("worker %d: %u jobs, sum %llu\n", i, t.jobs,
		       (unsigned long long)t.sum);
		total += t.sum;
		jobs += t.jobs;
		busy += t.jobs > 0;
	}
	for (i = 0; i < WORKERS; i++)
		if (wait(&status) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			bad = 1;
	printf("%u jobs by %u workers, sum %llu\n", jobs, busy,
	       (unsigned long long)total);
	ring_close(r);
	ring_unlink(name);
	return bad || jobs != JOBS || total != (uint64_t)JOBS * (JOBS + 1) / 2;
fail:
	fprintf(stderr, "%s: %s\n", name, ring_strerror(err));
	return 1;
}

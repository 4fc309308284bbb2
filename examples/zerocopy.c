// SPDX-License-Identifier: MIT
/*
 * zerocopy.c - a producer and a consumer process sharing a struct in place:
 * the producer fills a struct trade straight in the ring, the consumer
 * reads it where it lies through a cast, which ring_payload_align()
 * allows for any struct needing no more than its alignment.
 *
 *   cc zerocopy.c $(pkg-config --cflags --libs libring) -o zerocopy
 *   ./zerocopy
 */
#include <ring.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TRADES 1000
#define TRADE_TYPE 7

struct trade {
	uint64_t seq;
	double price;
	uint32_t qty;
	char symbol[12];
};

/* The producer process: TRADES trades, each built in place. */
static int produce(const char *name)
{
	struct ring_claim c;
	struct trade *t;
	struct ring *r;
	uint64_t i;

	if (ring_open(name, 0, &r))
		return 1;
	for (i = 0; i < TRADES; i++) {
		if (ring_reserve(r, sizeof(*t), TRADE_TYPE, RING_FULL_WAIT,
				 NULL, &c))
			return 2;
		t = c.data; /* aligned: see ring_payload_align() */
		t->seq = i;
		t->price = 100.0 + (double)i / 100;
		t->qty = (uint32_t)(i % 50 + 1);
		memcpy(t->symbol, "EXMPL", 6);
		if (ring_commit(r, &c))
			return 3;
	}
	ring_close(r);
	return 0;
}

int main(void)
{
	struct ring_config cfg;
	struct ring_reader *rd;
	struct timespec dl;
	struct ring_msg m;
	uint64_t next = 0;
	struct ring *r;
	char name[64];
	int status, err;
	pid_t pid;

	snprintf(name, sizeof(name), "example-zerocopy-%d", (int)getpid());
	ring_config_init(&cfg);
	cfg.capacity = 64 << 10; /* small: the producer waits for us */
	if ((err = ring_create(name, &cfg, 0, &r)) ||
	    (err = ring_reader_open(r, "trades", RING_GROUP_CREATE, &rd))) {
		fprintf(stderr, "%s: %s\n", name, ring_strerror(err));
		return 1;
	}
	if (ring_payload_align(r) < alignof(struct trade)) {
		fprintf(stderr, "payloads too loosely aligned for a cast\n");
		return 1;
	}
	pid = fork();
	if (pid == 0)
		_exit(produce(name));
	while (next < TRADES) {
		clock_gettime(CLOCK_MONOTONIC, &dl);
		dl.tv_sec += 10;
		err = ring_peek(rd, &m, 0, &dl);
		if (err)
			break;
		const struct trade *t = m.data; /* read in place */
		if (m.type != TRADE_TYPE || m.len != sizeof(*t) ||
		    t->seq != next || strcmp(t->symbol, "EXMPL")) {
			fprintf(stderr, "unexpected trade at %llu\n",
				(unsigned long long)next);
			err = -1;
			break;
		}
		next++;
		ring_release(rd);
	}
	waitpid(pid, &status, 0);
	ring_reader_close(rd);
	ring_close(r);
	ring_unlink(name);
	if (err || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "failed after %llu trades: %s\n",
			(unsigned long long)next,
			err > 0 || err < -1 ? ring_strerror(err) : "producer");
		return 1;
	}
	printf("%d trades read in place\n", TRADES);
	return 0;
}

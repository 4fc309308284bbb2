// SPDX-License-Identifier: MIT
/*
 * producer.c - the README's first lines: open (or create) a ring, send a
 * message by copy, and one in place (reserve, write, commit); then read
 * both back as the reader of group "audit".
 *
 *   cc producer.c $(pkg-config --cflags --libs libring) -o producer
 *   ./producer [RING]        (default: a ring "example-producer-PID")
 */
#include <errno.h>
#include <ring.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char name[64], payload[64];
	struct ring_reader *rd;
	struct ring_claim c;
	struct ring_msg m;
	struct ring *r;
	int err, n = 0;

	snprintf(name, sizeof(name), "example-producer-%d", (int)getpid());
	if (argc > 1)
		snprintf(name, sizeof(name), "%s", argv[1]);
	/* A bare name is a ring in RING_DEFAULT_DIR (/dev/shm). */
	err = ring_open(name, 0, &r);
	if (err == -ENOENT)
		err = ring_create(name, NULL, 0, &r);
	if (err) {
		fprintf(stderr, "%s: %s\n", name, ring_strerror(err));
		return 1;
	}
	/* Create the group first: a ring with no group keeps nothing. */
	err = ring_group_create(r, "audit", RING_FROM_OLDEST);
	if (err && err != -EEXIST)
		goto fail;

	err = ring_send(r, /* type */ 1, "hello", 5, 0, NULL);
	if (err)
		goto fail;

	memset(payload, 'x', sizeof(payload));
	err = ring_reserve(r, sizeof(payload), 2, RING_FULL_WAIT, NULL, &c);
	if (err)
		goto fail;
	memcpy(c.data, payload, sizeof(payload)); /* written in place */
	err = ring_commit(r, &c);
	if (err)
		goto fail;

	err = ring_reader_open(r, "audit", 0, &rd);
	if (err)
		goto fail;
	while (ring_peek(rd, &m, RING_NONBLOCK, NULL) == 0) {
		printf("type %u, %u bytes\n", m.type, m.len);
		ring_release(rd);
		n++;
	}
	ring_reader_close(rd);
	ring_close(r);
	if (argc < 2)
		ring_unlink(name);
	return n == 2 ? 0 : 1;
fail:
	fprintf(stderr, "%s: %s\n", name, ring_strerror(err));
	ring_close(r);
	return 1;
}

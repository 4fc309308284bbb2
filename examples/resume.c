// SPDX-License-Identifier: MIT
/*
 * resume.c - a consumer group survives its reader: a reader handles some
 * messages and goes away (here it closes; a killed one is the same), and
 * the next reader of the group goes on at the first message not released.
 *
 *   cc resume.c $(pkg-config --cflags --libs libring) -o resume
 *   ./resume
 */
#include <ring.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Read up to @max messages of group "worker", releasing each; returns the
 * texts read joined by spaces into @out. */
static int read_some(struct ring *r, unsigned max, char *out, size_t len)
{
	struct ring_reader *rd;
	struct ring_msg m;
	size_t o = 0;
	unsigned n;
	int err;

	err = ring_reader_open(r, "worker", 0, &rd); /* the group exists */
	if (err)
		return err;
	out[0] = '\0';
	for (n = 0; n < max && ring_peek(rd, &m, RING_NONBLOCK, NULL) == 0; n++) {
		o += (size_t)snprintf(out + o, len - o, "%s%.*s", n ? " " : "",
				      (int)m.len, (const char *)m.data);
		ring_release(rd); /* the cursor moves: done with it for good */
	}
	return ring_reader_close(rd);
}

int main(void)
{
	static const char *const words[] = { "one", "two", "three", "four",
					     "five" };
	char name[64], first[64], second[64];
	struct ring *r;
	unsigned i;
	int err;

	snprintf(name, sizeof(name), "example-resume-%d", (int)getpid());
	if ((err = ring_create(name, NULL, 0, &r)) ||
	    (err = ring_group_create(r, "worker", RING_FROM_OLDEST)))
		goto fail;
	for (i = 0; i < 5; i++)
		if ((err = ring_send(r, 0, words[i], strlen(words[i]), 0, NULL)))
			goto fail;
	if ((err = read_some(r, 2, first, sizeof(first))) ||
	    (err = read_some(r, 10, second, sizeof(second))))
		goto fail;
	printf("first reader: %s\nafter restart: %s\n", first, second);
	ring_close(r);
	ring_unlink(name);
	return strcmp(first, "one two") || strcmp(second, "three four five");
fail:
	fprintf(stderr, "%s: %s\n", name, ring_strerror(err));
	return 1;
}

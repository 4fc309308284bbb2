// SPDX-License-Identifier: MIT
/*
 * t_align - what the header promises beyond the protocol: every payload
 * (claimed and read) is aligned as ring_payload_align() says, 8 bytes at
 * least and 16 with slots of 16 bytes or more and no timestamps, at every
 * length and across the end of the ring; ring_version() is the header's
 * version; a name without a slash is a ring in RING_DEFAULT_DIR for
 * ring_create, ring_open and ring_unlink alike.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ring.h"
#include "tap.h"
#include "lib/testutil.h"

/* Send and read messages of every length 0..@maxlen, several laps of a
 * 4 KiB ring; 1 if every claimed and read payload had alignment @want. */
static int all_aligned(struct ring *r, uint32_t want, unsigned maxlen)
{
	struct ring_reader *rd;
	struct ring_claim c;
	struct ring_msg m;
	unsigned i, len;
	int good = 1;

	if (ring_reader_open(r, "g", RING_GROUP_CREATE, &rd))
		return 0;
	for (i = 0; i < 2000; i++) {
		len = i % (maxlen + 1);
		if (ring_reserve(r, len, 0, 0, NULL, &c))
			return 0;
		if ((uintptr_t)c.data % want) {
			diag("claim of %u bytes at %p", len, c.data);
			good = 0;
		}
		memset(c.data, 0x5a, len);
		ring_commit(r, &c);
		if (ring_peek(rd, &m, RING_NONBLOCK, NULL))
			return 0;
		if ((uintptr_t)m.data % want || m.len != len) {
			diag("message of %u bytes at %p", m.len, m.data);
			good = 0;
		}
		ring_release(rd);
	}
	ring_reader_close(rd);
	return good;
}

int main(void)
{
	static const uint32_t slots[] = { 8, 16, 32, 64 };
	char path[TU_PATH_MAX], name[64], full[128];
	struct ring_config cfg;
	struct stat st;
	struct ring *r;
	unsigned i, ts;

	plan(2 * 4 * 2 + 7);
	tu_guard(60);
	for (i = 0; i < 4; i++) {
		for (ts = 0; ts < 2; ts++) {
			uint32_t want = slots[i] >= 16 && !ts ? 16 : 8;

			ring_config_init(&cfg);
			cfg.capacity = 4096;
			cfg.slot_size = slots[i];
			cfg.flags = ts ? RING_CFG_TIMESTAMPS : 0;
			if (ring_create(tu_ring_path(path, "align"), &cfg, 0, &r))
				bail_out("ring_create");
			is(ring_payload_align(r), want,
			   "slots of %u, %s: payloads aligned to %u", slots[i],
			   ts ? "timestamps" : "no timestamps", want);
			ok(all_aligned(r, want, 300),
			   "every claimed and read payload is (slots of %u%s)",
			   slots[i], ts ? ", timestamps" : "");
			ring_close(r);
		}
	}

	is(ring_version(), RING_VERSION_NUMBER,
	   "ring_version() is the header's version (%d)", ring_version());
	ok(RING_VERSION_NUMBER == RING_VERSION_MAJOR * 10000 +
	   RING_VERSION_MINOR * 100 + RING_VERSION_PATCH,
	   "RING_VERSION_NUMBER encodes major, minor and patch");

	/* A bare name: the same file for create, open and unlink. */
	snprintf(name, sizeof(name), "libring-t-bare-%d", (int)getpid());
	snprintf(full, sizeof(full), "%s/%s", RING_DEFAULT_DIR, name);
	unlink(full);
	unlink(name);
	is(ring_create(name, NULL, 0, &r), 0, "ring_create of a bare name");
	ring_close(r);
	ok(stat(full, &st) == 0 && access(name, F_OK) != 0,
	   "creates %s, not ./%s", full, name);
	is(ring_open(name, 0, &r), 0, "ring_open of the bare name opens it");
	ring_close(r);
	is(ring_unlink(name), 0, "ring_unlink of the bare name");
	ok(stat(full, &st) != 0, "removes it");
	unlink(full);
	return exit_status();
}

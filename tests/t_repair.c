/* SPDX-License-Identifier: MIT */
/*
 * t_repair - ring_repair() after damage to the tail or a cursor never
 * loses a committed message without saying so.
 *
 *  1. A writer moves the tail 2^63 ahead; producers go on from there. The
 *     group's cursor is then at an impossible distance: the tail is the
 *     damage. Repair renumbers the messages sent after the jump and puts
 *     the tail after them; the reader gets every message.
 *  2. The same jump with nothing sent after: the tail comes back.
 *  3. One group's cursor moved 2^63 while another's is sound: the cursor
 *     is the damage; it goes to the oldest retained message, none lost.
 *  4. A run of slots with no committed message behind the tail becomes one
 *     skip, counted in dropped_stretches and dropped_slots.
 */
#include <errno.h>
#include <string.h>

#include "ring.h"
#include "tap.h"
#include "lib/testutil.h"
#include "../libring/src/layout.h"

static char path[TU_PATH_MAX];

static struct rl_super super(void)
{
	struct rl_super sb;

	if (tu_file_peek(path, 0, &sb, sizeof(sb)))
		bail_out("superblock");
	return sb;
}

/* Add @delta to the 64-bit word at file offset @off. */
static void bump(off_t off, uint64_t delta)
{
	uint64_t v;

	if (tu_file_peek(path, off, &v, sizeof(v)))
		bail_out("peek");
	v += delta;
	if (tu_file_patch(path, off, &v, sizeof(v)))
		bail_out("patch");
}

static off_t tail_off(void)
{
	return (off_t)(super().hot_off + offsetof(struct rl_hot, tail));
}

static off_t cursor_off(unsigned gi)
{
	return (off_t)(super().group_off + gi * sizeof(struct rl_group) +
		       offsetof(struct rl_group, cursor));
}

static int send_str(struct ring *r, const char *s)
{
	return ring_send(r, 0, s, strlen(s), RING_FULL_FAIL, NULL);
}

/* Read every message of @rd now there into @out ("a,b,c"). */
static void drain(struct ring_reader *rd, char *out, size_t size)
{
	struct ring_msg m;
	size_t n = 0;

	out[0] = 0;
	while (ring_peek(rd, &m, RING_NONBLOCK, NULL) == 0) {
		n += (size_t)snprintf(out + n, size - n, "%s%.*s", n ? "," : "",
				      (int)m.len, (const char *)m.data);
		ring_release(rd);
	}
}

static struct ring *fresh(const char *tag, int groups)
{
	struct ring_config cfg;
	struct ring *r;

	ring_config_init(&cfg);
	cfg.capacity = 4096;
	cfg.slot_size = 64;
	if (ring_create(tu_ring_path(path, tag), &cfg, 0, &r) ||
	    ring_group_create(r, "g", 0) ||
	    (groups > 1 && ring_group_create(r, "h", 0)))
		bail_out("ring");
	return r;
}

int main(void)
{
	struct ring_check_report rep;
	struct ring_reader *rd;
	struct ring *r;
	char got[256];
	int rc;

	plan(16);
	tu_guard(60);

	/* 1 */
	r = fresh("repair-tail", 1);
	if (ring_reader_open(r, "g", 0, &rd) || send_str(r, "m1") ||
	    send_str(r, "m2") || send_str(r, "m3"))
		bail_out("setup");
	drain(rd, got, sizeof(got));
	is_str(got, "m1,m2,m3", "three messages read");
	send_str(r, "m4");
	bump(tail_off(), 1ull << 63);
	ok(send_str(r, "a1") == 0 && send_str(r, "a2") == 0,
	   "two messages sent after the tail jumped by 2^63");
	rc = ring_check(r, &rep);
	ok(rc == -EUCLEAN && rep.renumbered == 2,
	   "ring_check sees the damaged tail and the 2 messages after it (%s; %s)",
	   ring_strerror(rc), rep.first_problem);
	rc = ring_repair(r, &rep);
	ok(rc == 0 && rep.renumbered == 2 && rep.dropped_slots == 0,
	   "ring_repair keeps them: %llu renumbered, %llu slots dropped",
	   (unsigned long long)rep.renumbered,
	   (unsigned long long)rep.dropped_slots);
	is(ring_check(r, &rep), 0, "then ring_check passes");
	drain(rd, got, sizeof(got));
	is_str(got, "m4,a1,a2", "the reader gets the message before and both after");
	ok(send_str(r, "b1") == 0, "producers go on");
	drain(rd, got, sizeof(got));
	is_str(got, "b1", "and the reader gets what they send");
	ring_reader_close(rd);
	ring_close(r);
	ring_unlink(path);

	/* 2 */
	r = fresh("repair-tail2", 1);
	if (ring_reader_open(r, "g", 0, &rd) || send_str(r, "m1"))
		bail_out("setup");
	bump(tail_off(), 1ull << 63);
	rc = ring_repair(r, &rep);
	ok(rc == 0 && rep.renumbered == 0, "a jump with nothing after: repaired");
	ok(send_str(r, "c1") == 0, "then a message");
	drain(rd, got, sizeof(got));
	is_str(got, "m1,c1", "the reader gets both");
	ring_reader_close(rd);
	ring_close(r);
	ring_unlink(path);

	/* 3 */
	r = fresh("repair-cursor", 2);
	if (send_str(r, "m1") || send_str(r, "m2"))
		bail_out("setup");
	bump(cursor_off(0), 1ull << 63);
	rc = ring_repair(r, &rep);
	ok(rc == 0 && strstr(rep.first_problem, "impossible distance"),
	   "a cursor at 2^63 is damage to the cursor (%s)", rep.first_problem);
	if (ring_reader_open(r, "g", 0, &rd))
		bail_out("reader");
	drain(rd, got, sizeof(got));
	is_str(got, "m1,m2", "its group gets every retained message");
	ring_reader_close(rd);
	if (ring_reader_open(r, "h", 0, &rd))
		bail_out("reader");
	drain(rd, got, sizeof(got));
	is_str(got, "m1,m2", "the sound group too");
	ring_reader_close(rd);
	ring_close(r);
	ring_unlink(path);

	/* 4 */
	r = fresh("repair-gap", 1);
	if (send_str(r, "m1") || send_str(r, "m2") || send_str(r, "m3"))
		bail_out("setup");
	{
		uint64_t zero = 0;
		off_t off = (off_t)(super().commit_off + 8); /* position 1 */

		if (tu_file_patch(path, off, &zero, sizeof(zero)))
			bail_out("patch");
	}
	rc = ring_repair(r, &rep);
	ok(rc == 0 && rep.dropped_stretches == 1 && rep.dropped_slots == 1,
	   "a message whose commit word was lost: one run of 1 slot dropped, "
	   "and said (%llu runs, %llu slots)",
	   (unsigned long long)rep.dropped_stretches,
	   (unsigned long long)rep.dropped_slots);
	if (ring_reader_open(r, "g", 0, &rd))
		bail_out("reader");
	drain(rd, got, sizeof(got));
	is_str(got, "m1,m3", "the others are delivered");
	ring_reader_close(rd);
	ring_close(r);
	ring_unlink(path);
	return exit_status();
}

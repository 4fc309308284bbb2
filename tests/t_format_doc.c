// SPDX-License-Identifier: MIT
/*
 * t_format_doc.c - the file format page, man/libring.5, says what the code
 * does. Every row of its tables marked "layout: STRUCT" (field@offset@size)
 * is compared with offsetof() and sizeof() from libring/src/layout.h, and
 * every field the code has is in the page; the constants it states (magic,
 * version, header sizes, entry sizes, the hot area's size, the byte of
 * the group table's lock and the owner word's layout) are the code's; and its checksum algorithm and
 * area rule, applied to real rings, give the superblock's checksum and
 * offsets. Runs from the repository root.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"
#include "tap.h"
#include "lib/testutil.h"
#include "../libring/src/internal.h" /* layout.h, RL_MIN_POS_BITS */

#define PAGE "man/libring.5"

struct field {
	const char *st, *name;
	size_t off, size;
	int seen;
};

#define F(s, f) { #s, #f, offsetof(struct s, f), sizeof(((struct s *)0)->f), 0 }
#define FN(s, n, f) { #s, n, offsetof(struct s, f), sizeof(((struct s *)0)->f), 0 }

static struct field fields[] = {
	F(rl_super, magic), F(rl_super, version), F(rl_super, flags),
	F(rl_super, page_size), F(rl_super, slot_size), F(rl_super, slot_count),
	F(rl_super, max_message), F(rl_super, hdr_size), F(rl_super, groups),
	F(rl_super, procs), F(rl_super, full_policy), F(rl_super, hot_off),
	F(rl_super, group_off), F(rl_super, member_off), F(rl_super, proc_off),
	F(rl_super, commit_off),
	F(rl_super, slots_off), F(rl_super, file_size), F(rl_super, created_ns),
	F(rl_super, checksum),
	F(rl_hot, tail), F(rl_hot, cached_min),
	FN(rl_hot, "data.seq", data.seq), FN(rl_hot, "data.waiters", data.waiters),
	FN(rl_hot, "space.seq", space.seq),
	FN(rl_hot, "space.waiters", space.waiters),
	F(rl_hot, recovered), F(rl_hot, retired_committed),
	F(rl_hot, retired_aborted), F(rl_hot, retired_dropped),
	F(rl_hot, group_gen), F(rl_hot, table_owner), F(rl_hot, table_owner_ns),
	F(rl_group, state), F(rl_group, reader_pid), F(rl_group, name),
	F(rl_group, owner), F(rl_group, cursor), F(rl_group, released),
	F(rl_group, owner_ns), F(rl_group, mode), F(rl_group, next),
	F(rl_group, max_members), F(rl_group, seats_hi),
	F(rl_seat, owner), F(rl_seat, owner_ns), F(rl_seat, pid),
	F(rl_seat, hold), F(rl_seat, hold_end), F(rl_seat, released),
	F(rl_seat, pending),
	F(rl_proc, state), F(rl_proc, pid), F(rl_proc, role), F(rl_proc, tid),
	F(rl_proc, committed), F(rl_proc, aborted), F(rl_proc, dropped),
	F(rl_proc, attach_ns), F(rl_proc, sleeping), F(rl_proc, group),
	F(rl_proc, owner), F(rl_proc, owner_ns),
	F(rl_proc, claim_seq), F(rl_proc, claim_start), F(rl_proc, claim_end),
	F(rl_proc, claim_state),
	F(rl_msg_hdr, len), F(rl_msg_hdr, type), F(rl_msg_hdr, flags),
	F(rl_msg_hdr, pid),
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static char *page;

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* Check every table row; returns the number of rows checked, *bad the
 * number wrong (described in @why). */
static int check_rows(int *bad, char *why, size_t whylen)
{
	char st[32] = "", *copy = strdup(page), *save, *line;
	int rows = 0, in_table = 0;

	*bad = 0;
	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char name[64];
		unsigned long off, size;

		if (sscanf(line, ".\\\" layout: %31s", st) == 1)
			continue;
		if (!strcmp(line, ".TS")) {
			in_table = 1;
			continue;
		}
		if (!strcmp(line, ".TE")) {
			in_table = 0;
			st[0] = 0;
			continue;
		}
		if (!in_table || !st[0] ||
		    sscanf(line, "%63[^@]@%lu@%lu@", name, &off, &size) != 3)
			continue;
		rows++;
		size_t i;

		for (i = 0; i < NFIELDS; i++)
			if (!strcmp(fields[i].st, st) && !strcmp(fields[i].name, name))
				break;
		if (i == NFIELDS) {
			if (!(*bad)++)
				snprintf(why, whylen, "%s.%s is not in layout.h", st, name);
			continue;
		}
		fields[i].seen = 1;
		if (fields[i].off != off || fields[i].size != size) {
			if (!(*bad)++)
				snprintf(why, whylen,
					 "%s.%s: the page says %lu/%lu, layout.h %zu/%zu",
					 st, name, off, size, fields[i].off,
					 fields[i].size);
		}
	}
	free(copy);
	return rows;
}

/* Does the page contain @s? */
static int says(const char *s)
{
	return strstr(page, s) != NULL;
}

static uint64_t page_checksum(const uint8_t *p, uint64_t basis, uint64_t prime)
{
	uint64_t h = basis;

	for (size_t i = 0; i < offsetof(struct rl_super, checksum); i++)
		h = (h ^ p[i]) * prime;
	return h;
}

static uint64_t round_up(uint64_t x, uint64_t a)
{
	return (x + a - 1) / a * a;
}

/* A ring of each shape: the page's checksum and area rules hold. */
static void check_rings(void)
{
	static const struct { uint64_t cap; uint32_t slot, groups, procs, flags; } shapes[] = {
		{ 4096, 8, 1, 1, 0 },	    { 1 << 16, 16, 16, 256, 0 },
		{ 1 << 20, 64, 33, 1000, RING_CFG_TIMESTAMPS },
		{ 1 << 22, 4096, 1024, 65536, 0 },
	};
	int sum_ok = 1, area_ok = 1, hdr_ok = 1;
	char why[160] = "";

	for (size_t k = 0; k < sizeof(shapes) / sizeof(shapes[0]); k++) {
		char path[TU_PATH_MAX];
		struct ring_config cfg;
		struct rl_super sb;
		struct ring *r;
		uint64_t off;

		ring_config_init(&cfg);
		cfg.capacity = shapes[k].cap;
		cfg.slot_size = shapes[k].slot;
		cfg.groups = shapes[k].groups;
		cfg.processes = shapes[k].procs;
		cfg.flags = shapes[k].flags;
		if (ring_create(tu_ring_path(path, "fmt"), &cfg, 0, &r) ||
		    tu_file_peek(path, 0, &sb, sizeof(sb))) {
			sum_ok = area_ok = 0;
			snprintf(why, sizeof(why), "cannot make ring %zu", k);
			continue;
		}
		ring_close(r);
		/* The constants exactly as the page prints them. */
		if (!says("for each of the 120 bytes") ||
		    page_checksum((const uint8_t *)&sb, 0xcbf29ce484222325ull,
				  0x100000001b3ull) != sb.checksum)
			sum_ok = 0;
		off = sb.page_size;
		area_ok &= sb.hot_off == off;
		off += round_up(384, sb.page_size);
		area_ok &= sb.group_off == off;
		off += round_up(128ull * sb.groups, sb.page_size);
		area_ok &= sb.member_off == off;
		off += round_up(64ull * 64 * sb.groups, sb.page_size);
		area_ok &= sb.proc_off == off;
		off += round_up(128ull * sb.procs, sb.page_size);
		area_ok &= sb.commit_off == off;
		off += round_up(8 * sb.slot_count, sb.page_size);
		area_ok &= sb.slots_off == off;
		area_ok &= sb.file_size == off + sb.slot_count * sb.slot_size;
		hdr_ok &= sb.hdr_size == (shapes[k].flags ? 24u : 16u) &&
			  sb.magic == 0x31474e495242494cull && sb.version == 2;
		if (!area_ok && !why[0])
			snprintf(why, sizeof(why), "ring %zu: offsets differ", k);
	}
	ok(sum_ok, "the page's FNV-1a (basis, prime, bytes 0..119) gives every "
	   "ring's checksum %s", why);
	ok(area_ok, "the page's area rule gives every ring's offsets and size %s",
	   why);
	ok(hdr_ok, "magic, version and header sizes of real rings are the "
	   "page's");
}

/* This process's start time, field 22 of /proc/self/stat, or 0. */
static uint64_t my_start(void)
{
	char buf[1024], *p;
	unsigned long long v = 0;
	FILE *f = fopen("/proc/self/stat", "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	for (int field = 2; p && *p && field < 22; p++)
		if (*p == ' ')
			field++;
	if (p && sscanf(p, "%llu", &v) != 1)
		v = 0;
	return v;
}

/* The owner word of a group's reader, as the page describes it. */
static void check_owner_word(void)
{
	char path[TU_PATH_MAX];
	struct ring_reader *rd;
	struct rl_super sb;
	struct ring *r;
	uint64_t w = 0, start = my_start() & ((1ull << 41) - 1);

	if (ring_create(tu_ring_path(path, "fmtw"), NULL, 0, &r) ||
	    ring_reader_open(r, "g", RING_GROUP_CREATE, &rd) ||
	    tu_file_peek(path, 0, &sb, sizeof(sb)) ||
	    tu_file_peek(path, (off_t)(sb.group_off + offsetof(struct rl_group, owner)),
			 &w, sizeof(w)))
		bail_out("cannot make a ring with a reader");
	ok(w >> 42 == (uint64_t)getpid() && (w & 1) &&
	   ((w >> 1) & ((1ull << 41) - 1)) == (start ? start : 1),
	   "a reader's owner word is pid << 42 | start << 1 | locked "
	   "(%016llx, pid %d, start %llu)", (unsigned long long)w,
	   (int)getpid(), (unsigned long long)start);
	ring_reader_close(rd);
	ring_close(r);
}

int main(void)
{
	char why[200] = "", missing[400] = "";
	int rows, bad;

	plan(10);
	page = slurp(PAGE);
	if (!page)
		bail_out("cannot read " PAGE " (run from the repository root)");
	rows = check_rows(&bad, why, sizeof(why));
	ok(rows >= (int)NFIELDS && bad == 0,
	   "%d table rows, each field's offset and size as in layout.h %s",
	   rows, why);
	for (size_t i = 0; i < NFIELDS; i++)
		if (!fields[i].seen && strlen(missing) + 40 < sizeof(missing))
			snprintf(missing + strlen(missing),
				 sizeof(missing) - strlen(missing), " %s.%s",
				 fields[i].st, fields[i].name);
	ok(!missing[0], "every field of layout.h is in the page%s", missing);
	ok(says("0x31474e495242494c") && RL_MAGIC == 0x31474e495242494cull &&
	   says("format version: 2") && RL_VERSION == 2,
	   "magic and version as the code has them");
	ok(says("16, or 24 when flags has 0x1") && RL_HDR_SIZE == 16 &&
	   RL_HDR_SIZE_TS == 24 && RING_CFG_TIMESTAMPS == 0x1,
	   "header sizes and the timestamp flag");
	ok(sizeof(struct rl_group) == 128 && sizeof(struct rl_proc) == 128 &&
	   says("entries of 128 bytes") && sizeof(struct rl_seat) == 64 &&
	   RL_MEMBERS_MAX == 64 && says("64 seats of 64 bytes") &&
	   RL_NEXT_TAG_BITS == 8 && says("<< 8 | ") && sizeof(struct rl_hot) == 384 &&
	   says("round(384)") && says("hot_off + 320") &&
	   offsetof(struct rl_hot, table_owner) == 320 &&
	   says("<< 42") && says("2^41") && RL_LEASE_LOCKED == 1,
	   "entry sizes, the hot area's size, the group table's lock byte and "
	   "the owner word's layout");
	ok(says("low 44 bits") && RL_MIN_POS_BITS == 44,
	   "the cached minimum's split");
	check_rings();
	check_owner_word();
	return exit_status();
}

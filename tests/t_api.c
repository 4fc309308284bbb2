// SPDX-License-Identifier: MIT
/*
 * t_api.c - every public call's success and error paths: configuration,
 * create/open/unlink, producing (reserve/commit/abort/send/batch), the full
 * policies, counters, a message across the end of the ring, read-only
 * handles, handles inherited by a forked child, ring_strerror.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ring.h"
#include "tap.h"
#include "lib/testutil.h"

#define HDR 16u /* message header bytes (no timestamps) */

/* Slots a message of @len bytes takes in a ring of @slot-byte slots. */
static uint64_t slots_for(size_t len, uint32_t slot)
{
	return (HDR + len + slot - 1) / slot;
}

/* A small ring with one group "g" read by *@rd. Returns the ring or NULL. */
static struct ring *small_ring(const char *tag, uint64_t capacity,
			       uint32_t slot, uint32_t max_message,
			       uint32_t policy, struct ring_reader **rd)
{
	struct ring_config cfg;
	struct ring *r = NULL;
	char path[TU_PATH_MAX];
	int rc;

	ring_config_init(&cfg);
	cfg.capacity = capacity;
	cfg.slot_size = slot;
	cfg.max_message = max_message;
	cfg.full_policy = policy;
	rc = ring_create(tu_ring_path(path, tag), &cfg, 0, &r);
	if (rc) {
		diag("ring_create(%s): %s", path, ring_strerror(rc));
		return NULL;
	}
	rc = ring_reader_open(r, "g", RING_GROUP_CREATE | RING_FROM_OLDEST, rd);
	if (rc) {
		diag("ring_reader_open: %s", ring_strerror(rc));
		ring_close(r);
		return NULL;
	}
	return r;
}

/* ring_config_init fills in the documented defaults. */
static void test_config_defaults(void)
{
	struct ring_config cfg;
	unsigned i, nonzero = 0;

	memset(&cfg, 0xa5, sizeof(cfg));
	ring_config_init(&cfg);
	is(cfg.capacity, 64ull << 20, "default capacity 64 MiB");
	is(cfg.slot_size, 16, "default slot size 16");
	ok(cfg.max_message == 0 || cfg.max_message == 16u << 20,
	   "default max_message: capacity/4 or 0 (derived at create)");
	is(cfg.groups, 16, "default groups 16");
	is(cfg.processes, 256, "default processes 256");
	is(cfg.full_policy, RING_FULL_WAIT, "default full policy WAIT");
	is(cfg.mode, 0600, "default mode 0600");
	is(cfg.flags, 0, "default flags 0");
	for (i = 0; i < 7; i++)
		nonzero += cfg.reserved[i] != 0;
	is(nonzero, 0, "reserved fields zeroed");
}

/* Tries ring_create with one bad field and expects -EINVAL. */
static void expect_bad_config(const struct ring_config *cfg, const char *what)
{
	char path[TU_PATH_MAX];
	struct ring *r = NULL;
	int rc;

	rc = ring_create(tu_ring_path(path, "badcfg"), cfg, 0, &r);
	is(rc, -EINVAL, "ring_create with %s: -EINVAL", what);
	ok(rc == 0 || access(path, F_OK) != 0, "  ... and no file left behind");
	if (rc == 0)
		ring_close(r);
}

/* Bad configurations are refused. */
static void test_create_bad_configs(void)
{
	struct ring_config cfg, bad;

	ring_config_init(&cfg);
	cfg.capacity = 1 << 16;
	cfg.max_message = 1024;

	bad = cfg, bad.capacity = 5000;
	expect_bad_config(&bad, "capacity not a power of two");
	bad = cfg, bad.capacity = 2048;
	expect_bad_config(&bad, "capacity below a page");
	bad = cfg, bad.slot_size = 24;
	expect_bad_config(&bad, "slot size not a power of two");
	bad = cfg, bad.slot_size = 4;
	expect_bad_config(&bad, "slot size 4");
	bad = cfg, bad.slot_size = 8192;
	expect_bad_config(&bad, "slot size 8192");
	bad = cfg, bad.max_message = 1 << 16;
	expect_bad_config(&bad, "max_message as large as the ring");
	bad = cfg, bad.groups = 0;
	expect_bad_config(&bad, "groups 0");
	bad = cfg, bad.processes = 0;
	expect_bad_config(&bad, "processes 0");
	bad = cfg, bad.full_policy = 9;
	expect_bad_config(&bad, "unknown full policy");
	bad = cfg, bad.reserved[0] = 1;
	expect_bad_config(&bad, "non-zero reserved field");
}

/* Create refuses existing files and symlinks; open/unlink error paths. */
static void test_create_open_paths(void)
{
	char path[TU_PATH_MAX], link[TU_PATH_MAX], target[TU_PATH_MAX];
	struct ring_config cfg;
	struct ring *r = NULL;
	struct stat st;
	int fd, rc;

	ring_config_init(&cfg);
	cfg.capacity = 1 << 16;
	cfg.max_message = 1024;

	tu_ring_path(path, "exist");
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);
	ok(fd >= 0 && write(fd, "x", 1) == 1, "made a plain file");
	close(fd);
	is(ring_create(path, &cfg, 0, &r), -EEXIST,
	   "ring_create on an existing file: -EEXIST");
	ok(stat(path, &st) == 0 && st.st_size == 1,
	   "  ... and the file is untouched");
	is(ring_unlink(path), -ENOEXEC, "ring_unlink of a non-ring: -ENOEXEC");
	ok(access(path, F_OK) == 0, "  ... and it is still there");

	tu_ring_path(link, "link");
	tu_ring_path(target, "target");
	ok(symlink(target, link) == 0, "made a dangling symlink");
	rc = ring_create(link, &cfg, 0, &r);
	ok(rc < 0, "ring_create through a symlink fails (%s)",
	   ring_strerror(rc));
	ok(access(target, F_OK) != 0, "  ... and did not follow it");
	is(ring_open(link, 0, &r), -ELOOP, "ring_open of a symlink: -ELOOP");
	is(ring_unlink(link), -ELOOP, "ring_unlink of a symlink: -ELOOP");
	ok(lstat(link, &st) == 0, "  ... and the symlink is still there");

	tu_ring_path(path, "missing");
	is(ring_open(path, 0, &r), -ENOENT, "ring_open of a missing file");
	is(ring_unlink(path), -ENOENT, "ring_unlink of a missing file");

	rc = ring_create(tu_ring_path(path, "ok"), &cfg, 0, &r);
	is(rc, 0, "ring_create ok");
	if (rc == 0) {
		is(ring_create(path, &cfg, 0, &r), -EEXIST,
		   "ring_create on an existing ring: -EEXIST");
		ring_close(r);
	} else {
		skip(1, "no ring");
	}
	is(ring_unlink(path), 0, "ring_unlink of a ring");
	ok(access(path, F_OK) != 0, "  ... removed it");
	is(ring_close(NULL), 0, "ring_close(NULL)");
}

/* Defaults at create: sizes, mode, space reserved; custom mode. */
static void test_create_defaults(void)
{
	char path[TU_PATH_MAX];
	struct ring_config cfg;
	struct ring_stats st;
	struct ring *r = NULL, *r2 = NULL;
	struct stat sb;
	int rc;

	umask(022);
	rc = ring_create(tu_ring_path(path, "defaults"), NULL, 0, &r);
	if (!is(rc, 0, "ring_create with NULL config"))
		bail_out("cannot set up a ring");
	is(ring_stats(r, &st), 0, "ring_stats");
	is(st.capacity, 64ull << 20, "capacity 64 MiB");
	is(st.slot_size, 16, "slot size 16");
	is(st.slot_count, (64ull << 20) / 16, "slot count");
	ok(st.max_message <= 16u << 20 && st.max_message >= (16u << 20) - 24,
	   "max_message capacity/4 less at most a header (%llu)",
	   (unsigned long long)st.max_message);
	is(ring_max_message(r), st.max_message, "ring_max_message");
	is(st.full_policy, RING_FULL_WAIT, "full policy WAIT");
	ok(stat(path, &sb) == 0 && (sb.st_mode & 07777) == 0600,
	   "file mode 0600");
	ok((uint64_t)sb.st_blocks * 512 >= (64ull << 20),
	   "space reserved up front (%llu bytes allocated)",
	   (unsigned long long)sb.st_blocks * 512);
	is(ring_open(path, 0, &r2), 0, "ring_open of the same ring");
	ring_close(r2);
	ring_close(r);
	ring_unlink(path);

	ring_config_init(&cfg);
	cfg.capacity = 1 << 16;
	cfg.max_message = 1024;
	cfg.mode = 0640;
	rc = ring_create(tu_ring_path(path, "mode"), &cfg, 0, &r);
	ok(rc == 0 && stat(path, &sb) == 0 && (sb.st_mode & 07777) == 0640,
	   "mode 0640 honoured");
	if (rc == 0)
		ring_close(r);
}

/* Peeks the next message without waiting and releases it. */
static int take(struct ring_reader *rd, struct ring_msg *m)
{
	int rc = ring_peek(rd, m, RING_NONBLOCK, NULL);

	if (rc == 0)
		ring_release(rd);
	return rc;
}

/* send, reserve/commit/abort, batch, type tags, sizes, counters. */
static void test_produce(void)
{
	static char big[4097];
	struct ring_reader *rd = NULL, *rd2 = NULL;
	struct ring_claim c, c2;
	struct ring_group_stats gs;
	struct ring_stats st;
	struct ring_msg m;
	struct ring_out outs[5];
	struct ring *r;
	uint64_t committed = 0, pos;
	unsigned i;
	int rc, okay;

	r = small_ring("produce", 1 << 16, 16, 4096, RING_FULL_FAIL, &rd);
	if (!ok(r != NULL, "ring with a reader"))
		bail_out("cannot set up a ring");
	is(ring_max_message(r), 4096, "ring_max_message");
	is(ring_peek(rd, &m, RING_NONBLOCK, NULL), -EAGAIN,
	   "peek on an empty ring, NONBLOCK: -EAGAIN");
	is(ring_release(rd), -EINVAL, "release with nothing peeked: -EINVAL");

	is(ring_send(r, 7, "hello", 5, 0, NULL), 0, "ring_send");
	committed++;
	rc = ring_peek(rd, &m, 0, NULL);
	is(rc, 0, "ring_peek");
	ok(rc == 0 && m.len == 5 && memcmp(m.data, "hello", 5) == 0,
	   "payload as sent");
	is(m.type, 7, "type tag as sent");
	is(m.pid, getpid(), "producer pid recorded");
	is(m.pos, 0, "first message at position 0");
	is(m.slots, slots_for(5, 16), "slots of a 5-byte message");
	is(m.timestamp, 0, "no timestamp without RING_CFG_TIMESTAMPS");
	is(ring_peek(rd, &m, RING_NONBLOCK, NULL), 0, "peek again...");
	is(m.pos, 0, "  ... gives the same message until release");
	is(ring_release(rd), 0, "ring_release");
	is(ring_reader_position(rd), slots_for(5, 16),
	   "reader position moved past the message");

	is(ring_send(r, 9, NULL, 0, 0, NULL), 0, "zero-length send");
	committed++;
	rc = take(rd, &m);
	ok(rc == 0 && m.len == 0 && m.type == 9 && m.slots == 1,
	   "zero-length message: len 0, type kept, one slot");

	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + 3);
	is(ring_send(r, 1, big, 4096, 0, NULL), 0, "max-length send");
	committed++;
	rc = take(rd, &m);
	ok(rc == 0 && m.len == 4096 && memcmp(m.data, big, 4096) == 0,
	   "max-length message intact");
	is(ring_send(r, 1, big, 4097, 0, NULL), -EMSGSIZE,
	   "ring_send over max: -EMSGSIZE");
	is(ring_reserve(r, 4097, 1, 0, NULL, &c), -EMSGSIZE,
	   "ring_reserve over max: -EMSGSIZE");
	outs[0] = (struct ring_out){ big, 4097, 1 };
	is(ring_send_batch(r, outs, 1, 0, NULL), -EMSGSIZE,
	   "ring_send_batch over max: -EMSGSIZE");

	ring_stats(r, &st);
	pos = st.tail;
	rc = ring_reserve(r, 100, 3, 0, NULL, &c);
	is(rc, 0, "ring_reserve");
	ok(rc == 0 && c.len == 100 && c.type == 3 && c.pos == pos &&
		   c.slots == slots_for(100, 16),
	   "claim: len, type, pos at the tail, slots");
	is(ring_reserve(r, 10, 3, 0, NULL, &c2), -EBUSY,
	   "second ring_reserve on the same thread: -EBUSY");
	is(ring_peek(rd, &m, RING_NONBLOCK, NULL), -EAGAIN,
	   "nothing visible before commit");
	memset(c.data, 0x5a, 100);
	c.type = 4;
	is(ring_commit(r, &c), 0, "ring_commit");
	committed++;
	is(ring_commit(r, &c), -EINVAL, "commit of a committed claim: -EINVAL");
	is(ring_abort(r, &c), -EINVAL, "abort of a committed claim: -EINVAL");
	rc = take(rd, &m);
	okay = rc == 0 && m.len == 100 && m.type == 4;
	for (i = 0; okay && i < 100; i++)
		okay = ((const unsigned char *)m.data)[i] == 0x5a;
	ok(okay, "reserved message: type changed before commit, bytes intact");

	is(ring_reserve(r, 50, 5, 0, NULL, &c), 0, "reserve to abort");
	is(ring_abort(r, &c), 0, "ring_abort");
	is(ring_send(r, 6, "after", 5, 0, NULL), 0, "send after the abort");
	committed++;
	rc = take(rd, &m);
	ok(rc == 0 && m.type == 6 && m.len == 5 &&
		   memcmp(m.data, "after", 5) == 0,
	   "reader passes over the aborted claim");

	for (i = 0; i < 5; i++)
		outs[i] = (struct ring_out){ big + i, i * 100, 10 + i };
	is(ring_send_batch(r, outs, 5, 0, NULL), 5, "ring_send_batch of 5");
	committed += 5;
	okay = 1;
	for (i = 0; i < 5; i++) {
		rc = take(rd, &m);
		okay = okay && rc == 0 && m.type == 10 + i &&
		       m.len == i * 100 && memcmp(m.data, big + i, m.len) == 0;
	}
	ok(okay, "batch arrives in order, intact");

	for (i = 0; i < 3; i++)
		ring_send(r, 20, big, 64, 0, NULL);
	committed += 3;
	ring_stats(r, &st);
	is(st.committed, committed, "ring_stats committed");
	is(st.aborted, 1, "ring_stats aborted");
	is(st.dropped, 0, "ring_stats dropped");
	is(st.groups, 1, "ring_stats groups");
	is(ring_group_stats(r, "g", &gs), 0, "ring_group_stats");
	is(gs.cursor, ring_reader_position(rd), "group cursor = reader's");
	is(gs.lag_slots, st.tail - gs.cursor, "lag_slots = tail - cursor");
	is(gs.lag_slots, 3 * slots_for(64, 16), "lag_slots of 3 messages");
	is(gs.lag_bytes, gs.lag_slots * 16, "lag_bytes");
	is(gs.lag_messages, 3, "lag_messages");
	is(gs.released, committed - 3, "released");
	ok(gs.reader_alive == 1 && gs.reader_pid == getpid(),
	   "reader alive, its pid");
	ok(strcmp(gs.name, "g") == 0, "group name");
	is(ring_group_stats(r, "nope", &gs), -ENOENT,
	   "ring_group_stats of a missing group: -ENOENT");
	is(ring_reader_open(r, "g", 0, &rd2), -EBUSY,
	   "second reader in the same process: -EBUSY");
	while (take(rd, &m) == 0)
		;
	ring_group_stats(r, "g", &gs);
	ok(gs.lag_slots == 0 && gs.lag_messages == 0, "no lag after reading");
	is(ring_reader_close(rd), 0, "ring_reader_close");
	ring_close(r);
}

/* The full policies, per call and per ring, and a partial batch. */
static void test_full(void)
{
	struct ring_reader *rd = NULL;
	struct ring_stats st;
	struct ring_claim c;
	struct ring_msg m;
	struct ring_out outs[3];
	struct timespec past;
	char buf[200];
	struct ring *r;
	int n = 0, rc;

	r = small_ring("full", 4096, 16, 1024, RING_FULL_FAIL, &rd);
	if (!ok(r != NULL, "small ring (256 slots), default policy FAIL"))
		bail_out("cannot set up a ring");
	memset(buf, 'f', sizeof(buf));
	while ((rc = ring_send(r, 1, buf, 200, RING_FULL_FAIL, NULL)) == 0)
		n++;
	is(rc, -EAGAIN, "RING_FULL_FAIL on a full ring: -EAGAIN");
	is(n, 256 / slots_for(200, 16), "full after as many messages as fit");
	is(ring_send(r, 1, buf, 200, 0, NULL), -EAGAIN,
	   "ring default FAIL: -EAGAIN");
	is(ring_reserve(r, 200, 1, RING_FULL_FAIL, NULL, &c), -EAGAIN,
	   "ring_reserve, FAIL: -EAGAIN");
	is(ring_send(r, 1, buf, 200, RING_FULL_DROP, NULL), -ENOBUFS,
	   "RING_FULL_DROP: -ENOBUFS");
	outs[0] = outs[1] = outs[2] = (struct ring_out){ buf, 200, 2 };
	is(ring_send_batch(r, outs, 3, RING_FULL_DROP, NULL), -ENOBUFS,
	   "batch, RING_FULL_DROP: -ENOBUFS");
	ring_stats(r, &st);
	is(st.dropped, 4, "dropped counts each dropped message");
	tu_deadline_ms(&past, -10);
	is(ring_send(r, 1, buf, 200, RING_FULL_WAIT, &past), -ETIMEDOUT,
	   "RING_FULL_WAIT with a past deadline: -ETIMEDOUT");
	is(ring_reserve(r, 200, 1, RING_FULL_WAIT, &past, &c), -ETIMEDOUT,
	   "ring_reserve, WAIT, past deadline: -ETIMEDOUT");

	/* One message's room plus the leftover: one of three fits. */
	take(rd, &m);
	is(ring_send_batch(r, outs, 3, RING_FULL_FAIL, NULL), 1,
	   "batch into room for one: sends 1");
	ring_stats(r, &st);
	is(st.committed, (uint64_t)n + 1, "committed counts the batch's one");
	ring_close(r);
}

/* A message across the end of the slot area is contiguous. */
static void test_straddle(void)
{
	struct ring_reader *rd = NULL;
	struct ring_stats st;
	struct ring_claim c;
	struct ring_msg m;
	unsigned char pat[300];
	struct ring *r;
	unsigned i;
	int rc;

	r = small_ring("wrap", 4096, 16, 2048, RING_FULL_FAIL, &rd);
	if (!ok(r != NULL, "small ring (256 slots)"))
		bail_out("cannot set up a ring");
	for (i = 0; i < sizeof(pat); i++)
		pat[i] = (unsigned char)(i * 13 + 1);

	/* Zero-length messages are one slot each: walk to 5 before the end. */
	do {
		ring_send(r, 0, NULL, 0, 0, NULL);
		take(rd, &m);
		ring_stats(r, &st);
	} while (st.tail < 256 - 5);
	is(st.tail, 251, "tail 5 slots before the end");
	is(ring_send(r, 77, pat, 300, 0, NULL), 0, "send across the end");
	rc = ring_peek(rd, &m, RING_NONBLOCK, NULL);
	ok(rc == 0 && m.pos == 251 && m.len == 300 && m.type == 77 &&
		   memcmp(m.data, pat, 300) == 0,
	   "message across the end reads back contiguous and intact");
	ring_release(rd);

	do {
		ring_send(r, 0, NULL, 0, 0, NULL);
		take(rd, &m);
		ring_stats(r, &st);
	} while (st.tail < 512 - 3);
	is(ring_reserve(r, 300, 78, 0, NULL, &c), 0, "reserve across the end");
	memcpy(c.data, pat, 300);
	is(ring_commit(r, &c), 0, "commit it");
	rc = ring_peek(rd, &m, RING_NONBLOCK, NULL);
	ok(rc == 0 && m.pos == 509 && m.len == 300 && m.type == 78 &&
		   memcmp(m.data, pat, 300) == 0,
	   "reserved message across the end intact");
	ring_release(rd);
	ring_close(r);
}

/* RING_CFG_TIMESTAMPS records CLOCK_REALTIME. */
static void test_timestamps(void)
{
	char path[TU_PATH_MAX];
	struct ring_reader *rd = NULL;
	struct ring_config cfg;
	struct ring_stats st;
	struct ring_msg m;
	struct timespec t0, t1;
	struct ring *r = NULL;
	int rc;

	ring_config_init(&cfg);
	cfg.capacity = 1 << 16;
	cfg.max_message = 1024;
	cfg.flags = RING_CFG_TIMESTAMPS;
	rc = ring_create(tu_ring_path(path, "ts"), &cfg, 0, &r);
	if (!is(rc, 0, "ring with timestamps"))
		bail_out("cannot set up a ring");
	ring_reader_open(r, "g", RING_GROUP_CREATE, &rd);
	clock_gettime(CLOCK_REALTIME, &t0);
	ring_send(r, 1, "ts", 2, 0, NULL);
	clock_gettime(CLOCK_REALTIME, &t1);
	rc = ring_peek(rd, &m, RING_NONBLOCK, NULL);
	ok(rc == 0 && m.timestamp >= tu_ts_ns(&t0) &&
		   m.timestamp <= tu_ts_ns(&t1),
	   "timestamp between the clock readings around the send");
	ok(rc == 0 && m.len == 2 && memcmp(m.data, "ts", 2) == 0,
	   "payload intact with timestamps");
	ring_stats(r, &st);
	is(st.flags, RING_CFG_TIMESTAMPS, "ring_stats flags");
	ring_close(r);
}

/* A read-only handle refuses to produce or read. */
static void test_rdonly(void)
{
	char path[TU_PATH_MAX];
	struct ring_reader *rd = NULL;
	struct ring_config cfg;
	struct ring_stats st;
	struct ring_claim c;
	struct ring_out out = { "x", 1, 1 };
	struct ring *r = NULL, *ro = NULL;
	int rc;

	ring_config_init(&cfg);
	cfg.capacity = 1 << 16;
	cfg.max_message = 1024;
	rc = ring_create(tu_ring_path(path, "ro"), &cfg, 0, &r);
	ring_send(r, 1, "a", 1, 0, NULL);
	rc = rc ? rc : ring_open(path, RING_OPEN_RDONLY, &ro);
	if (!is(rc, 0, "ring_open RING_OPEN_RDONLY"))
		bail_out("cannot set up a ring");
	is(ring_send(ro, 1, "x", 1, 0, NULL), -EROFS, "ring_send: -EROFS");
	is(ring_reserve(ro, 1, 1, 0, NULL, &c), -EROFS, "ring_reserve: -EROFS");
	is(ring_send_batch(ro, &out, 1, 0, NULL), -EROFS,
	   "ring_send_batch: -EROFS");
	is(ring_group_create(ro, "g", 0), -EROFS, "ring_group_create: -EROFS");
	is(ring_reader_open(ro, "g", RING_GROUP_CREATE, &rd), -EROFS,
	   "ring_reader_open: -EROFS");
	ok(ring_stats(ro, &st) == 0 && st.committed == 1,
	   "ring_stats works read-only");
	ring_close(ro);
	ring_close(r);
}

/* Child: the parent's handle must refuse with -ECHILD. */
static int child_uses_parent_handle(void *arg)
{
	struct ring *r = arg;
	struct ring_stats st;

	if (ring_send(r, 1, "c", 1, 0, NULL) != -ECHILD)
		return 1;
	if (ring_stats(r, &st) != -ECHILD)
		return 2;
	if (ring_close(r) != 0)
		return 3;
	return 0;
}

/* A forked child cannot use the parent's handles; the parent can. */
static void test_fork(void)
{
	struct ring_reader *rd = NULL, *rd2 = NULL;
	struct ring_group_stats gs;
	struct ring_msg m;
	struct ring *r;
	pid_t pid;

	r = small_ring("fork", 1 << 16, 16, 1024, RING_FULL_FAIL, &rd);
	if (!ok(r != NULL, "ring with a reader"))
		bail_out("cannot set up a ring");
	pid = tu_fork(child_uses_parent_handle, r);
	is(tu_wait(pid, 10000), 0,
	   "child: parent's handle gives -ECHILD, ring_close works");
	is(ring_send(r, 2, "p", 1, 0, NULL), 0, "parent still sends");
	ok(take(rd, &m) == 0 && m.type == 2, "parent still reads");
	ring_group_stats(r, "g", &gs);
	ok(gs.reader_alive == 1 &&
		   ring_reader_open(r, "g", 0, &rd2) == -EBUSY,
	   "parent still holds its group after the child closed");
	ring_close(r);
}

/* ring_strerror: text for every ring-specific code, distinct. */
static void test_strerror(void)
{
	static const int codes[] = {
		EINPROGRESS, ENOEXEC,  EPROTONOSUPPORT, EUCLEAN, EDOM,
		ENODATA,     EBADMSG,  EMSGSIZE,	ENOBUFS, ECHILD,
		ENOENT,	     ETIMEDOUT, EBUSY,		EEXIST,	 EISDIR,
	};
	unsigned i, j, n = sizeof(codes) / sizeof(codes[0]);
	int okay = 1, distinct = 1, own = 1;
	const char *a, *b;

	for (i = 0; i < n; i++) {
		a = ring_strerror(-codes[i]);
		b = ring_strerror(codes[i]);
		if (!a || !*a || !b || strcmp(a, b) != 0) {
			diag("ring_strerror(%d): %s", -codes[i], a ? a : "NULL");
			okay = 0;
			continue;
		}
		if (strcmp(a, strerror(codes[i])) == 0) {
			diag("ring_strerror(-%d) is libc's text: %s", codes[i],
			     a);
			own = 0;
		}
		for (j = 0; j < i; j++)
			if (strcmp(a, ring_strerror(-codes[j])) == 0)
				distinct = 0;
	}
	ok(okay, "ring_strerror: non-empty text, same for -e and e");
	ok(distinct, "ring_strerror: a distinct text for each code");
	ok(own, "ring_strerror: ring-specific text, not libc's");
	ok(ring_strerror(0) && *ring_strerror(0), "ring_strerror(0)");
	ok(strstr(ring_strerror(-ENOENT), "no such ring file") &&
	   strstr(ring_strerror(-ENOENT), "no such group"),
	   "ring_strerror(-ENOENT) names what is missing: a ring or a group");
	ok(strstr(ring_strerror(-ETIMEDOUT), "waiting for room") != NULL,
	   "ring_strerror(-ETIMEDOUT): timed out waiting, not a connection");
	ok(strcmp(ring_strerror(-EACCES), strerror(EACCES)) == 0,
	   "ring_strerror of a plain errno: libc's text");
	ok(ring_strerror(-99999) != NULL, "ring_strerror of nonsense: not NULL");
}

/*
 * A claim that outlives this thread's cached state for its ring: after
 * ring_reserve(), a send on each of six other rings pushes the ring out of
 * the per-thread cache (four entries), and ring_commit() must find the
 * claim the long way; a forged claim is refused that way too.
 */
static void test_claim_cache_evicted(void)
{
	struct ring_reader *rd = NULL, *ord[6] = { NULL };
	struct ring *r, *other[6] = { NULL };
	struct ring_claim c, forged;
	struct ring_msg m;
	char tag[16];
	int i, rc, okay;

	r = small_ring("evict", 1 << 16, 16, 1024, RING_FULL_FAIL, &rd);
	if (!ok(r != NULL, "claim cache: a ring with a reader"))
		bail_out("cannot set up a ring");
	for (i = 0; i < 6; i++) {
		snprintf(tag, sizeof(tag), "evict%d", i);
		other[i] = small_ring(tag, 1 << 16, 16, 1024, RING_FULL_FAIL,
				      &ord[i]);
		if (!other[i])
			bail_out("cannot set up the other rings");
	}

	is(ring_reserve(r, 32, 9, 0, NULL, &c), 0, "claim cache: reserve");
	memset(c.data, 0x33, 32);
	okay = 1;
	for (i = 0; i < 6; i++)
		okay = okay && ring_send(other[i], 1, "x", 1, 0, NULL) == 0;
	ok(okay, "claim cache: a send on each of six other rings");
	is(ring_commit(r, &c), 0,
	   "claim cache: the claim commits with its state out of the cache");
	rc = ring_peek(rd, &m, RING_NONBLOCK, NULL);
	okay = rc == 0 && m.type == 9 && m.len == 32;
	for (i = 0; okay && i < 32; i++)
		okay = ((const unsigned char *)m.data)[i] == 0x33;
	ok(okay, "claim cache: and its message arrives intact");
	if (rc == 0)
		ring_release(rd);

	is(ring_reserve(r, 32, 9, 0, NULL, &c), 0, "claim cache: reserve again");
	for (i = 0; i < 6; i++)
		ring_send(other[i], 1, "x", 1, 0, NULL);
	forged = c;
	forged.pos++;
	is(ring_commit(r, &forged), -EINVAL,
	   "claim cache: a forged claim, state out of the cache: -EINVAL");
	is(ring_abort(r, &c), 0, "claim cache: the real one aborts");
	is(ring_peek(rd, &m, RING_NONBLOCK, NULL), -EAGAIN,
	   "claim cache: nothing to read after the abort");

	for (i = 0; i < 6; i++) {
		ring_reader_close(ord[i]);
		ring_close(other[i]);
	}
	ring_reader_close(rd);
	ring_close(r);
}

int main(void)
{
	plan(165);
	tu_guard(60);
	test_config_defaults();
	test_create_bad_configs();
	test_create_open_paths();
	test_create_defaults();
	test_produce();
	test_claim_cache_evicted();
	test_full();
	test_straddle();
	test_timestamps();
	test_rdonly();
	test_fork();
	test_strerror();
	tu_cleanup_rings();
	return exit_status();
}

// SPDX-License-Identifier: MIT
/*
 * t_badfile.c - damaged, hostile and half-made files (DESIGN H3, H11): each
 * gives its own error from ring_open, never a crash; a hostile message
 * header gives -EBADMSG and ring_reader_skip moves past it.
 *
 * The cases are copies of one valid ring with one thing changed. Where a
 * case is about a field other than the checksum, the superblock checksum is
 * recomputed (FNV-1a 64 over the bytes before it, as the library does), so
 * that the field itself must be caught.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ring.h"
#include "../libring/src/layout.h"
#include "tap.h"
#include "lib/testutil.h"

static char template_path[TU_PATH_MAX];
static struct rl_super template_sb;
static unsigned char *template_bytes;
static size_t template_size;

/* Creates the valid ring every case starts from, and reads it in. */
static void make_template(void)
{
	struct ring_config cfg;
	struct ring *r = NULL;
	struct stat st;
	int fd;

	ring_config_init(&cfg);
	cfg.capacity = 1 << 14;
	cfg.max_message = 1024;
	cfg.groups = 4;
	cfg.processes = 8;
	if (ring_create(tu_ring_path(template_path, "badfile"), &cfg, 0, &r))
		bail_out("cannot create the template ring");
	ring_close(r);
	fd = open(template_path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st))
		bail_out("cannot read the template ring");
	template_size = (size_t)st.st_size;
	template_bytes = malloc(template_size);
	if (!template_bytes ||
	    tu_read_all(fd, template_bytes, template_size))
		bail_out("cannot read the template ring");
	close(fd);
	memcpy(&template_sb, template_bytes, sizeof(template_sb));
}

/* The checksum the library keeps in the superblock. */
static uint64_t super_checksum(const struct rl_super *sb)
{
	return tu_fnv1a64(TU_FNV64_INIT, sb, offsetof(struct rl_super, checksum));
}

/* Writes a copy of the template with superblock @sb and @size bytes. */
static char *write_case(char *path, const struct rl_super *sb, size_t size)
{
	int fd = open(tu_ring_path(path, "case"),
		      O_CREAT | O_EXCL | O_WRONLY, 0600);

	if (fd < 0)
		bail_out("cannot write a test file");
	if (size)
		tu_write_all(fd, template_bytes,
			     size < template_size ? size : template_size);
	if (size > template_size && ftruncate(fd, (off_t)size))
		bail_out("cannot extend a test file");
	if (sb && size >= sizeof(*sb) && pwrite(fd, sb, sizeof(*sb), 0) < 0)
		bail_out("cannot write a superblock");
	close(fd);
	return path;
}

/* Opens @path and expects @want; never leaves a handle open. */
static void expect_open(const char *path, unsigned flags, int want,
			const char *what)
{
	struct ring *r = NULL;
	int rc = ring_open(path, flags, &r);

	if (!is(rc, want, "%s: %s", what, ring_strerror(want)))
		diag("  ring_open said: %s", ring_strerror(rc));
	if (rc == 0)
		ring_close(r);
}

/* A template superblock changed by @edit, with a valid checksum. */
#define SB_CASE(want, what, edit)                                             \
	do {                                                                  \
		struct rl_super sb = template_sb;                             \
		char p_[TU_PATH_MAX];                                         \
		edit;                                                         \
		sb.checksum = super_checksum(&sb);                            \
		expect_open(write_case(p_, &sb, template_size), 0, want,      \
			    what);                                            \
	} while (0)

/* Every superblock field is checked. */
static void test_superblock(void)
{
	char path[TU_PATH_MAX];
	struct rl_super bad;

	is(template_sb.checksum, super_checksum(&template_sb),
	   "the template's checksum is FNV-1a 64 of the superblock");
	expect_open(write_case(path, &template_sb, template_size), 0, 0,
		    "an unchanged copy opens");

	SB_CASE(-ENOEXEC, "wrong magic", sb.magic ^= 1);
	SB_CASE(-EPROTONOSUPPORT, "wrong version", sb.version = RL_VERSION + 1);
	bad = template_sb;
	bad.created_ns ^= 1;
	expect_open(write_case(path, &bad, template_size), 0, -EUCLEAN,
		    "checksum mismatch");
	bad = template_sb;
	bad.checksum ^= 1ull << 40;
	expect_open(write_case(path, &bad, template_size), 0, -EUCLEAN,
		    "damaged checksum");

	SB_CASE(-EDOM, "slot size not a power of two", sb.slot_size = 24);
	SB_CASE(-EDOM, "slot size 4", sb.slot_size = 4);
	SB_CASE(-EDOM, "slot size 1 MiB", sb.slot_size = 1 << 20);
	SB_CASE(-EDOM, "slot count 0", sb.slot_count = 0);
	SB_CASE(-EDOM, "slot count not a power of two",
		sb.slot_count = template_sb.slot_count - 1);
	SB_CASE(-EDOM, "slot count 2^60", sb.slot_count = 1ull << 60);
	SB_CASE(-EDOM, "max_message larger than the ring",
		sb.max_message = (uint32_t)(sb.slot_count * sb.slot_size * 2));
	SB_CASE(-EDOM, "max_message equal to the ring",
		sb.max_message = (uint32_t)(sb.slot_count * sb.slot_size));
	SB_CASE(-EDOM, "groups 0", sb.groups = 0);
	SB_CASE(-EDOM, "processes 0", sb.procs = 0);
	SB_CASE(-EDOM, "page size 3000", sb.page_size = 3000);
	SB_CASE(-EDOM, "header size 8", sb.hdr_size = 8);
	SB_CASE(-EDOM, "unknown flag", sb.flags = 0x80);
	SB_CASE(-EDOM, "unknown full policy", sb.full_policy = 7);
	SB_CASE(-EDOM, "commit area out of bounds",
		sb.commit_off = template_size * 4);
	SB_CASE(-EDOM, "slot area overlapping the commit words",
		sb.slots_off = sb.commit_off);
	SB_CASE(-EDOM, "slot area offset misaligned", sb.slots_off += 8);
	SB_CASE(-EDOM, "group table offset out of bounds",
		sb.group_off = ~0ull - 4095);
	SB_CASE(-EDOM, "file size field wrong", sb.file_size *= 2);
}

/* File sizes, half-made files, non-files. */
static void test_files(void)
{
	char path[TU_PATH_MAX], link[TU_PATH_MAX];
	struct rl_super sb;
	uint64_t t0;
	int fd;

	expect_open(write_case(path, &template_sb, template_size - 4096), 0,
		    -ENODATA, "truncated by a page");
	expect_open(write_case(path, &template_sb, template_size - 1), 0,
		    -ENODATA, "truncated by a byte");
	expect_open(write_case(path, &template_sb, template_size + 4096), 0,
		    -ENODATA, "longer than its geometry");
	expect_open(write_case(path, &template_sb, 100), 0, -ENOEXEC,
		    "shorter than a superblock");

	/* All zero, the right size: a ring whose creator has not finished. */
	fd = open(tu_ring_path(path, "zero"), O_CREAT | O_EXCL | O_WRONLY,
		  0600);
	ok(fd >= 0 && ftruncate(fd, (off_t)template_size) == 0,
	   "zero-filled file of a ring's size");
	close(fd);
	t0 = tu_now_ns();
	expect_open(path, 0, -EINPROGRESS, "zero-filled (still being created)");
	diag("  waited %.0f ms", (tu_now_ns() - t0) / 1e6);
	ok(tu_now_ns() - t0 >= 1000000, "  ... after waiting a little");

	sb = template_sb;
	sb.magic = 0;
	expect_open(write_case(path, &sb, template_size), 0, -EINPROGRESS,
		    "everything but the magic written");
	expect_open(write_case(path, NULL, 0), 0, -EINPROGRESS,
		    "empty file (just created)");

	tu_ring_path(path, "dir");
	ok(mkdir(path, 0700) == 0, "a directory");
	expect_open(path, 0, -EISDIR, "a directory");
	expect_open(path, RING_OPEN_RDONLY, -EISDIR, "a directory, read-only");
	rmdir(path);

	tu_ring_path(link, "link");
	ok(symlink(template_path, link) == 0, "a symlink to a valid ring");
	expect_open(link, 0, -ELOOP, "a symlink");
	is(ring_unlink(link), -ELOOP, "ring_unlink of a symlink: -ELOOP");

	sb = template_sb;
	sb.magic ^= 1;
	is(ring_unlink(write_case(path, &sb, template_size)), -ENOEXEC,
	   "ring_unlink of a non-ring: -ENOEXEC");
	ok(access(path, F_OK) == 0, "  ... left it alone");
}

/* A committed message whose header lies is reported, then skipped. */
static void test_hostile_header(void)
{
	struct ring_reader *rd = NULL;
	struct rl_msg_hdr h;
	struct ring_msg m;
	struct ring *r = NULL;
	char path[TU_PATH_MAX];
	uint64_t off;
	int i, rc;

	write_case(path, &template_sb, template_size);
	if (ring_open(path, 0, &r) ||
	    ring_reader_open(r, "g", RING_GROUP_CREATE, &rd))
		bail_out("cannot open a copy of the template");
	for (i = 0; i < 4; i++)
		ring_send(r, (uint32_t)i, "abcdef", 6, RING_FULL_FAIL, NULL);

	/* Message 0 at position 0: a length beyond max_message. */
	off = template_sb.slots_off;
	tu_file_peek(path, (off_t)off, &h, sizeof(h));
	h.len = 0xfffffff0u;
	tu_file_patch(path, (off_t)off, &h, sizeof(h));
	is(ring_peek(rd, &m, RING_NONBLOCK, NULL), -EBADMSG,
	   "length beyond max_message: -EBADMSG");
	rc = ring_reader_skip(rd);
	ok(rc > 0, "ring_reader_skip moves on (%d slots)", rc);
	rc = ring_peek(rd, &m, RING_NONBLOCK, NULL);
	ok(rc == 0 && m.len == 6 && memcmp(m.data, "abcdef", 6) == 0,
	   "the next message is intact");
	ring_release(rd);

	/* The next one: a skip record longer than the ring. */
	off = template_sb.slots_off +
	      (ring_reader_position(rd) & (template_sb.slot_count - 1)) *
		      template_sb.slot_size;
	tu_file_peek(path, (off_t)off, &h, sizeof(h));
	h.flags = RL_HDR_SKIP;
	h.len = (uint32_t)template_sb.slot_count * 4;
	tu_file_patch(path, (off_t)off, &h, sizeof(h));
	is(ring_peek(rd, &m, RING_NONBLOCK, NULL), -EBADMSG,
	   "skip record longer than the ring: -EBADMSG");
	ok(ring_reader_skip(rd) > 0, "ring_reader_skip moves on");

	/* And unknown header flags. */
	off = template_sb.slots_off +
	      (ring_reader_position(rd) & (template_sb.slot_count - 1)) *
		      template_sb.slot_size;
	tu_file_peek(path, (off_t)off, &h, sizeof(h));
	h.flags = 0x80;
	tu_file_patch(path, (off_t)off, &h, sizeof(h));
	is(ring_peek(rd, &m, RING_NONBLOCK, NULL), -EBADMSG,
	   "unknown header flags: -EBADMSG");
	ring_close(r);
}

/*
 * A FIFO, a socket or a device at the path: refused at once, never
 * blocking in open() (a FIFO with no writer would block it forever).
 */
static void test_special_files(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[TU_PATH_MAX];
	struct ring *r = NULL;
	uint64_t t0;
	int s, rc;

	tu_ring_path(path, "fifo");
	ok(mkfifo(path, 0600) == 0, "a FIFO at the path");
	t0 = tu_now_ns();
	rc = ring_open(path, 0, &r);
	is(rc, -ENOEXEC, "ring_open of a FIFO: -ENOEXEC, without blocking");
	rc = ring_open(path, RING_OPEN_RDONLY, &r);
	is(rc, -ENOEXEC, "read-only ring_open of a FIFO: -ENOEXEC");
	is(ring_unlink(path), -ENOEXEC, "ring_unlink of a FIFO refuses it");
	ok(tu_now_ns() - t0 < 5000000000ull, "all of it promptly");
	unlink(path);

	tu_ring_path(path, "sock");
	if (strlen(path) >= sizeof(sa.sun_path))
		bail_out("socket path too long");
	memcpy(sa.sun_path, path, strlen(path) + 1);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	ok(s >= 0 && bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0,
	   "a socket at the path");
	rc = ring_open(path, 0, &r);
	ok(rc == -ENOEXEC, "ring_open of a socket: not a ring file (%s)",
	   ring_strerror(rc));
	close(s);
	unlink(path);

	is(ring_open("/dev/null", RING_OPEN_RDONLY, &r), -ENOEXEC,
	   "ring_open of a character device: -ENOEXEC");
}

int main(void)
{
	plan(56);
	tu_guard(60);
	make_template();
	test_superblock();
	test_files();
	test_hostile_header();
	test_special_files();
	free(template_bytes);
	tu_cleanup_rings();
	return exit_status();
}

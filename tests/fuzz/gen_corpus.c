/* SPDX-License-Identifier: MIT */
/*
 * gen_corpus.c - writes the seed corpus of the fuzz target: small valid ring
 * files in several states and corrupted copies of them.
 *
 *   gen_corpus DIR
 *
 * Run by `make fuzz-corpus`; the files it writes are kept in
 * tests/fuzz/corpus.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ring.h"
#include "../../libring/src/layout.h"

uint64_t rl_super_checksum(const struct rl_super *sb);

static char tmp_path[64];
static const char *out_dir;

/* Reads the ring file into memory; returns its bytes and *@size. */
static uint8_t *slurp(size_t *size)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(tmp_path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) != 0)
		exit(1);
	buf = malloc((size_t)st.st_size);
	if (!buf || pread(fd, buf, (size_t)st.st_size, 0) != st.st_size)
		exit(1);
	close(fd);
	*size = (size_t)st.st_size;
	return buf;
}

/* Writes @size bytes as corpus file @name. */
static void emit(const char *name, const uint8_t *buf, size_t size)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", out_dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, size, f) != size || fclose(f) != 0) {
		fprintf(stderr, "gen_corpus: cannot write %s\n", path);
		exit(1);
	}
}

/* Creates a fresh small ring at tmp_path. */
static struct ring *make_ring(uint32_t slot, uint32_t flags)
{
	struct ring_config cfg;
	struct ring *r;

	unlink(tmp_path);
	ring_config_init(&cfg);
	cfg.capacity = 4096;
	cfg.slot_size = slot;
	cfg.groups = 4;
	cfg.processes = 4;
	cfg.flags = flags;
	if (ring_create(tmp_path, &cfg, 0, &r) != 0) {
		fprintf(stderr, "gen_corpus: ring_create failed\n");
		exit(1);
	}
	return r;
}

/* Sends @n messages of growing length. */
static void send_some(struct ring *r, unsigned n)
{
	char buf[200];
	unsigned i;

	for (i = 0; i < n; i++) {
		memset(buf, 'a' + i % 26, sizeof(buf));
		ring_send(r, i, buf, 1 + (i * 37) % sizeof(buf), RING_FULL_FAIL,
			  NULL);
	}
}

/* Reads and releases up to @n messages of @group. */
static void read_some(struct ring *r, const char *group, unsigned n)
{
	struct ring_reader *rd;
	struct ring_msg m;

	if (ring_reader_open(r, group, RING_GROUP_CREATE, &rd) != 0)
		return;
	while (n-- > 0 && ring_peek(rd, &m, RING_NONBLOCK, NULL) == 0)
		ring_release(rd);
	ring_reader_close(rd);
}

/* A child that reserves a claim and is killed: the file keeps a dead
 * entry holding an uncommitted claim. */
static void dead_claim(void)
{
	struct ring_claim c;
	struct ring *r;
	int p[2], status;
	char ch;
	pid_t pid;

	if (pipe(p) != 0)
		exit(1);
	pid = fork();
	if (pid == 0) {
		if (ring_open(tmp_path, 0, &r) != 0 ||
		    ring_reserve(r, 40, 0, 0, NULL, &c) != 0)
			_exit(1);
		memset(c.data, 'x', 20);
		if (write(p[1], "R", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	if (read(p[0], &ch, 1) != 1)
		exit(1);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	close(p[0]);
	close(p[1]);
}

/* Makes the superblock checksum right again after an edit. */
static void fix_checksum(uint8_t *buf)
{
	struct rl_super *sb = (struct rl_super *)buf;

	sb->checksum = rl_super_checksum(sb);
}

/* Writes corrupted copies of the ring image @img. */
static void emit_corrupted(const uint8_t *img, size_t size)
{
	uint8_t *b = malloc(size);
	struct rl_super *sb = (struct rl_super *)b;
	struct rl_msg_hdr *h;
	struct rl_group *g;
	struct rl_proc *p;
	uint64_t i;

	if (!b)
		exit(1);
#define RESET() memcpy(b, img, size)
	RESET();
	b[3] ^= 0x20;
	emit("bad-magic", b, size);
	RESET();
	sb->version = 99;
	fix_checksum(b);
	emit("bad-version", b, size);
	RESET();
	b[30] ^= 1;
	emit("bad-checksum", b, size);
	RESET();
	sb->slot_size = 24;
	fix_checksum(b);
	emit("bad-slot-size", b, size);
	RESET();
	sb->slots_off = sb->file_size - 1;
	fix_checksum(b);
	emit("bad-offsets", b, size);
	RESET();
	sb->slot_count = 1ull << 40;
	fix_checksum(b);
	emit("bad-slot-count", b, size);
	emit("truncated", img, size - 4096);

	RESET();
	sb = (struct rl_super *)img;
	h = (struct rl_msg_hdr *)(b + sb->slots_off + sb->slot_size * 4);
	h->len = 0xfffffff0u;
	h = (struct rl_msg_hdr *)(b + sb->slots_off);
	h->flags = RL_HDR_SKIP;
	h->len = 0x7fffffffu;
	emit("hostile-lengths", b, size);

	RESET();
	for (i = 0; i < sb->slot_count; i += 3)
		((uint64_t *)(b + sb->commit_off))[i] = i * 0x9e3779b97f4a7c15ull;
	emit("bad-commit-words", b, size);

	RESET();
	g = (struct rl_group *)(b + sb->group_off);
	g[0].cursor = ((struct rl_hot *)(b + sb->hot_off))->tail + 100000;
	g[1].state = RL_GROUP_ACTIVE;
	memset(g[1].name, 'n', sizeof(g[1].name)); /* no NUL */
	g[1].cursor = 3;
	emit("bad-groups", b, size);

	RESET();
	p = (struct rl_proc *)(b + sb->proc_off);
	for (i = 0; i < sb->procs; i++) {
		p[i].state = RL_PROC_USED;
		p[i].pid = 1;
		p[i].claim_state = RL_CLAIM_HELD;
		p[i].claim_start = i * 1000;
		p[i].claim_end = ~0ull - i;
	}
	((struct rl_hot *)(b + sb->hot_off))->tail = ~0ull - 5;
	emit("bad-procs-and-tail", b, size);
#undef RESET
	free(b);
}

int main(int argc, char **argv)
{
	struct ring_claim c;
	struct ring *r;
	uint8_t *img;
	size_t size;

	if (argc != 2) {
		fprintf(stderr, "usage: gen_corpus DIR\n");
		return 2;
	}
	out_dir = argv[1];
	snprintf(tmp_path, sizeof(tmp_path), "/dev/shm/libring-gen.%d",
		 (int)getpid());

	r = make_ring(16, 0);
	ring_group_create(r, "empty", RING_FROM_OLDEST);
	ring_close(r);
	img = slurp(&size);
	emit("valid-empty", img, size);
	free(img);

	r = make_ring(16, 0);
	ring_group_create(r, "slow", RING_FROM_OLDEST);
	ring_group_create(r, "fast", RING_FROM_OLDEST);
	send_some(r, 12);
	read_some(r, "fast", 12);
	read_some(r, "slow", 5);
	if (ring_reserve(r, 30, 5, 0, NULL, &c) == 0)
		ring_abort(r, &c);
	send_some(r, 3);
	ring_close(r);
	dead_claim();
	img = slurp(&size);
	emit("valid-messages-dead-claim", img, size);
	emit_corrupted(img, size);
	free(img);

	r = make_ring(64, RING_CFG_TIMESTAMPS);
	ring_group_create(r, "ts", RING_FROM_OLDEST);
	send_some(r, 40);
	read_some(r, "ts", 30);
	send_some(r, 20); /* wraps */
	ring_close(r);
	img = slurp(&size);
	emit("valid-timestamps-wrapped", img, size);
	free(img);

	r = make_ring(8, 0);
	ring_group_create(r, "a", RING_FROM_NEWEST);
	send_some(r, 5);
	ring_close(r);
	img = slurp(&size);
	emit("valid-slot8", img, size);
	free(img);

	unlink(tmp_path);
	return 0;
}

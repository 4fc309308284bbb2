// SPDX-License-Identifier: MIT
/*
 * file.c - creating, validating, mapping and closing ring files
 * (DESIGN H2, H3, H10, H11).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define RL_OPEN_WAIT_MS 250 /* how long ring_open waits for a magic */

static uint64_t next_handle_id = 1;

void ring_config_init(struct ring_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->capacity = 64ull << 20;
	cfg->slot_size = 16;
	cfg->max_message = 0; /* derived from capacity at create */
	cfg->groups = 16;
	cfg->processes = 256;
	cfg->full_policy = RING_FULL_WAIT;
	cfg->mode = 0600;
}

/* FNV-1a 64 over the superblock bytes before the checksum field. */
uint64_t rl_super_checksum(const struct rl_super *sb)
{
	const uint8_t *p = (const uint8_t *)sb;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < offsetof(struct rl_super, checksum); i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

static uint64_t align_up(uint64_t x, uint64_t a)
{
	return (x + a - 1) & ~(a - 1);
}

/*
 * Compute the area offsets of a ring of the given shape. Each area starts on
 * a page; the slots come last so that their second view follows the file's
 * mapping directly. Returns 0 or -EDOM if the shape is impossible.
 */
int rl_geometry(struct rl_geometry *g, uint32_t slot_size, uint64_t slot_count,
		uint32_t groups, uint32_t procs, uint32_t page_size)
{
	if (!is_pow2(page_size) || page_size < RL_PAGE || page_size > (1u << 21))
		return -EDOM;
	if (!is_pow2(slot_size) || slot_size < RL_SLOT_MIN ||
	    slot_size > RL_SLOT_MAX)
		return -EDOM;
	if (!is_pow2(slot_count) || slot_count > RL_CAPACITY_MAX / slot_size ||
	    slot_count * slot_size < page_size)
		return -EDOM;
	if (groups < 1 || groups > RL_GROUPS_MAX || procs < 1 ||
	    procs > RL_PROCS_MAX)
		return -EDOM;
	g->slot_size = slot_size;
	g->slot_count = slot_count;
	g->groups = groups;
	g->procs = procs;
	g->hot_off = page_size;
	g->group_off = g->hot_off + align_up(sizeof(struct rl_hot), page_size);
	g->member_off = g->group_off +
			align_up((uint64_t)groups * sizeof(struct rl_group),
				 page_size);
	g->proc_off = g->member_off +
		      align_up((uint64_t)groups * RL_MEMBERS_MAX *
				       sizeof(struct rl_seat),
			       page_size);
	g->commit_off = g->proc_off +
			align_up((uint64_t)procs * sizeof(struct rl_proc),
				 page_size);
	g->slots_off = g->commit_off + align_up(slot_count * 8, page_size);
	g->file_size = g->slots_off + slot_count * slot_size;
	return 0;
}

static uint32_t system_page(void)
{
	long p = sysconf(_SC_PAGESIZE);

	return p > (long)RL_PAGE ? (uint32_t)p : RL_PAGE;
}

/* Check a configuration and turn it into a superblock (without magic). */
static int super_from_config(struct rl_super *sb, const struct ring_config *cfg)
{
	struct rl_geometry g;
	struct timespec now;
	uint64_t max_msg;
	int err;

	if (!is_pow2(cfg->capacity) || !is_pow2(cfg->slot_size))
		return -EINVAL;
	if (cfg->full_policy < RING_FULL_WAIT || cfg->full_policy > RING_FULL_DROP)
		return -EINVAL;
	if (cfg->flags & ~RING_CFG_TIMESTAMPS)
		return -EINVAL;
	if (cfg->mode & ~07777u)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(cfg->reserved) / sizeof(cfg->reserved[0]); i++)
		if (cfg->reserved[i])
			return -EINVAL;
	err = rl_geometry(&g, cfg->slot_size, cfg->capacity / cfg->slot_size,
			  cfg->groups, cfg->processes, system_page());
	if (err)
		return -EINVAL;

	memset(sb, 0, sizeof(*sb));
	sb->version = RL_VERSION;
	sb->flags = cfg->flags;
	sb->page_size = system_page();
	sb->slot_size = cfg->slot_size;
	sb->slot_count = g.slot_count;
	sb->hdr_size = (cfg->flags & RING_CFG_TIMESTAMPS) ? RL_HDR_SIZE_TS :
							     RL_HDR_SIZE;
	max_msg = cfg->max_message;
	if (!max_msg) {
		max_msg = cfg->capacity / 4 - sb->hdr_size;
		if (max_msg > (16u << 20))
			max_msg = 16u << 20;
	}
	/* The largest message must fit in the ring with room to spare. */
	if (max_msg > RL_MESSAGE_MAX ||
	    sb->hdr_size + max_msg > cfg->capacity - cfg->slot_size)
		return -EINVAL;
	sb->max_message = (uint32_t)max_msg;
	sb->groups = cfg->groups;
	sb->procs = cfg->processes;
	sb->full_policy = cfg->full_policy;
	sb->hot_off = g.hot_off;
	sb->group_off = g.group_off;
	sb->member_off = g.member_off;
	sb->proc_off = g.proc_off;
	sb->commit_off = g.commit_off;
	sb->slots_off = g.slots_off;
	sb->file_size = g.file_size;
	clock_gettime(CLOCK_REALTIME, &now);
	sb->created_ns = (uint64_t)now.tv_sec * 1000000000ull + now.tv_nsec;
	sb->magic = RL_MAGIC;
	sb->checksum = rl_super_checksum(sb);
	return 0;
}

/*
 * Validate a superblock read from a file of @file_size bytes (H3). The order
 * of the checks decides which error a damaged file reports.
 */
static int super_validate(const struct rl_super *sb, uint64_t file_size)
{
	struct rl_geometry g;
	uint64_t cap;

	if (sb->magic != RL_MAGIC)
		return -ENOEXEC;
	if (sb->version != RL_VERSION)
		return -EPROTONOSUPPORT;
	if (sb->checksum != rl_super_checksum(sb))
		return -EUCLEAN;
	if (rl_geometry(&g, sb->slot_size, sb->slot_count, sb->groups,
			sb->procs, sb->page_size))
		return -EDOM;
	if (sb->page_size % system_page())
		return -EDOM;
	if (sb->flags & ~RING_CFG_TIMESTAMPS)
		return -EDOM;
	if (sb->hdr_size != ((sb->flags & RING_CFG_TIMESTAMPS) ? RL_HDR_SIZE_TS :
								 RL_HDR_SIZE))
		return -EDOM;
	cap = sb->slot_count * sb->slot_size;
	if (sb->max_message > RL_MESSAGE_MAX ||
	    sb->hdr_size + (uint64_t)sb->max_message > cap - sb->slot_size)
		return -EDOM;
	if (sb->full_policy < RING_FULL_WAIT || sb->full_policy > RING_FULL_DROP)
		return -EDOM;
	if (sb->hot_off != g.hot_off || sb->group_off != g.group_off ||
	    sb->member_off != g.member_off || sb->proc_off != g.proc_off || sb->commit_off != g.commit_off ||
	    sb->slots_off != g.slots_off || sb->file_size != g.file_size)
		return -EDOM;
	if (file_size != sb->file_size)
		return -ENODATA;
	return 0;
}

/*
 * Map the file and a second view of the slot area right after it, so that a
 * message running past the end of the slots continues at their start.
 */
static int map_ring(struct ring *r)
{
	const struct rl_super *sb = &r->geo;
	size_t slot_bytes = sb->slot_count * sb->slot_size;
	int prot = (r->open_flags & RING_OPEN_RDONLY) ? PROT_READ :
							PROT_READ | PROT_WRITE;
	int populate = (r->open_flags & RING_OPEN_PREFAULT) ? MAP_POPULATE : 0;
	/* RING_OPEN_PRIVATE: copy-on-write views of a file opened O_RDONLY.
	 * A page written through one view is copied for that view only, so
	 * a write that runs across the end of the slot area is not seen
	 * through the first view; only tools that try a repair use it. */
	int share = (r->open_flags & RING_OPEN_PRIVATE) ? MAP_PRIVATE : MAP_SHARED;
	uint8_t *base, *p;

	r->map_len = sb->file_size + slot_bytes;
	base = mmap(NULL, r->map_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
			  MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return -errno;
	p = mmap(base, sb->file_size, prot, share | MAP_FIXED | populate,
		 r->fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	p = mmap(base + sb->file_size, slot_bytes, prot,
		 share | MAP_FIXED | populate, r->fd, (off_t)sb->slots_off);
	if (p == MAP_FAILED)
		goto fail;
	r->map = base;
	r->hot = (struct rl_hot *)(base + sb->hot_off);
	r->groups = (struct rl_group *)(base + sb->group_off);
	r->seats = (struct rl_seat *)(base + sb->member_off);
	r->procs = (struct rl_proc *)(base + sb->proc_off);
	r->commit = (uint64_t *)(base + sb->commit_off);
	r->slots = base + sb->slots_off;
	return 0;
fail:;
	int err = -errno;

	munmap(base, r->map_len);
	return err;
}

/* Make a handle around a validated superblock and an open descriptor. */
static int handle_new(int fd, const struct rl_super *sb, unsigned flags,
		      struct ring **out)
{
	struct ring *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return -ENOMEM;
	r->fd = fd;
	r->open_flags = flags;
	r->pid = getpid();
	rl_lease_ident(r);
	r->geo = *sb;
	r->mask = sb->slot_count - 1;
	r->slot_shift = (uint32_t)__builtin_ctz(sb->slot_size);
	r->spins = RL_DEFAULT_SPINS;
	r->recovery_ms = RL_DEFAULT_RECOVERY_MS;
	r->id = __atomic_fetch_add(&next_handle_id, 1, __ATOMIC_RELAXED);
	/* Two bitmaps: entries owned, and of those the ones locked. */
	r->owned = calloc((sb->procs + 7) / 8, 2);
	r->lease_locked = r->owned + (sb->procs + 7) / 8;
	if (!r->owned) {
		free(r);
		return -ENOMEM;
	}
	pthread_mutex_init(&r->table_lock, NULL);
	pthread_mutex_init(&r->lock, NULL);
	err = map_ring(r);
	if (err) {
		free(r->owned);
		free(r);
		return err;
	}
	/* H13: from here on a lost page of the mapping is an error on this
	 * handle, not a SIGBUS that kills the process. */
	err = rl_sigbus_register(r, !(flags & RING_OPEN_NO_SIGBUS_HANDLER));
	if (err)
		goto fail_unmap;
	r->max_slots = rl_msg_slots(r, sb->max_message);
	if (!(flags & RING_OPEN_RDONLY)) {
		rl_membarrier_register(r);
		rl_sweep_dead(r);
	}
	/* Shrunk since it was validated, or pages lost already. */
	err = rl_size_check(r);
	if (err)
		goto fail_unmap;
	r->send_in_run = (flags & RING_OPEN_SINGLE_PRODUCER) &&
			 !(flags & RING_OPEN_RDONLY) &&
			 sb->slot_size >= sb->hdr_size &&
			 sb->hdr_size != RL_HDR_SIZE_TS;
	/* At least a slot ahead, at most a quarter of the ring (closer to the
	 * readers than that, a prefetch would take lines they still read). */
	r->prefetch_slots = RL_PREFETCH_BYTES / sb->slot_size ?: 1;
	if (r->prefetch_slots > sb->slot_count / 4)
		r->prefetch_slots = (uint32_t)(sb->slot_count / 4);
	rl_register_handle(r);
	*out = r;
	return 0;
fail_unmap:
	rl_sigbus_unregister(r);
	munmap(r->map, r->map_len);
	pthread_mutex_destroy(&r->lock);
	free(r->owned);
	free(r);
	return err;
}

int ring_create(const char *path, const struct ring_config *cfg, unsigned flags,
		struct ring **out)
{
	struct ring_config defaults;
	struct rl_super sb;
	struct rl_hot *hot;
	uint64_t *commit;
	const char *base;
	bool hidden;
	uint8_t *p;
	int fd, dirfd, err;

	if (!path || !out || (flags & RING_OPEN_RDONLY))
		return -EINVAL;
	if (!cfg) {
		ring_config_init(&defaults);
		cfg = &defaults;
	}
	err = super_from_config(&sb, cfg);
	if (err)
		return err;

	/* H11, H15: never follow a link in any component, never reuse an
	 * existing file, build the ring where nobody sees it (path.c). */
	err = rl_path_parent(path, &dirfd, &base);
	if (err)
		return err;
	if (faccessat(dirfd, base, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		close(dirfd);
		return -EEXIST;
	}
	fd = rl_path_create_hidden(dirfd, base, cfg->mode, &hidden);
	if (fd < 0) {
		close(dirfd);
		return fd;
	}
	if (fchmod(fd, cfg->mode) < 0)
		goto fail_errno;
	/* H10: reserve every byte now, so a full tmpfs fails here. */
	err = posix_fallocate(fd, 0, (off_t)sb.file_size);
	if (err) {
		err = -err;
		goto fail;
	}
	p = mmap(NULL, sb.file_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		goto fail_errno;
	/* Everything but the magic; the rest of the file is zero already. */
	memcpy(p, &sb, sizeof(sb));
	((struct rl_super *)p)->magic = 0;
	hot = (struct rl_hot *)(p + sb.hot_off);
	hot->tail = 0;
	hot->cached_min = 0;
	/* H4: commit word i starts at i, which no position p of that word
	 * (p % count == i) has as p + 1: a zero would say "position -1 is
	 * committed", which a scan across the start of the positions (or a
	 * ring whose positions wrap 2^64) would believe. */
	commit = (uint64_t *)(p + sb.commit_off);
	for (uint64_t i = 0; i < sb.slot_count; i++)
		commit[i] = i;
	/* R0: publish the ring; pairs with A0 in read_super(). */
	store_release(&((struct rl_super *)p)->magic, RL_MAGIC);
	munmap(p, sb.file_size);
	RL_SCHED("create:built");
	if (hidden) {
		/* The name appears now, for a complete ring only. */
		err = rl_path_publish(fd, dirfd, base);
		if (err)
			goto fail_unnamed;
	}
	err = handle_new(fd, &sb, flags, out);
	if (err)
		goto fail;
	close(dirfd);
	return 0;
fail_errno:
	err = -errno;
fail:
	unlinkat(dirfd, base, 0);
fail_unnamed:
	close(fd);
	close(dirfd);
	return err;
}

/*
 * Read the superblock with pread (nothing is mapped before it is valid),
 * waiting a little for a ring that is still being created.
 */
static int read_super(int fd, struct rl_super *sb, uint64_t *size)
{
	struct stat st;

	for (int waited = 0;; waited++) {
		if (fstat(fd, &st) < 0)
			return -errno;
		if (S_ISDIR(st.st_mode))
			return -EISDIR;
		if (!S_ISREG(st.st_mode))
			return -ENOEXEC;
		*size = (uint64_t)st.st_size;
		memset(sb, 0, sizeof(*sb));
		if (*size >= sizeof(*sb)) {
			ssize_t n = pread(fd, sb, sizeof(*sb), 0);

			if (n < 0)
				return -errno;
			if ((size_t)n != sizeof(*sb))
				return -ENODATA;
		} else if (*size > 0) {
			return -ENOEXEC;
		}
		/*
		 * A0: a non-zero magic read here was stored last (R0 in
		 * ring_create()); pread copies it through the kernel, and the
		 * mmap() that follows validation orders our later reads.
		 */
		if (sb->magic != 0)
			return 0;
		if (waited >= RL_OPEN_WAIT_MS)
			return -EINPROGRESS;
		usleep(1000);
	}
}

/*
 * H15: a ring owned by somebody other than the caller or root is refused
 * unless the caller accepts it (RING_OPEN_FOREIGN): in a world-writable
 * directory anybody can pre-create the name, read what is sent and forge
 * what is received.
 */
static int check_owner(int fd, unsigned flags)
{
	struct stat st;

	if (flags & RING_OPEN_FOREIGN)
		return 0;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_uid != geteuid() && st.st_uid != 0)
		return -EPERM;
	return 0;
}

int ring_open(const char *path, unsigned flags, struct ring **out)
{
	char full[PATH_MAX];
	struct rl_super sb;
	uint64_t size;
	int fd, err;

	if (!path || !out || (flags & ~(RING_OPEN_RDONLY |
					RING_OPEN_SINGLE_PRODUCER |
					RING_OPEN_PREFAULT | RING_OPEN_FOREIGN |
					RING_OPEN_NO_SIGBUS_HANDLER |
					RING_OPEN_PRIVATE)))
		return -EINVAL;
	if ((flags & RING_OPEN_PRIVATE) &&
	    (flags & (RING_OPEN_RDONLY | RING_OPEN_SINGLE_PRODUCER)))
		return -EINVAL;
	/* O_NONBLOCK: a FIFO or device at the path must not block the open
	 * (read_super() then refuses anything but a regular file). */
	path = rl_path_full(path, full, sizeof(full));
	if (!path)
		return -ENAMETOOLONG;
	fd = rl_path_openat(AT_FDCWD, path,
			    ((flags & (RING_OPEN_RDONLY | RING_OPEN_PRIVATE)) ?
				     O_RDONLY : O_RDWR) |
				    O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0);
	if (fd == -ENXIO)
		return -ENOEXEC; /* a socket, or a device with no driver */
	if (fd < 0)
		return fd;
	err = check_owner(fd, flags);
	if (!err)
		err = read_super(fd, &sb, &size);
	if (!err)
		err = super_validate(&sb, size);
	if (!err)
		err = handle_new(fd, &sb, flags, out);
	if (err)
		close(fd);
	return err;
}

int ring_close(struct ring *r)
{
	if (!r)
		return 0;
	rl_unregister_handle(r);
	if (!r->forked) {
		while (r->readers)
			rl_reader_free(r->readers);
		for (struct rl_local *l = r->locals; l; l = l->next) {
			rl_producer_close(r, l);
			rl_entry_release(r, l->idx);
		}
		close(r->fd); /* drops every OFD lock this handle held */
	} else {
		while (r->readers) {
			struct ring_reader *rd = r->readers;

			r->readers = rd->next;
			free(rd);
		}
	}
	for (int k = 0; k < RL_TLS_SLOTS; k++)
		if (rl_tls[k].ring_id == r->id)
			rl_tls[k].ring_id = 0;
	rl_sigbus_unregister(r); /* after the last access to the mapping */
	munmap(r->map, r->map_len);
	pthread_mutex_destroy(&r->lock);
	pthread_mutex_destroy(&r->table_lock);
	while (r->locals) {
		struct rl_local *l = r->locals;

		r->locals = l->next;
		free(l);
	}
	free(r->owned);
	free(r);
	return 0;
}

int ring_unlink(const char *path)
{
	struct stat checked, now;
	struct rl_super sb;
	const char *base;
	uint64_t size;
	int fd, dirfd, err;

	if (!path)
		return -EINVAL;
	/* H15: work from the directory, pinned without following a link,
	 * and remove only the inode that was checked. */
	err = rl_path_parent(path, &dirfd, &base);
	if (err)
		return err;
	fd = rl_path_openat(dirfd, base,
			    O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0);
	if (fd < 0) {
		close(dirfd);
		return fd;
	}
	err = read_super(fd, &sb, &size);
	if (!err && sb.magic != RL_MAGIC)
		err = -ENOEXEC;
	if (fstat(fd, &checked) < 0 && !err)
		err = -errno;
	close(fd);
	/* A ring still being created, or damaged, may be removed too. */
	if (err && err != -EINPROGRESS && err != -ENODATA)
		goto out;
	err = 0;
	if (fstatat(dirfd, base, &now, AT_SYMLINK_NOFOLLOW) < 0)
		err = -errno;
	else if (now.st_ino != checked.st_ino || now.st_dev != checked.st_dev)
		err = -ESTALE; /* the name was swapped since the check */
	else if (unlinkat(dirfd, base, 0) < 0)
		err = -errno;
out:
	close(dirfd);
	return err;
}

uint32_t ring_max_message(const struct ring *r)
{
	return r->geo.max_message;
}

uint32_t ring_payload_align(const struct ring *r)
{
	/* Slots start at multiples of the slot size from a page-aligned
	 * area; the payload follows the header. */
	uint32_t a = r->geo.slot_size < 16 ? r->geo.slot_size : 16;

	while (r->geo.hdr_size % a)
		a /= 2;
	return a < RING_PAYLOAD_ALIGN ? RING_PAYLOAD_ALIGN : a;
}

int ring_version(void)
{
	return RING_VERSION_NUMBER;
}

void ring_set_spin(struct ring *r, uint32_t spins)
{
	r->spins = spins;
}

void ring_set_recovery_ms(struct ring *r, uint32_t ms)
{
	r->recovery_ms = ms ? ms : 1;
}

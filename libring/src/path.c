// SPDX-License-Identifier: MIT
/*
 * path.c - resolving ring paths without following symbolic links, and
 * making a ring's name appear only when the ring is complete (DESIGN H11,
 * H15).
 *
 * Every component of a path is resolved with openat2(RESOLVE_NO_SYMLINKS)
 * where the kernel has it (Linux 5.6 and later): a symbolic link anywhere
 * in the path fails with -ELOOP, so a directory another user swapped for a
 * link is never entered. On older kernels only the last component is
 * checked (O_NOFOLLOW).
 *
 * A ring is built in an unnamed file (O_TMPFILE) in its directory and
 * linked into place when it is complete: a process killed while creating
 * leaves no name behind, and nobody ever opens a half-made ring. Where the
 * file system has no O_TMPFILE, the name is created O_EXCL at once, as
 * before (readers then wait for its magic number).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

static int sys_openat2(int dirfd, const char *path, int flags, mode_t mode)
{
#ifdef SYS_openat2
	struct open_how how = {
		.flags = (uint64_t)flags,
		.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
		.resolve = RESOLVE_NO_SYMLINKS,
	};

	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
#else
	errno = ENOSYS;
	return -1;
#endif
}

int rl_path_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	/* RESOLVE_NO_SYMLINKS covers the last component too (-ELOOP). */
	int fd = sys_openat2(dirfd, path, flags, mode);

	if (fd >= 0 || errno != ENOSYS)
		return fd < 0 ? -errno : fd;
	fd = openat(dirfd, path, flags | O_NOFOLLOW, mode);
	if (fd < 0 && errno == ENOTDIR && (flags & O_DIRECTORY)) {
		struct stat st;

		/* O_NOFOLLOW|O_DIRECTORY on a link says ENOTDIR */
		if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode))
			errno = ELOOP;
	}
	return fd < 0 ? -errno : fd;
}

int rl_path_parent(const char *path, int *dirfd, const char **base)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n;
	int fd;

	if (!slash) {
		/* A bare name is a ring in the default directory. */
		*base = path;
		n = sizeof(RING_DEFAULT_DIR) - 1;
		memcpy(dir, RING_DEFAULT_DIR, sizeof(RING_DEFAULT_DIR));
	} else {
		*base = slash + 1;
		n = (size_t)(slash - path);
		if (n == 0)
			n = 1; /* "/name" */
		if (n >= sizeof(dir))
			return -ENAMETOOLONG;
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	if (!**base)
		return -EISDIR;
	fd = rl_path_openat(AT_FDCWD, dir, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
	if (fd < 0)
		return fd;
	*dirfd = fd;
	return 0;
}

const char *rl_path_full(const char *path, char *buf, size_t len)
{
	if (strchr(path, '/'))
		return path;
	if ((size_t)snprintf(buf, len, "%s/%s", RING_DEFAULT_DIR, path) >= len)
		return NULL;
	return buf;
}

int rl_path_create_hidden(int dirfd, const char *base, mode_t mode,
			  bool *hidden)
{
	int fd = openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, mode);

	if (fd >= 0) {
		*hidden = true;
		return fd;
	}
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return -errno;
	/* No O_TMPFILE here: the name appears now, the magic last. */
	*hidden = false;
	fd = openat(dirfd, base, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    mode);
	return fd < 0 ? -errno : fd;
}

int rl_path_publish(int fd, int dirfd, const char *base)
{
	char proc[64];

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (linkat(AT_FDCWD, proc, dirfd, base, AT_SYMLINK_FOLLOW) == 0)
		return 0;
	if (errno != ENOENT)
		return -errno;
	/* No /proc: linking a descriptor needs CAP_DAC_READ_SEARCH. */
	if (linkat(fd, "", dirfd, base, AT_EMPTY_PATH) == 0)
		return 0;
	return -errno;
}

// SPDX-License-Identifier: MIT
/*
 * error.c - ring_strerror(): text for the library's return values.
 */
#include <errno.h>
#include <string.h>

#include "ring.h"

const char *ring_strerror(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case 0:
		return "success";
	case EINPROGRESS:
		return "ring file is empty or still being created";
	case ENOEXEC:
		return "not a ring file (not a regular file, or no ring magic number)";
	case EPROTONOSUPPORT:
		return "unsupported ring format version (made by another version of libring: recreate the ring)";
	case EUCLEAN:
		return "ring is corrupt (checksum or consistency check failed)";
	case EDOM:
		return "ring file has an impossible geometry";
	case ENODATA:
		return "ring file size does not match its header (truncated or grown "
		       "since it was created)";
	case EBADMSG:
		return "corrupt message in ring";
	case EMSGSIZE:
		return "message larger than the ring's maximum";
	case ENOBUFS:
		return "ring full: message dropped";
	case EAGAIN:
		return "ring full or empty: would wait";
	case ECHILD:
		return "ring handle inherited across fork(): open the ring again";
	case EROFS:
		return "ring opened read-only";
	case EBUSY:
		return "busy: the group is being read by a live process, or this "
		       "thread already holds a claim";
	case ENOENT:
		return "no such ring file, or no such group in the ring";
	case ETIMEDOUT:
		return "timed out waiting for room in the ring or for a message";
	case EEXIST:
		return "a file or group of that name already exists";
	case EISDIR:
		return "the ring path names a directory";
	case ENOSPC:
		return "no space (file system full, or the ring's group table full)";
	case EUSERS:
		return "the ring's process table is full (every entry in use or "
		       "holding a dead producer's unresolved claim)";
	case EPERM:
		return "ring file is owned by another user (not accepted without "
		       "RING_OPEN_FOREIGN), or operation not permitted";
	case ELOOP:
		return "a component of the ring path is a symbolic link";
	case EOVERFLOW:
		return "observer overrun: producers overwrote messages it had "
		       "not read (the loss is counted)";
	case EIO:
		return "ring file changed size or lost pages while mapped "
		       "(truncated, or sparse on a full file system)";
	default:
		return strerror(err);
	}
}

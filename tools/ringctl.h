/* SPDX-License-Identifier: MIT */
/*
 * ringctl.h - the subcommands of ringctl, one function each.
 */
#ifndef LIBRING_TOOLS_RINGCTL_H
#define LIBRING_TOOLS_RINGCTL_H

#include "ring.h"

/*
 * Each cmd_* takes the words after "ringctl" (argv[0] is the subcommand's
 * name) and returns the exit status.
 */
int cmd_create(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_stat(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_group(int argc, char **argv);
int cmd_dump(int argc, char **argv);

/*
 * ringctl_open - open the ring named @arg (see cli_ring_path) with
 * ring_open() @flags; on failure print the error and exit with status 1.
 * *@path receives the resolved path (to free()).
 */
struct ring *ringctl_open(const char *arg, unsigned flags, char **path);

/*
 * ringctl_group_names - the names of the ring's active groups, in a
 * calloc()ed array stored in *@out (to free(); NULL when there is none).
 * Returns their count; on an error prints it (naming @path) and exits 1.
 */
int ringctl_group_names(struct ring *r, const char *path,
			char (**out)[RING_GROUP_NAME_MAX + 1]);

/*
 * ringctl_policy_name - "wait", "fail" or "drop" for a RING_FULL_* value.
 */
const char *ringctl_policy_name(uint32_t policy);

#endif /* LIBRING_TOOLS_RINGCTL_H */

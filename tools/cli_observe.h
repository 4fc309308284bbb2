/* SPDX-License-Identifier: MIT */
/*
 * cli_observe.h - what ring-tail and `ringctl dump` share: opening an
 * observer the way the programs open rings (RING_OWNER), and writing one
 * message as a JSON object.
 */
#ifndef LIBRING_TOOLS_CLI_OBSERVE_H
#define LIBRING_TOOLS_CLI_OBSERVE_H

#include <stdint.h>

#include "cli.h"

struct ring_msg;
struct ring_observer;

/*
 * cli_observer_open - ring_observer_open(@path) for the programs, with the
 * owner rule of cli_ring_open() (RING_OWNER names an accepted owner).
 * Returns as ring_observer_open(); -EPERM if the owner is not the one named.
 */
int cli_observer_open(const char *path, struct ring_observer **o);

/*
 * cli_json_msg - append @m as one JSON object and a newline to @b:
 * position, type, pid, timestamp (if any), len, then "text" (valid UTF-8)
 * or "base64"; with @lost non-zero, "lost": the positions lost to an
 * overrun just before this message.
 */
void cli_json_msg(struct cli_buf *b, const struct ring_msg *m, uint64_t lost);

#endif /* LIBRING_TOOLS_CLI_OBSERVE_H */

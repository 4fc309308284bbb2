// SPDX-License-Identifier: MIT
/*
 * cli_observe.c - observers for the programs (see cli_observe.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "cli_observe.h"
#include "ring.h"

int cli_observer_open(const char *path, struct ring_observer **o)
{
	uid_t uid;
	int rc = cli_ring_owner(&uid);

	if (rc <= 0)
		return rc < 0 ? rc : ring_observer_open(path, 0, o);
	rc = ring_observer_open(path, RING_OPEN_FOREIGN, o);
	if (rc < 0)
		return rc;
	rc = cli_owner_is(path, uid);
	if (rc < 0) {
		ring_observer_close(*o);
		*o = NULL;
	}
	return rc;
}

void cli_json_msg(struct cli_buf *b, const struct ring_msg *m, uint64_t lost)
{
	cli_buf_printf(b, "{\"position\":%" PRIu64 ",\"type\":%" PRIu32
		       ",\"pid\":%" PRIu32, m->pos, m->type, m->pid);
	if (m->timestamp)
		cli_buf_printf(b, ",\"timestamp\":%" PRIu64, m->timestamp);
	cli_buf_printf(b, ",\"len\":%" PRIu32, m->len);
	if (lost)
		cli_buf_printf(b, ",\"lost\":%" PRIu64, lost);
	if (cli_utf8_valid(m->data, m->len)) {
		cli_buf_put(b, ",\"text\":", 8);
		cli_buf_json_string(b, m->data, m->len);
	} else {
		cli_buf_put(b, ",\"base64\":\"", 11);
		cli_buf_base64(b, m->data, m->len);
		cli_buf_put(b, "\"", 1);
	}
	cli_buf_put(b, "}\n", 2);
}

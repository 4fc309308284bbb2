// SPDX-License-Identifier: MIT
/*
 * ringctl_dump.c - `ringctl dump RING`: every message still in a ring,
 * read through an observer (a read-only mapping), so it works on a ring
 * whose producers died, on a copy, and for a user who may only read it.
 * One line per message: position, type, producer pid, length, payload as
 * text (escaped) or base64; or one JSON object per line.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_observe.h"
#include "ringctl.h"

enum { OPT_JSON = 300, OPT_BASE64 };

/* Text line for @m: printable text (escaped) when it is UTF-8 without
 * control bytes, else base64 (always with @b64). */
static void text_line(struct cli_buf *out, const struct ring_msg *m, int b64)
{
	const unsigned char *d = m->data;
	int text = !b64 && cli_utf8_valid(d, m->len);

	for (uint32_t i = 0; text && i < m->len; i++)
		if (d[i] < 0x20 && d[i] != '\t')
			text = 0;
	cli_buf_printf(out, "%" PRIu64 " type %" PRIu32 " pid %" PRIu32
		       " len %" PRIu32, m->pos, m->type, m->pid, m->len);
	if (m->timestamp)
		cli_buf_printf(out, " time %" PRIu64 ".%09" PRIu64,
			       m->timestamp / UINT64_C(1000000000),
			       m->timestamp % UINT64_C(1000000000));
	if (text) {
		cli_buf_put(out, " text ", 6);
		cli_buf_json_string(out, d, m->len);
	} else {
		cli_buf_put(out, " base64 ", 8);
		cli_buf_base64(out, d, m->len);
	}
	cli_buf_put(out, "\n", 1);
}

/* ringctl dump RING [--json] [--base64] */
int cmd_dump(int argc, char **argv)
{
	static const struct cli_option opts[] = {
		{ "json", OPT_JSON, no_argument },
		{ "base64", OPT_BASE64, no_argument },
		{ "help", 'h', no_argument },
		{ NULL, 0, 0 },
	};
	struct ring_observer_stats os;
	struct cli_buf out = { 0 };
	struct ring_observer *o;
	struct ring_stats st;
	struct cli_parser p;
	struct ring_msg m;
	const char *arg;
	uint64_t n = 0, lost = 0;
	int key, rc, json = 0, b64 = 0, status = CLI_EXIT_OK;
	size_t size;
	char *path;
	void *buf;

	cli_parser_init(&p, argc, argv, opts);
	while ((key = cli_next_option(&p, &arg)) != -1) {
		if (key == OPT_JSON) {
			json = 1;
		} else if (key == OPT_BASE64) {
			b64 = 1;
		} else {
			printf("Usage: ringctl dump RING [--json] [--base64]\n"
			       "Every message still in RING, oldest first, read "
			       "without consuming\nor writing anything. Text: "
			       "POSITION type T pid P len L [time S.NS]\n"
			       "text \"...\" or base64 ...; --json: one object "
			       "per line.\n");
			exit(CLI_EXIT_OK);
		}
	}
	if (cli_operand_count(&p) != 1)
		cli_usage_error("dump needs exactly one RING");
	path = cli_ring_path(cli_operand(&p, 0));
	rc = cli_observer_open(path, &o);
	if (rc < 0)
		cli_fail("%s: %s", path, ring_strerror(rc));
	size = ring_max_message(ring_observer_ring(o));
	buf = malloc(size ? size : 1);
	if (!buf)
		cli_fail("out of memory");
	/* A dead producer's claim is passed over at once. */
	ring_set_recovery_ms(ring_observer_ring(o), 1);
	for (;;) {
		rc = ring_observer_copy(o, &m, buf, size, RING_NONBLOCK, NULL);
		if (rc == -EAGAIN)
			break;
		if (rc == -EOVERFLOW) {
			ring_observer_stats(o, &os);
			cli_error("overrun: %" PRIu64 " positions lost (live "
				  "producers overwrote them), going on at %"
				  PRIu64, os.last_lost, os.position);
			lost += os.last_lost;
			continue;
		}
		if (rc == -EBADMSG) {
			cli_error("skipped a corrupt message");
			continue;
		}
		if (rc < 0) {
			cli_error("%s: read: %s", path, ring_strerror(rc));
			status = CLI_EXIT_FAIL;
			break;
		}
		if (json)
			cli_json_msg(&out, &m, lost);
		else
			text_line(&out, &m, b64);
		lost = 0;
		n++;
		if (out.len >= (256u << 10)) {
			if (cli_write_all(STDOUT_FILENO, out.data, out.len))
				break;
			out.len = 0;
		}
	}
	if (out.len)
		cli_write_all(STDOUT_FILENO, out.data, out.len);
	ring_observer_stats(o, &os);
	if (status == CLI_EXIT_OK &&
	    ring_stats(ring_observer_ring(o), &st) == 0 &&
	    (int64_t)(st.tail - os.position) > 0)
		cli_error("stopped at position %" PRIu64 ", before the tail %"
			  PRIu64 ": a live producer has not committed there "
			  "yet", os.position, st.tail);
	cli_error("%s: %" PRIu64 " messages, %" PRIu64 " positions lost, %"
		  PRIu64 " skipped", path, n, os.lost, os.skipped);
	free(out.data);
	free(buf);
	ring_observer_close(o);
	free(path);
	return status;
}

// SPDX-License-Identifier: MIT
/*
 * ring-send - send messages into a ring: the words given with -m, or the
 * frames (lines, NUL-ended records, length-prefixed records) read from
 * standard input.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../tools/cli.h"
#include "frames.h"
#include "ring.h"

/* Frames handed to the ring with one ring_send_batch() call at most. */
#define SEND_BATCH 64

enum {
	OPT_TIMEOUT = 256,
	OPT_TRUNCATE,
	OPT_CREATE,
};

static const struct cli_option send_options[] = {
	{ "message", 'm', required_argument },
	{ "type", 't', required_argument },
	{ "framing", 'f', required_argument },
	{ "when-full", 'w', required_argument },
	{ "timeout", OPT_TIMEOUT, required_argument },
	{ "truncate", OPT_TRUNCATE, no_argument },
	{ "create", OPT_CREATE, optional_argument },
	{ "quiet", 'q', no_argument },
	{ "help", 'h', no_argument },
	{ NULL, 0, 0 },
};

static const char *const framing_names[] = { "line", "nul", "len32", NULL };
static const char *const policy_names[] = { "wait", "fail", "drop", NULL };

/* What the command line asked for. */
struct send_args {
	const char *ring;
	const char **messages; /* -m words, or NULL to read stdin */
	unsigned n_messages;
	uint32_t type;
	enum framing framing;
	unsigned policy;	/* RING_FULL_*, 0 = the ring's default */
	int64_t timeout_ms;	/* -1 = wait without limit */
	int truncate;
	int create;
	uint64_t create_size;	/* 0 = default capacity */
	int quiet;
};

/* What was done, for the summary. */
struct send_counts {
	uint64_t sent;
	uint64_t dropped;
	uint64_t truncated;
};

/* Print the help text. */
static void usage(void)
{
	printf("Usage: ring-send RING [-m MESSAGE]... [options]\n"
	       "Send messages into RING (a name without a slash is a ring in "
	       CLI_RING_DIR ").\n"
	       "Without -m, one message per frame of standard input.\n\n"
	       "  -m, --message MESSAGE   send MESSAGE (repeatable)\n"
	       "  -t, --type N            type tag of the messages (default 0)\n"
	       "  -f, --framing KIND      line (default), nul or len32\n"
	       "      --truncate          cut frames longer than the ring's "
	       "maximum\n"
	       "                          instead of failing\n"
	       "  -w, --when-full POLICY  wait, fail or drop (default: the "
	       "ring's)\n"
	       "      --timeout MS        wait at most MS ms for room\n"
	       "      --create[=SIZE]     create the ring if missing (SIZE "
	       "bytes)\n"
	       "  -q, --quiet             no summary on standard error\n"
	       "  -h, --help              this text\n");
}

/* Parse the command line into @a. */
static void parse_args(int argc, char **argv, struct send_args *a)
{
	struct cli_parser p;
	const char *arg;
	int key;

	memset(a, 0, sizeof(*a));
	a->timeout_ms = -1;
	a->messages = calloc((size_t)argc, sizeof(*a->messages));
	if (!a->messages)
		cli_fail("out of memory");
	cli_parser_init(&p, argc, argv, send_options);
	while ((key = cli_next_option(&p, &arg)) != -1) {
		switch (key) {
		case 'm':
			a->messages[a->n_messages++] = arg;
			break;
		case 't':
			a->type = (uint32_t)cli_uint_arg("--type", arg,
							 UINT32_MAX);
			break;
		case 'f':
			a->framing = (enum framing)cli_choice_arg(
				"--framing", arg, framing_names);
			break;
		case 'w':
			a->policy = RING_FULL_WAIT +
				    (unsigned)cli_choice_arg("--when-full", arg,
							     policy_names);
			break;
		case OPT_TIMEOUT:
			a->timeout_ms = (int64_t)cli_uint_arg("--timeout", arg,
							      INT32_MAX);
			break;
		case OPT_TRUNCATE:
			a->truncate = 1;
			break;
		case OPT_CREATE:
			a->create = 1;
			if (arg)
				a->create_size =
					cli_size_arg("--create", arg, 1ull << 40);
			break;
		case 'q':
			a->quiet = 1;
			break;
		case 'h':
			usage();
			exit(CLI_EXIT_OK);
		}
	}
	a->ring = cli_ring_operand(&p);
}

/* Open the ring, creating it first if asked and missing. */
static struct ring *open_ring(const struct send_args *a)
{
	struct ring_config cfg;
	struct ring *r = NULL;
	char *path = cli_ring_path(a->ring);
	int rc;

	rc = cli_ring_open(path, 0, &r);
	if (rc == -ENOENT && a->create) {
		ring_config_init(&cfg);
		if (a->create_size)
			cfg.capacity = a->create_size;
		rc = ring_create(path, &cfg, 0, &r);
		if (rc == -EINVAL || rc == -EDOM)
			cli_fail("%s: cannot create: %s", path,
				 cli_config_problem(&cfg));
		if (rc == -ENOSPC)
			cli_fail("%s: cannot create: no space left on the file "
				 "system for a ring of %" PRIu64 " bytes", path,
				 cfg.capacity);
		if (rc == -EEXIST) /* created by someone else meanwhile */
			rc = cli_ring_open(path, 0, &r);
	}
	if (rc < 0)
		cli_open_failed(path, rc);
	free(path);
	return r;
}

/* Print the summary line unless asked not to. */
static void report(const struct send_args *a, const struct send_counts *c)
{
	if (a->quiet)
		return;
	fprintf(stderr, "%s: sent %" PRIu64 ", dropped %" PRIu64
		", truncated %" PRIu64 "\n", cli_prog, c->sent, c->dropped,
		c->truncated);
}

/* Report, close and exit with @status. */
static noreturn void finish(struct ring *r, const struct send_args *a,
			    const struct send_counts *c, int status)
{
	report(a, c);
	ring_close(r);
	exit(status);
}

/*
 * Why the ring is full, for the error message: the groups that hold
 * messages and have no live reader (a mistyped group nobody reads, a
 * reader that died), as " (held back by group 'a', 'b', which have no
 * reader)" in @buf, or "" when every group has a live reader.
 */
static const char *held_back_by(struct ring *r, char *buf, size_t len)
{
	char (*names)[RING_GROUP_NAME_MAX + 1] = NULL;
	char esc[4 * RING_GROUP_NAME_MAX + 1], list[400];
	struct ring_group_stats gs;
	int n, i, found = 0;
	size_t o = 0;

	buf[0] = '\0';
	n = ring_group_list(r, NULL, 0);
	if (n <= 0)
		return buf;
	names = calloc((size_t)n, sizeof(*names));
	if (!names)
		return buf;
	n = ring_group_list(r, names, (unsigned)n);
	for (i = 0; i < n && o + 4 * RING_GROUP_NAME_MAX + 8 < sizeof(list);
	     i++) {
		if (ring_group_stats(r, names[i], &gs) < 0 ||
		    gs.reader_alive || !gs.lag_messages)
			continue;
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s'%s'",
				      found++ ? ", " : "",
				      cli_printable(gs.name, esc, sizeof(esc)));
	}
	if (found)
		snprintf(buf, len, " (held back by %s %s, which %s no reader)",
			 found > 1 ? "groups" : "group", list,
			 found > 1 ? "have" : "has");
	free(names);
	return buf;
}

/* Send @n messages; a full ring that may not be waited for is fatal. */
static void send_all(struct ring *r, const struct send_args *a,
		     struct send_counts *c, const struct ring_out *out,
		     unsigned n)
{
	struct timespec ts;
	unsigned i = 0;
	char why[512];
	int rc;

	while (i < n) {
		rc = ring_send_batch(r, out + i, n - i, a->policy,
				     cli_deadline_after_ms(a->timeout_ms, &ts));
		if (rc > 0) {
			i += (unsigned)rc;
			c->sent += (uint64_t)rc;
			continue;
		}
		if (rc == -ENOBUFS) {
			c->dropped += n - i;
			return;
		}
		if (rc == -EAGAIN)
			cli_error("ring full: message %" PRIu64 " not sent%s",
				  c->sent + c->dropped + 1,
				  held_back_by(r, why, sizeof(why)));
		else if (rc == -ETIMEDOUT)
			cli_error("no room within %" PRId64 " ms: message %"
				  PRIu64 " not sent%s", a->timeout_ms,
				  c->sent + c->dropped + 1,
				  held_back_by(r, why, sizeof(why)));
		else
			cli_error("send: %s", ring_strerror(rc));
		finish(r, a, c, CLI_EXIT_FAIL);
	}
}

/* Send the -m words. */
static void send_words(struct ring *r, const struct send_args *a,
		       struct send_counts *c)
{
	uint32_t max = ring_max_message(r);
	struct ring_out out[SEND_BATCH];
	unsigned i, n = 0;
	size_t len;

	for (i = 0; i < a->n_messages; i++) {
		len = strlen(a->messages[i]);
		if (len > max) {
			if (!a->truncate) {
				send_all(r, a, c, out, n);
				cli_error("message %u: %zu bytes, more than the "
					  "ring's maximum of %" PRIu32,
					  i + 1, len, max);
				finish(r, a, c, CLI_EXIT_FAIL);
			}
			len = max;
			c->truncated++;
		}
		out[n].data = a->messages[i];
		out[n].len = (uint32_t)len;
		out[n].type = a->type;
		if (++n == SEND_BATCH) {
			send_all(r, a, c, out, n);
			n = 0;
		}
	}
	send_all(r, a, c, out, n);
}

/* Send every frame of standard input. */
static void send_stream(struct ring *r, const struct send_args *a,
			struct send_counts *c)
{
	struct ring_out out[SEND_BATCH];
	struct frame_reader fr;
	enum frame_status st;
	const char *data;
	unsigned n = 0;
	uint32_t len;
	int rc;

	if (frame_reader_init(&fr, 0, a->framing, ring_max_message(r),
			      a->truncate))
		cli_fail("out of memory");
	for (;;) {
		st = frame_next(&fr, &data, &len);
		c->truncated = fr.truncated;
		if (st == FRAME_OK) {
			out[n].data = data;
			out[n].len = len;
			out[n].type = a->type;
			if (++n == SEND_BATCH) {
				send_all(r, a, c, out, n);
				n = 0;
			}
			continue;
		}
		/* The frames so far point into the buffer: send them first. */
		send_all(r, a, c, out, n);
		n = 0;
		if (st == FRAME_END)
			break;
		if (st == FRAME_TOO_LONG) {
			cli_error("%s %" PRIu64 ": longer than the ring's maximum"
				  " message of %" PRIu32 " bytes (see --truncate)",
				  framing_unit(a->framing), fr.bad_frame,
				  fr.max);
			finish(r, a, c, CLI_EXIT_FAIL);
		}
		if (st == FRAME_PARTIAL) {
			cli_error("%s %" PRIu64 ": input ends inside it",
				  framing_unit(a->framing), fr.bad_frame);
			finish(r, a, c, CLI_EXIT_FAIL);
		}
		rc = frame_fill(&fr);
		if (rc < 0) {
			cli_error("standard input: %s", strerror(-rc));
			finish(r, a, c, CLI_EXIT_FAIL);
		}
	}
	frame_reader_free(&fr);
}

/* Parse, open, send, report. */
int main(int argc, char **argv)
{
	struct send_counts counts = { 0, 0, 0 };
	struct send_args args;
	struct ring *r;

	cli_init("ring-send");
	parse_args(argc, argv, &args);
	r = open_ring(&args);
	if (args.n_messages)
		send_words(r, &args, &counts);
	else
		send_stream(r, &args, &counts);
	finish(r, &args, &counts, CLI_EXIT_OK);
}

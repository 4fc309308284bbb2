// SPDX-License-Identifier: MIT
/*
 * ring-recv - read the messages of a consumer group and write them to
 * standard output. A message is released only after it was written in
 * full: a closed output (a reader that went away) or a write error leaves
 * it and everything after it in the ring for the next reader.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../tools/cli.h"
#include "ring.h"

enum out_format { FORMAT_LINE, FORMAT_NUL, FORMAT_LEN32, FORMAT_JSON };

enum {
	OPT_FROM = 256,
	OPT_TIMEOUT,
};

static const struct cli_option recv_options[] = {
	{ "group", 'g', required_argument },
	{ "from", OPT_FROM, required_argument },
	{ "follow", 'f', no_argument },
	{ "count", 'n', required_argument },
	{ "timeout", OPT_TIMEOUT, required_argument },
	{ "format", 'o', required_argument },
	{ "help", 'h', no_argument },
	{ NULL, 0, 0 },
};

static const char *const format_names[] = { "line", "nul", "len32", "json",
					    NULL };
static const char *const from_names[] = { "oldest", "newest", NULL };

/* What the command line asked for. */
struct recv_args {
	const char *ring;
	const char *group;
	unsigned from;		/* RING_FROM_* for a new group */
	int follow;
	uint64_t count;		/* 0 = no limit */
	int64_t timeout_ms;	/* -1 = none */
	enum out_format format;
};

/* Print the help text. */
static void usage(void)
{
	printf("Usage: ring-recv RING --group NAME [options]\n"
	       "Write the messages of group NAME of RING to standard output "
	       "and release them.\n"
	       "A name without a slash is a ring in " CLI_RING_DIR ".\n\n"
	       "  -g, --group NAME        consumer group (created if missing)\n"
	       "      --from WHERE        oldest (default) or newest: where a "
	       "new group starts\n"
	       "  -f, --follow            wait for new messages instead of "
	       "stopping when drained\n"
	       "  -n, --count N           stop after N messages\n"
	       "      --timeout MS        stop when no message came for MS ms\n"
	       "  -o, --format KIND       line (default), nul, len32 or json\n"
	       "  -h, --help              this text\n");
}

/* Parse the command line into @a. */
static void parse_args(int argc, char **argv, struct recv_args *a)
{
	struct cli_parser p;
	const char *arg;
	int key;

	memset(a, 0, sizeof(*a));
	a->timeout_ms = -1;
	cli_parser_init(&p, argc, argv, recv_options);
	while ((key = cli_next_option(&p, &arg)) != -1) {
		switch (key) {
		case 'g':
			a->group = arg;
			break;
		case OPT_FROM:
			a->from = cli_choice_arg("--from", arg, from_names) ?
					  RING_FROM_NEWEST :
					  RING_FROM_OLDEST;
			break;
		case 'f':
			a->follow = 1;
			break;
		case 'n':
			a->count = cli_uint_arg("--count", arg, UINT64_MAX);
			break;
		case OPT_TIMEOUT:
			a->timeout_ms = (int64_t)cli_uint_arg("--timeout", arg,
							      INT32_MAX);
			break;
		case 'o':
			a->format = (enum out_format)cli_choice_arg(
				"--format", arg, format_names);
			break;
		case 'h':
			usage();
			exit(CLI_EXIT_OK);
		}
	}
	if (cli_operand_count(&p) < 1)
		cli_usage_error("missing RING");
	if (cli_operand_count(&p) > 1)
		cli_usage_error("unexpected argument '%s'", cli_operand(&p, 1));
	if (!a->group)
		cli_usage_error("missing --group NAME");
	if (!*a->group || strlen(a->group) > RING_GROUP_NAME_MAX)
		cli_usage_error("--group: a name of 1 to %d bytes",
				RING_GROUP_NAME_MAX);
	a->ring = cli_operand(&p, 0);
}

/* Append @msg to @b in format @format. */
static void format_message(struct cli_buf *b, enum out_format format,
			   const struct ring_msg *msg)
{
	unsigned char len[4];

	switch (format) {
	case FORMAT_LINE:
		cli_buf_put(b, msg->data, msg->len);
		cli_buf_put(b, "\n", 1);
		break;
	case FORMAT_NUL:
		cli_buf_put(b, msg->data, msg->len);
		cli_buf_put(b, "", 1);
		break;
	case FORMAT_LEN32:
		len[0] = (unsigned char)msg->len;
		len[1] = (unsigned char)(msg->len >> 8);
		len[2] = (unsigned char)(msg->len >> 16);
		len[3] = (unsigned char)(msg->len >> 24);
		cli_buf_put(b, len, 4);
		cli_buf_put(b, msg->data, msg->len);
		break;
	case FORMAT_JSON:
		cli_buf_printf(b, "{\"position\":%" PRIu64 ",\"type\":%" PRIu32
			       ",\"pid\":%" PRIu32, msg->pos, msg->type,
			       msg->pid);
		if (msg->timestamp)
			cli_buf_printf(b, ",\"timestamp\":%" PRIu64,
				       msg->timestamp);
		cli_buf_printf(b, ",\"len\":%" PRIu32, msg->len);
		if (cli_utf8_valid(msg->data, msg->len)) {
			cli_buf_put(b, ",\"text\":", 8);
			cli_buf_json_string(b, msg->data, msg->len);
		} else {
			cli_buf_put(b, ",\"base64\":\"", 11);
			cli_buf_base64(b, msg->data, msg->len);
			cli_buf_put(b, "\"", 1);
		}
		cli_buf_put(b, "}\n", 2);
		break;
	}
}

/* The deadline for the next message, or NULL to wait without limit. */
static const struct timespec *next_deadline(const struct recv_args *a,
					    struct timespec *ts)
{
	if (a->timeout_ms < 0)
		return NULL;
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += a->timeout_ms / 1000;
	ts->tv_nsec += (long)(a->timeout_ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
	return ts;
}

/* Open the ring and become the reader of the group. */
static struct ring_reader *open_reader(const struct recv_args *a,
				       struct ring **r)
{
	struct ring_reader *rd;
	char *path = cli_ring_path(a->ring);
	int rc;

	rc = ring_open(path, 0, r);
	if (rc < 0)
		cli_fail("%s: %s", path, ring_strerror(rc));
	rc = ring_reader_open(*r, a->group, RING_GROUP_CREATE | a->from, &rd);
	if (rc < 0)
		cli_fail("%s: group %s: %s", path, a->group,
			 ring_strerror(rc));
	free(path);
	return rd;
}

/* Read, write, release until done; returns the exit status. */
static int receive(const struct recv_args *a, struct ring_reader *rd)
{
	struct cli_buf out = { NULL, 0, 0 };
	const struct timespec *deadline;
	unsigned flags = a->follow || a->timeout_ms >= 0 ? 0 : RING_NONBLOCK;
	struct ring_msg msg;
	struct timespec ts;
	uint64_t done = 0;
	int rc, status = CLI_EXIT_OK;

	while (!a->count || done < a->count) {
		deadline = next_deadline(a, &ts);
		rc = ring_peek(rd, &msg, flags, deadline);
		if (rc == -EAGAIN || rc == -ETIMEDOUT) {
			if (a->count && rc == -ETIMEDOUT) {
				cli_error("timed out after %" PRIu64 " of %"
					  PRIu64 " messages", done, a->count);
				status = CLI_EXIT_FAIL;
			}
			break;
		}
		if (rc == -EBADMSG) {
			rc = ring_reader_skip(rd);
			cli_error("skipped a corrupt message (%d slots)", rc);
			if (rc < 0)
				return CLI_EXIT_FAIL;
			continue;
		}
		if (rc < 0) {
			cli_error("read: %s", ring_strerror(rc));
			status = CLI_EXIT_FAIL;
			break;
		}
		out.len = 0;
		format_message(&out, a->format, &msg);
		rc = cli_write_all(STDOUT_FILENO, out.data, out.len);
		if (rc == -EPIPE)
			break; /* the reader went away: keep the message */
		if (rc < 0) {
			cli_error("standard output: %s", strerror(-rc));
			status = CLI_EXIT_FAIL;
			break;
		}
		ring_release(rd);
		done++;
	}
	free(out.data);
	return status;
}

/* Parse, open, receive. */
int main(int argc, char **argv)
{
	struct recv_args args;
	struct ring_reader *rd;
	struct ring *r;
	int status;

	cli_init("ring-recv");
	parse_args(argc, argv, &args);
	/* A closed output shows as EPIPE, so that nothing unwritten is
	 * released. */
	signal(SIGPIPE, SIG_IGN);
	rd = open_reader(&args, &r);
	status = receive(&args, rd);
	ring_reader_close(rd);
	ring_close(r);
	return status;
}

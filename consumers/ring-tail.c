// SPDX-License-Identifier: MIT
/*
 * ring-tail - tail -f for a ring: write its messages to standard output
 * without consuming them. It reads through an observer (a read-only
 * mapping): no group, no cursor, nothing written to the ring, so read
 * permission is enough and nobody waits for it. When producers overwrite
 * messages before it read them, it says so on standard error (and in a
 * "lost" field with --format json) and goes on with the oldest intact one.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../tools/cli.h"
#include "../tools/cli_observe.h"
#include "ring.h"

enum out_format { FORMAT_LINE, FORMAT_NUL, FORMAT_LEN32, FORMAT_JSON };

enum {
	OPT_FROM = 256,
	OPT_TIMEOUT,
};

static const struct cli_option tail_options[] = {
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

struct tail_args {
	const char *ring;
	unsigned whence;	/* RING_OBSERVE_* */
	uint64_t pos;		/* with RING_OBSERVE_AT */
	int follow;
	uint64_t count;		/* 0 = no limit */
	int64_t timeout_ms;	/* -1 = none */
	enum out_format format;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(void)
{
	printf("Usage: ring-tail RING [options]\n"
	       "Write the messages of RING to standard output without "
	       "consuming them\n"
	       "(read-only: no group, no cursor; producers never wait for it).\n"
	       "A name without a slash is a ring in " CLI_RING_DIR ".\n\n"
	       "      --from WHERE        oldest (default): the oldest message "
	       "still in the ring,\n"
	       "                          newest: only messages committed from "
	       "now on,\n"
	       "                          or a position (a number)\n"
	       "  -f, --follow            wait for new messages instead of "
	       "stopping at the newest\n"
	       "  -n, --count N           stop after N messages\n"
	       "      --timeout MS        stop when no message came for MS ms\n"
	       "  -o, --format KIND       line (default), nul, len32 or json\n"
	       "  -h, --help              this text\n\n"
	       "When producers overwrite messages before they were read, a line "
	       "on standard\nerror says how many positions were lost (json: a "
	       "\"lost\" field).\n");
}

static void parse_from(struct tail_args *a, const char *arg)
{
	if (strcmp(arg, "oldest") == 0) {
		a->whence = RING_OBSERVE_OLDEST;
	} else if (strcmp(arg, "newest") == 0) {
		a->whence = RING_OBSERVE_NEWEST;
	} else if (cli_parse_uint(arg, UINT64_MAX, &a->pos) == 0) {
		a->whence = RING_OBSERVE_AT;
	} else {
		cli_usage_error("--from: '%s' is not oldest, newest or a "
				"position", arg);
	}
}

static void parse_args(int argc, char **argv, struct tail_args *a)
{
	struct cli_parser p;
	const char *arg;
	int key;

	memset(a, 0, sizeof(*a));
	a->timeout_ms = -1;
	cli_parser_init(&p, argc, argv, tail_options);
	while ((key = cli_next_option(&p, &arg)) != -1) {
		switch (key) {
		case OPT_FROM:
			parse_from(a, arg);
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
	a->ring = cli_ring_operand(&p);
}

/* Append @m to @out in @format; @lost: positions lost just before it. */
static void format_msg(struct cli_buf *out, enum out_format format,
		       const struct ring_msg *m, uint64_t lost)
{
	unsigned char len32[4];

	switch (format) {
	case FORMAT_LINE:
		cli_buf_put(out, m->data, m->len);
		cli_buf_put(out, "\n", 1);
		break;
	case FORMAT_NUL:
		cli_buf_put(out, m->data, m->len);
		cli_buf_put(out, "", 1);
		break;
	case FORMAT_LEN32:
		len32[0] = (unsigned char)m->len;
		len32[1] = (unsigned char)(m->len >> 8);
		len32[2] = (unsigned char)(m->len >> 16);
		len32[3] = (unsigned char)(m->len >> 24);
		cli_buf_put(out, len32, 4);
		cli_buf_put(out, m->data, m->len);
		break;
	case FORMAT_JSON:
		cli_json_msg(out, m, lost);
		break;
	}
}

/* Write and empty @out. Returns 0, or -errno of the write. */
static int flush(struct cli_buf *out)
{
	int rc = out->len ? cli_write_all(STDOUT_FILENO, out->data, out->len) : 0;

	out->len = 0;
	return rc;
}

#define TAIL_FLUSH_BYTES (256u << 10)

/* Longest single wait: a signal that comes while the call is not asleep
 * (RING_INTR only ends a sleep) is seen this much later at most. */
#define TAIL_SLICE_MS 200

/*
 * Wait up to @timeout_ms (-1: no limit) for the next message, in slices,
 * looking at the stop flag between them. Returns as ring_observer_copy();
 * -EINTR once a signal asked to stop.
 */
static int wait_copy(struct ring_observer *o, struct ring_msg *m, void *buf,
		     size_t size, int64_t timeout_ms)
{
	struct timespec now, end, slice;
	int64_t left;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &now);
	end = now;
	if (timeout_ms >= 0) {
		end.tv_sec += timeout_ms / 1000;
		end.tv_nsec += (timeout_ms % 1000) * 1000000;
		if (end.tv_nsec >= 1000000000) {
			end.tv_sec++;
			end.tv_nsec -= 1000000000;
		}
	}
	for (;;) {
		if (stop)
			return -EINTR;
		left = TAIL_SLICE_MS;
		if (timeout_ms >= 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			left = (end.tv_sec - now.tv_sec) * 1000 +
			       (end.tv_nsec - now.tv_nsec) / 1000000;
			if (left > TAIL_SLICE_MS)
				left = TAIL_SLICE_MS;
			if (left < 0)
				left = 0;
		}
		rc = ring_observer_copy(o, m, buf, size, RING_INTR,
					cli_deadline_after_ms(left, &slice));
		if (rc != -ETIMEDOUT)
			return rc;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (timeout_ms >= 0 &&
		    (now.tv_sec > end.tv_sec ||
		     (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec)))
			return -ETIMEDOUT;
	}
}

/* Read and write until done; returns the exit status. */
static int tail(const struct tail_args *a, struct ring_observer *o)
{
	struct cli_buf out = { 0 };
	struct ring_observer_stats st;
	struct ring_msg m;
	size_t size = ring_max_message(ring_observer_ring(o));
	void *buf = malloc(size ? size : 1);
	uint64_t done = 0, lost = 0;
	int rc, wrc = 0, status = CLI_EXIT_OK;

	if (!buf)
		cli_fail("out of memory");
	while (!stop && (!a->count || done < a->count)) {
		rc = ring_observer_copy(o, &m, buf, size, RING_NONBLOCK, NULL);
		if (rc == -EAGAIN && (a->follow || a->timeout_ms >= 0)) {
			/* Caught up: show what we have, then wait. */
			if ((wrc = flush(&out)))
				break;
			rc = wait_copy(o, &m, buf, size, a->timeout_ms);
		}
		if (rc == -EAGAIN || rc == -EINTR)
			break;
		if (rc == -ETIMEDOUT) {
			if (a->count) {
				cli_error("timed out after %" PRIu64 " of %"
					  PRIu64 " messages", done, a->count);
				status = CLI_EXIT_FAIL;
			}
			break;
		}
		if (rc == -EOVERFLOW) {
			ring_observer_stats(o, &st);
			cli_error("overrun: %" PRIu64 " positions lost, going on "
				  "at position %" PRIu64, st.last_lost,
				  st.position);
			lost += st.last_lost;
			continue;
		}
		if (rc == -EBADMSG) {
			cli_error("skipped a corrupt message");
			continue;
		}
		if (rc < 0) {
			cli_error("read: %s", ring_strerror(rc));
			status = CLI_EXIT_FAIL;
			break;
		}
		format_msg(&out, a->format, &m, lost);
		lost = 0;
		done++;
		if (out.len >= TAIL_FLUSH_BYTES && (wrc = flush(&out)))
			break;
	}
	if (!wrc && lost && a->format == FORMAT_JSON) {
		/* Lost at the end, with no message to carry the field. */
		ring_observer_stats(o, &st);
		cli_buf_printf(&out, "{\"position\":%" PRIu64 ",\"lost\":%"
			       PRIu64 "}\n", st.position, lost);
	}
	if (!wrc)
		wrc = flush(&out);
	if (wrc && wrc != -EPIPE) { /* a reader that went away is no error */
		cli_error("standard output: %s", strerror(-wrc));
		status = CLI_EXIT_FAIL;
	}
	free(out.data);
	free(buf);
	return status;
}

int main(int argc, char **argv)
{
	struct tail_args args;
	struct ring_observer *o;
	char *path;
	int rc, status;

	cli_init("ring-tail");
	parse_args(argc, argv, &args);
	signal(SIGPIPE, SIG_IGN);
	cli_catch_signal(SIGINT, on_signal);
	cli_catch_signal(SIGTERM, on_signal);
	path = cli_ring_path(args.ring);
	rc = cli_observer_open(path, &o);
	if (rc < 0)
		cli_fail("%s: %s", path, ring_strerror(rc));
	rc = ring_observer_seek(o, args.whence, args.pos);
	if (rc < 0)
		cli_fail("%s: --from %" PRIu64 ": %s", path, args.pos,
			 rc == -EINVAL ? "position after the newest message" :
					 ring_strerror(rc));
	status = tail(&args, o);
	ring_observer_close(o);
	free(path);
	return status;
}

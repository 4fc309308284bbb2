// SPDX-License-Identifier: MIT
/*
 * ring-ship - the local log shipper: appends the messages of a consumer
 * group as lines to a file, rotating it by size and age.
 *
 * Nothing is lost when ring-ship is killed at any moment: the messages of a
 * batch are written (and, when asked, synced) inside ring_poll()'s handler,
 * and ring_poll() moves the group's cursor only after the handler returned
 * for every message of the batch. A restarted ring-ship gets the batch
 * that was in progress again, so at most that batch appears twice.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../tools/cli.h"
#include "ring.h"
#include "ship_output.h"

/* Messages per ring_poll() call (and per sync with --fsync batch). */
#define SHIP_BATCH 256

/* Longest wait before the signal flags are looked at again. */
#define SHIP_TICK_MS 100

enum fsync_mode { FSYNC_ALWAYS, FSYNC_BATCH, FSYNC_NEVER };

enum {
	OPT_ROTATE_SIZE = 256,
	OPT_ROTATE_INTERVAL,
	OPT_KEEP,
	OPT_COMPRESS,
	OPT_FSYNC,
};

static const struct cli_option ship_options[] = {
	{ "group", 'g', required_argument },
	{ "output", 'o', required_argument },
	{ "rotate-size", OPT_ROTATE_SIZE, required_argument },
	{ "rotate-interval", OPT_ROTATE_INTERVAL, required_argument },
	{ "keep", OPT_KEEP, required_argument },
	{ "compress", OPT_COMPRESS, no_argument },
	{ "fsync", OPT_FSYNC, required_argument },
	{ "help", 'h', no_argument },
	{ NULL, 0, 0 },
};

static const char *const fsync_names[] = { "always", "batch", "never", NULL };

/* Everything the handler needs. */
struct shipper {
	const char *ring;
	const char *group;
	struct ship_output out;
	uint64_t rotate_size;	  /* 0 = no size limit */
	uint64_t rotate_interval; /* seconds, 0 = none */
	enum fsync_mode fsync;
	unsigned in_batch;	  /* messages handled in this ring_poll */
	uint64_t shipped;
	uint64_t bytes;
};

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reopen_requested;

/* SIGTERM, SIGINT: drain and stop. */
static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* SIGHUP: open the output file again. */
static void on_hup(int sig)
{
	(void)sig;
	reopen_requested = 1;
}

/* Print the help text. */
static void usage(void)
{
	printf("Usage: ring-ship RING --group NAME --output FILE [options]\n"
	       "Append the messages of group NAME of RING to FILE, one per "
	       "line.\n"
	       "A name without a slash is a ring in " CLI_RING_DIR ".\n\n"
	       "  -g, --group NAME          consumer group (created if "
	       "missing)\n"
	       "  -o, --output FILE         file to append to\n"
	       "      --rotate-size SIZE    rotate when FILE would exceed "
	       "SIZE bytes\n"
	       "      --rotate-interval S   rotate when FILE is S seconds "
	       "old\n"
	       "      --keep N              keep N rotated files (default: "
	       "all)\n"
	       "      --compress            gzip rotated files\n"
	       "      --fsync MODE          always, batch (default) or never\n"
	       "  -h, --help                this text\n"
	       "Signals: HUP reopens FILE, TERM and INT drain and exit.\n");
}

/* Parse the command line into @s. */
static void parse_args(int argc, char **argv, struct shipper *s)
{
	struct cli_parser p;
	const char *arg;
	int key;

	memset(s, 0, sizeof(*s));
	s->fsync = FSYNC_BATCH;
	s->out.fd = -1;
	cli_parser_init(&p, argc, argv, ship_options);
	while ((key = cli_next_option(&p, &arg)) != -1) {
		switch (key) {
		case 'g':
			s->group = arg;
			break;
		case 'o':
			s->out.path = arg;
			break;
		case OPT_ROTATE_SIZE:
			s->rotate_size = cli_size_arg("--rotate-size", arg,
						      UINT64_MAX);
			break;
		case OPT_ROTATE_INTERVAL:
			s->rotate_interval = cli_uint_arg("--rotate-interval",
							  arg, UINT32_MAX);
			break;
		case OPT_KEEP:
			s->out.keep = (unsigned)cli_uint_arg("--keep", arg,
							     100000);
			break;
		case OPT_COMPRESS:
			s->out.compress = 1;
			break;
		case OPT_FSYNC:
			s->fsync = (enum fsync_mode)cli_choice_arg(
				"--fsync", arg, fsync_names);
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
	if (!s->group)
		cli_usage_error("missing --group NAME");
	if (!*s->group || strlen(s->group) > RING_GROUP_NAME_MAX)
		cli_usage_error("--group: a name of 1 to %d bytes",
				RING_GROUP_NAME_MAX);
	if (!s->out.path)
		cli_usage_error("missing --output FILE");
	if (!*s->out.path || strlen(s->out.path) > PATH_MAX - 32)
		cli_usage_error("--output: a file name of 1 to %d bytes",
				PATH_MAX - 32);
	s->ring = cli_operand(&p, 0);
	s->out.sync = s->fsync != FSYNC_NEVER;
}

/* Print the one-line summary. */
static void summary(const struct shipper *s, const char *how)
{
	fprintf(stderr, "%s: %s: shipped %" PRIu64 " messages (%" PRIu64
		" bytes) to %s, %" PRIu64 " rotations\n", cli_prog, how,
		s->shipped, s->bytes, s->out.path, s->out.rotations);
}

/*
 * Give up from inside the handler: exiting before ring_poll() returns
 * leaves the group's cursor before the whole batch, so nothing is lost.
 */
static noreturn void die_in_batch(const struct shipper *s, const char *what,
				  int err)
{
	cli_error("%s: %s: %s", s->out.path, what, strerror(-err));
	summary(s, "stopped by an error");
	_exit(CLI_EXIT_FAIL);
}

/* ring_poll handler: append one message, rotating and syncing as asked. */
static int ship_message(const struct ring_msg *msg, void *arg)
{
	struct shipper *s = arg;
	int rc;

	if (s->rotate_size && s->out.size &&
	    s->out.size + msg->len + 1 > s->rotate_size) {
		rc = ship_rotate(&s->out);
		if (rc)
			die_in_batch(s, "rotate", rc);
	}
	rc = ship_write(&s->out, msg->data, msg->len);
	if (rc)
		die_in_batch(s, "write", rc);
	s->shipped++;
	s->bytes += msg->len;
	s->in_batch++;
	/* Sync before ring_poll releases: every message with "always", the
	 * last one of a full batch with "batch". */
	if (s->fsync == FSYNC_ALWAYS ||
	    (s->fsync == FSYNC_BATCH && s->in_batch == SHIP_BATCH)) {
		rc = ship_sync(&s->out);
		if (rc)
			die_in_batch(s, "sync", rc);
	}
	return 0;
}

/* Absolute CLOCK_MONOTONIC time @ms milliseconds from now. */
static struct timespec after_ms(long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* One ring_poll() call and what follows it; returns its result. */
static int ship_batch(struct shipper *s, struct ring_reader *rd,
		      unsigned flags)
{
	struct timespec deadline = after_ms(SHIP_TICK_MS);
	int n, rc;

	s->in_batch = 0;
	n = ring_poll(rd, ship_message, s, SHIP_BATCH, flags, &deadline);
	/* A batch cut short by an empty ring is synced right after. */
	if (n > 0 && s->fsync == FSYNC_BATCH && s->in_batch != SHIP_BATCH) {
		rc = ship_sync(&s->out);
		if (rc)
			cli_fail("%s: sync: %s", s->out.path, strerror(-rc));
	}
	if (n == -EBADMSG) {
		rc = ring_reader_skip(rd);
		cli_error("skipped a corrupt message (%d slots)", rc);
		if (rc < 0)
			return rc;
		return 0;
	}
	return n;
}

/* Housekeeping between batches: reopen, rotation by age, compression. */
static void ship_housekeeping(struct shipper *s)
{
	int rc = 0;

	if (reopen_requested) {
		reopen_requested = 0;
		rc = ship_reopen(&s->out);
		if (rc)
			cli_fail("%s: reopen: %s", s->out.path, strerror(-rc));
	}
	if (s->rotate_interval && s->out.size &&
	    (uint64_t)(time(NULL) - s->out.born) >= s->rotate_interval) {
		rc = ship_rotate(&s->out);
		if (rc)
			cli_fail("%s: rotate: %s", s->out.path, strerror(-rc));
	}
	if (s->out.compress_pending) {
		rc = ship_compress_rotated(&s->out);
		if (rc)
			cli_fail("%s: compress: %s", s->out.path,
				 strerror(-rc));
	}
}

/* Ship until a stop signal, then what was in the ring at that moment. */
static void ship_loop(struct shipper *s, struct ring *r,
		      struct ring_reader *rd)
{
	struct ring_stats st;
	int n;

	while (!stop_requested) {
		n = ship_batch(s, rd, 0);
		if (n < 0 && n != -ETIMEDOUT && n != -EAGAIN)
			cli_fail("read: %s", ring_strerror(n));
		ship_housekeeping(s);
	}
	if (ring_stats(r, &st) < 0)
		return;
	while ((int64_t)(st.tail - ring_reader_position(rd)) > 0) {
		n = ship_batch(s, rd, RING_NONBLOCK);
		if (n == -EAGAIN)
			break;
		if (n < 0)
			cli_fail("read: %s", ring_strerror(n));
	}
}

/* Install the signal handlers (no SA_RESTART: nothing blocks long). */
static void set_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Parse, open, ship, summarise. */
int main(int argc, char **argv)
{
	struct ring_reader *rd;
	struct shipper s;
	struct ring *r;
	char *path;
	int rc;

	cli_init("ring-ship");
	parse_args(argc, argv, &s);
	set_signals();
	path = cli_ring_path(s.ring);
	rc = ring_open(path, 0, &r);
	if (rc < 0)
		cli_fail("%s: %s", path, ring_strerror(rc));
	rc = ring_reader_open(r, s.group, RING_GROUP_CREATE, &rd);
	if (rc < 0)
		cli_fail("%s: group %s: %s", path, s.group, ring_strerror(rc));
	rc = ship_open(&s.out);
	if (rc)
		cli_fail("%s: %s", s.out.path, strerror(-rc));
	/* Finish a compression that an earlier run did not. */
	if (s.out.compress) {
		rc = ship_compress_rotated(&s.out);
		if (rc)
			cli_fail("%s: compress: %s", s.out.path,
				 strerror(-rc));
	}
	ship_loop(&s, r, rd);
	rc = ship_close(&s.out);
	if (rc)
		cli_fail("%s: close: %s", s.out.path, strerror(-rc));
	ring_reader_close(rd);
	ring_close(r);
	summary(&s, "stopped");
	free(path);
	return CLI_EXIT_OK;
}

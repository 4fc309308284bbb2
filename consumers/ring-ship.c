// SPDX-License-Identifier: MIT
/*
 * ring-ship - the local log shipper: appends the messages of a consumer
 * group as lines to a file, rotating it by size and age.
 *
 * Nothing is lost when ring-ship is killed at any moment: a batch of
 * messages is looked at in place (ring_peek_batch), written (and, when
 * asked, synced), and only then released (ring_release_n). A restarted
 * ring-ship gets the batch that was in progress again, so at most that
 * batch appears twice. After a write or sync error only the messages known
 * to be in the output (synced, when asked) are released.
 *
 * With --nats it publishes to NATS JetStream instead (ship_nats.h).
 *
 * A shared group (work sharing) is refused on both paths: its messages
 * would be shared out among members, while a file has one writer and the
 * JetStream window releases in position order from the group's cursor.
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
#include "ship_nats.h"
#include "ship_output.h"

/* Messages per batch (and per sync with --fsync batch). */
#define SHIP_BATCH SHIP_LINES_MAX

/* Longest wait for messages before the age of FILE is looked at again.
 * Signals end a wait at once (RING_INTR). */
#define SHIP_TICK_MS 500

/* The smallest --rotate-size: below it every few lines would rotate. */
#define SHIP_ROTATE_MIN 1024u

enum fsync_mode { FSYNC_ALWAYS, FSYNC_BATCH, FSYNC_NEVER };

enum {
	OPT_ROTATE_SIZE = 256,
	OPT_ROTATE_INTERVAL,
	OPT_KEEP,
	OPT_COMPRESS,
	OPT_FSYNC,
	OPT_CREATE,
};

static const struct cli_option ship_options[] = {
	{ "group", 'g', required_argument },
	{ "output", 'o', required_argument },
	{ "rotate-size", OPT_ROTATE_SIZE, required_argument },
	{ "rotate-interval", OPT_ROTATE_INTERVAL, required_argument },
	{ "keep", OPT_KEEP, required_argument },
	{ "compress", OPT_COMPRESS, no_argument },
	{ "fsync", OPT_FSYNC, required_argument },
	{ "create", OPT_CREATE, no_argument },
	{ "help", 'h', no_argument },
	{ NULL, 0, 0 },
};

static const char *const fsync_names[] = { "always", "batch", "never", NULL };

/* The shipper's state. */
struct shipper {
	const char *ring;
	const char *group;
	struct ship_output out;
	uint64_t rotate_size;	  /* 0 = no size limit */
	uint64_t rotate_interval; /* seconds, 0 = none */
	enum fsync_mode fsync;
	int create;		  /* create the group if missing */
	struct ship_nats_config nats;
	uint64_t shipped;
	uint64_t bytes;
	const char *failed;	  /* what failed on the output, or NULL */
	int error;		  /* and its -errno */
};

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reopen_requested;
static volatile sig_atomic_t report_requested;

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

/* SIGUSR1: print the counters (--nats). */
static void on_usr1(int sig)
{
	(void)sig;
	report_requested = 1;
}

/* Print the help text. */
static void usage(void)
{
	printf("Usage: ring-ship RING --group NAME --output FILE [options]\n"
	       "       ring-ship RING --group NAME --nats URL --subject SUBJ "
	       "[options]\n"
	       "Append the messages of group NAME of RING to FILE, one per "
	       "line.\n"
	       "A name without a slash is a ring in " CLI_RING_DIR ".\n\n"
	       "  -g, --group NAME          consumer group (must exist, see "
	       "--create)\n"
	       "      --create              create the group if it is "
	       "missing\n"
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
	       "      --version             the version of the program\n"
	       "--keep and --compress need --rotate-size or "
	       "--rotate-interval.\n"
	       "Signals: HUP reopens FILE, TERM and INT drain and exit.\n");
	fputs(ship_nats_usage, stdout);
}

/* The file options and the --nats ones in one table, in @all. */
static const struct cli_option *all_options(struct cli_option *all,
					    size_t max)
{
	size_t n = 0, i;

	for (i = 0; ship_options[i].name && n + 1 < max; i++)
		all[n++] = ship_options[i];
	for (i = 0; ship_nats_options[i].name && n + 1 < max; i++)
		all[n++] = ship_nats_options[i];
	memset(&all[n], 0, sizeof(all[n]));
	return all;
}

/* Parse the command line into @s. */
static void parse_args(int argc, char **argv, struct shipper *s)
{
	static struct cli_option all[CLI_MAX_OPTIONS + 1];
	struct cli_parser p;
	int key, keep_given = 0;
	const char *arg;
	int file_opts = 0;

	memset(s, 0, sizeof(*s));
	s->fsync = FSYNC_BATCH;
	s->out.fd = -1;
	ship_nats_config_init(&s->nats);
	cli_parser_init(&p, argc, argv, all_options(all, CLI_MAX_OPTIONS + 1));
	while ((key = cli_next_option(&p, &arg)) != -1) {
		if (ship_nats_option(&s->nats, key, arg))
			continue;
		file_opts += key != 'g' && key != 'h' && key != OPT_CREATE;
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
			keep_given = 1;
			break;
		case OPT_COMPRESS:
			s->out.compress = 1;
			break;
		case OPT_CREATE:
			s->create = 1;
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
	s->ring = cli_ring_operand(&p);
	cli_check_group(s->group);
	ship_nats_finish(&s->nats);
	if (s->nats.urls) {
		if (file_opts)
			cli_usage_error("--nats takes none of the file options "
					"(--output, --rotate-*, --keep, "
					"--compress, --fsync)");
		return;
	}
	if (s->nats.subject)
		cli_usage_error("--subject needs --nats URL");
	if (!s->out.path)
		cli_usage_error("missing --output FILE");
	if (!*s->out.path || strlen(s->out.path) > PATH_MAX - 32)
		cli_usage_error("--output: a file name of 1 to %d bytes",
				PATH_MAX - 32);
	s->out.sync = s->fsync != FSYNC_NEVER;
	/* Options that would do nothing are refused, not ignored. */
	if (!s->rotate_size && !s->rotate_interval &&
	    (keep_given || s->out.compress))
		cli_usage_error("%s applies to rotated files: give "
				"--rotate-size or --rotate-interval",
				keep_given ? "--keep" : "--compress");
	if (s->rotate_size && s->rotate_size < SHIP_ROTATE_MIN)
		cli_usage_error("--rotate-size: %" PRIu64 " bytes is too "
				"small; at least %u (1K)", s->rotate_size,
				SHIP_ROTATE_MIN);
}

/* Print the one-line summary. */
static void summary(const struct shipper *s, const char *how)
{
	fprintf(stderr, "%s: %s: shipped %" PRIu64 " messages (%" PRIu64
		" bytes) to %s, %" PRIu64 " rotations\n", cli_prog, how,
		s->shipped, s->bytes, s->out.path, s->out.rotations);
}

/* Remember that @what failed on the output with @err; returns @err. */
static int output_failed(struct shipper *s, const char *what, int err)
{
	s->failed = what;
	s->error = err;
	return err;
}

/*
 * The number of the @n messages at @msgs, from the first, that go into FILE
 * with one write: all that fit below --rotate-size (at least one), and
 * only one with --fsync always.
 */
static unsigned run_length(const struct shipper *s,
			   const struct ring_msg *msgs, unsigned n)
{
	uint64_t size = s->out.size + msgs[0].len + 1;
	unsigned i;

	if (s->fsync == FSYNC_ALWAYS)
		return 1;
	for (i = 1; i < n; i++) {
		size += msgs[i].len + 1;
		if (s->rotate_size && size > s->rotate_size)
			break;
	}
	return i;
}

/*
 * Append the @n messages at @msgs to FILE, rotating before a message that
 * would make it exceed --rotate-size and syncing as --fsync says. Returns
 * 0 or -errno (s->failed says what failed); *@durable receives how many
 * messages, from the first, are in the output for good: written, and
 * synced unless --fsync never.
 */
static int write_messages(struct shipper *s, const struct ring_msg *msgs,
			  unsigned n, unsigned *durable)
{
	struct iovec lines[SHIP_BATCH];
	unsigned i = 0, run, k, done = 0;
	int rc;

	*durable = 0;
	for (i = 0; i < n; i++) {
		lines[i].iov_base = (void *)msgs[i].data;
		lines[i].iov_len = msgs[i].len;
	}
	for (i = 0; i < n; i += run) {
		if (s->rotate_size && s->out.size &&
		    s->out.size + msgs[i].len + 1 > s->rotate_size) {
			/* The closed file is synced unless --fsync never. */
			rc = ship_rotate(&s->out);
			if (rc)
				return output_failed(s, "rotate", rc);
			*durable = done;
		}
		run = run_length(s, msgs + i, n - i);
		rc = ship_write_lines(&s->out, lines + i, run, &k);
		for (; k; k--, done++) {
			s->shipped++;
			s->bytes += msgs[done].len;
		}
		if (s->fsync == FSYNC_NEVER)
			*durable = done;
		if (rc)
			return output_failed(s, "write", rc);
		if (s->fsync == FSYNC_ALWAYS) {
			rc = ship_sync(&s->out);
			if (rc)
				return output_failed(s, "sync", rc);
			*durable = done;
		}
	}
	if (s->fsync == FSYNC_BATCH) {
		rc = ship_sync(&s->out);
		if (rc)
			return output_failed(s, "sync", rc);
		*durable = done;
	}
	return 0;
}

/*
 * Look at up to SHIP_BATCH messages (waiting at most until @deadline, and
 * not past a signal), write them, release what is in the output for good.
 * Returns the number of messages read, or a negative errno of the ring, or
 * of the output (then s->failed is set).
 */
static int ship_batch(struct shipper *s, struct ring_reader *rd,
		      unsigned flags, const struct timespec *deadline)
{
	static struct ring_msg msgs[SHIP_BATCH];
	unsigned durable;
	int n, rc, err;

	n = ring_peek_batch(rd, msgs, SHIP_BATCH, flags | RING_INTR, deadline);
	if (n == -EBADMSG) {
		rc = ring_reader_skip(rd);
		cli_error("skipped a corrupt message (%d slots)", rc);
		return rc < 0 ? rc : 0;
	}
	if (n <= 0)
		return n;
	rc = write_messages(s, msgs, (unsigned)n, &durable);
	if (durable) {
		err = ring_release_n(rd, durable);
		if (err < 0)
			return err;
	}
	return rc ? rc : n;
}

/*
 * Compress the rotated files. Out of space (or any other failure), the
 * files stay uncompressed, shipping goes on, and the compression is tried
 * again at the next rotation: the messages matter more than their size.
 */
static void compress_rotated(struct shipper *s)
{
	int rc = ship_compress_rotated(&s->out);

	if (!rc)
		return;
	cli_error("%s: compress: %s; rotated files stay uncompressed, tried "
		  "again at the next rotation", s->out.path,
		  rc == -ENOSPC ? "no space left on device" : strerror(-rc));
	s->out.compress_pending = 1;
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
	if (s->out.compress_pending)
		compress_rotated(s);
}

/*
 * Ship until a stop signal, then what was in the ring at that moment.
 * Returns 0, or a negative errno after an output error (s->failed).
 */
static int ship_loop(struct shipper *s, struct ring *r,
		     struct ring_reader *rd)
{
	struct timespec deadline;
	struct ring_stats st;
	int n;

	while (!stop_requested) {
		cli_deadline_after_ms(SHIP_TICK_MS, &deadline);
		n = ship_batch(s, rd, 0, &deadline);
		if (s->failed)
			return n;
		if (n < 0 && n != -ETIMEDOUT && n != -EINTR)
			cli_fail("read: %s", ring_strerror(n));
		ship_housekeeping(s);
	}
	if (ring_stats(r, &st) < 0)
		return 0;
	while ((int64_t)(st.tail - ring_reader_position(rd)) > 0) {
		n = ship_batch(s, rd, RING_NONBLOCK, NULL);
		if (s->failed)
			return n;
		if (n == -EAGAIN)
			break;
		if (n < 0 && n != -EINTR)
			cli_fail("read: %s", ring_strerror(n));
	}
	return 0;
}

/* Install the signal handlers (no SA_RESTART: a wait for messages ends
 * with -EINTR so that the flags are looked at at once). */
static void set_signals(void)
{
	cli_catch_signal(SIGTERM, on_stop);
	cli_catch_signal(SIGINT, on_stop);
	cli_catch_signal(SIGHUP, on_hup);
	cli_catch_signal(SIGUSR1, on_usr1);
	signal(SIGPIPE, SIG_IGN);
}

/*
 * Exit with one line if group @s->group of the ring at @path, open in @r
 * (and read through @rd, or NULL), is shared: ring-ship must be the
 * group's only reader. Both are closed first. Returns if it is not shared
 * (or missing: the open that follows says so).
 */
static void refuse_shared(const struct shipper *s, const char *path,
			  struct ring *r, struct ring_reader *rd)
{
	char esc[4 * RING_GROUP_NAME_MAX + 1];

	if (ring_group_members(r, s->group, NULL, 0, NULL) < 0)
		return;
	if (rd)
		ring_reader_close(rd);
	ring_close(r);
	cli_fail("%s: group '%s' is shared: ring-ship needs a group of its "
		 "own (%s)", path, cli_printable(s->group, esc, sizeof(esc)),
		 s->nats.urls ? "it publishes every message of the group in "
				"order" : "its files have one writer");
}

/*
 * Open the ring of @s into *@r and become the reader of its group
 * (creating it with --create). A shared group is refused before joining
 * it (a member would take a seat, and a full group would only say so),
 * and again once joined, should it have been made anew meanwhile. Every
 * failure is reported in one line (exits 1).
 */
static struct ring_reader *open_group(const struct shipper *s,
				      struct ring **r)
{
	char *path = cli_ring_path(s->ring);
	struct ring_reader *rd;
	int rc;

	rc = cli_ring_open(path, 0, r);
	if (rc < 0)
		cli_open_failed(path, rc);
	refuse_shared(s, path, *r, NULL);
	ring_close(*r);
	rd = cli_open_reader(s->ring, s->group,
			     s->create ? RING_GROUP_CREATE : 0, r);
	refuse_shared(s, path, *r, rd);
	free(path);
	return rd;
}

/* Parse, open, ship, summarise. */
int main(int argc, char **argv)
{
	struct ring_reader *rd;
	struct shipper s;
	struct ring *r;
	int rc;

	cli_init("ring-ship");
	parse_args(argc, argv, &s);
	if (s.nats.urls && !ship_nats_built_in())
		cli_fail("--nats: NATS JetStream support is not built in "
			 "(install libnats-dev and rebuild)");
	set_signals();
	rd = open_group(&s, &r);
	if (s.nats.urls) {
		rc = ship_nats_run(&s.nats, r, rd, &stop_requested,
				   &report_requested);
		ring_reader_close(rd);
		ring_close(r);
		return rc;
	}
	rc = ship_open(&s.out);
	if (rc)
		cli_fail("%s: %s", s.out.path, strerror(-rc));
	/* Finish a compression that an earlier run did not. */
	if (s.out.compress)
		compress_rotated(&s);
	if (ship_loop(&s, r, rd) < 0) {
		cli_error("%s: %s: %s", s.out.path, s.failed,
			  strerror(-s.error));
		ship_close(&s.out);
		ring_reader_close(rd);
		ring_close(r);
		summary(&s, "stopped by an error");
		return CLI_EXIT_FAIL;
	}
	rc = ship_close(&s.out);
	if (rc)
		cli_fail("%s: close: %s", s.out.path, strerror(-rc));
	ring_reader_close(rd);
	ring_close(r);
	summary(&s, "stopped");
	return CLI_EXIT_OK;
}

// SPDX-License-Identifier: MIT
/*
 * ring-recv - read the messages of a consumer group and write them to
 * standard output. A message is released only after it was written in
 * full: a closed output (a reader that went away) or a write error leaves
 * it and everything after it in the ring for the next reader.
 *
 * Of a shared group it is one member among others: it gets the messages
 * it takes, the others get the rest, and what it took and did not write
 * goes to another member (or the next one that joins) when it ends.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "../tools/cli.h"
#include "ring.h"

enum out_format { FORMAT_LINE, FORMAT_NUL, FORMAT_LEN32, FORMAT_JSON };

enum {
	OPT_FROM = 256,
	OPT_TIMEOUT,
	OPT_CREATE,
	OPT_SHARED,
	OPT_MEMBERS,
};

static const struct cli_option recv_options[] = {
	{ "group", 'g', required_argument },
	{ "from", OPT_FROM, required_argument },
	{ "follow", 'f', no_argument },
	{ "count", 'n', required_argument },
	{ "timeout", OPT_TIMEOUT, required_argument },
	{ "format", 'o', required_argument },
	{ "create", OPT_CREATE, no_argument },
	{ "shared", OPT_SHARED, no_argument },
	{ "members", OPT_MEMBERS, required_argument },
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
	int create;		/* create the group if missing */
	unsigned shared;	/* RING_GROUP_SHARED | RING_GROUP_MEMBERS(n)
				 * for the group --create makes, or 0 */
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
	       "  -g, --group NAME        consumer group (must exist, see "
	       "--create)\n"
	       "      --create            create the group if it is missing\n"
	       "      --from WHERE        oldest (default) or newest: where a "
	       "group made by --create starts\n"
	       "      --shared            --create makes a shared group: each "
	       "message goes to\n"
	       "                          one of its members (every ring-recv "
	       "of the group)\n"
	       "      --members M         with --shared: at most M members "
	       "(1 to 64, default 64)\n"
	       "  -f, --follow            wait for new messages instead of "
	       "stopping when drained\n"
	       "  -n, --count N           stop after N messages\n"
	       "      --timeout MS        stop when no message came for MS ms\n"
	       "  -o, --format KIND       line (default), nul, len32 or json\n"
	       "  -h, --help              this text\n"
	       "      --version           the version of the program\n");
}

/* Parse the command line into @a. */
static void parse_args(int argc, char **argv, struct recv_args *a)
{
	struct cli_parser p;
	int key, from_given = 0;
	unsigned members = 0;
	uint64_t v;
	const char *arg;

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
			from_given = 1;
			break;
		case 'f':
			a->follow = 1;
			break;
		case OPT_CREATE:
			a->create = 1;
			break;
		case OPT_SHARED:
			a->shared |= RING_GROUP_SHARED;
			break;
		case OPT_MEMBERS:
			if (cli_parse_uint(arg, RING_MEMBERS_MAX, &v) || v < 1)
				cli_usage_error("--members: '%s' is not a "
						"member limit from 1 to %d",
						arg, RING_MEMBERS_MAX);
			members = RING_GROUP_MEMBERS(v);
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
	cli_check_group(a->group);
	if (from_given && !a->create)
		cli_usage_error("--from says where a group made by --create "
				"starts; it needs --create");
	if (members && !a->shared)
		cli_usage_error("--members goes with --shared");
	if (a->shared && !a->create)
		cli_usage_error("--shared says what kind of group --create "
				"makes; it needs --create");
	a->shared |= members;
}

/* Messages looked at (and written with one writev) at most per batch. */
#define RECV_BATCH 256

/* A batch stops growing once its output reaches this many bytes. */
#define RECV_BATCH_BYTES (4u << 20)

/* The output of one batch: in-place payloads and the bytes around them. */
struct out_batch {
	struct iovec iov[2 * RECV_BATCH];
	size_t n_iov;
	size_t end[RECV_BATCH];	/* bytes up to the end of message i */
	unsigned char len32[RECV_BATCH][4]; /* FORMAT_LEN32 headers */
	struct cli_buf text;	/* FORMAT_JSON: the formatted objects */
	unsigned count;		/* messages in the batch */
};

/* Append @p, @len to the buffers of @b. */
static void add_iov(struct out_batch *b, const void *p, size_t len)
{
	b->iov[b->n_iov].iov_base = (void *)p;
	b->iov[b->n_iov].iov_len = len;
	b->n_iov++;
}

/* Append @msg to @b as one JSON object on one line. */
static void format_json(struct cli_buf *b, const struct ring_msg *msg)
{
	cli_buf_printf(b, "{\"position\":%" PRIu64 ",\"type\":%" PRIu32
		       ",\"pid\":%" PRIu32, msg->pos, msg->type, msg->pid);
	if (msg->timestamp)
		cli_buf_printf(b, ",\"timestamp\":%" PRIu64, msg->timestamp);
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
}

/*
 * Lay out the first of the @n messages at @msgs in @format as the output
 * of one batch in @b: payloads are pointed at in place, only JSON is
 * copied. b->count tells how many messages the batch holds: at least one,
 * fewer than @n once the output reaches RECV_BATCH_BYTES.
 */
static void build_batch(struct out_batch *b, enum out_format format,
			    const struct ring_msg *msgs, unsigned n)
{
	size_t bytes = 0;
	unsigned i;

	b->n_iov = 0;
	b->text.len = 0;
	for (i = 0; i < n && (!i || bytes < RECV_BATCH_BYTES); i++) {
		const struct ring_msg *m = &msgs[i];

		switch (format) {
		case FORMAT_LINE:
			add_iov(b, m->data, m->len);
			add_iov(b, "\n", 1);
			bytes += m->len + 1u;
			break;
		case FORMAT_NUL:
			add_iov(b, m->data, m->len);
			add_iov(b, "", 1);
			bytes += m->len + 1u;
			break;
		case FORMAT_LEN32:
			b->len32[i][0] = (unsigned char)m->len;
			b->len32[i][1] = (unsigned char)(m->len >> 8);
			b->len32[i][2] = (unsigned char)(m->len >> 16);
			b->len32[i][3] = (unsigned char)(m->len >> 24);
			add_iov(b, b->len32[i], 4);
			add_iov(b, m->data, m->len);
			bytes += m->len + 4u;
			break;
		case FORMAT_JSON:
			format_json(&b->text, m);
			bytes = b->text.len;
			break;
		}
		b->end[i] = bytes;
	}
	/* The text buffer may have moved while it grew: point at it last. */
	if (format == FORMAT_JSON)
		add_iov(b, b->text.data, b->text.len);
	b->count = i;
}

/*
 * Write batch @b to standard output. Returns 0 or -errno, and in *@done
 * the number of its messages written in full (all of them on success).
 */
static int write_batch(const struct out_batch *b, unsigned *done)
{
	size_t written;
	unsigned i = 0;
	int rc;

	rc = cli_writev_all(STDOUT_FILENO, b->iov, b->n_iov, &written);
	while (i < b->count && b->end[i] <= written)
		i++;
	*done = i;
	return rc;
}

/* How long a reader waits on a claim before it asks whether its owner
 * lives (ring_set_recovery_ms), and how long a draining read waits at a
 * pending claim before it calls the ring drained: long enough for the
 * reader to skip a dead owner's claim. */
#define RECV_RECOVERY_MS 100
#define RECV_SETTLE_MS (2 * RECV_RECOVERY_MS + 300)

/* 1 if the ring's tail is past the reader's cursor (of a member: past the
 * first position no member has taken): a claim is pending. */
static int claim_pending(struct ring *r, struct ring_reader *rd)
{
	struct ring_stats st;

	if (ring_stats(r, &st) < 0)
		return 0;
	return (int64_t)(st.tail - ring_reader_position(rd)) > 0;
}

/* 1 if a member of shared group @group is gone and left messages, which a
 * member takes over once per recovery time; 0 for an exclusive group. A
 * live member's messages, also a stopped one's, are its own: not counted. */
static int dead_member_holds(struct ring *r, const char *group)
{
	struct ring_member_info m[RING_MEMBERS_MAX];
	int n = ring_group_members(r, group, m, RING_MEMBERS_MAX, NULL), i;

	for (i = 0; i < n && i < RING_MEMBERS_MAX; i++)
		if (!m[i].alive && m[i].held)
			return 1;
	return 0;
}

/* Read, write, release until done; returns the exit status. */
static int receive(const struct recv_args *a, struct ring *r,
		   struct ring_reader *rd)
{
	static struct ring_msg msgs[RECV_BATCH];
	static struct out_batch out;
	const struct timespec *deadline;
	unsigned flags = a->follow || a->timeout_ms >= 0 ? 0 : RING_NONBLOCK;
	unsigned max, written;
	struct timespec ts;
	uint64_t done = 0;
	int rc, status = CLI_EXIT_OK;

	while (!a->count || done < a->count) {
		max = RECV_BATCH;
		if (a->count && a->count - done < max)
			max = (unsigned)(a->count - done);
		deadline = cli_deadline_after_ms(a->timeout_ms, &ts);
		rc = ring_peek_batch(rd, msgs, max, flags, deadline);
		if (rc == -EAGAIN && (claim_pending(r, rd) ||
				      dead_member_holds(r, a->group))) {
			/* Draining, stopped at a claim not yet committed:
			 * wait for it to commit, or for its dead owner's
			 * claim to be skipped, before calling it drained.
			 * A member waits as well for what a dead member
			 * left (taken over after the recovery time). */
			deadline = cli_deadline_after_ms(RECV_SETTLE_MS, &ts);
			rc = ring_peek_batch(rd, msgs, max, 0, deadline);
			if (rc == -ETIMEDOUT)
				rc = -EAGAIN; /* a live claim: drained */
		}
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
			if (rc < 0) {
				status = CLI_EXIT_FAIL;
				break;
			}
			continue;
		}
		if (rc < 0) {
			cli_error("read: %s", ring_strerror(rc));
			status = CLI_EXIT_FAIL;
			break;
		}
		build_batch(&out, a->format, msgs, (unsigned)rc);
		rc = write_batch(&out, &written);
		/* Release exactly what went out in full; the rest (of a
		 * failed write, or past the batch's byte limit) is read
		 * again. */
		if (written) {
			int err = ring_release_n(rd, written);

			if (err < 0) {
				cli_error("release: %s", ring_strerror(err));
				status = CLI_EXIT_FAIL;
				break;
			}
			done += written;
		}
		if (rc == -EPIPE)
			break; /* the output went away: keep the rest */
		if (rc == -EFAULT) {
			/* The kernel could not read a payload in place: its
			 * page left the ring file (truncated) under us. */
			cli_error("read: %s", ring_strerror(-EIO));
			status = CLI_EXIT_FAIL;
			break;
		}
		if (rc < 0) {
			cli_error("standard output: %s", strerror(-rc));
			status = CLI_EXIT_FAIL;
			break;
		}
	}
	free(out.text.data);
	return status;
}

/*
 * Join group @a->group of the ring at @path (open in @r) as its reader,
 * or as a member of a shared group. Returns the reader; a shared group
 * whose member limit is reached is reported as such (@r is closed, exits
 * 1). Any other failure returns NULL, for cli_open_reader() to report.
 */
static struct ring_reader *join_group(const struct recv_args *a,
				      const char *path, struct ring *r,
				      unsigned flags)
{
	char esc[4 * RING_GROUP_NAME_MAX + 1], pids[1024];
	struct ring_reader *rd;
	unsigned limit = 0;
	int rc;

	rc = ring_reader_open(r, a->group, flags, &rd);
	if (rc == 0)
		return rd;
	if (rc != -EBUSY ||
	    ring_group_members(r, a->group, NULL, 0, &limit) < 0)
		return NULL;
	cli_live_member_pids(r, a->group, pids, sizeof(pids));
	ring_close(r);
	cli_fail("%s: group '%s' is shared and its member limit of %u is "
		 "reached (members: pids %s)", path,
		 cli_printable(a->group, esc, sizeof(esc)), limit, pids);
}

/*
 * Open the ring of @a into *@r and join its group (creating it with
 * --create, shared with --shared). Returns the reader; every failure is
 * reported in one line (exits 1).
 */
static struct ring_reader *open_group(const struct recv_args *a,
				      struct ring **r)
{
	unsigned flags = (a->create ? RING_GROUP_CREATE | a->shared : 0) |
			 a->from;
	char esc[4 * RING_GROUP_NAME_MAX + 1];
	struct ring_reader *rd = NULL;
	char *path = cli_ring_path(a->ring);

	if (cli_ring_open(path, 0, r) == 0) {
		rd = join_group(a, path, *r, flags);
		if (!rd)
			ring_close(*r);
	}
	/* Anything else: cli_open_reader() opens again (it may work now)
	 * and says what is wrong in the words the programs share. */
	if (!rd)
		rd = cli_open_reader(a->ring, a->group, flags, r);
	if (a->shared &&
	    ring_group_members(*r, a->group, NULL, 0, NULL) == -EMEDIUMTYPE) {
		ring_reader_close(rd);
		ring_close(*r);
		cli_fail("%s: group '%s' exists and is not shared (--shared "
			 "applies to a group that --create makes)", path,
			 cli_printable(a->group, esc, sizeof(esc)));
	}
	free(path);
	return rd;
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
	rd = open_group(&args, &r);
	ring_set_recovery_ms(r, RECV_RECOVERY_MS);
	status = receive(&args, r, rd);
	ring_reader_close(rd);
	ring_close(r);
	return status;
}

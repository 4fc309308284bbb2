// SPDX-License-Identifier: MIT
/*
 * ringctl - create, inspect, check and remove rings and their groups.
 * This file holds the dispatch and the small subcommands; stat is in
 * ringctl_stat.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "ringctl.h"

static const char *const policy_names[] = { "wait", "fail", "drop", NULL };
static const char *const from_names[] = { "oldest", "newest", NULL };

/* Print the help text. */
static void usage(void)
{
	printf("Usage: ringctl COMMAND RING [options]\n"
	       "RING is a path, or a name without a slash for a ring in "
	       CLI_RING_DIR ".\n\n"
	       "  create RING [--capacity SIZE] [--slot-size N] "
	       "[--max-message N]\n"
	       "              [--groups N] [--processes N] [--mode OCTAL]\n"
	       "              [--when-full wait|fail|drop] [--timestamps] "
	       "[--group NAME]...\n"
	       "                                 --group NAME:shared[:M]: a "
	       "shared group, each\n"
	       "                                 message to one of up to M "
	       "members (1 to 64,\n"
	       "                                 default 64)\n"
	       "  info RING [--json]             format and sizes\n"
	       "  stat RING [--json] [--watch SECS]\n"
	       "                                 counters, groups, lag, "
	       "rates\n"
	       "  check RING [--repair [--dry-run]] [--json]\n"
	       "                                 verify (and repair) "
	       "consistency; --dry-run\n"
	       "                                 repairs a private copy: "
	       "the file is unchanged\n"
	       "  dump RING [--json] [--base64]  every message still in the "
	       "ring (read-only)\n"
	       "  rm RING                        remove the ring file\n"
	       "  group RING add|rm|reset NAME [--from oldest|newest]\n"
	       "  group RING add NAME --shared [--members M]\n"
	       "                                 a shared group of up to M "
	       "members\n"
	       "  group RING list [--json]       names of the groups\n"
	       "  --version                      the version of ringctl\n\n"
	       "Sizes accept K, M and G suffixes. Exit status: 0 ok, 1 error, "
	       "2 usage.\n");
}

/* Text for a RING_FULL_* value. */
const char *ringctl_policy_name(uint32_t policy)
{
	if (policy >= RING_FULL_WAIT && policy <= RING_FULL_DROP)
		return policy_names[policy - RING_FULL_WAIT];
	return "?";
}

/* Open a ring or exit with status 1. */
struct ring *ringctl_open(const char *arg, unsigned flags, char **path)
{
	struct ring *r;
	int rc;

	*path = cli_ring_path(arg);
	rc = cli_ring_open(*path, flags, &r);
	if (rc < 0)
		cli_open_failed(*path, rc);
	return r;
}

/* Parse options that only know --help and return the single RING. */
static const char *only_ring_operand(int argc, char **argv)
{
	static const struct cli_option opts[] = {
		{ "help", 'h', no_argument },
		{ NULL, 0, 0 },
	};
	struct cli_parser p;
	const char *arg;

	cli_parser_init(&p, argc, argv, opts);
	while (cli_next_option(&p, &arg) != -1) {
		usage();
		exit(CLI_EXIT_OK);
	}
	if (cli_operand_count(&p) != 1)
		cli_usage_error("%s needs exactly one RING", argv[0]);
	return cli_operand(&p, 0);
}

enum {
	OPT_CAPACITY = 256,
	OPT_SLOT_SIZE,
	OPT_MAX_MESSAGE,
	OPT_GROUPS,
	OPT_PROCESSES,
	OPT_MODE,
	OPT_WHEN_FULL,
	OPT_TIMESTAMPS,
	OPT_GROUP,
	OPT_REPAIR,
	OPT_FROM,
	OPT_DRY_RUN,
	OPT_JSON,
	OPT_SHARED,
	OPT_MEMBERS,
};

/* A group that create makes: its name and its ring_group_create() flags. */
struct group_spec {
	char name[RING_GROUP_NAME_MAX + 1];
	unsigned flags;
};

/*
 * The member limit @s given with option @opt: 1 to RING_MEMBERS_MAX, as
 * the RING_GROUP_MEMBERS() bits of a shared group's flags. Anything else
 * is a usage error (exits with status 2).
 */
static unsigned members_arg(const char *opt, const char *s)
{
	uint64_t v;

	if (cli_parse_uint(s, RING_MEMBERS_MAX, &v) || v < 1)
		cli_usage_error("%s: '%s' is not a member limit from 1 to %d",
				opt, s, RING_MEMBERS_MAX);
	return RING_GROUP_MEMBERS(v);
}

/* 1 if the @len bytes at @s end with @suffix. */
static int ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && !memcmp(s + len - n, suffix, n);
}

/*
 * Parse the argument of create --group into @g: NAME (an exclusive
 * group), NAME:shared (a shared group of up to RING_MEMBERS_MAX members)
 * or NAME:shared:M (of up to M). A bad name or limit is a usage error.
 */
static void parse_group_spec(const char *arg, struct group_spec *g)
{
	size_t len = strlen(arg);
	const char *colon = strrchr(arg, ':');
	char opt[RING_GROUP_NAME_MAX + 64];

	g->flags = RING_FROM_OLDEST;
	if (ends_with(arg, len, ":shared")) {
		g->flags |= RING_GROUP_SHARED;
		len -= strlen(":shared");
	} else if (colon && ends_with(arg, (size_t)(colon - arg), ":shared")) {
		snprintf(opt, sizeof(opt), "--group %s", arg);
		g->flags |= RING_GROUP_SHARED | members_arg(opt, colon + 1);
		len = (size_t)(colon - arg) - strlen(":shared");
	}
	if (!len || len > RING_GROUP_NAME_MAX)
		cli_usage_error("--group: a name of 1 to %d bytes",
				RING_GROUP_NAME_MAX);
	memcpy(g->name, arg, len);
	g->name[len] = '\0';
}

/* A usage error if the last of the @n + 1 groups at @g was given before
 * as another kind of group (shared or not, another member limit). */
static void check_group_twice(const struct group_spec *g, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (!strcmp(g[i].name, g[n].name) && g[i].flags != g[n].flags)
			cli_usage_error("--group: '%s' is given twice as "
					"different kinds of group", g[n].name);
}

/*
 * Make the @n groups at @g in the new ring @r at @path, and free @g (also
 * before a failure is reported: exits 1).
 */
static void create_groups(struct ring *r, const char *path,
			  struct group_spec *g, unsigned n)
{
	char name[RING_GROUP_NAME_MAX + 1];
	unsigned i;
	int rc;

	for (i = 0; i < n; i++) {
		rc = ring_group_create(r, g[i].name, g[i].flags);
		if (rc < 0 && rc != -EEXIST) {
			memcpy(name, g[i].name, sizeof(name));
			free(g);
			cli_fail("%s: group %s: %s", path, name,
				 ring_strerror(rc));
		}
	}
	free(g);
}

/* ringctl create RING [options] */
int cmd_create(int argc, char **argv)
{
	static const struct cli_option opts[] = {
		{ "capacity", OPT_CAPACITY, required_argument },
		{ "slot-size", OPT_SLOT_SIZE, required_argument },
		{ "max-message", OPT_MAX_MESSAGE, required_argument },
		{ "groups", OPT_GROUPS, required_argument },
		{ "processes", OPT_PROCESSES, required_argument },
		{ "mode", OPT_MODE, required_argument },
		{ "when-full", OPT_WHEN_FULL, required_argument },
		{ "timestamps", OPT_TIMESTAMPS, no_argument },
		{ "group", OPT_GROUP, required_argument },
		{ "help", 'h', no_argument },
		{ NULL, 0, 0 },
	};
	/* Static, so that a usage error's exit during parsing leaves it
	 * reachable (no leak report under LeakSanitizer). */
	static struct group_spec *groups;
	struct ring_config cfg;
	struct cli_parser p;
	unsigned n_groups = 0;
	const char *arg;
	struct ring *r;
	char *path, *end;
	int key, rc;

	groups = calloc((size_t)argc, sizeof(*groups));
	if (!groups)
		cli_fail("out of memory");
	ring_config_init(&cfg);
	cli_parser_init(&p, argc, argv, opts);
	while ((key = cli_next_option(&p, &arg)) != -1) {
		switch (key) {
		case OPT_CAPACITY:
			cfg.capacity = cli_size_arg("--capacity", arg,
						    1ull << 40);
			break;
		case OPT_SLOT_SIZE:
			cfg.slot_size = (uint32_t)cli_size_arg("--slot-size",
							       arg, 4096);
			break;
		case OPT_MAX_MESSAGE:
			cfg.max_message = (uint32_t)cli_size_arg(
				"--max-message", arg, UINT32_MAX);
			break;
		case OPT_GROUPS:
			cfg.groups = (uint32_t)cli_uint_arg("--groups", arg,
							    65536);
			break;
		case OPT_PROCESSES:
			cfg.processes = (uint32_t)cli_uint_arg("--processes",
							       arg, 1 << 20);
			break;
		case OPT_MODE:
			errno = 0;
			cfg.mode = (uint32_t)strtoul(arg, &end, 8);
			if (errno || end == arg || *end || cfg.mode > 07777)
				cli_usage_error("--mode: '%s' is not an octal "
						"file mode", arg);
			break;
		case OPT_WHEN_FULL:
			cfg.full_policy = RING_FULL_WAIT +
					  (uint32_t)cli_choice_arg(
						  "--when-full", arg,
						  policy_names);
			break;
		case OPT_TIMESTAMPS:
			cfg.flags |= RING_CFG_TIMESTAMPS;
			break;
		case OPT_GROUP:
			parse_group_spec(arg, &groups[n_groups]);
			check_group_twice(groups, n_groups++);
			break;
		case 'h':
			usage();
			exit(CLI_EXIT_OK);
		}
	}
	if (cli_operand_count(&p) != 1)
		cli_usage_error("create needs exactly one RING");
	path = cli_ring_path(cli_operand(&p, 0));
	rc = ring_create(path, &cfg, 0, &r);
	if (rc < 0)
		free(groups);
	if (rc == -EINVAL || rc == -EDOM)
		cli_fail("%s: cannot create: %s", path, cli_config_problem(&cfg));
	if (rc == -ENOSPC)
		cli_fail("%s: cannot create: no space left on the file system "
			 "for a ring of %" PRIu64 " bytes", path, cfg.capacity);
	if (rc < 0)
		cli_fail("%s: %s", path, ring_strerror(rc));
	create_groups(r, path, groups, n_groups);
	ring_close(r);
	free(path);
	return CLI_EXIT_OK;
}

/* ringctl info RING [--json] */
int cmd_info(int argc, char **argv)
{
	static const struct cli_option opts[] = {
		{ "json", OPT_JSON, no_argument },
		{ "help", 'h', no_argument },
		{ NULL, 0, 0 },
	};
	struct cli_buf out = { NULL, 0, 0 };
	struct ring_stats st;
	char a[32], b[32], when[64];
	struct cli_parser p;
	int key, rc, json = 0;
	const char *arg;
	struct tm tm;
	time_t secs;
	struct ring *r;
	char *path;

	cli_parser_init(&p, argc, argv, opts);
	while ((key = cli_next_option(&p, &arg)) != -1) {
		if (key == OPT_JSON) {
			json = 1;
		} else {
			usage();
			exit(CLI_EXIT_OK);
		}
	}
	if (cli_operand_count(&p) != 1)
		cli_usage_error("info needs exactly one RING");
	r = ringctl_open(cli_operand(&p, 0), RING_OPEN_RDONLY, &path);
	rc = ring_stats(r, &st);
	if (rc < 0)
		cli_fail("%s: %s", path, ring_strerror(rc));
	if (json) {
		cli_buf_put(&out, "{\"path\":", 8);
		cli_buf_json_string(&out, path, strlen(path));
		cli_buf_printf(&out, ",\"version\":%" PRIu32 ",\"hdr_size\":%"
			       PRIu32 ",\"file_size\":%" PRIu64 ",\"capacity\":%"
			       PRIu64 ",\"slot_size\":%" PRIu64 ",\"slot_count\":%"
			       PRIu64 ",\"max_message\":%" PRIu64
			       ",\"payload_align\":%" PRIu32 ",\"when_full\":\"%s\""
			       ",\"timestamps\":%s,\"groups\":%" PRIu32
			       ",\"created_ns\":%" PRIu64 "}\n", st.version,
			       st.hdr_size, st.file_size, st.capacity,
			       st.slot_size, st.slot_count, st.max_message,
			       ring_payload_align(r),
			       ringctl_policy_name(st.full_policy),
			       st.flags & RING_CFG_TIMESTAMPS ? "true" : "false",
			       st.groups, st.created_ns);
		fwrite(out.data, 1, out.len, stdout);
		free(out.data);
		ring_close(r);
		free(path);
		return CLI_EXIT_OK;
	}
	secs = (time_t)(st.created_ns / 1000000000u);
	localtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", &tm);
	printf("path         %s\n", path);
	printf("format       version %" PRIu32 ", %" PRIu32
	       " bytes of header per message\n", st.version, st.hdr_size);
	printf("file size    %s (%" PRIu64 " bytes)\n",
	       cli_human_size(st.file_size, a, sizeof(a)), st.file_size);
	printf("capacity     %s (%" PRIu64 " slots of %" PRIu64 " bytes)\n",
	       cli_human_size(st.capacity, a, sizeof(a)), st.slot_count,
	       st.slot_size);
	printf("max message  %s (%" PRIu64 " bytes)\n",
	       cli_human_size(st.max_message, b, sizeof(b)), st.max_message);
	printf("alignment    payloads start at multiples of %" PRIu32
	       " bytes\n", ring_payload_align(r));
	printf("when full    %s\n", ringctl_policy_name(st.full_policy));
	printf("timestamps   %s\n",
	       st.flags & RING_CFG_TIMESTAMPS ? "yes" : "no");
	printf("groups       %" PRIu32 "\n", st.groups);
	printf("created      %s\n", when);
	ring_close(r);
	free(path);
	return CLI_EXIT_OK;
}

/* Print what ring_check/ring_repair found. */
static void print_report(const char *path, const char *what,
			 const struct ring_check_report *rep)
{
	printf("%s: %s: %" PRIu32 " problems, %" PRIu32 " repaired, %" PRIu64
	       " slots dropped in %" PRIu64 " runs holding no committed message, %"
	       PRIu64 " messages renumbered, %" PRIu64
	       " dead process entries%s%s\n",
	       path, what, rep->problems, rep->repaired, rep->dropped_slots,
	       rep->dropped_stretches, rep->renumbered, rep->dead_entries,
	       rep->problems ? "; first: " : "",
	       rep->problems ? rep->first_problem : "");
}

/* Print what ring_check/ring_repair found as one JSON object. */
static void print_report_json(const char *path, const char *what, int rc,
			      const struct ring_check_report *rep)
{
	struct cli_buf b = { NULL, 0, 0 };

	cli_buf_put(&b, "{\"path\":", 8);
	cli_buf_json_string(&b, path, strlen(path));
	cli_buf_printf(&b, ",\"what\":\"%s\",\"consistent\":%s,\"problems\":%"
		       PRIu32 ",\"repaired\":%" PRIu32 ",\"dropped_slots\":%"
		       PRIu64 ",\"dropped_stretches\":%" PRIu64
		       ",\"renumbered\":%" PRIu64 ",\"dead_entries\":%" PRIu64,
		       what, rc == 0 ? "true" : "false", rep->problems,
		       rep->repaired, rep->dropped_slots,
		       rep->dropped_stretches, rep->renumbered,
		       rep->dead_entries);
	if (rep->problems) {
		cli_buf_put(&b, ",\"first_problem\":", 17);
		cli_buf_json_string(&b, rep->first_problem,
				    strnlen(rep->first_problem,
					    sizeof(rep->first_problem)));
	}
	cli_buf_put(&b, "}\n", 2);
	fwrite(b.data, 1, b.len, stdout);
	free(b.data);
}

/* ringctl check RING [--repair [--dry-run]] [--json] */
int cmd_check(int argc, char **argv)
{
	static const struct cli_option opts[] = {
		{ "repair", OPT_REPAIR, no_argument },
		{ "dry-run", OPT_DRY_RUN, no_argument },
		{ "json", OPT_JSON, no_argument },
		{ "help", 'h', no_argument },
		{ NULL, 0, 0 },
	};
	struct ring_check_report rep;
	struct ring_stats st;
	struct cli_parser p;
	int key, rc, repair = 0, dry = 0, json = 0;
	unsigned flags;
	const char *arg;
	struct ring *r;
	char *path;

	cli_parser_init(&p, argc, argv, opts);
	while ((key = cli_next_option(&p, &arg)) != -1) {
		if (key == OPT_REPAIR) {
			repair = 1;
		} else if (key == OPT_DRY_RUN) {
			dry = 1;
		} else if (key == OPT_JSON) {
			json = 1;
		} else {
			usage();
			exit(CLI_EXIT_OK);
		}
	}
	if (cli_operand_count(&p) != 1)
		cli_usage_error("check needs exactly one RING");
	if (dry && !repair)
		cli_usage_error("--dry-run goes with --repair");
	/* A dry run repairs a copy-on-write mapping of a file opened
	 * read-only: what it writes never reaches the file. */
	flags = !repair ? RING_OPEN_RDONLY : dry ? RING_OPEN_PRIVATE : 0;
	r = ringctl_open(cli_operand(&p, 0), flags, &path);
	if (repair) {
		rc = ring_stats(r, &st);
		if (rc < 0)
			cli_fail("%s: %s", path, ring_strerror(rc));
		if (st.producers)
			cli_fail("%s: %" PRIu32 " producers are attached; stop "
				 "them before --repair", path, st.producers);
		memset(&rep, 0, sizeof(rep));
		rc = ring_repair(r, &rep);
		if (rc < 0)
			cli_fail("%s: repair: %s", path, ring_strerror(rc));
		if (json)
			print_report_json(path, dry ? "repair-dry-run" : "repair",
					  0, &rep);
		else
			print_report(path, dry ? "repair (dry run: the file is "
				     "not changed)" : "repair", &rep);
	}
	memset(&rep, 0, sizeof(rep));
	rc = ring_check(r, &rep);
	if (rc < 0 && rc != -EUCLEAN)
		cli_fail("%s: check: %s", path, ring_strerror(rc));
	if (json)
		print_report_json(path, "check", rc, &rep);
	else if (rc == 0)
		printf("%s: consistent\n", path);
	else
		print_report(path, "check", &rep);
	ring_close(r);
	free(path);
	return rc == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* ringctl rm RING */
int cmd_rm(int argc, char **argv)
{
	char *path = cli_ring_path(only_ring_operand(argc, argv));
	int rc = ring_unlink(path);

	if (rc < 0)
		cli_open_failed(path, rc);
	free(path);
	return CLI_EXIT_OK;
}

int ringctl_group_names(struct ring *r, const char *path,
			char (**out)[RING_GROUP_NAME_MAX + 1])
{
	char (*names)[RING_GROUP_NAME_MAX + 1] = NULL;
	int n, max = 0;

	for (;;) {
		n = ring_group_list(r, names, (unsigned)max);
		if (n < 0)
			cli_fail("%s: %s", path, ring_strerror(n));
		if (n <= max)
			break;
		max = n + 8;
		free(names);
		names = calloc((size_t)max, sizeof(*names));
		if (!names)
			cli_fail("out of memory");
	}
	*out = names;
	return n;
}

/* Append to @b the mode of group @name: ,"shared":false, or
 * ,"shared":true,"member_limit":M for a shared group. */
static void group_mode_json(struct cli_buf *b, struct ring *r,
			    const char *name)
{
	unsigned limit = 0;

	if (ring_group_members(r, name, NULL, 0, &limit) < 0)
		cli_buf_put(b, ",\"shared\":false", 15);
	else
		cli_buf_printf(b, ",\"shared\":true,\"member_limit\":%u",
			       limit);
}

/* ringctl group RING list: one name per line, or a JSON array of objects
 * (name, cursor, lag_messages, reader_alive, reader_pid, shared and for a
 * shared group member_limit). */
static int group_list(struct ring *r, const char *path, int json)
{
	char (*names)[RING_GROUP_NAME_MAX + 1];
	char esc[4 * RING_GROUP_NAME_MAX + 1];
	int n = ringctl_group_names(r, path, &names), i, k = 0;
	struct cli_buf b = { NULL, 0, 0 };
	struct ring_group_stats gs;

	if (!json) {
		for (i = 0; i < n; i++)
			printf("%s\n", cli_printable(names[i], esc,
						     sizeof(esc)));
		free(names);
		return CLI_EXIT_OK;
	}
	cli_buf_put(&b, "[", 1);
	for (i = 0; i < n; i++) {
		if (ring_group_stats(r, names[i], &gs) < 0)
			continue; /* removed meanwhile */
		cli_buf_printf(&b, "%s{\"name\":", k++ ? "," : "");
		cli_buf_json_string(&b, gs.name, strlen(gs.name));
		cli_buf_printf(&b, ",\"cursor\":%" PRIu64 ",\"released\":%"
			       PRIu64 ",\"lag_messages\":%" PRIu64
			       ",\"reader_alive\":%s,\"reader_pid\":%d",
			       gs.cursor, gs.released, gs.lag_messages,
			       gs.reader_alive ? "true" : "false",
			       (int)gs.reader_pid);
		group_mode_json(&b, r, names[i]);
		cli_buf_put(&b, "}", 1);
	}
	cli_buf_put(&b, "]\n", 2);
	fwrite(b.data, 1, b.len, stdout);
	free(b.data);
	free(names);
	return CLI_EXIT_OK;
}

/* Say why a group command on @name failed with @rc; exits 1. */
static noreturn void group_failed(struct ring *r, const char *path,
				  const char *name, int rc)
{
	char esc[4 * RING_GROUP_NAME_MAX + 1], list[1024];
	struct ring_group_stats gs;

	cli_printable(name, esc, sizeof(esc));
	if (rc == -ENOENT)
		cli_fail("no group '%s' in %s (groups: %s)", esc, path,
			 cli_group_names_text(r, list, sizeof(list)));
	if (rc == -EBUSY && cli_live_member_pids(r, name, list, sizeof(list)) > 0)
		cli_fail("%s: group '%s' is shared and has live members "
			 "(pids %s)", path, esc, list);
	if (rc == -EBUSY && ring_group_stats(r, name, &gs) == 0 &&
	    gs.reader_pid)
		cli_fail("%s: group '%s' is being read by pid %d", path, esc,
			 (int)gs.reader_pid);
	if (rc == -EEXIST)
		cli_fail("%s: group '%s' already exists", path, esc);
	cli_fail("%s: group '%s': %s", path, esc, ring_strerror(rc));
}

/* ringctl group RING add|rm|reset NAME [--from oldest|newest]
 *                        [--shared [--members M]] | list [--json] */
int cmd_group(int argc, char **argv)
{
	static const struct cli_option opts[] = {
		{ "from", OPT_FROM, required_argument },
		{ "json", OPT_JSON, no_argument },
		{ "shared", OPT_SHARED, no_argument },
		{ "members", OPT_MEMBERS, required_argument },
		{ "help", 'h', no_argument },
		{ NULL, 0, 0 },
	};
	static const char *const actions[] = { "add", "rm", "reset", "list",
					       NULL };
	unsigned from = RING_FROM_OLDEST, shared = 0, members = 0;
	const char *arg, *name;
	struct cli_parser p;
	int key, action, rc, json = 0;
	struct ring *r;
	char *path;

	cli_parser_init(&p, argc, argv, opts);
	while ((key = cli_next_option(&p, &arg)) != -1) {
		if (key == OPT_FROM) {
			from = cli_choice_arg("--from", arg, from_names) ?
				       RING_FROM_NEWEST :
				       RING_FROM_OLDEST;
		} else if (key == OPT_JSON) {
			json = 1;
		} else if (key == OPT_SHARED) {
			shared = RING_GROUP_SHARED;
		} else if (key == OPT_MEMBERS) {
			members = members_arg("--members", arg);
		} else {
			usage();
			exit(CLI_EXIT_OK);
		}
	}
	if (cli_operand_count(&p) < 2)
		cli_usage_error("group needs RING and add|rm|reset|list");
	action = cli_choice_arg("group", cli_operand(&p, 1), actions);
	name = cli_operand(&p, 2);
	if (action == 3 && cli_operand_count(&p) != 2)
		cli_usage_error("group list takes no NAME");
	if (action != 3 && json)
		cli_usage_error("--json applies to group list only");
	if (action != 0 && (shared || members))
		cli_usage_error("--shared and --members apply to group add "
				"only");
	if (members && !shared)
		cli_usage_error("--members goes with --shared");
	if (action != 3 && cli_operand_count(&p) != 3)
		cli_usage_error("group %s needs exactly one NAME",
				actions[action]);
	if (name && (!*name || strlen(name) > RING_GROUP_NAME_MAX))
		cli_usage_error("group name: 1 to %d bytes",
				RING_GROUP_NAME_MAX);
	r = ringctl_open(cli_operand(&p, 0), action == 3 ? RING_OPEN_RDONLY : 0,
			 &path);
	switch (action) {
	case 0:
		rc = ring_group_create(r, name, from | shared | members);
		break;
	case 1:
		rc = ring_group_remove(r, name);
		break;
	case 2:
		rc = ring_group_reset(r, name, from);
		break;
	default:
		rc = group_list(r, path, json);
		break;
	}
	if (rc < 0)
		group_failed(r, path, name, rc);
	ring_close(r);
	free(path);
	return CLI_EXIT_OK;
}

/* Dispatch to the subcommand. */
int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} commands[] = {
		{ "create", cmd_create }, { "info", cmd_info },
		{ "stat", cmd_stat },	  { "check", cmd_check },
		{ "rm", cmd_rm },	  { "group", cmd_group },
		{ "dump", cmd_dump },
	};
	size_t i;

	cli_init("ringctl");
	if (argc < 2)
		cli_usage_error("missing COMMAND");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage();
		return CLI_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		cli_print_version();
		return CLI_EXIT_OK;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	cli_usage_error("unknown command '%s'", argv[1]);
}

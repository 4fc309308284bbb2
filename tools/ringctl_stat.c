// SPDX-License-Identifier: MIT
/*
 * ringctl_stat.c - "ringctl stat": a ring's counters, its groups (and the
 * members of shared groups) and its attached processes, as text or JSON,
 * once or every SECS seconds (with rates) until SIGINT.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "ringctl.h"

/* The mode of one group and, for a shared group, its seats in use. */
struct group_seats {
	int shared;			/* 1 for a shared group */
	unsigned limit;			/* its member limit */
	int n;				/* seats in use, entries of m */
	struct ring_member_info *m;	/* RING_MEMBERS_MAX entries, or NULL */
};

/* One reading of the ring, its groups and its attached processes. */
struct snapshot {
	struct ring_stats ring;
	struct ring_group_stats *groups;
	struct group_seats *seats;	/* one per entry of groups */
	int n_groups;
	struct ring_proc_info *procs;
	int n_procs;
	double when; /* CLOCK_MONOTONIC seconds */
};

static volatile sig_atomic_t watch_stop;

/* SIGINT/SIGTERM in watch mode: finish. */
static void on_stop(int sig)
{
	(void)sig;
	watch_stop = 1;
}

/* CLOCK_MONOTONIC now, in seconds. */
static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Read the process table into @s (it may grow while it is read). */
static void take_procs(struct ring *r, const char *path, struct snapshot *s)
{
	int n, max = 0;

	s->procs = NULL;
	for (;;) {
		n = ring_proc_list(r, s->procs, (unsigned)max);
		if (n < 0)
			cli_fail("%s: %s", path, ring_strerror(n));
		if (n <= max)
			break;
		max = n + 8;
		free(s->procs);
		s->procs = calloc((size_t)max, sizeof(*s->procs));
		if (!s->procs)
			cli_fail("out of memory");
	}
	s->n_procs = n;
}

/*
 * Read the mode of group @name into @gs and, for a shared group, its
 * seats in use (ring_group_members). A group that is not shared, or was
 * removed meanwhile, shows as not shared.
 */
static void take_seats(struct ring *r, const char *path, const char *name,
		       struct group_seats *gs)
{
	int n;

	memset(gs, 0, sizeof(*gs));
	gs->m = calloc(RING_MEMBERS_MAX, sizeof(*gs->m));
	if (!gs->m)
		cli_fail("out of memory");
	n = ring_group_members(r, name, gs->m, RING_MEMBERS_MAX, &gs->limit);
	if (n == -EMEDIUMTYPE || n == -ENOENT) {
		free(gs->m);
		gs->m = NULL;
		return;
	}
	if (n < 0) {
		free(gs->m);
		cli_fail("%s: group %s: %s", path, name, ring_strerror(n));
	}
	gs->shared = 1;
	gs->n = n < RING_MEMBERS_MAX ? n : RING_MEMBERS_MAX;
}

/* Free what take_snapshot() allocated. */
static void free_snapshot(struct snapshot *s)
{
	int i;

	for (i = 0; i < s->n_groups; i++)
		free(s->seats[i].m);
	free(s->seats);
	free(s->groups);
	free(s->procs);
}

/* "producer", "reader" or both, for RING_ROLE_* bits @role. */
static const char *role_name(uint32_t role)
{
	switch (role & (RING_ROLE_PRODUCER | RING_ROLE_READER)) {
	case RING_ROLE_PRODUCER:
		return "producer";
	case RING_ROLE_READER:
		return "reader";
	case RING_ROLE_PRODUCER | RING_ROLE_READER:
		return "producer+reader";
	}
	return "none";
}

/* Read the ring's and every group's counters and the process table into
 * @s. */
static void take_snapshot(struct ring *r, const char *path,
			  struct snapshot *s)
{
	char (*names)[RING_GROUP_NAME_MAX + 1];
	int n, i, k = 0, rc;

	rc = ring_stats(r, &s->ring);
	if (rc < 0)
		cli_fail("%s: %s", path, ring_strerror(rc));
	n = ringctl_group_names(r, path, &names);
	s->groups = calloc((size_t)n + 1, sizeof(*s->groups));
	s->seats = calloc((size_t)n + 1, sizeof(*s->seats));
	if (!s->groups || !s->seats)
		cli_fail("out of memory");
	for (i = 0; i < n; i++) {
		/* A group removed meanwhile is left out. */
		if (ring_group_stats(r, names[i], &s->groups[k]) == 0)
			take_seats(r, path, names[i], &s->seats[k++]);
	}
	s->n_groups = k;
	take_procs(r, path, s);
	s->when = now_seconds();
	free(names);
}

/* The same group in an earlier snapshot, or NULL. */
static const struct ring_group_stats *
find_group(const struct snapshot *s, const char *name)
{
	int i;

	for (i = 0; s && i < s->n_groups; i++)
		if (!strcmp(s->groups[i].name, name))
			return &s->groups[i];
	return NULL;
}

/* Rate per second of a counter between two snapshots. */
static double rate(uint64_t now, uint64_t before, double seconds)
{
	if (seconds <= 0 || now < before)
		return 0;
	return (double)(now - before) / seconds;
}

/* Bytes of message space held by the slowest group. */
static uint64_t used_bytes(const struct ring_stats *st)
{
	return (st->tail - st->min_cursor) * st->slot_size;
}

/* Print the process table of @s as text, one line per entry. */
static void print_procs_text(const struct snapshot *s)
{
	char esc[4 * RING_GROUP_NAME_MAX + 1];
	const struct ring_proc_info *p;
	int i;

	if (!s->n_procs)
		return;
	printf("  processes (counts in messages):\n");
	printf("  %-8s %-8s %-5s %12s %10s  %s\n", "pid", "role", "alive",
	       "committed", "dropped", "group");
	for (i = 0; i < s->n_procs; i++) {
		p = &s->procs[i];
		printf("  %-8d %-8s %-5s %12" PRIu64 " %10" PRIu64 "  %s\n",
		       (int)p->pid, role_name(p->role), p->alive ? "yes" : "no",
		       p->committed, p->dropped,
		       p->role & RING_ROLE_READER ?
			       cli_printable(p->group, esc, sizeof(esc)) : "-");
	}
}

/* Append the process table of @s to @b as the JSON member "process_list". */
static void procs_json(struct cli_buf *b, const struct snapshot *s)
{
	const struct ring_proc_info *p;
	int i;

	cli_buf_put(b, ",\"process_list\":[", 17);
	for (i = 0; i < s->n_procs; i++) {
		p = &s->procs[i];
		cli_buf_printf(b, "%s{\"pid\":%d,\"tid\":%d,\"role\":\"%s\""
			       ",\"alive\":%s,\"claim_open\":%s,\"committed\":%"
			       PRIu64 ",\"aborted\":%" PRIu64 ",\"dropped\":%"
			       PRIu64 ",\"attach_ns\":%" PRIu64, i ? "," : "",
			       (int)p->pid, (int)p->tid, role_name(p->role),
			       p->alive ? "true" : "false",
			       p->claim_open ? "true" : "false", p->committed,
			       p->aborted, p->dropped, p->attach_ns);
		if (p->role & RING_ROLE_READER) {
			cli_buf_put(b, ",\"group\":", 9);
			cli_buf_json_string(b, p->group, strlen(p->group));
		}
		cli_buf_put(b, "}", 1);
	}
	cli_buf_put(b, "]", 1);
}

/* The number of live members among the seats of @gs. */
static int live_members(const struct group_seats *gs)
{
	int i, alive = 0;

	for (i = 0; i < gs->n; i++)
		alive += gs->m[i].alive != 0;
	return alive;
}

/* Print the reader column of a shared group: its live members, its limit. */
static void print_members_summary(const struct group_seats *gs)
{
	int alive = live_members(gs);

	if (alive)
		printf("shared: %d member%s alive (limit %u)", alive,
		       alive == 1 ? "" : "s", gs->limit);
	else
		printf("shared: no member alive (limit %u)", gs->limit);
}

/*
 * Print shared group @g's seats in use as text: a heading with its member
 * limit and lag, then per seat the member's pid, whether it is alive, the
 * stretch of positions it holds (from..to, to excluded), the messages in
 * that stretch and the messages released from the seat.
 */
static void print_seats_text(const struct ring_group_stats *g,
			     const struct group_seats *gs)
{
	char esc[4 * RING_GROUP_NAME_MAX + 1], held[48];
	const struct ring_member_info *m;
	int i;

	printf("shared group '%s': member limit %u, lag %" PRIu64
	       " messages, ", cli_printable(g->name, esc, sizeof(esc)),
	       gs->limit, g->lag_messages);
	if (!gs->n) {
		printf("no seat in use\n");
		return;
	}
	printf("%d seat%s in use:\n", gs->n, gs->n == 1 ? "" : "s");
	printf("  %-8s %-5s %-27s %8s %12s\n", "pid", "alive",
	       "holds (positions)", "messages", "released");
	for (i = 0; i < gs->n; i++) {
		m = &gs->m[i];
		if (m->held_to != m->held_from)
			snprintf(held, sizeof(held), "%" PRIu64 "..%" PRIu64,
				 m->held_from, m->held_to);
		else
			snprintf(held, sizeof(held), "-");
		printf("  %-8d %-5s %-27s %8" PRIu64 " %12" PRIu64 "\n",
		       (int)m->pid, m->alive ? "yes" : "no", held, m->held,
		       m->released);
	}
}

/* Append a group's mode @gs to @b as JSON members: "shared", and for a shared
 * group "member_limit" and "members" (an array of its seats in use). */
static void seats_json(struct cli_buf *b, const struct group_seats *gs)
{
	const struct ring_member_info *m;
	int i;

	if (!gs->shared) {
		cli_buf_put(b, ",\"shared\":false", 15);
		return;
	}
	cli_buf_printf(b, ",\"shared\":true,\"member_limit\":%u,"
		       "\"members\":[", gs->limit);
	for (i = 0; i < gs->n; i++) {
		m = &gs->m[i];
		cli_buf_printf(b, "%s{\"pid\":%d,\"alive\":%s,\"held_from\":%"
			       PRIu64 ",\"held_to\":%" PRIu64 ",\"held\":%"
			       PRIu64 ",\"released\":%" PRIu64 "}",
			       i ? "," : "", (int)m->pid,
			       m->alive ? "true" : "false", m->held_from,
			       m->held_to, m->held, m->released);
	}
	cli_buf_put(b, "]", 1);
}

/* Print @s as text; rates against @prev when given. */
static void print_text(const char *path, const struct snapshot *s,
		       const struct snapshot *prev)
{
	const struct ring_stats *st = &s->ring;
	double dt = prev ? s->when - prev->when : 0;
	char esc[4 * RING_GROUP_NAME_MAX + 1];
	char a[32], b[32], c[32];
	int i;

	printf("ring %s: capacity %s, used %s (%.1f%%), max message %s, "
	       "when full %s\n", path,
	       cli_human_size(st->capacity, a, sizeof(a)),
	       cli_human_size(used_bytes(st), b, sizeof(b)),
	       st->capacity ? 100.0 * (double)used_bytes(st) /
				      (double)st->capacity : 0.0,
	       cli_human_size(st->max_message, c, sizeof(c)),
	       ringctl_policy_name(st->full_policy));
	printf("messages: committed %" PRIu64 ", aborted %" PRIu64
	       ", dropped %" PRIu64 ", recovered %" PRIu64, st->committed,
	       st->aborted, st->dropped, st->recovered);
	if (prev)
		printf(" (%.0f/s committed, %.0f/s dropped)",
		       rate(st->committed, prev->ring.committed, dt),
		       rate(st->dropped, prev->ring.dropped, dt));
	printf("\nprocesses: %" PRIu32 " attached, %" PRIu32 " producing, %"
	       PRIu32 " reading\n", st->processes, st->producers, st->readers);
	print_procs_text(s);
	if (!s->n_groups) {
		printf("groups: none\n");
		return;
	}
	/* One unit per table: messages here, slots in the next. */
	printf("groups (in messages):\n");
	printf("%-20s %12s %12s  %s\n", "group", "released", "lag", "reader");
	for (i = 0; i < s->n_groups; i++) {
		const struct ring_group_stats *g = &s->groups[i];
		const struct ring_group_stats *pg = find_group(prev, g->name);

		printf("%-20s %12" PRIu64 " %12" PRIu64 "  ",
		       cli_printable(g->name, esc, sizeof(esc)), g->released,
		       g->lag_messages);
		if (s->seats[i].shared)
			print_members_summary(&s->seats[i]);
		else if (g->reader_alive)
			printf("alive (pid %d)", (int)g->reader_pid);
		else if (g->reader_pid)
			printf("no reader (last: pid %d)", (int)g->reader_pid);
		else
			printf("no reader (never read)");
		if (pg)
			printf(" %.0f/s", rate(g->released, pg->released, dt));
		printf("\n");
	}
	printf("group positions (in slots of %" PRIu64 " bytes; tail %" PRIu64
	       "):\n", st->slot_size, st->tail);
	printf("%-20s %12s %12s\n", "group", "cursor", "lag");
	for (i = 0; i < s->n_groups; i++)
		printf("%-20s %12" PRIu64 " %12" PRIu64 "\n",
		       cli_printable(s->groups[i].name, esc, sizeof(esc)),
		       s->groups[i].cursor, s->groups[i].lag_slots);
	for (i = 0; i < s->n_groups; i++)
		if (s->seats[i].shared)
			print_seats_text(&s->groups[i], &s->seats[i]);
	for (i = 0; i < s->n_groups; i++) {
		const struct ring_group_stats *g = &s->groups[i];

		if (g->reader_alive || !g->lag_messages)
			continue;
		cli_printable(g->name, esc, sizeof(esc));
		printf("warning: group '%s' has no %s and holds %" PRIu64
		       " messages; producers wait for it once the ring is full "
		       "(read it, or remove it: ringctl group %s rm %s)\n",
		       esc, s->seats[i].shared ? "live member" : "reader",
		       g->lag_messages, path, esc);
	}
}

/* Print @s as one JSON object on one line; rates against @prev. */
static void print_json(const char *path, const struct snapshot *s,
		       const struct snapshot *prev)
{
	const struct ring_stats *st = &s->ring;
	double dt = prev ? s->when - prev->when : 0;
	struct cli_buf b = { NULL, 0, 0 };
	int i;

	cli_buf_put(&b, "{\"path\":", 8);
	cli_buf_json_string(&b, path, strlen(path));
	cli_buf_printf(&b, ",\"capacity\":%" PRIu64 ",\"slot_size\":%" PRIu64
		       ",\"slot_count\":%" PRIu64 ",\"max_message\":%" PRIu64
		       ",\"tail\":%" PRIu64 ",\"min_cursor\":%" PRIu64
		       ",\"used_bytes\":%" PRIu64, st->capacity, st->slot_size,
		       st->slot_count, st->max_message, st->tail,
		       st->min_cursor, used_bytes(st));
	cli_buf_printf(&b, ",\"committed\":%" PRIu64 ",\"aborted\":%" PRIu64
		       ",\"dropped\":%" PRIu64 ",\"recovered\":%" PRIu64
		       ",\"processes\":%" PRIu32 ",\"producers\":%" PRIu32
		       ",\"readers\":%" PRIu32 ",\"when_full\":\"%s\""
		       ",\"timestamps\":%s,\"created_ns\":%" PRIu64,
		       st->committed, st->aborted, st->dropped, st->recovered,
		       st->processes, st->producers, st->readers,
		       ringctl_policy_name(st->full_policy),
		       st->flags & RING_CFG_TIMESTAMPS ? "true" : "false",
		       st->created_ns);
	if (prev)
		cli_buf_printf(&b, ",\"interval\":%.3f,\"committed_per_sec\":"
			       "%.1f,\"dropped_per_sec\":%.1f", dt,
			       rate(st->committed, prev->ring.committed, dt),
			       rate(st->dropped, prev->ring.dropped, dt));
	procs_json(&b, s);
	cli_buf_put(&b, ",\"groups\":[", 11);
	for (i = 0; i < s->n_groups; i++) {
		const struct ring_group_stats *g = &s->groups[i];
		const struct ring_group_stats *pg = find_group(prev, g->name);

		cli_buf_put(&b, i ? ",{\"name\":" : "{\"name\":", i ? 9 : 8);
		cli_buf_json_string(&b, g->name, strlen(g->name));
		cli_buf_printf(&b, ",\"cursor\":%" PRIu64 ",\"released\":%"
			       PRIu64 ",\"lag_messages\":%" PRIu64
			       ",\"lag_slots\":%" PRIu64 ",\"lag_bytes\":%"
			       PRIu64 ",\"reader_alive\":%s,\"reader_pid\":%d",
			       g->cursor, g->released, g->lag_messages,
			       g->lag_slots, g->lag_bytes,
			       g->reader_alive ? "true" : "false",
			       (int)g->reader_pid);
		if (pg)
			cli_buf_printf(&b, ",\"released_per_sec\":%.1f",
				       rate(g->released, pg->released, dt));
		seats_json(&b, &s->seats[i]);
		cli_buf_put(&b, "}", 1);
	}
	cli_buf_put(&b, "]}\n", 3);
	fwrite(b.data, 1, b.len, stdout);
	free(b.data);
}

/* Sleep @seconds unless a stop signal comes first. */
static void watch_sleep(double seconds)
{
	struct timespec ts;

	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (!watch_stop && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Parse the --watch interval: seconds, a fraction allowed. */
static double watch_arg(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0.01 ||
	    v > 86400)
		cli_usage_error("--watch: '%s' is not a number of seconds from "
				"0.01 to 86400", s);
	return v;
}

enum { OPT_JSON = 256, OPT_WATCH };

/* ringctl stat RING [--json] [--watch SECS] */
int cmd_stat(int argc, char **argv)
{
	static const struct cli_option opts[] = {
		{ "json", OPT_JSON, no_argument },
		{ "watch", OPT_WATCH, required_argument },
		{ "help", 'h', no_argument },
		{ NULL, 0, 0 },
	};
	struct snapshot cur, prev;
	struct sigaction sa;
	struct cli_parser p;
	double watch = 0;
	int key, json = 0, have_prev = 0;
	const char *arg;
	struct ring *r;
	char *path;

	cli_parser_init(&p, argc, argv, opts);
	while ((key = cli_next_option(&p, &arg)) != -1) {
		if (key == OPT_JSON) {
			json = 1;
		} else if (key == OPT_WATCH) {
			watch = watch_arg(arg);
		} else {
			printf("Usage: ringctl stat RING [--json] "
			       "[--watch SECS]\n");
			exit(CLI_EXIT_OK);
		}
	}
	if (cli_operand_count(&p) != 1)
		cli_usage_error("stat needs exactly one RING");
	r = ringctl_open(cli_operand(&p, 0), RING_OPEN_RDONLY, &path);
	if (watch > 0) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_stop;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	for (;;) {
		take_snapshot(r, path, &cur);
		if (json)
			print_json(path, &cur, have_prev ? &prev : NULL);
		else
			print_text(path, &cur, have_prev ? &prev : NULL);
		fflush(stdout);
		if (have_prev)
			free_snapshot(&prev);
		prev = cur;
		have_prev = 1;
		if (watch <= 0)
			break;
		watch_sleep(watch);
		if (watch_stop)
			break;
		if (!json)
			printf("\n");
	}
	free_snapshot(&prev);
	ring_close(r);
	free(path);
	return CLI_EXIT_OK;
}

/* SPDX-License-Identifier: MIT */
/*
 * ring-bench - move messages between processes over libring and over the
 * transports people use today (pipes, UNIX sockets, POSIX message queues,
 * ZeroMQ, DPDK's rte_ring), and report throughput or round-trip latency.
 *
 * This file holds the command line, the choice of transport and the
 * report; bench_run.c runs the processes, transport_*.c move the bytes.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "ring.h"

static const struct transport *const transports[] = {
	&transport_ring,
	&transport_pipe,
	&transport_unix,
	&transport_seqpacket,
	&transport_mq,
#ifdef HAVE_ZMQ
	&transport_zmq,
#endif
#ifdef HAVE_DPDK
	&transport_rte,
	&transport_rte_burst,
#endif
};

#define NTRANSPORTS (sizeof(transports) / sizeof(transports[0]))

/* Print the usage text on @out. */
static void usage(FILE *out)
{
	size_t i;

	fprintf(out,
"Usage: " BENCH_PROG " --transport NAME [--size BYTES] [--messages N]\n"
"         [--producers P] [--groups G | --members M] [--capacity BYTES]\n"
"         [--wait spin|block] [--batch B] [--rtt] [--cpus R/P] [--json]\n"
"\n"
"Move messages from P producer processes to G reader processes over one\n"
"transport and report messages per second, or with --rtt the round-trip\n"
"time between two processes. Every producer and reader is its own process;\n"
"readers read every payload and the count and contents are checked.\n"
"\n"
"  -t, --transport NAME  ring, pipe, unix, seqpacket, mq"
#ifdef HAVE_ZMQ
", zmq"
#endif
#ifdef HAVE_DPDK
", rte,\n"
"                        rte-burst"
#endif
"\n"
"  -s, --size BYTES      payload bytes, >= 8 (default 64)\n"
"  -n, --messages N      timed messages, or round trips with --rtt\n"
"                        (default 1000000, with --rtt 100000); a tenth more\n"
"                        is sent first as warm-up and not timed\n"
"  -p, --producers P     producer processes, 1..%d (default 1)\n"
"  -g, --groups G        readers, each receiving every message, 1..%d\n"
"                        (default 1)\n"
"  -m, --members M       ring only: one shared group read by M reader\n"
"                        processes, 1..%d; each message goes to one of them\n"
"                        (work sharing). Each member counts what it got;\n"
"                        the run fails unless all of them together received\n"
"                        every message exactly once (count, sum and sum of\n"
"                        squares of the messages' numbers)\n"
"  -c, --capacity BYTES  ring size (ring and rte only; default 1M)\n"
"  -w, --wait MODE       ring: spin (never sleep) or block (spin a little,\n"
"                        then sleep on a futex; default spin); rte: spin,\n"
"                        or block = sched_yield() after a while of spinning;\n"
"                        the other transports always use blocking calls\n"
"  -b, --batch B         messages per send call (default 1, unless the\n"
"                        transport says otherwise below)\n"
"  -r, --rtt             measure round trips (P and G must be 1, no --members)\n"
"  -C, --cpus R/P        run the readers on the CPUs of list R and the\n"
"                        producers on those of list P (comma-separated,\n"
"                        used round-robin; an empty list leaves that side\n"
"                        to the scheduler), e.g. 0/1. With --rtt the pong\n"
"                        process is the reader, ping the producer. For\n"
"                        comparing runs on CPUs of unequal speed\n"
"  -j, --json            print one JSON object as the last line\n"
"  -h, --help            this text\n"
"      --version         the version of ring-bench\n"
"\n"
"Numbers take a K, M or G suffix (x1024). The time runs from the release of\n"
"the producers to the last message received by the slowest reader (with\n"
"--members, by any member).\n"
"\n"
"Groups and batches per transport:\n",
		BENCH_MAX_PRODUCERS, BENCH_MAX_GROUPS, BENCH_MAX_MEMBERS);
	for (i = 0; i < NTRANSPORTS; i++)
		fprintf(out, "  %-10s groups: %s\n  %-10s batch:  %s\n",
			transports[i]->name, transports[i]->groups_note, "",
			transports[i]->batch_note);
}

/* Parse @arg as a number with an optional K/M/G suffix into *@out, within
 * [@min, @max]. Returns 0 or -1 (error printed). */
static int parse_number(const char *opt, const char *arg, uint64_t min,
			uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (end == arg || errno || arg[0] == '-')
		goto bad;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		goto bad;
	v <<= shift;
	if (v < min || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	bench_err("--%s: '%s' is not a number in %" PRIu64 "..%" PRIu64, opt,
		  arg, min, max);
	return -1;
}

/* The transport called @name, or NULL. */
static const struct transport *find_transport(const char *name)
{
	size_t i;

	for (i = 0; i < NTRANSPORTS; i++)
		if (strcmp(transports[i]->name, name) == 0)
			return transports[i];
	return NULL;
}

/* Parse the command line into @o. Returns 0, or the exit status to end
 * with (0 after --help, 2 on a usage error). */
static int parse_args(int argc, char **argv, struct bench_opts *o)
{
	static const struct option longopts[] = {
		{ "transport", required_argument, NULL, 't' },
		{ "size", required_argument, NULL, 's' },
		{ "messages", required_argument, NULL, 'n' },
		{ "producers", required_argument, NULL, 'p' },
		{ "groups", required_argument, NULL, 'g' },
		{ "members", required_argument, NULL, 'm' },
		{ "capacity", required_argument, NULL, 'c' },
		{ "wait", required_argument, NULL, 'w' },
		{ "batch", required_argument, NULL, 'b' },
		{ "rtt", no_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "cpus", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c, have_messages = 0, have_groups = 0;

	*o = (struct bench_opts){ .size = 64, .producers = 1, .groups = 1,
				  .capacity = 1u << 20, .batch = 1,
				  .wait = BENCH_WAIT_SPIN };
	while ((c = getopt_long(argc, argv, "t:s:n:p:g:m:c:w:b:rjC:h", longopts,
				NULL)) != -1) {
		const char *name = NULL;
		int i;

		for (i = 0; longopts[i].name; i++)
			if (longopts[i].val == c)
				name = longopts[i].name;
		switch (c) {
		case 't':
			o->transport = optarg;
			break;
		case 's':
			if (parse_number(name, optarg, 8, 16u << 20, &v))
				return 2;
			o->size = (uint32_t)v;
			break;
		case 'n':
			if (parse_number(name, optarg, 1, UINT64_MAX / 4, &v))
				return 2;
			o->messages = v;
			have_messages = 1;
			break;
		case 'p':
			if (parse_number(name, optarg, 1, BENCH_MAX_PRODUCERS,
					 &v))
				return 2;
			o->producers = (uint32_t)v;
			break;
		case 'g':
			if (parse_number(name, optarg, 1, BENCH_MAX_GROUPS, &v))
				return 2;
			o->groups = (uint32_t)v;
			have_groups = 1;
			break;
		case 'm':
			if (parse_number(name, optarg, 1, BENCH_MAX_MEMBERS,
					 &v))
				return 2;
			o->members = (uint32_t)v;
			break;
		case 'c':
			if (parse_number(name, optarg, 4096, 1ull << 40, &v))
				return 2;
			if (v & (v - 1)) {
				bench_err("--capacity must be a power of two");
				return 2;
			}
			o->capacity = v;
			break;
		case 'w':
			if (strcmp(optarg, "spin") == 0) {
				o->wait = BENCH_WAIT_SPIN;
			} else if (strcmp(optarg, "block") == 0) {
				o->wait = BENCH_WAIT_BLOCK;
			} else {
				bench_err("--wait: '%s' is neither spin nor "
					  "block", optarg);
				return 2;
			}
			break;
		case 'b':
			if (parse_number(name, optarg, 1, 4096, &v))
				return 2;
			o->batch = (uint32_t)v;
			o->batch_given = 1;
			break;
		case 'r':
			o->rtt = 1;
			break;
		case 'j':
			o->json = 1;
			break;
		case 'C': {
			char why[128];

			if (pin_parse(optarg, &o->cpus, why, sizeof(why))) {
				bench_err("--cpus: %s", why);
				return 2;
			}
			break;
		}
		case 'h':
			usage(stdout);
			return -1;
		case 'V':
			printf("%s (libring) %d.%d.%d\n", BENCH_PROG,
			       RING_VERSION_MAJOR, RING_VERSION_MINOR,
			       RING_VERSION_PATCH);
			return -1;
		default:
			fprintf(stderr, "Try '%s --help'.\n", BENCH_PROG);
			return 2;
		}
	}
	if (optind < argc) {
		bench_err("unexpected argument '%s'", argv[optind]);
		return 2;
	}
	if (!o->transport) {
		bench_err("--transport is required (try --help)");
		return 2;
	}
	if (o->rtt && (o->producers != 1 || o->groups != 1)) {
		bench_err("--rtt runs one ping and one pong process: "
			  "--producers and --groups must be 1");
		return 2;
	}
	if (o->members && (o->rtt || have_groups)) {
		bench_err("--members makes the readers one shared group: "
			  "not with --groups or --rtt");
		return 2;
	}
	if (!have_messages)
		o->messages = o->rtt ? 100000 : 1000000;
	return 0;
}

/* Print the result as text, or as one JSON line with --json. */
static void report(const struct bench *b, const struct bench_result *r)
{
	const struct bench_opts *o = &b->o;
	const char *wait = o->wait == BENCH_WAIT_SPIN ? "spin" : "block";

	uint32_t i;

	if (!o->json) {
		char readers[64];

		if (o->members)
			snprintf(readers, sizeof(readers),
				 "1 shared group of %u member(s)", o->members);
		else
			snprintf(readers, sizeof(readers), "%u reader(s)",
				 o->groups);
		printf("%s: %s, %u-byte messages, %u producer(s) -> %s, "
		       "capacity %" PRIu64 ", wait %s, batch %u\n",
		       o->rtt ? "round trip" : "throughput", o->transport,
		       o->size, o->producers, readers, o->capacity, wait,
		       o->batch);
		printf("%" PRIu64 " %s in %.3f s: %.0f per second, %.1f MB/s\n",
		       r->messages, o->rtt ? "round trips" : "messages",
		       r->seconds, r->msgs_per_sec, r->bytes_per_sec / 1e6);
		if (o->rtt)
			printf("round trip ns: p50 %" PRIu64 ", p99 %" PRIu64
			       ", p99.9 %" PRIu64 ", max %" PRIu64 "\n",
			       r->rtt_p50_ns, r->rtt_p99_ns, r->rtt_p999_ns,
			       r->rtt_max_ns);
		if (r->max_gap_ns)
			printf("longest wait between two receptions: %.3f ms\n",
			       r->max_gap_ns / 1e6);
		if (o->members) {
			printf("members received");
			for (i = 0; i < o->members; i++)
				printf("%s%" PRIu64, i ? " + " : " ",
				       r->member_messages[i]);
			printf(" = %" PRIu64 " timed messages: every message "
			       "received exactly once\n", r->messages);
			printf("messages per batch, each member:");
			for (i = 0; i < o->members; i++)
				printf("%s%.1f", i ? ", " : " ",
				       r->member_polls[i] ?
				       (double)r->member_messages[i] /
				       (double)r->member_polls[i] : 0.0);
			printf("\n");
		}
		return;
	}
	printf("{\"transport\":\"%s\",\"mode\":\"%s\",\"size\":%u,"
	       "\"producers\":%u,\"groups\":%u,\"capacity\":%" PRIu64 ","
	       "\"wait\":\"%s\",\"batch\":%u,\"messages\":%" PRIu64 ","
	       "\"seconds\":%.6f,\"msgs_per_sec\":%.1f,\"bytes_per_sec\":%.1f",
	       o->transport, o->rtt ? "rtt" : "throughput", o->size,
	       o->producers, o->groups, o->capacity, wait, o->batch,
	       r->messages, r->seconds, r->msgs_per_sec, r->bytes_per_sec);
	if (o->rtt)
		printf(",\"rtt_p50_ns\":%" PRIu64 ",\"rtt_p99_ns\":%" PRIu64
		       ",\"rtt_p999_ns\":%" PRIu64 ",\"rtt_max_ns\":%" PRIu64,
		       r->rtt_p50_ns, r->rtt_p99_ns, r->rtt_p999_ns,
		       r->rtt_max_ns);
	if (r->max_gap_ns)
		printf(",\"max_gap_ns\":%" PRIu64, r->max_gap_ns);
	if (o->members) {
		printf(",\"members\":%u,\"member_messages\":[", o->members);
		for (i = 0; i < o->members; i++)
			printf("%s%" PRIu64, i ? "," : "",
			       r->member_messages[i]);
		printf("],\"member_batches\":[");
		for (i = 0; i < o->members; i++)
			printf("%s%" PRIu64, i ? "," : "", r->member_polls[i]);
		printf("],\"exactly_once\":true");
	}
	printf("}\n");
}

/* Parse the options, set the transport up, run, report. Exit status: 0,
 * 1 after a runtime error, 2 after a usage error. */
int main(int argc, char **argv)
{
	struct bench b = { 0 };
	struct bench_result res = { 0 };
	const struct transport *t;
	int rc;

	rc = parse_args(argc, argv, &b.o);
	if (rc)
		return rc < 0 ? 0 : rc;
	t = find_transport(b.o.transport);
	if (!t) {
		bench_err("unknown transport '%s' (try --help)", b.o.transport);
		return 2;
	}
	if (b.o.members && !t->consume_member) {
		bench_err("--members: transport '%s' has no shared groups "
			  "(only ring has)", t->name);
		return 2;
	}
	if (!b.o.batch_given && t->default_batch)
		b.o.batch = t->default_batch;
	snprintf(b.tag, sizeof(b.tag), "%s-%d", BENCH_PROG, (int)getpid());
	fflush(stdout);
	if (t->setup(&b)) {
		t->teardown(&b);
		return 1;
	}
	rc = b.o.rtt ? bench_run_rtt(&b, t, &res)
		     : bench_run_throughput(&b, t, &res);
	t->teardown(&b);
	if (rc)
		return 1;
	if (res.seconds <= 0)
		res.seconds = 1e-9;
	res.msgs_per_sec = (double)res.messages / res.seconds;
	res.bytes_per_sec = res.msgs_per_sec * b.o.size;
	report(&b, &res);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * pin.c - CPU placement of benchmark processes and a per-CPU speed probe
 * (pin.h).
 */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "pin.h"

/* Parse one comma-separated list of CPUs into @cpus; 0 or -EINVAL. */
static int parse_list(const char *s, const char *end, const cpu_set_t *allowed,
		      int *cpus, unsigned *n, char *err, unsigned errlen)
{
	*n = 0;
	while (s < end) {
		char *next;
		long v;

		if (*s < '0' || *s > '9') {
			snprintf(err, errlen, "'%.*s' is not a CPU number",
				 (int)(end - s), s);
			return -EINVAL;
		}
		v = strtol(s, &next, 10);
		if (next > end || (next < end && *next != ',')) {
			snprintf(err, errlen, "'%.*s' is not a CPU number",
				 (int)(end - s), s);
			return -EINVAL;
		}
		if (v >= CPU_SETSIZE || !CPU_ISSET((int)v, allowed)) {
			snprintf(err, errlen, "CPU %ld is not one this process "
				 "may run on", v);
			return -EINVAL;
		}
		if (*n == PIN_MAX_CPUS) {
			snprintf(err, errlen, "more than %d CPUs in a list",
				 PIN_MAX_CPUS);
			return -EINVAL;
		}
		cpus[(*n)++] = (int)v;
		s = next < end ? next + 1 : end;
		if (next < end && s == end) {
			snprintf(err, errlen, "a list ends with ','");
			return -EINVAL;
		}
	}
	return 0;
}

int pin_parse(const char *arg, struct pin_plan *plan, char *err,
	      unsigned errlen)
{
	const char *slash = arg, *end;
	cpu_set_t allowed;

	while (*slash && *slash != '/')
		slash++;
	if (!*slash) {
		snprintf(err, errlen, "'%s' is not READERS/PRODUCERS "
			 "(e.g. 0/1)", arg);
		return -EINVAL;
	}
	for (end = slash + 1; *end; end++)
		if (*end == '/') {
			snprintf(err, errlen, "'%s' has more than one '/'", arg);
			return -EINVAL;
		}
	if (sched_getaffinity(0, sizeof(allowed), &allowed)) {
		snprintf(err, errlen, "sched_getaffinity failed");
		return -EINVAL;
	}
	if (parse_list(arg, slash, &allowed, plan->cpu[PIN_READERS],
		       &plan->n[PIN_READERS], err, errlen) ||
	    parse_list(slash + 1, end, &allowed, plan->cpu[PIN_PRODUCERS],
		       &plan->n[PIN_PRODUCERS], err, errlen))
		return -EINVAL;
	return 0;
}

int pin_self(const struct pin_plan *plan, enum pin_side side, unsigned k)
{
	cpu_set_t set;

	if (!plan || plan->n[side] == 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(plan->cpu[side][k % plan->n[side]], &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

/* Nanoseconds per step of @steps steps of a store-to-load chain. */
static double chain_ns(uint64_t steps)
{
	volatile uint64_t x = 0;
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (uint64_t i = 0; i < steps; i++)
		x = x + i;	/* each step waits for the one before */
	clock_gettime(CLOCK_MONOTONIC, &b);
	return ((double)(b.tv_sec - a.tv_sec) * 1e9 +
		(double)(b.tv_nsec - a.tv_nsec)) / (double)steps;
}

double pin_cpu_speed(int cpu)
{
	cpu_set_t old, one;
	double best = 0;

	if (sched_getaffinity(0, sizeof(old), &old))
		return -errno;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one))
		return -errno;
	/* The best of three: an interrupt or a preemption only slows. */
	for (int i = 0; i < 3; i++) {
		double ns = chain_ns(4000000);

		if (i == 0 || ns < best)
			best = ns;
	}
	sched_setaffinity(0, sizeof(old), &old);
	return best;
}

/* SPDX-License-Identifier: MIT */
/*
 * pin.h - which CPU each benchmark process runs on (ring-bench --cpus,
 * ring-ceiling -c), and how fast each CPU is.
 *
 * A virtual machine's CPUs need not be equally fast: a vCPU whose host
 * core is shared with another guest's busy work runs a simple loop at half
 * the speed of its neighbour, for minutes at a time. A benchmark whose
 * producer is held back by its own work then runs at one rate or another
 * depending only on which CPU the scheduler gave the producer. Pinning
 * readers and producers to named CPUs takes that choice away, so that
 * runs compared with each other see the same CPUs.
 */
#ifndef RING_BENCH_PIN_H
#define RING_BENCH_PIN_H

#define PIN_MAX_CPUS 64

enum pin_side { PIN_READERS, PIN_PRODUCERS };

/* CPU lists for the two sides; a side with no CPUs is not pinned. */
struct pin_plan {
	unsigned n[2];
	int cpu[2][PIN_MAX_CPUS];
};

/*
 * pin_parse - parse "READERS/PRODUCERS", two comma-separated lists of CPU
 * numbers (either may be empty: that side is left to the scheduler), e.g.
 * "0/1" or "1/0,1". Every CPU must be one this process may run on. Returns
 * 0, or -EINVAL with a message in @err (@errlen bytes).
 */
int pin_parse(const char *arg, struct pin_plan *plan, char *err,
	      unsigned errlen);

/*
 * pin_self - move the calling process to the CPU of process @k of @side
 * (the list is used round-robin). Does nothing for a side without CPUs.
 * Returns 0 or -errno from sched_setaffinity().
 */
int pin_self(const struct pin_plan *plan, enum pin_side side, unsigned k);

/*
 * pin_cpu_speed - nanoseconds per step of a fixed chain of dependent
 * loads and stores on CPU @cpu (the calling thread is moved there and
 * back). Lower is faster; on equal CPUs the figures are equal. Returns the
 * time, or a negative errno.
 */
double pin_cpu_speed(int cpu);

#endif /* RING_BENCH_PIN_H */

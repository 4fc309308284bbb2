/* SPDX-License-Identifier: MIT */
/*
 * tap.h - a small Test Anything Protocol producer for the test programs.
 *
 *   plan(N);                       or no_plan() and done_testing()
 *   ok(cond, "fmt", ...);          is(got, want, "fmt", ...) for integers
 *   skip(n, "why");                todo_start("why") ... todo_end()
 *   diag("fmt", ...);              to stderr, prefixed with '#'
 *   return exit_status();          non-zero if any test failed or the plan
 *                                  was not met
 *
 * Only the process that called plan() prints TAP: tap_is_parent() tells a
 * forked child apart, and ok()/is() in a child are refused loudly (a child
 * reports through its exit status or a pipe instead).
 */
#ifndef LIBRING_TESTS_TAP_H
#define LIBRING_TESTS_TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

static int tap_planned = -1;
static int tap_run;
static int tap_failed;
static const char *tap_todo;
static pid_t tap_pid;

static inline int tap_is_parent(void)
{
	return tap_pid == 0 || getpid() == tap_pid;
}

static void tap_at_exit(void)
{
	if (!tap_is_parent())
		return;
	if (tap_planned >= 0 && tap_run != tap_planned)
		fprintf(stderr, "# Looks like you planned %d tests but ran %d.\n",
			tap_planned, tap_run);
	if (tap_failed)
		fprintf(stderr, "# Looks like you failed %d test%s of %d.\n",
			tap_failed, tap_failed == 1 ? "" : "s", tap_run);
	fflush(stdout);
}

static inline void tap_init(void)
{
	tap_pid = getpid();
	setvbuf(stdout, NULL, _IOLBF, 0);
	atexit(tap_at_exit);
}

static inline void plan(int n)
{
	tap_init();
	tap_planned = n;
	printf("1..%d\n", n);
}

static inline void no_plan(void)
{
	tap_init();
}

static inline void done_testing(void)
{
	if (tap_planned < 0) {
		tap_planned = tap_run;
		printf("1..%d\n", tap_run);
	}
}

static inline void skip_all(const char *why)
{
	tap_init();
	tap_planned = 0;
	printf("1..0 # SKIP %s\n", why);
	fflush(stdout);
	exit(0);
}

static inline void bail_out(const char *why)
{
	printf("Bail out! %s\n", why);
	fflush(stdout);
	exit(255);
}

static void tap_vreport(int pass, const char *fmt, va_list ap)
{
	if (!tap_is_parent()) {
		fprintf(stderr, "tap.h: a forked child tried to report a test\n");
		_exit(99);
	}
	tap_run++;
	if (!pass && !tap_todo)
		tap_failed++;
	printf("%sok %d - ", pass ? "" : "not ", tap_run);
	vprintf(fmt, ap);
	if (tap_todo)
		printf(" # TODO %s", tap_todo);
	putchar('\n');
}

__attribute__((format(printf, 2, 3))) static inline int ok(int pass,
							    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vreport(pass, fmt, ap);
	va_end(ap);
	return pass;
}

__attribute__((format(printf, 1, 2))) static inline void diag(const char *fmt,
							      ...)
{
	va_list ap;

	fflush(stdout);
	fputs("# ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* is() compares two integers and shows both when they differ. */
#define is(got, want, ...)                                                     \
	({                                                                     \
		long long tap_g_ = (long long)(got), tap_w_ = (long long)(want); \
		int tap_p_ = ok(tap_g_ == tap_w_, __VA_ARGS__);                \
		if (!tap_p_)                                                   \
			diag("  got: %lld, expected: %lld", tap_g_, tap_w_);   \
		tap_p_;                                                        \
	})

/* is_str() compares two strings and shows both when they differ. */
#define is_str(got, want, ...)                                                 \
	({                                                                     \
		const char *tap_gs_ = (got), *tap_ws_ = (want);                \
		int tap_p_ = ok(strcmp(tap_gs_, tap_ws_) == 0, __VA_ARGS__);   \
		if (!tap_p_)                                                   \
			diag("  got: '%s', expected: '%s'", tap_gs_, tap_ws_); \
		tap_p_;                                                        \
	})

static inline void skip(int n, const char *why)
{
	while (n-- > 0) {
		tap_run++;
		printf("ok %d # SKIP %s\n", tap_run, why);
	}
}

static inline void todo_start(const char *why)
{
	tap_todo = why;
}

static inline void todo_end(void)
{
	tap_todo = NULL;
}

static inline int exit_status(void)
{
	fflush(stdout);
	if (tap_planned >= 0 && tap_run != tap_planned)
		return 255;
	return tap_failed > 254 ? 254 : tap_failed;
}

#endif /* LIBRING_TESTS_TAP_H */

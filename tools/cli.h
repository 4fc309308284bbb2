/* SPDX-License-Identifier: MIT */
/*
 * cli.h - what the command-line programs (ringctl, ring-send, ring-recv,
 * ring-ship) share: option parsing from one table, sizes with K/M/G
 * suffixes, ring path resolution, one-line error messages, JSON strings.
 */
#ifndef LIBRING_TOOLS_CLI_H
#define LIBRING_TOOLS_CLI_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdnoreturn.h>
#include <sys/types.h>

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1	 /* runtime error */
#define CLI_EXIT_USAGE 2 /* bad command line */

/* Directory of rings named without a slash. */
#define CLI_RING_DIR "/dev/shm"

/* The largest number of options one program takes (and --version). */
#define CLI_MAX_OPTIONS 32

/* The key of --version, which every parser knows. */
#define CLI_OPT_VERSION 0x7fff

/* One option of a program: long name, short letter (or a code >= 256 for
 * options without one) and whether it takes an argument. */
struct cli_option {
	const char *name;
	int key;
	int has_arg; /* no_argument, required_argument, optional_argument */
};

/* Option parser state built from a table of struct cli_option. */
struct cli_parser {
	int argc;
	char **argv;
	struct option longopts[CLI_MAX_OPTIONS + 2];
	char shortopts[3 * CLI_MAX_OPTIONS + 2];
	const struct cli_option *opts;
};

/* Name used as the prefix of every message (set by cli_init). */
extern const char *cli_prog;

/*
 * cli_init - remember the program's name for messages.
 */
void cli_init(const char *prog);

/*
 * cli_error - print "PROG: MESSAGE" on standard error.
 */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * cli_fail - print "PROG: MESSAGE" and exit with status 1.
 */
noreturn void cli_fail(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/*
 * cli_usage_error - print "PROG: MESSAGE (see PROG --help)" as one line and
 * exit with status 2.
 */
noreturn void cli_usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/*
 * cli_print_version - print "PROG (libring) X.Y.Z" on standard output (and
 * the loaded library's version when it differs from the header's).
 */
void cli_print_version(void);

/*
 * cli_parser_init - prepare to parse @argv with the options of @opts (a
 * table ended by an entry with a NULL name) and --version, which prints
 * the version and exits 0. Options and operands may come in any order;
 * "--" ends the options.
 */
void cli_parser_init(struct cli_parser *p, int argc, char **argv,
		     const struct cli_option *opts);

/*
 * cli_next_option - the key of the next option, its argument in *@arg (NULL
 * if none), or -1 after the last one (the operands then start at
 * cli_operand(p, 0)). An optional argument may be given as "--opt=ARG" or,
 * when the next word is a valid size, as "--opt ARG". An unknown option or
 * a missing argument is a usage error (exits with status 2).
 */
int cli_next_option(struct cli_parser *p, const char **arg);

/*
 * cli_operand_count - number of operands (words that are not options) once
 * cli_next_option() has returned -1.
 */
int cli_operand_count(const struct cli_parser *p);

/*
 * cli_operand - operand @i (0-based), or NULL past the last.
 */
const char *cli_operand(const struct cli_parser *p, int i);

/*
 * cli_parse_size - parse a byte count: decimal digits, optionally followed
 * by K, M or G (powers of 1024, any case, optionally followed by "B" or
 * "iB"). Returns 0 and *@out, or -1 if @s is not such a number or overflows.
 */
int cli_parse_size(const char *s, uint64_t *out);

/*
 * cli_parse_uint - parse a plain decimal number no larger than @max.
 * Returns 0 and *@out, or -1.
 */
int cli_parse_uint(const char *s, uint64_t max, uint64_t *out);

/*
 * cli_size_arg / cli_uint_arg - as cli_parse_size / cli_parse_uint for the
 * argument of option @opt; a bad value is a usage error.
 */
uint64_t cli_size_arg(const char *opt, const char *s, uint64_t max);
uint64_t cli_uint_arg(const char *opt, const char *s, uint64_t max);

/*
 * cli_choice_arg - index of @s in the NULL-ended list @choices; anything
 * else is a usage error naming @opt and the choices.
 */
int cli_choice_arg(const char *opt, const char *s,
		   const char *const *choices);

/*
 * cli_ring_path - the file of the ring @arg: @arg itself if it contains a
 * slash, otherwise CLI_RING_DIR/@arg. Returns a string to free().
 */
char *cli_ring_path(const char *arg);

/*
 * cli_human_size - @bytes as text such as "64 MiB" or "1536 B" in @buf.
 * Returns @buf.
 */
const char *cli_human_size(uint64_t bytes, char *buf, size_t len);

/*
 * cli_printable - @s with every control byte (below 0x20, and 0x7f) written
 * as \xNN and backslashes doubled, into @buf (@len bytes, truncated), so
 * that a name read from a ring file cannot send escapes to a terminal.
 * Returns @buf.
 */
const char *cli_printable(const char *s, char *buf, size_t len);

/* A growing byte buffer (output assembled before one write). */
struct cli_buf {
	char *data;
	size_t len;
	size_t cap;
};

/*
 * cli_buf_put - append @len bytes to @b (exits with status 1 when out of
 * memory).
 */
void cli_buf_put(struct cli_buf *b, const void *data, size_t len);

/*
 * cli_buf_printf - append formatted text to @b.
 */
void cli_buf_printf(struct cli_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * cli_buf_json_string - append @len bytes of @s as a JSON string (with the
 * quotes); bytes that are not valid UTF-8 become U+FFFD.
 */
void cli_buf_json_string(struct cli_buf *b, const void *s, size_t len);

/*
 * cli_buf_base64 - append @len bytes of @s in base64 (RFC 4648).
 */
void cli_buf_base64(struct cli_buf *b, const void *s, size_t len);

/*
 * cli_write_all - write @len bytes to @fd, retrying short writes and EINTR.
 * Returns 0 or -errno.
 */
int cli_write_all(int fd, const void *data, size_t len);

struct iovec;

/*
 * cli_writev_all - write the @count buffers of @iov to @fd in order, with
 * as few writev(2) calls as the kernel allows (at most IOV_MAX buffers
 * each), retrying short writes and EINTR. @iov is not changed. *@written
 * receives the bytes written, also on error (to tell what went out).
 * Returns 0 or -errno.
 */
int cli_writev_all(int fd, const struct iovec *iov, size_t count,
		   size_t *written);

/*
 * cli_utf8_valid - 1 if the @len bytes at @s are valid UTF-8, else 0.
 */
int cli_utf8_valid(const void *s, size_t len);

struct ring;
struct ring_reader;
struct timespec;

/*
 * cli_live_member_pids - the pids of the live members of shared group
 * @name as "1, 2, 3" in @buf (@len bytes, cut short if need be). Returns
 * how many are alive, or a negative errno (-EMEDIUMTYPE: the group is not
 * shared).
 */
int cli_live_member_pids(struct ring *r, const char *name, char *buf,
			 size_t len);

/*
 * cli_ring_operand - the one operand RING of a program once
 * cli_next_option() has returned -1; none or more than one is a usage
 * error (exits with status 2).
 */
const char *cli_ring_operand(const struct cli_parser *p);

/*
 * cli_check_group - a usage error (exits with status 2) unless @group,
 * the argument of --group, was given and is a valid group name.
 */
void cli_check_group(const char *group);

/*
 * cli_deadline_after_ms - the CLOCK_MONOTONIC time @ms milliseconds from
 * now in *@ts. Returns @ts, or NULL (no deadline) when @ms is negative.
 */
const struct timespec *cli_deadline_after_ms(int64_t ms, struct timespec *ts);

/*
 * cli_config_problem - which parameter of @cfg ring_create() refused with
 * -EINVAL, in words for the user.
 */
struct ring_config;
const char *cli_config_problem(const struct ring_config *cfg);

/*
 * cli_ring_owner - the owner RING_OWNER (USER or UID) names: 1 and *@uid,
 * 0 when it is not set, -EINVAL for an unknown user.
 */
int cli_ring_owner(uid_t *uid);

/* cli_owner_is - 0 if the file at @path belongs to @uid, else -EPERM. */
int cli_owner_is(const char *path, uid_t uid);

/*
 * cli_ring_open - ring_open(@path, @flags) for the programs. A ring owned by
 * another user is refused as by the library, unless the environment names
 * its owner: RING_OWNER=USER or UID accepts a ring owned by exactly that
 * user (RING_OPEN_FOREIGN, then the owner is checked). Returns as
 * ring_open(); -EPERM if the ring's owner is not the one named.
 */
int cli_ring_open(const char *path, unsigned flags, struct ring **r);

/*
 * cli_group_names_text - the names of @r's groups as "a, b, c" (control
 * bytes escaped), or "none", in @buf. Returns @buf.
 */
const char *cli_group_names_text(struct ring *r, char *buf, size_t len);

/*
 * cli_open_failed - print what ring_open()'s error @rc for @path means
 * ("ring file not found" for -ENOENT) and exit with status 1.
 */
noreturn void cli_open_failed(const char *path, int rc);

/*
 * cli_open_reader - open the ring @ring (a name or path, as for
 * cli_ring_path) into *@r and become the reader of group @group, opened
 * with @flags (RING_GROUP_*). Returns the reader; a failure prints one line
 * naming the ring (and the group) and exits with status 1: a missing group
 * (without RING_GROUP_CREATE) as "no group 'NAME' in PATH (groups: ...)",
 * a group read by another process with that process's pid.
 */
struct ring_reader *cli_open_reader(const char *ring, const char *group,
				    unsigned flags, struct ring **r);

/*
 * cli_catch_signal - run @handler on signal @sig, without SA_RESTART (so
 * that a blocking wait ends with -EINTR and the program looks at its flags
 * at once).
 */
void cli_catch_signal(int sig, void (*handler)(int));

#endif /* LIBRING_TOOLS_CLI_H */

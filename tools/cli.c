// SPDX-License-Identifier: MIT
/*
 * cli.c - helpers shared by the command-line programs: option parsing from
 * a table, numbers and sizes, ring paths, messages, JSON and base64 output.
 */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "ring.h"

const char *cli_prog = "ring";

/* Remember the program's name for messages. */
void cli_init(const char *prog)
{
	cli_prog = prog;
}

/* Print "PROG: MESSAGE" and a newline on standard error. */
static void cli_vmessage(const char *suffix, const char *fmt, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(stderr, "%s: %s%s\n", cli_prog, line, suffix);
}

/* Print an error line on standard error. */
void cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vmessage("", fmt, ap);
	va_end(ap);
}

/* Print an error line and exit with status 1. */
void cli_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vmessage("", fmt, ap);
	va_end(ap);
	exit(CLI_EXIT_FAIL);
}

/* Print a one-line usage error and exit with status 2. */
void cli_usage_error(const char *fmt, ...)
{
	char suffix[128];
	va_list ap;

	snprintf(suffix, sizeof(suffix), " (see %s --help)", cli_prog);
	va_start(ap, fmt);
	cli_vmessage(suffix, fmt, ap);
	va_end(ap);
	exit(CLI_EXIT_USAGE);
}

/* Print "PROG (libring) X.Y.Z" and the library's version if it differs. */
void cli_print_version(void)
{
	int lib = ring_version();

	printf("%s (libring) %d.%d.%d\n", cli_prog, RING_VERSION_MAJOR,
	       RING_VERSION_MINOR, RING_VERSION_PATCH);
	if (lib != RING_VERSION_NUMBER)
		printf("library libring %d.%d.%d\n", lib / 10000,
		       lib / 100 % 100, lib % 100);
}

/* Build getopt_long's tables from @opts, and --version. */
void cli_parser_init(struct cli_parser *p, int argc, char **argv,
		     const struct cli_option *opts)
{
	char *s;
	int i;

	memset(p, 0, sizeof(*p));
	p->argc = argc;
	p->argv = argv;
	p->opts = opts;
	s = p->shortopts;
	*s++ = ':'; /* report a missing argument as ':' */
	for (i = 0; opts[i].name && i < CLI_MAX_OPTIONS; i++) {
		p->longopts[i].name = opts[i].name;
		p->longopts[i].has_arg = opts[i].has_arg;
		p->longopts[i].val = opts[i].key;
		if (opts[i].key > 0 && opts[i].key < 256) {
			*s++ = (char)opts[i].key;
			if (opts[i].has_arg != no_argument)
				*s++ = ':';
			if (opts[i].has_arg == optional_argument)
				*s++ = ':';
		}
	}
	p->longopts[i].name = "version";
	p->longopts[i].has_arg = no_argument;
	p->longopts[i].val = CLI_OPT_VERSION;
	*s = '\0';
	optind = 1;
	opterr = 0;
}

/* The option table entry of @key, or NULL. */
static const struct cli_option *cli_find(const struct cli_parser *p, int key)
{
	int i;

	for (i = 0; p->opts[i].name; i++)
		if (p->opts[i].key == key)
			return &p->opts[i];
	return NULL;
}

/* Next option's key and argument, -1 at the end; usage errors exit. */
int cli_next_option(struct cli_parser *p, const char **arg)
{
	const struct cli_option *o;
	uint64_t ignored;
	int key;

	key = getopt_long(p->argc, p->argv, p->shortopts, p->longopts, NULL);
	*arg = optarg;
	if (key == -1)
		return -1;
	if (key == '?') {
		if (optopt > 0 && optopt < 256 && !cli_find(p, optopt))
			cli_usage_error("unknown option '-%c'", optopt);
		cli_usage_error("unknown option '%s'", p->argv[optind - 1]);
	}
	if (key == ':')
		cli_usage_error("option '%s' needs an argument",
				p->argv[optind - 1]);
	if (key == CLI_OPT_VERSION) {
		cli_print_version();
		exit(CLI_EXIT_OK);
	}
	o = cli_find(p, key);
	if (o && o->has_arg == optional_argument && !optarg &&
	    optind < p->argc && cli_parse_size(p->argv[optind], &ignored) == 0)
		*arg = p->argv[optind++]; /* as getopt does for "-o ARG" */
	return key;
}

/* Operands left after the options (getopt moved them to the end). */
int cli_operand_count(const struct cli_parser *p)
{
	return p->argc - optind;
}

/* Operand @i, or NULL. */
const char *cli_operand(const struct cli_parser *p, int i)
{
	if (i < 0 || optind + i >= p->argc)
		return NULL;
	return p->argv[optind + i];
}

/* Parse digits with an optional K/M/G suffix. */
int cli_parse_size(const char *s, uint64_t *out)
{
	unsigned shift = 0;
	uint64_t v;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (toupper((unsigned char)*end)) {
	case 'K':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	case 'T':
		shift = 40;
		break;
	case '\0':
		break;
	default:
		return -1;
	}
	if (shift) {
		end++;
		if (strcmp(end, "") && strcasecmp(end, "B") &&
		    strcasecmp(end, "iB"))
			return -1;
	}
	if (v > (UINT64_MAX >> shift))
		return -1;
	*out = v << shift;
	return 0;
}

/* Parse a plain decimal number up to @max. */
int cli_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

/* A size given to option @opt, or a usage error. */
uint64_t cli_size_arg(const char *opt, const char *s, uint64_t max)
{
	uint64_t v;

	char m[32];

	if (cli_parse_size(s, &v) || v > max)
		cli_usage_error("%s: '%s' is not a size up to %s (digits, "
				"optionally followed by K, M, G or T)", opt, s,
				cli_human_size(max, m, sizeof(m)));
	return v;
}

const char *cli_config_problem(const struct ring_config *cfg)
{
	static char why[160];
	uint64_t c = cfg->capacity;

	if (c < 4096 || (c & (c - 1)) || c > (1ull << 40))
		return "the capacity must be a power of two from 4 KiB to 1 TiB";
	if (cfg->slot_size < 8 || cfg->slot_size > 4096 ||
	    (cfg->slot_size & (cfg->slot_size - 1)))
		return "the slot size must be a power of two from 8 to 4096";
	if (cfg->groups < 1 || cfg->groups > 1024)
		return "the number of groups must be from 1 to 1024";
	if (cfg->processes < 1 || cfg->processes > 65536)
		return "the number of processes must be from 1 to 65536";
	if (cfg->max_message && cfg->max_message + 32ull > c) {
		snprintf(why, sizeof(why),
			 "the largest message must be below the capacity (%"
			 PRIu64 " bytes)", c);
		return why;
	}
	return "the ring's parameters do not fit together";
}

/* A number given to option @opt, or a usage error. */
uint64_t cli_uint_arg(const char *opt, const char *s, uint64_t max)
{
	uint64_t v;

	if (cli_parse_uint(s, max, &v))
		cli_usage_error("%s: '%s' is not a number from 0 to %" PRIu64,
				opt, s, max);
	return v;
}

/* Index of @s among @choices, or a usage error listing them. */
int cli_choice_arg(const char *opt, const char *s,
		   const char *const *choices)
{
	char list[256] = "";
	int i;

	for (i = 0; choices[i]; i++) {
		if (!strcmp(s, choices[i]))
			return i;
		if (i)
			strncat(list, "|", sizeof(list) - strlen(list) - 1);
		strncat(list, choices[i], sizeof(list) - strlen(list) - 1);
	}
	cli_usage_error("%s: '%s' is not one of %s", opt, s, list);
}

/* Resolve a ring name without a slash to CLI_RING_DIR/NAME. */
char *cli_ring_path(const char *arg)
{
	char *path;

	if (strchr(arg, '/'))
		path = strdup(arg);
	else if (asprintf(&path, "%s/%s", CLI_RING_DIR, arg) < 0)
		path = NULL;
	if (!path)
		cli_fail("out of memory");
	return path;
}

/* Bytes as "N B", "N KiB", ... with one decimal where it is not exact. */
const char *cli_human_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned u = 0;
	double v = (double)bytes;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0 || v == (double)(uint64_t)v)
		snprintf(buf, len, "%.0f %s", v, units[u]);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
	return buf;
}

/* Append bytes to a growing buffer. */
void cli_buf_put(struct cli_buf *b, const void *data, size_t len)
{
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *n;

		while (cap < b->len + len)
			cap *= 2;
		n = realloc(b->data, cap);
		if (!n)
			cli_fail("out of memory");
		b->data = n;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
}

/* Append formatted text to a growing buffer. */
void cli_buf_printf(struct cli_buf *b, const char *fmt, ...)
{
	char small[256], *big = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		cli_buf_put(b, small, (size_t)n);
		return;
	}
	va_start(ap, fmt);
	n = vasprintf(&big, fmt, ap);
	va_end(ap);
	if (n < 0)
		cli_fail("out of memory");
	cli_buf_put(b, big, (size_t)n);
	free(big);
}

/* Length of the valid UTF-8 sequence at @s (at most @len bytes), or 0. */
static size_t utf8_sequence(const unsigned char *s, size_t len)
{
	uint32_t cp;
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n > len)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* 1 if the bytes are valid UTF-8. */
int cli_utf8_valid(const void *s, size_t len)
{
	const unsigned char *p = s;
	size_t i = 0, n;

	while (i < len) {
		n = utf8_sequence(p + i, len - i);
		if (!n)
			return 0;
		i += n;
	}
	return 1;
}

/* Append a JSON string; invalid UTF-8 bytes become U+FFFD. */
void cli_buf_json_string(struct cli_buf *b, const void *s, size_t len)
{
	const unsigned char *p = s;
	size_t i = 0, n;
	char esc[8];

	cli_buf_put(b, "\"", 1);
	while (i < len) {
		unsigned char c = p[i];

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			cli_buf_put(b, esc, 2);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			cli_buf_put(b, esc, 6);
			i++;
		} else {
			n = utf8_sequence(p + i, len - i);
			if (n) {
				cli_buf_put(b, p + i, n);
				i += n;
			} else {
				cli_buf_put(b, "\\ufffd", 6);
				i++;
			}
		}
	}
	cli_buf_put(b, "\"", 1);
}

/* Append base64 of the bytes. */
void cli_buf_base64(struct cli_buf *b, const void *s, size_t len)
{
	static const char digits[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = s;
	char out[4];
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		out[0] = digits[p[i] >> 2];
		out[1] = digits[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		out[2] = digits[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
		out[3] = digits[p[i + 2] & 63];
		cli_buf_put(b, out, 4);
	}
	if (len - i == 1) {
		out[0] = digits[p[i] >> 2];
		out[1] = digits[(p[i] & 3) << 4];
		out[2] = out[3] = '=';
		cli_buf_put(b, out, 4);
	} else if (len - i == 2) {
		out[0] = digits[p[i] >> 2];
		out[1] = digits[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		out[2] = digits[(p[i + 1] & 15) << 2];
		out[3] = '=';
		cli_buf_put(b, out, 4);
	}
}

/* Write everything, retrying short writes and EINTR. */
int cli_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Write the buffers of @iov in order (see cli.h). */
int cli_writev_all(int fd, const struct iovec *iov, size_t count,
		   size_t *written)
{
	struct iovec head;	/* what is left of a partly written buffer */
	size_t first = 0;	/* next buffer not written in full */
	size_t skip = 0;	/* bytes of iov[first] already written */
	ssize_t n;

	*written = 0;
	while (first < count) {
		if (!iov[first].iov_len) {
			first++;
			continue;
		}
		if (skip) {
			/* Finish the partly written buffer on its own. */
			head.iov_base = (char *)iov[first].iov_base + skip;
			head.iov_len = iov[first].iov_len - skip;
			n = writev(fd, &head, 1);
		} else {
			n = writev(fd, iov + first,
				   (int)(count - first < IOV_MAX ?
						 count - first : IOV_MAX));
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		*written += (size_t)n;
		n += (ssize_t)skip;
		skip = 0;
		while (first < count && (size_t)n >= iov[first].iov_len) {
			n -= (ssize_t)iov[first].iov_len;
			first++;
		}
		skip = (size_t)n;
	}
	return 0;
}

/* The single operand RING; none or more than one is a usage error. */
const char *cli_ring_operand(const struct cli_parser *p)
{
	if (cli_operand_count(p) < 1)
		cli_usage_error("missing RING");
	if (cli_operand_count(p) > 1)
		cli_usage_error("unexpected argument '%s'", cli_operand(p, 1));
	return cli_operand(p, 0);
}

/* A usage error unless --group was given with a valid name. */
void cli_check_group(const char *group)
{
	if (!group)
		cli_usage_error("missing --group NAME");
	if (!*group || strlen(group) > RING_GROUP_NAME_MAX)
		cli_usage_error("--group: a name of 1 to %d bytes",
				RING_GROUP_NAME_MAX);
}

/* Now plus @ms milliseconds on CLOCK_MONOTONIC in *@ts; NULL if @ms < 0. */
const struct timespec *cli_deadline_after_ms(int64_t ms, struct timespec *ts)
{
	if (ms < 0)
		return NULL;
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
	return ts;
}

int cli_ring_owner(uid_t *uid)
{
	const char *owner = getenv("RING_OWNER");
	struct passwd *pw;
	char *end;

	if (!owner || !*owner)
		return 0;
	*uid = (uid_t)strtoul(owner, &end, 10);
	if (*end) {
		pw = getpwnam(owner);
		if (!pw)
			return -EINVAL;
		*uid = pw->pw_uid;
	}
	return 1;
}

int cli_owner_is(const char *path, uid_t uid)
{
	struct stat st;

	/* The name was opened without following links; look at it again. */
	if (stat(path, &st) < 0 || st.st_uid != uid)
		return -EPERM;
	return 0;
}

int cli_ring_open(const char *path, unsigned flags, struct ring **r)
{
	uid_t uid;
	int rc = cli_ring_owner(&uid);

	if (rc <= 0)
		return rc < 0 ? rc : ring_open(path, flags, r);
	rc = ring_open(path, flags | RING_OPEN_FOREIGN, r);
	if (rc < 0)
		return rc;
	rc = cli_owner_is(path, uid);
	if (rc < 0) {
		ring_close(*r);
		*r = NULL;
	}
	return rc;
}

/* What a failed ring_open() of @path means, in one line; exits 1. */
void cli_open_failed(const char *path, int rc)
{
	if (rc == -ENOENT)
		cli_fail("%s: ring file not found", path);
	cli_fail("%s: %s", path, ring_strerror(rc));
}

/* The ring's group names as "a, b, c" in @buf ("none" without any). */
const char *cli_group_names_text(struct ring *r, char *buf, size_t len)
{
	char (*names)[RING_GROUP_NAME_MAX + 1] = NULL;
	char esc[4 * RING_GROUP_NAME_MAX + 1];
	int n, max = 0, i;
	size_t o = 0;

	for (;;) {
		n = ring_group_list(r, names, (unsigned)max);
		if (n <= max)
			break;
		max = n;
		free(names);
		names = calloc((size_t)max, sizeof(*names));
		if (!names)
			cli_fail("out of memory");
	}
	snprintf(buf, len, "%s", n > 0 ? "" : "none");
	for (i = 0; i < n && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "",
				      cli_printable(names[i], esc, sizeof(esc)));
	free(names);
	return buf;
}

/* Open ring @ring and the reader of @group; exits with status 1 on error. */
struct ring_reader *cli_open_reader(const char *ring, const char *group,
				    unsigned flags, struct ring **r)
{
	char esc[4 * RING_GROUP_NAME_MAX + 1], list[1024];
	struct ring_group_stats gs;
	struct ring_reader *rd;
	char *path = cli_ring_path(ring);
	int rc;

	rc = cli_ring_open(path, 0, r);
	if (rc < 0)
		cli_open_failed(path, rc);
	rc = ring_reader_open(*r, group, flags, &rd);
	cli_printable(group, esc, sizeof(esc));
	if (rc == -ENOENT)
		cli_fail("no group '%s' in %s (groups: %s); create it with "
			 "--create or ringctl group %s add %s", esc, path,
			 cli_group_names_text(*r, list, sizeof(list)), ring, esc);
	if (rc == -EBUSY && ring_group_stats(*r, group, &gs) == 0 &&
	    gs.reader_pid)
		cli_fail("%s: group '%s' is being read by pid %d", path, esc,
			 (int)gs.reader_pid);
	if (rc < 0)
		cli_fail("%s: group '%s': %s", path, esc, ring_strerror(rc));
	free(path);
	return rd;
}

/* Install @handler for @sig without SA_RESTART. */
void cli_catch_signal(int sig, void (*handler)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = handler;
	sigaction(sig, &sa, NULL);
}

const char *cli_printable(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	if (!len)
		return buf;
	for (; *s && o + 5 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
		else if (c == '\\')
			o += (size_t)snprintf(buf + o, len - o, "\\\\");
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}

int cli_live_member_pids(struct ring *r, const char *name, char *buf,
			 size_t len)
{
	struct ring_member_info m[RING_MEMBERS_MAX];
	int n = ring_group_members(r, name, m, RING_MEMBERS_MAX, NULL);
	int i, alive = 0;
	size_t o = 0;

	buf[0] = '\0';
	for (i = 0; i < n && i < RING_MEMBERS_MAX; i++) {
		if (!m[i].alive)
			continue;
		if (o < len)
			o += (size_t)snprintf(buf + o, len - o, "%s%d",
					      alive ? ", " : "", (int)m[i].pid);
		alive++;
	}
	return n < 0 ? n : alive;
}

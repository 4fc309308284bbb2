// SPDX-License-Identifier: MIT
/*
 * ship_nats_ack.c - JetStream's answer to a published message: a walk over
 * the top-level JSON object that takes "seq", "duplicate" and "error"
 * ("code", "err_code", "description") and skips every other value,
 * nested or not. Anything else (truncated, not an object, a missing
 * "seq") is NATS_ACK_GARBLED. Every read is checked against the end.
 */
#include <string.h>

#include "ship_nats_ack.h"

struct cursor {
	const char *p;
	const char *end;
};

static void skip_ws(struct cursor *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' ||
				 *c->p == '\r' || *c->p == '\n'))
		c->p++;
}

/* Take @ch (after blanks). Returns 1 if it was there. */
static int take(struct cursor *c, char ch)
{
	skip_ws(c);
	if (c->p < c->end && *c->p == ch) {
		c->p++;
		return 1;
	}
	return 0;
}

/*
 * A string at the cursor into @buf (cut to @len - 1 bytes, NUL-ended;
 * \n, \t and \r as a blank, \uXXXX as '?', any other escape as the
 * escaped byte). Returns 0, or -1 if there is no complete string.
 */
static int read_string(struct cursor *c, char *buf, size_t len)
{
	size_t n = 0;
	char ch;

	if (!take(c, '"'))
		return -1;
	while (c->p < c->end) {
		ch = *c->p++;
		if (ch == '"') {
			buf[n] = '\0';
			return 0;
		}
		if (ch == '\\') {
			if (c->p == c->end)
				return -1;
			ch = *c->p++;
			if (ch == 'u') {
				if (c->end - c->p < 4)
					return -1;
				c->p += 4;
				ch = '?';
			} else if (ch == 'n' || ch == 't' || ch == 'r') {
				ch = ' ';
			}
		}
		if (n + 1 < len)
			buf[n++] = ch;
	}
	return -1;
}

/* An unsigned decimal at the cursor (UINT64_MAX if larger). Returns 0,
 * or -1 if none. */
static int read_uint(struct cursor *c, uint64_t *v)
{
	uint64_t x = 0, d;
	const char *start;

	skip_ws(c);
	start = c->p;
	while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
		d = (uint64_t)(*c->p - '0');
		x = x > (UINT64_MAX - d) / 10 ? UINT64_MAX : x * 10 + d;
		c->p++;
	}
	*v = x;
	return c->p > start ? 0 : -1;
}

/* Skip one value of any kind. Returns 0, or -1 if it is not complete. */
static int skip_value(struct cursor *c)
{
	char scratch[2];
	int depth = 0;

	skip_ws(c);
	if (c->p == c->end)
		return -1;
	if (*c->p == '"')
		return read_string(c, scratch, sizeof(scratch));
	if (*c->p != '{' && *c->p != '[') {
		/* A number or a literal: up to the next separator. */
		while (c->p < c->end && *c->p != ',' && *c->p != '}' &&
		       *c->p != ']')
			c->p++;
		return 0;
	}
	while (c->p < c->end) {
		if (*c->p == '"') {
			if (read_string(c, scratch, sizeof(scratch)) < 0)
				return -1;
			continue;
		}
		if (*c->p == '{' || *c->p == '[')
			depth++;
		else if (*c->p == '}' || *c->p == ']')
			depth--;
		c->p++;
		if (!depth)
			return 0;
	}
	return -1;
}

/* 1 if the literal true is at the cursor (taken), else 0 (skipped). */
static int read_bool(struct cursor *c)
{
	skip_ws(c);
	if (c->end - c->p >= 4 && !memcmp(c->p, "true", 4)) {
		c->p += 4;
		return 1;
	}
	skip_value(c);
	return 0;
}

/* The "error" object at the cursor into @a. Returns 0 or -1. */
static int read_error(struct cursor *c, struct nats_ack *a)
{
	char key[32];
	uint64_t v;

	if (!take(c, '{'))
		return -1;
	if (take(c, '}'))
		return 0;
	do {
		if (read_string(c, key, sizeof(key)) < 0 || !take(c, ':'))
			return -1;
		if (!strcmp(key, "code")) {
			if (read_uint(c, &v) < 0)
				return -1;
			a->code = v > 65535 ? 65535 : (unsigned)v;
		} else if (!strcmp(key, "err_code")) {
			if (read_uint(c, &v) < 0)
				return -1;
			a->err_code = v > 65535 ? 65535 : (unsigned)v;
		} else if (!strcmp(key, "description")) {
			if (read_string(c, a->text, sizeof(a->text)) < 0)
				return -1;
		} else if (skip_value(c) < 0) {
			return -1;
		}
	} while (take(c, ','));
	return take(c, '}') ? 0 : -1;
}

enum nats_ack_kind nats_ack_parse(const char *data, size_t len,
				  struct nats_ack *a)
{
	struct cursor c = { data, data + len };
	int has_seq = 0, has_error = 0;
	char key[32];

	memset(a, 0, sizeof(*a));
	a->kind = NATS_ACK_GARBLED;
	if (!data || !take(&c, '{'))
		return a->kind;
	if (!take(&c, '}')) {
		do {
			if (read_string(&c, key, sizeof(key)) < 0 ||
			    !take(&c, ':'))
				return a->kind;
			if (!strcmp(key, "seq")) {
				if (read_uint(&c, &a->seq) < 0)
					return a->kind;
				has_seq = 1;
			} else if (!strcmp(key, "duplicate")) {
				a->duplicate = read_bool(&c);
			} else if (!strcmp(key, "error")) {
				if (read_error(&c, a) < 0)
					return a->kind;
				has_error = 1;
			} else if (skip_value(&c) < 0) {
				return a->kind;
			}
		} while (take(&c, ','));
		if (!take(&c, '}'))
			return a->kind;
	}
	if (has_error)
		a->kind = NATS_ACK_ERROR;
	else if (has_seq)
		a->kind = NATS_ACK_STORED;
	return a->kind;
}

int nats_ack_transient(const struct nats_ack *a)
{
	if (a->err_code == NATS_ACK_NOT_AVAILABLE ||
	    a->err_code == NATS_ACK_NO_RESOURCES)
		return 1;
	if (a->err_code)
		return 0;
	return a->code == 0 || a->code >= 500;
}

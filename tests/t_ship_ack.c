// SPDX-License-Identifier: MIT
/*
 * t_ship_ack.c - the reader of JetStream's answer to a published message
 * (consumers/ship_nats_ack.c), on its own: plain and duplicate acks, acks
 * with keys it must skip (nested objects and arrays, strings with escapes,
 * a stream named "seq"), blanks between tokens, error answers (code,
 * err_code, the description unescaped and cut to fit without overflow),
 * and everything it must call GARBLED: {}, not an object, empty or NULL
 * input, every proper prefix of an ack and of an error answer. Every input
 * is passed in a malloc'ed buffer of exactly its length with no NUL after
 * it, so that ASan sees any read past the end. Then nats_ack_transient():
 * which refusals are worth publishing again.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "../consumers/ship_nats_ack.h"

/* @len bytes of @s, copied to a buffer of exactly that size, parsed. */
static enum nats_ack_kind parse_n(const char *s, size_t len,
				  struct nats_ack *a)
{
	enum nats_ack_kind k;
	char *buf = malloc(len ? len : 1);

	if (!buf)
		bail_out("malloc");
	memcpy(buf, s, len);
	k = nats_ack_parse(buf, len, a);
	free(buf);
	return k;
}

static enum nats_ack_kind parse(const char *s, struct nats_ack *a)
{
	return parse_n(s, strlen(s), a);
}

/* Every proper prefix of @s (a valid answer of kind @want) is GARBLED. */
static void prefixes(const char *what, const char *s, enum nats_ack_kind want)
{
	size_t len = strlen(s), n, bad = 0, first = 0;
	struct nats_ack a;

	is(parse(s, &a), want, "%s: the whole answer reads as kind %d", what,
	   want);
	for (n = 0; n < len; n++) {
		if (parse_n(s, n, &a) != NATS_ACK_GARBLED) {
			if (!bad++)
				first = n;
		}
	}
	if (!ok(!bad, "%s: each of its %zu proper prefixes is GARBLED", what,
		len))
		diag("  %zu were not, the first of %zu bytes: '%.*s'", bad,
		     first, (int)first, s);
}

static void stored(void)
{
	struct nats_ack a;

	is(parse("{\"stream\":\"S\",\"seq\":42}", &a), NATS_ACK_STORED,
	   "plain ack: STORED");
	is(a.seq, 42, "plain ack: seq 42");
	is(a.duplicate, 0, "plain ack: not a duplicate");

	is(parse("{\"stream\":\"S\",\"seq\":7,\"duplicate\":true}", &a),
	   NATS_ACK_STORED, "duplicate:true: STORED");
	is(a.seq, 7, "duplicate:true: seq 7");
	is(a.duplicate, 1, "duplicate:true: a duplicate");

	is(parse("{\"stream\":\"S\",\"duplicate\":false,\"seq\":8}", &a),
	   NATS_ACK_STORED, "duplicate:false: STORED");
	is(a.seq, 8, "duplicate:false: seq 8");
	is(a.duplicate, 0, "duplicate:false: not a duplicate");

	/* Keys to skip around the ones read, some nested look-alikes. */
	is(parse("{\"stream\":\"ORDERS\",\"domain\":\"hub\","
		 "\"meta\":{\"seq\":99,\"duplicate\":true,"
		 "\"a\":[1,{\"b\":\"}]\"},[2,[3]]],\"s\":\"]\"},"
		 "\"list\":[1,[2,3],{\"x\":\"y\"},\"{\",null,false],"
		 "\"seq\":1234,"
		 "\"tail\":{\"error\":{\"code\":503,\"err_code\":10008}},"
		 "\"n\":-1.5e3,\"t\":true,\"z\":null,"
		 "\"duplicate\":true,\"after\":{\"seq\":5}}", &a),
	   NATS_ACK_STORED, "extra keys, nested objects and arrays: STORED");
	is(a.seq, 1234, "extra keys: the top-level seq, not a nested one");
	is(a.duplicate, 1, "extra keys: duplicate read past them");
	is(a.code, 0, "extra keys: a nested \"error\" is not read");

	is(parse("{\"stream\":\"seq\",\"seq\":3}", &a), NATS_ACK_STORED,
	   "stream named \"seq\": STORED");
	is(a.seq, 3, "stream named \"seq\": seq 3");

	is(parse("{\"stream\":\"a\\\",\\\"seq\\\":9,\\\\\",\"seq\":11}", &a),
	   NATS_ACK_STORED, "stream name with \\\" escapes: STORED");
	is(a.seq, 11, "stream name with \\\" escapes: seq 11, not 9");

	is(parse(" \t\r\n{ \"stream\" : \"S\" ,\n\t\"seq\"\t:\r\n 77 ,"
		 " \"domain\" :\n\"d\" , \"x\" : [ 1 , { } ] , "
		 "\"duplicate\" :  true\n}\n ", &a),
	   NATS_ACK_STORED, "blanks between every token: STORED");
	is(a.seq, 77, "blanks between every token: seq 77");
	is(a.duplicate, 1, "blanks between every token: duplicate");

	is(parse("{\"seq\":18446744073709551615}", &a), NATS_ACK_STORED,
	   "seq 2^64-1: STORED");
	ok(a.seq == UINT64_MAX, "seq 2^64-1: read exactly");
	is(parse("{\"seq\":184467440737095516160}", &a), NATS_ACK_STORED,
	   "seq past 2^64: STORED");
	ok(a.seq == UINT64_MAX, "seq past 2^64: held at 2^64-1, not wrapped");
	is(parse("{\"error\":{\"code\":18446744073709551616,"
		 "\"description\":\"x\"}}", &a), NATS_ACK_ERROR,
	   "code 2^64: ERROR");
	is(a.code, 65535, "code 2^64: held at 65535, not wrapped to 0");
	is(nats_ack_transient(&a), 1, "code 2^64 (>= 500): transient");
}

static void errors(void)
{
	static const char want_long[] =
		"0123456789012345678901234567890123456789"
		"0123456789012345678901234567890123456789"
		"0123456789012345678901234567890123456789"
		"012345678901234567890123456789012345678";
	struct {
		struct nats_ack a;
		unsigned char canary[32];
	} g;
	char msg[512];
	struct nats_ack a, *h;
	size_t i;

	is(parse("{\"error\":{\"code\":503,\"err_code\":10077,"
		 "\"description\":\"no space\"}}", &a),
	   NATS_ACK_ERROR, "error answer: ERROR");
	is(a.code, 503, "error answer: code 503");
	is(a.err_code, 10077, "error answer: err_code 10077");
	is_str(a.text, "no space", "error answer: the description");

	is(parse("{ \"error\" : { \"description\" : \"d\" , \"err_code\" :"
		 " 10054 , \"x\" : [ {\"code\":1} ] , \"code\" : 400 } ,"
		 " \"stream\" : \"S\" }", &a),
	   NATS_ACK_ERROR, "error, keys in another order, blanks: ERROR");
	ok(a.code == 400 && a.err_code == 10054 && !strcmp(a.text, "d"),
	   "error, keys in another order: code 400, err_code 10054, \"d\"");

	is(parse("{\"error\":{\"code\":503,\"description\":"
		 "\"a\\\"b\\\\c\\nd\\u00e9e\\/f\"}}", &a),
	   NATS_ACK_ERROR, "description with escapes: ERROR");
	is_str(a.text, "a\"b\\c d?e/f",
	       "description with escapes: \\\" \\\\ \\n \\u00e9 \\/ unescaped");

	is(parse("{\"error\":{\"code\":503,\"description\":\"x\"}}", &a),
	   NATS_ACK_ERROR, "error without err_code: ERROR");
	ok(a.code == 503 && a.err_code == 0,
	   "error without err_code: code 503, err_code 0");

	/* 159 bytes fit in text[160]; a 200-byte description is cut there. */
	snprintf(msg, sizeof(msg), "{\"error\":{\"code\":503,\"description\":"
		 "\"%s\"}}", want_long);
	parse(msg, &a);
	is_str(a.text, want_long, "159-byte description: whole");
	snprintf(msg, sizeof(msg), "{\"error\":{\"code\":503,\"description\":"
		 "\"%s", want_long);
	for (i = 0; i < 41; i++)
		strcat(msg, "X");
	strcat(msg, "\",\"err_code\":10023}}");
	memset(&g, 0xa5, sizeof(g));
	is(parse(msg, &g.a), NATS_ACK_ERROR, "200-byte description: ERROR");
	ok(!memcmp(g.a.text, want_long, sizeof(want_long)),
	   "200-byte description: cut to 159 bytes and a NUL");
	is(g.a.err_code, 10023, "200-byte description: err_code after it");
	for (i = 0; i < sizeof(g.canary) && g.canary[i] == 0xa5; i++)
		;
	is(i, sizeof(g.canary), "200-byte description: nothing past text[]");
	h = malloc(sizeof(*h));
	if (!h)
		bail_out("malloc");
	snprintf(msg, sizeof(msg), "{\"error\":{\"description\":\"%s%s%s\"}}",
		 want_long, "\\u00e9\\\"\\\\", want_long);
	is(parse(msg, h), NATS_ACK_ERROR,
	   "321 bytes and escapes, into a struct on the heap: ERROR");
	is(strlen(h->text), sizeof(h->text) - 1,
	   "321 bytes and escapes: cut to 159 bytes");
	free(h);

	is(parse("{\"error\":{\"code\":4294967296,"
		 "\"err_code\":4294977304}}", &a), NATS_ACK_ERROR,
	   "code 2^32, err_code 2^32+10008: ERROR");
	ok(a.code == 65535 && a.err_code == 65535,
	   "code 2^32, err_code 2^32+10008: both 65535, not 0 and 10008");
	is(nats_ack_transient(&a), 0,
	   "err_code 2^32+10008 is not taken for 10008");
}

static void garbled(void)
{
	static const char *bad[] = {
		"{}",
		"{ }",
		"{\"stream\":\"S\",\"duplicate\":true}",
		"{\"stream\":\"S\",\"meta\":{\"seq\":5}}",
		"[{\"seq\":1}]",
		"\"seq\"",
		"1",
		"null",
		"",
		"   ",
		"{\"seq\":}",
		"{\"seq\":-1}",
		"{\"seq\":\"5\"}",
		"{\"seq\":5,}",
		"{\"seq\":5 \"duplicate\":true}",
		"{seq:5}",
		"{\"seq\"5}",
		"{\"seq\":5,\"a\":[1,2}",
		"{\"seq\":5,\"a\":\"unterminated}",
		"{\"error\":503}",
		"{\"error\":{\"code\":\"503\"}}",
		"{\"error\":{\"code\":503}",
		"{\"error\":{\"code\":503,\"description\":\"x\\u00\"}}",
	};
	struct nats_ack a;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&a, 0x5a, sizeof(a));
		if (!is(parse(bad[i], &a), NATS_ACK_GARBLED, "GARBLED: '%s'",
			bad[i]))
			diag("  seq %llu, code %u", (unsigned long long)a.seq,
			     a.code);
	}
	memset(&a, 0x5a, sizeof(a));
	is(nats_ack_parse(NULL, 0, &a), NATS_ACK_GARBLED,
	   "GARBLED: NULL data, length 0");
	is(a.kind, NATS_ACK_GARBLED, "NULL data: a->kind set too");
	ok(a.seq == 0 && a.duplicate == 0 && a.code == 0 && a.text[0] == 0,
	   "NULL data: the rest of *a cleared");
	is(parse_n("{\"seq\":1}", 9, &a), NATS_ACK_STORED,
	   "{\"seq\":1} then a NUL byte, length 9: STORED");
	is(parse_n("{\"seq\":1\0}", 10, &a), NATS_ACK_GARBLED,
	   "a NUL byte before the '}': GARBLED");
}

/* Data that goes on past len: only the first len bytes count. */
static void not_terminated(void)
{
	static const char two[] = "{\"seq\":12}{\"seq\":34}";
	static const char cut[] = "{\"seq\":5}";
	struct nats_ack a;

	is(parse_n(two, 10, &a), NATS_ACK_STORED,
	   "two answers back to back, the first 10 bytes: STORED");
	is(a.seq, 12, "the first 10 bytes: seq 12");
	is(nats_ack_parse(cut, 8, &a), NATS_ACK_GARBLED,
	   "'{\"seq\":5' with the '}' just past len: GARBLED");
	is(nats_ack_parse("{\"seq\":123}", 9, &a), NATS_ACK_GARBLED,
	   "'{\"seq\":12' with \"3}\" past len: GARBLED");
	is(nats_ack_parse("{\"seq\":5,\"duplicate\":true}", 24, &a),
	   NATS_ACK_GARBLED, "'...\"duplicate\":tru' with \"e}\" past len: "
	   "GARBLED");
}

/* Numbers and nesting far past anything real: no crash, no recursion. */
static void huge(void)
{
	size_t depth = 100000, i, n;
	struct nats_ack a;
	char *s;

	is(parse("{\"seq\":123456789012345678901234567890123456789,"
		 "\"duplicate\":true}", &a) == NATS_ACK_ERROR, 0,
	   "a 39-digit seq: no crash, not an error");
	ok(a.kind == NATS_ACK_GARBLED || a.duplicate == 1,
	   "a 39-digit seq: taken whole (the key after it read)");
	is(parse("{\"error\":{\"code\":99999999999999999999999999999,"
		 "\"err_code\":99999999999999999999999999999}}", &a),
	   NATS_ACK_ERROR, "29-digit code and err_code: no crash, ERROR");

	s = malloc(2 * depth + 64);
	if (!s)
		bail_out("malloc");
	n = (size_t)sprintf(s, "{\"a\":");
	for (i = 0; i < depth; i++)
		s[n++] = '[';
	for (i = 0; i < depth; i++)
		s[n++] = ']';
	n += (size_t)sprintf(s + n, ",\"seq\":9}");
	is(parse_n(s, n, &a), NATS_ACK_STORED, "100000 nested arrays: STORED");
	is(a.seq, 9, "100000 nested arrays: seq after them");
	is(parse_n(s, n - 10 - depth / 2, &a), NATS_ACK_GARBLED,
	   "100000 nested arrays, half closed: GARBLED");
	free(s);

	s = malloc(4096);
	if (!s)
		bail_out("malloc");
	n = (size_t)sprintf(s, "{\"");
	for (i = 0; i < 3000; i++)
		s[n++] = "seq"[i % 3];
	n += (size_t)sprintf(s + n, "\":1,\"seq\":2}");
	is(parse_n(s, n, &a), NATS_ACK_STORED, "a 3000-byte key: STORED");
	is(a.seq, 2, "a 3000-byte key \"seqseq...\": not taken for seq");
	free(s);
}

static void transient(void)
{
	struct nats_ack a;

	parse("{\"error\":{\"code\":503,\"err_code\":10008,"
	      "\"description\":\"JetStream cluster not available\"}}", &a);
	is(nats_ack_transient(&a), 1, "err_code 10008: transient");
	parse("{\"error\":{\"code\":400,\"err_code\":10023}}", &a);
	is(nats_ack_transient(&a), 1,
	   "err_code 10023, even with code 400: transient");
	parse("{\"error\":{\"code\":503,\"err_code\":10054}}", &a);
	is(nats_ack_transient(&a), 0,
	   "err_code 10054 (too large), even with code 503: not transient");
	parse("{\"error\":{\"code\":503,\"err_code\":10077}}", &a);
	is(nats_ack_transient(&a), 0,
	   "another err_code, even with code 503: not transient");
	parse("{\"error\":{\"code\":503,\"description\":\"no responders\"}}",
	      &a);
	is(nats_ack_transient(&a), 1, "code 503, no err_code: transient");
	parse("{\"error\":{\"code\":500}}", &a);
	is(nats_ack_transient(&a), 1, "code 500, no err_code: transient");
	parse("{\"error\":{\"code\":400,\"description\":\"bad\"}}", &a);
	is(nats_ack_transient(&a), 0, "code 400, no err_code: not transient");
	parse("{\"error\":{\"code\":499}}", &a);
	is(nats_ack_transient(&a), 0, "code 499, no err_code: not transient");
	is(parse("{\"error\":{}}", &a), NATS_ACK_ERROR,
	   "{\"error\":{}}: ERROR");
	is(nats_ack_transient(&a), 1, "code 0, no err_code: transient");
}

int main(void)
{
	plan(104);
	stored();
	errors();
	garbled();
	not_terminated();
	huge();
	transient();
	prefixes("ack", "{\"stream\":\"E\\\"V\\\\S\\u00e9\",\"seq\":123456,"
		 "\"domain\":\"hub\",\"meta\":{\"a\":[1,\"}\",{\"b\":null}],"
		 "\"c\":\"]\"},\"duplicate\":true}", NATS_ACK_STORED);
	prefixes("ack with blanks", " { \"seq\" : 5 , \"duplicate\" : false }",
		 NATS_ACK_STORED);
	prefixes("error", "{\"error\":{\"code\":503,\"err_code\":10077,"
		 "\"description\":\"no \\\"room\\\" \\u00e9\\n\\\\\"},"
		 "\"x\":[{}]}", NATS_ACK_ERROR);
	return exit_status();
}

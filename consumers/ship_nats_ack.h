/* SPDX-License-Identifier: MIT */
/*
 * ship_nats_ack.h - JetStream's answer to one published message, read
 * without a JSON library: the reply body of a publish to a subject a
 * stream takes is either {"stream":S,"seq":N[,"duplicate":true]...} or
 * {"error":{"code":C,"err_code":E,"description":D}}. Plain C, no cnats:
 * tests/t_ship_ack.c checks it on its own.
 */
#ifndef LIBRING_CONSUMERS_SHIP_NATS_ACK_H
#define LIBRING_CONSUMERS_SHIP_NATS_ACK_H

#include <stddef.h>
#include <stdint.h>

/* What an answer says. */
enum nats_ack_kind {
	NATS_ACK_STORED,	/* stored (or a duplicate of a stored one) */
	NATS_ACK_ERROR,		/* refused: see code, err_code, text */
	NATS_ACK_GARBLED,	/* neither: not an answer we understand */
};

struct nats_ack {
	enum nats_ack_kind kind;
	int duplicate;		/* STORED: the server already had this id */
	uint64_t seq;		/* STORED: the stream sequence */
	unsigned code;		/* ERROR: the HTTP-like code (503, 400...) */
	unsigned err_code;	/* ERROR: JetStream's error code, or 0 */
	char text[160];		/* ERROR: the description, cut to fit */
};

/*
 * nats_ack_parse - read the answer in @data[0..@len) into @a. Never reads
 * past @len, whatever the bytes; @data need not end in a NUL. Returns
 * a->kind.
 */
enum nats_ack_kind nats_ack_parse(const char *data, size_t len,
				  struct nats_ack *a);

/*
 * nats_ack_transient - 1 if the refusal @a may pass when the same message
 * is published again (no leader yet, no room for now, a 5xx code without
 * an error code), 0 if it is for good (too large, bad subject...).
 */
int nats_ack_transient(const struct nats_ack *a);

/* JetStream's error codes that matter here (cnats' jsErrCode names). */
#define NATS_ACK_NOT_AVAILABLE 10008	/* JSClusterNotAvailErr */
#define NATS_ACK_NO_RESOURCES 10023	/* JSInsufficientResourcesErr */
#define NATS_ACK_TOO_LARGE 10054	/* JSStreamMessageExceedsMaximumErr */

#endif /* LIBRING_CONSUMERS_SHIP_NATS_ACK_H */

/* SPDX-License-Identifier: MIT */
/*
 * ship_nats.h - ring-ship into NATS JetStream: the options (always built),
 * and the shipper itself (built with Debian's libnats-dev, cnats; without
 * it ship_nats_run() says that it is not built in).
 *
 * Delivery: a message is published with the header Nats-Msg-Id
 * "RINGID:POS" (RINGID: the ring's creation time in nanoseconds, in hex,
 * which the superblock keeps for the life of the file; POS: its position
 * in the ring, in decimal), and the group's cursor moves past it only once
 * JetStream acknowledged it. A shipper killed in between publishes the same
 * ids again and the stream, within its duplicate window, keeps one copy.
 */
#ifndef LIBRING_CONSUMERS_SHIP_NATS_H
#define LIBRING_CONSUMERS_SHIP_NATS_H

#include <signal.h>
#include <stdint.h>

#include "../tools/cli.h"

struct ring;
struct ring_reader;

/* What the command line (and the environment) asked for. */
struct ship_nats_config {
	const char *urls;	   /* --nats URL[,URL...]; NULL: ship to files */
	const char *subject;	   /* --subject */
	const char *stream;	   /* --stream, or NULL: the one taking subject */
	unsigned replicas;	   /* --replicas, for a stream created here */
	unsigned max_pending;	   /* --max-pending: unacknowledged messages */
	int64_t connect_timeout;   /* --connect-timeout ms, -1: retry forever */
	int64_t ack_timeout;	   /* --ack-timeout ms: then publish again */
	int64_t dup_window;	   /* --dup-window ms, for a created stream */
	const char *user;	   /* credentials: options, else environment */
	const char *password;
	const char *token;
	const char *creds;	   /* a .creds file (JWT and NKey seed) */
	const char *tls_ca;	   /* TLS files */
	const char *tls_cert;
	const char *tls_key;
	int json;		   /* --json: counters as JSON on stdout */
};

/* Defaults. */
#define SHIP_NATS_MAX_PENDING 4096
#define SHIP_NATS_PENDING_MAX (1u << 20)
#define SHIP_NATS_ACK_TIMEOUT_MS 5000
#define SHIP_NATS_DUP_WINDOW_MS (120 * 1000)

/* The options ship_nats_option() takes, ended by a NULL name. */
extern const struct cli_option ship_nats_options[];

/* The lines of ring-ship --help about them. */
extern const char ship_nats_usage[];

/*
 * ship_nats_config_init - the defaults into @c.
 */
void ship_nats_config_init(struct ship_nats_config *c);

/*
 * ship_nats_option - take option @key with argument @arg into @c.
 * Returns 1 if @key is one of ship_nats_options, else 0. A bad value is a
 * usage error (exits with status 2; a secret is never repeated).
 */
int ship_nats_option(struct ship_nats_config *c, int key, const char *arg);

/*
 * ship_nats_finish - once all options are in: credentials and TLS files
 * not given as options from the environment (NATS_USER, NATS_PASSWORD,
 * NATS_TOKEN, NATS_CREDS, NATS_CA, NATS_CERT, NATS_KEY), and the checks
 * between options (usage errors, status 2).
 */
void ship_nats_finish(struct ship_nats_config *c);

/*
 * ship_nats_built_in - 1 if this ring-ship was built with cnats, else 0.
 */
int ship_nats_built_in(void);

/*
 * ship_nats_run - ship group @rd of ring @r to JetStream until *@stop is
 * set, then what was in the ring at that moment (as far as JetStream
 * acknowledges it in time), and print the summary. Returns the exit status
 * (CLI_EXIT_OK, or CLI_EXIT_FAIL after printing one line).
 */
int ship_nats_run(const struct ship_nats_config *c, struct ring *r,
		  struct ring_reader *rd, volatile sig_atomic_t *stop,
		  volatile sig_atomic_t *report);

#endif /* LIBRING_CONSUMERS_SHIP_NATS_H */

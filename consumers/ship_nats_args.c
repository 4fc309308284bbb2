// SPDX-License-Identifier: MIT
/*
 * ship_nats_args.c - the command line of ring-ship --nats (see
 * ship_nats.h). Built with or without cnats, so that --help and the usage
 * errors are the same in both builds.
 *
 * Secrets (--password, --token) are never printed: a bad one is reported
 * by the option's name only.
 */
#include <stdlib.h>
#include <string.h>

#include "ship_nats.h"

enum {
	OPT_NATS = 300,
	OPT_SUBJECT,
	OPT_STREAM,
	OPT_REPLICAS,
	OPT_MAX_PENDING,
	OPT_CONNECT_TIMEOUT,
	OPT_ACK_TIMEOUT,
	OPT_DUP_WINDOW,
	OPT_USER,
	OPT_PASSWORD,
	OPT_TOKEN,
	OPT_CREDS,
	OPT_TLS_CA,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_JSON,
};

const struct cli_option ship_nats_options[] = {
	{ "nats", OPT_NATS, required_argument },
	{ "subject", OPT_SUBJECT, required_argument },
	{ "stream", OPT_STREAM, required_argument },
	{ "replicas", OPT_REPLICAS, required_argument },
	{ "max-pending", OPT_MAX_PENDING, required_argument },
	{ "connect-timeout", OPT_CONNECT_TIMEOUT, required_argument },
	{ "ack-timeout", OPT_ACK_TIMEOUT, required_argument },
	{ "dup-window", OPT_DUP_WINDOW, required_argument },
	{ "user", OPT_USER, required_argument },
	{ "password", OPT_PASSWORD, required_argument },
	{ "token", OPT_TOKEN, required_argument },
	{ "creds", OPT_CREDS, required_argument },
	{ "tls-ca", OPT_TLS_CA, required_argument },
	{ "tls-cert", OPT_TLS_CERT, required_argument },
	{ "tls-key", OPT_TLS_KEY, required_argument },
	{ "json", OPT_JSON, no_argument },
	{ NULL, 0, 0 },
};

const char ship_nats_usage[] =
	"\nOr publish them to NATS JetStream (once each, acknowledged before "
	"release):\n"
	"      --nats URL[,URL...]   servers, e.g. nats://127.0.0.1:4222\n"
	"      --subject SUBJ        subject to publish to (required)\n"
	"      --stream NAME         stream (created if missing; default: the\n"
	"                            stream that takes SUBJ)\n"
	"      --replicas N          replicas of a created stream (default 1)\n"
	"      --dup-window MS       duplicate window of a created stream\n"
	"                            (default 120000)\n"
	"      --max-pending N       unacknowledged messages at most "
	"(default 4096)\n"
	"      --ack-timeout MS      publish again after MS without ack "
	"(default 5000)\n"
	"      --connect-timeout MS  give up (status 1) when no server answers\n"
	"                            within MS (default: retry forever)\n"
	"      --user NAME --password PASS | --token TOKEN | --creds FILE\n"
	"                            credentials (or NATS_USER, NATS_PASSWORD,\n"
	"                            NATS_TOKEN, NATS_CREDS)\n"
	"      --tls-ca FILE --tls-cert FILE --tls-key FILE\n"
	"                            TLS (or NATS_CA, NATS_CERT, NATS_KEY)\n"
	"      --json                counters as JSON on standard output\n"
	"Signals: USR1 prints the counters, TERM and INT drain and exit.\n";

void ship_nats_config_init(struct ship_nats_config *c)
{
	memset(c, 0, sizeof(*c));
	c->max_pending = SHIP_NATS_MAX_PENDING;
	c->connect_timeout = -1;
	c->ack_timeout = SHIP_NATS_ACK_TIMEOUT_MS;
	c->dup_window = SHIP_NATS_DUP_WINDOW_MS;
}

/* A non-empty argument of @opt; a secret is not repeated in the error. */
static const char *nonempty(const char *opt, const char *arg)
{
	if (!*arg)
		cli_usage_error("%s: an empty value", opt);
	return arg;
}

int ship_nats_option(struct ship_nats_config *c, int key, const char *arg)
{
	switch (key) {
	case OPT_NATS:
		c->urls = nonempty("--nats", arg);
		break;
	case OPT_SUBJECT:
		c->subject = nonempty("--subject", arg);
		if (strpbrk(arg, " \t\r\n*>") || arg[0] == '.' ||
		    arg[strlen(arg) - 1] == '.' || strstr(arg, ".."))
			cli_usage_error("--subject: '%s' is not a subject to "
					"publish to", arg);
		break;
	case OPT_STREAM:
		c->stream = nonempty("--stream", arg);
		if (strpbrk(arg, " \t\r\n.*>/\\"))
			cli_usage_error("--stream: '%s' is not a stream name",
					arg);
		break;
	case OPT_REPLICAS:
		c->replicas = (unsigned)cli_uint_arg("--replicas", arg, 5);
		if (!c->replicas)
			cli_usage_error("--replicas: 1 to 5");
		break;
	case OPT_MAX_PENDING:
		c->max_pending = (unsigned)cli_uint_arg("--max-pending", arg,
							SHIP_NATS_PENDING_MAX);
		if (!c->max_pending)
			cli_usage_error("--max-pending: 1 to %u",
					SHIP_NATS_PENDING_MAX);
		break;
	case OPT_CONNECT_TIMEOUT:
		c->connect_timeout = (int64_t)cli_uint_arg("--connect-timeout",
							   arg, 86400000);
		break;
	case OPT_ACK_TIMEOUT:
		c->ack_timeout = (int64_t)cli_uint_arg("--ack-timeout", arg,
						       3600000);
		if (c->ack_timeout < 10)
			cli_usage_error("--ack-timeout: 10 to 3600000 ms");
		break;
	case OPT_DUP_WINDOW:
		c->dup_window = (int64_t)cli_uint_arg("--dup-window", arg,
						      7 * 86400000ull);
		if (c->dup_window < 100)
			cli_usage_error("--dup-window: at least 100 ms");
		break;
	case OPT_USER:
		c->user = nonempty("--user", arg);
		break;
	case OPT_PASSWORD:
		c->password = nonempty("--password", arg);
		break;
	case OPT_TOKEN:
		c->token = nonempty("--token", arg);
		break;
	case OPT_CREDS:
		c->creds = nonempty("--creds", arg);
		break;
	case OPT_TLS_CA:
		c->tls_ca = nonempty("--tls-ca", arg);
		break;
	case OPT_TLS_CERT:
		c->tls_cert = nonempty("--tls-cert", arg);
		break;
	case OPT_TLS_KEY:
		c->tls_key = nonempty("--tls-key", arg);
		break;
	case OPT_JSON:
		c->json = 1;
		break;
	default:
		return 0;
	}
	return 1;
}

/* *@field from environment variable @name when not given as an option. */
static void from_env(const char **field, const char *name)
{
	const char *v = getenv(name);

	if (!*field && v && *v)
		*field = v;
}

void ship_nats_finish(struct ship_nats_config *c)
{
	if (!c->urls)
		return;
	if (!c->subject)
		cli_usage_error("--nats needs --subject SUBJ");
	from_env(&c->user, "NATS_USER");
	from_env(&c->password, "NATS_PASSWORD");
	from_env(&c->token, "NATS_TOKEN");
	from_env(&c->creds, "NATS_CREDS");
	from_env(&c->tls_ca, "NATS_CA");
	from_env(&c->tls_cert, "NATS_CERT");
	from_env(&c->tls_key, "NATS_KEY");
	if (!c->user != !c->password)
		cli_usage_error("--user and --password go together");
	if ((c->user != NULL) + (c->token != NULL) + (c->creds != NULL) > 1)
		cli_usage_error("one of --user/--password, --token, --creds");
	if (c->replicas && !c->stream)
		cli_usage_error("--replicas applies to a stream created with "
				"--stream NAME");
	if (!c->tls_cert != !c->tls_key)
		cli_usage_error("--tls-cert and --tls-key go together");
}

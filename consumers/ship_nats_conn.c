// SPDX-License-Identifier: MIT
/*
 * ship_nats_conn.c - ring-ship's link to NATS: the connection options
 * (servers, credentials, TLS, reconnecting with back-off), the first
 * connection (retried until --connect-timeout), and the stream (found by
 * subject, or created with file storage and --replicas).
 *
 * Nothing here prints a secret: cnats' messages go through nats_scrub(),
 * and a URL is printed with its user information cut out.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <urcu/uatomic.h>

#include "ship_nats_int.h"

/* Back-off between connection attempts: 50 ms doubling up to 2 s. */
#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 2000

/* cnats' socket buffer (its default is 32 KiB). */
#define IO_BUF_SIZE (256 * 1024)

/* How long JetStream API calls may wait, and how long to keep trying them
 * while a cluster elects its leaders (or --connect-timeout, if shorter). */
#define API_WAIT_MS 5000
#define API_RETRY_MS 15000

int64_t nats_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Replace every occurrence of @secret in @buf by "***". */
static void scrub_one(char *buf, size_t len, const char *secret)
{
	size_t sl = secret ? strlen(secret) : 0;
	char *p;

	if (!sl)
		return;
	while ((p = strstr(buf, secret)) != NULL) {
		size_t tail = strlen(p + sl);

		if (sl < 3 && p + 3 + tail >= buf + len)
			break;
		memmove(p + 3, p + sl, tail + 1);
		memcpy(p, "***", 3);
	}
}

/* @text past cnats' "(file.c:LINE): " prefix, if it has one. */
static const char *past_source_line(const char *text)
{
	const char *end;
	const char *dot_c;

	if (!text || text[0] != '(')
		return text;
	dot_c = strstr(text, ".c:");
	end = strstr(text, "): ");
	if (!end || !dot_c || dot_c > end)
		return text;
	return end + 3;
}

const char *nats_scrub(const struct ship_nats_config *c, const char *text,
		       char *buf, size_t len)
{
	snprintf(buf, len, "%s", text ? past_source_line(text) : "");
	scrub_one(buf, len, c->password);
	scrub_one(buf, len, c->token);
	return buf;
}

const char *nats_last_error(const struct ship_nats_config *c, natsStatus s,
			    char *buf, size_t len)
{
	natsStatus ls = NATS_OK;
	const char *t = nats_GetLastError(&ls);

	if (!t || !*t)
		t = natsStatus_GetText(s);
	return nats_scrub(c, t, buf, len);
}

/* @url with any user information (user:password@) cut out, in @buf. */
static const char *url_shown(const char *url, char *buf, size_t len)
{
	const char *at = strchr(url, '@');
	const char *scheme = strstr(url, "://");

	if (!at) {
		snprintf(buf, len, "%s", url);
	} else if (scheme && scheme < at) {
		snprintf(buf, len, "%.*s%s", (int)(scheme + 3 - url), url,
			 at + 1);
	} else {
		snprintf(buf, len, "%s", at + 1);
	}
	return buf;
}

/* The servers, as shown in messages (without user information). */
static const char *servers_shown(const struct nats_link *l, char *buf,
				 size_t len)
{
	char one[512];
	size_t o = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < l->n_urls && o + 1 < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? "," : "",
				      url_shown(l->urls[i], one, sizeof(one)));
	return buf;
}

/* Split --nats at commas into l->urls. */
static int split_urls(struct nats_link *l, const char *list)
{
	char *copy = strdup(list), *tok, *save = NULL;
	int n = 1;

	if (!copy)
		return -ENOMEM;
	for (const char *p = list; *p; p++)
		n += *p == ',';
	l->urls = calloc((size_t)n, sizeof(*l->urls));
	if (!l->urls) {
		free(copy);
		return -ENOMEM;
	}
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		l->urls[l->n_urls] = strdup(tok);
		if (!l->urls[l->n_urls++]) {
			free(copy);
			return -ENOMEM;
		}
	}
	free(copy);
	return l->n_urls ? 0 : -EINVAL;
}

/* cnats asks how long to wait before the next reconnect attempt. */
static int64_t reconnect_delay(natsConnection *nc, int attempts, void *arg)
{
	int64_t ms = BACKOFF_MIN_MS;

	while (attempts-- > 1 && ms < BACKOFF_MAX_MS)
		ms *= 2;
	return ms < BACKOFF_MAX_MS ? ms : BACKOFF_MAX_MS;
}

static void on_disconnected(natsConnection *nc, void *arg)
{
	struct nats_link *l = arg;

	if (!uatomic_read(&l->closing))
		cli_error("nats: disconnected; reconnecting");
}

static void on_reconnected(natsConnection *nc, void *arg)
{
	struct nats_link *l = arg;
	char url[512] = "", shown[512];

	natsConnection_GetConnectedUrl(nc, url, sizeof(url));
	uatomic_inc(&l->reconnects);
	uatomic_set(&l->reconnected, 1);
	cli_error("nats: reconnected to %s",
		  url_shown(url, shown, sizeof(shown)));
}

/*
 * The last callback cnats makes for a connection: after it, nothing of
 * cnats' threads touches @l, so nats_link_close() may let it go.
 */
static void on_closed(natsConnection *nc, void *arg)
{
	struct nats_link *l = arg;

	uatomic_set(&l->closed, 1);
}

static void on_async_error(natsConnection *nc, natsSubscription *sub,
			   natsStatus err, void *arg)
{
	struct nats_link *l = arg;
	char buf[256];

	cli_error("nats: %s", nats_last_error(l->cfg, err, buf, sizeof(buf)));
}

/*
 * Each TLS file of @c readable? cnats' own message for a missing file
 * names its source line and "(null)". Returns 0, or -1 after printing one
 * line.
 */
static int tls_files_readable(const struct ship_nats_config *c)
{
	const char *opt[3] = { "--tls-ca", "--tls-cert", "--tls-key" };
	const char *path[3] = { c->tls_ca, c->tls_cert, c->tls_key };

	for (int i = 0; i < 3; i++) {
		if (path[i] && access(path[i], R_OK) < 0) {
			cli_error("nats: %s %s: %s", opt[i], path[i],
				  strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* The natsOptions of @c. Returns 0, or -1 after printing one line. */
static int make_options(struct nats_link *l, const struct ship_nats_config *c)
{
	int64_t attempt_ms = 2000;
	natsStatus s;
	char buf[256];

	if (c->connect_timeout > 0 && c->connect_timeout < attempt_ms)
		attempt_ms = c->connect_timeout;
	if (attempt_ms < 100)
		attempt_ms = 100;
	s = natsOptions_Create(&l->opts);
	if (s == NATS_OK)
		s = natsOptions_SetServers(l->opts, (const char **)l->urls,
					   l->n_urls);
	if (s == NATS_OK)
		s = natsOptions_SetNoRandomize(l->opts, true);
	if (s == NATS_OK)
		s = natsOptions_SetName(l->opts, "ring-ship");
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(l->opts, attempt_ms);
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(l->opts, -1);
	if (s == NATS_OK)
		s = natsOptions_SetCustomReconnectDelay(l->opts,
							reconnect_delay, l);
	/* Bigger writes of batched publishes: 6% less CPU than 32 KiB. */
	if (s == NATS_OK)
		s = natsOptions_SetIOBufSize(l->opts, IO_BUF_SIZE);
	if (s == NATS_OK)
		s = natsOptions_SetPingInterval(l->opts, 2000);
	if (s == NATS_OK)
		s = natsOptions_SetMaxPingsOut(l->opts, 3);
	if (s == NATS_OK)
		s = natsOptions_SetDisconnectedCB(l->opts, on_disconnected, l);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectedCB(l->opts, on_reconnected, l);
	if (s == NATS_OK)
		s = natsOptions_SetErrorHandler(l->opts, on_async_error, l);
	if (s == NATS_OK)
		s = natsOptions_SetClosedCB(l->opts, on_closed, l);
	if (s == NATS_OK && c->user)
		s = natsOptions_SetUserInfo(l->opts, c->user, c->password);
	if (s == NATS_OK && c->token)
		s = natsOptions_SetToken(l->opts, c->token);
	if (s == NATS_OK && c->creds)
		s = natsOptions_SetUserCredentialsFromFiles(l->opts, c->creds,
							    NULL);
	if (s != NATS_OK) {
		cli_error("nats: options: %s",
			  nats_last_error(c, s, buf, sizeof(buf)));
		return -1;
	}
	if (c->tls_ca || c->tls_cert) {
		if (tls_files_readable(c) < 0)
			return -1;
		s = natsOptions_SetSecure(l->opts, true);
		if (s == NATS_OK && c->tls_ca)
			s = natsOptions_LoadCATrustedCertificates(l->opts,
								  c->tls_ca);
		if (s == NATS_OK && c->tls_cert)
			s = natsOptions_LoadCertificatesChain(l->opts,
							      c->tls_cert,
							      c->tls_key);
		if (s != NATS_OK) {
			cli_error("nats: TLS files: %s",
				  nats_last_error(c, s, buf, sizeof(buf)));
			return -1;
		}
	}
	return 0;
}

/* 1 if the server refused our credentials. */
static int auth_failure(natsStatus s, const char *text)
{
	return s == NATS_NOT_PERMITTED || s == NATS_CONNECTION_AUTH_FAILED ||
	       (text && (strcasestr(text, "authorization") ||
			 strcasestr(text, "authentication")));
}

/* Sleep @ms, in slices, unless *@stop. */
static void pause_ms(int64_t ms, volatile sig_atomic_t *stop)
{
	struct timespec ts = { 0, 10 * 1000000L };

	for (; ms > 0 && !*stop; ms -= 10)
		nanosleep(&ts, NULL);
}

/* The first connection. Returns 0 or -1 after printing one line. */
static int first_connect(struct nats_link *l, const struct ship_nats_config *c,
			 volatile sig_atomic_t *stop)
{
	int64_t start = nats_now_ns(), delay = BACKOFF_MIN_MS;
	char err[256], where[1024];
	int told = 0;
	natsStatus s;

	servers_shown(l, where, sizeof(where));
	for (;;) {
		s = natsConnection_Connect(&l->nc, l->opts);
		if (s == NATS_OK)
			break;
		nats_last_error(c, s, err, sizeof(err));
		if (auth_failure(s, err)) {
			cli_error("nats: %s: authorization refused (check the "
				  "credentials)", where);
			return -1;
		}
		if (s == NATS_SSL_ERROR) {
			cli_error("nats: %s: TLS: %s", where, err);
			return -1;
		}
		if (c->connect_timeout >= 0 &&
		    nats_now_ns() - start >= c->connect_timeout * 1000000) {
			cli_error("nats: no server of %s answered within %"
				  PRId64 " ms: %s%s", where, c->connect_timeout,
				  err, c->tls_ca && !c->tls_cert ?
				  " (does the server want a client certificate:"
				  " --tls-cert, --tls-key?)" : "");
			return -1;
		}
		if (*stop) {
			cli_error("nats: %s: %s; stopped before connecting",
				  where, err);
			return -1;
		}
		/* Without a time limit, say once that it keeps trying. */
		if (c->connect_timeout < 0 && !told++)
			cli_error("nats: %s: %s; retrying", where, err);
		pause_ms(delay, stop);
		if (delay < BACKOFF_MAX_MS)
			delay *= 2;
	}
	if (told)
		cli_error("nats: connected");
	return 0;
}

/* 1 if a JetStream API call may succeed when tried again. */
static int api_transient(natsStatus s, jsErrCode e)
{
	return s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS ||
	       e == JSClusterNotAvailErr || e == JSInsufficientResourcesErr;
}

/* The name of the stream that takes @subject into l->stream, "" if none. */
static natsStatus stream_of_subject(struct nats_link *l, const char *subject,
				    jsErrCode *e)
{
	jsStreamNamesList *names = NULL;
	jsOptions o;
	natsStatus s;

	jsOptions_Init(&o);
	o.Stream.Info.SubjectsFilter = subject;
	l->stream[0] = '\0';
	s = js_StreamNames(&names, l->js, &o, e);
	if (s == NATS_NOT_FOUND) /* an empty list */
		return NATS_OK;
	if (s == NATS_OK && names && names->Count > 0)
		snprintf(l->stream, sizeof(l->stream), "%s", names->List[0]);
	jsStreamNamesList_Destroy(names);
	return s;
}

/* Create stream --stream taking --subject. */
static natsStatus create_stream(struct nats_link *l,
				const struct ship_nats_config *c, jsErrCode *e)
{
	const char *subjects[1] = { c->subject };
	jsStreamInfo *si = NULL;
	jsStreamConfig sc;
	natsStatus s;

	jsStreamConfig_Init(&sc);
	sc.Name = c->stream;
	sc.Subjects = subjects;
	sc.SubjectsLen = 1;
	sc.Storage = js_FileStorage;
	sc.Replicas = c->replicas ? c->replicas : 1;
	sc.Duplicates = c->dup_window * 1000000;
	s = js_AddStream(&si, l->js, &sc, NULL, e);
	jsStreamInfo_Destroy(si);
	return s;
}

/* Find (or create) the stream once. 1: done, 0: try again, -1: failed. */
static int stream_once(struct nats_link *l, const struct ship_nats_config *c,
		       char *err, size_t len)
{
	jsStreamInfo *si = NULL;
	jsErrCode e = 0;
	natsStatus s;

	if (!c->stream) {
		s = stream_of_subject(l, c->subject, &e);
		if (s != NATS_OK)
			goto api_error;
		if (!l->stream[0]) {
			snprintf(err, len, "no stream takes subject %s (give "
				 "--stream NAME to create one)", c->subject);
			return -1;
		}
		return 1;
	}
	s = js_GetStreamInfo(&si, l->js, c->stream, NULL, &e);
	if (s == NATS_NOT_FOUND || e == JSStreamNotFoundErr) {
		s = create_stream(l, c, &e);
		if (s == NATS_OK)
			cli_error("nats: created stream %s (subject %s, file "
				  "storage, %u replica%s)", c->stream,
				  c->subject, c->replicas ? c->replicas : 1,
				  c->replicas > 1 ? "s" : "");
		else if (e == JSStreamSubjectOverlapErr) {
			snprintf(err, len, "cannot create stream %s: subject "
				 "%s overlaps another stream's", c->stream,
				 c->subject);
			return -1;
		}
	} else if (s == NATS_OK && c->replicas && si->Config &&
		   si->Config->Replicas != (int64_t)c->replicas) {
		cli_error("nats: stream %s exists with %" PRId64 " replicas; "
			  "--replicas %u is not applied", c->stream,
			  si->Config->Replicas, c->replicas);
	}
	jsStreamInfo_Destroy(si);
	if (s != NATS_OK)
		goto api_error;
	s = stream_of_subject(l, c->subject, &e);
	if (s != NATS_OK)
		goto api_error;
	if (strcmp(l->stream, c->stream)) {
		snprintf(err, len, "stream %s does not take subject %s%s%s",
			 c->stream, c->subject, l->stream[0] ? " (stream " : "",
			 l->stream[0] ? l->stream : "");
		if (l->stream[0])
			strncat(err, " does)", len - strlen(err) - 1);
		return -1;
	}
	return 1;
api_error:
	if (s == NATS_NO_RESPONDERS)
		snprintf(err, len, "JetStream does not answer (no responders: "
			 "is the server running with JetStream?)");
	else
		nats_last_error(c, s, err, len);
	if (api_transient(s, e))
		return 0;
	if (e == JSNotEnabledErr || e == JSNotEnabledForAccountErr)
		snprintf(err, len, "JetStream is not enabled on the server");
	return -1;
}

/* Find or create the stream, retrying while the cluster is not ready. */
static int setup_stream(struct nats_link *l, const struct ship_nats_config *c,
			volatile sig_atomic_t *stop)
{
	int64_t start = nats_now_ns();
	char err[512] = "JetStream does not answer";
	int rc;

	for (;;) {
		rc = stream_once(l, c, err, sizeof(err));
		if (rc > 0)
			return 0;
		if (rc < 0 || *stop ||
		    nats_now_ns() - start > API_RETRY_MS * 1000000ll ||
		    (c->connect_timeout >= 0 &&
		     nats_now_ns() - start > c->connect_timeout * 1000000))
			break;
		pause_ms(200, stop);
	}
	cli_error("nats: %s", err);
	return -1;
}

/*
 * The subscription on which JetStream's answers arrive: INBOX.* with a
 * fresh inbox, unlimited pending (the window bounds what can come: one
 * answer per publish). Returns 0, or -1 after printing one line.
 */
static int subscribe_answers(struct nats_link *l)
{
	natsInbox *inbox = NULL;
	char subject[sizeof(l->inbox) + 2], err[256];
	natsStatus s;

	s = natsInbox_Create(&inbox);
	if (s == NATS_OK && strlen(inbox) + 1 > sizeof(l->inbox))
		s = NATS_ERR;
	if (s == NATS_OK) {
		l->inbox_len = strlen(inbox);
		memcpy(l->inbox, inbox, l->inbox_len + 1);
		snprintf(subject, sizeof(subject), "%s.*", l->inbox);
		s = natsConnection_SubscribeSync(&l->acks, l->nc, subject);
	}
	natsInbox_Destroy(inbox);
	if (s == NATS_OK)
		s = natsSubscription_SetPendingLimits(l->acks, -1, -1);
	if (s != NATS_OK) {
		cli_error("nats: subscribe to the acknowledgments: %s",
			  nats_last_error(l->cfg, s, err, sizeof(err)));
		return -1;
	}
	return 0;
}

int nats_link_connect(struct nats_link *l, const struct ship_nats_config *c,
		      volatile sig_atomic_t *stop)
{
	jsOptions jo;
	natsStatus s;
	char err[256];

	memset(l, 0, sizeof(*l));
	l->cfg = c;
	if (split_urls(l, c->urls) < 0) {
		cli_error("--nats: no server URL");
		return -1;
	}
	if (make_options(l, c) < 0 || first_connect(l, c, stop) < 0)
		return -1;
	jsOptions_Init(&jo);
	jo.Wait = API_WAIT_MS;
	s = natsConnection_JetStream(&l->js, l->nc, &jo);
	if (s != NATS_OK) {
		cli_error("nats: JetStream: %s",
			  nats_last_error(c, s, err, sizeof(err)));
		return -1;
	}
	if (setup_stream(l, c, stop) < 0 || subscribe_answers(l) < 0)
		return -1;
	l->max_payload = natsConnection_GetMaxPayload(l->nc);
	return 0;
}

int nats_link_connected(struct nats_link *l)
{
	return natsConnection_Status(l->nc) == NATS_CONN_STATUS_CONNECTED;
}

void nats_link_shutdown(struct nats_link *l)
{
	uatomic_set(&l->closing, 1);
	if (l->nc)
		natsConnection_Close(l->nc);
}

void nats_link_close(struct nats_link *l)
{
	struct timespec ts = { 0, 1000000L };
	int i;

	nats_link_shutdown(l);
	/*
	 * cnats delivers the disconnected and closed callbacks from its own
	 * thread, after natsConnection_Close() returned; @l (often on the
	 * caller's stack) must outlive them. Wait (at most 2 s) for the
	 * closed callback, the last one.
	 */
	for (i = 0; l->nc && i < 2000 && !uatomic_read(&l->closed); i++)
		nanosleep(&ts, NULL);
	natsSubscription_Destroy(l->acks);
	jsCtx_Destroy(l->js);
	natsConnection_Destroy(l->nc);
	natsOptions_Destroy(l->opts);
	for (i = 0; i < l->n_urls; i++)
		free(l->urls[i]);
	free(l->urls);
	l->nc = NULL;
	l->js = NULL;
	l->acks = NULL;
	l->opts = NULL;
	l->urls = NULL;
}

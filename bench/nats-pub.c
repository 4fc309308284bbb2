// SPDX-License-Identifier: MIT
/*
 * nats-pub - the engine's limit for bench/nats.sh: a minimal cnats
 * asynchronous JetStream publisher. Publishes COUNT messages of SIZE bytes
 * to SUBJECT with js_PublishAsync (at most PENDING unacknowledged), waits
 * for every acknowledgment (js_PublishAsyncComplete) and prints
 *
 *     nats-pub: COUNT messages in SECS s: RATE msg/s
 *
 * With --msg-id each message carries a Nats-Msg-Id, as ring-ship's do;
 * --ack-handler has cnats hand every acknowledgment to a callback, as
 * ring-ship needs (it releases only what was acknowledged);
 * --stream NAME creates stream NAME for SUBJECT first (file storage,
 * --replicas N), outside the timed part.
 *
 * --core publishes without cnats' JetStream layer, the way ring-ship does:
 * core publishes with reply subjects INBOX.N, the answers taken from one
 * synchronous subscription on INBOX.* (at most PENDING unanswered), each
 * checked for a stream sequence. Without --msg-id the messages carry no
 * headers (natsConnection_PublishRequest, no message object at all): the
 * cheapest way cnats has to put a message into a stream.
 *
 *     nats-pub URL SUBJECT COUNT [SIZE [PENDING]] [--msg-id] [--ack-handler]
 *              [--core] [--stream NAME [--replicas N]]
 */
#include <nats/nats.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long acked;

/* --ack-handler: count acknowledgments as ring-ship must see them. */
static void on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae,
		   void *closure)
{
	if (pa)
		__atomic_fetch_add(&acked, 1, __ATOMIC_RELAXED);
	natsMsg_Destroy(msg);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fail(const char *what, natsStatus s)
{
	natsStatus ls;
	const char *t = nats_GetLastError(&ls);

	fprintf(stderr, "nats-pub: %s: %s\n", what,
		t && *t ? t : natsStatus_GetText(s));
	exit(1);
}

/* Create stream @name taking @subject (an existing one is fine). */
static void add_stream(jsCtx *js, const char *name, const char *subject,
		       int replicas)
{
	const char *subjects[1] = { subject };
	jsStreamInfo *si = NULL;
	jsStreamConfig sc;
	jsErrCode e = 0;
	natsStatus s;
	int tries;

	jsStreamConfig_Init(&sc);
	sc.Name = name;
	sc.Subjects = subjects;
	sc.SubjectsLen = 1;
	sc.Storage = js_FileStorage;
	sc.Replicas = replicas;
	/* A fresh cluster may take a moment to elect its leaders. */
	for (tries = 0; tries < 50; tries++) {
		s = js_AddStream(&si, js, &sc, NULL, &e);
		if (s == NATS_OK || e == JSStreamNameExistErr)
			break;
		nats_Sleep(200);
	}
	if (s != NATS_OK && e != JSStreamNameExistErr)
		fail("stream", s);
	jsStreamInfo_Destroy(si);
}

/* Take the answers there are, waiting up to @ms for the first; each one
 * that names a stream sequence counts. Returns the number taken. */
static long take_answers(natsSubscription *sub, int64_t ms)
{
	natsMsg *m = NULL;
	uint64_t queued = 0;
	long n = 0;

	for (;;) {
		if (!n && ms > 0) {
			if (natsSubscription_NextMsg(&m, sub, ms) != NATS_OK)
				return 0;
		} else {
			if (natsSubscription_QueuedMsgs(sub, &queued) !=
			    NATS_OK || !queued ||
			    natsSubscription_NextMsg(&m, sub, 1) != NATS_OK)
				return n;
		}
		if (natsMsg_GetDataLength(m) > 0 &&
		    strstr(natsMsg_GetData(m), "\"seq\":"))
			acked++;
		natsMsg_Destroy(m);
		n++;
	}
}

/* --core: COUNT messages, at most PENDING unanswered. */
static void publish_core(natsConnection *nc, const char *subject,
			 const char *data, long size, long count,
			 long pending, int msg_id)
{
	natsSubscription *sub = NULL;
	natsInbox *inbox = NULL;
	char reply[128], all[128], id[48];
	long i, answered = 0, got;
	natsMsg *m;
	natsStatus s;

	s = natsInbox_Create(&inbox);
	if (s == NATS_OK) {
		snprintf(all, sizeof(all), "%s.*", inbox);
		s = natsConnection_SubscribeSync(&sub, nc, all);
	}
	if (s == NATS_OK)
		s = natsSubscription_SetPendingLimits(sub, -1, -1);
	if (s != NATS_OK)
		fail("subscribe", s);
	for (i = 0; i < count; i++) {
		while (i - answered >= pending) {
			got = take_answers(sub, 1000);
			if (!got)
				fail("no answers", NATS_TIMEOUT);
			answered += got;
		}
		snprintf(reply, sizeof(reply), "%s.%ld", inbox, i);
		if (msg_id) {
			snprintf(id, sizeof(id), "bench:%lx", i);
			s = natsMsg_Create(&m, subject, reply, data, (int)size);
			if (s == NATS_OK)
				s = natsMsgHeader_Set(m, "Nats-Msg-Id", id);
			if (s == NATS_OK)
				s = natsConnection_PublishMsg(nc, m);
			natsMsg_Destroy(m);
		} else {
			s = natsConnection_PublishRequest(nc, subject, reply,
							  data, (int)size);
		}
		if (s != NATS_OK)
			fail("publish", s);
		answered += take_answers(sub, 0);
	}
	while (answered < count) {
		got = take_answers(sub, 60000);
		if (!got)
			fail("no answers", NATS_TIMEOUT);
		answered += got;
	}
	if (acked != count)
		fail("some messages were not stored", NATS_ERR);
	natsSubscription_Destroy(sub);
	natsInbox_Destroy(inbox);
}

int main(int argc, char **argv)
{
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	jsOptions jo;
	jsPubOptions po;
	char data[65536], id[48];
	long count, size = 100, pending = 4096, i;
	int msg_id = 0, args = 0, replicas = 1, handler = 0, core = 0;
	const char *stream = NULL;
	const char *av[5];
	natsStatus s;
	double t0, t;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--msg-id"))
			msg_id = 1;
		else if (!strcmp(argv[i], "--ack-handler"))
			handler = 1;
		else if (!strcmp(argv[i], "--core"))
			core = 1;
		else if (!strcmp(argv[i], "--stream") && i + 1 < argc)
			stream = argv[++i];
		else if (!strcmp(argv[i], "--replicas") && i + 1 < argc)
			replicas = atoi(argv[++i]);
		else if (args < 5)
			av[args++] = argv[i];
	}
	if (args < 3) {
		fprintf(stderr, "usage: nats-pub URL SUBJECT COUNT [SIZE "
			"[PENDING]] [--msg-id] [--ack-handler] [--core] "
			"[--stream NAME [--replicas N]]\n");
		return 2;
	}
	count = atol(av[2]);
	if (args > 3)
		size = atol(av[3]);
	if (args > 4)
		pending = atol(av[4]);
	if (size < 1 || size > (long)sizeof(data) || count < 1 || pending < 1)
		return 2;
	memset(data, 'x', (size_t)size);
	data[size - 1] = '\n';
	s = natsConnection_ConnectTo(&nc, av[0]);
	if (s != NATS_OK)
		fail(av[0], s);
	jsOptions_Init(&jo);
	jo.PublishAsync.MaxPending = pending;
	if (handler)
		jo.PublishAsync.AckHandler = on_ack;
	s = natsConnection_JetStream(&js, nc, &jo);
	if (s != NATS_OK)
		fail("JetStream", s);
	if (stream)
		add_stream(js, stream, av[1], replicas);
	jsPubOptions_Init(&po);
	t0 = now();
	if (core) {
		publish_core(nc, av[1], data, size, count, pending, msg_id);
		goto done;
	}
	for (i = 0; i < count; i++) {
		if (msg_id) {
			snprintf(id, sizeof(id), "bench:%lx", i);
			po.MsgId = id;
		}
		/* At PENDING unacknowledged, cnats stalls the call for up
		 * to 200 ms and then gives up: try again. */
		do
			s = js_PublishAsync(js, av[1], data, (int)size,
					    msg_id ? &po : NULL);
		while (s == NATS_TIMEOUT);
		if (s != NATS_OK)
			fail("publish", s);
	}
	jsPubOptions_Init(&po);
	po.MaxWait = 60000;
	s = js_PublishAsyncComplete(js, &po);
	if (s != NATS_OK)
		fail("complete", s);
done:
	t = now() - t0;
	printf("nats-pub: %ld messages in %.3f s: %.0f msg/s\n", count, t,
	       (double)count / t);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	return 0;
}

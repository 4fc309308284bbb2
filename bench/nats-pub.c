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
 *     nats-pub URL SUBJECT COUNT [SIZE [PENDING]] [--msg-id] [--ack-handler]
 *              [--stream NAME [--replicas N]]
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

int main(int argc, char **argv)
{
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	jsOptions jo;
	jsPubOptions po;
	char data[65536], id[48];
	long count, size = 100, pending = 4096, i;
	int msg_id = 0, args = 0, replicas = 1, handler = 0;
	const char *stream = NULL;
	const char *av[5];
	natsStatus s;
	double t0, t;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--msg-id"))
			msg_id = 1;
		else if (!strcmp(argv[i], "--ack-handler"))
			handler = 1;
		else if (!strcmp(argv[i], "--stream") && i + 1 < argc)
			stream = argv[++i];
		else if (!strcmp(argv[i], "--replicas") && i + 1 < argc)
			replicas = atoi(argv[++i]);
		else if (args < 5)
			av[args++] = argv[i];
	}
	if (args < 3) {
		fprintf(stderr, "usage: nats-pub URL SUBJECT COUNT [SIZE "
			"[PENDING]] [--msg-id]\n");
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
	t = now() - t0;
	printf("nats-pub: %ld messages in %.3f s: %.0f msg/s\n", count, t,
	       (double)count / t);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	return 0;
}

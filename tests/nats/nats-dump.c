// SPDX-License-Identifier: MIT
/*
 * nats-dump - the tests' reader of a JetStream stream: prints every message
 * of STREAM, in stream order, as one line
 *
 *     SEQ <TAB> Nats-Msg-Id <TAB> Ring-Pid <TAB> Ring-Type <TAB> PAYLOAD
 *
 * (a payload's trailing newline is left out), through an ephemeral pull
 * consumer without acknowledgments. Exits 1 with one line on error.
 *
 *     nats-dump URL STREAM
 */
#include <nats/nats.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 1024
#define FETCH_MS 5000
#define RETRIES 30
#define RETRY_MS 500

/* Print "nats-dump: WHAT: cnats' last error" and exit 1. */
static void fail(const char *what, natsStatus s)
{
	natsStatus ls;
	const char *t = nats_GetLastError(&ls);

	fprintf(stderr, "nats-dump: %s: %s\n", what,
		t && *t ? t : natsStatus_GetText(s));
	exit(1);
}

/* A header's value, or "-". */
static const char *header(natsMsg *m, const char *key)
{
	const char *v = NULL;

	if (natsMsgHeader_Get(m, key, &v) != NATS_OK || !v)
		return "-";
	return v;
}

/* Print one message. */
static void print_msg(natsMsg *m)
{
	const char *data = natsMsg_GetData(m);
	int len = natsMsg_GetDataLength(m);
	jsMsgMetaData *meta = NULL;
	uint64_t seq = 0;

	if (natsMsg_GetMetaData(&meta, m) == NATS_OK) {
		seq = meta->Sequence.Stream;
		jsMsgMetaData_Destroy(meta);
	}
	if (len > 0 && data[len - 1] == '\n')
		len--;
	printf("%" PRIu64 "\t%s\t%s\t%s\t%.*s\n", seq,
	       header(m, "Nats-Msg-Id"), header(m, "Ring-Pid"),
	       header(m, "Ring-Type"), len, data ? data : "");
}

int main(int argc, char **argv)
{
	natsConnection *nc = NULL;
	natsSubscription *sub = NULL;
	jsStreamInfo *si = NULL;
	jsCtx *js = NULL;
	jsSubOptions so;
	uint64_t want, got = 0;
	natsStatus s;
	int i, tries;

	if (argc != 3) {
		fprintf(stderr, "usage: nats-dump URL STREAM\n");
		return 2;
	}
	s = natsConnection_ConnectTo(&nc, argv[1]);
	if (s != NATS_OK)
		fail(argv[1], s);
	s = natsConnection_JetStream(&js, nc, NULL);
	if (s != NATS_OK)
		fail("JetStream", s);
	/* A cluster that lost a node may still be electing leaders. */
	for (tries = 0; tries < RETRIES; tries++) {
		s = js_GetStreamInfo(&si, js, argv[2], NULL, NULL);
		if (s != NATS_TIMEOUT && s != NATS_NO_RESPONDERS)
			break;
		nats_Sleep(RETRY_MS);
	}
	if (s != NATS_OK)
		fail(argv[2], s);
	want = si->State.Msgs;
	jsSubOptions_Init(&so);
	so.Stream = argv[2];
	so.Config.AckPolicy = js_AckNone;
	so.Config.DeliverPolicy = js_DeliverAll;
	for (tries = 0; tries < RETRIES; tries++) {
		s = js_PullSubscribe(&sub, js, si->Config->Subjects[0], NULL,
				     NULL, &so, NULL);
		if (s != NATS_TIMEOUT && s != NATS_NO_RESPONDERS)
			break;
		nats_Sleep(RETRY_MS);
	}
	if (s != NATS_OK)
		fail("subscribe", s);
	while (got < want) {
		natsMsgList list = { NULL, 0 };

		s = natsSubscription_Fetch(&list, sub, BATCH, FETCH_MS, NULL);
		if (s != NATS_OK)
			fail("fetch", s);
		for (i = 0; i < list.Count; i++)
			print_msg(list.Msgs[i]);
		got += (uint64_t)list.Count;
		natsMsgList_Destroy(&list);
	}
	natsSubscription_Destroy(sub);
	jsStreamInfo_Destroy(si);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	return fflush(stdout) == 0 ? 0 : 1;
}

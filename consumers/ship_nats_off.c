// SPDX-License-Identifier: MIT
/*
 * ship_nats_off.c - ring-ship built without libnats-dev: --nats is taken
 * on the command line but says that it is not built in.
 */
#include "ship_nats.h"

int ship_nats_built_in(void)
{
	return 0;
}

int ship_nats_run(const struct ship_nats_config *c, struct ring *r,
		  struct ring_reader *rd, volatile sig_atomic_t *stop,
		  volatile sig_atomic_t *report)
{
	cli_error("--nats: NATS JetStream support is not built in (install "
		  "libnats-dev and rebuild)");
	return CLI_EXIT_FAIL;
}

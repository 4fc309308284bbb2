# bench: bin/ring-bench, the transport comparison, and `make bench`.
#
# ZeroMQ is optional: with libzmq found by pkg-config the zmq transport is
# built in (HAVE_ZMQ), otherwise ring-bench builds without it. DPDK likewise
# (HAVE_DPDK: the rte and rte-burst transports, Debian's libdpdk-dev).
BENCH_ZMQ := $(shell $(PKG_CONFIG) --exists libzmq 2>/dev/null && echo yes)
BENCH_DPDK := $(shell $(PKG_CONFIG) --exists libdpdk 2>/dev/null && echo yes)
BENCH_SRCS := bench/ring-bench.c bench/bench_run.c bench/bench_util.c \
	bench/pin.c bench/stream.c bench/transport_ring.c bench/transport_pipe.c \
	bench/transport_unix.c bench/transport_mq.c
BENCH_LIBS := -lrt
ifeq ($(BENCH_ZMQ),yes)
BENCH_SRCS += bench/transport_zmq.c
BENCH_LIBS += $(shell $(PKG_CONFIG) --libs libzmq)
$(BUILD)/bench/%.o: ALL_CFLAGS += -DHAVE_ZMQ $(shell $(PKG_CONFIG) --cflags libzmq)
endif
# rte_ring's enqueue and dequeue are inline in the headers; only
# rte_ring_init() and rte_ring_get_memsize_elem() are library calls, in
# librte_ring (which needs librte_eal itself, but no EAL initialisation).
# `pkg-config --libs libdpdk` would link some 60 libraries; -lrte_ring is
# enough. Only DPDK's include directories and rte_config.h are taken from
# its cflags (as system headers: they do not pass this project's warnings),
# not its -march or the unrelated libnl/dbus directories.
ifeq ($(BENCH_DPDK),yes)
BENCH_DPDK_CFLAGS := $(patsubst -I%,-isystem %,$(filter -I%/dpdk,\
	$(shell $(PKG_CONFIG) --cflags-only-I libdpdk))) -include rte_config.h
BENCH_SRCS += bench/transport_rte.c
BENCH_LIBS += $(shell $(PKG_CONFIG) --libs-only-L libdpdk) -lrte_ring
$(BUILD)/bench/%.o: ALL_CFLAGS += -DHAVE_DPDK
$(BUILD)/bench/transport_rte.o: ALL_CFLAGS += $(BENCH_DPDK_CFLAGS)
endif
BENCH_OBJS := $(BENCH_SRCS:%.c=$(BUILD)/%.o)

BINS += $(BIN)/ring-bench
$(BIN)/ring-bench: $(BENCH_OBJS) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(PROG_LDLIBS) $(BENCH_LIBS)

# The fixed matrix of bench/README.md: table, bench/results.csv, SVG plots.
# (A sanitizer build puts its programs in $(BUILD)/bin, never in bin/.)
bench: $(BIN)/ring-bench
	RING_BENCH_BIN=$(BIN)/ring-bench bench/run.sh

.PHONY: bench-syscalls
bench-syscalls: $(BIN)/ring-bench
	RING_BENCH_BIN=$(BIN)/ring-bench bench/syscalls.sh

# The machine's own limits, without libring (bench/ceiling.c).
.PHONY: bench-ceiling
bench-ceiling: $(BUILD)/bench-ceiling/ring-ceiling
	$(BUILD)/bench-ceiling/ring-ceiling
$(BUILD)/bench-ceiling/ring-ceiling: bench/ceiling.c bench/pin.c bench/pin.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $(filter %.c,$^)

# libring against rte_ring, a pipe and the ceiling in interleaved rounds
# (bench/compare.sh): a table on stdout and bench/compare.csv, then, with
# gnuplot, its plot bench/compare.svg (bench/plot-compare.sh).
# ROUNDS=N (default 7) and RUN_SECONDS=S (default 0.5) change its length;
# COMPARE_CSV=x.csv writes x.csv and x.svg instead.
.PHONY: bench-compare
bench-compare: $(BIN)/ring-bench $(BUILD)/bench-ceiling/ring-ceiling
	RING_BENCH_BIN=$(BIN)/ring-bench \
	RING_CEILING_BIN=$(BUILD)/bench-ceiling/ring-ceiling bench/compare.sh

# A shared group read by 1, 2 and 4 members against one exclusive reader,
# spinning and blocking, in interleaved rounds (bench/members.sh): each
# round's rates and the medians of the per-round ratios. ROUNDS=N (default
# 7), RUN_SECONDS=S (default 0.5), MEMBERS="1 2 4", MEMBERS_CSV=file,
# WAIT_QUIET=S (wait up to S s before each round for other work to stop).
.PHONY: bench-members
bench-members: $(BIN)/ring-bench $(BUILD)/bench-ceiling/ring-ceiling
	RING_BENCH_BIN=$(BIN)/ring-bench \
	RING_CEILING_BIN=$(BUILD)/bench-ceiling/ring-ceiling bench/members.sh

# tests/bench_smoke.t runs ring-ceiling and compare.sh too.
check: $(BUILD)/bench-ceiling/ring-ceiling

# Producer throughput with and without observers attached (bench/observers.c).
BINS += $(BIN)/ring-observer-bench
$(BIN)/ring-observer-bench: $(BUILD)/bench/observers.o $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(PROG_LDLIBS)
# NATS JetStream (bench/nats.sh): bin/nats-pub, a minimal cnats
# asynchronous publisher (the engine's limit beside ring-ship --nats).
# Built only with libnats (SHIP_NATS: consumers/rules.mk).
ifeq ($(SHIP_NATS),yes)
BINS += $(BIN)/nats-pub
$(BIN)/nats-pub: $(BUILD)/bench/nats-pub.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(NATS_LIBS)
endif

.PHONY: bench-nats bench-nats-cost
bench-nats: all
	RING_BIN=$(BIN) bench/nats.sh

# CPU per message of each way to publish, publisher and server apart.
bench-nats-cost: all
	RING_BIN=$(BIN) bench/nats-cost.sh

# consumers: programs that read from a ring. ring-ship links zlib (see
# tools/rules.mk for the check that it is installed).
#
# NATS JetStream is optional, like ZeroMQ in bench/: with libnats (Debian's
# libnats-dev, cnats) found by pkg-config, ring-ship --nats is built in;
# otherwise ship_nats_off.c makes --nats say that it is not.
BINS += $(BIN)/ring-recv $(BIN)/ring-ship $(BIN)/ring-tail

SHIP_NATS := $(shell $(PKG_CONFIG) --exists libnats 2>/dev/null && echo yes)
SHIP_OBJS := $(BUILD)/consumers/ring-ship.o $(BUILD)/consumers/ship_output.o \
	$(BUILD)/consumers/ship_nats_args.o
ifeq ($(SHIP_NATS),yes)
SHIP_OBJS += $(BUILD)/consumers/ship_nats.o $(BUILD)/consumers/ship_nats_conn.o \
	$(BUILD)/consumers/ship_nats_pub.o $(BUILD)/consumers/ship_nats_ack.o
NATS_CFLAGS := $(shell $(PKG_CONFIG) --cflags libnats)
NATS_LIBS := $(shell $(PKG_CONFIG) --libs libnats)
$(BUILD)/consumers/ship_nats%.o: ALL_CFLAGS += $(NATS_CFLAGS)
else
SHIP_OBJS += $(BUILD)/consumers/ship_nats_off.o
NATS_LIBS :=
endif

$(BIN)/ring-tail: $(BUILD)/consumers/ring-tail.o $(BUILD)/tools/cli.o \
		$(BUILD)/tools/cli_observe.o $(TOOL_LIB)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(TOOL_LDLIBS)

$(BIN)/ring-recv: $(BUILD)/consumers/ring-recv.o $(BUILD)/tools/cli.o $(TOOL_LIB)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(TOOL_LDLIBS)

$(BIN)/ring-ship: $(SHIP_OBJS) $(BUILD)/tools/cli.o $(TOOL_LIB)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(TOOL_LDLIBS) $(ZLIB_LIBS) \
		$(NATS_LIBS)

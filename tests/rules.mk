# tests: every tests/t_*.c is one TAP program (tests/bin/t_*); every
# tests/*.t is a shell TAP script. `make check` runs them all with prove.
# Shared helpers for C tests live in tests/lib/*.c and are linked into each.
TEST_SRCS   := $(wildcard tests/t_*.c)
TEST_BIN_DIR := $(OUT)/tests/bin
TEST_BINS   := $(TEST_SRCS:tests/%.c=$(TEST_BIN_DIR)/%)
TEST_SHELL  := $(wildcard tests/*.t)
TEST_LIB_SRCS := $(wildcard tests/lib/*.c)
TEST_LIB_OBJS := $(TEST_LIB_SRCS:%.c=$(BUILD)/%.o)
TESTS += $(TEST_BINS)

$(TEST_BIN_DIR)/%: $(BUILD)/tests/%.o $(TEST_LIB_OBJS) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(TEST_LIB_OBJS) $(PROG_LDLIBS)

# t_ship_ack checks ring-ship's reader of JetStream's answers on its own:
# it links that object too (plain C, no cnats).
$(TEST_BIN_DIR)/t_ship_ack: $(BUILD)/tests/t_ship_ack.o \
		$(BUILD)/consumers/ship_nats_ack.o $(TEST_LIB_OBJS) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/consumers/ship_nats_ack.o \
		$(TEST_LIB_OBJS) $(PROG_LDLIBS)

# Schedule tests (tests/t_sched_*.c) link the test build of the library,
# whose schedule points they drive (libring/src/sched_point.h).
$(TEST_BIN_DIR)/t_sched_%: $(BUILD)/tests/t_sched_%.o $(TEST_LIB_OBJS) $(LIB_TEST_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(TEST_LIB_OBJS) $(LIB_TEST_A) $(LDLIBS_COMMON)
$(BUILD)/tests/t_sched_%.o: ALL_CFLAGS += -DRL_TEST_HOOKS

# RING_TEST_LONG=1 makes the stress and crash tests run their long counts.
check: all $(TEST_BINS)
	RING_BIN=$(BIN) RING_TEST_BIN=$(TEST_BIN_DIR) prove -f -j2 $(TEST_BINS) $(TEST_SHELL)

check-long: all $(TEST_BINS)
	RING_BIN=$(BIN) RING_TEST_BIN=$(TEST_BIN_DIR) RING_TEST_LONG=1 prove -f $(TEST_BINS) $(TEST_SHELL)

# ThreadSanitizer where it fits: the tests whose threads share one handle
# (within one process; TSan cannot see other processes' accesses).
TSAN_TESTS := t_threads_fork t_sched_groups
.PHONY: check-tsan
check-tsan:
	$(MAKE) SANITIZE=thread $(TSAN_TESTS:%=build/san-thread/tests/bin/%)
	prove -f $(TSAN_TESTS:%=build/san-thread/tests/bin/%)

# The tests' JetStream reader (tests/nats/nats-dump.c), with cnats only
# (SHIP_NATS: consumers/rules.mk). tests/prog_ship_nats*.t find it in
# RING_TEST_BIN and skip without it.
ifeq ($(SHIP_NATS),yes)
NATS_DUMP := $(TEST_BIN_DIR)/nats-dump
$(NATS_DUMP): $(BUILD)/tests/nats/nats-dump.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(NATS_LIBS)
$(BUILD)/tests/nats/%.o: ALL_CFLAGS += $(NATS_CFLAGS)
check check-long: $(NATS_DUMP)
endif

# consumers: programs that read from a ring. ring-ship links zlib (see
# tools/rules.mk for the check that it is installed).
BINS += $(BIN)/ring-recv $(BIN)/ring-ship $(BIN)/ring-tail

$(BIN)/ring-tail: $(BUILD)/consumers/ring-tail.o $(BUILD)/tools/cli.o \
		$(BUILD)/tools/cli_observe.o $(TOOL_LIB)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(TOOL_LDLIBS)

$(BIN)/ring-recv: $(BUILD)/consumers/ring-recv.o $(BUILD)/tools/cli.o $(TOOL_LIB)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(TOOL_LDLIBS)

$(BIN)/ring-ship: $(BUILD)/consumers/ring-ship.o $(BUILD)/consumers/ship_output.o \
		$(BUILD)/tools/cli.o $(TOOL_LIB)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(TOOL_LDLIBS) $(ZLIB_LIBS)

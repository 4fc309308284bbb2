# producers: programs that write into a ring.
BINS += $(BIN)/ring-send

$(BIN)/ring-send: $(BUILD)/producers/ring-send.o $(BUILD)/producers/frames.o \
		$(BUILD)/tools/cli.o $(TOOL_LIB)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(TOOL_LDLIBS)

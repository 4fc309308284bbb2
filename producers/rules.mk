# producers: programs that write into a ring.
BINS += bin/ring-send

bin/ring-send: $(BUILD)/producers/ring-send.o $(BUILD)/producers/frames.o \
		$(BUILD)/tools/cli.o $(LIB_A)
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(PROG_LDLIBS)

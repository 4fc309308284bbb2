# consumers: programs that read from a ring. ring-ship links zlib (see
# tools/rules.mk for the check that it is installed).
BINS += bin/ring-recv bin/ring-ship

bin/ring-recv: $(BUILD)/consumers/ring-recv.o $(BUILD)/tools/cli.o $(LIB_A)
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(PROG_LDLIBS)

bin/ring-ship: $(BUILD)/consumers/ring-ship.o $(BUILD)/consumers/ship_output.o \
		$(BUILD)/tools/cli.o $(LIB_A)
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(PROG_LDLIBS) $(ZLIB_LIBS)

# tools: ringctl, the helpers every program links (tools/cli.o), the zlib
# check for ring-ship, and `make demo`.
BINS += $(BIN)/ringctl

# ring-ship compresses rotated files with zlib. Like the top Makefile, a
# missing zlib1g-dev is installed when run as root; otherwise the build
# stops with the command to run.
ZLIB_MISSING := $(shell $(PKG_CONFIG) --exists zlib 2>/dev/null || echo missing)
ifneq ($(ZLIB_MISSING),)
ifeq ($(shell id -u)$(RING_NO_APT),0)
$(info Installing missing Debian packages: zlib1g-dev)
$(shell (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zlib1g-dev) >&2)
else
$(error ring-ship needs zlib. Run: sudo apt-get install zlib1g-dev)
endif
endif
ZLIB_LIBS := $(shell $(PKG_CONFIG) --libs zlib 2>/dev/null || echo -lz)

$(BIN)/ringctl: $(BUILD)/tools/ringctl.o $(BUILD)/tools/ringctl_stat.o \
		$(BUILD)/tools/ringctl_dump.o $(BUILD)/tools/cli_observe.o \
		$(BUILD)/tools/cli.o $(TOOL_LIB)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(TOOL_LDLIBS)

# Two ring-send producers and a ring-recv reader through a ring in /dev/shm.
demo: all
	bash tools/demo.sh

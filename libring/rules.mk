# libring: static and shared library.
LIB_SRCS := $(wildcard libring/src/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIB_PIC_OBJS := $(LIB_SRCS:%.c=$(BUILD)/pic/%.o)
LIB_A  := $(OUT)/lib/libring.a
LIB_SO := $(OUT)/lib/libring.so.$(VERSION)

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC [pic] $<")
	$(Q)$(CC) $(ALL_CFLAGS) -fPIC -MMD -MP -c -o $@ $<

$(LIB_A): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(LIB_SO): $(LIB_PIC_OBJS) libring/libring.map
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,libring.so.$(VERSION_MAJOR) \
		-Wl,--version-script=libring/libring.map $(LDFLAGS) -o $@ $(LIB_PIC_OBJS) $(LDLIBS_COMMON)
	ln -sf libring.so.$(VERSION) $(dir $@)libring.so.$(VERSION_MAJOR)
	ln -sf libring.so.$(VERSION_MAJOR) $(dir $@)libring.so

# Programs link the static library: they run from bin/ without LD_LIBRARY_PATH.
PROG_LDLIBS := $(LIB_A) $(LDLIBS_COMMON)

# The installed programs (ringctl, ring-send, ring-recv, ring-ship) link
# TOOL_LIB: the static library, or with PROGRAMS_LINK=shared libring.so.0
# (the Debian package, so that a fixed library reaches every program; they
# then need LD_LIBRARY_PATH=lib to run from bin/).
ifeq ($(PROGRAMS_LINK),shared)
TOOL_LIB := $(LIB_SO)
TOOL_LDLIBS := $(LIB_SO) $(LDLIBS_COMMON)
else
TOOL_LIB := $(LIB_A)
TOOL_LDLIBS := $(PROG_LDLIBS)
endif

# The test build: the same sources with the schedule points of sched.h
# compiled in (-DRL_TEST_HOOKS). Only tests link it (tests/t_sched_*);
# nothing is installed from it.
LIB_HOOK_OBJS := $(LIB_SRCS:%.c=$(BUILD)/hooks/%.o)
LIB_TEST_A := $(OUT)/lib/libring-test.a

$(BUILD)/hooks/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC [hooks] $<")
	$(Q)$(CC) $(ALL_CFLAGS) -DRL_TEST_HOOKS -MMD -MP -c -o $@ $<

$(LIB_TEST_A): $(LIB_HOOK_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

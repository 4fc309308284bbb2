# libring - build, test, install.
#
#   make                 library (lib/) and programs (bin/)
#   make check           every TAP test under prove
#   make check SANITIZE=address,undefined
#   make demo            two producers and a reader through a ring in /dev/shm
#   make bench           transport comparison (bench/README.md)
#   make python          the Python module (python/rules.mk)
#   make install PREFIX=/usr/local DESTDIR=
#   make uninstall PREFIX=/usr/local DESTDIR=
#   make deb             Debian packages in ../ (debian/, dpkg-buildpackage)
#
# Each directory adds its own rules in a fragment (*/rules.mk) so that the
# concerns stay apart; this file holds what they share.

# The version is the header's (RING_VERSION_* in ring.h), nowhere else.
ring_version_part = $(shell sed -n 's/^\#define RING_VERSION_$(1) \([0-9]*\)$$/\1/p' \
	libring/include/ring.h)
VERSION_MAJOR := $(call ring_version_part,MAJOR)
VERSION_MINOR := $(call ring_version_part,MINOR)
VERSION_PATCH := $(call ring_version_part,PATCH)
VERSION       := $(VERSION_MAJOR).$(VERSION_MINOR).$(VERSION_PATCH)

PREFIX  ?= /usr/local
DESTDIR ?=
LIBDIR  ?= $(PREFIX)/lib
INCDIR  ?= $(PREFIX)/include
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man

CC      ?= cc
ifeq ($(origin CC),default)
CC      := gcc
endif
PKG_CONFIG ?= pkg-config

# Debian packages the build needs, by the header or pkg-config module that
# proves they are there. Missing ones are installed when run as root,
# otherwise the build stops with the exact command to run. Never during a
# package build (DEB_BUILD_OPTIONS or DEB_BUILD_ARCH set, or NO_DEPS=1):
# there Build-Depends says what is needed, and the build only reports.
ifneq ($(NO_DEPS)$(DEB_BUILD_OPTIONS)$(DEB_BUILD_ARCH)$(DEB_HOST_ARCH),)
RING_NO_APT := 1
endif
NEEDED_PKGS := $(shell \
	$(PKG_CONFIG) --exists liburcu 2>/dev/null || echo liburcu-dev; \
	command -v $(PKG_CONFIG) >/dev/null 2>&1 || echo pkg-config; \
	command -v prove >/dev/null 2>&1 || echo perl; \
	command -v python3 >/dev/null 2>&1 || echo python3)
ifneq ($(strip $(NEEDED_PKGS)),)
ifeq ($(shell id -u)$(RING_NO_APT),0)
$(info Installing missing Debian packages: $(NEEDED_PKGS))
$(shell (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(NEEDED_PKGS)) >&2)
else
$(error Missing Debian packages. Run: sudo apt-get install $(NEEDED_PKGS))
endif
endif

URCU_CFLAGS := $(shell $(PKG_CONFIG) --cflags liburcu)

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wpointer-arith -Wformat=2 -Wno-unused-parameter
OPT     ?= -O2 -g
CFLAGS  ?=
BASE_CFLAGS := -std=gnu11 $(OPT) $(WARN) -D_GNU_SOURCE -fno-strict-aliasing \
	       -Ilibring/include $(URCU_CFLAGS)
LDLIBS_COMMON := -lpthread

comma := ,
ifneq ($(SANITIZE),)
SAN_FLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
BASE_CFLAGS += $(SAN_FLAGS)
LDFLAGS += $(SAN_FLAGS)
BUILD := build/san-$(subst $(comma),-,$(SANITIZE))
OUT   := $(BUILD)
else
BUILD := build/default
OUT   := .
endif
# Where programs go: bin/ for a normal build, $(BUILD)/bin under sanitizers
# (so the two builds never overwrite each other). Shell tests read RING_BIN.
BIN := $(OUT)/bin

ALL_CFLAGS = $(BASE_CFLAGS) $(CPPFLAGS) $(CFLAGS)

BINS :=
TESTS :=
.PHONY: all check check-long clean install uninstall demo bench fuzz deb programs
all:

include libring/rules.mk
-include producers/rules.mk
-include consumers/rules.mk
-include tools/rules.mk
-include bench/rules.mk
-include tests/rules.mk
-include man/rules.mk
-include tests/fuzz.mk
-include tests/model/rules.mk
-include python/rules.mk

all: $(LIB_A) $(LIB_SO) $(BINS)

# `make V=1` shows the whole command lines.
ifeq ($(V),1)
Q :=
else
Q := @
endif

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

-include $(shell find build -name '*.d' 2>/dev/null)

clean:
	rm -rf build lib bin tests/bin

# The programs a user runs; the benchmarks are development tools, not installed.
INSTALL_BINS := $(filter-out %/ring-bench %/ring-observer-bench %/nats-pub,$(BINS))

# Installing to the live system as root (no DESTDIR) runs ldconfig, so that
# the programs and others find libring.so.0 at once; a staged install
# (DESTDIR, a package build) leaves that to the package manager.
LDCONFIG ?= ldconfig

# What install installs, built: `make programs` builds no benchmark or test.
programs: $(LIB_A) $(LIB_SO) $(INSTALL_BINS)

install: programs
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR) $(DESTDIR)$(BINDIR) \
		$(DESTDIR)$(LIBDIR)/pkgconfig
	install -m 0644 libring/include/ring.h $(DESTDIR)$(INCDIR)/ring.h
	install -m 0644 $(LIB_A) $(DESTDIR)$(LIBDIR)/
	install -m 0755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf libring.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libring.so.$(VERSION_MAJOR)
	ln -sf libring.so.$(VERSION_MAJOR) $(DESTDIR)$(LIBDIR)/libring.so
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCDIR@|$(INCDIR)|; s|@VERSION@|$(VERSION)|' \
		libring/libring.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/libring.pc
	for b in $(INSTALL_BINS); do install -m 0755 $$b $(DESTDIR)$(BINDIR)/; done
	for d in 1 3 5 7; do \
		ls man/*.$$d >/dev/null 2>&1 || continue; \
		install -d $(DESTDIR)$(MANDIR)/man$$d; \
		for f in man/*.$$d; do \
			if [ -L $$f ]; then \
				ln -sf $$(readlink $$f) $(DESTDIR)$(MANDIR)/man$$d/$${f#man/}; \
			else \
				install -m 0644 $$f $(DESTDIR)$(MANDIR)/man$$d/; \
			fi; \
		done; \
	done
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then \
		echo "$(LDCONFIG)"; $(LDCONFIG); \
	fi

# Removes what install put there (and nothing else).
uninstall:
	rm -f $(DESTDIR)$(INCDIR)/ring.h $(DESTDIR)$(LIBDIR)/libring.a \
		$(DESTDIR)$(LIBDIR)/libring.so $(DESTDIR)$(LIBDIR)/libring.so.$(VERSION_MAJOR) \
		$(DESTDIR)$(LIBDIR)/libring.so.$(VERSION) \
		$(DESTDIR)$(LIBDIR)/pkgconfig/libring.pc
	for b in $(notdir $(INSTALL_BINS)) ring-bench ring-observer-bench nats-pub; do rm -f $(DESTDIR)$(BINDIR)/$$b; done
	for d in 1 3 5 7; do \
		for f in man/*.$$d; do \
			[ -e $$f ] || [ -L $$f ] || continue; \
			rm -f $(DESTDIR)$(MANDIR)/man$$d/$${f#man/}; \
		done; \
	done
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then \
		echo "$(LDCONFIG)"; $(LDCONFIG); \
	fi

# Debian packages (debian/): libring0, libring-dev, libring-tools in ../,
# unsigned. DEB_BUILD_OPTIONS=nocheck leaves out `make check`.
deb:
	dpkg-buildpackage -us -uc -b

# Objects made through pattern chains are kept (no rebuild on the next run).
.SECONDARY:

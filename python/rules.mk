# python: the CPython extension module libring (python/libring.c).
#
#   make python          python/libring$(EXT_SUFFIX): PYTHONPATH=python
#   make install         also installs it (and libring.pyi) into PYTHONDIR
#   make check           runs python/tests under pytest (tests/python.t)
#   make bench-python    bench/python_bench.py (part of make bench)
#
# Built against the headers of $(PYTHON) (Debian: python3-dev) with no
# build tool but this Makefile; the library's -fPIC objects are linked in,
# so the module needs no libring.so at run time, and a version script keeps
# every symbol but PyInit_libring private. PYTHON defaults to the system
# interpreter (/usr/bin/python3), whose path PYTHONDIR is; set PYTHON=... to
# build for another one.
PYTHON ?= $(firstword $(wildcard /usr/bin/python3) python3)
PY_CONF := $(shell $(PYTHON) -c 'import sysconfig as s; \
	print(s.get_path("include"), s.get_config_var("EXT_SUFFIX"), \
	s.get_path("platlib"))' 2>/dev/null)
PY_INCDIR := $(word 1,$(PY_CONF))
PY_EXT_SUFFIX := $(word 2,$(PY_CONF))
PYTHONDIR ?= $(word 3,$(PY_CONF))
PY_HAVE := $(if $(PY_EXT_SUFFIX),$(wildcard $(PY_INCDIR)/Python.h))
PY_DIR := $(OUT)/python
PY_MOD := $(PY_DIR)/libring$(PY_EXT_SUFFIX)
PY_OBJ := $(BUILD)/pic/python/libring.o

.PHONY: python install-python uninstall-python bench-python clean-python

ifneq ($(PY_HAVE),)
all: $(PY_MOD)
python: $(PY_MOD)
install: install-python
uninstall: uninstall-python
check: $(PY_MOD)
bench: bench-python
else
python:
	@echo "make python needs the Python headers of $(PYTHON)." >&2
	@echo "Run: sudo apt-get install python3-dev" >&2
	@false
endif

$(PY_OBJ): ALL_CFLAGS += -isystem $(PY_INCDIR) \
	-DLIBRING_VERSION='"$(VERSION)"'

$(PY_MOD): $(PY_OBJ) $(LIB_PIC_OBJS) python/libring.map
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,--version-script=python/libring.map $(LDFLAGS) \
		-o $@ $(PY_OBJ) $(LIB_PIC_OBJS) $(LDLIBS_COMMON)

install-python: $(PY_MOD)
	install -d $(DESTDIR)$(PYTHONDIR)
	install -m 0644 $(PY_MOD) $(DESTDIR)$(PYTHONDIR)/
	install -m 0644 python/libring.pyi $(DESTDIR)$(PYTHONDIR)/

uninstall-python:
	rm -f $(DESTDIR)$(PYTHONDIR)/$(notdir $(PY_MOD)) \
		$(DESTDIR)$(PYTHONDIR)/libring.pyi

# tests/python.t runs the suite with the interpreter the module was built
# for and finds the module beside RING_BIN (bin -> python).
check check-long: export RING_PYTHON := $(PYTHON)

bench-python: $(PY_MOD)
	PYTHONPATH=$(PY_DIR) $(PYTHON) bench/python_bench.py

clean: clean-python
clean-python:
	rm -f python/libring*.so
	rm -rf python/__pycache__ python/tests/__pycache__ python/.pytest_cache

# fuzz: libFuzzer over ring_open and everything a file's bytes reach
# (tests/fuzz/fuzz_open.c). The library sources are compiled into the fuzzer
# with the same instrumentation. Needs clang and libclang-rt-14-dev.
#
#   make fuzz [FUZZ_SECONDS=60]   fuzz a copy of the seed corpus
#   make fuzz-corpus              rewrite tests/fuzz/corpus from scratch
#
# The normal check suite runs the same entry point over the seed corpus
# (tests/t_fuzz_corpus.c).

FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_DIR     := build/fuzz
FUZZ_BIN     := $(FUZZ_DIR)/fuzz_open
FUZZ_CFLAGS   = -std=gnu11 -g -O1 -D_GNU_SOURCE -fno-strict-aliasing \
		-Ilibring/include $(URCU_CFLAGS)

.PHONY: fuzz fuzz-corpus

$(FUZZ_BIN): tests/fuzz/fuzz_open.c $(LIB_SRCS) $(wildcard libring/src/*.h) \
		libring/include/ring.h
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -o $@ tests/fuzz/fuzz_open.c \
		$(LIB_SRCS) $(LDLIBS_COMMON)

fuzz: $(FUZZ_BIN)
	rm -rf $(FUZZ_DIR)/corpus
	mkdir -p $(FUZZ_DIR)/corpus
	cp tests/fuzz/corpus/* $(FUZZ_DIR)/corpus/
	$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
		-timeout=10 -rss_limit_mb=4096 \
		-artifact_prefix=$(FUZZ_DIR)/ $(FUZZ_DIR)/corpus

$(FUZZ_DIR)/gen_corpus: tests/fuzz/gen_corpus.c $(LIB_A)
	@mkdir -p $(FUZZ_DIR)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(PROG_LDLIBS)

fuzz-corpus: $(FUZZ_DIR)/gen_corpus
	rm -f tests/fuzz/corpus/*
	mkdir -p tests/fuzz/corpus
	$(FUZZ_DIR)/gen_corpus tests/fuzz/corpus

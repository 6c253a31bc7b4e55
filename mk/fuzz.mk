# SPDX-License-Identifier: BSD-2-Clause
# libFuzzer (clang). Targets are t/fuzz/fuzz_*.cpp; the core is compiled once
# more with coverage and ASan + UBSan. `make fuzz` replays the committed
# corpus, then fuzzes each target for FUZZ_SECONDS and fails on a crash (the
# reproducer is written to $(FUZZ_BUILD)/artifacts/). `make fuzz-corpus`
# only replays the corpus.

FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_CXX ?= clang++
FUZZ_SRCS := $(wildcard t/fuzz/fuzz_*.cpp)
FUZZ_TARGETS := $(patsubst t/fuzz/%.cpp,%,$(FUZZ_SRCS))
FUZZ_BINS := $(addprefix $(FUZZ_BUILD)/,$(FUZZ_TARGETS))
FUZZ_CXXFLAGS := -std=c++17 -g -O1 -W -Wall -Wno-unused-parameter -Isrc -It/fuzz \
	-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CORE_OBJS := $(patsubst src/%.cpp,$(FUZZ_BUILD)/obj/%.o,$(CORE_SRCS))

.PHONY: fuzz fuzz-build fuzz-corpus

$(FUZZ_BUILD)/obj/%.o: src/%.cpp | $(DEPS_FUZZ)
	@mkdir -p $(dir $@)
	$(FUZZ_CXX) $(FUZZ_CXXFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_BUILD)/fuzz_%: t/fuzz/fuzz_%.cpp $(FUZZ_CORE_OBJS) | $(DEPS_FUZZ)
	$(FUZZ_CXX) $(FUZZ_CXXFLAGS) -fsanitize=fuzzer -MMD -MP -MT $@ -MF $@.d $< $(FUZZ_CORE_OBJS) \
	  $(CORE_LIBS) -o $@

.SECONDARY: $(FUZZ_CORE_OBJS)
-include $(FUZZ_CORE_OBJS:.o=.d) $(FUZZ_BINS:=.d)

fuzz-build: $(FUZZ_BINS)

fuzz-corpus: fuzz-build
	@for target in $(FUZZ_TARGETS); do \
	  echo "replaying t/fuzz/corpus/$$target"; \
	  mkdir -p $(FUZZ_BUILD)/artifacts; \
	  $(FUZZ_BUILD)/$$target -runs=0 -close_fd_mask=1 -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$target- \
	    t/fuzz/corpus/$$target \
	    > $(FUZZ_BUILD)/$$target-replay.log 2>&1 \
	    || { tail -40 $(FUZZ_BUILD)/$$target-replay.log; exit 1; }; \
	done

fuzz: fuzz-corpus
	t/fuzz/run $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# SPDX-License-Identifier: BSD-2-Clause
# Everything built outside nginx: one object per source under $(BUILD)/obj/
# (with -MMD -MP dependency files, so an edit rebuilds what includes it),
# the core as $(CORE_LIB), and what links it: the unit tests (and the
# mailhook command, mk/cli.mk; the core bench, mk/bench.mk).

OBJ_DIR := $(BUILD)/obj
objects_of = $(patsubst %.cpp,$(OBJ_DIR)/%.o,$(1))

CORE_OBJS := $(call objects_of,$(CORE_SRCS))
UNIT_SRCS := $(wildcard t/unit/*.cpp)
UNIT_OBJS := $(call objects_of,$(UNIT_SRCS))
UNIT_BIN := $(BUILD)/unit/mailhook_unit
UNIT_LIBS := -lgtest -lgtest_main -lpthread $(CORE_LIBS)

.PHONY: unit test-unit

unit: $(UNIT_BIN)

test-unit: $(UNIT_BIN)
	$(call recorded,unit,$(UNIT_BIN) --gtest_brief=1,$(UNIT_SUMMARY))

# Objects are rebuilt when the flags change, the library and the unit binary
# when a source comes or goes (a removed one must leave them too).
CXXFLAGS_KEY := $(BUILD)/.key-cxxflags
SOURCES_KEY := $(BUILD)/.key-sources
$(CXXFLAGS_KEY): FORCE
	$(call update_key,$(CXX) $(CORE_CXXFLAGS))
$(SOURCES_KEY): FORCE
	$(call update_key,$(CORE_SRCS) $(UNIT_SRCS))

$(OBJ_DIR)/%.o: %.cpp $(CXXFLAGS_KEY) | $(DEPS_BUILD)
	@mkdir -p $(dir $@)
	$(CXX) $(CORE_CXXFLAGS) -MMD -MP -c $< -o $@

# gtest's headers come with the test packages.
$(UNIT_OBJS): | $(DEPS_TEST)

$(CORE_LIB): $(CORE_OBJS) $(SOURCES_KEY)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $(CORE_OBJS)

$(UNIT_BIN): $(UNIT_OBJS) $(CORE_LIB) $(SOURCES_KEY)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -o $@ $(UNIT_OBJS) $(CORE_LIB) $(UNIT_LIBS)

-include $(patsubst %.o,%.d,$(CORE_OBJS) $(UNIT_OBJS))

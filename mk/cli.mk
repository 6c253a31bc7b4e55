# SPDX-License-Identifier: BSD-2-Clause
# The mailhook command (src/cli, docs/cli.md): its own objects linked with
# the core library, so it checks secrets with the module's parsers. RESP
# replies are read with hiredis' reader (static, as in the module); TLS is
# OpenSSL's libssl. mailhook-token is a link to it (argv[0] picks `token`).

CLI_SRCS := $(wildcard src/cli/*.cpp)
CLI_OBJS := $(call objects_of,$(CLI_SRCS))
CLI_LIBS := $(CORE_LIBS) -l:libhiredis.a -lssl

.PHONY: cli token

cli: $(CLI_BIN) $(TOKEN_BIN)
token: $(TOKEN_BIN)

$(CLI_BIN): $(CLI_OBJS) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJS) $(CORE_LIB) $(CLI_LIBS)

$(TOKEN_BIN): $(CLI_BIN)
	ln -sf $(notdir $(CLI_BIN)) $@

-include $(patsubst %.o,%.d,$(CLI_OBJS))

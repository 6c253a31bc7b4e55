# SPDX-License-Identifier: BSD-2-Clause
# mailhook: build, run and test the nginx module. This file holds the shared
# variables and the everyday targets; each job has its own file in mk/.
#
# NGINX_SRC=<dir> builds against another nginx source tree (configured with
# --with-compat); the default is Debian's nginx-dev tree.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := all
.DELETE_ON_ERROR:

# Parallel by default: JOBS jobs (a -jN on the command line wins); sub-makes
# share the top make's job slots, nginx's own make included. `clean` alone.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
ifeq ($(MAKELEVEL)$(filter clean,$(MAKECMDGOALS)),0)
MAKEFLAGS += -j$(JOBS)
endif

NGINX_SRC ?= /usr/share/nginx/src
NGINX_BIN ?= $(shell command -v nginx 2>/dev/null || echo /usr/sbin/nginx)
BUILD ?= build
RUN_DIR := run
MODULE := $(BUILD)/modules/ngx_http_mailhook_module.so
CLI_BIN := $(BUILD)/bin/mailhook
# mailhook-token, the former token tool: a link to mailhook (one more release)
TOKEN_BIN := $(BUILD)/bin/mailhook-token
CORE_LIB := $(BUILD)/libmailhook_core.a

CORE_SRCS := $(wildcard src/core/*.cpp src/core/vendors/*.cpp)
NGINX_SRCS := $(wildcard src/nginx/*.cpp)
ALL_HDRS := $(wildcard src/core/*.hpp src/core/vendors/*.hpp src/nginx/*.hpp)

# Flags of everything built outside nginx (core library, unit tests, the
# mailhook command); the module's own objects get nginx's flags.
CXXFLAGS ?= -O1 -g
WARNINGS := -W -Wall -Wextra -Werror -Wno-unused-parameter
CORE_CXXFLAGS = -std=c++17 $(WARNINGS) -Isrc $(CXXFLAGS)
CORE_LIBS := -ljansson -lcrypto -l:libhiredis.a

.PHONY: all help test clean FORCE

# A key file's recipe: $@ holds text $(1) and is rewritten (so what depends
# on it is rebuilt) only when the text changes. Its rule depends on FORCE.
define update_key
@mkdir -p $(dir $@)
@if [ "$$(cat $@ 2>/dev/null)" != "$(1)" ]; then echo "$(1)" > $@; fi
endef

all: module cli

define HELP
make              the module (build/modules/) and build/bin/mailhook (the command)
make run          install the build/run packages, build, start Redis and nginx on loopback
make stop         stop them
make test         install the test packages, build, run unit tests, the fuzz corpus, integration tests
make test-unit    the unit tests only (build/unit/mailhook_unit)
make test-summary what the last passing test runs ran, against which nginx
make test-asan    unit + integration tests with ASan + UBSan
make fuzz         libFuzzer targets for FUZZ_SECONDS each (t/fuzz/)
make deb          the Debian package (build/deb/)
make test-upstream NGINX_SRC=/path/to/nginx-x.y.z
                  module + nginx from an upstream tree, then the integration tests
make bench        benchmarks through nginx and Redis (numbers, not tests)
make bench-core   the C++ request path alone (callgrind instruction counts)
make bench-redis  redis-server's instructions per store call (callgrind)
make bench-nginx  the nginx worker's instructions per request (callgrind)
make deps [DEPS_FOR="build test deb bench fuzz"]
                  install the Debian packages of those jobs (root)
make clean        remove build/, build-asan/, build-fuzz/
endef
export HELP
help:
	@echo "$$HELP"

test: deps-test deps-fuzz
	$(MAKE) test-unit
	$(MAKE) fuzz-corpus
	$(MAKE) test-integration

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)

FORCE:

include mk/deps.mk mk/summary.mk mk/module.mk mk/unit.mk mk/integration.mk mk/sanitizers.mk \
	mk/cli.mk mk/fuzz.mk mk/run.mk mk/bench.mk mk/deb.mk mk/upstream.mk

# mailhook: build, run and test the nginx module.
#
#   make         build the module and build/bin/mailhook-token (tracking tokens)
#   make run     install Debian packages, build the module, start Redis and nginx
#   make stop    stop them
#   make test    install packages, build, run unit + integration tests
#   make bench   benchmarks (not tests)
#
# NGINX_SRC=<dir> builds against another nginx source tree (configured with
# --with-compat); the default is Debian's nginx-dev tree.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := all

NGINX_SRC ?= /usr/share/nginx/src
NGINX_BIN ?= $(shell command -v nginx 2>/dev/null || echo /usr/sbin/nginx)
BUILD ?= build
RUN_DIR := run
MODULE := $(BUILD)/modules/ngx_http_mailhook_module.so
NGINX_BUILD := $(BUILD)/nginx
# Extra C++ flags for the module objects (sanitizer builds set them).
MODULE_CXXFLAGS ?=
MODULE_CFLAGS ?=
MODULE_LDFLAGS ?=

APT_PACKAGES := nginx nginx-dev libhiredis-dev libjansson-dev libssl-dev \
	libgtest-dev redis-server redis-tools libredis-perl libcryptx-perl \
	python3-jsonschema g++ make perl openssl curl chromium
DEPS_STAMP := $(BUILD)/.deps-installed

CORE_SRCS := $(wildcard src/core/*.cpp src/core/vendors/*.cpp)
NGINX_SRCS := $(wildcard src/nginx/*.cpp)
ALL_HDRS := $(wildcard src/core/*.hpp src/core/vendors/*.hpp src/nginx/*.hpp)
UNIT_SRCS := $(wildcard t/unit/*.cpp)
UNIT_HDRS := $(wildcard t/unit/*.hpp)
UNIT_BIN := $(BUILD)/unit/mailhook_unit
CXXFLAGS ?= -O2 -g
UNIT_CXXFLAGS := -std=c++17 -W -Wall -Wextra -Werror -Wno-unused-parameter \
	-Isrc $(CXXFLAGS)
UNIT_LIBS := -lgtest -lgtest_main -lpthread -ljansson -lcrypto

# The tracking token tool, from the same core code as the module.
TOKEN_BIN := $(BUILD)/bin/mailhook-token
TOKEN_SRCS := src/cli/mailhook_token.cpp src/core/tracking_token.cpp \
	src/core/crypto.cpp src/core/encoding.cpp src/core/json.cpp src/core/connection.cpp

.PHONY: all deps module token unit test test-unit test-integration run stop clean

all: module token

# Installs what the build, `make run` and the tests need (as root, via apt).
deps: $(DEPS_STAMP)
$(DEPS_STAMP):
	@missing=$$(for p in $(APT_PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	  done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  if [ "$$(id -u)" -ne 0 ]; then echo "run as root (or install: $$missing)"; exit 1; fi; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y --no-install-recommends $$missing \
	    || { apt-get update && apt-get install -y --no-install-recommends $$missing; }; \
	fi
	@mkdir -p $(dir $@) && touch $@

module: $(MODULE)

# nginx's configure reads `config` (which lists the sources) once; rerun it
# when the source list, the tree or the flags change.
CONFIGURE_KEY := $(BUILD)/.configure-key
CONFIGURE_KEY_TEXT := $(NGINX_SRC)|$(MODULE_CFLAGS)|$(MODULE_CXXFLAGS)|$(MODULE_LDFLAGS)|$(CORE_SRCS) $(NGINX_SRCS) $(ALL_HDRS)

$(CONFIGURE_KEY): FORCE
	@mkdir -p $(BUILD)
	@if [ "$$(cat $@ 2>/dev/null)" != "$(CONFIGURE_KEY_TEXT)" ]; then \
	  echo "$(CONFIGURE_KEY_TEXT)" > $@; fi

$(NGINX_BUILD)/objs/Makefile: $(CONFIGURE_KEY) config config.make | $(DEPS_STAMP)
	rm -rf $(NGINX_BUILD) && mkdir -p $(NGINX_BUILD)
	cp -a $(NGINX_SRC)/. $(NGINX_BUILD)/
	cd $(NGINX_BUILD) && export MAILHOOK_EXTRA_CXXFLAGS="$(MODULE_CXXFLAGS)" && \
	if [ -f conf_flags ]; then \
	  . ./conf_flags; \
	  ./configure --with-cc-opt="$$(dpkg-buildflags --get CFLAGS) -fPIC $$(dpkg-buildflags --get CPPFLAGS) $(MODULE_CFLAGS)" \
	    --with-ld-opt="$$(dpkg-buildflags --get LDFLAGS) -fPIC $(MODULE_LDFLAGS)" \
	    "$${NGX_CONF_FLAGS[@]}" --add-dynamic-module=$(CURDIR) > configure.log; \
	else \
	  ./configure --with-compat --with-cc-opt="-fPIC $(MODULE_CFLAGS)" \
	    --with-ld-opt="$(MODULE_LDFLAGS)" \
	    --add-dynamic-module=$(CURDIR) > configure.log; \
	fi

$(MODULE): $(NGINX_BUILD)/objs/Makefile $(CORE_SRCS) $(NGINX_SRCS) $(ALL_HDRS)
	$(MAKE) -C $(NGINX_BUILD) -f objs/Makefile modules
	mkdir -p $(dir $@)
	cp $(NGINX_BUILD)/objs/ngx_http_mailhook_module.so $@

$(UNIT_BIN): $(CORE_SRCS) $(UNIT_SRCS) $(ALL_HDRS) $(UNIT_HDRS) | $(DEPS_STAMP)
	mkdir -p $(dir $@)
	$(CXX) $(UNIT_CXXFLAGS) -o $@ $(CORE_SRCS) $(UNIT_SRCS) $(UNIT_LIBS)

unit: $(UNIT_BIN)

token: $(TOKEN_BIN)

$(TOKEN_BIN): $(TOKEN_SRCS) $(ALL_HDRS) | $(DEPS_STAMP)
	mkdir -p $(dir $@)
	$(CXX) $(UNIT_CXXFLAGS) -o $@ $(TOKEN_SRCS) -ljansson -lcrypto

test-unit: $(UNIT_BIN)
	$(UNIT_BIN) --gtest_brief=1

test-integration: $(MODULE) $(TOKEN_BIN)
	MAILHOOK_MODULE=$(CURDIR)/$(MODULE) NGINX_BIN=$(NGINX_BIN) \
	  MAILHOOK_TOKEN_BIN=$(CURDIR)/$(TOKEN_BIN) \
	  prove -j2 -I t/lib t/

test: deps
	$(MAKE) test-unit
	$(MAKE) test-integration

# --- run it for real (loopback): Redis on 6379, nginx with conf.example on 8080
NGINX_RUN := $(NGINX_BIN) -p $(CURDIR)/ -c conf.example -e $(RUN_DIR)/error.log \
	$(if $(filter 0,$(shell id -u)),-g "user root;")

run: deps $(MODULE)
	mkdir -p $(RUN_DIR)
	@if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then \
	  echo "redis: already answering on 127.0.0.1:6379"; \
	else \
	  redis-server --bind 127.0.0.1 --port 6379 --daemonize yes \
	    --dir $(CURDIR)/$(RUN_DIR) --pidfile $(CURDIR)/$(RUN_DIR)/redis.pid \
	    --logfile $(CURDIR)/$(RUN_DIR)/redis.log --appendonly yes; \
	  for i in $$(seq 50); do redis-cli -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done; \
	  echo "redis: started on 127.0.0.1:6379"; \
	fi
	@if [ -f $(RUN_DIR)/nginx.pid ] && kill -0 $$(cat $(RUN_DIR)/nginx.pid) 2>/dev/null; then \
	  $(NGINX_RUN) -s reload; echo "nginx: reloaded"; \
	else \
	  $(NGINX_RUN); echo "nginx: started on 127.0.0.1:8080 (logs in $(RUN_DIR)/)"; \
	fi
	@tools/example-request

stop:
	-@[ -f $(RUN_DIR)/nginx.pid ] && $(NGINX_RUN) -s quit && echo "nginx: stopped" || true
	-@[ -f $(RUN_DIR)/redis.pid ] && kill $$(cat $(RUN_DIR)/redis.pid) && rm -f $(RUN_DIR)/redis.pid \
	  && echo "redis: stopped" || true

clean:
	rm -rf $(BUILD)

FORCE:

# --- benchmarks (not tests): numbers, not pass/fail ---------------------------
.PHONY: bench bench-soak
bench: deps $(MODULE)
	@command -v wrk >/dev/null || apt-get install -y --no-install-recommends wrk
	MAILHOOK_MODULE=$(CURDIR)/$(MODULE) NGINX_BIN=$(NGINX_BIN) perl bench/run.pl

bench-soak: deps $(MODULE)
	@command -v wrk >/dev/null || apt-get install -y --no-install-recommends wrk
	MAILHOOK_MODULE=$(CURDIR)/$(MODULE) NGINX_BIN=$(NGINX_BIN) BENCH_SOAK=1 perl bench/run.pl

# SPDX-License-Identifier: BSD-2-Clause
# mailhook: build, run and test the nginx module.
#
#   make         build the module and build/bin/mailhook-token (tracking tokens)
#   make run     install Debian packages, build the module, start Redis and nginx
#   make stop    stop them
#   make test    install packages, build, run unit + integration tests
#   make test-asan  the same tests with ASan + UBSan (module and unit tests)
#   make fuzz    libFuzzer targets for FUZZ_SECONDS each (t/fuzz/)
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

# Debian packages: to build and run (`make`, `make run`), and what the tests
# add (`make test`).
APT_PACKAGES := nginx nginx-dev libhiredis-dev libjansson-dev libssl-dev \
	redis-server redis-tools g++ make perl openssl curl
TEST_APT_PACKAGES := libgtest-dev libredis-perl libcryptx-perl python3-jsonschema \
	chromium
DEPS_STAMP := $(BUILD)/.deps-installed
TEST_DEPS_STAMP := $(BUILD)/.test-deps-installed

# Installs the missing ones of $(1) with apt (as root), then touches $@.
define apt_install
@missing=$$(for p in $(1); do \
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
endef

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

.PHONY: all deps test-deps module token unit test test-unit test-integration test-asan fuzz \
	fuzz-build fuzz-corpus run stop clean

all: module token

# Installs what the build and `make run` need, and what the tests add.
deps: $(DEPS_STAMP)
$(DEPS_STAMP):
	$(call apt_install,$(APT_PACKAGES))

test-deps: $(TEST_DEPS_STAMP)
$(TEST_DEPS_STAMP): | $(DEPS_STAMP)
	$(call apt_install,$(TEST_APT_PACKAGES))

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

$(UNIT_BIN): $(CORE_SRCS) $(UNIT_SRCS) $(ALL_HDRS) $(UNIT_HDRS) | $(TEST_DEPS_STAMP)
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

test: test-deps
	$(MAKE) test-unit
	$(MAKE) test-integration

# --- sanitizers ---------------------------------------------------------------
# Debian's nginx is not instrumented, so the ASan/UBSan-built module is loaded
# into it with the ASan runtime preloaded (the runtime must come first in the
# process). The harness gives LD_PRELOAD and the options below to nginx only
# and adds log_path=<test dir>/asan|ubsan; Mailhook::Test::finish fails on any
# report file or report line in error.log. Separate build dir: the normal
# build is untouched.
ASAN_BUILD ?= build-asan
SANITIZE := -fsanitize=address,undefined -fno-omit-frame-pointer
# UB is fatal in the module whatever UBSAN_OPTIONS says.
MODULE_SANITIZE := $(SANITIZE) -fno-sanitize-recover=all
SANITIZER_RUNTIME = $(shell readlink -f $$($(CC) -print-file-name=libasan.so))
# Workers and the master run the leak check when they exit (graceful QUIT
# destroys the cycle pool, so whatever is left is a real leak).
ASAN_TEST_OPTIONS := detect_leaks=1:fast_unwind_on_malloc=0:halt_on_error=1:abort_on_error=0:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:print_summary=1
UBSAN_TEST_OPTIONS := print_stacktrace=1:halt_on_error=1
LSAN_TEST_OPTIONS := suppressions=$(CURDIR)/t/sanitizers/lsan.supp:print_suppressions=0

test-asan: test-deps
	$(MAKE) BUILD=$(ASAN_BUILD) CXXFLAGS="-O1 -g $(SANITIZE) -fno-sanitize-recover=all" unit
	ASAN_OPTIONS=$(ASAN_TEST_OPTIONS) UBSAN_OPTIONS=$(UBSAN_TEST_OPTIONS) \
	  $(ASAN_BUILD)/unit/mailhook_unit --gtest_brief=1
	ASAN_OPTIONS=detect_leaks=0 $(MAKE) BUILD=$(ASAN_BUILD) \
	  MODULE_CFLAGS="$(MODULE_SANITIZE)" MODULE_LDFLAGS="$(MODULE_SANITIZE)" module
	MAILHOOK_MODULE=$(CURDIR)/$(ASAN_BUILD)/modules/ngx_http_mailhook_module.so \
	  NGINX_BIN=$(NGINX_BIN) MAILHOOK_SANITIZER_PRELOAD=$(SANITIZER_RUNTIME) \
	  MAILHOOK_ASAN_OPTIONS=$(ASAN_TEST_OPTIONS) MAILHOOK_UBSAN_OPTIONS=$(UBSAN_TEST_OPTIONS) \
	  MAILHOOK_LSAN_OPTIONS=$(LSAN_TEST_OPTIONS) prove -j2 -I t/lib t/

# --- fuzzing (libFuzzer, clang) --------------------------------------------------
# Targets are t/fuzz/fuzz_*.cpp; the core is compiled once with coverage and
# ASan + UBSan. `make fuzz` replays the committed corpus, then fuzzes each
# target for FUZZ_SECONDS and fails on a crash (the reproducer is written to
# $(FUZZ_BUILD)/artifacts/). `make fuzz-corpus` only replays the corpus.
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_CXX ?= clang++
FUZZ_SRCS := $(wildcard t/fuzz/fuzz_*.cpp)
FUZZ_TARGETS := $(patsubst t/fuzz/%.cpp,%,$(FUZZ_SRCS))
FUZZ_BINS := $(addprefix $(FUZZ_BUILD)/,$(FUZZ_TARGETS))
FUZZ_CXXFLAGS := -std=c++17 -g -O1 -W -Wall -Wno-unused-parameter -Isrc -It/fuzz \
	-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CORE_OBJS := $(patsubst src/%.cpp,$(FUZZ_BUILD)/obj/%.o,$(CORE_SRCS))

$(FUZZ_BUILD)/obj/%.o: src/%.cpp $(ALL_HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CXX) $(FUZZ_CXXFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BUILD)/fuzz_%: t/fuzz/fuzz_%.cpp t/fuzz/fuzz_support.hpp $(FUZZ_CORE_OBJS)
	$(FUZZ_CXX) $(FUZZ_CXXFLAGS) -fsanitize=fuzzer $< $(FUZZ_CORE_OBJS) \
	  -ljansson -lcrypto -o $@

.SECONDARY: $(FUZZ_CORE_OBJS)

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
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)

FORCE:

# --- benchmarks (not tests): numbers, not pass/fail ---------------------------
.PHONY: bench bench-soak
bench: deps $(MODULE)
	@command -v wrk >/dev/null || apt-get install -y --no-install-recommends wrk
	MAILHOOK_MODULE=$(CURDIR)/$(MODULE) NGINX_BIN=$(NGINX_BIN) perl bench/run.pl

bench-soak: deps $(MODULE)
	@command -v wrk >/dev/null || apt-get install -y --no-install-recommends wrk
	MAILHOOK_MODULE=$(CURDIR)/$(MODULE) NGINX_BIN=$(NGINX_BIN) BENCH_SOAK=1 perl bench/run.pl

# ============================================================================
# Packaging and upstream builds (packaging/debian, t/deb.t). Kept in one block.
#
#   make deb            build/deb/libnginx-mod-http-mailhook_<version>_<arch>.deb,
#                       built by dpkg-buildpackage with Debian's nginx module
#                       tooling (dh-sequence-nginx: nginx_mod build system + dh_nginx)
#   make test-upstream NGINX_SRC=/path/to/nginx-x.y.z
#                       module + nginx binary from an upstream source tree
#                       (--with-compat), then the integration suite against them
# ============================================================================

# The version, in one place: the package version and its changelog follow it.
VERSION := 0.1.0
# A rebuild of the same VERSION (e.g. for a new nginx ABI) needs a higher
# package version for apt to upgrade: make deb DEB_VERSION=0.1.0+nginx1.26.3
DEB_VERSION ?= $(VERSION)
DEB_ARCH := $(shell dpkg --print-architecture 2>/dev/null || echo amd64)
DEB_DIR := $(BUILD)/deb
DEB_SRC_DIR := $(DEB_DIR)/mailhook-$(DEB_VERSION)
DEB := $(DEB_DIR)/libnginx-mod-http-mailhook_$(DEB_VERSION)_$(DEB_ARCH).deb
DEB_APT_PACKAGES := build-essential debhelper dpkg-dev nginx nginx-dev \
	libhiredis-dev libjansson-dev libssl-dev
DEB_DEPS_STAMP := $(BUILD)/.deb-deps-installed
DEB_INPUTS := config config.make README.md conf.example $(CORE_SRCS) $(NGINX_SRCS) \
	$(ALL_HDRS) $(shell find packaging/debian -type f 2>/dev/null)
DEB_MAINTAINER := mailhook maintainers <maintainers@users.noreply.b-seed-62d7a4c5.example>

.PHONY: deb deb-deps test-upstream

deb: $(DEB)

deb-deps: $(DEB_DEPS_STAMP)
$(DEB_DEPS_STAMP):
	$(call apt_install,$(DEB_APT_PACKAGES))

# A scratch source package under build/deb: the module sources, README,
# conf.example and packaging/debian as debian/, with a changelog written
# from VERSION. dpkg-buildpackage leaves the .deb beside it.
$(DEB): $(DEB_INPUTS) | $(DEB_DEPS_STAMP)
	rm -rf $(DEB_SRC_DIR) $(DEB_DIR)/libnginx-mod-http-mailhook_* $(DEB_DIR)/mailhook_*
	mkdir -p $(DEB_SRC_DIR)
	cp -a config config.make README.md conf.example src $(DEB_SRC_DIR)/
	cp -a packaging/debian $(DEB_SRC_DIR)/debian
	when=$$(git log -1 --format=%ct 2>/dev/null || date +%s); \
	printf '%s\n' "mailhook ($(DEB_VERSION)) unstable; urgency=medium" "" \
	  "  * mailhook $(DEB_VERSION), built against nginx $$(dpkg-query -W -f='$${Version}' nginx-dev)." "" \
	  " -- $(DEB_MAINTAINER)  $$(date -R -u -d @$$when)" > $(DEB_SRC_DIR)/debian/changelog
	cd $(DEB_SRC_DIR) && dpkg-buildpackage -b -us -uc > ../build.log 2>&1 \
	  || { tail -40 ../build.log; echo "dpkg-buildpackage failed: $(DEB_DIR)/build.log"; exit 1; }
	@test -f $@ || { echo "expected $@, got:"; ls $(DEB_DIR); exit 1; }
	@echo "built $@"; dpkg-deb -f $@ Package Version Depends

# t/deb.t installs the package into the system nginx and purges it again;
# it needs root, so only root's `make test` builds the package first.
test-integration: export MAILHOOK_DEB := $(abspath $(DEB))
ifeq ($(shell id -u),0)
test-integration: $(DEB)
endif

# --- upstream nginx: make test-upstream NGINX_SRC=/path/to/nginx-1.22.1 --------
UPSTREAM_BUILD = $(BUILD)/upstream/$(notdir $(abspath $(NGINX_SRC)))
UPSTREAM_NGINX = $(UPSTREAM_BUILD)/nginx-bin
# configure flags for the test binary (the module itself is built --with-compat)
UPSTREAM_CONFIGURE ?= --with-compat --with-threads --with-http_ssl_module \
	--error-log-path=stderr

# The harness starts nginx with -e (nginx >= 1.19.5); for older binaries
# nginx-test is a wrapper that drops it (early errors go to stderr then).
define UPSTREAM_WRAPPER
#!/bin/sh
# nginx before 1.19.5 has no -e: drop it and its argument
skip=0
for a do
  shift
  if [ $$skip = 1 ]; then skip=0; continue; fi
  if [ "$$a" = -e ]; then skip=1; continue; fi
  set -- "$$@" "$$a"
done
exec $(abspath $(UPSTREAM_NGINX))/objs/nginx "$$@"
endef
export UPSTREAM_WRAPPER

test-upstream:
	@[ -f "$(NGINX_SRC)/src/core/nginx.c" ] && [ -x "$(NGINX_SRC)/configure" ] || { \
	  echo "NGINX_SRC=$(NGINX_SRC): give an unpacked upstream nginx source tree (nginx-x.y.z.tar.gz)"; exit 1; }
	$(MAKE) module BUILD=$(UPSTREAM_BUILD) NGINX_SRC=$(abspath $(NGINX_SRC))
	rm -rf $(UPSTREAM_NGINX) && mkdir -p $(UPSTREAM_NGINX)
	cp -a $(NGINX_SRC)/. $(UPSTREAM_NGINX)/
	cd $(UPSTREAM_NGINX) && ./configure $(UPSTREAM_CONFIGURE) > configure.log \
	  && $(MAKE) -f objs/Makefile binary > make.log 2>&1 || { tail -30 make.log; exit 1; }
	$(UPSTREAM_NGINX)/objs/nginx -V 2>&1 | head -1
	if $(UPSTREAM_NGINX)/objs/nginx -h 2>&1 | grep -q -- ' -e filename'; then \
	  ln -sf nginx-bin/objs/nginx $(UPSTREAM_BUILD)/nginx-test; \
	else \
	  rm -f $(UPSTREAM_BUILD)/nginx-test; \
	  echo "$$UPSTREAM_WRAPPER" > $(UPSTREAM_BUILD)/nginx-test; chmod +x $(UPSTREAM_BUILD)/nginx-test; \
	fi
	MAILHOOK_MODULE=$(abspath $(UPSTREAM_BUILD))/modules/ngx_http_mailhook_module.so \
	  NGINX_BIN=$(abspath $(UPSTREAM_BUILD))/nginx-test \
	  prove -j2 -I t/lib $(filter-out t/deb.t,$(wildcard t/*.t))

# Instructions of the C++ request path alone (no nginx, no Redis), counted
# by callgrind: reproducible whatever else the machine does.
CORE_BENCH := $(BUILD)/bench/core_bench
$(CORE_BENCH): bench/core_bench.cpp $(CORE_SRCS) $(ALL_HDRS) | $(DEPS_STAMP)
	mkdir -p $(dir $@)
	$(CXX) -std=c++17 -O2 -g -Isrc -I. -o $@ bench/core_bench.cpp $(CORE_SRCS) -ljansson -lcrypto

.PHONY: bench-core
bench-core: $(CORE_BENCH)
	$(CORE_BENCH) 20000
	@command -v valgrind >/dev/null || apt-get install -y --no-install-recommends valgrind
	@for m in a b; do \
	  one=$$(valgrind --tool=callgrind --callgrind-out-file=/dev/null $(CORE_BENCH) 1000 $$m 2>&1 | sed -n 's/.*refs: *//p' | tr -d ,); \
	  three=$$(valgrind --tool=callgrind --callgrind-out-file=/dev/null $(CORE_BENCH) 3000 $$m 2>&1 | sed -n 's/.*refs: *//p' | tr -d ,); \
	  if [ $$m = a ]; then echo "A: $$(( (three - one) / 2000 )) instructions per single-event request"; \
	  else echo "B: $$(( (three - one) / 2000 )) instructions per event of a 100-event batch (no ECDSA)"; fi; \
	done

# SPDX-License-Identifier: BSD-2-Clause
# ASan + UBSan. Debian's nginx is not instrumented, so the ASan/UBSan-built
# module is loaded into it with the ASan runtime preloaded (the runtime must
# come first in the process). The harness gives LD_PRELOAD and the options
# below to nginx only and adds log_path=<test dir>/asan|ubsan; the harness
# fails on any report file or report line in error.log. Separate build dir:
# the normal build is untouched.

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

ASAN_SUMMARY = $(call prove_summary,$(NGINX_BIN),asan-integration)

.PHONY: test-asan

test-asan: deps-test
	$(MAKE) BUILD=$(ASAN_BUILD) CXXFLAGS="-O1 -g $(SANITIZE) -fno-sanitize-recover=all" unit token
	$(call recorded,asan-unit,ASAN_OPTIONS=$(ASAN_TEST_OPTIONS) UBSAN_OPTIONS=$(UBSAN_TEST_OPTIONS) \
	  $(ASAN_BUILD)/unit/mailhook_unit --gtest_brief=1,$(UNIT_SUMMARY))
	ASAN_OPTIONS=detect_leaks=0 $(MAKE) BUILD=$(ASAN_BUILD) \
	  MODULE_CFLAGS="$(MODULE_SANITIZE)" MODULE_LDFLAGS="$(MODULE_SANITIZE)" module
	$(call recorded,asan-integration,\
	  MAILHOOK_MODULE=$(CURDIR)/$(ASAN_BUILD)/modules/ngx_http_mailhook_module.so \
	  MAILHOOK_TOKEN_BIN=$(CURDIR)/$(ASAN_BUILD)/bin/mailhook-token \
	  MAILHOOK_CLI_BIN=$(CURDIR)/$(ASAN_BUILD)/bin/mailhook \
	  NGINX_BIN=$(NGINX_BIN) MAILHOOK_SANITIZER_PRELOAD=$(SANITIZER_RUNTIME) \
	  MAILHOOK_ASAN_OPTIONS=$(ASAN_TEST_OPTIONS) MAILHOOK_UBSAN_OPTIONS=$(UBSAN_TEST_OPTIONS) \
	  MAILHOOK_LSAN_OPTIONS=$(LSAN_TEST_OPTIONS) prove -j2 -I t/lib t/,$(ASAN_SUMMARY))

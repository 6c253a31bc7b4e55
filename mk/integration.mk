# SPDX-License-Identifier: BSD-2-Clause
# The integration tests (t/*.t): the built module in a real nginx, a real
# redis-server per test file, real signed requests (t/deb.t: mk/deb.mk).

.PHONY: test-integration

INTEGRATION_ENV = MAILHOOK_MODULE=$(CURDIR)/$(MODULE) NGINX_BIN=$(NGINX_BIN) \
	MAILHOOK_TOKEN_BIN=$(CURDIR)/$(TOKEN_BIN) MAILHOOK_CLI_BIN=$(CURDIR)/$(CLI_BIN)
INTEGRATION_SUMMARY = $(call prove_summary,$(NGINX_BIN),integration)

test-integration: $(MODULE) $(CLI_BIN) $(TOKEN_BIN) | $(DEPS_TEST)
	$(call recorded,integration,$(INTEGRATION_ENV) prove -j2 -I t/lib t/,$(INTEGRATION_SUMMARY))

# SPDX-License-Identifier: BSD-2-Clause
# Upstream nginx: make test-upstream NGINX_SRC=/path/to/nginx-1.22.1
# builds the module (--with-compat) and an nginx binary from an upstream
# source tree, then runs the integration tests against them (not t/deb.t).

UPSTREAM_BUILD = $(BUILD)/upstream/$(notdir $(abspath $(NGINX_SRC)))
UPSTREAM_NGINX = $(UPSTREAM_BUILD)/nginx-bin
UPSTREAM_RUN = upstream-$(notdir $(abspath $(NGINX_SRC)))
# configure flags for the test binary (the module itself is built
# --with-compat): what the tests use beyond nginx's default modules, TLS
# (t/vendor_ses.t) and realip (t/tracking.t); trees before 1.21 call OpenSSL
# functions that 3.0 deprecates, which nginx's -Werror would stop at
UPSTREAM_CONFIGURE ?= --with-compat --with-threads --with-http_ssl_module \
	--with-http_realip_module --with-cc-opt=-Wno-deprecated-declarations \
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
UPSTREAM_SUMMARY = $(call prove_summary,$(UPSTREAM_NGINX)/objs/nginx,$(UPSTREAM_RUN))

.PHONY: test-upstream

test-upstream: $(CLI_BIN) $(TOKEN_BIN) | $(DEPS_TEST) $(DEPS_UPSTREAM)
	@[ -f "$(NGINX_SRC)/src/core/nginx.c" ] && [ -x "$(NGINX_SRC)/configure" ] || { \
	  echo "NGINX_SRC=$(NGINX_SRC): give an unpacked upstream nginx source tree (nginx-x.y.z.tar.gz)"; exit 1; }
	$(MAKE) module BUILD=$(UPSTREAM_BUILD) NGINX_SRC=$(abspath $(NGINX_SRC))
	rm -rf $(UPSTREAM_NGINX) && mkdir -p $(UPSTREAM_NGINX)
	cp -a $(NGINX_SRC)/. $(UPSTREAM_NGINX)/
	cd $(UPSTREAM_NGINX) && ./configure $(UPSTREAM_CONFIGURE) > configure.log \
	  && $(MAKE) -f objs/Makefile binary > make.log 2>&1 || { tail -30 make.log; exit 1; }
	$(UPSTREAM_NGINX)/objs/nginx -V 2>&1 | sed -n 1p
	if $(UPSTREAM_NGINX)/objs/nginx -h 2>&1 | grep -q -- ' -e filename'; then \
	  ln -sf nginx-bin/objs/nginx $(UPSTREAM_BUILD)/nginx-test; \
	else \
	  rm -f $(UPSTREAM_BUILD)/nginx-test; \
	  echo "$$UPSTREAM_WRAPPER" > $(UPSTREAM_BUILD)/nginx-test; chmod +x $(UPSTREAM_BUILD)/nginx-test; \
	fi
	$(call recorded,$(UPSTREAM_RUN),\
	  MAILHOOK_MODULE=$(abspath $(UPSTREAM_BUILD))/modules/ngx_http_mailhook_module.so \
	  NGINX_BIN=$(abspath $(UPSTREAM_BUILD))/nginx-test MAILHOOK_TOKEN_BIN=$(CURDIR)/$(TOKEN_BIN) \
	  MAILHOOK_CLI_BIN=$(CURDIR)/$(CLI_BIN) prove -j2 -I t/lib $(filter-out t/deb.t,$(wildcard t/*.t)),$(UPSTREAM_SUMMARY))

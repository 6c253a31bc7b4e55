# SPDX-License-Identifier: BSD-2-Clause
# The module, built by nginx's own build: a copy of NGINX_SRC configured with
# --add-dynamic-module=. (Debian's tree: with the flags Debian's nginx was
# built with, so the .so loads into it). nginx compiles each source once.

NGINX_BUILD := $(BUILD)/nginx
# Extra flags for the module objects (sanitizer builds set them).
MODULE_CXXFLAGS ?=
MODULE_CFLAGS ?=
MODULE_LDFLAGS ?=

.PHONY: module
module: $(MODULE)

# nginx's configure reads `config` (which lists the sources) once; rerun it
# when the source list, the tree or the flags change.
CONFIGURE_KEY := $(BUILD)/.configure-key
CONFIGURE_KEY_TEXT := $(NGINX_SRC)|$(MODULE_CFLAGS)|$(MODULE_CXXFLAGS)|$(MODULE_LDFLAGS)|$(CORE_SRCS) $(NGINX_SRCS) $(ALL_HDRS)

$(CONFIGURE_KEY): FORCE
	$(call update_key,$(CONFIGURE_KEY_TEXT))

$(NGINX_BUILD)/objs/Makefile: $(CONFIGURE_KEY) config config.make | $(DEPS_BUILD)
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

# $(MAKE) hands our job slots to nginx's make (make -jN reaches it).
$(MODULE): $(NGINX_BUILD)/objs/Makefile $(CORE_SRCS) $(NGINX_SRCS) $(ALL_HDRS)
	$(MAKE) -C $(NGINX_BUILD) -f objs/Makefile modules
	mkdir -p $(dir $@)
	cp $(NGINX_BUILD)/objs/ngx_http_mailhook_module.so $@

# SPDX-License-Identifier: BSD-2-Clause
# The Debian package (packaging/debian, checked by t/deb.t):
#   make deb   build/deb/libnginx-mod-http-mailhook_<version>_<arch>.deb,
#              built by dpkg-buildpackage with Debian's nginx module tooling
#              (dh-sequence-nginx: nginx_mod build system + dh_nginx)

# The version, in one place: the package version and its changelog follow it.
VERSION := 0.1.0
# A rebuild of the same VERSION (e.g. for a new nginx ABI) needs a higher
# package version for apt to upgrade: make deb DEB_VERSION=0.1.0+nginx1.26.3
DEB_VERSION ?= $(VERSION)
DEB_ARCH := $(shell dpkg --print-architecture 2>/dev/null || echo amd64)
DEB_DIR := $(BUILD)/deb
DEB_SRC_DIR := $(DEB_DIR)/mailhook-$(DEB_VERSION)
DEB := $(DEB_DIR)/libnginx-mod-http-mailhook_$(DEB_VERSION)_$(DEB_ARCH).deb
DEB_INPUTS := config config.make README.md conf.example $(CORE_SRCS) $(NGINX_SRCS) \
	$(ALL_HDRS) $(shell find packaging/debian docs -type f 2>/dev/null) \
	Makefile $(wildcard mk/*.mk src/cli/*)
DEB_MAINTAINER := mailhook maintainers <maintainers@users.noreply.b-seed-62d7a4c5.example>

.PHONY: deb

deb: $(DEB)

# A scratch source package under build/deb: the module and command sources,
# the Makefile (it builds the command), README, docs/, conf.example and
# packaging/debian as debian/, with a changelog written
# from VERSION. dpkg-buildpackage leaves the .deb beside it.
$(DEB): $(DEB_INPUTS) | $(DEPS_DEB)
	rm -rf $(DEB_SRC_DIR) $(DEB_DIR)/libnginx-mod-http-mailhook_* $(DEB_DIR)/mailhook_*
	mkdir -p $(DEB_SRC_DIR)
	cp -a config config.make README.md docs conf.example src Makefile mk $(DEB_SRC_DIR)/
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

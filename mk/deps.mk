# SPDX-License-Identifier: BSD-2-Clause
# Debian packages, one list per job. Every apt-get of the build is here:
# other targets depend on the stamp of their job ($(DEPS_<JOB>)), which
# installs what is missing (as root) and is then left alone.
#
#   make deps                         the build/run packages
#   make deps DEPS_FOR="test bench"   those of other jobs

PACKAGES_build := nginx nginx-dev libhiredis-dev libjansson-dev libssl-dev \
	redis-server redis-tools g++ make perl openssl curl
PACKAGES_test := libgtest-dev libredis-perl libcryptx-perl python3-jsonschema chromium \
	libnet-dns-perl libnginx-mod-nchan prometheus
PACKAGES_deb := build-essential debhelper dpkg-dev nginx nginx-dev \
	libhiredis-dev libjansson-dev libssl-dev
PACKAGES_bench := wrk valgrind linux-perf libnginx-mod-http-lua lua-cjson lua-nginx-redis
PACKAGES_fuzz := clang libclang-rt-14-dev
# upstream trees before 1.21.5 want the old PCRE (newer ones: nginx-dev's PCRE2)
PACKAGES_upstream := libpcre3-dev
DEPS_JOBS := build test deb bench fuzz upstream

DEPS_DIR := $(BUILD)/.deps
DEPS_BUILD := $(DEPS_DIR)/build
DEPS_TEST := $(DEPS_DIR)/test
DEPS_DEB := $(DEPS_DIR)/deb
DEPS_BENCH := $(DEPS_DIR)/bench
DEPS_FUZZ := $(DEPS_DIR)/fuzz
DEPS_UPSTREAM := $(DEPS_DIR)/upstream
DEPS_FOR ?= build

# One apt at a time on this machine, whoever runs it; DPkg::Lock::Timeout
# covers other apt users.
APT_GET := flock /tmp/mailhook-apt.lock apt-get -o DPkg::Lock::Timeout=600

.PHONY: deps $(addprefix deps-,$(DEPS_JOBS)) test-deps deb-deps

deps: $(addprefix $(DEPS_DIR)/,$(DEPS_FOR))
$(foreach job,$(DEPS_JOBS),$(eval deps-$(job): $(DEPS_DIR)/$(job)))
# the names these targets had before mk/
test-deps: deps-test
deb-deps: deps-deb

# Installs the missing packages of job $*, then touches the stamp.
$(DEPS_DIR)/%:
	@[ -n "$(PACKAGES_$*)" ] || { echo "no package list for job '$*' (jobs: $(DEPS_JOBS))"; exit 1; }
	@missing=$$(for p in $(PACKAGES_$*); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	  done); \
	if [ -n "$$missing" ]; then \
	  echo "installing ($*):" $$missing; \
	  if [ "$$(id -u)" -ne 0 ]; then echo "run as root (or install: $$missing)"; exit 1; fi; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  $(APT_GET) install -y --no-install-recommends $$missing \
	    || { $(APT_GET) update && $(APT_GET) install -y --no-install-recommends $$missing; }; \
	fi
	@mkdir -p $(dir $@) && touch $@

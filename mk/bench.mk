# SPDX-License-Identifier: BSD-2-Clause
# Benchmarks (not tests): numbers, not pass/fail.
#
#   make bench       requests through nginx and Redis (bench/run.pl, wrk),
#                    beside return 204, an ngx_lua peer and the Redis limit
#   make bench-redis instructions redis-server spends per store call, counted
#                    by callgrind (reproducible, like bench-core)
#   make bench-nginx instructions the nginx worker spends per request (nginx,
#                    glue, Redis link and core), counted by callgrind
#   make bench-soak  one long run (BENCH_SOAK_REQUESTS)
#   make bench-cluster events/s on a 3-primary local Redis Cluster vs one
#                    Redis, and a cluster's failover gap (bench/cluster.pl)
#   make bench-sentinel  the Sentinel failover gap: the primary killed -9
#                    under a retrying sender (BENCH_SENTINEL_ROUNDS, 3)
#   make bench-core  instructions of the C++ request path alone (no nginx,
#                    no Redis), counted by callgrind: reproducible whatever
#                    else the machine does

.PHONY: bench bench-redis bench-nginx bench-soak bench-cluster bench-sentinel bench-core core-bench redis-limit

BENCH_ENV = MAILHOOK_MODULE=$(CURDIR)/$(MODULE) NGINX_BIN=$(NGINX_BIN) \
	MAILHOOK_REDIS_LIMIT_BIN=$(CURDIR)/$(CORE_BENCH_BUILD)/bin/redis_limit

bench: $(MODULE) | $(DEPS_BENCH)
	$(MAKE) BUILD=$(CORE_BENCH_BUILD) CXXFLAGS="-O2 -g" redis-limit
	$(BENCH_ENV) perl bench/run.pl

# redis-server's own instructions per store call (callgrind): reproducible.
bench-redis: | $(DEPS_BENCH)
	$(MAKE) BUILD=$(CORE_BENCH_BUILD) CXXFLAGS="-O2 -g" redis-limit
	$(BENCH_ENV) BENCH_REDIS_INSTRUCTIONS=1 perl bench/run.pl

bench-nginx: $(MODULE) | $(DEPS_BENCH)
	$(BENCH_ENV) BENCH_NGINX_INSTRUCTIONS=1 perl bench/run.pl

bench-soak: $(MODULE) | $(DEPS_BENCH)
	$(BENCH_ENV) BENCH_SOAK=1 perl bench/run.pl

bench-cluster: $(MODULE) | $(DEPS_BENCH)
	$(BENCH_ENV) perl bench/cluster.pl

bench-sentinel: $(MODULE) | $(DEPS_TEST)
	$(BENCH_ENV) perl bench/sentinel_failover.pl $(BENCH_SENTINEL_ROUNDS)

# The core bench links $(CORE_LIB) built at -O2 (as nginx builds the module)
# in a build dir of its own: the unit tests' library is -O1.
CORE_BENCH_BUILD := $(BUILD)/bench
CORE_BENCH := $(BUILD)/bin/core_bench
CORE_BENCH_OBJS := $(call objects_of,bench/core_bench.cpp)

bench-core: | $(DEPS_BENCH)
	$(MAKE) BUILD=$(CORE_BENCH_BUILD) CXXFLAGS="-O2 -g" core-bench
	@bench=$(CORE_BENCH_BUILD)/bin/core_bench; \
	$$bench 20000; \
	for m in a b; do \
	  one=$$(valgrind --tool=callgrind --callgrind-out-file=/dev/null $$bench 1000 $$m 2>&1 | sed -n 's/.*refs: *//p' | tr -d ,); \
	  three=$$(valgrind --tool=callgrind --callgrind-out-file=/dev/null $$bench 3000 $$m 2>&1 | sed -n 's/.*refs: *//p' | tr -d ,); \
	  if [ $$m = a ]; then echo "A: $$(( (three - one) / 2000 )) instructions per single-event request"; \
	  else echo "B: $$(( (three - one) / 2000 )) instructions per event of a 100-event batch (no ECDSA)"; fi; \
	done

core-bench: $(CORE_BENCH)
$(CORE_BENCH): $(CORE_BENCH_OBJS) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -o $@ $(CORE_BENCH_OBJS) $(CORE_LIB) $(CORE_LIBS)
# bench/core_bench.cpp borrows t/unit's helpers.
$(CORE_BENCH_OBJS): CORE_CXXFLAGS += -I.
-include $(CORE_BENCH_OBJS:.o=.d)

# The Redis limit's client (bench/redis_limit.cpp), built like core_bench.
REDIS_LIMIT := $(BUILD)/bin/redis_limit
REDIS_LIMIT_OBJS := $(call objects_of,bench/redis_limit.cpp)
redis-limit: $(REDIS_LIMIT)
$(REDIS_LIMIT): $(REDIS_LIMIT_OBJS) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -o $@ $(REDIS_LIMIT_OBJS) $(CORE_LIB) $(CORE_LIBS) -lhiredis
$(REDIS_LIMIT_OBJS): CORE_CXXFLAGS += -I.
-include $(REDIS_LIMIT_OBJS:.o=.d)

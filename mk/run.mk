# SPDX-License-Identifier: BSD-2-Clause
# Run it for real on loopback: Redis on 6379, nginx with conf.example on 8080.

NGINX_RUN := $(NGINX_BIN) -p $(CURDIR)/ -c conf.example -e $(RUN_DIR)/error.log \
	$(if $(filter 0,$(shell id -u)),-g "user root;")

.PHONY: run stop

run: $(MODULE) | $(DEPS_BUILD)
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
	@echo "metrics: curl -s http://127.0.0.1:8080/metrics (conf.example's location = /metrics)"
	@tools/example-request

stop:
	-@[ -f $(RUN_DIR)/nginx.pid ] && $(NGINX_RUN) -s quit && echo "nginx: stopped" || true
	-@[ -f $(RUN_DIR)/redis.pid ] && kill $$(cat $(RUN_DIR)/redis.pid) && rm -f $(RUN_DIR)/redis.pid \
	  && echo "redis: stopped" || true

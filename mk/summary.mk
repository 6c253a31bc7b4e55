# SPDX-License-Identifier: BSD-2-Clause
# What the last test runs passed with. Each run below writes its output to
# $(SUMMARY_DIR)/<run>.log and, only when it passes, one line to <run>.txt
# (removed before the run starts): the counts, against which nginx, at
# which commit, when. `make test-summary` prints those lines: every test
# count or "tested with" line in the docs is one of them.

SUMMARY_DIR := $(CURDIR)/build/test-summary

# $(call recorded,<run>,<command>,<summary>): runs <command> (its output
# also to <run>.log), then records <summary>, a shell expression that reads
# the log on stdin.
define recorded
@mkdir -p $(SUMMARY_DIR) && rm -f $(SUMMARY_DIR)/$(1).txt
$(2) 2>&1 | tee $(SUMMARY_DIR)/$(1).log
@line=$$($(3) < $(SUMMARY_DIR)/$(1).log); \
  printf '%-22s %s (%s, %s)\n' "$(1)" "$$line" \
    "$$(git describe --always --dirty 2>/dev/null || echo 'no git')" "$$(date -u +%F)" \
    > $(SUMMARY_DIR)/$(1).txt
endef

# Summaries: gtest's count; prove's counts and skipped files of run $(2),
# with the version of the nginx binary $(1) the module ran in.
UNIT_SUMMARY := sed -n 's/^\[  PASSED  \] \([0-9]*\) tests\..*/\1 unit tests passed/p'
prove_summary = { printf '%s: ' "$$($(1) -v 2>&1 | sed 's/^nginx version: //')"; \
  sed -n 's/^Files=\([0-9]*\), Tests=\([0-9]*\),.*/\1 files, \2 tests passed/p' | tr '\n' ' '; \
  printf '(%s skipped)' "$$(grep -c '\.\. skipped' $(SUMMARY_DIR)/$(2).log || true)"; }

.PHONY: test-summary
test-summary:
	@cat $(SUMMARY_DIR)/*.txt 2>/dev/null || echo "no passing run recorded yet (make test)"

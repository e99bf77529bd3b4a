# mk/mutants.mk: `make mutants`, mutation testing of the guarantees (included
# by the Makefile; mutants/run says how it works).
#
#   make mutants                      every mutation in mutants/, two at a time
#   make mutants MUTANTS=mutants/key-masked.patch   some of them
#   make check-mutants                the same, as one line of `make check`
#
# Each mutants/<name>.patch removes one promise; its header names the promise
# and the specs that must catch it. A mutation is killed (the specs fail),
# SURVIVED (they pass: the promise is not pinned), STALE (the patch no longer
# applies) or BROKEN (it does not build, or no spec ran). Only "all killed" passes.

MUTANTS ?=

.PHONY: mutants check-mutants

mutants: build emulator
	@mutants/run $(MUTANTS)

check-mutants: build emulator
	@mkdir -p $(CHECK_DIR); rm -f $(CHECK_DIR)/mutants.line
	@( mutants/run $(MUTANTS); echo $$? > $(CHECK_DIR)/mutants.rc ) 2>&1 | tee $(CHECK_DIR)/mutants.log
	@cp build/mutants/summary.line $(CHECK_DIR)/mutants.line 2>/dev/null; test "$$(cat $(CHECK_DIR)/mutants.rc)" = 0

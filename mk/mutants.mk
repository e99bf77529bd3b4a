# mk/mutants.mk: `make mutants`, mutation testing of the promises (included
# by the Makefile; mutants/run says how it works).
#
#   make mutants                      every mutation of mutants/*.lua, two at a time
#   make mutants MUTANTS="atomic-rename journal"   some of them: names or catalogues
#   make check-mutants                the same, as one line of `make check`
#   mutants/run --list                the promises held, per source file
#
# Each row of a catalogue (mutants/<area>.lua) removes one promise by replacing
# its exact lines; the specs that must catch it carry #m-<name>. A mutation is
# killed (the specs fail), SURVIVED (they pass: the promise is not pinned),
# STALE (its lines no longer stand once) or BROKEN (it does not build, or no
# spec carries its tag). Only "all killed" passes.

MUTANTS ?=

.PHONY: mutants check-mutants

mutants: build emulator
	@mutants/run $(MUTANTS)

check-mutants: build emulator
	@mkdir -p $(CHECK_DIR); rm -f $(CHECK_DIR)/mutants.line
	@( mutants/run $(MUTANTS); echo $$? > $(CHECK_DIR)/mutants.rc ) 2>&1 | tee $(CHECK_DIR)/mutants.log
	@cp build/mutants/summary.line $(CHECK_DIR)/mutants.line 2>/dev/null; test "$$(cat $(CHECK_DIR)/mutants.rc)" = 0

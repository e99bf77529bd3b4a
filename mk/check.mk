# mk/check.mk: `make check`, the quality checks (included by the Makefile).
#
#   check-werror    the core, the emulator and the C host build with -Wall -Wextra -Werror
#   check-cppcheck  cppcheck on src/, emulator/ and fuzz/
#   check-asan      the #c specs that run no child (C_SPECS) with the core built by clang
#                   with ASan + UBSan (LeakSanitizer on), the runtime preloaded into lua5.4
#   check-emulator-asan  the emulator built by clang with ASan + UBSan
#                   (build/asan/seedance-emulator), its specs (spec/emulator/) run
#                   against it (SEEDANCE_EMULATOR_BIN); any sanitizer report in its logs
#                   (build/check/emulator-asan/) fails the check
#   check-valgrind  the same specs under valgrind --leak-check=full
#   check-gc-incremental, check-gc-generational
#                   the same specs under an aggressive collector, in each GC mode
#   check-mutants   every mutation (mk/mutants.mk)
#
# luacheck runs in make lint (make test). Each check-<name> runs alone too;
# `make check` runs them two at a time (mk/stages), prints one line per check
# with its time and fails when any failed. Logs go to build/check/.
# Which specs a pass runs is chosen by their tags (C_SPECS in the Makefile):
# a spec whose work runs in another process (#child: the command, the
# examples, real hosts, LuaRocks) is left out, since ASan, valgrind and the
# collector's stress watch the busted process only.
# Knobs: CHECKS (which ones), CHECK_JOBS, CHECK_SPECS (what asan/gc run),
# EMU_ASAN_SPECS, VALGRIND_SPECS, GC_EVERY.

CLANG          ?= clang-14
CPPCHECK       ?= cppcheck
VALGRIND       ?= valgrind
CHECKS         ?= werror cppcheck asan emulator-asan valgrind gc-incremental gc-generational mutants
CHECK_JOBS     ?= 2
CHECK_SPECS    ?= $(C_SPECS)
VALGRIND_SPECS ?= $(CHECK_SPECS)
EMU_ASAN_SPECS ?= spec/emulator
GC_EVERY       ?= 200
CHECK_DIR       = build/check

ASAN_RT    := $(shell $(CLANG) -print-file-name=libclang_rt.asan-x86_64.so 2>/dev/null)
SAN_CFLAGS  = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
ASAN_SO     = build/asan/seedance/core.so
EMU_ASAN    = build/asan/seedance-emulator
EMU_SAN_LOG = $(CHECK_DIR)/emulator-asan

VALGRIND_FLAGS = --leak-check=full --errors-for-leak-kinds=definite,indirect \
                 --show-leak-kinds=definite,indirect --error-exitcode=99 --num-callers=30
CPPCHECK_FLAGS = -q --std=c99 --library=posix --enable=warning,performance,portability \
                 --error-exitcode=1 --inline-suppr

# busted inside this very interpreter (--ignore-lua), so valgrind and the
# preloaded ASan runtime watch the process that runs the specs.
BUSTED_ARGS = $(BUSTED) --ignore-lua --helper=spec/support/check_helper.lua -o spec/support/summary.lua
BUSTED_HERE = $(LUA) $(BUSTED_ARGS)

# A sanitizer report in the log (from this process or a child it started).
SAN_REPORT = ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: [A-Za-z]*Sanitizer

.PHONY: check check-werror check-cppcheck check-asan check-emulator-asan check-valgrind check-gc-incremental \
        check-gc-generational check-deps

check: check-deps
	@$(MAKE) --no-print-directory -j$(NPROC) build emulator $(ASAN_SO) $(EMU_ASAN)
	@MAKE="$(MAKE)" mk/stages check $(CHECK_JOBS) $(CHECK_DIR) $(CHECKS:%=check-%)

check-deps:
	@sh .ci/install-deps check

check-werror:
	@mkdir -p $(CHECK_DIR); rm -f $(CHECK_DIR)/werror.line
	@$(MAKE) --no-print-directory build emulator c-host
	@echo "$(CC) -Wall -Wextra -Werror: core, emulator and C host build clean (every build here uses these flags)" \
	    | tee $(CHECK_DIR)/werror.line

check-cppcheck:
	@mkdir -p $(CHECK_DIR); rm -f $(CHECK_DIR)/cppcheck.line
	$(CPPCHECK) $(CPPCHECK_FLAGS) -I src src/*.c
	@if [ -n "$(wildcard emulator/*.c)" ]; then \
	    echo "$(CPPCHECK) $(CPPCHECK_FLAGS) -I src -I emulator emulator/*.c"; \
	    $(CPPCHECK) $(CPPCHECK_FLAGS) -I src -I emulator emulator/*.c; fi
	@if [ -n "$(wildcard fuzz/*.c)" ]; then \
	    echo "$(CPPCHECK) $(CPPCHECK_FLAGS) -I src fuzz/*.c"; \
	    $(CPPCHECK) $(CPPCHECK_FLAGS) -I src fuzz/*.c; fi
	@echo "cppcheck $$($(CPPCHECK) --version | cut -d' ' -f2): no findings in src/ emulator/ fuzz/" \
	    | tee $(CHECK_DIR)/cppcheck.line

# The core built by clang with AddressSanitizer + UndefinedBehaviorSanitizer
# (-Werror too). UB aborts at once (-fno-sanitize-recover).
$(eval $(call c_objects,asan,$(CLANG) $(SAN_CFLAGS) $(CORE_CFLAGS) $(LUA_INC)))
$(eval $(call c_objects,emu-asan,$(CLANG) $(SAN_CFLAGS) $(EMU_CFLAGS)))

$(ASAN_SO): $(call objs_of,asan,$(CORE_SRC))
	@mkdir -p $(dir $@)
	$(CLANG) $(SAN_CFLAGS) -shared -o $@ $^ $(CORE_LIBS)

# Run a spec command with output to the terminal and $(CHECK_DIR)/$(1).log;
# its status goes to $(CHECK_DIR)/$(1).rc.
define check_run
( $(2); echo $$? > $(CHECK_DIR)/$(1).rc ) 2>&1 | tee $(CHECK_DIR)/$(1).log
endef

# Children: the preloaded runtime must not reach programs such as curl (which
# hangs in setlocale under it), so the helper unsets LD_PRELOAD for every
# command the specs start. Lua children load the ordinary core (LUA_CPATH),
# while this process loads the ASan one (--cpath comes first); a spec that
# wants its child checked too (core/lifetime_spec) preloads SEEDANCE_CHILD_PRELOAD itself.
check-asan: $(ASAN_SO) build
	@mkdir -p $(CHECK_DIR); rm -f $(CHECK_DIR)/asan.line
	@$(MAKE) --no-print-directory emulator
	@test -f "$(ASAN_RT)" || { echo "check-asan: no ASan runtime from $(CLANG) (install libclang-rt-14-dev)"; exit 1; }
	@$(call check_run,asan,LD_PRELOAD=$(ASAN_RT) SEEDANCE_CHECK_UNPRELOAD=1 SEEDANCE_CHILD_PRELOAD=$(ASAN_RT) \
	    ASAN_OPTIONS=detect_leaks=1:detect_stack_use_after_return=1:strict_init_order=1 \
	    LSAN_OPTIONS=suppressions=$(CURDIR)/spec/support/lsan.supp:print_suppressions=0 \
	    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 SEEDANCE_CHECK_CORE=$(ASAN_SO) \
	    $(BUSTED_HERE) --cpath='build/asan/?.so' $(CHECK_SPECS))
	@rc=$$(cat $(CHECK_DIR)/asan.rc); reports=$$(grep -cE '$(SAN_REPORT)' $(CHECK_DIR)/asan.log); \
	specs=$$(grep -a '^busted: ' $(CHECK_DIR)/asan.log | tail -1 | sed 's/^busted: //'); \
	echo "ASan+UBSan+LSan: $${specs:-no busted summary}; sanitizer reports: $$reports (exit $$rc)" \
	    | tee $(CHECK_DIR)/asan.line; \
	test "$$rc" = 0 && test "$$reports" = 0

# The emulator built by clang with ASan + UBSan (-Werror too), its specs run
# against it. The emulator's own output goes to a temporary file the spec
# helper deletes, so the sanitizers write their reports to files of their own
# (log_path: <prefix>.<pid>, one per emulator started) that outlive it; a
# report there fails the check even when the spec that provoked it passed.
$(EMU_ASAN): $(call objs_of,emu-asan,$(EMU_SRC))
	@mkdir -p $(dir $@)
	$(CLANG) $(SAN_CFLAGS) -o $@ $^ $(EMU_LIBS) -lpthread -lm

check-emulator-asan: $(EMU_ASAN)
	@mkdir -p $(CHECK_DIR); rm -f $(CHECK_DIR)/emulator-asan.line; rm -rf $(EMU_SAN_LOG); mkdir -p $(EMU_SAN_LOG)
	@$(call check_run,emulator-asan,SEEDANCE_EMULATOR_BIN=$(CURDIR)/$(EMU_ASAN) \
	    ASAN_OPTIONS=log_path=$(CURDIR)/$(EMU_SAN_LOG)/san:detect_leaks=1:detect_stack_use_after_return=1 \
	    UBSAN_OPTIONS=log_path=$(CURDIR)/$(EMU_SAN_LOG)/san:halt_on_error=1:print_stacktrace=1 \
	    $(LUA) $(BUSTED) --lua=$(LUA) -o spec/support/summary.lua $(EMU_ASAN_SPECS))
	@rc=$$(cat $(CHECK_DIR)/emulator-asan.rc); \
	reports=$$(cat $(EMU_SAN_LOG)/san.* 2>/dev/null | grep -cE '$(SAN_REPORT)'); \
	specs=$$(grep -a '^busted: ' $(CHECK_DIR)/emulator-asan.log | tail -1 | sed 's/^busted: //'); \
	echo "emulator ASan+UBSan+LSan: $${specs:-no busted summary}; sanitizer reports: $$reports (exit $$rc)" \
	    | tee $(CHECK_DIR)/emulator-asan.line; \
	if [ "$$reports" != 0 ]; then for f in $(EMU_SAN_LOG)/san.*; do echo "== $$f"; head -40 "$$f"; done; fi; \
	test "$$rc" = 0 && test "$$reports" = 0

check-valgrind: build
	@mkdir -p $(CHECK_DIR); rm -f $(CHECK_DIR)/valgrind.line
	@$(MAKE) --no-print-directory emulator
	@$(call check_run,valgrind,SEEDANCE_CHECK_CORE=$(CORE_SO) $(VALGRIND) $(VALGRIND_FLAGS) --log-file=$(CHECK_DIR)/valgrind.out \
	    $(BUSTED_HERE) $(VALGRIND_SPECS))
	@rc=$$(cat $(CHECK_DIR)/valgrind.rc); out=$(CHECK_DIR)/valgrind.out; \
	errs=$$(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' $$out | tail -1); \
	def=$$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' $$out | tail -1); \
	ind=$$(sed -n 's/.*indirectly lost: \([0-9,]*\) bytes.*/\1/p' $$out | tail -1); \
	specs=$$(grep -a '^busted: ' $(CHECK_DIR)/valgrind.log | tail -1 | sed 's/^busted: //'); \
	echo "valgrind: $${specs:-no busted summary}; $${errs:-?} errors, definitely lost $${def:-0} B, indirectly lost $${ind:-0} B (exit $$rc)" \
	    | tee $(CHECK_DIR)/valgrind.line; \
	if [ "$$rc" != 0 ]; then grep -A40 -E 'Invalid|uninitialised|definitely lost in|indirectly lost in' $$out | head -120; fi; \
	test "$$rc" = 0

check-gc-incremental check-gc-generational: check-gc-%: build
	@mkdir -p $(CHECK_DIR); rm -f $(CHECK_DIR)/gc-$*.line
	@$(MAKE) --no-print-directory emulator
	@$(call check_run,gc-$*,SEEDANCE_GC_STRESS=$* SEEDANCE_GC_EVERY=$(GC_EVERY) $(BUSTED_HERE) $(CHECK_SPECS))
	@rc=$$(cat $(CHECK_DIR)/gc-$*.rc); \
	specs=$$(grep -a '^busted: ' $(CHECK_DIR)/gc-$*.log | tail -1 | sed 's/^busted: //'); \
	n=$$(sed -n 's/^gc stress .*: \([0-9]*\) collections$$/\1/p' $(CHECK_DIR)/gc-$*.log | tail -1); \
	echo "GC stress, $* (a step every $(GC_EVERY) instructions): $${specs:-no busted summary}, $${n:-?} collections" \
	    | tee $(CHECK_DIR)/gc-$*.line; \
	test "$$rc" = 0

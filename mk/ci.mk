# mk/ci.mk: what CI runs once .ci/install-deps has installed what a bare
# machine lacks (included by the Makefile).
#
#   make ci          ci-build, then every stage CI_JOBS at a time (mk/stages),
#                    each timed, its log in build/ci/<stage>.log, then one
#                    table of stage times (build/ci/ci.times)
#   make ci-<stage>  one stage alone
#
# The stages, longest first so that two slots finish together:
#   ci-valgrind, ci-gc-incremental, ci-gc-generational, ci-asan,
#   ci-emulator-asan                   make check's runs over the #c specs
#   ci-test                            the README's test command: lint, then every spec under Lua 5.4
#   ci-luajit                          every spec under LuaJIT (what engines embed)
#   ci-lua5.1, ci-lua5.2, ci-lua5.3    the #compat specs under each
#   ci-mutants                         every mutation killed
#   ci-windows                         the MinGW-w64 builds, the zip for game developers (make windows-dist)
#                                      and its smoke suite under Wine from the unpacked zip, both ABIs
#   ci-cppcheck, ci-werror
# Nothing is built twice: ci-build compiles every core and emulator the
# stages use, one object per file, CI_JOBS at a time.

# Three stages at a time on two cores: the spec passes spend most of their time waiting on
# sockets and the emulator's clock (make test: 2 min of CPU in 6.5 min), so a third
# stage fills what they leave idle (a whole CI here: 23 min with 2 at a time, 19 with 3).
CI_JOBS   ?= 3
CI_DIR     = build/ci
CI_STAGES ?= ci-valgrind ci-gc-incremental ci-mutants ci-test ci-gc-generational ci-luajit ci-asan \
             ci-windows ci-lua5.1 ci-lua5.2 ci-lua5.3 ci-emulator-asan ci-cppcheck ci-werror

.PHONY: ci ci-build $(CI_STAGES)

ci:
	@mkdir -p $(CI_DIR); t0=$$(date +%s); $(MAKE) --no-print-directory ci-build > $(CI_DIR)-build.log 2>&1 || \
	    { tail -40 $(CI_DIR)-build.log; exit 1; }; echo "ci-build: $$(( $$(date +%s) - t0 )) s"
	@MAKE="$(MAKE)" mk/stages ci $(CI_JOBS) $(CI_DIR) $(CI_STAGES)

ci-build:
	@mkdir -p $(CI_DIR)
	$(MAKE) --no-print-directory -j$(NPROC) build emulator c-host $(OTHER_LUAS:%=build-%) $(ASAN_SO) $(EMU_ASAN)

ci-test:
	@$(MAKE) --no-print-directory test
	@grep -a '^busted: ' $(CI_DIR)/ci-test.log | tail -1 > $(CI_DIR)/ci-test.line || true

ci-luajit ci-lua5.1 ci-lua5.2 ci-lua5.3: ci-%:
	@$(MAKE) --no-print-directory test-$*
	@cp $(ALL_LUA_DIR)/$*.line $(CI_DIR)/ci-$*.line 2>/dev/null || true

ci-valgrind ci-gc-incremental ci-gc-generational ci-asan ci-emulator-asan ci-mutants ci-cppcheck ci-werror: ci-%:
	@$(MAKE) --no-print-directory check-$*
	@cp $(CHECK_DIR)/$*.line $(CI_DIR)/ci-$*.line 2>/dev/null || true

ci-windows:
	@$(MAKE) --no-print-directory windows-dist-smoke
	@{ printf 'lua54 '; tail -1 build/windows/smoke-lua54.log; printf 'luajit '; tail -1 build/windows/smoke-luajit.log; } \
	    | paste -sd ';' > $(CI_DIR)/ci-windows.line 2>/dev/null || true

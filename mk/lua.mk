# mk/lua.mk: the same code under every Lua the hosts embed (included by the
# Makefile).
#
#   make test-all-lua      the spec suite under Lua 5.4 (make test), then under
#                          LuaJIT, and its #compat specs under Lua 5.1, 5.2 and 5.3,
#                          each with its own core
#   make test-lua5.1       one of them (lua5.1 lua5.2 lua5.3 luajit)
#   make build-luajit      build/luajit/seedance/core.so (also build-lua5.1 ...)
#
# Each interpreter gets the core compiled against its own headers in
# build/<lua>/seedance/core.so, and runs busted itself (--lua and --cpath
# override .busted, whose lua5.4 and build/?.so would otherwise win). Specs
# that start Lua children (the CLI, the examples, the crash test) start this
# same interpreter, named by SEEDANCE_SPEC_LUA, with this run's paths.
# The specs that need something only one version has say so and skip
# themselves; every skip is printed in the busted summary.

OTHER_LUAS ?= lua5.1 lua5.2 lua5.3 luajit
# LuaJIT, which most engines and editors embed, runs every spec but the
# emulator's own (a C program that runs the same under every Lua); Lua 5.1,
# 5.2 and 5.3 run the specs tagged #compat, those that touch what differs
# between versions (the scheduler and coroutines, callbacks, compat.lua, the
# core's reading of Lua values). The version-neutral rest is Lua code the 5.4
# and LuaJIT runs already exercise.
LUAJIT_SPECS ?= --exclude-tags=$(call tag,emulator) spec
LUA_SPECS_luajit = $(LUAJIT_SPECS)
LUA_SPECS_lua5.1 = $(COMPAT_SPECS)
LUA_SPECS_lua5.2 = $(COMPAT_SPECS)
LUA_SPECS_lua5.3 = $(COMPAT_SPECS)
ALL_LUA_DIR = build/check

.PHONY: test-all-lua $(OTHER_LUAS:%=test-%) $(OTHER_LUAS:%=build-%)

$(OTHER_LUAS:%=build-%): build-%: build/%/seedance/core.so

# one folder of objects per interpreter, compiled against its headers
$(foreach l,$(OTHER_LUAS),$(eval $(call c_objects,$(l),$(CC) $(CFLAGS) $(CORE_CFLAGS) $(shell pkg-config --cflags $(l) 2>/dev/null))))

.SECONDEXPANSION:
build/%/seedance/core.so: $$(call objs_of,$$*,$(CORE_SRC))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -shared -o $@ $^ $(CORE_LIBS)

$(OTHER_LUAS:%=test-%): test-%: build/%/seedance/core.so
	@$(MAKE) --no-print-directory emulator
	@mkdir -p $(ALL_LUA_DIR)
	@( SEEDANCE_SPEC_LUA=$* LUA_CPATH='$(CURDIR)/build/$*/?.so;;' \
	    $* $(BUSTED) --lua=$* --cpath='build/$*/?.so' -o spec/support/summary.lua $(LUA_SPECS_$*); \
	    echo $$? > $(ALL_LUA_DIR)/$*.rc ) 2>&1 | tee $(ALL_LUA_DIR)/$*.log
	@grep -a '^busted: ' $(ALL_LUA_DIR)/$*.log | tail -1 > $(ALL_LUA_DIR)/$*.line
	@test "$$(cat $(ALL_LUA_DIR)/$*.rc)" = 0

test-all-lua: test
	@MAKE="$(MAKE)" mk/run-each "make test-all-lua" test $(ALL_LUA_DIR) $(OTHER_LUAS)

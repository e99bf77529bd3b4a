# mk/bench.mk: `make bench`, the benchmarks of bench/ (included by the Makefile).
#
#   make bench               every row at full size (a few minutes), one table;
#                            the table also goes to build/bench/table.md
#   make bench BENCH_QUICK=1 smaller sizes, for a first look
#   make bench BENCH=b2      some of them only (b1 ... b7, space-separated)
#   make bench-profile PROFILE=b1   where B1's (b2's, b3's) CPU or memory goes:
#                            perf/callgrind/massif of the Lua process, top entries
#
# bench/RESULTS.md keeps the figures of the last full run with the command.

BENCH       ?=
BENCH_QUICK ?=
PROFILE     ?= b1

PEER_C     = build/bench/peer_c
CJSON_INC := $(shell pkg-config --cflags libcjson 2>/dev/null)
CJSON_LIB := $(shell pkg-config --libs libcjson 2>/dev/null || echo -lcjson)

.PHONY: bench bench-tools bench-profile bench-profile-tools

$(PEER_C): bench/peer_c.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -std=c99 $(CURL_INC) $(CJSON_INC) -o $@ bench/peer_c.c -lcurl $(CJSON_LIB)

# For profiles (make bench-profile), programs whose Lua and libcurl have
# their symbols: Debian's lua5.4 and libcurl.so are stripped, so perf,
# callgrind and massif would see addresses only. build/bench/lua-prof is a
# Lua 5.4 interpreter on Debian's liblua5.4.a with Debian's libcurl.a linked
# in whole and exported (-Wl,-E); build/bench/prof/seedance/core.so is the
# core built without -lcurl, so it binds to that libcurl; peer_c-prof is the
# C peer on the same libcurl.a. Same sources and versions as the shared
# libraries, so the profiles stand for `make bench`'s programs.
LIB_DIR      = /usr/lib/x86_64-linux-gnu
LUA_PROF     = build/bench/lua-prof
PEER_C_PROF  = build/bench/peer_c-prof
CORE_PROF    = build/bench/prof/seedance/core.so
# libcurl.a's dependencies, each by its exact file when the unversioned .so link is missing
CURL_STATIC_DEPS = $(shell for l in $$(pkg-config --static --libs-only-l libcurl | tr ' ' '\n' | sed -n 's/^-l//p' \
	| grep -vx curl); do if [ -e $(LIB_DIR)/lib$$l.so ]; then echo -l$$l; else \
	f=$$(ls $(LIB_DIR)/lib$$l.so.* $(LIB_DIR)/lib$$l-*.so.* 2>/dev/null | head -1); [ -n "$$f" ] && echo -l:$$(basename $$f); \
	fi; done | awk '!seen[$$0]++' | tr '\n' ' ')

$(LUA_PROF): bench/lua_prof.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -std=c99 $(LUA_INC) -o $@ bench/lua_prof.c -Wl,-E $(LIB_DIR)/liblua5.4.a \
		-Wl,--whole-archive $(LIB_DIR)/libcurl.a -Wl,--no-whole-archive $(CURL_STATIC_DEPS) -lm -ldl -lpthread

$(PEER_C_PROF): bench/peer_c.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -std=c99 $(CURL_INC) $(CJSON_INC) -o $@ bench/peer_c.c $(LIB_DIR)/libcurl.a \
		$(CURL_STATIC_DEPS) $(CJSON_LIB) -lpthread

$(CORE_PROF): $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -std=c99 -fPIC -shared $(LUA_INC) $(CURL_INC) -o $@ $(CORE_SRC) -lpthread -lm

bench-tools: $(PEER_C)

bench-profile-tools: $(PEER_C) $(LUA_PROF) $(PEER_C_PROF) $(CORE_PROF)

bench:
	@sh .ci/install-deps bench
	@$(MAKE) --no-print-directory build emulator bench-tools
	$(LUA) bench/run.lua $(if $(BENCH_QUICK),quick) $(BENCH)

bench-profile:
	@sh .ci/install-deps bench
	@$(MAKE) --no-print-directory build emulator bench-profile-tools
	$(LUA) bench/profile.lua $(PROFILE)

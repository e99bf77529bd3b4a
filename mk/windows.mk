# mk/windows.mk: seedance for 64-bit Windows, cross-built on Debian with
# MinGW-w64 and tried under Wine (included by the Makefile).
#
#   make windows        fetch Debian's sources of Lua 5.4, curl and lua-cjson
#                       (apt-get source: needs a deb-src entry, which
#                       `sh .ci/install-deps windows` adds), build them and
#                       seedance.core for Windows into build/windows/dist/:
#                         lua.exe, lua54.dll        Lua 5.4
#                         libcurl.dll               curl with Schannel (Windows' own TLS:
#                                                   no OpenSSL), IPv6, SSPI; no optional libraries
#                         cjson.dll                 lua-cjson
#                         seedance/core.dll         the C core
#                         lua/seedance/**.lua       the Lua modules (the command's and the adapters' too)
#                         lua/argparse.lua          lua-argparse (plain Lua), which the command parses with
#                         seedance.lua, seedance.cmd  the command and its launcher
#                       That folder runs as it is on Windows: Lua finds modules
#                       beside lua.exe (`!\lua\?.lua`, `!\?.dll`).
#   make windows-smoke  windows/smoke.lua (plain Lua, no busted) under Wine's
#                       lua.exe against the Linux emulator on loopback; its
#                       log goes to build/windows/smoke.log.
#   make windows-dist   the package for game developers, a zip:
#                       build/windows/seedance-VERSION-windows-x64.zip holds
#                       seedance-VERSION-windows-x64/
#                         README.md   windows/README.md: which folder for which host, TLS and CA certificates
#                         luajit/     for LuaJIT hosts (LOVE 11 and most engines): seedance/core.dll built
#                                     against the Lua 5.1 ABI and linked to lua51.dll, the name LOVE's
#                                     LuaJIT DLL has; cjson.dll likewise; libcurl.dll; lua/seedance/**.lua.
#                                     No Lua of its own: its contents go beside the host's .exe.
#                         lua54/      the folder make windows builds: Lua 5.4 (lua.exe, lua54.dll), the
#                                     core, cjson.dll, libcurl.dll, the modules, the seedance command
#                       Debian's luajit source, built with MinGW-w64 as lua51.dll and luajit.exe
#                       (build/windows/luajit/), is what the LuaJIT core links against and what
#                       stands for a LuaJIT host in the smoke run.
#   make windows-dist-smoke  the zip unpacked (build/windows/unzipped/), then the smoke suite under
#                       Wine twice: with its lua54/ folder's lua.exe, and with its luajit/ folder
#                       copied beside luajit.exe and lua51.dll (build/windows/luajit-host/), as a
#                       game's folder holds them; logs build/windows/smoke-lua54.log and smoke-luajit.log.
#
# Knobs: WIN_CROSS (the tool prefix), WINE (Debian's wine64 launcher, not on
# PATH), WIN_JOBS (parallel jobs for curl), WIN_ARGPARSE (the argparse.lua to
# ship: Debian's lua-argparse by default).

WIN_CROSS  ?= x86_64-w64-mingw32-
WIN_CC      = $(WIN_CROSS)gcc
WINE       ?= /usr/lib/wine/wine64
WIN_JOBS   ?= $(shell nproc 2>/dev/null || echo 2)
WIN_DIR     = build/windows
WIN_SRC     = $(WIN_DIR)/src
WIN_OBJ     = $(WIN_DIR)/obj
WIN_DIST    = $(WIN_DIR)/dist
WIN_FLAGS   = -O2 -D_WIN32_WINNT=0x0600 -DLUA_BUILD_AS_DLL
WIN_LDFLAGS = -static-libgcc -s

WIN_LUA_DIR   = $(WIN_SRC)/lua5.4
WIN_CURL_DIR  = $(WIN_SRC)/curl
WIN_CJSON_DIR = $(WIN_SRC)/lua-cjson
WIN_LUA_CORE  = lapi lcode lctype ldebug ldo ldump lfunc lgc llex lmem lobject lopcodes lparser lstate lstring \
                ltable ltm lundump lvm lzio lauxlib lbaselib lcorolib ldblib liolib lmathlib loadlib loslib \
                lstrlib ltablib lutf8lib linit
WIN_LUA_OBJ   = $(patsubst %,$(WIN_OBJ)/lua/%.o,$(WIN_LUA_CORE))
WIN_LUA_LIB   = $(WIN_OBJ)/liblua54.dll.a
WIN_CURL_LIB  = $(WIN_CURL_DIR)/lib/libcurl.dll.a
WIN_LUA_MODS  = $(patsubst lua/%,$(WIN_DIST)/lua/%,$(wildcard lua/seedance/*.lua lua/seedance/*/*.lua)) \
                $(WIN_DIST)/lua/argparse.lua
WIN_ARGPARSE ?= /usr/share/lua/5.4/argparse.lua

WIN_VERSION  := $(shell sed -n 's/^return "\(.*\)"$$/\1/p' lua/seedance/version.lua)
WIN_ZIP_NAME  = seedance-$(WIN_VERSION)-windows-x64
WIN_ZIP       = $(WIN_DIR)/$(WIN_ZIP_NAME).zip
WIN_JIT_DIR   = $(WIN_SRC)/luajit
WIN_JIT       = $(WIN_DIR)/luajit
WIN_JIT_LIB   = $(WIN_JIT_DIR)/src/libluajit-5.1.dll.a
WIN_JIT_DIST  = $(WIN_DIR)/jit-dist
WIN_JIT_MODS  = $(patsubst lua/%,$(WIN_JIT_DIST)/lua/%,$(wildcard lua/seedance/*.lua lua/seedance/*/*.lua))
WIN_UNZIPPED  = $(WIN_DIR)/unzipped/$(WIN_ZIP_NAME)
WIN_JIT_HOST  = $(WIN_DIR)/luajit-host

.PHONY: windows windows-smoke windows-clean windows-dist windows-dist-smoke

windows: $(WIN_DIST)/lua.exe $(WIN_DIST)/lua54.dll $(WIN_DIST)/libcurl.dll $(WIN_DIST)/cjson.dll \
         $(WIN_DIST)/seedance/core.dll $(WIN_LUA_MODS) $(WIN_DIST)/seedance.lua $(WIN_DIST)/seedance.cmd
	@echo "make windows: $(WIN_DIST)/ holds lua.exe, lua54.dll, libcurl.dll, cjson.dll, seedance/core.dll and the Lua modules"

# ---- sources: Debian's source packages, patched as Debian ships them ----
# apt-get source downloads into WIN_SRC; dpkg-source unpacks into a folder
# named without the version, so the rules below do not depend on it.
$(WIN_SRC)/%/.fetched:
	@mkdir -p $(WIN_SRC)/$*.dl
	@command -v dpkg-source >/dev/null || { echo "make windows: dpkg-source missing: sh .ci/install-deps windows" >&2; exit 1; }
	cd $(WIN_SRC)/$*.dl && apt-get source --download-only $* >/dev/null || { \
	    echo "make windows: apt-get source $* failed (no deb-src entry? sh .ci/install-deps windows adds one)" >&2; exit 1; }
	rm -rf $(WIN_SRC)/$*
	dpkg-source --no-check -x $$(ls $(WIN_SRC)/$*.dl/$*_*.dsc | head -n 1) $(WIN_SRC)/$* >/dev/null
	@touch $@

.PRECIOUS: $(WIN_SRC)/%/.fetched

# ---- Lua 5.4: lua54.dll (with its import library) and lua.exe ----
$(WIN_OBJ)/lua/%.o: $(WIN_SRC)/lua5.4/.fetched
	@mkdir -p $(dir $@)
	$(WIN_CC) $(WIN_FLAGS) -std=gnu99 -c -o $@ $(WIN_LUA_DIR)/src/$*.c

$(WIN_DIST)/lua54.dll: $(WIN_LUA_OBJ)
	@mkdir -p $(dir $@)
	$(WIN_CC) -shared $(WIN_LDFLAGS) -o $@ $(WIN_LUA_OBJ) -Wl,--out-implib,$(WIN_LUA_LIB)

$(WIN_LUA_LIB): $(WIN_DIST)/lua54.dll ;

$(WIN_DIST)/lua.exe: $(WIN_LUA_LIB)
	$(WIN_CC) $(WIN_FLAGS) $(WIN_LDFLAGS) -o $@ $(WIN_LUA_DIR)/src/lua.c $(WIN_LUA_LIB)

# ---- curl: libcurl.dll with Schannel, by curl's own GCC makefile ----
$(WIN_CURL_LIB): $(WIN_SRC)/curl/.fetched
	mkdir -p $(WIN_CURL_DIR)/lib/x86_64-w64-mingw32
	cd $(WIN_CURL_DIR)/lib && env -u CC -u CFLAGS -u CPPFLAGS -u LIBS MAKEFLAGS= LDFLAGS="$(WIN_LDFLAGS)" \
	    $(MAKE) -j$(WIN_JOBS) -f Makefile.mk CROSSPREFIX=$(WIN_CROSS) CFG=-schannel-ipv6-sspi \
	    libcurl.dll >../../curl-build.log 2>&1 || { \
	    tail -n 20 $(WIN_SRC)/curl-build.log; exit 1; }

$(WIN_DIST)/libcurl.dll: $(WIN_CURL_LIB)
	@mkdir -p $(dir $@)
	cp $(WIN_CURL_DIR)/lib/libcurl.dll $@

# ---- lua-cjson: cjson.dll ----
$(WIN_DIST)/cjson.dll: $(WIN_SRC)/lua-cjson/.fetched $(WIN_LUA_LIB)
	$(WIN_CC) $(WIN_FLAGS) -shared $(WIN_LDFLAGS) -I$(WIN_LUA_DIR)/src -o $@ \
	    $(WIN_CJSON_DIR)/lua_cjson.c $(WIN_CJSON_DIR)/strbuf.c $(WIN_CJSON_DIR)/fpconv.c $(WIN_LUA_LIB)

# ---- seedance: core.dll, the Lua modules, the command ----
$(WIN_DIST)/seedance/core.dll: $(CORE_SRC) $(CORE_HDR) $(WIN_LUA_LIB) $(WIN_CURL_LIB)
	@mkdir -p $(dir $@)
	$(WIN_CC) $(WIN_FLAGS) $(WARN) -std=c99 -shared $(WIN_LDFLAGS) -I$(WIN_LUA_DIR)/src -I$(WIN_CURL_DIR)/include \
	    -o $@ $(CORE_SRC) $(WIN_LUA_LIB) $(WIN_CURL_LIB) -lws2_32 -lbcrypt

$(WIN_DIST)/lua/%.lua: lua/%.lua
	@mkdir -p $(dir $@)
	cp $< $@

$(WIN_DIST)/lua/argparse.lua: $(WIN_ARGPARSE)
	@mkdir -p $(dir $@)
	cp $< $@

$(WIN_DIST)/seedance.lua: bin/seedance
	cp $< $@

$(WIN_DIST)/seedance.cmd:
	@mkdir -p $(dir $@)
	printf '@"%%~dp0lua.exe" "%%~dp0seedance.lua" %%*\r\n' > $@

# ---- LuaJIT: lua51.dll and luajit.exe, by LuaJIT's own makefile (cross: host tools with gcc) ----
$(WIN_JIT_LIB): $(WIN_SRC)/luajit/.fetched
	cd $(WIN_JIT_DIR)/src && env -u CC -u CFLAGS -u CPPFLAGS -u LDFLAGS -u LIBS MAKEFLAGS= \
	    $(MAKE) -j$(WIN_JOBS) HOST_CC=gcc CROSS=$(WIN_CROSS) TARGET_SYS=Windows BUILDMODE=dynamic \
	    >../../luajit-build.log 2>&1 || { tail -n 20 $(WIN_SRC)/luajit-build.log; exit 1; }

$(WIN_JIT)/lua51.dll $(WIN_JIT)/luajit.exe: $(WIN_JIT_LIB)
	@mkdir -p $(WIN_JIT)
	cp $(WIN_JIT_DIR)/src/lua51.dll $(WIN_JIT_DIR)/src/luajit.exe $(WIN_JIT)/

# ---- the Lua 5.1-ABI build for LuaJIT hosts: core.dll and cjson.dll import lua51.dll ----
$(WIN_JIT_DIST)/seedance/core.dll: $(CORE_SRC) $(CORE_HDR) $(WIN_JIT_LIB) $(WIN_CURL_LIB)
	@mkdir -p $(dir $@)
	$(WIN_CC) $(WIN_FLAGS) $(WARN) -std=c99 -shared $(WIN_LDFLAGS) -I$(WIN_JIT_DIR)/src -I$(WIN_CURL_DIR)/include \
	    -o $@ $(CORE_SRC) $(WIN_JIT_LIB) $(WIN_CURL_LIB) -lws2_32 -lbcrypt

# lua-cjson 2.1.0 defines its own luaL_setfuncs for Lua 5.1, which LuaJIT 2.1's
# lauxlib.h declares (and lua51.dll exports): a copy of lua_cjson.c without it
$(WIN_OBJ)/jit-cjson/lua_cjson.c: $(WIN_SRC)/lua-cjson/.fetched
	@mkdir -p $(dir $@)
	sed 's|^#if !defined(LUA_VERSION_NUM) \|\| LUA_VERSION_NUM < 502$$|#if 0 /* LuaJIT 2.1 has luaL_setfuncs */|' \
	    $(WIN_CJSON_DIR)/lua_cjson.c > $@
	@grep -q '^#if 0 /\* LuaJIT' $@ || { echo "make windows-dist: lua_cjson.c changed; see mk/windows.mk" >&2; exit 1; }

$(WIN_JIT_DIST)/cjson.dll: $(WIN_OBJ)/jit-cjson/lua_cjson.c $(WIN_JIT_LIB)
	@mkdir -p $(dir $@)
	$(WIN_CC) $(WIN_FLAGS) -shared $(WIN_LDFLAGS) -I$(WIN_JIT_DIR)/src -I$(WIN_CJSON_DIR) -o $@ \
	    $(WIN_OBJ)/jit-cjson/lua_cjson.c $(WIN_CJSON_DIR)/strbuf.c $(WIN_CJSON_DIR)/fpconv.c $(WIN_JIT_LIB)

$(WIN_JIT_DIST)/libcurl.dll: $(WIN_CURL_LIB)
	@mkdir -p $(dir $@)
	cp $(WIN_CURL_DIR)/lib/libcurl.dll $@

$(WIN_JIT_DIST)/lua/%.lua: lua/%.lua
	@mkdir -p $(dir $@)
	cp $< $@

# ---- the zip: README, luajit/, lua54/ (zip -X: no extra file attributes; the order is sorted) ----
windows-dist: $(WIN_ZIP)

$(WIN_ZIP): windows $(WIN_JIT_DIST)/seedance/core.dll $(WIN_JIT_DIST)/cjson.dll $(WIN_JIT_DIST)/libcurl.dll \
            $(WIN_JIT_MODS) windows/README.md
	rm -rf $(WIN_DIR)/zip $@
	mkdir -p $(WIN_DIR)/zip/$(WIN_ZIP_NAME)
	cp windows/README.md $(WIN_DIR)/zip/$(WIN_ZIP_NAME)/README.md
	cp -R $(WIN_JIT_DIST) $(WIN_DIR)/zip/$(WIN_ZIP_NAME)/luajit
	cp -R $(WIN_DIST) $(WIN_DIR)/zip/$(WIN_ZIP_NAME)/lua54
	@sh mk/windows-imports.sh $(WIN_CROSS)objdump lua51.dll $(WIN_JIT_DIR)/src/lua.h $(WIN_JIT_DIR)/src/lauxlib.h -- \
	    $(WIN_JIT_DIST)/seedance/core.dll $(WIN_JIT_DIST)/cjson.dll
	@sh mk/windows-imports.sh $(WIN_CROSS)objdump lua54.dll $(WIN_LUA_DIR)/src/lua.h $(WIN_LUA_DIR)/src/lauxlib.h -- \
	    $(WIN_DIST)/seedance/core.dll $(WIN_DIST)/cjson.dll
	cd $(WIN_DIR)/zip && find $(WIN_ZIP_NAME) -type f | LC_ALL=C sort | zip -q -X -@ ../$(WIN_ZIP_NAME).zip
	@echo "make windows-dist: $@ ($$(du -k $@ | cut -f1) KB)"

# ---- the zip's smoke run: unpacked, then each folder as a host would hold it ----
windows-dist-smoke: windows-dist $(WIN_JIT)/lua51.dll $(WIN_JIT)/luajit.exe emulator
	rm -rf $(WIN_DIR)/unzipped $(WIN_JIT_HOST)
	mkdir -p $(WIN_DIR)/unzipped && cd $(WIN_DIR)/unzipped && unzip -q ../$(WIN_ZIP_NAME).zip
	mkdir -p $(WIN_JIT_HOST)
	cp $(WIN_JIT)/luajit.exe $(WIN_JIT)/lua51.dll $(WIN_JIT_HOST)/
	cp -R $(WIN_UNZIPPED)/luajit/. $(WIN_JIT_HOST)/
	@sh windows/smoke.sh "$(WINE)" "$(WIN_UNZIPPED)/lua54" "$(EMU_BIN)" lua.exe smoke-lua54 && \
	    sh windows/smoke.sh "$(WINE)" "$(WIN_JIT_HOST)" "$(EMU_BIN)" luajit.exe smoke-luajit

# ---- the smoke suite under Wine ----
windows-smoke: windows emulator
	@sh windows/smoke.sh "$(WINE)" "$(WIN_DIST)" "$(EMU_BIN)"

windows-clean:
	rm -rf $(WIN_DIR)

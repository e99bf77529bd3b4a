# seedance: build, test, demo. `make help` lists the targets.
LUA      ?= lua5.4
LUA_PC   ?= lua5.4
CC       ?= cc
CFLAGS   ?= -O2 -g
WARN      = -Wall -Wextra -Werror
LUA_INC  := $(shell pkg-config --cflags $(LUA_PC) 2>/dev/null)
CURL_INC := $(shell pkg-config --cflags libcurl 2>/dev/null)
BUSTED   ?= /usr/bin/busted

VALIDATE_SRC = src/validate.c src/validate_fields.c src/validate_checks.c src/validate_urls.c src/validate_rules.c \
               src/validate_report.c src/validate_suggest.c src/validate_json.c src/validate_models.c
CORE_SRC  = src/core.c $(VALIDATE_SRC) src/utf8.c src/engine.c src/engine_loop.c src/engine_transfer.c \
            src/engine_output.c src/buf.c src/fs.c src/text.c src/url.c src/signals.c src/platform_posix.c \
            src/platform_win32.c
CORE_HDR  = $(wildcard src/*.h)
CORE_SO   = build/seedance/core.so
EMU_SRC   = $(wildcard emulator/*.c) $(VALIDATE_SRC) src/utf8.c src/buf.c
EMU_HDR   = $(wildcard emulator/*.h) $(wildcard src/validate*.h) src/utf8.h src/buf.h src/compat.h
EMU_BIN   = build/seedance-emulator
EMU_INC  := $(shell pkg-config --cflags libmicrohttpd libcjson 2>/dev/null)
# Where the emulator's fixtures are (compiled in; the emulator rock points it into its install).
EMU_MEDIA ?= $(CURDIR)/emulator/media
EMU_LIBS := $(shell pkg-config --libs libmicrohttpd libcjson $(LUA_PC) 2>/dev/null)

# Specs find the in-tree modules before any installed copy.
export LUA_PATH  := $(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;;
export LUA_CPATH := $(CURDIR)/build/?.so;;

.PHONY: all deps build emulator demo examples test lint docs clean help check fuzz

all: build emulator

help:
	@echo "make demo    generate a video from a prompt against the local emulator into out/"
	@echo "make test    install what is missing, build, run the spec suite"
	@echo "make emulator  build build/seedance-emulator"
	@echo "make examples  run every example against the emulator"
	@echo "make build   build the C core into build/"
	@echo "make lint    luacheck the Lua code"
	@echo "make test-all-lua  the spec suite under Lua 5.4, 5.1, 5.2, 5.3 and LuaJIT"
	@echo "make hosts   build the host examples: build/c-host, the LuaJIT core, the emulator"
	@echo "make check   warnings, cppcheck, luacheck, specs under ASan+UBSan, valgrind and GC stress"
	@echo "make mutants  mutation testing: each mutants/*.patch removes a promise; its specs must fail"
	@echo "make fuzz    run each libFuzzer target in fuzz/ for FUZZ_SECONDS (default 60)"
	@echo "make bench   benchmarks B1-B6 against peers on the emulator (BENCH_QUICK=1 for small sizes)"
	@echo "make docs    LDoc API reference into docs/"
	@echo "make rock    the LuaRocks source rocks of seedance and seedance-emulator into build/rock/"
	@echo "make windows   cross-build for Windows (MinGW-w64) into build/windows/dist/"
	@echo "make windows-smoke  the Windows build under Wine against the emulator"
	@echo "make clean   remove build products"

deps:
	@sh .ci/install-deps test

build: $(CORE_SO)

$(CORE_SO): $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -std=c99 -fPIC -shared $(LUA_INC) $(CURL_INC) -o $@ $(CORE_SRC) -lcurl -lm

$(EMU_BIN): $(EMU_SRC) $(EMU_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -std=gnu99 -Isrc $(LUA_INC) $(EMU_INC) \
		-DEMU_MEDIA_DIR='"$(EMU_MEDIA)"' -o $@ $(EMU_SRC) $(EMU_LIBS) -lpthread -lm

emulator: $(EMU_BIN)

demo:
	@sh .ci/install-deps demo
	@$(MAKE) --no-print-directory build emulator
	@sh examples/demo.sh

examples: deps
	@$(MAKE) --no-print-directory build emulator
	$(LUA) $(BUSTED) --lua=$(LUA) -o spec/support/summary.lua spec/hosts/examples_spec.lua

test: deps
	@$(MAKE) --no-print-directory build emulator
	@$(MAKE) --no-print-directory lint
	$(LUA) $(BUSTED) --lua=$(LUA) -o spec/support/summary.lua spec

lint:
	luacheck -q lua spec bin types bench windows mutants $(wildcard examples)

docs:
	@sh .ci/install-deps docs
	ldoc .
	@echo "API reference written to docs/index.html"

clean:
	rm -rf build out seedance src/*.o

include mk/check.mk
include mk/fuzz.mk
include mk/lua.mk
include mk/hosts.mk
include mk/bench.mk
include mk/mutants.mk
include mk/windows.mk
include mk/rock.mk

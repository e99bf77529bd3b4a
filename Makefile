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
CORE_SRC  = src/core.c $(VALIDATE_SRC) src/utf8.c src/engine.c src/engine_fields.c src/engine_api.c src/engine_api_watch.c \
            src/engine_api_answer.c src/engine_loop.c src/engine_window.c src/engine_ids.c src/engine_poll.c src/engine_watch.c \
            src/engine_sched.c src/engine_transfer.c src/engine_output.c src/answer.c src/answer_push.c src/jobs.c src/buf.c \
            src/fs.c src/json.c src/jsonread.c src/number.c src/text.c src/url.c src/signals.c \
            $(PLATFORM_SRC) src/redis.c src/redis_tls.c src/engine_redis.c
CORE_HDR  = $(wildcard src/*.h)
CORE_SO   = build/seedance/core.so
# (the validator writes its numbers through platform.h: the emulator links the platform files too)
PLATFORM_SRC = src/platform_posix.c src/platform_win32.c src/platform_win32_io.c src/platform_nopoll.c
EMU_SRC   = $(wildcard emulator/*.c) $(VALIDATE_SRC) src/utf8.c src/buf.c $(PLATFORM_SRC)
EMU_HDR   = $(wildcard emulator/*.h) $(wildcard src/validate*.h) src/utf8.h src/buf.h src/compat.h src/platform.h
EMU_BIN   = build/seedance-emulator
EMU_INC  := $(shell pkg-config --cflags libmicrohttpd libcjson 2>/dev/null)
# Where the emulator's fixtures are (compiled in; the emulator rock points it into its install).
EMU_MEDIA ?= $(CURDIR)/emulator/media
EMU_LIBS := $(shell pkg-config --libs libmicrohttpd libcjson $(LUA_PC) 2>/dev/null)

# Each C file compiles to its own object (make -j2 builds two at a time), one
# folder of objects per build: build/obj/<variant>/. -MMD writes each object's
# header dependencies beside it, so a changed header rebuilds only its users.
OBJ       = build/obj
objs_of   = $(patsubst %.c,$(OBJ)/$(1)/%.o,$(2))
CORE_OBJ  = $(call objs_of,core,$(CORE_SRC))
EMU_OBJ_DIR ?= emu
EMU_OBJ   = $(call objs_of,$(EMU_OBJ_DIR),$(EMU_SRC))
# The Redis journal (src/redis.c) is compiled in when hiredis is found (Debian: libhiredis-dev), and
# rediss:// (TLS) with it when OpenSSL is (libssl-dev); without them the core says, when a redis://
# journal is asked for, what to install.
HAVE_HIREDIS := $(shell pkg-config --exists hiredis 2>/dev/null && echo 1)
HAVE_OPENSSL := $(shell pkg-config --exists openssl 2>/dev/null && echo 1)
REDIS_CFLAGS := $(if $(HAVE_HIREDIS),-DSD_HAVE_HIREDIS $(if $(HAVE_OPENSSL),-DSD_HAVE_OPENSSL))
REDIS_LIBS   := $(if $(HAVE_HIREDIS),-lhiredis $(if $(HAVE_OPENSSL),-lssl -lcrypto))
CORE_LIBS    = -lcurl $(REDIS_LIBS) -lpthread -lm
CORE_CFLAGS = $(WARN) -std=c99 -fPIC $(CURL_INC) $(REDIS_CFLAGS)
EMU_CFLAGS  = $(WARN) -std=gnu99 -Isrc $(LUA_INC) $(EMU_INC) -DEMU_MEDIA_DIR='"$(EMU_MEDIA)"'

# $(call c_objects,VARIANT,COMPILER AND FLAGS): the rule that compiles a
# source into build/obj/VARIANT/, and its dependency files.
define c_objects
$(OBJ)/$(1)/%.o: %.c
	@mkdir -p $$(dir $$@)
	$(2) -MMD -MP -c -o $$@ $$<
endef
$(eval $(call c_objects,core,$(CC) $(CFLAGS) $(CORE_CFLAGS) $(LUA_INC)))
$(eval $(call c_objects,$(EMU_OBJ_DIR),$(CC) $(CFLAGS) $(EMU_CFLAGS)))
-include $(wildcard $(OBJ)/*/src/*.d $(OBJ)/*/emulator/*.d)
# objects reached through a pattern (build/lua5.1/seedance/core.so) are kept, not removed as intermediates
.SECONDARY:

# Which specs a pass runs is chosen by tags in the specs' own text (spec/README.md):
# #c exercises the C core in the busted process, #child runs the work under
# test in another process, #compat touches Lua-version differences, #slow
# takes over ~5 s, #found came from a hostile review. busted matches a tag as
# a Lua pattern anywhere in a test's full name, so `tag` escapes its '-' and
# ends it at a non-word character (#c must not take #child or #compat).
tag         = '$(subst -,%-,$(1))%f[^%w_-]'
# the specs whose C runs in this process: what ASan, valgrind and GC stress can watch
C_SPECS     = --tags=$(call tag,c) --exclude-tags=$(call tag,child) spec
# the specs that touch what differs between Lua versions (Lua 5.1, 5.2, 5.3 run these)
COMPAT_SPECS = --tags=$(call tag,compat) spec
NPROC      := $(shell nproc 2>/dev/null || echo 2)

# Specs find the in-tree modules before any installed copy.
export LUA_PATH  := $(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;;
export LUA_CPATH := $(CURDIR)/build/?.so;;

.PHONY: all deps build emulator demo examples test lint docs clean help check fuzz man install-man

all: build emulator man

help:
	@echo "make demo    generate a video from a prompt against the local emulator into out/"
	@echo "make test    install what is missing, build, run the spec suite"
	@echo "make emulator  build build/seedance-emulator"
	@echo "make examples  run every example against the emulator"
	@echo "make build   build the C core into build/"
	@echo "make lint    luacheck the Lua code"
	@echo "make test-all-lua  the spec suite under Lua 5.4, 5.1, 5.2, 5.3 and LuaJIT"
	@echo "make hosts   build the host examples: build/c-host, the LuaJIT core, the emulator"
	@echo "make check   warnings, cppcheck, specs under ASan+UBSan, valgrind and GC stress, mutants"
	@echo "make mutants  mutation testing: each row of mutants/*.lua removes a promise; its specs must fail"
	@echo "make ci      what CI runs after installing: the build, then every stage two at a time, timed"
	@echo "make fuzz    run each libFuzzer target in fuzz/ for FUZZ_SECONDS (default 60)"
	@echo "make bench   benchmarks B1-B6 against peers on the emulator (BENCH_QUICK=1 for small sizes)"
	@echo "make docs    LDoc API reference into docs/"
	@echo "make man     the manual page seedance(1) into build/man/ (make install-man: into MANDIR, PREFIX/share/man)"
	@echo "make rock    the LuaRocks source rocks of seedance and seedance-emulator into build/rock/"
	@echo "make rock-install  make rock, then install seedance into TREE (default ~/.luarocks), first try"
	@echo "make windows   cross-build for Windows (MinGW-w64) into build/windows/dist/"
	@echo "make windows-smoke  the Windows build under Wine against the emulator"
	@echo "make windows-dist   the zip for game developers: LuaJIT (lua51.dll) and Lua 5.4 builds"
	@echo "make windows-dist-smoke  the smoke suite from the unpacked zip, both ABIs, under Wine"
	@echo "make clean   remove build products"

deps:
	@sh .ci/install-deps test

build: $(CORE_SO)

$(CORE_SO): $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -shared -o $@ $(CORE_OBJ) $(CORE_LIBS)

$(EMU_BIN): $(EMU_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $(EMU_OBJ) $(EMU_LIBS) -lpthread -lm

emulator: $(EMU_BIN)

# The manual page seedance(1), written from the command's parsers and README's
# command section (mk/man.lua); `make install-man` copies it into
# $(DESTDIR)$(MANDIR)/man1 (MANDIR defaults to $(PREFIX)/share/man).
PREFIX  ?= /usr/local
MANDIR  ?= $(PREFIX)/share/man
MAN_PAGE = build/man/seedance.1

man: $(MAN_PAGE)

$(MAN_PAGE): $(CORE_SO) mk/man.lua README.md $(wildcard lua/seedance/cli/*.lua) lua/seedance/version.lua
	@mkdir -p $(dir $@)
	$(LUA) mk/man.lua README.md > $@.tmp && mv $@.tmp $@

install-man: $(MAN_PAGE)
	install -d "$(DESTDIR)$(MANDIR)/man1"
	install -m 644 $(MAN_PAGE) "$(DESTDIR)$(MANDIR)/man1/seedance.1"

demo:
	@sh .ci/install-deps demo
	@$(MAKE) --no-print-directory build emulator
	@sh examples/demo.sh

examples: deps
	@$(MAKE) --no-print-directory build emulator
	$(LUA) $(BUSTED) --lua=$(LUA) -o spec/support/summary.lua spec/hosts/examples_spec.lua

test: deps
	@$(MAKE) --no-print-directory -j$(NPROC) build emulator
	@$(MAKE) --no-print-directory lint
	$(LUA) $(BUSTED) --lua=$(LUA) -o spec/support/summary.lua spec

lint:
	luacheck -q lua spec bin types bench windows mutants fuzz mk $(wildcard examples)
	lua5.4 mutants/catalogue.lua check

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
include mk/ci.mk

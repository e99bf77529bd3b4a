# mk/rock.mk: LuaRocks packaging (included by the Makefile).
#
#   make rock         the release tarball of this checkout
#                     (build/rock/seedance-$(ROCK_VERSION).tar.gz: the files git
#                     tracks, plus new ones it does not ignore) and, from it, the
#                     source rocks build/rock/seedance-$(ROCK_VERSION)-1.src.rock
#                     and build/rock/seedance-emulator-$(ROCK_VERSION)-1.src.rock
#                     (its rockspec is emulator/seedance-emulator-*.rockspec, out
#                     of the top folder so that a bare `luarocks make` there
#                     builds seedance)
#                     (luarocks pack). `luarocks install <src.rock>` builds and
#                     installs from either without a network. The tarball also
#                     holds the HTML reference (docs/, written by LDoc first)
#                     and the manual page (docs/seedance.1, make man), which the
#                     rock installs with the examples and the types.
#   make rock-install   make rock, then install the seedance rock into the LuaRocks
#                     tree TREE (default $(HOME)/.luarocks, the tree of
#                     `luarocks --local`) for Lua ROCK_LUA_VERSION (default 5.4;
#                     5.1 for LuaJIT hosts), on the first try: mk/rock-install.sh
#                     asks that Lua whether the dependencies already load
#                     (Debian's lua-cjson, lua-argparse) before LuaRocks would
#                     ask a rocks server for them.
#
# The version is lua/seedance/version.lua's, written nowhere else: make rock
# writes the release rockspecs build/rock/seedance-VERSION-1.rockspec and
# build/rock/seedance-emulator-VERSION-1.rockspec from the scm ones
# (mk/release-rockspec.lua), with the tarball as their source (an absolute
# file:// URL: `luarocks pack` fetches from a temporary folder). A published
# release names its tarball's https URL (and md5) instead (ROCK_URL).
#
# The emulator rock builds with this Makefile (LuaRocks' make back end):
#   emulator-rock           the emulator with its fixtures' folder (EMU_MEDIA)
#                           set to where the rock installs them, linked with
#                           the Lua library of LuaRocks' interpreter (LUA)
#   install-emulator-rock   copy it to BINDIR and emulator/README.md to EMU_DOC (the
#                           fixtures are the rockspec's copy_directories)

ROCK_VERSION := $(shell sed -n 's/^return "\(.*\)"$$/\1/p' lua/seedance/version.lua)
ROCK_DIR      = build/rock
ROCK_NAME     = seedance-$(ROCK_VERSION)
ROCK_TGZ      = $(ROCK_DIR)/$(ROCK_NAME).tar.gz
ROCK_URL     ?= file://$(CURDIR)/$(ROCK_TGZ)
ROCK_SPECS    = seedance-scm-1.rockspec emulator/seedance-emulator-scm-1.rockspec
LUAROCKS     ?= luarocks --lua-version=5.4
EMU_ROCK_BIN  = build/rock-emulator/seedance-emulator
# LuaRocks tells a make build where Lua's headers are (LUA_INC) and which
# interpreter it serves (LUA), not always where its library is: ask
# pkg-config under the names distributions use, else -llua<version>.
ROCK_LUA_VER  = $(shell $(LUA) -e 'io.write((_VERSION:gsub("^Lua ", "")))' 2>/dev/null)
ROCK_LUA_LIBS = $(shell for p in lua$(ROCK_LUA_VER) lua-$(ROCK_LUA_VER) lua; do \
                    pkg-config --exists $$p 2>/dev/null && { pkg-config --libs $$p; exit 0; }; done; \
                    echo -llua$(ROCK_LUA_VER))

TREE             ?= $(HOME)/.luarocks
ROCK_LUA_VERSION ?= 5.4

.PHONY: rock rock-docs rock-source release-rockspecs rock-install emulator-rock install-emulator-rock

rock: rock-source release-rockspecs
	@for spec in $(ROCK_SPECS); do \
	    name=$$(basename $$spec | sed 's/-scm-1\.rockspec$$/-$(ROCK_VERSION)-1.rockspec/'); \
	    (cd $(ROCK_DIR) && $(LUAROCKS) pack $$name) || exit 1; \
	done
	@ls $(ROCK_DIR)/*.src.rock

# build/rock/seedance-VERSION-1.rockspec and the emulator's, from the scm rockspecs
release-rockspecs:
	@mkdir -p $(ROCK_DIR)
	@for spec in $(ROCK_SPECS); do \
	    name=$$(basename $$spec | sed 's/-scm-1\.rockspec$$/-$(ROCK_VERSION)-1.rockspec/'); \
	    $(LUA) mk/release-rockspec.lua $$spec $(ROCK_VERSION) "$(ROCK_URL)" $(ROCK_NAME) > $(ROCK_DIR)/$$name || exit 1; \
	done

# The HTML reference the rock installs (docs/, as make docs writes it).
rock-docs:
	@command -v ldoc >/dev/null || { echo "make rock: needs LDoc for the reference it ships: sh .ci/install-deps docs" >&2; exit 1; }
	@ldoc -q . >/dev/null

# Always remade: it is what the checkout holds now. Files git tracks but that
# were deleted are left out; ignored files (build/, out/) never go in, but for
# the reference LDoc has just written into docs/, and the manual page (make
# man), which goes in as docs/seedance.1.
rock-source: rock-docs $(MAN_PAGE)
	@mkdir -p $(ROCK_DIR)
	@command -v git >/dev/null && git rev-parse --git-dir >/dev/null 2>&1 || \
	    { echo "make rock: needs a git checkout (the tarball holds the files git knows)" >&2; exit 1; }
	{ git ls-files -z --cached --others --exclude-standard; find docs -type f -print0; } | \
	    { cat; printf '%s\0' $(MAN_PAGE); } | \
	    xargs -0 sh -c 'for f; do [ -e "$$f" ] || [ -L "$$f" ] && printf "%s\0" "$$f"; done' sh | sort -zu | \
	    tar --null -T - --sort=name --owner=0 --group=0 --numeric-owner \
	        --transform 's|^$(MAN_PAGE)$$|docs/seedance.1|' --transform 's|^|$(ROCK_NAME)/|S' -czf $(ROCK_TGZ)

rock-install: rock
	@sh mk/rock-install.sh $(ROCK_LUA_VERSION) "$(TREE)" $(ROCK_DIR)/$(ROCK_NAME)-1.src.rock \
	    $(ROCK_DIR)/$(ROCK_NAME)-1.rockspec

emulator-rock:
	@$(MAKE) --no-print-directory -B EMU_BIN=$(EMU_ROCK_BIN) EMU_OBJ_DIR=emu-rock EMU_LIBS="$(EMU_LIBS) $(ROCK_LUA_LIBS)" \
	    $(EMU_ROCK_BIN)

install-emulator-rock:
	@test -n "$(BINDIR)" && test -n "$(EMU_DOC)" || { echo "install-emulator-rock: BINDIR or EMU_DOC unset (LuaRocks sets them)" >&2; exit 1; }
	mkdir -p "$(BINDIR)" "$(EMU_DOC)"
	cp $(EMU_ROCK_BIN) "$(BINDIR)/seedance-emulator"
	cp emulator/README.md "$(EMU_DOC)/README.md"

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
#                     installs from either without a network.
#
# The versioned rockspecs name the tarball as file://build/rock/... (relative
# to the checkout): `luarocks build seedance-0.2.0-1.rockspec` from the
# checkout finds it, but `luarocks pack` fetches from its own temporary
# folder, so make rock packs copies of them whose URL is made absolute. A
# published release names its tarball's https URL (and md5) instead; see the
# comment in the rockspecs.
#
# The emulator rock builds with this Makefile (LuaRocks' make back end):
#   emulator-rock           the emulator with its fixtures' folder (EMU_MEDIA)
#                           set to where the rock installs them, linked with
#                           the Lua library of LuaRocks' interpreter (LUA)
#   install-emulator-rock   copy it to BINDIR and the fixtures to EMU_MEDIA

ROCK_VERSION  = 0.2.0
ROCK_DIR      = build/rock
ROCK_NAME     = seedance-$(ROCK_VERSION)
ROCK_TGZ      = $(ROCK_DIR)/$(ROCK_NAME).tar.gz
ROCK_SPECS    = seedance-$(ROCK_VERSION)-1.rockspec emulator/seedance-emulator-$(ROCK_VERSION)-1.rockspec
LUAROCKS     ?= luarocks --lua-version=5.4
EMU_ROCK_BIN  = build/rock-emulator/seedance-emulator
# LuaRocks tells a make build where Lua's headers are (LUA_INC) and which
# interpreter it serves (LUA), not always where its library is: ask
# pkg-config under the names distributions use, else -llua<version>.
ROCK_LUA_VER  = $(shell $(LUA) -e 'io.write((_VERSION:gsub("^Lua ", "")))' 2>/dev/null)
ROCK_LUA_LIBS = $(shell for p in lua$(ROCK_LUA_VER) lua-$(ROCK_LUA_VER) lua; do \
                    pkg-config --exists $$p 2>/dev/null && { pkg-config --libs $$p; exit 0; }; done; \
                    echo -llua$(ROCK_LUA_VER))

.PHONY: rock rock-source emulator-rock install-emulator-rock

rock: rock-source
	@for spec in $(ROCK_SPECS); do \
	    name=$$(basename $$spec); \
	    sed 's|url = "file://build/rock/|url = "file://$(CURDIR)/build/rock/|' $$spec > $(ROCK_DIR)/$$name || exit 1; \
	    (cd $(ROCK_DIR) && $(LUAROCKS) pack $$name) || exit 1; \
	done
	@ls $(ROCK_DIR)/*.src.rock

# Always remade: it is what the checkout holds now. Files git tracks but that
# were deleted are left out; ignored files (build/, out/) never go in.
rock-source:
	@mkdir -p $(ROCK_DIR)
	@command -v git >/dev/null && git rev-parse --git-dir >/dev/null 2>&1 || \
	    { echo "make rock: needs a git checkout (the tarball holds the files git knows)" >&2; exit 1; }
	git ls-files -z --cached --others --exclude-standard | \
	    xargs -0 sh -c 'for f; do [ -e "$$f" ] || [ -L "$$f" ] && printf "%s\0" "$$f"; done' sh | \
	    tar --null -T - --sort=name --owner=0 --group=0 --numeric-owner \
	        --transform 's|^|$(ROCK_NAME)/|S' -czf $(ROCK_TGZ)

emulator-rock:
	@$(MAKE) --no-print-directory -B EMU_BIN=$(EMU_ROCK_BIN) EMU_LIBS="$(EMU_LIBS) $(ROCK_LUA_LIBS)" $(EMU_ROCK_BIN)

install-emulator-rock:
	@test -n "$(BINDIR)" || { echo "install-emulator-rock: BINDIR unset (LuaRocks sets it)" >&2; exit 1; }
	mkdir -p "$(BINDIR)" "$(EMU_MEDIA)"
	cp $(EMU_ROCK_BIN) "$(BINDIR)/seedance-emulator"
	cp -R emulator/media/. "$(EMU_MEDIA)/"

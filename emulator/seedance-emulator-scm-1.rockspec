rockspec_format = "3.0"
package = "seedance-emulator"
version = "scm-1"
source = {
   -- `luarocks make emulator/seedance-emulator-scm-1.rockspec` from the checkout's top folder builds the
   -- checkout itself; `make rock` writes the release rockspec from this one (mk/release-rockspec.lua: the
   -- version of lua/seedance/version.lua and the release tarball as its source) and packs its source rock.
   url = "git+file:///dev/null",
}
description = {
   summary = "A local emulator of the Seedance 2.0 video service, for offline development and tests",
   detailed = [[
      seedance-emulator serves the whole Seedance 2.0 gateway API on loopback: submits
      validated with the same rules as the seedance client, a task clock scaled by
      --speed, real playable MP4s with Range, uploads, balance, keys, rate limits and
      seeded faults. Point SEEDANCE_BASE_URL at it to develop without a key, a network
      or a bill. A C program (libmicrohttpd, cJSON, and Lua for the shared validator).
   ]],
   license = "MIT",
   labels = { "video", "ai", "http", "emulator", "testing" },
}
-- POSIX only (threads, signals, /proc or the build path for its fixtures); built and run on Linux.
supported_platforms = { "unix" }
dependencies = {
   "lua >= 5.1",
}
external_dependencies = {
   MICROHTTPD = { header = "microhttpd.h", library = "microhttpd" },
   CJSON = { header = "cjson/cJSON.h", library = "cjson" },
}
build = {
   -- The Makefile's own emulator rule (its source list lives there only), with LuaRocks' compiler and the
   -- libraries LuaRocks found. The fixtures (emulator/media) are copied into the installed rock's folder,
   -- where the emulator is built to find them; the install target puts emulator/README.md in its doc/
   -- (`luarocks doc seedance-emulator`). Naming a folder to copy also keeps LuaRocks from filling doc/
   -- with the top folder's README, which is seedance's.
   type = "make",
   build_target = "emulator-rock",
   build_variables = {
      CC = "$(CC)",
      CFLAGS = "$(CFLAGS)",
      LUA = "$(LUA)",
      LUA_INC = "-I$(LUA_INCDIR)",
      EMU_INC = "-I$(MICROHTTPD_INCDIR) -I$(CJSON_INCDIR)/cjson",
      EMU_LIBS = "-L$(MICROHTTPD_LIBDIR) -L$(CJSON_LIBDIR) -lmicrohttpd -lcjson",
      EMU_MEDIA = "$(PREFIX)/emulator/media",
   },
   install_target = "install-emulator-rock",
   install_variables = {
      BINDIR = "$(BINDIR)",
      EMU_DOC = "$(PREFIX)/doc",
   },
   copy_directories = { "emulator/media" },
}

rockspec_format = "3.0"
package = "seedance"
version = "scm-1"
source = {
   -- `luarocks make` builds from this checkout and never fetches; a published scm rockspec names the
   -- repository here (git+https://.../seedance.git). `make rock` writes the release rockspec from this
   -- one (mk/release-rockspec.lua): the version of lua/seedance/version.lua, the release tarball as source.
   url = "git+file:///dev/null",
}
description = {
   summary = "Generate videos with ByteDance's Seedance 2.0 models from Lua",
   detailed = [[
      A Lua module with a C core: requests validated in C against the service's
      rules, HTTP on libcurl's multi interface, task handles that wait in a
      coroutine-friendly way (blocking, under seedance.run, or stepped from a
      host's frame loop), resumable downloads, and a crash-safe journal.
   ]],
   license = "MIT",
   labels = { "video", "ai", "http", "curl" },
}
dependencies = {
   "lua >= 5.1",
   -- the library reads and writes JSON with the core's own code (src/json.c, the same under any locale);
   -- lua-cjson stays a dependency for the specs, tools and Windows package that use it
   "lua-cjson",
   "argparse",   -- the seedance command's parser (Debian: lua-argparse)
}
external_dependencies = {
   -- Debian keeps curl.h under the multiarch include folder, so only the library is looked up.
   CURL = { library = "curl" },
   platforms = {
      -- Windows: curl's own builds and vcpkg ship libcurl.lib (MSVC) and libcurl.dll.a (MinGW);
      -- point LuaRocks at them with CURL_DIR=C:\path\to\curl (include\curl\curl.h, lib\, bin\libcurl.dll).
      windows = { CURL = { header = "curl/curl.h", library = "libcurl" } },
      mingw32 = { CURL = { header = "curl/curl.h", library = "curl" } },
      -- macOS: Homebrew's curl is keg-only (not linked into its prefix), so name it:
      --   luarocks install seedance CURL_DIR="$(brew --prefix curl)"
      -- (without CURL_DIR, a curl under /usr/local or /opt/homebrew is used if LuaRocks finds one).
      macosx = { CURL = { header = "curl/curl.h", library = "curl" } },
      -- Linux: the shared journal (journal = "redis://...", src/redis.c) is built with hiredis and, for
      -- rediss://, OpenSSL (Debian: libhiredis-dev, libssl-dev); LuaRocks names the package it misses.
      -- Elsewhere src/redis.c builds without them and a redis:// journal is refused with what to install.
      linux = { CURL = { library = "curl" }, HIREDIS = { header = "hiredis/hiredis.h", library = "hiredis" },
                OPENSSL = { header = "openssl/ssl.h", library = "ssl" } },
   },
}
build = {
   type = "builtin",
   modules = {
      -- every src/*.c: the platform files compile to nothing off their platform (spec/packaging/rockspec_spec.lua
      -- checks that this list, the Lua modules below and the scm rockspec's stay the same as the tree)
      ["seedance.core"] = {
         sources = { "src/core.c", "src/validate.c", "src/validate_fields.c", "src/validate_checks.c",
                     "src/validate_urls.c", "src/validate_rules.c", "src/validate_report.c",
                     "src/validate_suggest.c", "src/validate_json.c", "src/validate_models.c", "src/utf8.c",
                     "src/engine.c", "src/engine_fields.c", "src/engine_api.c", "src/engine_api_watch.c", "src/engine_api_answer.c",
                     "src/engine_loop.c", "src/engine_window.c", "src/engine_ids.c", "src/engine_poll.c", "src/engine_watch.c",
                     "src/engine_sched.c",
                     "src/engine_transfer.c", "src/engine_output.c", "src/answer.c", "src/answer_push.c", "src/jobs.c", "src/buf.c",
                     "src/fs.c", "src/json.c", "src/jsonread.c", "src/number.c", "src/text.c", "src/url.c",
                     "src/signals.c", "src/platform_posix.c", "src/platform_win32.c", "src/platform_win32_io.c",
                     "src/platform_nopoll.c",
                     "src/redis.c", "src/redis_tls.c", "src/engine_redis.c" },
         libraries = { "curl", "pthread" },
         incdirs = { "$(CURL_INCDIR)" },
         libdirs = { "$(CURL_LIBDIR)" },
      },
      ["seedance"] = "lua/seedance/init.lua",
      ["seedance.adapters.attachment"] = "lua/seedance/adapters/attachment.lua",
      ["seedance.adapters.copas"] = "lua/seedance/adapters/copas.lua",
      ["seedance.adapters.cqueues"] = "lua/seedance/adapters/cqueues.lua",
      ["seedance.adapters.luv"] = "lua/seedance/adapters/luv.lua",
      ["seedance.cli"] = "lua/seedance/cli.lua",
      ["seedance.cli.batch"] = "lua/seedance/cli/batch.lua",
      ["seedance.cli.batch_input"] = "lua/seedance/cli/batch_input.lua",
      ["seedance.cli.commands"] = "lua/seedance/cli/commands.lua",
      ["seedance.cli.config"] = "lua/seedance/cli/config.lua",
      ["seedance.cli.exit"] = "lua/seedance/cli/exit.lua",
      ["seedance.cli.guard"] = "lua/seedance/cli/guard.lua",
      ["seedance.cli.hints"] = "lua/seedance/cli/hints.lua",
      ["seedance.cli.journal"] = "lua/seedance/cli/journal.lua",
      ["seedance.cli.output"] = "lua/seedance/cli/output.lua",
      ["seedance.cli.parser"] = "lua/seedance/cli/parser.lua",
      ["seedance.cli.request"] = "lua/seedance/cli/request.lua",
      ["seedance.cli.settings"] = "lua/seedance/cli/settings.lua",
      ["seedance.cli.text"] = "lua/seedance/cli/text.lua",
      ["seedance.cli.usage"] = "lua/seedance/cli/usage.lua",
      ["seedance.client"] = "lua/seedance/client.lua",
      ["seedance.compat"] = "lua/seedance/compat.lua",
      ["seedance.context"] = "lua/seedance/context.lua",
      ["seedance.download"] = "lua/seedance/download.lua",
      ["seedance.error_types"] = "lua/seedance/error_types.lua",
      ["seedance.errors"] = "lua/seedance/errors.lua",
      ["seedance.estimate"] = "lua/seedance/estimate.lua",
      ["seedance.files"] = "lua/seedance/files.lua",
      ["seedance.governor"] = "lua/seedance/governor.lua",
      ["seedance.http"] = "lua/seedance/http.lua",
      ["seedance.interrupt"] = "lua/seedance/interrupt.lua",
      ["seedance.journal"] = "lua/seedance/journal.lua",
      ["seedance.journal.redis"] = "lua/seedance/journal/redis.lua",
      ["seedance.json"] = "lua/seedance/json.lua",
      ["seedance.numbers"] = "lua/seedance/numbers.lua",
      ["seedance.models"] = "lua/seedance/models.lua",
      ["seedance.options"] = "lua/seedance/options.lua",
      ["seedance.paths"] = "lua/seedance/paths.lua",
      ["seedance.pipeline"] = "lua/seedance/pipeline.lua",
      ["seedance.pipeline.fanout"] = "lua/seedance/pipeline/fanout.lua",
      ["seedance.pipeline.tries"] = "lua/seedance/pipeline/tries.lua",
      ["seedance.polling"] = "lua/seedance/polling.lua",
      ["seedance.preflight"] = "lua/seedance/preflight.lua",
      ["seedance.progress"] = "lua/seedance/progress.lua",
      ["seedance.request"] = "lua/seedance/request.lua",
      ["seedance.retry"] = "lua/seedance/retry.lua",
      ["seedance.heap"] = "lua/seedance/heap.lua",
      ["seedance.scheduler"] = "lua/seedance/scheduler.lua",
      ["seedance.runner"] = "lua/seedance/runner.lua",
      ["seedance.task"] = "lua/seedance/task.lua",
      ["seedance.task_answer"] = "lua/seedance/task_answer.lua",
      ["seedance.task_wait"] = "lua/seedance/task_wait.lua",
      ["seedance.urls"] = "lua/seedance/urls.lua",
      ["seedance.version"] = "lua/seedance/version.lua",
   },
   platforms = {
      linux = { modules = { ["seedance.core"] = { libraries = { "curl", "pthread", "hiredis", "ssl", "crypto" },
                                                  defines = { "SD_HAVE_HIREDIS", "SD_HAVE_OPENSSL" },
                                                  incdirs = { "$(CURL_INCDIR)", "$(HIREDIS_INCDIR)",
                                                              "$(OPENSSL_INCDIR)" },
                                                  libdirs = { "$(CURL_LIBDIR)", "$(HIREDIS_LIBDIR)",
                                                              "$(OPENSSL_LIBDIR)" } } } },
      -- the core calls Winsock (WSAPoll, socket) and BCryptGenRandom itself; Vista is the oldest Windows with WSAPoll
      windows = { modules = { ["seedance.core"] = { libraries = { "libcurl", "ws2_32", "bcrypt" },
                                                    defines = { "_WIN32_WINNT=0x0600" } } } },
      mingw32 = { modules = { ["seedance.core"] = { libraries = { "curl", "ws2_32", "bcrypt" },
                                                    defines = { "_WIN32_WINNT=0x0600" } } } },
   },
   install = {
      bin = { seedance = "bin/seedance" },
   },
   -- into the installed rock's folder (`luarocks show --rock-dir seedance`): the HTML reference
   -- (`luarocks doc seedance` opens docs/index.html; make rock writes it with LDoc, a checkout has
   -- it after make docs) and, in the source rock, the manual page docs/seedance.1 (make rock packs
   -- build/man/seedance.1 there; from a checkout, `make install-man`), the runnable examples and the
   -- LuaLS types (types/seedance.lua)
   copy_directories = { "docs", "examples", "types" },
}

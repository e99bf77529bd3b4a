rockspec_format = "3.0"
package = "seedance"
version = "scm-1"
source = {
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
   "lua-cjson",
   "argparse",   -- the seedance command's parser (Debian: lua-argparse)
}
external_dependencies = {
   -- Debian keeps curl.h under the multiarch include folder, so only the library is looked up.
   CURL = { library = "curl" },
}
build = {
   type = "builtin",
   modules = {
      ["seedance.core"] = {
         sources = { "src/core.c", "src/validate.c", "src/validate_fields.c", "src/validate_checks.c",
                     "src/validate_urls.c", "src/validate_rules.c", "src/validate_report.c",
                     "src/validate_suggest.c", "src/utf8.c", "src/engine.c", "src/engine_loop.c",
                     "src/engine_transfer.c", "src/engine_output.c", "src/buf.c", "src/fs.c", "src/text.c",
                     "src/url.c", "src/signals.c" },
         libraries = { "curl" },
         incdirs = { "$(CURL_INCDIR)" },
         libdirs = { "$(CURL_LIBDIR)" },
      },
      ["seedance"] = "lua/seedance/init.lua",
      ["seedance.compat"] = "lua/seedance/compat.lua",
      ["seedance.errors"] = "lua/seedance/errors.lua",
      ["seedance.options"] = "lua/seedance/options.lua",
      ["seedance.urls"] = "lua/seedance/urls.lua",
      ["seedance.files"] = "lua/seedance/files.lua",
      ["seedance.context"] = "lua/seedance/context.lua",
      ["seedance.request"] = "lua/seedance/request.lua",
      ["seedance.retry"] = "lua/seedance/retry.lua",
      ["seedance.http"] = "lua/seedance/http.lua",
      ["seedance.governor"] = "lua/seedance/governor.lua",
      ["seedance.scheduler"] = "lua/seedance/scheduler.lua",
      ["seedance.journal"] = "lua/seedance/journal.lua",
      ["seedance.task"] = "lua/seedance/task.lua",
      ["seedance.download"] = "lua/seedance/download.lua",
      ["seedance.client"] = "lua/seedance/client.lua",
      ["seedance.pipeline"] = "lua/seedance/pipeline.lua",
      ["seedance.adapters.attachment"] = "lua/seedance/adapters/attachment.lua",
      ["seedance.adapters.luv"] = "lua/seedance/adapters/luv.lua",
      ["seedance.adapters.copas"] = "lua/seedance/adapters/copas.lua",
      ["seedance.adapters.cqueues"] = "lua/seedance/adapters/cqueues.lua",
      ["seedance.polling"] = "lua/seedance/polling.lua",
      ["seedance.progress"] = "lua/seedance/progress.lua",
      ["seedance.cli"] = "lua/seedance/cli.lua",
      ["seedance.cli.commands"] = "lua/seedance/cli/commands.lua",
      ["seedance.cli.exit"] = "lua/seedance/cli/exit.lua",
      ["seedance.cli.guard"] = "lua/seedance/cli/guard.lua",
      ["seedance.cli.output"] = "lua/seedance/cli/output.lua",
      ["seedance.cli.parser"] = "lua/seedance/cli/parser.lua",
      ["seedance.cli.request"] = "lua/seedance/cli/request.lua",
      ["seedance.cli.settings"] = "lua/seedance/cli/settings.lua",
   },
   install = {
      bin = { seedance = "bin/seedance" },
   },
}

--- The `seedance` command line.
--
-- Subcommands: generate, batch, status, wait, download, abandon, journal,
-- validate, balance, version, help; `seedance COMMAND --help` lists each one's flags (lua-argparse), the
-- environment and the exit codes. The API key comes from SEEDANCE_API_KEY or
-- --api-key-file and is never printed. Whatever goes wrong is one line on
-- standard error and a documented exit code (`seedance.cli.exit`); a failure
-- inside the command itself adds "set SEEDANCE_DEBUG=1 for details".
-- @module seedance.cli
-- @local

local compat = require("seedance.compat")
local core = require("seedance.core")
local commands = require("seedance.cli.commands")
local exit = require("seedance.cli.exit")
local output = require("seedance.cli.output")
local parser = require("seedance.cli.parser")
local usage = require("seedance.cli.usage")

local M = {}

--- Exit codes by name (`EXIT.usage == 2`), from `seedance.cli.exit`.
M.EXIT = exit.EXIT

--- The exit code for an error object.
-- @tparam table err
-- @treturn integer
M.exit_code = exit.code

-- The first line of an error.
local function first_line(e)
  return (tostring(e):match("^[^\n]*"))
end

local function run(ctx, argv)
  local args, perr, state, p = parser.parse(argv)
  if state.help then
    ctx.out:write(state.help:get_help(), "\n")
    return exit.EXIT.ok
  end
  -- a long option with one dash is never read as short ones run together (-output as -o utput)
  local attached = parser.attach_values(argv)
  local one_dash = usage.one_dash(attached) or usage.short_equals(attached)
  if one_dash then args, perr = nil, one_dash end
  if not args then
    local sub, name, msg = usage.explain(perr, argv, state, p)
    if parser.wants_json(argv) then
      -- --json promises one JSON object on standard output, for a usage error too
      output.json(ctx.out, { error = { type = "usage_error", message = string.format("%s: %s (run `%s --help` "
        .. "for every flag)", name, msg, name) } })
      return exit.EXIT.usage
    end
    ctx.err:write(output.line(string.format("%s: %s", name, msg)), "\n", sub:get_usage(),
      "\nRun `", name, " --help` for every flag.\n")
    return exit.EXIT.usage
  end
  if args.version then args.command = "version" end
  if args.command == nil then
    ctx.err:write(p:get_help(), "\n")
    return exit.EXIT.usage
  end
  if args.command == "help" then
    local topic = args.topic and state.commands[args.topic] or p
    if args.topic and topic == p then
      local names = {}
      for name in pairs(state.commands) do names[#names + 1] = name end
      table.sort(names)
      ctx.err:write("seedance help: no command '", output.line(args.topic), "'; the commands are ",
        table.concat(names, ", "), "\n")
      return exit.EXIT.usage
    end
    ctx.out:write(topic:get_help(), "\n")
    return exit.EXIT.ok
  end
  return commands[args.command](ctx, args)
end

--- Make sure both streams got what the command wrote: output that never
-- arrived (a full disk, a closed descriptor, a reader that went away: `| head`)
-- is a file error, not a success. A lost standard output is said on standard
-- error, and a lost standard error on standard output (not with --json), each
-- naming the task paid for, if any.
-- @tparam table ctx the command's context
-- @tparam integer code the command's exit code
-- @treturn integer the exit code
function M.finish_output(ctx, code)
  local ok, why = ctx.out:flush()
  local eok, ewhy = ctx.err:flush()
  if ok and eok then return code end
  local paid = output.paid_suffix(ctx)
  if not ok then
    ctx.err:write("seedance: io_error: cannot write standard output (", output.line(why), ")", paid, "\n")
  elseif not ctx.json then
    ctx.out:write("seedance: io_error: cannot write standard error (", output.line(ewhy), ")", paid, "\n")
    ctx.out:flush()
  end
  return code == exit.EXIT.ok and exit.EXIT.io or code
end

--- Run the command line.
-- @tparam table argv the arguments (as in the global `arg`)
-- @tparam[opt] file out where normal output goes (default io.stdout)
-- @tparam[opt] file errout where errors and progress go (default io.stderr)
-- @treturn integer the exit code
function M.main(argv, out, errout)
  -- the process's own streams: none of 0-2 left closed for a file to take, no death by SIGXFSZ
  if out == nil and errout == nil then core.prepare_command() end
  local ctx = { out = output.checked(out or io.stdout), err = output.checked(errout or io.stderr) }
  ctx.tty = errout == nil and core.isatty(2)
  -- the terminal's width now (it may change while the bar runs), else $COLUMNS
  function ctx.columns()
    return core.terminal_width(2) or tonumber(os.getenv("COLUMNS") or "")
  end
  function ctx.log(level, line)
    line = "seedance " .. level .. ": " .. output.line(line)
    if ctx.show then ctx.show:log(line) else ctx.err:write(line, "\n") end
  end
  local list = {}
  for i = 1, #argv do list[i] = argv[i] end
  ctx.argv = list -- as given (the batch's resume command repeats it)
  local ok, code = compat.xpcall(run, debug.traceback, ctx, list)
  if ok then return M.finish_output(ctx, code) end
  if ctx.show then ctx.show:clear() end
  if require("seedance.interrupt").from_host(first_line(code)) then
    -- Ctrl-C before any guard took the signals (reading, checking): the interpreter's own "interrupted!"
    local paid = output.paid_suffix(ctx)
    if ctx.json then
      output.json(ctx.out, { error = { type = "interrupted", signal = "INT", message = "interrupted (SIGINT)"
        .. paid, task_id = ctx.paid and ctx.paid.id } })
    else
      ctx.err:write("seedance: interrupted (SIGINT)", paid, "\n")
    end
    return M.finish_output(ctx, exit.for_signal("INT"))
  end
  local debug_on = (os.getenv("SEEDANCE_DEBUG") or "") ~= "" and os.getenv("SEEDANCE_DEBUG") ~= "0"
  local paid = output.paid_suffix(ctx)
  if debug_on then
    ctx.err:write("seedance: internal error: ", core.utf8_clean(tostring(code)), paid, "\n")
  else
    ctx.err:write("seedance: internal error: ", output.line(first_line(code)),
      " (set SEEDANCE_DEBUG=1 for details)", paid, "\n")
  end
  if ctx.json then
    output.json(ctx.out, { error = { type = "internal_error", message = first_line(code),
      task_id = ctx.paid and ctx.paid.id } })
  end
  return M.finish_output(ctx, exit.EXIT.failure)
end

return M

--- The command's parser (lua-argparse): one declared parser per subcommand,
-- help generated from it. Unknown flags, missing values and stray arguments
-- are usage errors (exit 2).
-- @module seedance.cli.parser
-- @local

local argparse = require("argparse")
local compat = require("seedance.compat")
local exit = require("seedance.cli.exit")
local numbers = require("seedance.numbers")
local request = require("seedance.cli.request")

local M = {}

local unpack = compat.unpack

--- The environment the command reads: `{ { NAME, what it does }, ... }`, in
-- the order help and the man page list it.
M.ENVIRONMENT = {
  { "SEEDANCE_API_KEY", "the API key (never printed); --api-key-file FILE reads it from a file" },
  { "SEEDANCE_BASE_URL", "the service (default https://xcompute.us); --base-url overrides it" },
  { "SEEDANCE_CONFIG", "the config file, instead of $XDG_CONFIG_HOME/seedance/config" },
  { "SEEDANCE_TIME_SCALE", "1/speed of a local seedance-emulator (0.05 for --speed 20; loopback only)" },
  { "SEEDANCE_LOG", "info: one line per HTTP exchange; debug: more (-v, -vv)" },
  { "SEEDANCE_DEBUG", "1: a failure inside the command prints its stack trace" },
}

-- The "Environment:" paragraph of help.
local function environment()
  local lines = { "Environment:" }
  for _, e in ipairs(M.ENVIRONMENT) do lines[#lines + 1] = string.format("  %-20s %s", e[1], e[2]) end
  return table.concat(lines, "\n")
end

-- Every option name the parser declares: VALUE[name] for one that takes a value, KNOWN[name] for all.
local VALUE, KNOWN = {}, {}

local function note(names, takes_value)
  for name in names:gmatch("%S+") do
    KNOWN[name] = true
    if takes_value then VALUE[name] = true end
  end
end

-- cmd:option and cmd:flag, noting the names. An option given twice is refused (`:count` lets a
-- list option repeat), never the last silently taken.
local function option(cmd, names, ...)
  note(names, true)
  return cmd:option(names, ...):overwrite(false)
end

local function flag(cmd, names, ...)
  note(names, false)
  return cmd:flag(names, ...)
end

-- A number of seconds above 0, for argparse's convert.
local function seconds(name)
  return function(s)
    local n = numbers.parse(s)
    if not n or n ~= n or n <= 0 or n == math.huge then
      return nil, string.format("%s must be a number of seconds above 0, got '%s'", name, s)
    end
    return n
  end
end

-- An Idempotency-Key, for argparse's convert: what the library takes (1 to 128 letters, digits, '-', '_', '.').
local function idempotency_key(s)
  if #s >= 1 and #s <= 128 and s:match("^[%w%-_%.]+$") then return s end
  return nil, string.format("--idempotency-key must be 1 to 128 letters, digits, '-', '_' or '.', got '%s'", s)
end

-- -h/--help that records the request instead of printing and exiting.
local function add_help(cmd, state)
  cmd:add_help(false)
  flag(cmd, "-h --help", "Show this help and exit."):action(function()
    state.help = cmd
    error("seedance: help requested", 0)
  end)
end

local function settings_flags(cmd)
  cmd:group("Settings",
    option(cmd, "--base-url", "The service's address (default $SEEDANCE_BASE_URL or https://xcompute.us).")
      :argname("URL"),
    option(cmd, "--api-key-file", "Read the API key from FILE (default $SEEDANCE_API_KEY)."):argname("FILE"),
    flag(cmd, "--allow-insecure-http", "Allow a plain http:// base URL to a host other than this machine."),
    option(cmd, "--proxy", "Proxy for every request, e.g. http://HOST:PORT."):argname("URL"),
    option(cmd, "--ca-file", "Verify TLS against the CA bundle (PEM) in FILE."):argname("FILE"),
    option(cmd, "--timeout", "Seconds per HTTP request (default 60)."):argname("SECONDS")
      :convert(seconds("--timeout")),
    flag(cmd, "-v --verbose", "Log each HTTP exchange to standard error (-vv: more)."):count("0-2")
      :target("verbose"))
end

-- Flags of the result: where to save it, how long to wait; `extra` are more flags for the group.
local function result_flags(cmd, extra)
  note("-o", true)   -- --output's hidden short name
  local els = {
    option(cmd, "--output", "Save the video to FILE (-o FILE for short); a cut download resumes."):argname("FILE")
      :hidden_name("-o"),
    option(cmd, "--save-last-frame", "Save the result's last frame (a PNG) to FILE."):argname("FILE"),
    option(cmd, "--wait-timeout", "Wall-clock seconds to wait for the task to end (default 1800)."):argname("SECONDS")
      :convert(seconds("--wait-timeout")),
    flag(cmd, "--force", "Replace a file already at -o or --save-last-frame (else the command refuses it before "
      .. "anything is paid)."),
  }
  for _, e in ipairs(extra or {}) do els[#els + 1] = e end
  cmd:group("Result", unpack(els))
end

local function output_flags(cmd, quiet)
  local json = flag(cmd, "--json", "Print one JSON object on standard output instead of text.")
  if quiet then
    cmd:group("Output", json, flag(cmd, "-q --quiet", "No progress display."))
  else
    cmd:group("Output", json)
  end
end

local function epilog(with_env)
  return (with_env and (environment() .. "\n\n") or "") .. exit.help()
end

local function request_flags(cmd, complete)
  local els = { option(cmd, "--request", "Start from the request in FILE (JSON; - for standard input); "
    .. "the flags below override its keys."):argname("FILE") }
  for _, f in ipairs(request.flags()) do
    local el
    if f.kind == "flag" then
      el = flag(cmd, f.name, f.doc .. ".")
    else
      el = option(cmd, f.name, f.doc .. "."):argname(f.arg)
      if f.kind == "list" then el:count("*") end
      -- the values a shell completes (the validator, not the parser, judges a value: --no-validate)
      if complete and f.values then el:choices(f.values) end
    end
    els[#els + 1] = el:target(f.target)
  end
  cmd:group("Request (each flag sets the request key of its name)", unpack(els))
end

-- A subcommand with its help flag, an optional task id argument and its epilog.
local function command(p, state, name, doc, opts)
  local c = p:command(name, doc)
  state.commands[name] = c
  add_help(c, state)
  if opts.id then c:argument("id", "The task id."):argname("ID") end
  c:epilog(epilog(opts.env))
  return c
end

--- Make the parser. `state.help` is set to the (sub)parser whose -h/--help was
-- given; `state.commands` holds the subcommands' parsers by name.
-- @tparam table state
-- @tparam[opt] table opts `complete = true`: the parser shell completion is written from, whose
--   enumerated flags (`--model`, `--size`, `--resolution`) and `help` topics list their values
-- @return the argparse parser
function M.new(state, opts)
  opts = opts or {}
  state.commands = {}
  local p = argparse("seedance", "Generate videos with ByteDance's Seedance 2.0 models.")
    :command_target("command"):help_max_width(100):help_description_margin(30)
    :epilog("`seedance COMMAND --help` describes each command.\n\n" .. epilog(true))
  add_help(p, state)
  flag(p, "--version", "Print the version and exit.")
  p:require_command(false)

  local g = command(p, state, "generate", "Submit a generation; with --wait, -o or --save-last-frame, wait for "
    .. "it and save the result.", { env = true })
  request_flags(g, opts.complete)
  result_flags(g, {
    flag(g, "--wait", "Wait for the task to end (implied by -o and --save-last-frame)."),
    option(g, "--journal", "Record the task in FILE: re-running the command after an interrupt re-attaches "
      .. "to it instead of paying again (after a failed task too: delete FILE to pay for a new "
      .. "attempt)."):argname("FILE"),
    flag(g, "--no-validate", "Skip the client-side checks (for a service newer than this client)."),
    option(g, "--idempotency-key", "Submit under KEY, the key a run whose submit went unanswered printed: the "
      .. "service answers with the task that submit made, instead of making (and billing) another."):argname("KEY")
      :convert(idempotency_key),
  })
  output_flags(g, true)
  settings_flags(g)

  local s = command(p, state, "status", "Show a task's status, progress and result URLs.", { id = true, env = true })
  output_flags(s, false)
  settings_flags(s)

  local w = command(p, state, "wait", "Wait for a task to end; with -o or --save-last-frame, save its result.",
    { id = true, env = true })
  result_flags(w)
  output_flags(w, true)
  settings_flags(w)

  local d = command(p, state, "download", "Save a task's video (-o) or last frame (--save-last-frame), resuming "
    .. "a cut download; waits first if the task has not ended.", { id = true, env = true })
  result_flags(d)
  output_flags(d, true)
  settings_flags(d)

  local v = command(p, state, "validate", "Check the request in FILE.json against the service's rules and list "
    .. "every problem (no network).", { env = false })
  v:argument("file", "The request (- for standard input)."):argname("FILE.json")
  output_flags(v, false)

  local b = command(p, state, "balance", "Show the account's balance.", { env = true })
  output_flags(b, false)
  settings_flags(b)

  local cf = command(p, state, "config", "Show the settings in effect and where each came from (a flag, a "
    .. "variable, the config file, the default), the key masked.", { env = true })
  output_flags(cf, false)
  settings_flags(cf)

  local cp = command(p, state, "completion", "Print the completion script for bash, zsh or fish (see README: "
    .. "Shell completion).", { env = false })
  cp:argument("shell", "The shell."):choices{ "bash", "zsh", "fish" }:argname("SHELL")

  command(p, state, "version", "Print the version.", { env = false })
  local h = command(p, state, "help", "Describe a command.", { env = false })
  local topic = h:argument("topic", "The command."):args("?"):argname("COMMAND")
  return p, topic
end

--- The parser a shell completes from: `new` with the values of enumerated
-- flags, and every command name as a topic of `help`.
-- @return the argparse parser
function M.completion()
  local state = {}
  local p, topic = M.new(state, { complete = true })
  local names = {}
  for name in pairs(state.commands) do names[#names + 1] = name end
  table.sort(names)
  topic:choices(names)
  return p
end

--- Whether a word is one of the parser's options: a declared name (before
-- any `=VALUE`), or short flags run together whose first letter is one (`-vv`, `-ofile`).
-- @tparam string word
-- @treturn boolean
function M.is_option(word)
  if word:sub(1, 2) == "--" then return KNOWN[word:match("^[^=]*")] == true end
  return word:sub(1, 1) == "-" and KNOWN[word:sub(1, 2)] == true
end

--- Whether a word is an option that takes a value (`--prompt`, `--prompt=x`, `-o`; not `-ofile`).
-- @tparam string word
-- @treturn boolean
function M.takes_value(word)
  return VALUE[word:match("^[^=]*")] == true
end

--- The arguments with every value that begins with `-` attached to its
-- option (`--seed -1` becomes `--seed=-1`, `-o -x.mp4` becomes `-o-x.mp4`):
-- after an option that takes a value, a word that is none of the parser's
-- options is that value (a negative number, a prompt that starts with a
-- dash), never an "unknown option". Nothing after `--` is touched.
-- @tparam table argv
-- @treturn table
function M.attach_values(argv)
  local out, i = {}, 1
  while i <= #argv do
    local word, nxt = argv[i], argv[i + 1]
    if word == "--" then
      for j = i, #argv do out[#out + 1] = argv[j] end
      break
    end
    if VALUE[word] and nxt and nxt:sub(1, 1) == "-" and #nxt > 1 and nxt ~= "--" and not M.is_option(nxt) then
      out[#out + 1] = word .. (word:sub(1, 2) == "--" and "=" or "") .. nxt
      i = i + 2
    else
      out[#out + 1] = word
      i = i + 1
    end
  end
  return out
end

--- Whether the arguments ask for --json output (before any `--`), so that a
-- usage error too is one JSON object.
-- @tparam table argv
-- @treturn boolean
function M.wants_json(argv)
  for _, a in ipairs(argv) do
    if a == "--" then return false end
    if a == "--json" then return true end
  end
  return false
end

--- Parse argv.
-- @tparam table argv
-- @treturn[1] table the parsed flags (`command` names the subcommand)
-- @treturn[2] nil
-- @treturn[2] string|nil the error message (nil when help was asked for)
-- @treturn[2] table the state: `help` is the parser whose help was asked for, `commands` the
--   subcommands' parsers by name
-- @treturn[2] table the parser
function M.parse(argv)
  local state = {}
  local p = M.new(state)
  local ok, pok, result = pcall(p.pparse, p, M.attach_values(argv))
  if state.help then return nil, nil, state, p end
  if not ok then error(pok, 0) end
  if not pok then return nil, result, state, p end
  return result, nil, state, p
end

return M

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
  { "XDG_CONFIG_HOME", "where the config file is looked for (default ~/.config)" },
  { "https_proxy", "the proxy (http_proxy for http:// URLs, all_proxy for any); --proxy wins" },
  { "no_proxy", "hosts reached directly, not through a proxy (comma-separated; * for all)" },
  { "SEEDANCE_TIME_SCALE", "1/speed of a local seedance-emulator (0.05 for --speed 20; loopback only)" },
  { "SEEDANCE_LOG", "info: one line per HTTP exchange; debug: more (-v, -vv)" },
  { "SEEDANCE_DEBUG", "1: a failure inside the command prints its stack trace" },
}

--- The shells `seedance completion` writes a script for.
M.SHELLS = { "bash", "zsh", "fish" }

-- The "Environment:" paragraph of help.
local function environment()
  local lines = { "Environment:" }
  for _, e in ipairs(M.ENVIRONMENT) do lines[#lines + 1] = string.format("  %-20s %s", e[1], e[2]) end
  return table.concat(lines, "\n")
end

-- Every option name the parser declares: VALUE[name] for one that takes a value, KNOWN[name] for all,
-- OWNERS[name] the commands that take it (a set of names), LONG[short] the long name of a short option.
local VALUE, KNOWN, OWNERS, LONG = {}, {}, {}, { ["-o"] = "--output" }

-- The commands in the order they are declared (for messages that list some), and each parser's name.
local ORDER, NAME_OF = {}, setmetatable({}, { __mode = "k" })

local function note(names, takes_value, cmd)
  local short
  for name in names:gmatch("%S+") do
    KNOWN[name] = true
    if takes_value then VALUE[name] = true end
    local owner = cmd and NAME_OF[cmd]
    if owner then
      OWNERS[name] = OWNERS[name] or {}
      OWNERS[name][owner] = true
    end
    if name:sub(2, 2) ~= "-" then short = name elseif short then LONG[short] = name end
  end
end

-- cmd:option and cmd:flag, noting the names. An option given twice is refused (`:count` lets a
-- list option repeat), never the last silently taken.
local function option(cmd, names, ...)
  note(names, true, cmd)
  return cmd:option(names, ...):overwrite(false)
end

local function flag(cmd, names, ...)
  note(names, false, cmd)
  return cmd:flag(names, ...)
end

-- A file's name, for argparse's convert: never empty (`-o "$OUT"` with OUT not set is a file named
-- "" to no one), said with what to name instead.
local function path_value(label, what)
  return function(s)
    if s == "" then
      return nil, string.format("%s is empty (a shell variable that is not set?); %s", label, what)
    end
    return s
  end
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

-- --ca-file FILE, a CA bundle (PEM), with this help.
local function ca_option(cmd, help)
  return option(cmd, "--ca-file", help):argname("FILE")
    :convert(path_value("--ca-file", "name a CA bundle (PEM), or leave the flag out"))
end

-- --ca-file of the journal commands: a rediss:// journal's TLS verified against FILE.
local function journal_ca(cmd)
  return ca_option(cmd, "Verify a rediss:// journal's TLS against the CA bundle (PEM) in FILE.")
end

local function settings_flags(cmd)
  cmd:group("Settings",
    option(cmd, "--base-url", "The service's address (default $SEEDANCE_BASE_URL or https://xcompute.us).")
      :argname("URL"),
    option(cmd, "--api-key-file", "Read the API key from FILE (default $SEEDANCE_API_KEY)."):argname("FILE")
      :convert(path_value("--api-key-file", "name the file that holds the API key, or leave the flag out")),
    flag(cmd, "--allow-insecure-http", "Allow a plain http:// base URL to a host other than this machine."),
    option(cmd, "--proxy", "Proxy for every request, e.g. http://HOST:PORT."):argname("URL"),
    ca_option(cmd, "Verify TLS against the CA bundle (PEM) in FILE."),
    option(cmd, "--timeout", "Seconds per HTTP request (default 60)."):argname("SECONDS")
      :convert(seconds("--timeout")),
    flag(cmd, "-v --verbose", "Log each HTTP exchange to standard error (-vv: more)."):count("0-2")
      :target("verbose"))
end

-- Flags of the result: where to save it, how long to wait; `extra` are more flags for the group.
local function result_flags(cmd, extra)
  note("-o", true, cmd)   -- --output's hidden short name
  local els = {
    option(cmd, "--output", "Save the video to FILE (-o FILE for short); a cut download resumes."):argname("FILE")
      :hidden_name("-o"):convert(path_value("-o", "name the file to save the video to")),
    option(cmd, "--save-last-frame", "Save the result's last frame (a PNG) to FILE."):argname("FILE")
      :convert(path_value("--save-last-frame", "name the file to save the last frame to")),
    option(cmd, "--wait-timeout", "Wall-clock seconds to wait for the task to end (default 1800)."):argname("SECONDS")
      :convert(seconds("--wait-timeout")),
    flag(cmd, "--force", "Replace a file already at -o or --save-last-frame (else the command refuses it before "
      .. "anything is paid)."),
  }
  for _, e in ipairs(extra or {}) do els[#els + 1] = e end
  cmd:group("Result", unpack(els))
end

local function output_flags(cmd, quiet, json_doc)
  local json = flag(cmd, "--json", json_doc or "Print one JSON object on standard output instead of text.")
  if quiet then
    cmd:group("Output", json, flag(cmd, "-q --quiet", "No progress display."))
  else
    cmd:group("Output", json)
  end
end

local function epilog(with_env)
  return (with_env and (environment() .. "\n\n") or "") .. exit.help()
end

-- A whole number of at least 1, for argparse's convert.
local function count(name)
  return function(s)
    local n = numbers.parse(s)
    if not n or n ~= n or n < 1 or n == math.huge or n ~= math.floor(n) then
      return nil, string.format("%s must be a whole number of at least 1, got '%s'", name, s)
    end
    return n
  end
end

-- An amount of money (0 or more), for argparse's convert.
local function amount(name)
  return function(s)
    local n = numbers.parse(s)
    if not n or n ~= n or n < 0 or n == math.huge then
      return nil, string.format("%s must be a number of at least 0, got '%s'", name, s)
    end
    return n
  end
end

local function model_rules_flag(cmd)
  return option(cmd, "--model-rules", "Describe models this seedance does not know, as JSON: "
    .. "{\"NAME\": {\"like\": \"doubao-seedance-2.0\", \"duration\": {\"max\": 30}}} (rules: like, "
    .. "resolutions, sizes, duration, features, url_kinds)."):argname("FILE.json")
end

-- The request flags (`complete`: with the values a shell completes); for a batch (`defaults`) they are
-- defaults each line's keys override, and there is no --request (the lines are the requests).
local function request_flags(cmd, complete, defaults)
  local els = {}
  if not defaults then
    els[1] = option(cmd, "--request", "Start from the request in FILE (JSON; - for standard input); "
      .. "the flags below override its keys."):argname("FILE")
      :convert(path_value("--request", "name the request file (JSON; - for standard input)"))
  end
  for _, f in ipairs(request.flags()) do
    local el
    if f.kind == "flag" then
      el = flag(cmd, f.name, f.doc .. ".")
    else
      el = option(cmd, f.name, f.doc .. "."):argname(f.arg)
      if f.kind == "list" then el:count("*") end
      if f.arg == "PATH|URL" then el:convert(path_value(f.name, "name an image file or its URL")) end
      -- the values a shell completes (the validator, not the parser, judges a value: --no-validate)
      if complete and f.values then el:choices(f.values) end
    end
    els[#els + 1] = el:target(f.target)
  end
  cmd:group(defaults and "Request defaults (each flag sets the request key of its name; a line's own keys "
    .. "override it)" or "Request (each flag sets the request key of its name)", unpack(els))
end

-- A subcommand with its help flag, an optional task id argument and its epilog.
local function command(p, state, name, doc, opts)
  local c = p:command(name, doc)
  state.commands[name] = c
  NAME_OF[c] = name
  if not ORDER[name] then
    ORDER[#ORDER + 1], ORDER[name] = name, #ORDER + 1
  end
  add_help(c, state)
  if opts.id then c:argument("ID", "The task id."):target("id"):argname("ID") end
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
      .. "attempt)."):argname("FILE"):convert(path_value("--journal", "name the journal file, or leave the flag out")),
    flag(g, "--no-validate", "Skip the client-side checks (for a service newer than this client)."),
    option(g, "--idempotency-key", "Submit under KEY, the key a run whose submit went unanswered printed: the "
      .. "service answers with the task that submit made, instead of making (and billing) another."):argname("KEY")
      :convert(idempotency_key),
    model_rules_flag(g),
  })
  output_flags(g, true)
  settings_flags(g)

  local bt = command(p, state, "batch", "Generate every request of FILE (JSON lines: one request object per "
    .. "line), a few at a time, journaled: running the same command again resumes, paying for nothing twice.",
    { env = true })
  bt:argument("file", "The requests: one JSON object per line, blank lines skipped (- for standard input); "
    .. "an item is known by its line number."):argname("FILE")
  request_flags(bt, opts.complete, true)
  note("-o", true)
  bt:group("Batch",
    option(bt, "--output", "Save each item's video to PATTERN, a printf pattern taking the item's line number "
      .. "(-o out/%03d.mp4)."):argname("PATTERN"):hidden_name("-o"),
    option(bt, "--save-last-frame", "Save each item's last frame (a PNG) to PATTERN, as -o."):argname("PATTERN"),
    option(bt, "--concurrency", "Items in flight at most (default 4)."):argname("N"):convert(count("--concurrency")),
    option(bt, "--journal", "The batch's journal (default FILE.journal beside FILE): what was paid for, "
      .. "finished, failed or abandoned, so that a re-run resumes."):argname("FILE"),
    flag(bt, "--dry-run", "Check every line, input and output, print the plan and the balance; pay nothing."),
    flag(bt, "--retry-failed", "Submit again (and pay again) the items whose task failed or whose submit was "
      .. "refused; without it a re-run leaves them failed."),
    flag(bt, "--retry-moderated", "Retry the items refused for sensitive content too (implies --retry-failed)."),
    option(bt, "--max-spend", "Stop submitting once the balance's used_balance has grown by more than AMOUNT "
      .. "since the start; the rest are skipped (exit 9)."):argname("AMOUNT"):convert(amount("--max-spend")),
    option(bt, "--wait-timeout", "Wall-clock seconds to wait for each task to end (default 1800)."):argname("SECONDS")
      :convert(seconds("--wait-timeout")),
    flag(bt, "--no-validate", "Skip the client-side checks (for a service newer than this client)."),
    model_rules_flag(bt))
  output_flags(bt, true, "Print one JSON object per line on standard output for each event (submitted, "
    .. "progress, done, failed, skipped, each with its item and task_id; a summary last) instead of text.")
  settings_flags(bt)

  local ab = command(p, state, "abandon", "Record in a journal that nobody wants task ID any more: a re-run "
    .. "neither waits for it nor downloads it. The service has no cancel: the task runs on and is billed.",
    { id = true, env = false })
  ab:group("Journal", option(ab, "--journal", "The journal that records the task (required)."):argname("FILE"),
    journal_ca(ab))
  output_flags(ab, false)

  local jl = command(p, state, "journal", "List what a journal records: each item's number, task id, status, "
    .. "output and the start of its prompt (no network but a redis:// journal's).", { env = false })
  jl:argument("file", "The journal: a file, or redis://[:PASSWORD@]HOST:PORT/NAME (rediss:// for TLS)."):argname("FILE")
  jl:group("Journal", journal_ca(jl))
  output_flags(jl, false)

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
  v:argument("FILE.json", "The request (- for standard input)."):target("file"):argname("FILE.json")
    :convert(path_value("the request file's name", "name a JSON file (- for standard input)"))
  output_flags(v, false)
  v:group("Models", model_rules_flag(v))

  local b = command(p, state, "balance", "Show the account's balance.", { env = true })
  output_flags(b, false)
  settings_flags(b)

  local cf = command(p, state, "config", "Show the settings in effect and where each came from (a flag, a "
    .. "variable, the config file, the default), the key masked.", { env = true })
  output_flags(cf, false)
  settings_flags(cf)

  local cp = command(p, state, "completion", "Print the completion script for bash, zsh or fish (see README: "
    .. "Shell completion).", { env = false })
  cp:argument("SHELL", "The shell."):target("shell")
    :choices(M.SHELLS):argname("SHELL")

  command(p, state, "version", "Print the version.", { env = false })
  local h = command(p, state, "help", "Describe a command.", { env = false })
  local topic = h:argument("COMMAND", "The command to describe."):target("topic"):args("?"):argname("COMMAND")
  return p, topic
end

--- The parser a shell completes from: `new` with the values of enumerated
-- flags, and every command name as a topic of `help`.
-- @return the argparse parser
-- @treturn table the command names, sorted
function M.completion()
  local state = {}
  local p, topic = M.new(state, { complete = true })
  local names = {}
  for name in pairs(state.commands) do names[#names + 1] = name end
  table.sort(names)
  topic:choices(names)
  return p, names
end

-- bash splits a word at a colon (COMP_WORDBREAKS has one), so `--size 16:` reaches the completion as
-- `16` `:` and lua-argparse's function offers file names: the words are taken again from the line
-- split at blanks only, and bash is given what follows the word's last colon, the part it replaces.
local BASH_COLONS = [==[
_seedance() {
    local line="${COMP_LINE:0:COMP_POINT}"
    if [[ "$COMP_WORDBREAKS" != *:* || "$line" != *:* ]]; then
        _seedance_words
        return
    fi
    local -a words
    read -ra words <<< "$line"
    [[ "$line" == *[[:space:]] ]] && words+=("")
    COMP_WORDS=("${words[@]}")
    COMP_CWORD=$(( ${#words[@]} - 1 ))
    _seedance_words
    local cur="${words[COMP_CWORD]}"
    if [[ "$cur" == *:* ]]; then
        local prefix="${cur%"${cur##*:}"}"
        COMPREPLY=("${COMPREPLY[@]#"$prefix"}")
    fi
}
]==]

--- The completion script for a shell (`M.SHELLS`): lua-argparse's, from
-- `completion()`'s parser, with the values of the commands' own arguments
-- (`seedance completion SHELL`, `seedance help COMMAND`), which its bash and
-- fish scripts leave out (its zsh script has them), and values with a colon
-- (`--size 16:9`) completed in bash and zsh.
-- @tparam string shell
-- @treturn string
function M.completion_script(shell)
  local p, names = M.completion()
  local values = { { "completion", M.SHELLS }, { "help", names } }
  if shell == "zsh" then
    -- a value with a colon (--size 16:9) is written \: in _arguments' list of values, which lua-argparse
    -- leaves bare (zsh's "parse error near `(16 )'" at TAB)
    return (p:get_zsh_complete():gsub(": :(%b())", function(list) return ": :" .. list:gsub(":", "\\:") end))
  end
  if shell == "bash" then
    local block = { "    # the values of a command's own argument, right after the command",
                    '    if [[ "$prev" == "$cmd" && "$cur" != -* ]]; then', '        case "$cmd" in' }
    for _, v in ipairs(values) do
      block[#block + 1] = string.format('            %s) COMPREPLY=($(compgen -W "%s" -- "$cur")); return 0 ;;', v[1],
        table.concat(v[2], " "))
    end
    block[#block + 1] = "        esac\n    fi\n"
    local script = p:get_bash_complete():gsub('\n(    if %[%[ "%$cur" = %-%* %]%]; then)', function(options)
      return "\n" .. table.concat(block, "\n") .. "\n" .. options
    end)
    return (script:gsub("^_seedance%(%)", "_seedance_words()"):gsub("\n(complete %-F _seedance )",
      function(complete) return "\n" .. BASH_COLONS .. "\n" .. complete end))
  end
  local lines = { (p:get_fish_complete():gsub("\n$", "")) }
  for _, v in ipairs(values) do
    lines[#lines + 1] = string.format("complete -c seedance -n 'test (__fish_seedance_print_command) = %s; and test "
      .. "(commandline -poc)[-1] = %s' -xa '%s'", v[1], v[1], table.concat(v[2], " "))
  end
  return table.concat(lines, "\n") .. "\n"
end

--- Whether a word is one of the parser's options: a declared name (before
-- any `=VALUE`), or short flags run together whose first letter is one (`-vv`, `-ofile`).
-- @tparam string word
-- @treturn boolean
function M.is_option(word)
  if word:sub(1, 2) == "--" then return KNOWN[word:match("^[^=]*")] == true end
  return word:sub(1, 1) == "-" and KNOWN[word:sub(1, 2)] == true
end

--- The commands that take an option (its name before any `=VALUE`), in the order help lists them.
-- @tparam string word `--prompt`, `-o`
-- @treturn table names, `{ "generate", "wait", "download" }` (empty when none does)
function M.commands_with(word)
  local set, list = OWNERS[word:match("^[^=]*")] or {}, {}
  for _, name in ipairs(ORDER) do
    if set[name] then list[#list + 1] = name end
  end
  return list
end

--- The long name of a short option (`-o` gives `--output`), or nil.
-- @tparam string short
-- @treturn string|nil
function M.long_name(short)
  return LONG[short]
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

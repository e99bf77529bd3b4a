--- The command line's mistakes, each said with its fix: lua-argparse finds
-- them, this module says what to type instead. A flag that takes no value
-- followed by one (`--generate-audio yes`), a long option with one dash
-- (`-prompt`), an option of a command put before the command's name
-- (`seedance -v balance`), the name another API gives a request key
-- (`--aspect-ratio`: the validator knows its name here, `--size`), an option
-- given twice, a value with spaces left unquoted.
-- @module seedance.cli.usage
-- @local

local parser = require("seedance.cli.parser")
local request = require("seedance.cli.request")
local seedance = require("seedance")

local M = {}

-- The request flag of each request key (`size` -> `--size`, `image_urls` -> `--image`).
local function flag_of_field()
  local map = {}
  for _, f in ipairs(request.flags()) do map[f.field] = map[f.field] or f.name end
  return map
end

--- The validator's advice on a request key given as a flag (`--aspect-ratio`
-- is the 1.5 Pro name of `size`), in flags: "this is the 1.5 Pro name; use
-- --size", or nil when it has none.
-- @tparam string option the unknown option as typed, `--aspect-ratio`
-- @treturn string|nil
function M.key_advice(option)
  local key = option:match("^%-%-([%w%-_]+)$")
  if not key then return nil end
  key = key:gsub("%-", "_")
  local flags = flag_of_field()
  if flags[key] then return string.format("the request key %s is given with %s", key, flags[key]) end
  local _, err = seedance.validate{ model = request.DEFAULTS.model, prompt = "x", [key] = "x" }
  for _, p in ipairs(err and err.errors or {}) do
    local advice = p.field == key and p.message:match("^unknown key: (.*)$")
    if advice then
      return (advice:gsub("%f[%w_]([%a_]+)%f[^%w_]", function(w) return flags[w] end))
    end
  end
  return nil
end

--- A long option typed with one dash (`-prompt`, `-output`), which argparse
-- would read as short options run together (`-o utput`): the refusal naming
-- the option meant, or nil. Values already attached (`--prompt=-x`) are not
-- looked at, nor anything after `--`.
-- @tparam table argv the arguments, values attached (`parser.attach_values`)
-- @treturn string|nil
function M.one_dash(argv)
  for _, word in ipairs(argv) do
    if word == "--" then return nil end
    local name = word:match("^%-(%w[%w%-]+)")
    if name and parser.is_option("--" .. name) then
      return string.format("unknown option '%s' (did you mean '--%s'? a long option takes two dashes)",
        word:match("^[^=]*"), name)
    end
  end
  return nil
end

--- A short option written with `=` (`-o=v.mp4`), which argparse reads as the
-- value "=v.mp4" (a file named "=v.mp4"), or a short flag given a value that
-- way (`-q=1`): the refusal saying how to write it, or nil. Nothing after `--` is looked at.
-- @tparam table argv the arguments, values attached (`parser.attach_values`)
-- @treturn string|nil
function M.short_equals(argv)
  for _, word in ipairs(argv) do
    if word == "--" then return nil end
    local short, value = word:match("^(%-%w)=(.*)$")
    if short and parser.takes_value(short) then
      local long = parser.long_name(short)
      return string.format("%s: a short option takes its value after a space, not after '='; write %s %s%s",
        word, short, value, long and string.format(" (or %s=%s)", long, value) or "")
    elseif short and parser.is_option(short) then
      return string.format("%s: %s takes no value; write %s alone", word, short, short)
    end
  end
  return nil
end

-- The commands in words: "`seedance generate`", "generate, wait and download".
local function command_list(names)
  if #names == 1 then return "`seedance " .. names[1] .. "`" end
  return table.concat(names, ", ", 1, #names - 1) .. " and " .. names[#names]
end

--- An option that some other command takes (`seedance status --prompt x`, `seedance --prompt x`):
-- the message naming the commands that take it, or nil when none does.
-- @tparam string option the unknown option as typed
-- @tparam string name the command it was given to ("seedance status", or "seedance")
-- @tparam table argv the arguments as typed
-- @treturn string|nil
function M.other_command(option, name, argv)
  local owners = parser.commands_with(option)
  if #owners == 0 then return nil end
  if name == "seedance" then
    return string.format("%s is an option of %s, not of seedance itself; write the command first: seedance %s %s",
      option, command_list(owners), owners[1], table.concat(argv, " "))
  end
  return string.format("unknown option '%s': `%s` takes no %s (%s %s); remove it", option, name, option,
    #owners == 1 and ("only " .. owners[1]) or command_list(owners), #owners == 1 and "does" or "do")
end

-- The positional words of argv (not options, not an option's value), as { index, word }.
local function positionals(argv)
  local list, i = {}, 1
  while i <= #argv do
    local w = argv[i]
    if w == "--" then
      for j = i + 1, #argv do list[#list + 1] = { j, argv[j] } end
      break
    end
    if w:sub(1, 1) == "-" and #w > 1 then
      -- an option: its value is the next word unless attached (--x=v, -ov)
      if parser.takes_value(w) and not w:find("=", 1, true) and not (w:sub(2, 2) ~= "-" and #w > 2) then
        i = i + 1
      end
    else
      list[#list + 1] = { i, w }
    end
    i = i + 1
  end
  return list
end

-- Whether argv parses without "too many arguments".
local function fits(argv)
  local _, perr = parser.parse(argv)
  return not (perr and perr:find("too many arguments", 1, true))
end

--- What "too many arguments" means: the word that is one too many, and why.
-- @tparam table argv
-- @tparam[opt] string name the command ("seedance generate"), for `help` given as a word
-- @treturn string
function M.too_many(argv, name)
  local pos = positionals(argv)
  -- drop positional words from the end until the rest fits: the first dropped one is the stray
  local stray
  for k = #pos, 1, -1 do
    local rest = {}
    local skip = {}
    for j = k, #pos do skip[pos[j][1]] = true end
    for i, w in ipairs(argv) do if not skip[i] then rest[#rest + 1] = w end end
    if fits(rest) then
      stray = pos[k]
      break
    end
  end
  if not stray then return "too many arguments" end
  local i, word = stray[1], stray[2]
  local before = argv[i - 1]
  if before and parser.is_option(before) and not parser.takes_value(before) and before:sub(1, 2) == "--" then
    return string.format("%s takes no value, but '%s' follows it; write %s alone to turn it on (leave it out "
      .. "for off)", before, word, before)
  end
  local before2 = argv[i - 2]
  if before and before2 and parser.takes_value(before2) and not before2:find("=", 1, true) then
    return string.format("too many arguments: '%s' follows %s %s; put a value with spaces in quotes (%s \"%s %s\")",
      word, before2, before, before2, before, word)
  end
  if word == "help" and name then
    -- `seedance generate help`, as some commands take it
    return string.format("too many arguments: 'help' is one too many; for help, write %s --help", name)
  end
  return string.format("too many arguments: '%s' is one too many", word)
end

-- The first word of argv that names a command (the root parser's options take no value).
local function command_word(argv, commands)
  for i, a in ipairs(argv) do
    if a == "--" then return nil end
    if a:sub(1, 1) ~= "-" then return commands[a] and i or nil, a end
  end
  return nil
end

--- Explain a parse error: which command it is about (for its usage line), and the message.
-- @tparam string perr argparse's message
-- @tparam table argv the arguments as typed
-- @tparam table state the parser's state (`commands`)
-- @return the parser whose usage to show
-- @treturn string the command's name ("seedance generate")
-- @treturn string the message, one line
function M.explain(perr, argv, state, p)
  local at = command_word(argv, state.commands)
  local sub, name = p, "seedance"
  if at then sub, name = state.commands[argv[at]], "seedance " .. argv[at] end
  local msg = perr:gsub("\nDid you mean (.-)%?", " (did you mean %1?)"):gsub("\n", "; ")
  local unknown = msg:match("^unknown option '([^']+)'")
  if unknown then
    -- an option of the command put before its name
    local first
    for i, a in ipairs(argv) do
      if a:match("^[^=]*") == unknown or (unknown:sub(2, 2) ~= "-" and a:sub(1, 1) == "-" and a:sub(2, 2) ~= "-"
          and a:find(unknown:sub(2, 2), 2, true)) then
        first = i
        break
      end
    end
    if at and first and first < at then
      local moved = { argv[at] }
      for i, a in ipairs(argv) do if i ~= at then moved[#moved + 1] = a end end
      local _, again = parser.parse(moved)
      if not (again and again:find("unknown option '" .. unknown .. "'", 1, true)) then
        return p, "seedance", string.format("%s is an option of `seedance %s`, not of seedance itself; put it after "
          .. "the command: seedance %s", unknown, argv[at], table.concat(moved, " "))
      end
    end
    -- an option of another command: say which (never the request-key advice, which would name it again)
    local other = M.other_command(unknown, name, argv)
    if other then return sub, name, other end
    -- a request key given as a flag: only generate takes request flags
    local advice = (name == "seedance generate" or name == "seedance") and M.key_advice(unknown)
    if advice then msg = string.format("unknown option '%s': %s", unknown, advice) end
    return sub, name, msg
  end
  local needs = msg:match("^option '([^']+)' requires an argument$")
  if needs then
    -- the usage line names the value: [--prompt TEXT]
    local value = sub:get_usage():gsub("%s+", " "):match("%[" .. needs:gsub("%p", "%%%0") .. " ([^%]%s]+)%]")
    if value then msg = string.format("%s: give it one (%s %s)", msg, needs, value) end
    return sub, name, msg
  end
  if msg == "too many arguments" then return sub, name, M.too_many(argv, name) end
  if msg:match("^unknown command '[^']*'$") then
    local names = {}
    for c in pairs(state.commands) do names[#names + 1] = c end
    table.sort(names)
    return sub, name, msg .. "; the commands are " .. table.concat(names, ", ")
  end
  local twice = msg:match("^option '([^']+)' must be used at most 1 time$")
  if twice then
    return sub, name, string.format("%s is given more than once; give it once (the last would silently win)", twice)
  end
  local novalue = msg:match("^option '([^']+)' does not take arguments$")
  if novalue then
    return sub, name, string.format("%s takes no value; write %s alone to turn it on (leave it out for off)",
      novalue, novalue)
  end
  if msg == "missing argument 'ID'" then
    return sub, name, string.format("missing argument 'ID': give the task id, as `seedance generate` printed it "
      .. "(%s task_...)", name)
  end
  if msg == "missing argument 'FILE.json'" then
    return sub, name, string.format("missing argument 'FILE.json': name the request file (%s req.json; - for "
      .. "standard input)", name)
  end
  if msg == "missing argument 'SHELL'" then
    return sub, name, string.format("missing argument 'SHELL': name the shell (%s bash, or %s)", name,
      table.concat(parser.SHELLS, ", ", 2))
  end
  return sub, name, msg
end

return M

-- mk/man.lua: write the manual page seedance(1) (man(7) macros) on standard output.
--
--   lua5.4 mk/man.lua [README.md] > build/man/seedance.1      (make man)
--
-- It is made from what the command itself says, so it cannot drift from it:
-- the commands, their usage lines, options and arguments from the help text
-- of the same lua-argparse parsers `seedance COMMAND --help` prints
-- (lua/seedance/cli/parser.lua; every command the root parser lists, so a
-- new command appears here with no change), the environment from the
-- parser's list, the exit codes from lua/seedance/cli/exit.lua, and the
-- description from README.md's section "The seedance command" (Markdown:
-- paragraphs, lists, code blocks, ### headings; its tables are left out, the
-- exit codes have their own section; a sentence naming a file of the source
-- tree, as `spec/cli/messages_spec.lua`, is for the maintainer and left out,
-- as is one about `man seedance` itself). It needs the built core on
-- LUA_CPATH (the request flags come from the validator's field table).
local config = require("seedance.cli.config")
local parser = require("seedance.cli.parser")
local exit = require("seedance.cli.exit")
local version = require("seedance.version")

local readme = arg[1] or "README.md"

-- ---- roff text ----------------------------------------------------------------

-- Text for roff: backslashes escaped, every non-ASCII character as \[uXXXX]
-- (no preprocessor needed), a dash as \- when `minus` (options and code).
local function esc(s, minus)
  s = s:gsub("\\", "\\e")
  if minus then s = s:gsub("%-", "\\-") end
  return (s:gsub("[\192-\247][\128-\191]*", function(ch)
    local c, n = ch:byte(1), #ch
    local cp = n == 2 and c % 32 or n == 3 and c % 16 or c % 8
    for i = 2, n do cp = cp * 64 + ch:byte(i) % 64 end
    return string.format("\\[u%04X]", cp)
  end))
end

-- A line of text, safe at the start of a roff line (a leading . or ' is a request).
local function line(s)
  if s:match("^[.']") then return "\\&" .. s end
  return s
end

-- Markdown inline text: `code` bold with real dashes, **bold**, *italic*, [text](url) as text.
local function inline(s)
  local out, i = {}, 1
  while i <= #s do
    local a, b = s:find("`[^`]+`", i)
    local plain = s:sub(i, (a or #s + 1) - 1)
    plain = plain:gsub("%[([^%]]+)%]%([^)]+%)", "%1")
    plain = esc(plain)
    plain = plain:gsub("%*%*(.-)%*%*", "\\fB%1\\fR"):gsub("%f[%w*]%*([^*%s][^*]-)%*", "\\fI%1\\fR")
    out[#out + 1] = plain
    if not a then break end
    out[#out + 1] = "\\fB" .. esc(s:sub(a + 1, b - 1), true) .. "\\fR"
    i = b + 1
  end
  return table.concat(out)
end

-- ---- the README's section -------------------------------------------------------

-- The lines of README's "## The seedance command" section, up to the next ## heading.
local function readme_section(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("*a")
  f:close()
  local lines, inside = {}, false
  for l in (text .. "\n"):gmatch("([^\n]*)\n") do
    if l:match("^## ") then
      if inside then break end
      inside = l == "## The seedance command"
    elseif inside then
      lines[#lines + 1] = l
    end
  end
  assert(#lines > 0, path .. ": no section '## The seedance command'")
  return lines
end

-- Whether a sentence is for the maintainer or about the page itself, not for its reader: it names a
-- file of the source tree (`spec/...`, `lua/...`, `mk/...`, `src/...`) or `man seedance`.
local function not_for_readers(sentence)
  for code in sentence:gmatch("`([^`]+)`") do
    if code:match("^spec/") or code:match("^lua/") or code:match("^mk/") or code:match("^src/")
        or code == "man seedance" then
      return true
    end
  end
  return false
end

-- A paragraph's text without the sentences `not_for_readers` finds. A sentence ends at a '.'
-- outside `code` followed by a blank or the end; the rest is kept as written.
local function for_readers(text)
  local kept, start, code = {}, 1, false
  for i = 1, #text do
    local c = text:sub(i, i)
    if c == "`" then code = not code end
    if not code and c == "." and (i == #text or text:sub(i + 1, i + 1) == " ") then
      local sentence = text:sub(start, i):gsub("^%s+", "")
      if not not_for_readers(sentence) then kept[#kept + 1] = sentence end
      start = i + 1
    end
  end
  local rest = text:sub(start):gsub("^%s+", "")
  if rest ~= "" and not not_for_readers(rest) then kept[#kept + 1] = rest end
  return table.concat(kept, " ")
end

-- Markdown lines as man(7) requests.
local function markdown(lines)
  local out, para, i = {}, {}, 1
  local function flush()   -- a paragraph is one roff line (a `code` span may cross a line break)
    local text = #para > 0 and for_readers(table.concat(para, " ")) or ""
    if text ~= "" then
      out[#out + 1] = ".PP"
      out[#out + 1] = line(inline(text))
    end
    para = {}
  end
  local in_table = false
  while i <= #lines do
    local l = lines[i]
    if l:match("^```") then
      flush()
      out[#out + 1] = ".PP"
      out[#out + 1] = ".RS 4"
      out[#out + 1] = ".nf"
      i = i + 1
      while i <= #lines and not lines[i]:match("^```") do
        out[#out + 1] = line(esc(lines[i], true))
        i = i + 1
      end
      out[#out + 1] = ".fi"
      out[#out + 1] = ".RE"
    elseif l:match("^|") then
      flush()   -- a table: its facts have their own section (EXIT STATUS)
      if not in_table then
        out[#out + 1] = ".PP"
        out[#out + 1] = "The exit codes are listed under EXIT STATUS below."
      end
    elseif l:match("^###+ ") then
      flush()
      out[#out + 1] = ".SS " .. esc((l:gsub("^#+ ", "")))
    elseif l:match("^[-*] ") or l:match("^%d+%. ") then
      flush()
      local item = { (l:gsub("^[-*] ", ""):gsub("^%d+%. ", "")) }
      while lines[i + 1] and lines[i + 1]:match("^%s+%S") do
        i = i + 1
        item[#item + 1] = (lines[i]:gsub("^%s+", ""))
      end
      local text = for_readers(table.concat(item, " "))
      if text ~= "" then
        out[#out + 1] = ".IP \\(bu 2"
        out[#out + 1] = line(inline(text))
      end
    elseif l:match("^%s*$") then
      flush()
    else
      para[#para + 1] = (l:gsub("^%s+", ""))
    end
    in_table = l:match("^|") ~= nil
    i = i + 1
  end
  flush()
  return out
end

-- ---- help text, read back ----------------------------------------------------

--- A parser's help as { usage = "...", description = "...", sections = { { title, { { label, text } } } } }.
-- The layout is the one parser.lua gives argparse: elements indented 3 spaces, descriptions at column 31.
local MARGIN = 30
local function read_help(help)
  local lines = {}
  for l in (help .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = l end
  local r, i = { sections = {} }, 1
  local usage = {}
  while lines[i] and lines[i] ~= "" do
    usage[#usage + 1] = (lines[i]:gsub("^Usage: ", ""):gsub("^%s+", ""))
    i = i + 1
  end
  r.usage = table.concat(usage, " ")
  local desc = {}
  i = i + 1
  while lines[i] and lines[i] ~= "" do
    desc[#desc + 1] = lines[i]
    i = i + 1
  end
  r.description = table.concat(desc, " ")
  local section, element
  for k = i, #lines do
    local l = lines[k]
    if l == "Environment:" or l == "Exit codes:" then break end
    local title = l:match("^(%S.*):$")
    if title then
      section = { title, {} }
      r.sections[#r.sections + 1] = section
      element = nil
    elseif section and l:match("^   %S") then
      local label, text = l, ""
      if #l > MARGIN then label, text = l:sub(1, MARGIN), l:sub(MARGIN + 1) end
      element = { (label:gsub("^%s+", ""):gsub("%s+$", "")), text }
      section[2][#section[2] + 1] = element
    elseif element and l:match("^" .. (" "):rep(MARGIN) .. "%S") then
      element[2] = (element[2] == "" and "" or element[2] .. " ") .. l:gsub("^%s+", "")
    end
  end
  return r
end

-- An option's label ("-q, --quiet", "--model NAME") in roff: names bold, value names italic.
local function label(s)
  local parts = {}
  for alias in s:gmatch("[^,]+") do
    alias = alias:gsub("^%s+", "")
    local name, value = alias:match("^(%S+)%s*(.*)$")
    parts[#parts + 1] = "\\fB" .. esc(name, true) .. "\\fR" .. (value ~= "" and (" \\fI" .. esc(value, true) .. "\\fR")
      or "")
  end
  return table.concat(parts, ", ")
end

-- ---- the page ----------------------------------------------------------------

local state = {}
local root = parser.new(state)
local top = read_help(root:get_help())
local out = {}
local function add(s) out[#out + 1] = s end

add('.\\" seedance(1): written by mk/man.lua from the command\'s parsers and README.md; do not edit.')
add('.TH SEEDANCE 1 "" "seedance ' .. esc(version) .. '" "User Commands"')
add(".nh")   -- no hyphens inside option names
add(".ad l")
add(".SH NAME")
add("seedance \\- " .. esc(top.description:gsub("^%u", string.lower):gsub("%.$", "")))
add(".SH SYNOPSIS")
local commands = {}
for _, section in ipairs(top.sections) do
  if section[1] == "Commands" then
    for _, e in ipairs(section[2]) do commands[#commands + 1] = e end
  end
end
assert(#commands > 0, "the root help lists no commands")
for n, c in ipairs(commands) do
  if n > 1 then add(".br") end
  local u = read_help(state.commands[c[1]]:get_help()).usage
  add("\\fBseedance " .. esc(c[1], true) .. "\\fR " .. esc((u:gsub("^seedance %S+%s*", "")), true))
end
add(".SH DESCRIPTION")
add(line(esc(top.description)))
for _, l in ipairs(markdown(readme_section(readme))) do add(l) end
add(".SH COMMANDS")
for _, c in ipairs(commands) do
  local h = read_help(state.commands[c[1]]:get_help())
  add(".SS " .. "seedance " .. esc(c[1], true))
  add(".PP")
  add(line(esc(h.description ~= "" and h.description or c[2])))
  for _, section in ipairs(h.sections) do
    if #section[2] > 0 then
      add(".PP")
      add("\\fI" .. esc(section[1]) .. ":\\fR")
      for _, e in ipairs(section[2]) do
        add(".TP")
        add(label(e[1]))
        add(line(esc(e[2])))
      end
    end
  end
end
add(".SH ENVIRONMENT")
for _, e in ipairs(parser.ENVIRONMENT) do
  add(".TP")
  add("\\fB" .. esc(e[1]) .. "\\fR")
  add(line(esc(e[2], false)))
end
add(".SH EXIT STATUS")
for _, row in ipairs(exit.CODES) do
  add(".TP")
  add("\\fB" .. row[1] .. "\\fR")
  add(line(esc(row[3])))
end
add(".SH FILES")
add(".TP")
add("\\fI$XDG_CONFIG_HOME/seedance/config\\fR (default \\fI~/.config/seedance/config\\fR; \\fBSEEDANCE_CONFIG\\fR "
  .. "names another)")
add(line(inline("The config file: one `key = value` per line, `#` comments; the keys are `"
  .. table.concat(config.KEYS, "`, `") .. "`. Flags beat environment variables beat the file beat the defaults; "
  .. "`seedance config` shows what is in effect and where each setting came from.")))
add(".SH SEE ALSO")
add("\\fBseedance COMMAND \\-\\-help\\fR; \\fBseedance\\-emulator \\-\\-help\\fR; the README.md of seedance.")
io.write(table.concat(out, "\n"), "\n")

#!/usr/bin/env lua5.4
-- mutants/catalogue.lua: reads the mutation catalogues (mutants/*.lua other
-- than this file) and applies one mutation to a tree by matching text.
--
-- A catalogue returns a list of rows. A row removes one promise:
--
--   { name = "atomic-rename",                    -- unique; its killing specs carry #m-atomic-rename
--     promise = "the body streams to <target>.part and is renamed onto the target only when whole",
--     file = "lua/seedance/download.lua",         -- the file it changes
--     from = [[  local part, meta = path .. ".part", path .. ".part.meta"]],   -- exact text, found once
--     to   = [[  local part, meta = path, path .. ".part.meta"]],              -- what stands there instead
--     timeout = 60,                               -- optional: seconds before a hang counts as a kill
--     lua = "lua5.1",                             -- optional: the Lua its specs run under
--     git = true }                                -- optional: the mutated tree is made a git checkout
--                                                 -- (its files added), for specs that run make rock
--
-- A mutation that changes several places lists them instead of file/from/to:
--   edits = { { file = ..., from = ..., to = ... }, ... }
-- Each `from` is whole lines and must stand exactly once in its file, at
-- the start of a line: the mutation goes stale
-- only when the promised lines themselves change, never when code around
-- them moves.
--
--   lua5.4 mutants/catalogue.lua list              name<TAB>timeout<TAB>lua<TAB>area, one per mutation
--   lua5.4 mutants/catalogue.lua promises          the promises held, per source file (mutants/run --list)
--   lua5.4 mutants/catalogue.lua apply NAME DIR    apply NAME to the tree in DIR (exit 3: stale,
--                                                  4: the mutated Lua file does not load)
--   lua5.4 mutants/catalogue.lua check             every row well formed and applying to this tree, each
--                                                  carried by a spec's #m- tag, each such tag a row's (make lint)
local M = {}

local here = arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or "mutants"

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

--- Every catalogue file of the folder, sorted.
local function catalogue_files(dir)
  local p = io.popen("ls '" .. dir .. "'/*.lua 2>/dev/null")
  local files = {}
  for line in p:lines() do
    if not line:match("/catalogue%.lua$") then files[#files + 1] = line end
  end
  p:close()
  table.sort(files)
  return files
end

--- All rows, each with .area (the catalogue's name) and .edits filled in.
function M.load(dir)
  dir = dir or here
  local rows, by_name, problems = {}, {}, {}
  for _, path in ipairs(catalogue_files(dir)) do
    local area = path:match("([^/]+)%.lua$")
    local chunk, err = loadfile(path)
    if not chunk then error(err, 0) end
    local list = chunk()
    for i, row in ipairs(list) do
      local where = area .. "[" .. i .. "]"
      row.area = area
      if type(row.name) ~= "string" or not row.name:match("^[%w][%w%-]*$") then
        problems[#problems + 1] = where .. ": name must be letters, digits and '-'"
      elseif by_name[row.name] then
        problems[#problems + 1] = where .. ": name " .. row.name .. " is also in " .. by_name[row.name].area
      end
      if type(row.promise) ~= "string" or row.promise == "" then
        problems[#problems + 1] = where .. ": needs a promise"
      end
      if not row.edits then
        row.edits = { { file = row.file, from = row.from, to = row.to } }
      end
      for j, e in ipairs(row.edits) do
        if type(e.file) ~= "string" or type(e.from) ~= "string" or type(e.to) ~= "string" or e.from == "" then
          problems[#problems + 1] = where .. ": edit " .. j .. " needs file, from and to"
        elseif e.from == e.to then
          problems[#problems + 1] = where .. ": edit " .. j .. " changes nothing"
        end
      end
      rows[#rows + 1] = row
      if row.name then by_name[row.name] = row end
    end
  end
  return rows, by_name, problems
end

--- Where needle stands in hay at the start of a line: the count, and the first place.
local function find_lines(hay, needle)
  local n, first, i = 0, nil, 1
  hay = "\n" .. hay
  while true do
    local s, e = hay:find("\n" .. needle, i, true)
    if not s then return n, first end
    n, first, i = n + 1, first or s, e + 1
  end
end

--- Apply a row to the tree in dir. true, or nil and why (stale).
function M.apply(row, dir)
  local texts = {}
  for _, e in ipairs(row.edits) do
    local path = dir .. "/" .. e.file
    local text = texts[path] or read(path)
    if not text then return nil, e.file .. " is missing" end
    local n, s = find_lines(text, e.from)
    if n ~= 1 then
      return nil, string.format("%s: the promised lines stand %d times (once expected)", e.file, n)
    end
    texts[path] = text:sub(1, s - 1) .. e.to .. text:sub(s + #e.from)
  end
  for path, text in pairs(texts) do
    local f = assert(io.open(path, "wb"))
    f:write(text)
    f:close()
    -- a mutation that breaks the syntax would be killed by any spec that loads the file
    if path:match("%.lua$") or text:match("^#![^\n]*lua") then
      local ok, err = loadfile(path)
      if not ok then return nil, "the mutated file does not load: " .. err, "broken" end
    end
  end
  return true
end

local function main(cmd, ...)
  local rows, by_name, problems = M.load()
  if cmd == "list" then
    for _, r in ipairs(rows) do
      print(table.concat({ r.name, tostring(r.timeout or ""), r.lua or "", r.area }, "\t"))
    end
  elseif cmd == "promises" then
    local by_file, files = {}, {}
    for _, r in ipairs(rows) do
      local seen = {}
      for _, e in ipairs(r.edits) do
        if not seen[e.file] then
          seen[e.file] = true
          if not by_file[e.file] then by_file[e.file] = {}; files[#files + 1] = e.file end
          table.insert(by_file[e.file], r)
        end
      end
    end
    table.sort(files)
    for _, file in ipairs(files) do
      print(file .. " (" .. #by_file[file] .. ")")
      for _, r in ipairs(by_file[file]) do print(string.format("  %-40s %s", r.name, r.promise)) end
    end
  elseif cmd == "apply" then
    local name, dir = ...
    local row = by_name[name or ""]
    if not row then io.stderr:write("no mutation named ", tostring(name), "\n"); os.exit(2) end
    local ok, why, broken = M.apply(row, dir)
    if not ok then io.stderr:write(why, "\n"); os.exit(broken and 4 or 3) end
  elseif cmd == "field" then
    local name, key = ...
    local row = by_name[name or ""]
    if not row then os.exit(2) end
    local v = row[key]
    if v ~= nil then print(v) end
  elseif cmd == "check" then
    for _, r in ipairs(rows) do
      for _, e in ipairs(r.edits) do
        local text = read(e.file)
        if type(e.from) == "string" and e.from ~= "" then
          local n = text and find_lines(text, e.from) or 0
          if n ~= 1 then
            problems[#problems + 1] = string.format("%s: %s: the promised text stands %d times", r.name, e.file, n)
          end
        end
      end
    end
    -- each row's tag carried by a spec, and each spec's #m- tag naming a row
    local tagged = {}
    local p = io.popen("find spec -name '*_spec.lua' | sort")
    for path in p:lines() do
      for tag in (read(path) or ""):gmatch("#m%-([%w][%w%-]*)") do
        if not by_name[tag] and not tagged[tag] then
          problems[#problems + 1] = string.format("%s: #m-%s names no mutation", path, tag)
        end
        tagged[tag] = true
      end
    end
    p:close()
    for _, r in ipairs(rows) do
      if r.name and not tagged[r.name] then
        problems[#problems + 1] = string.format("%s: no spec carries #m-%s", r.name, r.name)
      end
    end
    for _, msg in ipairs(problems) do print(msg) end
    os.exit(#problems == 0 and 0 or 1)
  else
    io.stderr:write("usage: catalogue.lua list|promises|check|apply NAME DIR|field NAME KEY\n")
    os.exit(2)
  end
  if #problems > 0 then
    for _, p in ipairs(problems) do io.stderr:write("catalogue: ", p, "\n") end
    os.exit(1)
  end
end

if arg and arg[0] and arg[0]:match("catalogue%.lua$") then
  main(...)
end
return M

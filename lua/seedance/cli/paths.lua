--- The files one run of the command touches, compared by identity, not by
-- spelling: `a.mp4`, `./a.mp4`, `dir/../a.mp4` and a folder reached through
-- a link all name one file. A run may not write a file it reads (an input
-- image, the --request file, the key file), nor keeps (the journal), nor two
-- files it writes under one name. What an output writes is the target and its
-- partial file and companion (`FILE.part`, `FILE.part.meta`).
--
-- Two names are one entry when their folders have the same identity
-- (`core.file_id`: device and inode) and their last names are equal (without
-- regard to case on Windows). Two existing files are one file when their
-- identities are equal: a hard link, or another spelling of a name on a
-- file system that ignores case.
-- @module seedance.cli.paths
-- @local

local core = require("seedance.core")
local files = require("seedance.files")

local M = {}

--- The companions a download writes beside its target.
M.COMPANIONS = { "", ".part", ".part.meta" }

-- The entry a path names ("<folder id>/<name>"), or nil when its folder does not exist or
-- it names no file (a trailing slash, "." or ".."): the output checks report those.
local function entry(path)
  local name = path:match("[^/\\]*$")
  if name == "" or name == "." or name == ".." then return nil end
  local dir_id = core.file_id(files.dirname(path), true)
  if not dir_id then return nil end
  if files.WINDOWS then name = name:lower() end
  return dir_id .. "/" .. name
end
M.entry = entry

-- A file the run touches: `label`, `writes`, `entries` (entry -> the path that names it),
-- `ids` (file identity -> path).
local function item(label, writes)
  return { label = label, writes = writes, entries = {}, ids = {} }
end

local function add_name(it, path, follow)
  local e = entry(path)
  if e then it.entries[e] = path end
  local id = core.file_id(path, follow)
  if id then it.ids[id] = path end
end

--- Check that no file of the run is written under a name another one uses.
-- @tparam table outputs `{ { flag, path }, ... }`: files the run writes (with their companions)
-- @tparam table inputs `{ { label, path, writes = boolean }, ... }`: files it reads or keeps
--   (`writes` for one it also appends to, the journal)
-- @treturn[1] boolean true
-- @treturn[2] nil
-- @treturn[2] string the clash, in a sentence naming both files
function M.check(outputs, inputs)
  local items = {}
  for _, o in ipairs(outputs) do
    local it = item(o[1] .. " " .. o[2], true)
    for _, suffix in ipairs(M.COMPANIONS) do
      -- the download replaces the target's entry and may append to the partial file it finds:
      -- an existing name is identified as it stands (a link itself, not what it points to)
      add_name(it, o[2] .. suffix, false)
    end
    items[#items + 1] = it
  end
  for _, i in ipairs(inputs) do
    local it = item(i[1] .. " " .. i[2], i.writes)
    add_name(it, i[2], true)   -- its name (a link too is kept) and the file it leads to
    items[#items + 1] = it
  end
  for a = 1, #items do
    for b = 1, #items do
      local x, y = items[a], items[b]
      if a ~= b and x.writes then
        for key, path in pairs(x.entries) do
          if y.entries[key] then return nil, M.clash(x, path, y) end
        end
        for id, path in pairs(x.ids) do
          if y.ids[id] then return nil, M.clash(x, path, y) end
        end
      end
    end
  end
  return true
end

--- The sentence for a clash: `x` would write `path`, which is `y`'s file.
-- @tparam table x
-- @tparam string path
-- @tparam table y
-- @treturn string
function M.clash(x, path, y)
  local what = x.label:sub(-#path) == path and "" or (" (its file " .. path .. ")")
  return string.format("%s%s and %s name the same file; the run would overwrite one with the other: "
    .. "choose another name", x.label, what, y.label)
end

return M

--- The files one run touches (a command, a `map` or `chain` batch), compared
-- by identity, not by spelling: `a.mp4`, `./a.mp4`, `dir/../a.mp4` and a folder
-- reached through a link all name one file. A run may not write a file it
-- reads (an input image, the --request file, the key file), nor keeps (the
-- journal), nor two files it writes under one name. What an output writes is
-- the target and the download's companions beside it (`FILE.part`,
-- `FILE.part.meta`: `seedance.download`).
--
-- Two names are one entry when their folders have the same identity
-- (`core.file_id`: device and inode) and their last names are equal without
-- regard to ASCII case (on every platform: macOS and Windows ignore case by
-- default, and so does a FAT or SMB folder mounted on Linux). Two existing files are one file when their
-- identities are equal: a hard link, or another spelling of a name on a
-- file system that ignores case.
-- @module seedance.paths
-- @local

local core = require("seedance.core")
local files = require("seedance.files")

local M = {}

--- The companions a download writes beside its target (`seedance.download`).
M.COMPANIONS = { "", ".part", ".part.meta" }

-- The entry a path names ("<folder id>/<name>"), or nil when its folder does not exist or
-- it names no file (a trailing slash, "." or ".."): the output checks report those.
local function entry(path)
  local name = files.WINDOWS and path:match("[^/\\]*$") or path:match("[^/]*$")
  if name == "" or name == "." or name == ".." then return nil end
  local dir_id = core.file_id(files.dirname(path), true)
  if not dir_id then return nil end
  -- case folded on every platform: Windows and macOS ignore case by default, and so does a
  -- FAT or SMB folder mounted on Linux; two outputs that differ only in case are a mistake anyway
  return dir_id .. "/" .. name:lower()
end
M.entry = entry

-- The keys of one file of the run, as `{ key, path }`: its entries ("e...") and identities ("i...").
-- An output's target and companions are taken as they stand (the download replaces the target's
-- entry and may append to the partial file it finds: a link itself, not what it points to);
-- an input's name (a link too is kept) and the file it leads to.
local function keys_of(path, output)
  local keys = {}
  local function add(p, follow)
    local e = entry(p)
    if e then keys[#keys + 1] = { "e" .. e, p } end
    local id = core.file_id(p, follow)
    if id then keys[#keys + 1] = { "i" .. id, p } end
  end
  if output then
    for _, suffix in ipairs(M.COMPANIONS) do add(path .. suffix, false) end
  else
    add(path, true)
  end
  return keys
end

local Set = {}
Set.__index = Set

--- An empty set of the files of a run.
-- @treturn table with `add`
function M.new()
  return setmetatable({ keys = {} }, Set)
end

-- " (its file P)" after a label that does not end with P.
local function its(label, path)
  return label:sub(-#path) == path and "" or (" (its file " .. path .. ")")
end

--- The sentence for a clash: `x` would write its file `xpath`, which is `y`'s file `ypath`.
-- @tparam string x the label of the file that writes
-- @tparam string xpath its file that clashes (the target or a companion)
-- @tparam string y the other's label
-- @tparam string ypath its file that clashes
-- @treturn string
function M.clash(x, xpath, y, ypath)
  return string.format("%s%s and %s%s name the same file; the run would overwrite one with the other: "
    .. "choose another name", x, its(x, xpath), y, its(y, ypath))
end

--- Add a file of the run, unless it names (in any spelling) a file added
-- before and one of the two writes it. Linear in the files added: a batch of
-- thousands is checked at once.
-- @tparam string label how messages name it ("-o out.mp4", "item 3's output out.mp4")
-- @tparam string path
-- @tparam[opt] table how `output = true` (written, with its companions), or `writes = true`
--   (an input it also appends to: the journal)
-- @treturn[1] boolean true
-- @treturn[2] nil
-- @treturn[2] string the clash, in a sentence naming both files (the file is not added)
function Set:add(label, path, how)
  how = how or {}
  local item = { label = label, writes = how.output or how.writes or false }
  local keys = keys_of(path, how.output)
  for _, k in ipairs(keys) do
    local seen = self.keys[k[1]]
    if seen and seen.writer then return nil, M.clash(seen.writer.label, seen.writer.path, label, k[2]) end
    if seen and item.writes then return nil, M.clash(label, k[2], seen.first.label, seen.first.path) end
  end
  for _, k in ipairs(keys) do
    local seen = self.keys[k[1]]
    if not seen then
      seen = { first = { label = label, path = k[2] } }
      self.keys[k[1]] = seen
    end
    if item.writes and not seen.writer then seen.writer = { label = label, path = k[2] } end
  end
  return true
end

--- Check that no file of a run is written under a name another one uses.
-- @tparam table outputs `{ { flag, path }, ... }`: files the run writes (with their companions)
-- @tparam table inputs `{ { label, path, writes = boolean }, ... }`: files it reads or keeps
--   (`writes` for one it also appends to, the journal)
-- @treturn[1] boolean true
-- @treturn[2] nil
-- @treturn[2] string the clash, in a sentence naming both files
function M.check(outputs, inputs)
  local set = M.new()
  for _, o in ipairs(outputs) do
    local ok, why = set:add(o[1] .. " " .. o[2], o[2], { output = true })
    if not ok then return nil, why end
  end
  for _, i in ipairs(inputs) do
    local ok, why = set:add(i[1] .. " " .. i[2], i[2], { writes = i.writes })
    if not ok then return nil, why end
  end
  return true
end

return M

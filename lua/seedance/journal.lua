--- A crash-safe journal of paid work, so a re-run never pays twice.
--
-- Format (version 1): a text file of JSON lines, appended and fsync'd one
-- record at a time. The first record is a header; every other record names
-- a logical request by `key` (the request's hash plus its occurrence number,
-- or a key the caller gave):
--
--     {"v":1,"type":"journal","format":"seedance-journal","created":1764000000}
--     {"v":1,"type":"submit","key":"3f2a...#1","hash":"3f2a...","idempotency_key":"9c0e...","time":...}
--     {"v":1,"type":"task","key":"3f2a...#1","task_id":"task_01...","time":...}
--     {"v":1,"type":"done","key":"3f2a...#1","task_id":"task_01...","status":"completed",
--      "video_url":"https://...","last_frame_url":"https://...","expires_at":1764086400,"time":...}
--     {"v":1,"type":"download","key":"3f2a...#1","task_id":"task_01...","path":"out/a.mp4","bytes":12345,"time":...}
--
-- The `submit` record (with the Idempotency-Key) is on disk before the submit
-- is sent, and the `task` record right after the answer: a crash between the
-- two resubmits under the same key, which the service answers with the
-- original task. A torn last line (a crash mid-write) is ignored on reading.
-- @module seedance.journal

local cjson = require("cjson.safe")
local core = require("seedance.core")

local M = { VERSION = 1 }

local Journal = {}
Journal.__index = Journal

-- Canonical JSON: keys sorted, so equal requests hash equally.
local function canonical(v, seen)
  local t = type(v)
  if t == "table" then
    if core.is_file(v) then return cjson.encode({ ["$file"] = v.path }) end
    seen = seen or {}
    if seen[v] then return '"<cycle>"' end
    seen[v] = true
    local parts = {}
    local n = #v
    if n > 0 then
      for i = 1, n do parts[i] = canonical(v[i], seen) end
      seen[v] = nil
      return "[" .. table.concat(parts, ",") .. "]"
    end
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    for i, k in ipairs(keys) do
      parts[i] = cjson.encode(k) .. ":" .. canonical(v[k], seen)
    end
    seen[v] = nil
    return "{" .. table.concat(parts, ",") .. "}"
  elseif t == "string" or t == "number" or t == "boolean" then
    return cjson.encode(v) or "null"
  end
  return "null"
end
M.canonical = canonical

--- The hash identifying a request (16 hex digits).
-- @tparam table request
-- @treturn string
function M.hash(request)
  return core.hash(canonical(request))
end

--- Open (or create) a journal and read what it holds.
-- @tparam string path
-- @treturn[1] table the journal
-- @treturn[2] nil
-- @treturn[2] string message
function M.open(path)
  local self = setmetatable({ path = path, entries = {}, counts = {}, torn = 0 }, Journal)
  local f = io.open(path, "rb")
  if f then
    local text = f:read("*a")
    f:close()
    for line in text:gmatch("[^\n]+") do
      local rec = cjson.decode(line)
      if type(rec) ~= "table" then
        self.torn = self.torn + 1
      elseif type(rec.v) == "number" and rec.v > M.VERSION then
        return nil, path .. ": journal version " .. rec.v .. " is newer than this seedance understands"
      else
        self:_apply(rec)
      end
    end
    if #text > 0 and text:sub(-1) ~= "\n" then
      -- a torn last record: end its line so the next record starts clean
      local ok, err = core.append_sync(path, "\n")
      if not ok then return nil, err end
    end
  end
  if not f or not self.header then
    local ok, err = self:append{ type = "journal", format = "seedance-journal", created = os.time() }
    if not ok then return nil, err end
  end
  return self
end

-- Fold one record into the in-memory state.
function Journal:_apply(rec)
  if rec.type == "journal" then self.header = rec; return end
  local key = rec.key
  if type(key) ~= "string" then return end
  local e = self.entries[key]
  if not e then
    e = { key = key, downloads = {} }
    self.entries[key] = e
  end
  if rec.type == "submit" then
    e.hash, e.idempotency_key = rec.hash, rec.idempotency_key
  elseif rec.type == "task" then
    e.task_id = rec.task_id
  elseif rec.type == "done" then
    e.status, e.video_url, e.last_frame_url, e.expires_at, e.error =
      rec.status, rec.video_url, rec.last_frame_url, rec.expires_at, rec.error
  elseif rec.type == "download" then
    e.downloads[rec.path] = rec.bytes
  end
end

--- Append one record (fsync'd) and fold it in.
-- @tparam table rec
-- @treturn[1] boolean true
-- @treturn[2] nil
-- @treturn[2] string message
function Journal:append(rec)
  rec.v = M.VERSION
  rec.time = rec.time or os.time()
  local line, err = cjson.encode(rec)
  if not line then return nil, err end
  local ok, werr = core.append_sync(self.path, line .. "\n")
  if not ok then return nil, werr end
  self:_apply(rec)
  return true
end

--- The key for the next occurrence of a request hash in this run: `hash#n`.
-- @tparam string hash
-- @treturn string
function Journal:next_key(hash)
  local n = (self.counts[hash] or 0) + 1
  self.counts[hash] = n
  return hash .. "#" .. n
end

--- What the journal knows of a logical request, or nil.
-- @tparam string key
-- @treturn table|nil
function Journal:entry(key)
  return self.entries[key]
end

return M

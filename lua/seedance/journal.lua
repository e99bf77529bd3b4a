--- A crash-safe journal of paid work, so a re-run never pays twice.
--
-- Format (version 2; version 1 journals are read as they are): a text file of
-- JSON lines, appended and fsync'd one record at a time. The first record is a
-- header; every other record names a logical request by `key` (the request's
-- hash plus its occurrence number, or a key the caller gave):
--
--     {"v":2,"type":"journal","format":"seedance-journal","created":1764000000}
--     {"v":2,"type":"submit","key":"3f2a...#1","hash":"3f2a...","idempotency_key":"9c0e...","attempt":1,
--      "item":3,"output":"out/003.mp4","prompt":"a paper boat on a ri","time":...}
--     {"v":2,"type":"task","key":"3f2a...#1","task_id":"task_01...","time":...}
--     {"v":2,"type":"done","key":"3f2a...#1","task_id":"task_01...","status":"completed",
--      "video_url":"https://...","last_frame_url":"https://...","expires_at":1764086400,"time":...}
--     {"v":2,"type":"download","key":"3f2a...#1","task_id":"task_01...","path":"out/a.mp4","bytes":12345,"time":...}
--     {"v":2,"type":"refused","key":"3f2a...#1","error":{"type":"invalid_request_error","kind":"moderation",...}}
--     {"v":2,"type":"abandon","key":"3f2a...#1","task_id":"task_01...","time":...}
--     {"v":2,"type":"expired","key":"3f2a...#1","task_id":"task_01...","time":...}
--
-- The `submit` record (with the Idempotency-Key) is on disk before the submit
-- is sent, and the `task` record right after the answer: a crash between the
-- two resubmits under the same key, which the service answers with the
-- original task. A `submit` record with a higher `attempt` starts a new try of
-- the same request (a retry of a failed one, under a new Idempotency-Key): what
-- the journal knew of the earlier try is replaced. `item`, `output` and the
-- first characters of the `prompt` are there for people (`seedance journal
-- FILE`); the API key is never written. `refused` records a submit the service
-- refused (no task, nothing paid), `abandon` a task nobody wants any more (a
-- re-run neither waits for it nor downloads it), `expired` a task whose result
-- expired before a pipeline saved it (the service no longer has it: a retry of
-- failed items pays for a new try). A torn last line (a crash
-- mid-write) is ignored on reading, and so is a record whose fields have the
-- wrong types (counted in `skipped`).
--
-- A journal belongs to one process (one client) at a time: opening it takes
-- an exclusive lock on the file (flock), held until the journal is closed or
-- collected or the process ends; a second opener gets an error at once.
-- `read` reads one without the lock and without writing, for a look.
--
-- The path is resolved when the journal is opened, and the file stays open
-- by its descriptor (the lock's) for the journal's life: every record goes
-- to that file, whatever folder the host changes to, and even if the file is
-- renamed. Reading it, hashing a request's local images and syncing each
-- record run on the engine's worker thread (`scheduler.job`), never on a
-- host's frame: in a coroutine they yield, in plain code they block.
-- @module seedance.journal

local core = require("seedance.core")
local json = require("seedance.json")
local numbers = require("seedance.numbers")
local scheduler = require("seedance.scheduler")
local urls = require("seedance.urls")

local M = { VERSION = 2 }

--- Characters of the prompt a submit record keeps, for people.
M.PROMPT_EXCERPT = 60

local Journal = {}
Journal.__index = Journal

--- Bytes of a local image that count in a request's hash (its first 64 MiB).
M.HASH_MAX = 64 * 1024 * 1024

-- Canonical JSON: keys sorted, so equal requests hash equally, in every process. A local image is
-- `{"$file":PATH,"bytes":HASH}`, its keys in that order (`legacy`: the other order, which journals
-- before this one may hold: the order an encoder walked that table in, one per process). `memo` keeps
-- each image's bytes hash for a second walk.
local function canonical(v, seen, memo, legacy)
  local t = type(v)
  if t == "table" then
    if core.is_file(v) then
      -- a local image by its bytes too: a re-run after the image changed is another request; read and
      -- hashed on the worker thread (the file, as it was named when seedance.file was called)
      local bytes = memo and memo[v]
      if not bytes then
        local r = scheduler.job{ op = "hash", path = v.resolved or v.path, max = M.HASH_MAX }
        bytes = r.ok and r.hash or "unreadable"
        if memo then memo[v] = bytes end
      end
      local path, sum = json.encode(v.path) or "null", json.encode(bytes)
      if legacy then return '{"bytes":' .. sum .. ',"$file":' .. path .. "}" end
      return '{"$file":' .. path .. ',"bytes":' .. sum .. "}"
    end
    seen = seen or {}
    if seen[v] then return '"<cycle>"' end
    seen[v] = true
    local parts = {}
    local n = #v
    if n > 0 then
      for i = 1, n do parts[i] = canonical(v[i], seen, memo, legacy) end
      seen[v] = nil
      return "[" .. table.concat(parts, ",") .. "]"
    end
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    for i, k in ipairs(keys) do
      parts[i] = json.encode(k) .. ":" .. canonical(v[k], seen, memo, legacy)
    end
    seen[v] = nil
    return "{" .. table.concat(parts, ",") .. "}"
  elseif t == "string" or t == "number" or t == "boolean" then
    return json.encode(v) or "null"
  end
  return "null"
end
M.canonical = canonical
M.Journal = Journal

--- The hash identifying a request (16 hex digits), the same in every process.
-- @tparam table request
-- @treturn string
-- @treturn string|nil for a request with local images, the hash journals written before this
--   version may hold for it (its images' keys in the other order)
function M.hash(request)
  local memo = {}
  local h = core.hash(canonical(request, nil, memo))
  if next(memo) == nil then return h end
  return h, core.hash(canonical(request, nil, memo, true))
end

-- The fields each record type must have, with their types ("?" marks optional ones).
local SHAPES = {
  submit = { key = "string", hash = "string", idempotency_key = "key", attempt = "?number", item = "?number",
             output = "?string", prompt = "?string" },
  task = { key = "string", task_id = "string" },
  done = { key = "string", task_id = "string", status = "string", video_url = "?string",
           last_frame_url = "?string", expires_at = "?number", error = "?table" },
  download = { key = "string", path = "string", bytes = "number", worker = "?string" },
  refused = { key = "string", error = "table" },
  abandon = { key = "string", task_id = "string" },
  expired = { key = "string", task_id = "string" },
}

-- Whether a decoded record has the shape its type asks for (unknown types are skipped too).
local function well_formed(rec)
  if rec.type == "journal" then return true end
  local shape = SHAPES[rec.type]
  if not shape then return false end
  for k, want in pairs(shape) do
    local v = rec[k]
    local optional = want:sub(1, 1) == "?"
    if optional then want = want:sub(2) end
    if want == "key" then -- a value that goes into a header line: a safe token only
      if not M.key_ok(v) then return false end
      want = "string"
    end
    if not ((optional and v == nil) or type(v) == want) then return false end
    if want == "number" and v ~= nil and (v ~= v or v < 0 or v >= 2 ^ 53) then return false end
  end
  if rec.task_id ~= nil and not urls.task_id_ok(rec.task_id) then return false end
  return true
end

--- Whether an Idempotency-Key is a safe header value: 1 to 128 letters, digits, '-', '_' or '.'.
-- @param v
-- @treturn boolean
function M.key_ok(v)
  return type(v) == "string" and #v >= 1 and #v <= 128 and v:match("^[%w%-_%.]+$") ~= nil
end

--- Records folded in between two chances for the host's frame (in a coroutine).
M.SLICE = 256

--- An empty journal state named `path` (what the fold starts from).
-- @tparam string path
-- @treturn table
-- @local (for the journal implementations)
function M.blank(path)
  return setmetatable({ path = path, entries = {}, order = {}, counts = {}, hashes = {}, by_key = {}, torn = 0,
                        skipped = 0 }, Journal)
end

--- Fold one record (a line of JSON) into a journal state: a torn or
-- malformed one is counted, never raised on.
-- @tparam table self the state
-- @tparam string line
-- @treturn[1] boolean true
-- @treturn[2] nil
-- @treturn[2] string message (a record of a newer version than this seedance reads)
-- @local
function M.fold(self, line)
  local rec = json.decode(line)
  if type(rec) ~= "table" then
    self.torn = self.torn + 1
  elseif type(rec.v) == "number" and rec.v > M.VERSION then
    return nil, self.path .. ": journal version " .. numbers.text(rec.v) .. " is newer than this seedance understands"
  elseif well_formed(rec) then
    self:_apply(rec)
  else
    self.skipped = self.skipped + 1
  end
  return true
end

--- Whether the first record of a journal (nil: none) is its header.
-- @param first the decoded first record
-- @treturn boolean
-- @local
function M.is_header(first)
  return type(first) == "table" and first.type == "journal"
end

-- A journal object holding what `text` (a journal file's whole content) says, or nil, message.
-- A long journal is read over several frames (in a coroutine).
local function parse(path, text)
  local self = M.blank(path)
  if #text == 0 then return self end
  -- a file that is not a journal is the user's, not ours to append to
  local first = json.decode(text:match("^[^\n]*"))
  local only_line = not text:find("\n.", 1)
  -- (a lone line that is not JSON is a header torn mid-write only when it starts as a record does)
  if not M.is_header(first) and not (first == nil and only_line and text:sub(1, 1) == "{") then
    return nil, path .. " is not a seedance journal (its first line is no journal header); "
      .. "choose a new path for the journal"
  end
  local n = 0
  for line in text:gmatch("[^\n]+") do
    n = n + 1
    if n % M.SLICE == 0 then scheduler.pass() end
    local ok, err = M.fold(self, line)
    if not ok then return nil, err end
  end
  return self
end

--- Read a journal without taking its lock and without writing to it (the
-- process that holds it may go on appending): for a look at what it holds.
-- @tparam string path
-- @treturn[1] table the journal (read only: `entries`, `order`, `skipped`, `torn`)
-- @treturn[2] nil
-- @treturn[2] string message
function M.read(path, opts)
  if M.is_url(path) then return require("seedance.journal.redis").read(path, opts) end
  local st = core.stat(path)
  if st and st.type ~= "file" then return nil, path .. " is a " .. st.type .. ", not a journal file" end
  -- (for the command's look: a plain read, whatever its length)
  local f, rerr = io.open(path, "rb")
  if not f then return nil, tostring(rerr) end
  local text = f:read("*a") or ""
  f:close()
  local self, err = parse(path, text)
  if not self then return nil, err end
  self.closed = true
  return self
end

--- Open (or create) a journal, take its lock, and read what it holds. The
-- path is resolved now (`file`, the absolute path); the file stays open.
-- @tparam string path
-- @treturn[1] table the journal
-- @treturn[2] nil
-- @treturn[2] string message
function M.open(path, opts)
  if M.is_url(path) then return require("seedance.journal.redis").open(path, opts) end
  local file = core.absolute(path) or path
  local st = core.stat(file)
  if st and st.type ~= "file" then
    return nil, path .. " is a " .. st.type .. ", not a journal file"
  end
  local lock, lerr = core.lock(file)
  if not lock then
    local msg = tostring(lerr)
    if msg:sub(1, #file) == file then msg = path .. msg:sub(#file + 1) end -- named as the caller named it
    return nil, "cannot lock " .. msg
  end
  -- the whole file, however long, through the lock's own open (which refused anything but a regular file)
  local r = scheduler.job{ op = "read", file = lock, max = 2 ^ 50 }
  local text = r.ok and r.data
  if not text then
    lock:unlock()
    return nil, path .. ": " .. tostring(r.error)
  end
  local self, perr = parse(path, text)
  if not self then
    lock:unlock()
    return nil, perr
  end
  self.file, self.lock = file, lock
  if #text > 0 and text:sub(-1) ~= "\n" then
    -- a torn last record: end its line so the next record starts clean
    local w = scheduler.job{ op = "append", file = lock, data = "\n" }
    if not w.ok then
      lock:unlock()
      return nil, path .. ": " .. tostring(w.error)
    end
  end
  if not self.header then
    local ok, err = self:append{ type = "journal", format = "seedance-journal", created = os.time() }
    if not ok then
      lock:unlock()
      return nil, err
    end
  end
  return self
end

--- Whether a journal path is a Redis URL (`redis://` or `rediss://`: the shared journal,
-- `seedance.journal.redis`) rather than a file.
-- @param path
-- @treturn boolean
function M.is_url(path)
  return type(path) == "string" and (path:match("^[Rr][Ee][Dd][Ii][Ss][Ss]?://") ~= nil)
end

--- A journal path as messages show it (a URL's password masked).
-- @tparam string path
-- @treturn string
function M.shown(path)
  if M.is_url(path) then return require("seedance.journal.redis").masked(path) end
  return path
end

-- ---- the journal interface --------------------------------------------------------------------
-- Both implementations (this file's, and `seedance.journal.redis`) give: `append(rec)`, `entry(key)`,
-- `find_task(id)`, `take_key(hash)`, `release(key)`, `close()`, the fields `path`, `closed`, `entries`,
-- `order`, `skipped`, `torn`, and for work shared between processes `shared`, `worker`,
-- `claim(key)`, `unclaim(key)`, `holds(key)`, `refresh()`, `interrupt()`. A file journal belongs to one process
-- (its lock), so it claims every key at once and has nothing to refresh.

--- Whether the journal is shared by several processes (false: a file's lock makes it this one's).
Journal.shared = false

--- Claim a key for this process before paying for it: true, or false and the holder.
-- @tparam string key
-- @treturn boolean
function Journal.claim(_, _)
  return true
end

--- Give a claimed key back (nothing for a file journal).
function Journal.unclaim(_, _) end

--- Whether this process holds the key's claim (always, for a file journal).
-- @treturn boolean
function Journal.holds(_, _)
  return true
end

--- Claim a key, waiting while another process holds it (a file journal's are all this one's).
-- @treturn boolean true
function Journal.acquire(_, _)
  return true
end

--- Whether an entry's file at a path was saved by another process (never, for a file journal).
-- @treturn boolean false
function Journal.saved_elsewhere(_, _, _)
  return false
end

--- Stop waiting for a shared journal's server (a batch's interrupt); nothing for a file journal.
function Journal.interrupt(_) end

--- Read what other processes appended since (nothing for a file journal).
-- @treturn boolean true
function Journal.refresh(_)
  return true
end

--- Release the journal's lock (another process may open it then); later
-- appends fail. Safe to call twice.
function Journal:close()
  self.closed = true
  if self.lock then self.lock:unlock() end
end

-- What an entry knows of its current try, cleared when a new try begins.
local TRY_FIELDS = { "task_id", "status", "video_url", "last_frame_url", "expires_at", "error", "refused",
                     "abandoned", "expired" }

-- Fold one record into the in-memory state.
function Journal:_apply(rec)
  if rec.type == "journal" then self.header = rec; return end
  local key = rec.key
  if type(key) ~= "string" then return end
  local e = self.entries[key]
  if not e then
    e = { key = key, downloads = {}, attempt = 1 }
    self.entries[key] = e
    self.order[#self.order + 1] = key
  end
  if rec.type == "submit" then
    self.hashes[rec.hash] = true
    local attempt = rec.attempt or 1
    if attempt > e.attempt then -- a new try of the request: the earlier one's outcome is history
      for _, k in ipairs(TRY_FIELDS) do e[k] = nil end
      e.downloads = {}
      e.attempt = attempt
    end
    e.hash, e.idempotency_key = rec.hash, rec.idempotency_key
    self.by_key[rec.idempotency_key] = key
    e.item = rec.item or e.item
    e.output = rec.output or e.output
    e.prompt = rec.prompt or e.prompt
  elseif rec.type == "task" then
    e.task_id, e.refused = rec.task_id, nil
  elseif rec.type == "done" then
    e.status, e.video_url, e.last_frame_url, e.expires_at, e.error =
      rec.status, rec.video_url, rec.last_frame_url, rec.expires_at, rec.error
  elseif rec.type == "download" then
    e.downloads[rec.path] = rec.bytes
    self.saved_at = self.saved_at or {} -- (the entry each path was last saved from)
    self.saved_at[rec.path] = e
    if rec.worker then -- (a shared journal's: which worker's disk holds the file)
      e.savers = e.savers or {}
      e.savers[rec.path] = rec.worker
    end
  elseif rec.type == "refused" then
    e.refused = rec.error
  elseif rec.type == "abandon" and rec.task_id == e.task_id then
    e.abandoned = true
  elseif rec.type == "expired" and rec.task_id == e.task_id then
    e.expired = true
  end
end

--- Append one record (fsync'd, on the worker thread, to the file the journal
-- opened) and fold it in.
-- @tparam table rec
-- @treturn[1] boolean true
-- @treturn[2] nil
-- @treturn[2] string message
function Journal:append(rec)
  if self.closed then return nil, self.path .. ": journal closed" end
  rec.v = M.VERSION
  rec.time = rec.time or os.time()
  local line, err = json.encode(rec)
  if not line then return nil, err end
  local r = scheduler.job{ op = "append", file = self.lock, data = line .. "\n" }
  if not r.ok then return nil, self.path .. ": " .. tostring(r.error) end
  self:_apply(rec)
  return true
end

--- The hash a request has in this journal: `seedance.journal.hash`, or the hash a journal written
-- before this version recorded for it (a request with local images), so that its task is found.
-- @tparam table request
-- @treturn string
function Journal:hash_of(request)
  local h, legacy = M.hash(request)
  if legacy and not self.hashes[h] and self.hashes[legacy] then return legacy end
  return h
end

--- Take the key of the next occurrence of a request hash in this run,
-- `hash#n`: the smallest n not taken yet (by a call that got its task, or one
-- still submitting). A call that ends without a task gives it back with
-- `release`, so a try that paid for nothing does not use its occurrence up:
-- the script's retry takes the same key (and Idempotency-Key), as a re-run will.
-- A call that brings an Idempotency-Key this journal recorded for an occurrence
-- of the hash (an earlier try's error's, as map's rounds do) takes that very
-- occurrence when it is free; when another call holds it (a sibling with the
-- same request took it while this one paused), the key is that call's now:
-- `busy` says so, and this call must submit under a key of its own, never pick
-- up the task that sibling is picking up (two occurrences, one task).
-- @tparam string hash
-- @tparam[opt] string idempotency_key the key the caller brings
-- @treturn string the key
-- @treturn boolean busy: the caller's Idempotency-Key belongs to an occurrence another call holds
function Journal:take_key(hash, idempotency_key)
  local taken = self.counts[hash]
  if not taken then
    taken = {}
    self.counts[hash] = taken
  end
  local mine = idempotency_key and self.by_key[idempotency_key]
  local h, m = (mine or ""):match("^(.*)#(%d+)$")
  if h == hash then
    m = tonumber(m)
    if not taken[m] then
      taken[m] = true
      return mine, false
    end
  end
  local n = 1
  while taken[n] do n = n + 1 end
  taken[n] = true
  return hash .. "#" .. n, h == hash
end

--- Give back a key from `take_key` whose call got no task.
-- @tparam string key
function Journal:release(key)
  local hash, n = key:match("^(.*)#(%d+)$")
  local taken = hash and self.counts[hash]
  if taken then taken[tonumber(n)] = nil end
end

--- What the journal knows of a logical request, or nil: `key`, `hash`,
-- `idempotency_key`, `attempt`, `item`, `output`, `prompt`, `task_id`, `status`,
-- `video_url`, `last_frame_url`, `expires_at`, `error` (a failed task's),
-- `refused` (a refused submit's error), `abandoned`, `expired` (its result expired unsaved),
-- `downloads` (path -> bytes).
-- @tparam string key
-- @treturn table|nil
function Journal:entry(key)
  return self.entries[key]
end

--- The entry whose current try has task `id`, or nil.
-- @tparam string id
-- @treturn table|nil
function Journal:find_task(id)
  for _, key in ipairs(self.order) do
    local e = self.entries[key]
    if e.task_id == id then return e end
  end
  return nil
end

--- The first characters of a prompt (at most `PROMPT_EXCERPT`, never cutting a
-- UTF-8 character), for a person reading the journal; nil for none.
-- @param prompt
-- @treturn string|nil
function M.excerpt(prompt)
  if type(prompt) ~= "string" or prompt == "" then return nil end
  local text = core.utf8_clean(prompt):gsub("[%c]", " ")
  local n, count = 0, 0
  for i = 1, #text do
    local b = text:byte(i)
    if b < 0x80 or b >= 0xC0 then
      count = count + 1
      if count > M.PROMPT_EXCERPT then break end
    end
    n = i
  end
  return text:sub(1, n)
end

return M

--- Resumable, verified downloads of a task's result.
-- The body streams (in C) to `<target>.part`; a retry resumes it with `Range`
-- and `If-Range`; the length is checked before an atomic rename to the
-- target, so a half file never stands under the final name. A 403/404 from
-- an expired result URL re-reads the task for a fresh URL once.
-- @module seedance.download

local compat = require("seedance.compat")
local errors = require("seedance.errors")
local http = require("seedance.http")
local scheduler = require("seedance.scheduler")

local M = {}

-- Size of a file in bytes, or nil when it does not exist.
local function file_size(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local size = f:seek("end")
  f:close()
  return size
end

-- The validator (ETag or Last-Modified) saved beside a .part file.
local function read_meta(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  local v = s:match("^([^\n]+)")
  -- a validator with control bytes cannot go into an If-Range line (the engine refuses it)
  if v and v:find("%c") then return nil end
  return v
end

local function write_meta(path, validator)
  local f = io.open(path, "wb")
  if f then
    f:write(validator, "\n")
    f:close()
  end
end

local function fail(fields)
  fields.retryable = fields.retryable or false
  return nil, errors.new(fields)
end

--- Add `download` to the task class.
-- @tparam table Task the task metatable
-- @tparam function check_open raises on a closed task
function M.install(Task, check_open)
  --- Download the result to `path` (waiting for the task first when needed).
  -- @tparam string path the target file
  -- @tparam[opt] seedance.DownloadOptions opts
  -- @treturn[1] string path
  -- @treturn[2] nil
  -- @treturn[2] seedance.Error `expired`, `network_error`, the service's errors, ...
  function Task:download(path, opts)
    check_open(self, "download")
    if type(path) ~= "string" or path == "" then
      error("bad argument #1 to 'download' (non-empty string expected, got " .. type(path) .. ")", 2)
    end
    if opts ~= nil and type(opts) ~= "table" then
      error("bad argument #2 to 'download' (table expected, got " .. type(opts) .. ")", 2)
    end
    opts = opts or {}
    if self.status ~= "completed" then
      local ok, err = self:wait(opts.wait)
      if not ok then return nil, err end
    end
    local field = opts.source == "last_frame" and "last_frame_url" or "video_url"
    local jrnl, jkey = self.client._journal, self._journal_key
    if jrnl and jkey then
      -- finished in an earlier run: nothing to fetch if the file is whole
      local e = jrnl:entry(jkey)
      local bytes = e and e.downloads[path]
      if bytes and file_size(path) == bytes then return path end
    end
    local policy = self.client._policy
    local part, meta = path .. ".part", path .. ".part.meta"
    local refreshed, attempts = false, 0
    local cb_err
    while true do
      local url = self[field]
      if not url then
        return fail{ type = "server_error", task_id = self.id,
                     message = "task " .. self.id .. " has no " .. field:gsub("_", " ") }
      end
      if self.expires_at and os.time() >= self.expires_at and not refreshed then
        refreshed = true
        local ok, err = self:refresh()
        if not ok then return nil, err end
        url = self[field]
      end
      local have = file_size(part) or 0
      local validator = have > 0 and read_meta(meta) or nil
      local headers = {}
      if have > 0 and validator then headers[1] = "If-Range: " .. validator end
      local on_tick
      if opts.on_progress then
        on_tick = function(id)
          if cb_err then return end
          local done, total = scheduler.engine():progress(id)
          if not done then return end
          local ok, e = compat.xpcall(opts.on_progress, debug.traceback, have + done,
            total and total > 0 and have + total or nil)
          if not ok then
            cb_err = errors.new{ type = "callback_error", message = "on_progress raised: " .. tostring(e) }
            scheduler.cancel(id)
          end
        end
      end
      local r = scheduler.transfer(self.client:_spec{
        url = url, auth = false, follow_redirects = true, output = part, headers = headers,
        resume_from = have > 0 and have or nil, timeout = opts.timeout or 0,
        low_speed_limit = 1, low_speed_time = 60,
      }, { owner = self, tick = on_tick and 0.1 or nil, on_tick = on_tick })
      if cb_err then return nil, cb_err end
      if self.closed then return fail{ type = "aborted", message = "task closed during its download" } end
      local err, done_ok, again
      if not r.ok then
        err = http.transport_error(r)
        if r.kind == "aborted" then return nil, err end
      elseif r.status == 403 or r.status == 404 or r.status == 410 then
        if not refreshed then
          refreshed = true
          local ok, rerr = self:refresh()
          if not ok then return nil, rerr end
          again = self[field] ~= nil and (self[field] ~= url or (self.expires_at or 0) > os.time())
        end
        if not again then
          return fail{ type = "expired", status = r.status, task_id = self.id,
            message = string.format("the result URL of task %s answered HTTP %d: it has expired "
              .. "(results live about 24 hours); generate the video again", self.id, r.status) }
        end
      elseif r.status == 416 then
        -- nothing left to send: either the part is whole already, or it is wrong
        local total = tonumber((r.headers["content-range"] or ""):match("/(%d+)$"))
        if total and total == have then done_ok = true else os.remove(part); os.remove(meta) end
        err = errors.new{ type = "network_error", retryable = true, message = "range not satisfiable" }
      elseif r.status >= 400 then
        err = http.answer_error(r)
        if not err.retryable then return nil, err end
      else
        local size = file_size(part) or 0
        local total
        if r.status == 206 then
          local first, t = (r.headers["content-range"] or ""):match("^bytes (%d+)%-%d+/(%d+)$")
          total = tonumber(t)
          if tonumber(first) ~= have then total = nil end
        else
          total = tonumber(r.headers["content-length"] or "") or size
        end
        local v = r.headers["etag"] or r.headers["last-modified"]
        if v and not v:find("%c") then write_meta(meta, v) end
        if total and size == total then
          done_ok = true
        elseif total and size > total then
          os.remove(part); os.remove(meta) -- a stale part: start over
          err = errors.new{ type = "network_error", retryable = true, message = "stale partial file" }
        else
          err = errors.new{ type = "network_error", retryable = true,
            message = string.format("download cut short: %d of %s bytes", size, tostring(total)) }
        end
      end
      if done_ok then
        local size = file_size(part) or 0
        if opts.on_progress then
          local ok, e = compat.xpcall(opts.on_progress, debug.traceback, size, size)
          if not ok then return fail{ type = "callback_error", message = "on_progress raised: " .. tostring(e) } end
        end
        local ok, rerr = os.rename(part, path)
        if not ok then return fail{ type = "io_error", message = "cannot rename " .. part .. ": " .. rerr } end
        os.remove(meta)
        if jrnl and jkey then
          local jok, jerr = jrnl:append{ type = "download", key = jkey, task_id = self.id, path = path, bytes = size }
          if not jok then io.stderr:write("seedance: journal: ", tostring(jerr), "\n") end
        end
        return path
      end
      if not again then
        attempts = attempts + 1
        if attempts > policy.max_retries then
          err.attempts = attempts
          return nil, err
        end
        scheduler.sleep(http.backoff(policy, attempts) * policy.time_scale)
      end
    end
  end
end

return M

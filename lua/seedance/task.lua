--- Task handles: one generation on the service, polled until it ends, then downloaded.
-- @module seedance.task

local compat = require("seedance.compat")
local errors = require("seedance.errors")
local http = require("seedance.http")
local scheduler = require("seedance.scheduler")

local M = {}

local Task = {}
Task.__index = Task

local TERMINAL = { completed = true, failed = true, cancelled = true }

--- Make a task handle (used by the client).
-- @tparam seedance.Client client
-- @tparam string id
-- @tparam table fields initial fields (`status`, `request`)
-- @treturn seedance.Task
function M.new(client, id, fields)
  local t = setmetatable({ client = client, id = id, _transfers = {}, _seen = scheduler.now() }, Task)
  for k, v in pairs(fields) do t[k] = v end
  return t
end

local function check_open(self, fname)
  if getmetatable(self) ~= Task then
    error("bad argument #1 to '" .. fname .. "' (seedance task expected, got " .. type(self) .. ")", 3)
  end
  if self.closed then error("attempt to use a closed task", 3) end
end

function Task:__tostring()
  return string.format("seedance.task(%s, %s%s)", self.id, tostring(self.status or "unknown"),
    self.progress and (", " .. self.progress .. "%") or "")
end

--- Close the handle: transfers it has in flight are aborted; later calls raise.
-- Safe to call twice; also runs for `local t <close> = ...` and on collection.
function Task:close()
  if self.closed then return end
  self.closed = true
  self:_release()
  for id in pairs(self._transfers) do scheduler.cancel(id) end
  self._transfers = {}
end
Task.__close = Task.close
-- Collection may happen inside an engine call: abort transfers at the next step instead.
function Task:__gc()
  if self.closed then return end
  self.closed = true
  self:_release()
  for id in pairs(self._transfers) do scheduler.cancel_later(id) end
end

-- First string of a string-or-array URL field.
local function first_url(v)
  if type(v) == "string" and v ~= "" then return v end
  if type(v) == "table" and type(v[1]) == "string" then return v[1] end
  return nil
end

-- The last frame's URL, from the places API.md section 2 lists, in order.
local function last_frame(result)
  local u = first_url(result.last_frame_url)
  if u then return u end
  if type(result.videos) == "table" then
    for _, v in ipairs(result.videos) do
      u = type(v) == "table" and first_url(v.last_frame_url)
      if u then return u end
    end
  end
  if type(result.images) == "table" and type(result.images[1]) == "table" then
    return first_url(result.images[1].url)
  end
  return nil
end

--- Update the handle from a task object as the service returns it.
-- @tparam table data the `data` object of GET /v1/tasks/{id}
function Task:_apply(data)
  if type(data.status) == "string" then self.status = data.status end
  if type(data.progress) == "number" then self.progress = math.floor(data.progress) end
  if type(data.estimated_time) == "number" then self.estimated_time = data.estimated_time end
  if type(data.created) == "number" then self.created = data.created end
  if type(data.completed) == "number" then self.completed = data.completed end
  if type(data.actual_time) == "number" then self.actual_time = data.actual_time end
  if type(data.error) == "table" then self.error = data.error end
  if type(data.result) == "table" then
    local result = data.result
    self.result = result
    local v = type(result.videos) == "table" and result.videos[1]
    if type(v) == "table" then
      self.video_url = first_url(v.url)
      if type(v.expires_at) == "number" then self.expires_at = v.expires_at end
    end
    self.last_frame_url = last_frame(result)
  end
  if self.status == "completed" then self.progress = 100 end
  self._seen = scheduler.now()
  if TERMINAL[self.status] then self:_finished() end
end

-- Give the governor's task slot back (once).
function Task:_release()
  if self._slot then
    self._slot = false
    self.client._gov:release_task()
  end
end

-- The task ended: free its slot and note the outcome in the journal (once).
function Task:_finished()
  self:_release()
  local j = self.client._journal
  if j and self._journal_key and not self._recorded then
    self._recorded = true
    local ok, err = j:append{ type = "done", key = self._journal_key, task_id = self.id,
      status = self.status, video_url = self.video_url, last_frame_url = self.last_frame_url,
      expires_at = self.expires_at, error = self.error }
    if not ok then io.stderr:write("seedance: journal: ", tostring(err), "\n") end
  end
end

--- One GET /v1/tasks/{id}: updates status, progress, result and error.
-- @treturn[1] seedance.Task self
-- @treturn[2] nil
-- @treturn[2] seedance.Error
function Task:refresh()
  check_open(self, "refresh")
  local c = self.client
  if not c._key then
    return nil, errors.new{ type = "authentication_error", retryable = false,
      message = "no API key: set SEEDANCE_API_KEY or pass api_key to seedance.new" }
  end
  local path = "/v1/tasks/" .. self.id
  if c.language then path = path .. "?language=" .. c.language end
  local obj, err = http.json(c, { path = path, transfer_opts = { owner = self } })
  if not obj then
    err.task_id = self.id
    return nil, err
  end
  if type(obj.data) ~= "table" then
    return nil, errors.new{ type = "server_error", retryable = true, task_id = self.id,
      message = "task answer has no data object" }
  end
  self:_apply(obj.data)
  return self
end

--- Seconds until the next poll: rare early on, prompt near the expected end.
-- Uses `estimated_time` (from `created`, or from when this handle first saw the
-- task) and the progress rate; clamped between the client's poll_min and poll_max.
-- @treturn number seconds (on the service's clock; the caller applies time_scale)
function Task:_poll_delay()
  local p = self.client._policy
  local lo, hi = p.poll_min, p.poll_max
  local elapsed = (scheduler.now() - self._start) / p.time_scale
  if self.created then
    -- a task met after a restart has been running since `created` (whole seconds, so
    -- only trusted when it says much more than this handle has seen)
    local since = os.difftime(os.time(), self.created)
    if since - (scheduler.now() - self._start) > 5 then elapsed = since / p.time_scale end
  end
  local remaining
  if self.estimated_time then remaining = self.estimated_time - elapsed end
  local progress = self.progress or 0
  if progress > 0 and progress < 100 and elapsed > 0 then
    local by_rate = (100 - progress) * elapsed / progress
    if not remaining or by_rate < remaining then remaining = by_rate end
  end
  local delay
  if not remaining then
    delay = lo * 2
  elseif remaining > 0 then
    delay = remaining / 2
  else
    -- past the estimate: back off gently from the floor
    self._overdue = (self._overdue or 0) + 1
    delay = lo * (1 + self._overdue / 4)
  end
  if delay < lo then delay = lo end
  if delay > hi then delay = hi end
  return delay
end

-- Call a user callback under pcall; its error becomes a seedance error.
local function call_back(fn, ...)
  local ok, err = compat.xpcall(fn, debug.traceback, ...)
  if ok then return true end
  return nil, errors.new{ type = "callback_error", retryable = false,
                          message = "a callback raised: " .. tostring(err) }
end

--- Poll until the task ends. Yields under `seedance.run`/`spawn`, blocks otherwise.
-- @tparam[opt] seedance.WaitOptions opts
-- @treturn[1] seedance.Task self, completed
-- @treturn[2] nil
-- @treturn[2] seedance.Error `task_failed` (with the service's error), `timeout_error`, or the last call's error
function Task:wait(opts)
  check_open(self, "wait")
  if opts ~= nil and type(opts) ~= "table" then
    error("bad argument #1 to 'wait' (table expected, got " .. type(opts) .. ")", 2)
  end
  opts = opts or {}
  local policy = self.client._policy
  local timeout = opts.timeout or policy.wait_timeout
  local deadline = scheduler.now() + timeout * policy.time_scale
  self._start = self._start or scheduler.now()
  local last_status, last_progress
  local failures = 0
  while true do
    local ok, err = true, nil
    if not TERMINAL[self.status] and not self.closed then ok, err = self:refresh() end
    if self.closed then return nil, errors.new{ type = "aborted", message = "task closed while waiting" } end
    if not ok then
      if not err.retryable then return nil, err end
      failures = failures + 1
    elseif opts.on_progress and (self.status ~= last_status or self.progress ~= last_progress) then
      last_status, last_progress = self.status, self.progress
      local cok, cerr = call_back(opts.on_progress, self)
      if not cok then return nil, cerr end
    end
    if self.status == "completed" then return self end
    if self.status == "failed" or self.status == "cancelled" then
      local e = type(self.error) == "table" and self.error or {}
      return nil, errors.new{
        type = "task_failed", retryable = false, task_id = self.id, status = nil,
        code = e.code, service_type = e.type, service_error = self.error,
        message = string.format("task %s %s: %s", self.id, self.status,
          tostring(e.message or "no reason given")),
      }
    end
    local delay = ok and self:_poll_delay() or math.min(policy.poll_max, policy.poll_min * 2 ^ failures)
    local left = deadline - scheduler.now()
    if left <= 0 then
      return nil, errors.new{
        type = "timeout_error", retryable = true, task_id = self.id, last_error = err,
        message = string.format("task %s still %s after %g s; wait again to keep waiting",
          self.id, tostring(self.status), timeout),
      }
    end
    scheduler.sleep(math.min(delay * policy.time_scale, left))
  end
end

M.Task = Task
M.TERMINAL = TERMINAL
require("seedance.download").install(Task, check_open)
return M

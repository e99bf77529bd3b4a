--- Task handles: one generation on the service, polled until it ends, then downloaded.
-- Made by `client:generate` and `client:task`.
--
-- A task holds one of the client's `max_in_flight` slots from its submit
-- until it ends, or until the call waiting on it gives up (time out, error),
-- or the handle is closed or collected: every exit path gives the slot back.
-- @module seedance.task

local compat = require("seedance.compat")
local core = require("seedance.core")
local download = require("seedance.download")
local errors = require("seedance.errors")
local estimate = require("seedance.estimate")
local http = require("seedance.http")
local numbers = require("seedance.numbers")
local polling = require("seedance.polling")
local scheduler = require("seedance.scheduler")
local urls = require("seedance.urls")

local M = {}

local Task = {}
Task.__index = Task

local TERMINAL = { completed = true, failed = true, cancelled = true }

-- Tasks paid for (submitted or re-attached by generate) that have not ended nor been abandoned, by id:
-- `{ id, idempotency_key, key }`, for the error an interrupted script ends with (`scheduler.on_interrupt`).
local open = {}
scheduler.on_interrupt(function(report)
  for _, t in pairs(open) do report.tasks[#report.tasks + 1] = t end
end)

--- Consecutive answers that are not JSON after which `wait` gives up.
M.UNDECODABLE_MAX = 3

--- Make a task handle (used by the client).
-- @tparam seedance.Client client the client (kept as `task.client`)
-- @tparam table ctx the client's context (`seedance.context`)
-- @tparam string id
-- @tparam table fields initial fields (`status`, `request`, ...)
-- @tparam[opt] table own `slot` (true: the task holds a max_in_flight slot), `journal_key`, `recorded`,
--   `submitted` (true: this handle was made by the task's own submit, so it began now)
--   `paid` (made by generate: listed by an interrupt until it ends)
-- @treturn seedance.Task
-- @local
function M.new(client, ctx, id, fields, own)
  own = own or {}
  local t = setmetatable({ client = client, id = id }, Task)
  for k, v in pairs(fields) do t[k] = v end
  t._ctx, t._transfers = ctx, {}
  compat.on_collect(t, "_gc", Task.__gc)
  t._slot, t._journal_key, t._recorded = own.slot, own.journal_key, own.recorded
  local now = scheduler.now()
  t._estimate = estimate.new(now, ctx.settings.time_scale, not own.submitted)
  if t.status then t._estimate:observe(now, t.status, t.progress, t.estimated_time) end
  if own.paid and not TERMINAL[t.status] and not t.abandoned then
    open[id] = { id = id, idempotency_key = t.idempotency_key, key = own.journal_key }
  end
  return t
end

-- The error of a wait or download of an abandoned task.
local function abandoned_error(task)
  return errors.new{ type = "abandoned", retryable = false, task_id = task.id, message = string.format(
    "task %s was abandoned (task:abandon() or seedance abandon): it is neither waited for nor downloaded; "
    .. "the service has no cancel, so it runs on and is billed", task.id) }
end

local function check_open(self, fname)
  if getmetatable(self) ~= Task then
    errors.argerror(1, fname, "seedance task expected, got " .. type(self), 4)
  end
  if self.closed then error("attempt to use a closed task", 3) end
end

function Task:__tostring()
  return string.format("seedance.task(%s, %s%s)", self.id, tostring(self.status or "unknown"),
    self.progress and (", " .. self.progress .. "%") or "")
end

-- Give the max_in_flight slot back (once).
function Task:_release()
  if self._slot then
    self._slot = false
    self._ctx.governor:release_task()
  end
end

--- Close the handle: transfers it has in flight are aborted; later calls raise.
-- Safe to call twice; also runs for `local t <close> = ...` and on collection.
-- Closing cancels nothing: the gateway has no cancel, the task runs on and is
-- billed in full, and a re-run with the journal re-attaches to it (see `abandon`).
function Task:close()
  if self.closed then return end
  self.closed = true
  self:_release()
  for id in pairs(self._transfers) do scheduler.cancel(id) end
  self._transfers = {}
  if self._naps then scheduler.interrupt(self._naps) end -- a wait or download pausing between requests ends now
end

--- Give the task up for good: nobody wants it any more. The gateway has no
-- cancel: the task runs on and is billed in full whatever the client does.
-- What abandoning does is record it: in the client's journal (an `abandon`
-- record), so that a re-run (`seedance.map`, `seedance batch`, `generate` of the
-- same request) neither waits for the task nor downloads it; then the handle
-- is closed (`close`), which ends a wait or download in progress. A task with
-- no journal is only closed. `close()` alone records nothing: a re-run with the
-- journal picks a closed task up again.
-- @treturn boolean true when the journal recorded it, false when there is no journal for it
function Task:abandon()
  if getmetatable(self) ~= Task then errors.argerror(1, "abandon", "seedance task expected, got " .. type(self)) end
  local recorded = false
  local j = self._ctx.journal
  if j and self._journal_key and not j.closed and not self.abandoned then
    local ok, err = j:append{ type = "abandon", key = self._journal_key, task_id = self.id }
    if ok then recorded = true else self._ctx.log("info", "journal: %s", tostring(err)) end
  elseif self.abandoned then
    recorded = true
  end
  self.abandoned = true
  open[self.id] = nil
  self:close()
  return recorded
end

-- The task's pause as a function: what http and download call between tries
-- (made per call, not kept: a handle stays small, for the thousands a batch holds),
-- and whether the task was closed meanwhile (http's `stopped`: nothing more is sent).
function Task:_napper()
  local task = self
  return function(seconds) task:_nap(seconds) end,
    function() return task.closed and "task " .. task.id .. " closed" or nil end
end

-- Pause for `seconds` (wall), ending early when the handle is closed.
function Task:_nap(seconds)
  local naps = self._naps
  if not naps then
    naps = {}
    self._naps = naps
  end
  scheduler.sleep(seconds, naps)
end
Task.__close = Task.close
-- Collection may happen inside an engine call: abort transfers at the next step instead.
function Task:__gc()
  if self.closed then return end
  self.closed = true
  self:_release()
  for id in pairs(self._transfers) do scheduler.cancel_later(id) end
end

-- ---- reading the service's task object --------------------------------------

-- v when it is a finite number within [lo, hi], else nil.
local function number_in(v, lo, hi)
  if type(v) ~= "number" or v ~= v or v < lo or v > hi then return nil end
  return v
end

-- First string of a string-or-array URL field.
local function first_url(v)
  if type(v) == "string" and v ~= "" then return v end
  if type(v) == "table" and type(v[1]) == "string" and v[1] ~= "" then return v[1] end
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

-- A service error object with its strings made printable (valid UTF-8, key masked), nested ones too.
local function clean_error(ctx, e, depth)
  local out = {}
  for k, v in pairs(e) do
    if type(v) == "string" then v = ctx.redact(core.utf8_clean(v))
    elseif type(v) == "table" then v = depth < 8 and clean_error(ctx, v, depth + 1) or nil end
    out[k] = v
  end
  return out
end

-- Update the handle from a task object as the service returns it. No value
-- of any type or size makes this raise: what does not fit is ignored.
function Task:_apply(data)
  if type(data.status) == "string" and #data.status <= 64 then self.status = data.status end
  local p = number_in(data.progress, -1e9, 1e9)
  if p then self.progress = math.floor(math.max(0, math.min(100, p))) end
  self.estimated_time = number_in(data.estimated_time, 0, 1e8) or self.estimated_time
  local c = number_in(data.created, 0, 1e11)
  if c then self.created = math.floor(c) end
  c = number_in(data.completed, 0, 1e11)
  if c then self.completed = math.floor(c) end
  self.actual_time = number_in(data.actual_time, 0, 1e8) or self.actual_time
  if type(data.error) == "table" then self.error = clean_error(self._ctx, data.error, 0) end
  if type(data.result) == "table" then
    local result = data.result
    self.result = result
    local v = type(result.videos) == "table" and result.videos[1]
    if type(v) == "table" then
      self.video_url = first_url(v.url)
      local e = number_in(v.expires_at, 0, 1e11)
      if e then self.expires_at = math.floor(e) end
    end
    self.last_frame_url = last_frame(result)
  end
  if self.status == "completed" then self.progress = 100 end
  -- (created is the service's time: the task's age is read on its clock)
  self._estimate:observe(scheduler.now(), self.status, self.progress, self.estimated_time, self.created,
    self:server_time())
  if TERMINAL[self.status] then self:_finished() end
end

--- How far along the task is at `now`, for a progress bar drawn every frame.
-- Polls come seconds apart; between them the estimate moves on from the
-- progress rate seen so far, else from the task's `estimated_time` and the
-- time since it began (from the pace reported since then, when the one
-- report so far says the estimate is off or there is none). Cheap (no IO,
-- no allocation); a closed handle answers too.
-- @tparam[opt] number now seconds on the library's monotonic clock (the scheduler's,
--   `require("seedance.scheduler").now()`; not an engine's own timer); default: now
-- @treturn number percent, in [0, 100] and not always whole: never less than an earlier reading
--   of this handle nor than the service reported, at most 99 until the task has completed, 100 once
--   it has (a task that failed or was cancelled stays where it stood)
-- @treturn number|nil seconds left (wall clock), or nil once the task has ended or when nothing
--   tells (no `estimated_time` nor report yet, or past it with no progress rate to go by)
function Task:progress_at(now)
  if getmetatable(self) ~= Task then
    errors.argerror(1, "progress_at", "seedance task expected, got " .. type(self))
  end
  if now == nil then
    now = scheduler.now()
  elseif type(now) ~= "number" or now ~= now then
    errors.argerror(1, "progress_at", "number expected, got " .. (now ~= now and "nan" or type(now)))
  end
  return self._estimate:at(now)
end

-- The task ended: free its slot and note the outcome in the journal (once).
function Task:_finished()
  self:_release()
  open[self.id] = nil
  local j = self._ctx.journal
  if j and self._journal_key and not self._recorded then
    self._recorded = true
    local ok, err = j:append{ type = "done", key = self._journal_key, task_id = self.id,
      status = self.status, video_url = self.video_url, last_frame_url = self.last_frame_url,
      expires_at = self.expires_at, error = self.error }
    if not ok then self._ctx.log("info", "journal: %s", tostring(err)) end
  end
end

-- ---- polling ------------------------------------------------------------------

-- One GET /v1/tasks/{id} within an absolute deadline.
function Task:_poll(deadline)
  local ctx = self._ctx
  if not ctx.has_key() then return nil, ctx.no_key() end
  local path = "/v1/tasks/" .. urls.encode_segment(self.id)
  if ctx.settings.language then path = path .. "?language=" .. urls.encode_segment(ctx.settings.language) end
  local nap, stopped = self:_napper()
  local obj, r = http.json(ctx, { path = path, track = self._transfers, deadline = deadline,
                                 nap = nap, stopped = stopped })
  if not obj then
    r.task_id = self.id
    return nil, r
  end
  -- the service's clock, as its answer's Date says, against ours: its times (created, expires_at) are its own
  self._server_offset = http.server_time(r.headers) - scheduler.now()
  if type(obj.data) ~= "table" then
    return nil, errors.new{ type = "server_error", retryable = true, task_id = self.id,
      message = "task answer has no data object" }
  end
  local about = obj.data.id or obj.data.task_id
  if about ~= nil and about ~= self.id then
    -- an answer about another task (a cache keyed without the path, say): never this task's state;
    -- counted like an undecodable answer, so a wait does not go on reading them for ever
    return nil, errors.new{ type = "server_error", retryable = true, undecodable = true, task_id = self.id,
      message = "the answer to a poll of task " .. self.id .. " is about " .. http.excerpt(tostring(about)) }
  end
  self:_apply(obj.data)
  return self
end

--- One GET /v1/tasks/{id}: updates status, progress, result and error.
-- @tparam[opt] table opts `timeout`: seconds for the whole call, retries included
-- @treturn[1] seedance.Task self
-- @treturn[2] nil
-- @treturn[2] seedance.Error
function Task:refresh(opts)
  check_open(self, "refresh")
  errors.checkarg(opts, "table", 1, "refresh", true)
  local timeout = opts and opts.timeout
  errors.checktimeout(timeout, "refresh", 1)
  return self._ctx.redact_result(self:_poll(timeout and scheduler.now() + timeout or nil))
end

--- Seconds until the next poll (service clock; the caller applies time_scale):
-- the decision of `seedance.polling` on what the waiter `w` has seen. Elapsed
-- time counts from `created` for a task met after a restart, else from when
-- the wait started.
-- @tparam table w the waiter (its `start` and polling observations)
-- @treturn number seconds
-- @local
function Task:_poll_delay(w)
  local s = self._ctx.settings
  local elapsed = (scheduler.now() - w.start) / s.time_scale
  if self.created then
    -- a task met after a restart has been running since `created` (whole seconds, so
    -- only trusted when it says much more than this wait has seen)
    local since = self:server_time() - self.created
    if since - (scheduler.now() - w.start) > 5 then elapsed = since / s.time_scale end
  end
  polling.observe(w, elapsed, self.progress)
  return polling.delay(w, self.estimated_time, s.poll_min, s.poll_max)
end

--- Unix time on the service's clock now: its last answer's `Date` header,
-- carried on by the monotonic clock (`os.time()` before any answer). What the
-- service's own times (`created`, `expires_at`) are compared with: a machine
-- whose clock is minutes off still reads a task's age and its result's
-- lifetime right (`task.expires_at - task:server_time()` seconds are left).
-- @treturn number seconds
function Task:server_time()
  if self._server_offset then return scheduler.now() + self._server_offset end
  return os.time()
end

-- The error of a task that ended failed or cancelled; a failure for sensitive content is
-- `kind = "moderation"` with the `input` the service names (`seedance.errors.moderation`).
function Task:_failure()
  local e = type(self.error) == "table" and self.error or {}
  return errors.classify(errors.new{
    type = "task_failed", retryable = false, task_id = self.id,
    code = e.code, service_type = e.type, service_error = self.error,
    message = string.format("task %s %s: %s", self.id, self.status, tostring(e.message or "no reason given")),
  }, e)
end

-- ---- waiting: one step at a time ----------------------------------------------

local Waiter = {}
Waiter.__index = Waiter

--- A waiter: the state of one wait for this task, stepped by `wait` (or by a
-- pool of pollers that serves many tasks, as `seedance.map` does).
-- @tparam table opts `timeout` (service seconds), `on_progress(task)`
-- @treturn table with `step()`
-- @local
function Task:waiter(opts)
  local s = self._ctx.settings
  local timeout = opts.timeout or s.wait_timeout
  return setmetatable({ task = self, timeout = timeout, on_progress = opts.on_progress,
    deadline = scheduler.now() + timeout * s.time_scale, start = scheduler.now() }, Waiter)
end

local function aborted()
  return errors.new{ type = "aborted", message = "task closed while waiting" }
end

-- One poll (unless the task has ended) and the decision that follows:
-- "again", seconds until the next; "done", the task; or "fail", an error.
function Waiter:_decide()
  local task = self.task
  if task.abandoned then return "fail", abandoned_error(task) end
  if task.closed then return "fail", aborted() end
  local ok, err = true, nil
  if not TERMINAL[task.status] then
    if scheduler.now() >= self.deadline then
      return "fail", errors.new{ type = "timeout_error", retryable = true, task_id = task.id,
        message = string.format("task %s still %s after %s s; wait again to keep waiting", task.id,
          tostring(task.status), numbers.format("%g", self.timeout)) }
    end
    ok, err = task:_poll(self.deadline)
    if task.closed then return "fail", aborted() end
  end
  if not ok then
    if not err.retryable then return "fail", err end
    -- (counts are nil when 0: a waiter is small, for the thousands a batch may hold)
    self.undecodable = err.undecodable and (self.undecodable or 0) + 1 or nil
    if (self.undecodable or 0) >= M.UNDECODABLE_MAX then
      err.retryable = false
      err.message = string.format("%d answers in a row were not the service's JSON; the last: %s",
        self.undecodable, err.message)
      return "fail", err
    end
    self.failures = (self.failures or 0) + 1
  else
    self.failures, self.undecodable = nil, nil
    if self.on_progress and (task.status ~= self.last_status or task.progress ~= self.last_progress) then
      self.last_status, self.last_progress = task.status, task.progress
      local cok, cerr = scheduler.protect(self.on_progress, task)
      if not cok then return "fail", errors.callback("on_progress", cerr) end
    end
  end
  if task.status == "completed" then return "done", task end
  if task.status == "failed" or task.status == "cancelled" then return "fail", task:_failure() end
  local s = task._ctx.settings
  local delay
  if ok then
    delay = task:_poll_delay(self) * s.time_scale
  else
    -- the client's one rule (seedance.retry): never sooner than the server asked, or end now
    local perr
    delay, perr = task._ctx.policy:pause(err, self.failures, self.deadline)
    if not delay then return "fail", perr end
  end
  local left = self.deadline - scheduler.now()
  return "again", delay < left and delay or math.max(0, left)
end

--- One step of the wait: as `_decide`, and a wait that ends without success
-- gives the task's max_in_flight slot back (its error masked).
-- @return "again", seconds | "done", task | "fail", error
-- @local
function Waiter:step()
  local what, x = self:_decide()
  if what == "fail" then
    self.task:_release()
    x = self.task._ctx.redact_error(x)
  end
  return what, x
end

--- Poll until the task ends. Yields under `seedance.run`/`spawn`, blocks otherwise.
-- Never sleeps past its deadline, and never polls sooner than a Retry-After asked.
-- @tparam[opt] seedance.WaitOptions opts `timeout` (seconds, default the client's wait_timeout),
--   `on_progress(task)` (called when status or progress changes)
-- @treturn[1] seedance.Task self, completed
-- @treturn[2] nil
-- @treturn[2] seedance.Error `task_failed` (with the service's error), `timeout_error`, or the last call's error
function Task:wait(opts)
  check_open(self, "wait")
  errors.checkarg(opts, "table", 1, "wait", true)
  opts = opts or {}
  errors.checktimeout(opts.timeout, "wait", 1)
  local w = self:waiter(opts)
  while true do
    local what, x = w:step()
    if what == "done" then return self end
    if what == "fail" then return nil, x end
    self:_nap(x)
  end
end

--- Download the result to `path`, waiting for the task first when needed.
-- The body streams to `<path>.part`; a retry resumes it with `Range` and
-- `If-Range` (restarting when the file changed on the server); the length is
-- checked before an atomic rename, so a half file never stands under `path`.
-- An expired result URL (403/404/410) or a missing one re-reads the task for a
-- fresh one. Result URLs are https (or http to loopback, see `seedance.urls`).
-- @tparam string path the target file (its folder must exist)
-- @tparam[opt] seedance.DownloadOptions opts `on_progress(done, total)`, `source` ("video" or
--   "last_frame"), `wait` (options for waiting first), `timeout` (seconds for the whole download,
--   default the client's download_timeout)
-- @treturn[1] string path
-- @treturn[2] nil
-- @treturn[2] seedance.Error `expired`, `io_error`, `unsafe_url`, `too_large`, `timeout_error`, network and service errors
function Task:download(path, opts)
  check_open(self, "download")
  if type(path) ~= "string" or path == "" then
    errors.argerror(1, "download", "non-empty string expected, got " .. (path == "" and "empty string" or type(path)))
  end
  errors.checkpath(path, 1, "download")
  errors.checkarg(opts, "table", 2, "download", true)
  opts = opts or {}
  errors.checktimeout(opts.timeout, "download", 2)
  if self.abandoned then return nil, abandoned_error(self) end
  if self.status ~= "completed" then
    local ok, err = self:wait(opts.wait)
    if not ok then return nil, err end
  end
  local task = self
  local ok, err = download.run(self, path, opts, {
    ctx = self._ctx, track = self._transfers, journal_key = self._journal_key,
    closed = function() return task.closed end,
    nap = self:_napper(),
    server_now = function() return task:server_time() end,
  })
  return self._ctx.redact_result(ok, err)
end

M.Task = Task
M.TERMINAL = TERMINAL
return M

--- Task handles: one generation on the service, polled until it ends, then downloaded.
-- Made by `client:generate` and `client:task`.
--
-- A task holds one of the client's `max_in_flight` slots from its submit
-- until it ends, or until the call waiting on it gives up (time out, error),
-- or the handle is closed or collected: every exit path gives the slot back.
-- @module seedance.task

local answer = require("seedance.task_answer")
local compat = require("seedance.compat")
local core = require("seedance.core")
local download = require("seedance.download")
local errors = require("seedance.errors")
local estimate = require("seedance.estimate")
local http = require("seedance.http")
local scheduler = require("seedance.scheduler")
local urls = require("seedance.urls")
local wait = require("seedance.task_wait")

local M = {}

local Task = {}
Task.__index = Task

-- The metatable of a handle whose `result` (the service's result object) is
-- still the JSON text the engine read: decoded when first read, and the
-- handle is a plain Task again.
local Unread = {}
function Unread.__index(t, k)
  if k ~= "result" then return Task[k] end
  local r = core.json_decode(rawget(t, "_result")) -- JSON read whole: the table lua-cjson would make of it
  t._result, t.result = nil, r
  setmetatable(t, Task)
  return r
end

local TERMINAL = { completed = true, failed = true, cancelled = true }
local NO_OPTS = {}

-- Tasks paid for (submitted or re-attached by generate) that have not ended nor been abandoned, for the
-- error an interrupted script ends with (`scheduler.on_interrupt`): their handles' by id (the
-- Idempotency-Key, or true; open_keys the journal's key when there is one: no table per task), and the
-- parked ones of every pool (`waiters`: kind.items, the pool's item -> watch id, and kind.keys), which
-- the engine holds.
local open, open_keys = {}, {}
local kinds = setmetatable({}, { __mode = "k" })
scheduler.on_interrupt(function(report)
  local list = report.tasks
  for id, key in pairs(open) do
    list[#list + 1] = { id = id, idempotency_key = key ~= true and key or nil, key = open_keys[id] }
  end
  for kind in pairs(kinds) do
    for i, wid in pairs(kind.items or {}) do
      if type(wid) == "number" then -- parked: the engine has its id and key
        local id, _, _, _, _, key = scheduler.engine():parked(wid)
        if id then list[#list + 1] = { id = id, idempotency_key = key, key = kind.keys and kind.keys[i] } end
      end
    end
  end
end)

-- A handle's task is no longer open (it ended, was abandoned, or is parked: the engine holds it).
local function unopen(id)
  open[id], open_keys[id] = nil, nil
end

--- Consecutive answers that are not JSON after which `wait` gives up.
M.UNDECODABLE_MAX = 3

--- Make a task handle (used by the client). A handle is one small table (the
-- fields the user reads, its context and its slot), for the thousands a batch holds.
-- @tparam seedance.Client client the client (kept as `task.client`)
-- @tparam table ctx the client's context (`seedance.context`)
-- @tparam string id
-- @tparam[opt] string status
-- @tparam[opt] table request the caller's request
-- @tparam[opt] string idempotency_key
-- @tparam[opt] boolean slot the task holds a max_in_flight slot
-- @tparam[opt] table extra more fields (`replayed`, `reattached`, `video_url`, ...) and `journal_key`,
--   `recorded`
-- @tparam[opt] boolean submitted this handle was made by the task's own submit, so it began now
-- @tparam[opt] number server_now the service's clock at its last answer (unix seconds, its Date)
-- @tparam[opt] boolean paid made by generate: listed by an interrupt until it ends (`scheduler.on_interrupt`)
-- @treturn seedance.Task
-- @local
function M.new(client, ctx, id, status, request, idempotency_key, slot, extra, submitted, server_now, paid)
  local now = scheduler.now()
  -- (nine fields named here: the table is made with room for the ones a wait adds, not grown twice)
  local t = setmetatable({ client = client, id = id, status = status, request = request,
                           idempotency_key = idempotency_key, _ctx = ctx, _slot = slot, _t0 = now,
                           _server_offset = server_now and server_now - now or nil }, Task)
  if extra then
    for k, v in pairs(extra) do
      if k == "journal_key" then t._journal_key = v elseif k == "recorded" then t._recorded = v else t[k] = v end
    end
  end
  if not submitted then t._met = true end -- met by its id (after a restart): `created` may say when it began
  compat.on_collect(t, "_gc", Task.__gc)
  if paid and not TERMINAL[status] and not t.abandoned then
    open[id] = idempotency_key or true
    open_keys[id] = t._journal_key
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
  local mt = getmetatable(self)
  if mt ~= Task and mt ~= Unread then
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
  -- (rawget: fields a handle may lack, read without its metatable's __index)
  if rawget(self, "closed") then return end
  self.closed = true
  Task._release(self)
  local transfers = rawget(self, "_transfers")
  if transfers then
    for id in pairs(transfers) do scheduler.cancel(id) end
    self._transfers = nil
  end
  local watch = rawget(self, "_watch")
  if watch then scheduler.unwatch(watch) end -- a wait ends now (its waiter is woken)
  local naps = rawget(self, "_naps")
  if naps then scheduler.interrupt(naps) end -- a wait or download pausing between requests ends now
end

-- The set of this handle's transfers in flight (so close can cancel them), made when first needed.
function Task:_track()
  local t = self._transfers
  if not t then
    t = {}
    self._transfers = t
  end
  return t
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
  local mt = getmetatable(self)
  if mt ~= Task and mt ~= Unread then errors.argerror(1, "abandon", "seedance task expected, got " .. type(self)) end
  local recorded = false
  local j = self._ctx.journal
  if j and self._journal_key and not j.closed and not self.abandoned then
    local ok, err = j:append{ type = "abandon", key = self._journal_key, task_id = self.id }
    if ok then recorded = true else self._ctx.log("info", "journal: %s", tostring(err)) end
  elseif self.abandoned then
    recorded = true
  end
  self.abandoned = true
  unopen(self.id)
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
Unread.__close = Task.close
-- Collection may happen inside an engine call: abort transfers at the next step instead.
function Task:__gc()
  if self.closed then return end
  self.closed = true
  self:_release()
  for id in pairs(self._transfers or {}) do scheduler.cancel_later(id) end
  if self._watch then scheduler.cancel_later(self._watch) end
end
Unread.__gc, Unread.__tostring = Task.__gc, Task.__tostring

-- ---- the service's task object (read by seedance.task_answer) ----------------

-- Update the handle from the fields of a task answer, as the engine reads a
-- clean one (src/answer.c) and `_apply` any other: each already checked (nil:
-- the answer did not give it, or gave what does not fit). `result` is the
-- result object (or its JSON text, decoded when `task.result` is first read);
-- with it, `video` is the first video's URL (false: none; nil: the answer has
-- no first video to read one from), `expires` its expiry, `frame` the last
-- frame's URL (false: none). `err` is the service's error object.
function Task:_set(status, progress, estimated, created, completed, actual, result, video, expires, frame, err)
  if status then self.status = status end
  if progress then self.progress = progress end
  if estimated then self.estimated_time = estimated end
  if created then self.created = created end
  if completed then self.completed = completed end
  if actual then self.actual_time = actual end
  if err then self.error = answer.clean_error(self._ctx.redact, err) end
  if result then
    if video ~= nil then self.video_url = video or nil end
    if expires then self.expires_at = expires end
    self.last_frame_url = frame or nil
  end
  if self.status == "completed" then self.progress = 100 end
  -- (created is the service's time: the task's age is read on its clock)
  if self._estimate then self:_observe(scheduler.now()) end
  if TERMINAL[self.status] then self:_finished() end
  if result then -- (last: a handle whose result is unread looks its methods up through a function)
    if type(result) == "string" then
      self._result, self.result = result, nil
      setmetatable(self, Unread)
    else
      self._result, self.result = nil, result
      setmetatable(self, Task)
    end
  end
end

-- Note the task as it stands in its estimate (made by the first progress_at).
function Task:_observe(now)
  self._estimate:observe(now, self.status, self.progress, self.estimated_time, self.created, self:server_time())
end

--- How far along the task is at `now`, for a progress bar drawn every frame.
-- Polls come seconds apart; between them the estimate moves on from the
-- progress rate seen so far, else from the task's `estimated_time` and the
-- time since it began (from the pace reported since then, when the one
-- report so far says the estimate is off or there is none). Cheap (no IO,
-- no allocation); a closed handle answers too. While a wait lets the engine
-- poll the task, what the engine's last answer said counts (a wait without
-- on_progress is not woken by progress).
-- @tparam[opt] number now seconds on the library's monotonic clock (the scheduler's,
--   `require("seedance.scheduler").now()`; not an engine's own timer); default: now
-- @treturn number percent, in [0, 100] and not always whole: never less than an earlier reading
--   of this handle nor than the service reported, at most 99 until the task has completed, 100 once
--   it has (a task that failed or was cancelled stays where it stood)
-- @treturn number|nil seconds left (wall clock), or nil once the task has ended or when nothing
--   tells (no `estimated_time` nor report yet, or past it with no progress rate to go by)
function Task:progress_at(now)
  local mt = getmetatable(self)
  if mt ~= Task and mt ~= Unread then
    errors.argerror(1, "progress_at", "seedance task expected, got " .. type(self))
  end
  if now == nil then
    now = scheduler.now()
  elseif type(now) ~= "number" or now ~= now then
    errors.argerror(1, "progress_at", "number expected, got " .. (now ~= now and "nan" or type(now)))
  end
  local e = self._estimate
  if not e then -- made when first read: a handle nobody draws costs no estimate
    e = estimate.new(self._t0, self._ctx.settings.time_scale, self._met)
    self._estimate = e
    if self.status then self:_observe(now) end
  end
  local wid = self._watch
  if wid and not self.closed then
    -- the engine polls this task for a wait: the progress of its last answer, whether or not it woke the wait
    local id, status, progress = scheduler.engine():parked(wid)
    if id and status == self.status and progress and progress ~= self.progress then
      e:observe(now, status, progress, self.estimated_time, self.created, self:server_time())
    end
  end
  return e:at(now)
end

-- Update the handle from a task object as the service returns it (decoded by
-- the Lua layer: an answer the engine does not read). No value of any type
-- or size makes this raise: what does not fit is ignored.
function Task:_apply(data)
  self:_set(answer.fields(data))
end

-- The task ended: free its slot and note the outcome in the journal (once).
function Task:_finished()
  self:_release()
  unopen(self.id)
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

-- The path of a poll of this task.
function Task:_path()
  local path = "/v1/tasks/" .. urls.encode_segment(self.id)
  local lang = self._ctx.settings.language
  if lang then path = path .. "?language=" .. urls.encode_segment(lang) end
  return path
end

-- A poll's decoded answer (one the engine did not read) applied: the handle, or the error.
function Task:_read(obj)
  local data, err = answer.data(obj, self.id)
  if not data then return nil, err end
  self:_apply(data)
  return self
end

-- What a poll came to (http.call's results): the handle, or nil and the error.
local function polled(self, a, b, server_now, ...)
  if a == true then -- the engine read it: b, the service's clock; then the fields
    if b then self._server_offset = b - scheduler.now() end
    self:_set(server_now, ...)
    return self
  end
  if not a then
    b.task_id = self.id
    return nil, b
  end
  -- the service's clock, as its answer's Date says, against ours: its times (created, expires_at) are its own
  self._server_offset = http.server_time(b.headers) - scheduler.now()
  return self:_read(a)
end

-- One GET /v1/tasks/{id} within an absolute deadline (the engine reads a clean answer).
function Task:_poll(deadline)
  local ctx = self._ctx
  if not ctx.has_key() then return nil, ctx.no_key() end
  local nap, stopped = self:_napper()
  return polled(self, http.request(ctx, "GET", self:_path(), nil, nil, http.TASK, self.id, deadline,
    { track = self:_track(), nap = nap, stopped = stopped }))
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
  return answer.failure(self.id, self.status, self.error)
end

-- ---- waiting (seedance.task_wait): what a wait does to the handle -------------

--- A kind of waiter: what every wait of a pool shares (`seedance.map`'s),
-- so that each of its waiters is a small table (`seedance.task_wait.waiters`);
-- its parked tasks are listed by an interrupt (`kind.items`).
-- @tparam[opt] number timeout service seconds (default the client's wait_timeout)
-- @tparam[opt] function on_progress `on_progress(task, i)`
-- @tparam[opt] function sink `sink(watch id)`, called inside a step for each event (see `scheduler.watch`)
-- @treturn table the kind, for `Task:waiter`
-- @local
function M.waiters(timeout, on_progress, sink)
  local kind = wait.waiters(timeout, on_progress, sink)
  kinds[kind] = true
  return kind
end

--- The handle of a parked task again, with its waiter (`seedance.task_wait.unpark`).
-- @function unpark
-- @tparam table kind
-- @tparam integer wid
-- @treturn table|nil the waiter
-- @local
M.unpark = wait.unpark

--- A waiter: the state of one wait for this task, stepped by `wait` (or by a
-- pool that serves many tasks, as `seedance.map` does).
-- @tparam table opts `timeout` (service seconds), `on_progress(task)`; or a kind (`waiters`)
-- @tparam[opt] integer i with a kind: passed to its on_progress
-- @treturn table with `step()` and `wid` (the engine's watch, once started)
-- @local
function Task:waiter(opts, i)
  return wait.new(self, self._ctx, opts, i)
end

-- The handle's side of a wait, for seedance.task_wait (which reads no field of a handle but
-- the ones a user reads): each @local.

--- The path of a poll of the task.
-- @local
function M.path(task)
  return task:_path()
end

--- A poll the engine read: the service's clock (nil: none) and the fields, applied.
-- @local
function M.took(task, server_now, ...)
  if server_now then task._server_offset = server_now - scheduler.now() end
  task:_set(...)
end

--- A poll's decoded answer applied, with the service's clock as its Date says: the handle, or the error.
-- @local
function M.read(task, obj, server_now)
  task._server_offset = server_now - scheduler.now()
  return task:_read(obj)
end

--- The engine watches the task for a wait (watch id).
-- @local
function M.watching(task, wid)
  task._watch = wid
end

--- The wait with watch wid ended.
-- @local
function M.unwatched(task, wid)
  if task._watch == wid then task._watch = nil end
end

--- Give the task's max_in_flight slot back (a wait that failed).
-- @local
function M.release(task)
  task:_release()
end

--- The error of a wait or download of an abandoned task.
-- @function abandoned_error
-- @local
M.abandoned_error = abandoned_error

-- A handle's flags, as a parked task keeps them (sums of these: Lua 5.1 has no bit operators).
local SLOT, REPLAYED, REATTACHED, RECORDED = 1, 2, 4, 8

-- The fields a parked task keeps (in its watch, in C); a handle with any other (a journal's
-- URLs of a task re-attached, say) stays a handle.
local PARKABLE = { client = true, id = true, status = true, request = true, idempotency_key = true,
  progress = true, created = true, estimated_time = true, replayed = true, reattached = true,
  _ctx = true, _slot = true, _watch = true, _journal_key = true, _recorded = true, _gc = true,
  _t0 = true, _server_offset = true }

-- Whether flag f is in the sum of flags.
local function has(flags, f)
  return math.floor(flags / f) % 2 == 1
end

--- Whether the handle may be parked (it holds only what a parked task keeps): its flags and journal
-- key, or nil.
-- @local
function M.parkable(task)
  for k in pairs(task) do
    if not PARKABLE[k] then return nil end
  end
  local flags = (task._slot and SLOT or 0) + (task.replayed and REPLAYED or 0) + (task.reattached and REATTACHED or 0)
    + (task._recorded and RECORDED or 0)
  return flags, task._journal_key
end

--- The handle of a task just parked goes, and nothing it would do when collected (its slot is the
-- parked task's); an interrupt lists it from the engine (kind.items).
-- @local
function M.parked(task)
  unopen(task.id)
  task._slot, task._watch, task.closed = nil, nil, true
  setmetatable(task, nil)
end

--- The handle of a parked task made again from what its watch kept.
-- @local
function M.unparked(client, ctx, id, status, request, key, flags, journal_key, progress, est, created, wid)
  local extra
  if flags > SLOT or journal_key then
    extra = { replayed = has(flags, REPLAYED) or nil, reattached = has(flags, REATTACHED) or nil,
              recorded = has(flags, RECORDED) or nil, journal_key = journal_key }
  end
  local t = M.new(client, ctx, id, status, request, key, has(flags, SLOT), extra, true, nil, true)
  t.progress, t.estimated_time, t.created, t._watch = progress, est, created, wid
  return t
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
  if opts ~= nil then
    errors.checkarg(opts, "table", 1, "wait")
    errors.checktimeout(opts.timeout, "wait", 1)
  else
    opts = NO_OPTS
  end
  local w = self:waiter(opts)
  while true do
    local what, x = w:step()
    if what == "done" then return self end
    if what == "fail" then return nil, x end
    scheduler.wait_event(w.wid)
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
    ctx = self._ctx, track = self:_track(), journal_key = self._journal_key,
    closed = function() return task.closed end,
    nap = self:_napper(),
    server_now = function() return task:server_time() end,
  })
  return self._ctx.redact_result(ok, err)
end

M.Task = Task
M.TERMINAL = TERMINAL
return M

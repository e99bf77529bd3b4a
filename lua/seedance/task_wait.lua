--- A task's wait: the engine polls, the waiter decides. Used by `Task:wait`
-- and by `seedance.map`'s poll pool, whose waiters share a kind (`waiters`).
--
-- A wait hands the task to the engine (`engine:watch`), which polls it on the
-- schedule of `seedance.polling` (src/engine_sched.c) and wakes the waiter
-- only for a change it asked about (the status; the progress too when there
-- is an on_progress), an answer the engine does not read (an error, an odd
-- body), or the deadline. Polls that change nothing never reach Lua. The
-- waiter makes every decision the Lua layer kept: the retries of one poll
-- (`seedance.retry`, Retry-After honoured), undecodable answers counted,
-- on_progress, the end. A pool's waiter may park its task (`park`): the
-- handle goes and the engine's watch keeps what it held, until `unpark`.
--
-- What a wait does to the task handle (its answers applied, its slot given
-- back, its watch noted, parking it) is `seedance.task`'s own functions'
-- (`took`, `read`, `release`, `watching`, `parkable`, ...): this module holds
-- the waiter's state and decisions only.
-- @module seedance.task_wait
-- @local

local answer = require("seedance.task_answer")
local compat = require("seedance.compat")
local errors = require("seedance.errors")
local http = require("seedance.http")
local numbers = require("seedance.numbers")
local scheduler = require("seedance.scheduler")

local M = {}

-- seedance.task (which requires this module), once loaded.
local task_mod
local function tasks()
  if not task_mod then task_mod = require("seedance.task") end
  return task_mod
end

-- KiB of collector debt a parked task adds (see Waiter:park; bench B2: about 2 KiB of garbage per item)
local PARK_DEBT_KIB = 2

local Waiter = {}
Waiter.__index = Waiter

--- A kind of waiter: what every wait of a pool shares (`seedance.map`'s),
-- so that each of its waiters is a small table.
-- @tparam[opt] number timeout service seconds (default the client's wait_timeout)
-- @tparam[opt] function on_progress `on_progress(task, i)`
-- @tparam[opt] function sink `sink(watch id)`, called inside a step for each event (see `scheduler.watch`)
-- @treturn table the kind, for `new` (`Task:waiter`)
function M.waiters(timeout, on_progress, sink)
  local kind = { timeout = timeout, on_progress = on_progress, sink = sink, quiet = true }
  kind.__index = kind
  return setmetatable(kind, Waiter)
end

--- A waiter: the state of one wait for a task, stepped by `Task:wait` (or by a
-- pool that serves many tasks, as `seedance.map` does).
-- @tparam seedance.Task task
-- @tparam table ctx the task's client context (`seedance.context`)
-- @tparam table opts `timeout` (service seconds), `on_progress(task)`; or a kind (`waiters`)
-- @tparam[opt] integer i with a kind: passed to its on_progress
-- @treturn table with `step()` and `wid` (the engine's watch, once started)
function M.new(task, ctx, opts, i)
  local s = ctx.settings
  if getmetatable(opts) == Waiter then
    -- (a pool's waiters are one client's)
    if not opts.timeout then opts.timeout = s.wait_timeout end
    if not opts.ctx then opts.ctx = ctx end
    return setmetatable({ task = task, i = i, deadline = scheduler.now() + opts.timeout * s.time_scale }, opts)
  end
  local timeout = opts.timeout or s.wait_timeout
  -- (five fields: a small table; an on_progress is a sixth)
  local w = setmetatable({ task = task, ctx = ctx, timeout = timeout,
    deadline = scheduler.now() + timeout * s.time_scale, wid = false }, Waiter)
  if opts.on_progress then w.on_progress = opts.on_progress end
  return w
end

local function aborted()
  return errors.new{ type = "aborted", message = "task closed while waiting" }
end

-- The error of a wait whose deadline came.
function Waiter:_timeout()
  local task = self.task
  return errors.new{ type = "timeout_error", retryable = true, task_id = task.id,
    message = string.format("task %s still %s after %s s; wait again to keep waiting", task.id,
      tostring(task.status), numbers.format("%g", self.timeout)) }
end

-- After a poll that read the task: on_progress when it `changed` (its status or progress is not
-- what the waiter was told before: the engine keeps that), then the outcome ("done", "fail") or
-- nil to go on.
function Waiter:_seen(changed)
  local task = self.task
  self.failures, self.undecodable, self.n = nil, nil, nil
  if self.on_progress and changed then
    local cok, cerr
    if self.i then cok, cerr = scheduler.protect(self.on_progress, task, self.i)
    else cok, cerr = scheduler.protect(self.on_progress, task) end
    if not cok then return "fail", errors.callback("on_progress", cerr) end
  end
  if task.status == "completed" then return "done", task end
  if task.status == "failed" or task.status == "cancelled" then
    return "fail", answer.failure(task.id, task.status, task.error)
  end
  return nil
end

-- After a poll that failed with err: the retries of one poll (http.call's), then the wait's own
-- decision (the pause before the next poll, or the end). Returns a delay in seconds, or "fail", err.
function Waiter:_failed(err, http_level)
  local task = self.task
  local ctx = self.ctx
  if http_level then
    -- the poll's own retries: never sooner than the server asked (the client's one rule)
    local n = self.n or 1
    local delay, derr = ctx.policy:delay(err, n, self.deadline)
    if delay then
      self.n = n + 1
      return delay
    end
    err = derr
  end
  err.task_id = task.id
  self.n = nil
  if not err.retryable then return "fail", err end
  -- (counts are nil when 0: a waiter is small, for the thousands a batch may hold)
  self.undecodable = err.undecodable and (self.undecodable or 0) + 1 or nil
  if (self.undecodable or 0) >= tasks().UNDECODABLE_MAX then
    err.retryable = false
    err.message = string.format("%d answers in a row were not the service's JSON; the last: %s",
      self.undecodable, err.message)
    return "fail", err
  end
  self.failures = (self.failures or 0) + 1
  -- the client's one rule (seedance.retry): never sooner than the server asked, or end now
  local delay, perr = ctx.policy:pause(err, self.failures, self.deadline)
  if not delay then return "fail", perr end
  return delay
end

-- A poll the engine read: logged (when the client logs each exchange) and applied.
function Waiter:_took(_, status, seconds, server_now, ...)
  local task, T = self.task, tasks()
  local ctx = self.ctx
  if ctx.logs then
    ctx.log("info", "GET %s -> %s in %s s", T.path(task), status, numbers.format("%.3f", seconds))
  end
  T.took(task, server_now, ...)
end

-- The decision after the watch's event (or, first, whether to start one):
-- "wait" (the engine goes on polling), "done", the task, or "fail", an error.
function Waiter:_decide()
  local task, T = self.task, tasks()
  if task.abandoned then return "fail", T.abandoned_error(task) end
  if task.closed then return "fail", aborted() end
  local ctx = self.ctx
  local eng = scheduler.engine()
  local wid = self.wid
  if not wid then
    if T.TERMINAL[task.status] then return self:_seen(true) end
    if scheduler.now() >= self.deadline then return "fail", self:_timeout() end
    if not ctx.has_key() then return "fail", ctx.no_key() end
    -- what the waiter knows: the engine tells it of anything else it asks about: the status (a
    -- wait's handle is the user's, read between wakes; a pool's is parked), the progress with an
    -- on_progress; and always the end, errors and answers it does not read
    local told_status = not self.on_progress and task.status or nil
    local wake = (self.on_progress and 1 or 0) + (self.quiet and 0 or 2)
    wid = eng:watch(ctx.profile, task.id, self.deadline, wake, told_status, nil,
      task.progress, task.estimated_time, task.created)
    self.wid = wid
    T.watching(task, wid)
    scheduler.watch(wid, self.sink)
    return "wait"
  end
  local kind, absorbed, changed = eng:event(wid)
  if not kind then return "wait" end
  -- polls the engine read in between (they changed nothing): the counts of failures in a row start again
  if absorbed then self.failures, self.undecodable, self.n = nil, nil, nil end
  local what, x
  if kind == "deadline" then
    eng:take(wid)
    return "fail", self:_timeout()
  elseif kind == "task" then
    self:_took(eng:take(wid))
    what, x = self:_seen(changed)
    if what then return what, x end
    eng:rearm(wid)
    return "wait"
  end
  -- an answer the engine does not read: the Lua layer's reading (http.lua, Task:_read)
  local _, r = eng:take(wid)
  local ok, obj = http.settle(ctx, "GET", T.path(task), true, scheduler.now() - (r.time or 0), false, r)
  local delay, err
  if not ok then
    delay, x = self:_failed(obj, true)
  else
    ok, err = T.read(task, obj, http.server_time(r.headers))
    if ok then
      what, x = self:_seen(eng:seen(wid, task.status, task.progress, task.estimated_time, task.created))
      if what then return what, x end
      eng:rearm(wid)
      return "wait"
    end
    delay, x = self:_failed(err, false)
  end
  if delay == "fail" then return "fail", x end
  local left = self.deadline - scheduler.now()
  eng:rearm(wid, delay < left and delay or math.max(0, left))
  return "wait"
end

--- One step of the wait: as `_decide`; a wait that ends stops its watch, and
-- one that ends without success gives the task's max_in_flight slot back (its
-- error masked).
-- @return "wait" | "done", task | "fail", error
-- @local
function Waiter:step()
  local what, x = self:_decide()
  if what ~= "wait" then
    local task = self.task
    if self.wid then
      tasks().unwatched(task, self.wid)
      scheduler.unwatch(self.wid)
    end
    if what == "fail" then
      tasks().release(task)
      x = self.ctx.redact_error(x)
    end
  end
  return what, x
end

--- Park this waiter's task (a pool's item, after a step that said "wait"):
-- what its handle held goes to its watch in the engine (the Idempotency-Key,
-- the item's number, its flags, its waiter's counts) and the handle goes
-- away, so a task the engine polls costs a record in C, not a table web;
-- `unpark` makes the handle again for its next event. Parking paces the
-- collector (2 KiB of debt) unless the host has stopped it.
-- @treturn boolean whether it was parked (a handle with more than a parked task keeps is not)
function Waiter:park()
  local task, kind, tm = self.task, getmetatable(self), tasks()
  local flags, journal_key = tm.parkable(task)
  if not flags then return false end
  local eng = scheduler.engine()
  eng:park(self.wid, task.idempotency_key, self.i, flags)
  eng:counts(self.wid, self.n, self.failures, self.undecodable)
  if journal_key then
    kind.keys = kind.keys or {}
    kind.keys[self.i] = journal_key
  end
  kind.client = task.client
  tm.parked(task)
  -- the collector paced by what parking leaves behind: the handle, its waiter and its submit's garbage
  -- (about 2 KiB) count once more as debt, so that a pool filling with thousands of parked tasks does not
  -- pile their garbage up to the host's pause (by default twice the live heap) before a cycle frees it;
  -- never while the host has stopped the collector (an explicit step would run it), nor in a sandbox without it
  compat.gc_step(PARK_DEBT_KIB)
  return true
end

--- The handle of a parked task again, with its waiter: for its watch's next
-- event, or for the end of its pool. nil when the watch has ended.
-- @tparam table kind the pool's kind of waiter (`waiters`), with `requests` (the pool's
--   requests, by item number) and `items` (item number -> its watch id while parked, which an
--   interrupt lists)
-- @tparam integer wid the task's watch
-- @treturn table|nil the waiter (its `task`)
function M.unpark(kind, wid)
  local eng = scheduler.engine()
  local id, status, progress, est, created, key, i, flags, deadline = eng:parked(wid)
  if not id then return nil end
  local t = tasks().unparked(kind.client, kind.ctx, id, status, kind.requests and kind.requests[i], key, flags,
    kind.keys and kind.keys[i], progress, est, created, wid)
  local n, failures, undecodable = eng:counts(wid)
  return setmetatable({ task = t, i = i, wid = wid, deadline = deadline or math.huge, n = n, failures = failures,
                        undecodable = undecodable }, kind)
end

return M

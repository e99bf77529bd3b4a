--- The coroutine runner under `seedance.scheduler`: the managed coroutines
-- (each one's record, which is also the handle `spawn` returns), the queue of
-- records ready to resume, and the heap of timers that wake them. No engine
-- and no IO here: the scheduler pumps the engine, hands its results over, and
-- asks this module to fire due timers and resume what is ready within its
-- budget. Plain code that must block (a `wait` on a handle, a condition
-- outside a coroutine) blocks through the function the scheduler gives
-- `set_blocker` (its `block_until`, which pumps the engine).
--
-- A record: `co` (the coroutine), `gen` (bumped at each suspension: a wake is
-- for one generation, so a stale one is ignored), `waiting` (suspended until
-- woken), `done`, `ok`, `results` or `error`, `joined` (someone waits for it),
-- `waiters` (the records waiting for it).
-- @module seedance.runner
-- @local

local compat = require("seedance.compat")
local core = require("seedance.core")
local heap = require("seedance.heap")

local M = {}

local now = core.now
local ready = {}      -- records to resume, in order: a queue from ready_head to ready_tail
local ready_head, ready_tail = 1, 0
local timers = {}     -- binary heap of { at, rec, gen }
local records = setmetatable({}, { __mode = "k" })  -- coroutine -> record (managed only)
local live = 0        -- managed coroutines not yet finished
local block_until     -- the scheduler's: pump until pred() holds (plain code)

-- Queue a record to resume.
local function push_ready(rec)
  ready_tail = ready_tail + 1
  ready[ready_tail] = rec
end

--- A handle on a spawned coroutine.
local Spawned = {}
Spawned.__index = Spawned

--- Handler for errors of spawned coroutines nobody waits on; replaceable via `set_error_handler`.
local function default_error_handler(err)
  io.stderr:write("seedance: error in a spawned coroutine: ", tostring(err), "\n")
end
local error_handler = default_error_handler

--- Have plain code block with `fn(pred[, deadline])` (the scheduler's `block_until`).
-- @tparam function fn
function M.set_blocker(fn)
  block_until = fn
end

--- Make a suspended record runnable; ignored unless it waits for this generation.
-- @tparam table rec
-- @tparam integer gen
local function wake(rec, gen)
  if rec.waiting and rec.gen == gen then
    rec.waiting = false
    push_ready(rec)
  end
end
M.wake = wake

--- Make a record runnable when it is suspended (whatever it waits for).
-- @tparam table rec
function M.wake_waiting(rec)
  if rec.waiting then
    rec.waiting = false
    push_ready(rec)
  end
end

--- The record of the running coroutine when this runner manages it, else nil.
-- @treturn table|nil
local function current()
  local co = coroutine.running()
  return co and records[co] or nil
end
M.current = current

--- Suspend the running managed coroutine until woken; returns nothing.
-- @tparam table rec its record
local function suspend(rec)
  rec.waiting = true
  coroutine.yield()
end
M.suspend = suspend

--- Suspend `rec` as `suspend` does; with a pause token (`scheduler.sleep`'s), `scheduler.interrupt(token)`
-- wakes it too: it is one of the token's sleepers while suspended.
-- @tparam table rec its record
-- @tparam[opt] table token
local function suspend_on(rec, token)
  if not token then return suspend(rec) end
  local sleepers = token.sleepers or {}
  token.sleepers = sleepers
  sleepers[rec] = rec.gen
  suspend(rec)
  sleepers[rec] = nil
end
M.suspend_on = suspend_on

--- Wake `rec` at `at` (absolute `core.now()` time) unless it was woken since (its generation moved on).
-- @tparam number at
-- @tparam table rec
function M.add_timer(at, rec)
  heap.push(timers, { at = at, rec = rec, gen = rec.gen })
end

local function finish(rec, ok, ...)
  -- a coroutine ends once: a wake it registered before its end (a yield that raised, as
  -- Lua 5.1 does across a pcall) is ignored: wake finds it not waiting, resume finds it done
  rec.waiting = false
  live = live - 1
  local h = rec -- (a coroutine's record is its handle)
  h.done = true
  h.ok = ok
  if ok then
    h.results = compat.pack(...)
  else
    h.error = ...
    if not h.joined then error_handler(h.error) end
  end
  if h.waiters then
    for _, waiter in ipairs(h.waiters) do wake(waiter, waiter.gen) end
    h.waiters = nil
  end
end

-- What a resume gave back: the end of the coroutine (returned or raised), or a yield.
-- A yield that is not one of ours (a bare coroutine.yield() in user code, in a
-- callback say) is a cooperative one: the coroutine runs again at the next step.
local function resumed(rec, ok, ...)
  if not ok then
    local e = ...
    local okt, text = pcall(tostring, e)
    finish(rec, false, debug.traceback(rec.co, okt and text or "an error object that cannot be printed"))
  elseif coroutine.status(rec.co) == "dead" then
    finish(rec, true, ...)
  elseif not rec.waiting then
    push_ready(rec)
  end
end

-- The body runs directly as the coroutine (no pcall inside it), so it may
-- yield on Lua 5.1 too; a raised error is caught by resume and given a traceback.
local function resume(rec)
  if rec.done then return end
  local args = rec.args
  if args then
    rec.args = nil
    resumed(rec, coroutine.resume(rec.co, compat.unpack(args, 1, args.n)))
  else
    resumed(rec, coroutine.resume(rec.co))
  end
end

--- Start `fn(...)` as a managed coroutine; it first runs at the next step.
-- @tparam function fn the body
-- @return a handle with `done`, `ok`, `error`, and `:wait()` for fn's results
function M.spawn(fn, ...)
  local co = coroutine.create(fn)
  -- one small table: the coroutine's record is the handle returned
  local rec = setmetatable({ co = co, gen = 0, waiting = false, done = false }, Spawned)
  if select("#", ...) > 0 then rec.args = compat.pack(...) end
  records[co] = rec
  live = live + 1
  push_ready(rec)
  return rec
end

--- Wait for a spawned coroutine and return what it returned.
-- Yields when called from a managed coroutine, blocks otherwise.
-- @return the coroutine's results, or nil and its error
function Spawned:wait()
  self.joined = true
  if not self.done then
    local rec = current()
    if rec then
      rec.gen = rec.gen + 1
      local ws = self.waiters
      if not ws then
        ws = {}
        self.waiters = ws
      end
      ws[#ws + 1] = rec
      while not self.done do suspend(rec) end
    else
      block_until(function() return self.done end)
    end
  end
  if self.ok then return compat.unpack(self.results, 1, self.results.n) end
  return nil, self.error
end

--- Wake the records whose timers are due.
function M.fire_timers()
  local t = now()
  while timers[1] and timers[1].at <= t do
    local e = heap.pop(timers)
    wake(e.rec, e.gen)
  end
end

--- When the first timer is due (absolute `core.now()` time, one whose pause ended early included), or nil.
-- @treturn number|nil
function M.first_timer()
  return timers[1] and timers[1].at
end

--- When the first live timer is due, or nil: a timer whose pause already ended (interrupted, or its
-- coroutine woken by its transfer) is nothing to wake for: dropped, so a pause ended early (a sleep of
-- math.huge, say) does not keep a host awake.
-- @treturn number|nil
function M.next_timer()
  local top = timers[1]
  while top and not (top.rec.waiting and top.rec.gen == top.gen) do
    heap.pop(timers)
    top = timers[1]
  end
  return top and top.at
end

--- Whether a record is ready to resume.
-- @treturn boolean
function M.has_ready()
  return ready_tail >= ready_head
end

--- Resume what was ready when called, at most `max` records, and stop once `stop_at` (absolute
-- `core.now()` time) has passed (after at least one); the rest (and what these resumes make ready)
-- waits in the queue for the next call.
-- @tparam number stop_at
-- @tparam integer max
function M.resume_ready(stop_at, max)
  local last, i = ready_tail, ready_head
  if last - i >= max then last = i + max - 1 end
  while i <= last do
    local rec = ready[i]
    ready[i] = nil
    i = i + 1
    ready_head = i
    resume(rec)
    if i <= last and now() > stop_at then break end
  end
  if ready_head > ready_tail then ready_head, ready_tail = 1, 0 end
end

--- Managed coroutines not yet finished.
-- @treturn integer
function M.live()
  return live
end

--- Counts for diagnostics: coroutines alive, timers pending, records ready.
-- @treturn integer live
-- @treturn integer timers
-- @treturn integer ready
function M.counts()
  return live, #timers, ready_tail - ready_head + 1
end

--- Replace the handler called with errors of spawned coroutines nobody waits on.
-- @tparam function|nil fn receives the error (with traceback); nil restores the default
function M.set_error_handler(fn)
  error_handler = fn or default_error_handler
end

--- A condition for coroutines to wait on until a predicate holds (slots of a
-- governor, say). `wait(pred, deadline)` yields in a managed coroutine and
-- blocks in plain code, and returns false if the deadline (absolute `now()`
-- time) comes first; `notify(n)` wakes the n longest waiters (every one when n
-- is nil) to re-check their predicate. With a `token` (a `scheduler.sleep` token), `wait` also
-- returns false once the token is interrupted (`scheduler.interrupt` wakes it).
-- @treturn table with `wait(pred, deadline, token)` and `notify(n)`
function M.condition()
  local cond = { waiters = {}, head = 1, tail = 0 }
  function cond.wait(pred, deadline, token)
    while not pred() do
      if deadline and now() >= deadline then return false end
      if token and token.interrupted then return false end
      local rec = current()
      if rec then
        rec.gen = rec.gen + 1
        -- with the generation it waits for: once the deadline has woken it, a
        -- later notify must not wake it from whatever it waits for next
        cond.tail = cond.tail + 1
        cond.waiters[cond.tail] = { rec = rec, gen = rec.gen }
        if deadline then heap.push(timers, { at = deadline, rec = rec, gen = rec.gen }) end
        suspend_on(rec, token)
      elseif not block_until(token and function() return token.interrupted == true or pred() end or pred, deadline) then
        return false
      end
    end
    return true
  end
  function cond.notify(n)
    local ws, woke = cond.waiters, 0
    while cond.head <= cond.tail and (not n or woke < n) do
      local w = ws[cond.head]
      ws[cond.head] = nil
      cond.head = cond.head + 1
      -- a waiter that left (its deadline came) is skipped: the wake goes to the next
      if w.rec.waiting and w.rec.gen == w.gen then
        wake(w.rec, w.gen)
        woke = woke + 1
      end
    end
    if cond.head > cond.tail then cond.head, cond.tail = 1, 0 end
  end
  return cond
end

return M

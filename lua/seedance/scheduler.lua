--- The coroutine scheduler: one engine per Lua state, three ways to run.
--
-- Every network call goes through `transfer` and every pause through
-- `sleep`. Called from a coroutine this scheduler manages (one started by
-- `run` or `spawn`), they yield and other coroutines go on; called from plain
-- code, they block, pumping the engine (and every managed coroutine) until
-- done. `step(0)` pumps once and never blocks: the shape a host frame loop needs.
--
-- Lifetime: a transfer in flight is held by `inflight[id]` until the engine
-- hands its result over, whatever happens to the coroutine that started it;
-- the result then stays in C until its waiter reads it (`engine:take`,
-- `engine:result`). A watch (the engine polling a task) is held by
-- `watchers[id]` until its waiter ends it.
--
-- A step does bounded work: the engine's own budget (`ENGINE_BUDGET`: new
-- transfers, sockets, answers read, microseconds), then at most `HANDOVERS`
-- results handed over and `RESUMES` coroutines resumed, within `budget`
-- seconds of Lua work; what does not fit waits for the next step.
--
-- The coroutines themselves (their records, the ready queue, the timers) are
-- `seedance.runner`'s; this module pumps the engine and hands its results over.
-- @module seedance.scheduler

local compat = require("seedance.compat")
local core = require("seedance.core")
local errors = require("seedance.errors")
local interrupt = require("seedance.interrupt")
local runner = require("seedance.runner")

local M = {}

local now = core.now
local engine          -- the engine, made on first use
local BLOCKED = {}    -- stands for plain code blocked on an id (no coroutine to wake)
local BUSY = {}       -- stands for a coroutine waiting for an id that is not suspended waiting now
local inflight = {}   -- transfer id -> the record of the coroutine suspended waiting for it, BUSY or BLOCKED
local inflight_n = 0
local watchers = {}   -- watch id -> the record of the coroutine suspended waiting for its events, BUSY,
                      -- a sink function(id) (a pool serving many), or BLOCKED
local watchers_n = 0
local stepping = false
local doomed = {}     -- transfer ids to cancel at the next step (from finalizers)
-- the coroutine runner (seedance.runner): records, the ready queue, timers
local wake, current, suspend = runner.wake, runner.current, runner.suspend

--- How much the engine may do in one step: transfers handed to libcurl (of
-- them, downloads: each makes its files as its answer comes), ready sockets,
-- finished transfers read, microseconds (see `engine:budget`).
M.ENGINE_BUDGET = { starts = 12, downloads = 2, sockets = 16, answers = 32, us = 300 }

--- Results and watch events handed over in one host's `step`, at most.
M.HANDOVERS = 12

--- Coroutines resumed in one host's `step`, at most.
M.RESUMES = 12

--- Bytes of downloads one `step` may write to their files (512 KiB): a download
-- that would write more waits for the next step, so a fast one (a video served at
-- hundreds of MB/s on a LAN or loopback) never makes a step a long write. A frame
-- loop at 60 Hz still saves up to 30 MiB/s; plain code, which steps again at
-- once, is not slowed. Read when the engine is made (the first call).
M.file_budget = 512 * 1024

--- The engine of this Lua state.
-- @return the `seedance.core` engine
function M.engine()
  if not engine then
    engine = core.engine{ file_budget = M.file_budget }
    engine:budget(M.ENGINE_BUDGET)
  end
  return engine
end

-- Make the record waiting for an engine id runnable (it is there only while suspended waiting for it).
local function wake_waiter(w)
  if w ~= BUSY and w ~= BLOCKED then runner.wake_waiting(w) end
end

--- Start `fn(...)` as a managed coroutine; it first runs at the next step.
-- @tparam function fn the body
-- @return a handle with `done`, `ok`, `error`, and `:wait()` for fn's results
function M.spawn(fn, ...)
  errors.checkarg(fn, "function", 1, "spawn")
  return runner.spawn(fn, ...)
end

--- Whether a raised value is the `interrupted` error a plain script's Ctrl-C ends with (see `block_until`).
-- @function is_interrupt
-- @param e
-- @treturn boolean
-- @local
M.is_interrupt = interrupt.is

--- debug.traceback as a message handler, which leaves an interrupt as it is.
-- @param e
-- @local
function M.traceback(e)
  if M.is_interrupt(e) then return e end
  return debug.traceback(e)
end

-- protect's results, passed on (no table): a plain script's Ctrl-C ends the script, never a callback's or
-- a call's error
local function protected(ok, ...)
  if not ok and M.is_interrupt((...)) then error((...), 0) end
  return ok, ...
end

--- Call `fn(...)` protected, where it may still yield to this scheduler (a
-- network call in it goes on yielding): with `xpcall` where a coroutine can
-- yield inside one (5.2+, LuaJIT, and plain code, which blocks), else (Lua
-- 5.1) in a managed coroutine of its own that this one waits for.
-- @tparam function fn
-- @param ... its arguments
-- @treturn boolean whether fn returned
-- @return fn's results, or what it raised (with a traceback)
function M.protect(fn, ...)
  if compat.yield_in_pcall or not current() then return protected(compat.xpcall(fn, M.traceback, ...)) end
  local h = M.spawn(fn, ...)
  h:wait()
  if h.ok then return true, compat.unpack(h.results, 1, h.results.n) end
  return false, h.error
end

-- ---- the pump ------------------------------------------------------------

-- Hand finished transfers and watch events to their waiters, at most HANDOVERS
-- and until stop_at (at least one); the rest stay queued in the engine for the next step.
local function dispatch(stop_at, most)
  local eng = engine
  if not eng then return end
  local n = 0
  local id = eng:pop()
  while id do
    local w = inflight[id]
    if w then
      inflight[id] = nil
      inflight_n = inflight_n - 1
      wake_waiter(w)
    else
      w = watchers[id]
      if w == nil then
        eng:cancel(id) -- nobody waits for it any more
      elseif type(w) == "function" then
        w(id)
      else
        wake_waiter(w)
      end
    end
    n = n + 1
    -- (a handover is a few table writes: the clock is read after the first, then every eighth)
    if n >= most or ((n == 1 or n % 8 == 0) and now() > stop_at) then return end
    id = eng:pop()
  end
end

--- Seconds of Lua work one host's `step` may do (a frame budget; default 0.15 ms):
-- handing finished transfers over and resuming ready coroutines stop once
-- it is spent (after at least one of each), or after HANDOVERS and RESUMES,
-- and the rest wait for the next step. The engine's own work has its budget
-- (`ENGINE_BUDGET`).
M.budget = 0.00015

--- The same budget for the steps of plain code that blocks (a blocking call,
-- `seedance.run`, `seedance.sleep`): no host frame waits on each of them (a
-- pause lasts as long as it was asked, however its steps share it), and they
-- step again at once, so each does more before the next (fewer steps for the
-- same work). A field that is missing or not a number is the host's value.
M.PUMP = { budget = 0.0003, handovers = 32, resumes = 32 }

-- A count of a budget: at least 1 (a step always does one of each, as documented), the host's
-- when it is no number.
local function count_of(n, host)
  if type(n) ~= "number" then n = host end
  return type(n) == "number" and n >= 1 and n or 1
end

-- Seconds of a budget: at least 0, the host's when it is no number (none at all: 0).
local function seconds_of(s, host)
  if type(s) ~= "number" then s = host end
  return type(s) == "number" and s > 0 and s or 0
end

-- The body of step (a named function: no closure is made per step); pump: a blocking
-- call's step (M.PUMP's budget), else a host's (M.budget, HANDOVERS, RESUMES).
local function step_body(timeout, pump)
  timeout = timeout or 0
  if doomed[1] then
    local ids = doomed
    doomed = {}
    for i = 1, #ids do M.cancel(ids[i]) end
  end
  if runner.has_ready() then timeout = 0 end
  local first = timeout > 0 and runner.first_timer()
  if first then
    timeout = math.max(0, math.min(timeout, first - now()))
  end
  if inflight_n > 0 or watchers_n > 0 then
    engine:step(math.floor(timeout * 1000 + 0.5))
  elseif timeout > 0 then
    core.sleep(timeout)
  end
  local budget, handovers, resumes = M.budget, M.HANDOVERS, M.RESUMES
  local p = pump and M.PUMP
  if type(p) == "table" then budget, handovers, resumes = p.budget, p.handovers, p.resumes end
  local stop_at = now() + seconds_of(budget, M.budget)
  dispatch(stop_at, count_of(handovers, M.HANDOVERS))
  runner.fire_timers()
  -- Resume what was ready when the step began, within the frame budget; the
  -- rest (and what these resumes make ready) waits in the queue for the next step.
  runner.resume_ready(stop_at, count_of(resumes, M.RESUMES))
end

-- One step, never from inside another (a host's, or with pump a blocking call's).
local function step_once(timeout, pump)
  if stepping then error("seedance.step called from inside a step", 3) end
  stepping = true
  local ok, err = pcall(step_body, timeout, pump)
  stepping = false
  if not ok then error(err, 0) end
end

--- Pump once: run IO for at most `timeout` seconds (0 never blocks), hand
-- finished transfers over, fire due timers, and resume the coroutines that
-- became ready, within `M.budget` seconds of their work (the rest run at the
-- next step). Safe to call from any frame loop.
-- @tparam[opt=0] number timeout seconds to wait for IO at most
-- @treturn integer the number of managed coroutines still alive
function M.step(timeout)
  step_once(timeout, false)
  return runner.live()
end

--- The longest `timeout()` says (a day): a coroutine that sleeps for ever
-- (`sleep(math.huge)`, a wait with no deadline) gives a host a wait it can
-- hand to its own timer or poll (whole milliseconds in an int), never inf.
M.TIMEOUT_MAX = 86400

--- Seconds until the scheduler has work to do (0 when something is ready,
-- nil when nothing is pending at all; at most `TIMEOUT_MAX`); for hosts that
-- sleep between steps.
-- @treturn number|nil
function M.timeout()
  if runner.has_ready() then return 0 end
  -- (a timer whose pause already ended is dropped: runner.next_timer)
  local at = runner.next_timer()
  local t
  if at then t = math.max(0, at - now()) end
  if engine and (inflight_n > 0 or watchers_n > 0) then
    local ms = engine:timeout()
    if ms and ms >= 0 and (not t or ms / 1000 < t) then t = ms / 1000 end
    if not t then t = 1 end
  end
  if t and t > M.TIMEOUT_MAX then t = M.TIMEOUT_MAX end
  return t
end

--- The sockets a host event loop should watch, as `{ {fd, "r"|"w"|"rw"}, ... }`.
-- When one is ready, or `timeout()` elapses, call `step(0)`.
-- @treturn table
function M.sockets()
  if not engine then return {} end
  return engine:sockets()
end

-- ---- interrupts: Ctrl-C in a plain Lua script (seedance.interrupt says what is at stake) ----

--- Have `fn(report)` add what is at stake when a plain script is interrupted (`seedance.interrupt.on`).
-- @function on_interrupt
-- @tparam function fn
-- @local
M.on_interrupt = interrupt.on

--- Longest wait of one step while plain code blocks (a predicate that no
-- timer or transfer announces, a callback's flag say, is looked at this often).
M.BLOCK_SLICE = 0.05

-- Pump until pred() holds (the body of block_until).
local function pump_until(pred, deadline, wake_at)
  while not pred() do
    local wait = M.timeout() or M.BLOCK_SLICE
    if wait > M.BLOCK_SLICE then wait = M.BLOCK_SLICE end
    if wake_at and wake_at - now() < wait then wait = math.max(0, wake_at - now()) end
    if deadline then
      local left = deadline - now()
      if left <= 0 then return false end
      if left < wait then wait = left end
    end
    step_once(wait, true)
  end
  return true
end

--- Pump until `pred()` is true, blocking between steps (plain code only).
-- Each step waits until the next thing due: a timer, a transfer, `wake_at`
-- (when pred turns true by the clock alone, a plain sleep's end), the
-- deadline, and at most `BLOCK_SLICE`. Ctrl-C in a plain script (the
-- interpreter's "interrupted!") ends it with an `interrupted` error naming
-- every task paid for and every submit in flight, never a traceback from here.
-- @tparam function pred
-- @tparam[opt] number deadline absolute `core.now()` time to give up at
-- @tparam[opt] number wake_at absolute `core.now()` time at which pred may turn true with nothing else due
-- @treturn boolean whether pred became true
function M.block_until(pred, deadline, wake_at)
  if stepping then
    error("a blocking seedance call was made from inside seedance.step; "
      .. "run it in a coroutine with seedance.spawn instead", 3)
  end
  local ok, res = pcall(pump_until, pred, deadline, wake_at)
  if ok then return res end
  if interrupt.from_host(res) then
    local err = interrupt.error()
    error(compat.prints_error_objects and err or tostring(err), 0)
  end
  error(res, 0)
end

--- Pause for `seconds`: yields in a managed coroutine, blocks otherwise.
-- With a `token` (any table), `interrupt(token)` ends the pause early.
-- @tparam number seconds
-- @tparam[opt] table token
function M.sleep(seconds, token)
  if type(seconds) ~= "number" or seconds ~= seconds then
    errors.argerror(1, "sleep", "number of seconds expected, got " .. (seconds ~= seconds and "NaN" or type(seconds)))
  end
  local at = now() + math.max(0, seconds)
  if token and token.interrupted then return end
  local rec = current()
  if rec then
    rec.gen = rec.gen + 1
    runner.add_timer(at, rec)
    -- every coroutine pausing on the token (several submits of one client, say) is woken by interrupt
    runner.suspend_on(rec, token)
  else
    M.block_until(function() return now() >= at or (token ~= nil and token.interrupted == true) end, nil, at)
  end
end

--- End, now and for good, every pause made with this token (see `sleep`), each coroutine's; withdraw
-- every transfer waited for with it that has not been sent yet (see `wait_for`); and interrupt the
-- tokens linked to it (`link`).
-- @tparam table token
function M.interrupt(token)
  token.interrupted = true
  for rec, gen in pairs(token.sleepers or {}) do wake(rec, gen) end
  for id in pairs(token.sending or {}) do M.withdraw(id) end -- (a waiter's own wait_for drops its id later)
  for child in pairs(token.children or {}) do
    if not child.interrupted then M.interrupt(child) end
  end
end

--- Have `interrupt(parent)` interrupt `child` too (at once when parent already was). The parent holds
-- its children weakly: a child no longer in use goes with its call.
-- @tparam table parent
-- @tparam table child
function M.link(parent, child)
  local kids = parent.children
  if not kids then
    kids = setmetatable({}, { __mode = "k" })
    parent.children = kids
  end
  kids[child] = true
  if parent.interrupted then M.interrupt(child) end
end

local withdrawn = {} -- ids `withdraw` took back, until `withdrawn(id)` reads them

--- Take back transfer `id` if the engine has not sent any of it yet (an API call waiting for its
-- client's request window, or a 429's pause, or for a step to start it): its waiter wakes, and
-- `withdrawn(id)` says so once. A transfer on the wire is let finish.
-- @tparam integer id
-- @treturn boolean whether it was taken back
function M.withdraw(id)
  local w = inflight[id]
  if not (w and engine and engine:cancel(id, true)) then return false end
  inflight[id] = nil
  inflight_n = inflight_n - 1
  withdrawn[id] = true
  wake_waiter(w)
  return true
end

--- Whether `withdraw` took transfer `id` back (true once: the mark is cleared).
-- @tparam integer id
-- @treturn boolean
function M.withdrawn(id)
  local w = withdrawn[id] == true
  withdrawn[id] = nil
  return w
end

--- Wait until the engine has finished transfer (or job) `id`, or it was
-- cancelled: yields in a managed coroutine, blocks otherwise. The result
-- stays in the engine for the caller to read (`engine:take(id)`,
-- `engine:result(id)`; nil once cancelled). `opts.tick` (seconds) with
-- `opts.on_tick(id)` calls back periodically while waiting (for download progress).
-- @tparam integer id the engine's transfer id
-- @tparam[opt] table opts `tick`, `on_tick`, `track` (a set that holds the id while the transfer runs,
--   so its owner can cancel it), `token` (a pause token, see `sleep`: `interrupt(token)` withdraws the
--   transfer while none of it has been sent, see `withdraw`)
function M.wait_for(id, opts)
  inflight_n = inflight_n + 1
  local track = opts and opts.track
  if track then track[id] = true end
  local token = opts and opts.token
  if token then
    local sending = token.sending or {}
    token.sending = sending
    sending[id] = true
  end
  local tick = opts and opts.tick
  local rec = current()
  if rec then
    inflight[id] = BUSY
    while inflight[id] do
      inflight[id] = rec -- (only while suspended here: a wake for it is for this wait)
      rec.gen = rec.gen + 1
      if tick then runner.add_timer(now() + tick, rec) end
      suspend(rec)
      if inflight[id] then -- the tick: the transfer runs on
        inflight[id] = BUSY
        if tick then opts.on_tick(id) end
      end
    end
  else
    inflight[id] = BLOCKED
    local next_tick = tick and now() + tick
    M.block_until(function()
      if not inflight[id] then return true end
      if next_tick and now() >= next_tick then
        opts.on_tick(id)
        next_tick = now() + tick
      end
      return false
    end)
  end
  if track then track[id] = nil end
  if token then token.sending[id] = nil end
end

-- The result of a transfer cut off by `cancel`.
local function aborted_result(id)
  return { id = id, ok = false, kind = "aborted", error = "transfer cancelled", status = 0, headers = {} }
end
M.aborted_result = aborted_result

--- Start a transfer on the engine and wait for its result.
-- In a managed coroutine it yields; otherwise it blocks. `opts.tick` (seconds)
-- with `opts.on_tick(id)` calls back periodically while waiting (for download
-- progress).
-- @tparam table spec the engine's transfer spec
-- @tparam[opt] table opts `tick`, `on_tick`, `track` (a set that holds the id while the transfer runs,
--   so its owner can cancel it)
-- @treturn table the engine's result
function M.transfer(spec, opts)
  return M.await(M.engine():add(spec), opts)
end

--- File work on the engine's worker thread, off the host's frame: `op = "hash"` (`path`, `max`: FNV-1a
-- of the file's first max bytes, never through a link), `"append"` (`file`, a held `core.lock`, and
-- `data`: written at its end and synced to disk), `"read"` (`file`, `max`: what it holds), `"remove"`
-- (`path`: a file or a link itself, none there is no error) and `"replace"` (`path` moved onto `to`),
-- which free a large file's blocks. Yields in a managed coroutine, blocks otherwise; a step only
-- collects what the worker finished.
-- @tparam table spec
-- @treturn table the result: `ok`, `hash` or `data`, `error`
function M.job(spec)
  return M.await(M.engine():job(spec))
end

--- Let the other coroutines and the host's frame go on: in a managed coroutine, resume at the next
-- step (the rest of a long piece of Lua work waits a frame); in plain code, nothing.
function M.pass()
  if current() then coroutine.yield() end
end

--- Wait for the result of the engine's transfer or job `id` (see `transfer`).
-- @tparam integer id
-- @tparam[opt] table opts as for `transfer`
-- @treturn table the engine's result
function M.await(id, opts)
  M.wait_for(id, opts)
  return engine:result(id) or aborted_result(id)
end

--- Abort a transfer in flight (its waiter then finds no result: `aborted`),
-- or end a watch (its waiter is woken).
-- @tparam integer id
function M.cancel(id)
  if inflight[id] then
    local w = inflight[id]
    inflight[id] = nil
    inflight_n = inflight_n - 1
    if engine then engine:cancel(id) end
    wake_waiter(w)
  elseif watchers[id] then
    M.unwatch(id)
  end
end

--- Ask for a transfer to be aborted (or a watch ended) at the next step; safe from a finalizer.
-- @tparam integer id
function M.cancel_later(id)
  doomed[#doomed + 1] = id
end

--- Route the events of watch `id` (see `engine:watch`) to a waiter: the
-- running managed coroutine (which waits with `wait_event`: woken only while
-- suspended there; an event that comes while it does something else waits in
-- the engine, where `wait_event` looks first), a sink
-- `function(id)` called inside the step for each event (it must neither
-- yield nor raise), or, in plain code, nobody (`wait_event` blocks).
-- @tparam integer id
-- @tparam[opt] function sink
function M.watch(id, sink)
  watchers[id] = sink or (current() and BUSY) or BLOCKED
  watchers_n = watchers_n + 1
end

--- End watch `id`: the engine stops polling, and its waiter is woken (a sink is called).
-- @tparam integer id
function M.unwatch(id)
  local w = watchers[id]
  if w == nil then return end
  watchers[id] = nil
  watchers_n = watchers_n - 1
  if engine then engine:cancel(id) end
  if type(w) == "function" then w(id) else wake_waiter(w) end
end

--- Wait until watch `id` has an event for its waiter (or has ended): yields
-- in a managed coroutine, blocks otherwise. The event stays in the engine
-- (`engine:event(id)`, `engine:take(id)`).
-- @tparam integer id
function M.wait_event(id)
  local eng = engine
  local rec = current()
  if rec then
    if watchers[id] and not eng:event(id) then
      watchers[id] = rec -- (only while suspended here)
      rec.gen = rec.gen + 1
      suspend(rec)
      if watchers[id] then watchers[id] = BUSY end
    end
  else
    M.block_until(function() return watchers[id] == nil or eng:event(id) ~= nil end)
  end
end

--- A condition for coroutines to wait on until a predicate holds (slots of a
-- governor, say). `wait(pred, deadline)` yields in a managed coroutine and
-- blocks in plain code, and returns false if the deadline (absolute `now()`
-- time) comes first; `notify(n)` wakes the n longest waiters (every one when n
-- is nil) to re-check their predicate.
-- @function condition
-- @treturn table with `wait(pred, deadline)` and `notify(n)`
M.condition = runner.condition

--- Run `fn(...)` in a managed coroutine and pump until it and every other
-- managed coroutine have finished. Returns what fn returned; raises what fn raised.
-- @tparam function fn
function M.run(fn, ...)
  errors.checkarg(fn, "function", 1, "run")
  if current() then
    error("seedance.run called inside seedance.run; use seedance.spawn", 2)
  end
  local h = M.spawn(fn, ...)
  h.joined = true
  M.block_until(function() return runner.live() == 0 end)
  if not h.ok then error(h.error, 0) end
  return compat.unpack(h.results, 1, h.results.n)
end

--- Whether the running code is in a coroutine this scheduler manages.
-- @treturn boolean
function M.in_coroutine()
  return current() ~= nil
end

--- Replace the handler called with errors of spawned coroutines nobody waits on.
-- @tparam function|nil fn receives the error (with traceback); nil restores the default
function M.set_error_handler(fn)
  runner.set_error_handler(fn)
end

--- Counts for diagnostics: managed coroutines alive, transfers in flight, timers pending.
-- @treturn table
function M.stats()
  local live, timers, ready = runner.counts()
  return { coroutines = live, transfers = inflight_n, watches = watchers_n, timers = timers, ready = ready }
end

runner.set_blocker(M.block_until)

M.now = now
return M

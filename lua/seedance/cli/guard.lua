--- Interrupts and the progress ticker: the command's work runs under
-- `seedance.run` beside a watchdog coroutine that looks for a caught SIGINT,
-- SIGTERM or SIGHUP every `POLL` seconds (`core.trap_signals`,
-- `core.caught_signal`), the first one and a second one alike (a third takes
-- the signal's default action in C, for a command that is stuck).
--
-- What an interrupt does depends on what the work is doing, which it tells
-- the guard with `guard:phase(name, task)`:
--
-- - "submit": the command's `on_submit(sig, count)` decides (a submit not
--   sent yet, or pausing between attempts, stops at once; one on the wire is
--   let finish, so the task it may pay for is named, and its Idempotency-Key is
--   printed first, so a second signal never leaves a billed task unnamed);
-- - "wait", "download": the task handle is closed, which aborts its transfers
--   (a download's `.part` stays for a resume); the command's call returns an
--   `aborted` error and the command reports the interrupt;
-- - "batch": the guard's `on_interrupt(sig)` is called (the batch stops
--   submitting, lets a submit in flight finish, and ends its waits), and the
--   batch reports the interrupt when it has wound down;
-- - anything else ("idle"): nothing is at stake, the command stops at once.
--
-- While the work runs, a second coroutine calls `show:tick()` every
-- `progress.TICK` seconds so the bar moves between polls.
-- @module seedance.cli.guard
-- @local

local core = require("seedance.core")
local progress = require("seedance.progress")
local seedance = require("seedance")

local M = {}

--- Seconds between two looks for a signal.
M.POLL = 0.05

local Guard = {}
Guard.__index = Guard

--- Say what the work is doing now; returns false when a signal has already
-- come (the work must stop instead of starting this phase).
-- @tparam string name "submit", "wait", "download" or "idle"
-- @tparam[opt] seedance.Task task the task a "wait" or "download" closes on a signal
-- @treturn boolean
function Guard:phase(name, task)
  self.name, self.task = name, task
  return self.signal == nil
end

-- What the watchdog does when a signal has come (count: how many have come so far).
function Guard:_on_signal(sig, count)
  self.signal = self.signal or sig
  if self.name == "submit" and self.on_submit then
    self.on_submit(self.signal, count)
  elseif (self.name == "wait" or self.name == "download") and self.task then
    self.task:close()
  elseif self.name == "batch" and self.on_interrupt then
    self.on_interrupt(sig)
  elseif self.name ~= "submit" then
    self.stop_now(self.signal)
  end
end

--- Trap SIGINT, SIGTERM and SIGHUP for the rest of the process (once).
function M.trap()
  if not M.trapped then
    core.trap_signals()
    M.trapped = true
  end
end

--- Run `work(guard)` under `seedance.run` with the watchdog and, on a
-- terminal, the ticker redrawing `show`.
-- @tparam function work called with the guard; its results are returned
-- @tparam table opts `show` (a progress display or nil), `stop_now(sig)` (called for an interrupt
--   in an "idle" phase; it should exit the process), `on_submit(sig, count)` (called for each signal
--   in the "submit" phase; without it the submit is let finish)
-- @return work's results; raises what work raised
function M.run(work, opts)
  M.trap()
  local guard = setmetatable({ name = "idle", stop_now = opts.stop_now, on_submit = opts.on_submit }, Guard)
  local results
  seedance.run(function()
    local job = seedance.spawn(work, guard)
    seedance.spawn(function()
      local seen = 0
      while not job.done do
        local sig, count = core.caught_signal()
        if sig and count > seen then
          seen = count
          guard:_on_signal(sig, count)
        end
        seedance.sleep(M.POLL)
      end
    end)
    if opts.show and opts.show.tty then
      seedance.spawn(function()
        while not job.done do
          opts.show:tick()
          seedance.sleep(progress.TICK)
        end
      end)
    end
    results = { job:wait() }
    results.ok, results.error = job.ok, job.error
  end)
  if not results.ok then error(results.error, 0) end
  return guard, results[1]
end

return M

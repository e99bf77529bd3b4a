--- The per-client concurrency governor.
--
-- Two limits: at most `max_in_flight` tasks submitted and not finished (a
-- slot is taken before a submit and given back when the task ends or its
-- handle closes), kept here; and a window of concurrent API requests that
-- halves on every 429 and grows by one on each success (additive increase,
-- multiplicative decrease), kept by the engine with the client's profile
-- (`src/engine_sched.c`), so that the polls the engine makes on its own go
-- through it too. A 429 also pauses every sender of the client until its
-- Retry-After (or backoff) has passed, so they back off together instead of
-- each hammering the service on its own: `pause` hands that to the engine.
-- @module seedance.governor

local scheduler = require("seedance.scheduler")

local M = {}

local Governor = {}
Governor.__index = Governor

--- Make a governor.
-- @tparam table opts `max_in_flight` (default unlimited), `profile` (the client's engine profile,
--   which holds the request window), `enabled` (false turns the 429 coordination off)
function M.new(opts)
  return setmetatable({
    max_in_flight = opts.max_in_flight or math.huge,
    in_flight = 0,
    profile = opts.profile,
    enabled = opts.enabled ~= false,
    slots = scheduler.condition(),   -- waiters for a task slot
  }, Governor)
end

--- Wait for a task slot, then take it.
-- @tparam[opt] number deadline absolute `scheduler.now()` time to give up at
-- @tparam[opt] table token a `scheduler.sleep` token: once interrupted, the wait gives up
-- @treturn boolean whether a slot was taken (false: the deadline came first, or the token was interrupted)
function Governor:acquire_task(deadline, token)
  if self.in_flight >= self.max_in_flight then
    if not self.slots.wait(function() return self.in_flight < self.max_in_flight end, deadline, token) then
      return false
    end
  end
  self.in_flight = self.in_flight + 1
  return true
end

--- Give a task slot back.
function Governor:release_task()
  self.in_flight = self.in_flight - 1
  self.slots.notify(1) -- one slot: one waiter (the longest)
end

--- A 429 asked for a pause of `seconds`: every sender of the client waits it out.
-- @tparam number seconds
function Governor:pause(seconds)
  if not self.enabled then return end
  self.profile:pause(seconds)
end

--- The request window as it stands: `{ active, window, throttled (429s seen), waiting, paused (seconds) }`.
-- @treturn table
function Governor:stats()
  return self.profile:stats()
end

return M

--- The per-client concurrency governor.
--
-- Two limits: at most `max_in_flight` tasks submitted and not finished (a
-- slot is taken before a submit and given back when the task ends or its
-- handle closes), and a window of concurrent API requests that halves on
-- every 429 and grows by one on each success (additive increase,
-- multiplicative decrease). A 429 also pauses every sender of the client
-- until its Retry-After (or backoff) has passed, so they back off together
-- instead of each hammering the service on its own.
-- @module seedance.governor

local scheduler = require("seedance.scheduler")

local M = {}

local Governor = {}
Governor.__index = Governor

--- Make a governor.
-- @tparam table opts `max_in_flight` (default unlimited), `max_requests` (request window cap,
--   default 64), `enabled` (false turns the 429 coordination off)
function M.new(opts)
  local max_requests = opts.max_requests or 64
  return setmetatable({
    max_in_flight = opts.max_in_flight or math.huge,
    in_flight = 0,
    max_requests = max_requests,
    window = max_requests,
    active = 0,
    pause_until = 0,
    enabled = opts.enabled ~= false,
    throttled = 0,            -- 429s seen
    slots = scheduler.condition(),   -- waiters for a task slot
    room = scheduler.condition(),    -- waiters for room in the request window
  }, Governor)
end

--- Wait for a task slot, then take it.
-- @tparam[opt] number deadline absolute `scheduler.now()` time to give up at
-- @treturn boolean whether a slot was taken (false: the deadline came first)
function Governor:acquire_task(deadline)
  if self.in_flight >= self.max_in_flight then
    if not self.slots.wait(function() return self.in_flight < self.max_in_flight end, deadline) then
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

--- Before an API request: wait out a shared pause, then for room in the window.
-- @tparam[opt] number deadline absolute time to give up at
-- @tparam[opt] function nap the caller's pause (`nap(seconds)`, ending early when the caller is
--   stopped: a task closed, say); default `scheduler.sleep`
-- @tparam[opt] function stopped true when the caller was stopped: the shared pause is not waited out
-- @treturn boolean|nil true, or nil and the seconds still to wait when the deadline comes first (or 0 when
--   the caller was stopped)
function Governor:before_request(deadline, nap, stopped)
  if not self.enabled then return true end
  -- another sender's 429 may lengthen the pause while this one waits: re-check
  while scheduler.now() < self.pause_until do
    if stopped and stopped() then return nil, 0 end
    local pause = self.pause_until - scheduler.now()
    if deadline and scheduler.now() + pause > deadline then return nil, pause end
    if nap then nap(pause) else scheduler.sleep(pause) end
  end
  if self.active >= math.floor(self.window) then
    if not self.room.wait(function() return self.active < math.floor(self.window) end, deadline) then
      return nil, 0
    end
  end
  self.active = self.active + 1
  return true
end

--- After an API request, with its HTTP status (0 for a transport failure).
-- @tparam integer status
function Governor:after_request(status)
  if not self.enabled then return end
  self.active = self.active - 1
  if status == 429 then
    self.throttled = self.throttled + 1
    self.window = math.max(1, self.window / 2)
  elseif status > 0 and status < 400 then
    self.window = math.min(self.max_requests, self.window + 1)
  end
  local free = math.floor(self.window) - self.active
  if free > 0 then self.room.notify(free) end -- as many waiters as there is room
end

--- A 429 asked for a pause of `seconds`: every sender of the client waits it out.
-- @tparam number seconds
function Governor:pause(seconds)
  if not self.enabled then return end
  local until_ = scheduler.now() + seconds
  if until_ > self.pause_until then self.pause_until = until_ end
end

return M

--- How far along a task is between the service's answers: the estimate
-- behind `Task:progress_at`, which a game's HUD reads every frame and the
-- command's bar every redraw. Polls come seconds apart (up to 30 s on the real
-- service); the estimate moves on between them.
--
-- - From the progress rate seen so far (the first report above 0 % to the
--   latest change), else from `estimated_time` (service seconds, times
--   `time_scale`: wall seconds) and the time since the task began; but with
--   one report above 0 % that the estimate is missing or does not agree
--   with, from the pace since the task began (when that is known: its
--   submit was seen, or its `created` time says).
-- - Never less than the service reported, never less than an earlier reading
--   (it never runs backwards, whatever the clock or the answers do), at most
--   99 before the task has completed, 100 once it has.
-- - The ETA is in wall seconds, nil once the task has ended and nil when
--   nothing tells (past the estimate with no rate to go by).
-- - Cheap: a reading is a few arithmetic operations, no clock, no IO, no
--   allocation; the caller passes its `now`.
--
-- Pure (clock readings come in as arguments): `spec/unit/estimate_spec.lua`
-- checks it with a clock the spec moves.
-- @module seedance.estimate
-- @local

local M = {}

--- The highest percent shown before the task has completed.
M.CAP = 99

--- How far (a share of its length) a report may stand from the service's estimate and the
-- estimate still be believed: a report of 40 % at 25 s of a 30 s estimate (due at 12 s) is not.
M.AGREE = 0.1

--- Seconds a task's `created` time must say beyond what this handle saw before it is believed
-- (it is whole seconds on the service's clock).
M.CREATED_SLACK = 2

local ENDED = { completed = true, failed = true, cancelled = true }

local Estimate = {}
Estimate.__index = Estimate

--- A new estimate.
-- @tparam number start monotonic seconds at which the task began, as far as the caller knows
--   (its submit; for a task met by its id: when its handle was made)
-- @tparam[opt=1] number scale wall seconds per service second (`time_scale`)
-- @tparam[opt] boolean met the task was met by its id (after a restart), not seen submitted: its
--   `created` time may say when it began (a task seen submitted ignores `created`, so a wall
--   clock set wrong cannot move its estimate)
-- @treturn table the estimate
function M.new(start, scale, met)
  -- `sure`: start is when the task began (its submit was seen, or its created time said so); the
  -- fields `observe` sets are named too, so the table is made at its size once, not grown by the first answer
  return setmetatable({ start = start, scale = scale or 1, met = met or nil, sure = not met, shown = 0,
    status = nil, estimated = nil, last_t = nil, last_p = nil, first_t = nil, first_p = nil }, Estimate)
end

--- Note what an answer said about the task.
-- @tparam number now monotonic seconds when the answer came
-- @tparam string|nil status
-- @tparam number|nil progress percent as reported
-- @tparam number|nil estimated the task's `estimated_time` (service seconds)
-- @tparam[opt] number created the task's `created` time (unix seconds)
-- @tparam[opt] number wall the wall clock now (unix seconds); with `created`, for a task met by
--   its id, the task began `wall - created` seconds ago when that says clearly more than `now - start`
function Estimate:observe(now, status, progress, estimated, created, wall)
  local p = tonumber(progress) or 0
  p = math.floor(math.max(0, math.min(100, p == p and p or 0)))
  if status == "completed" then p = 100 end
  self.status = status
  self.estimated = tonumber(estimated)
  if self.met and created and wall then
    local since = wall - created
    if since > now - self.start + M.CREATED_SLACK then self.start, self.sure = now - since, true end
  end
  if self.last_p ~= p then
    self.last_t, self.last_p = now, p
    if p > 0 and not self.first_t then self.first_t, self.first_p = now, p end
  end
end

--- Percent per wall second seen so far (from the first report above 0 to the latest change), or nil.
-- @treturn number|nil
function Estimate:rate()
  local a, b = self.first_t, self.last_t
  if a and b > a and self.last_p > self.first_p then return (self.last_p - self.first_p) / (b - a) end
  return nil
end

--- Percent per wall second since the task began, from its report above 0 %, when that is all
-- there is to go by: the task's start is known, and the service's estimate is missing or disagrees
-- with the report (by more than `AGREE` of its length in time); else nil.
-- @tparam number|nil est the task's `estimated_time` (service seconds)
-- @treturn number|nil
function Estimate:pace(est)
  local p, t = self.last_p or 0, self.last_t
  if p <= 0 or not self.sure or t <= self.start then return nil end
  local since = t - self.start
  if est and est > 0 then
    local whole = est * self.scale
    if math.abs(since - whole * p / 100) <= whole * M.AGREE then return nil end
  end
  return p / since
end

--- The estimate at `now`.
-- @tparam number now monotonic seconds
-- @treturn number percent, in [0, 100]
-- @treturn number|nil wall seconds left
function Estimate:at(now)
  local status, reported = self.status, self.last_p or 0
  if status == "completed" then
    self.shown = 100
    return 100, nil
  end
  if ENDED[status] then return self.shown, nil end
  local p, eta = reported, nil
  local rate = self:rate()
  local est = self.estimated
  local pace = not rate and self:pace(est)
  if rate then
    p = reported + rate * (now - self.last_t)
    if p < M.CAP then eta = (100 - p) / rate end
  elseif pace then
    -- one report so far, which the service's estimate is missing or does not agree with (an estimate
    -- shorter than the task would run to 99 and stay there): the pace since the task began
    p = reported + pace * (now - self.last_t)
    if p < M.CAP then eta = (100 - p) / pace end
  elseif est and est > 0 then
    local whole, elapsed = est * self.scale, now - self.start
    p = 100 * elapsed / whole
    if elapsed < whole then eta = whole - elapsed end
  end
  p = math.min(math.max(p, reported), M.CAP)
  if p > self.shown then self.shown = p end
  return self.shown, eta
end

return M

--- When to poll a task next: a pure decision (what has been seen in, seconds
-- out), specced on its own (spec/unit/polling_spec.lua) and used by `Task:wait`.
--
-- The aim: see a task done within `max(2 s, 5% of its duration)` of its end,
-- with few requests, even when the service's `estimated_time` is several
-- times too long (it was seen answering 600 for a task that took 155 s) and
-- its progress comes in coarse steps.
--
-- - **Safe interval**: never sleep more than `max(LAG_FLOOR, LAG_SHARE *
--   elapsed)` when the task could be ending: since it has run at least
--   `elapsed`, that bounds the lag to 5% of its duration (2 s for short ones).
-- - **Earliest end**: sleep past the safe interval only until the earliest
--   time the task can end: `estimated_time / ESTIMATE_SLACK` (the estimate is
--   taken to be at most that many times too long), and the time the progress
--   still missing would take at the fastest rate the last two polls allow
--   (progress read as rounded down to its step; both polls past 0%).
-- - Always within the client's `poll_min` .. `poll_max`.
-- All times are on the service's clock (the caller applies time_scale).
-- @module seedance.polling

local M = {}

--- Seconds of lag allowed for any task.
M.LAG_FLOOR = 2
--- Share of a task's duration allowed as lag.
M.LAG_SHARE = 0.05
--- How many times too long the service's estimate is taken to be, at most.
M.ESTIMATE_SLACK = 4

--- The next poll's delay.
-- @tparam table s what was seen (see `observe`): `elapsed` (seconds the task has run), `progress`
--   (0..100), `prev_elapsed` and `prev_progress` (the poll before), `progress_step` (smallest step seen)
-- @tparam number|nil estimated_time the service's estimate of the whole task, in seconds
-- @tparam number poll_min
-- @tparam number poll_max
-- @treturn number seconds
function M.delay(s, estimated_time, poll_min, poll_max)
  local t = s.elapsed
  local delay = M.LAG_SHARE * t
  if delay < M.LAG_FLOOR then delay = M.LAG_FLOOR end
  local earliest = estimated_time and estimated_time / M.ESTIMATE_SLACK or 0
  local p, pp = s.progress, s.prev_progress
  if p and pp and pp > 0 and s.progress_step and s.prev_elapsed and t > s.prev_elapsed and p >= pp then
    -- progress seen as p rounded down to its step: the true gain since the last poll is below
    -- p - pp + step. Only from a poll that already saw progress: a task queued (0%) before it
    -- starts makes the rate from a 0% poll too slow, and the end too late.
    local rate = (p - pp + s.progress_step) / (t - s.prev_elapsed)
    local left = 100 - p - s.progress_step
    if left > 0 and t + left / rate > earliest then earliest = t + left / rate end
  end
  if earliest - t > delay then delay = earliest - t end
  if delay < poll_min then delay = poll_min end
  if delay > poll_max then delay = poll_max end
  return delay
end

--- Fold one poll's progress into the observation state `o` (a table the task
-- keeps): remembers the previous poll and the smallest progress step seen.
-- @tparam table o `{ elapsed, progress, prev_elapsed, prev_progress, progress_step }`, updated in place
-- @tparam number elapsed
-- @tparam number|nil progress
function M.observe(o, elapsed, progress)
  if o.progress and progress and progress > o.progress then
    local d = progress - o.progress
    if not o.progress_step or d < o.progress_step then o.progress_step = d end
  end
  o.prev_elapsed, o.prev_progress = o.elapsed, o.progress
  o.elapsed, o.progress = elapsed, progress
end

return M

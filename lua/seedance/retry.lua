--- The one retry and deadline policy of every network call: submit, poll,
-- upload, balance and download.
--
-- After a failed attempt: an error that is not retryable ends the call; so
-- does the last of `max_retries` retries. Otherwise the pause is the server's
-- Retry-After when it sent one (seconds of its wall clock), else exponential
-- backoff with full jitter (scaled by `time_scale`). A Retry-After longer than
-- `max_retry_after`, or any pause that would end past the caller's deadline,
-- ends the call at once with the server's error (carrying `retry_after`):
-- never a sleep past the deadline, never a request sooner than the server
-- asked. A 429 pauses every sender of the client together (the governor).
-- `on_retry(err, attempt, delay)` is told before each pause; if it raises,
-- the call ends with a `callback_error`.
-- @module seedance.retry

local errors = require("seedance.errors")
local numbers = require("seedance.numbers")
local scheduler = require("seedance.scheduler")

local M = {}

local Policy = {}
Policy.__index = Policy

--- Make the policy of a client.
-- @tparam table settings the client's resolved options (`max_retries`, `backoff`, `max_backoff`,
--   `max_retry_after`, `time_scale`, `on_retry`)
-- @tparam table governor the client's governor (`pause`)
-- @tparam[opt] function log `log(level, fmt, ...)`
-- @treturn table the policy
function M.new(settings, governor, log)
  return setmetatable({
    max_retries = settings.max_retries, base = settings.backoff, cap = settings.max_backoff,
    max_retry_after = settings.max_retry_after, time_scale = settings.time_scale,
    on_retry = settings.on_retry, governor = governor, log = log or function() end,
  }, Policy)
end

--- Our own pause before retry number `attempt` (1-based): exponential with
-- full jitter, capped, in wall seconds (scaled by time_scale).
-- @tparam integer attempt
-- @treturn number seconds
function Policy:backoff(attempt)
  local base = self.base * 2 ^ (attempt - 1)
  if base > self.cap then base = self.cap end
  return (base / 2 + math.random() * base / 2) * self.time_scale
end

-- The error a call ends with when its pause would pass the deadline.
local function past_deadline(err, delay, left)
  err.message = string.format("%s; the next try would wait %s s, past the deadline (%s s left)",
    err.message, numbers.format("%.3g", delay), numbers.format("%.3g", math.max(0, left)))
  return nil, err
end

--- The pause before the next try after failed attempt number `attempt`
-- (1-based): the server's Retry-After when it sent one, else our backoff. The
-- one rule of every wait between tries (submit, poll, upload, balance, a
-- download, a task re-read for its URL): never a request sooner than the
-- server asked, and a server's wait that cannot be honoured (longer than
-- `max_retry_after`, or ending past the deadline) ends the call at once.
-- A backoff of our own is not held to the deadline here (a caller may cut it
-- short and end with its own timeout); `delay` is.
-- @tparam seedance.Error err the attempt's error (`retry_after`)
-- @tparam integer attempt
-- @tparam[opt] number deadline absolute `scheduler.now()` time the call must end by
-- @treturn[1] number seconds to wait
-- @treturn[2] nil
-- @treturn[2] seedance.Error err, its message saying why the call ends
function Policy:pause(err, attempt, deadline)
  local server = err.retry_after
  if not server then return self:backoff(attempt) end
  if server > self.max_retry_after then
    err.message = string.format("%s; the service asked to wait %s s before retrying, more than "
      .. "max_retry_after (%s s)", err.message, numbers.format("%g", server),
      numbers.format("%g", self.max_retry_after))
    return nil, err
  end
  -- Retry-After is the server's wall clock; only our own backoff follows time_scale
  if deadline then
    local left = deadline - scheduler.now()
    if server > left then return past_deadline(err, server, left) end
  end
  return server
end

--- What to do after failed attempt number `attempt` (1-based): the pause
-- before the next one (`pause`, held to the deadline), or nil and the error
-- the call ends with.
-- @tparam seedance.Error err the attempt's error (`retryable`, `retry_after`, `status`)
-- @tparam integer attempt
-- @tparam[opt] number deadline absolute `scheduler.now()` time the call must end by
-- @tparam[opt] number max_retries this call's retry limit (default the client's)
-- @treturn[1] number seconds to wait
-- @treturn[2] nil
-- @treturn[2] seedance.Error
function Policy:delay(err, attempt, deadline, max_retries)
  err.attempts = attempt
  if not err.retryable then return nil, err end
  if attempt > (max_retries or self.max_retries) then return nil, err end
  local delay, perr = self:pause(err, attempt, deadline)
  if not delay then return nil, perr end
  if deadline then
    local left = deadline - scheduler.now()
    if delay > left then return past_deadline(err, delay, left) end
  end
  if err.status == 429 then self.governor:pause(delay) end
  if self.on_retry then
    local ok, cerr = scheduler.protect(self.on_retry, err, attempt, delay)
    if not ok then
      return nil, errors.new{ type = "callback_error", message = "on_retry raised: " .. tostring(cerr) }
    end
  end
  self.log("info", "retry %d in %s s: %s", attempt, numbers.format("%.3g", delay), err.message)
  return delay
end

--- Seconds left before an absolute deadline (nil: none), never below 0.
-- @tparam number|nil deadline
-- @treturn number|nil
function M.left(deadline)
  if not deadline then return nil end
  local left = deadline - scheduler.now()
  return left > 0 and left or 0
end

--- The `timeout_error` of a call whose deadline passed.
-- @tparam string what the call, for the message ("submit", "wait for task ...")
-- @tparam[opt] seedance.Error last the last error seen, kept as `last_error`
-- @treturn seedance.Error
function M.timeout_error(what, last)
  return errors.new{ type = "timeout_error", retryable = true, last_error = last,
    message = what .. ": the deadline passed" .. (last and (" (last error: " .. tostring(last.message) .. ")") or "") }
end

return M

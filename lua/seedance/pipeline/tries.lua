--- An item's tries, for `seedance.pipeline.fanout` (map's and the batch
-- command's engine) and the batch command's plan: submitting one item (a
-- submit that may have made a task behind a lost answer is tried again under
-- the same Idempotency-Key, so a task paid for lands in its item), and what
-- the journal says of an earlier try (failed, refused for sensitive content,
-- worth a new try or a re-run) with the error it recorded.
-- @module seedance.pipeline.tries
-- @local

local errors = require("seedance.errors")
local scheduler = require("seedance.scheduler")

local M = {}

--- Rounds of an item's submit: a submit that ends with an error the service may have made a
-- task behind (`maybe_paid`: its answers were lost, or were 5xx) is tried again under that
-- same key (`idempotency_key`), up to this many times in all, so a task the service made and
-- billed lands in its item (the service answers the key with it) instead of being paid for
-- again by a later run. An item that still fails carries the key in its error.
M.SUBMIT_ROUNDS = 3

--- Whether an item's submit that ended with err is worth another round under its key.
-- @tparam[opt] seedance.Error err
-- @treturn boolean
local function resubmit(err)
  return err ~= nil and err.idempotency_key ~= nil and err.maybe_paid == true
end
M.resubmit = resubmit

--- Submit one item: generate(request, gopts), and again under the same Idempotency-Key while
-- `resubmit` says so (at most SUBMIT_ROUNDS in all; `stopped()` ends it early), with the client's
-- longest backoff between rounds. Returns as `scheduler.protect` does: ok (false: generate raised),
-- then the task or nil and the error (which carries the key).
function M.submit_item(client, request, gopts, stopped)
  local ok, task, err = scheduler.protect(client.generate, client, request, gopts)
  for _ = 2, M.SUBMIT_ROUNDS do
    if not ok or task or not resubmit(err) or client.closed or (stopped and stopped()) then break end
    local s = client.settings
    scheduler.sleep(math.min(s.max_backoff, s.backoff * 2 ^ s.max_retries) * s.time_scale, gopts.cancel)
    if client.closed or (stopped and stopped()) then break end
    local g = {}
    for k, v in pairs(gopts) do g[k] = v end
    g.idempotency_key = err.idempotency_key
    ok, task, err = scheduler.protect(client.generate, client, request, g)
  end
  return ok, task, err
end

--- Whether a journal entry's try failed (its task failed, its submit was refused), and whether it was a
-- moderation failure.
-- @tparam table e the journal's entry
-- @treturn boolean
-- @treturn boolean
function M.failed_try(e)
  if e.refused then return true, e.refused.kind == "moderation" or (errors.moderation(e.refused)) end
  if e.task_id and (e.status == "failed" or e.status == "cancelled") then
    return true, (errors.moderation(type(e.error) == "table" and e.error or {}))
  end
  return false, false
end
local failed_try = M.failed_try

--- What would settle a failed item's journal entry (nil without one): "retry_failed" (its try failed, or
-- its result expired unsaved: `retry_failed` pays for a new try), "retry_moderated" (refused for sensitive
-- content: only with `retry_moderated` too), else "rerun" (a run again re-attaches and pays nothing again).
-- @tparam[opt] table e the journal's entry
-- @treturn string|nil
function M.again(e)
  if not e then return nil end
  local failed, moderated = failed_try(e)
  if moderated then return "retry_moderated" end
  if failed or (e.task_id and e.expired) then return "retry_failed" end
  return "rerun"
end

--- The error of a failed try as the journal recorded it (an earlier run's).
-- @tparam table e the journal's entry
-- @treturn seedance.Error
function M.recorded_failure(e)
  if e.refused then
    local r = e.refused
    return errors.classify(errors.new{ type = type(r.type) == "string" and r.type or "invalid_request_error",
      status = r.status, code = r.code, earlier = true, retryable = false,
      message = "refused by the service in an earlier run: " .. tostring(r.message or "no reason given") }, r)
  end
  local s = type(e.error) == "table" and e.error or {}
  return errors.classify(errors.new{ type = "task_failed", task_id = e.task_id, code = s.code, earlier = true,
    service_type = s.type, service_error = e.error, retryable = false,
    message = string.format("task %s %s (in an earlier run): %s", e.task_id, tostring(e.status),
      tostring(s.message or "no reason given")) }, s)
end

return M

--- HTTP calls to the service: one exchange at a time under the client's one
-- retry and deadline policy (`seedance.retry`), answers to errors.
-- Built on the scheduler's `transfer`, so every call blocks, yields or is
-- stepped the same way.
-- @module seedance.http

local core = require("seedance.core")
local errors = require("seedance.errors")
local json = require("seedance.json")
local numbers = require("seedance.numbers")
local retry = require("seedance.retry")
local scheduler = require("seedance.scheduler")

local M = {}

-- Error type by HTTP status when the body does not say (seedance.error_types).
local STATUS_TYPES = require("seedance.error_types").by_status

--- The error type for an HTTP status.
-- @tparam integer status
-- @treturn string
function M.status_type(status)
  return STATUS_TYPES[status] or (status >= 500 and "server_error") or "invalid_request_error"
end

--- Whether an HTTP status is worth retrying (429 and 5xx).
-- @tparam integer status
-- @treturn boolean
function M.retryable_status(status)
  return status == 429 or status >= 500
end

--- A short, printable excerpt of a body for messages.
-- @tparam string|nil body
-- @treturn string
function M.excerpt(body)
  if not body or body == "" then return "an empty body" end
  local s = body:sub(1, 120):gsub("%s+", " "):gsub("[%c\128-\255]", "?")
  if #body > 120 then s = s .. "..." end
  return '"' .. s .. '"'
end

--- The server's clock when it answered: its `Date` header (an HTTP date in
-- any of its three forms, read by libcurl's curl_getdate), else this
-- machine's `os.time()`. A value the server wrote against its own clock (an
-- HTTP date in Retry-After, a task's `created`) is measured against this, so
-- a server whose clock is off by minutes is still waited for as it asked.
-- @tparam[opt] table headers an answer's headers (lower-case names)
-- @treturn number unix seconds
function M.server_time(headers)
  local date = type(headers) == "table" and headers.date
  if type(date) == "string" then
    for one in date:gmatch("[^\n]+") do
      local t = core.getdate((one:match("^%s*(.-)%s*$")))
      if t then return t end
    end
  end
  return os.time()
end

--- Seconds a Retry-After header asks for: delta seconds (fractions rounded
-- up), or an HTTP date in any of its three forms (RFC 1123, RFC 850, asctime;
-- read by libcurl's curl_getdate), counted from `server_now`, the server's
-- clock when it answered (`server_time`). A header sent several times (values
-- joined by LF, as the engine gives them) counts by its longest ask. nil when
-- it says nothing usable. Read without the process's locale (no `tonumber` of
-- a fraction, which Lua 5.1 reads with the locale's decimal point).
-- @tparam string|nil value
-- @tparam[opt] number server_now unix time on the server's clock (default os.time())
-- @treturn number|nil
function M.retry_after(value, server_now)
  if type(value) ~= "string" then return nil end
  local longest
  for one in value:gmatch("[^\n]+") do
    one = one:match("^%s*(.-)%s*$")
    local n
    local whole, fraction = one:match("^(%d+)%.?(%d*)$")
    if whole then
      -- whole seconds, one more for any fraction; absurdly long stays long, and finite
      n = math.min(tonumber(whole) + (fraction:find("[1-9]") and 1 or 0), 1e12)
    else
      local at = core.getdate(one)
      if at then n = math.max(0, at - (server_now or os.time())) end
    end
    if n and n == n and (not longest or n > longest) then longest = n end
  end
  return longest
end

--- Decode a JSON answer. A body whose strings only are bad (half a UTF-16
-- surrogate pair, a stray byte) is repaired; a body that is not JSON (an HTML
-- page, a cut body) becomes a retryable error naming the status and its first bytes.
-- @tparam table r the engine's result
-- @treturn[1] table the decoded object
-- @treturn[2] nil
-- @treturn[2] seedance.Error with `undecodable = true`
function M.decode(r)
  local body = r.body or ""
  local obj = json.decode(body)
  if type(obj) ~= "table" and body:find("[\"\\\128-\255%c]") then obj = json.decode(core.json_repair(body)) end
  if type(obj) ~= "table" then
    return nil, errors.new{
      type = M.status_type(r.status >= 400 and r.status or 500), status = r.status,
      retryable = true, undecodable = true,
      message = string.format("HTTP %d answer is not the service's JSON (%s): %s", r.status,
        (r.headers and r.headers["content-type"]) or "no content type", M.excerpt(body)),
    }
  end
  return obj
end

--- Turn an HTTP error answer (status >= 400) into an error object, with the
-- seconds its Retry-After asks for as `retry_after`.
-- @tparam table r the engine's result
-- @treturn seedance.Error
function M.answer_error(r)
  local obj = json.decode(r.body or "")
  if type(obj) ~= "table" and r.body then obj = json.decode(core.json_repair(r.body)) end
  local e = type(obj) == "table" and type(obj.error) == "table" and obj.error or nil
  local fields = {
    status = r.status,
    type = M.status_type(r.status),
    retryable = M.retryable_status(r.status),
    retry_after = M.retry_after(r.headers and r.headers["retry-after"], M.server_time(r.headers)),
  }
  if e then
    if type(e.type) == "string" and e.type ~= "" then fields.type = e.type end
    if type(e.message) == "string" then fields.message = core.utf8_clean(e.message) end
    if type(e.code) == "number" and e.code == e.code then fields.code = e.code end
    -- a native code is a word (InputTextSensitiveContentDetected): kept, cut to a sane length
    if type(e.code) == "string" and e.code ~= "" then fields.code = core.utf8_clean(e.code):sub(1, 128) end
  end
  if not fields.message then
    fields.message = string.format("HTTP %d with %s (%s)", r.status, M.excerpt(r.body),
      (r.headers and r.headers["content-type"]) or "no content type")
  end
  -- content moderation (a 400 for sensitive content, say): kind = "moderation", never retried; a rate
  -- limit or a timeout is no verdict, whatever its words ("too many moderation requests": retried)
  local verdict = e and r.status ~= 408 and r.status ~= 429
  local service = verdict and { code = fields.code, type = e.type, message = fields.message } or {}
  return errors.classify(errors.new(fields), service)
end

-- Error type and retry by the engine's failure kind; the rest are network errors, retried.
local KINDS = {
  timeout = { "timeout_error", true },
  tls = { "tls_error", false },
  denied = { "unsafe_url", false },
  file = { "io_error", false },
  too_large = { "too_large", false },
  aborted = { "aborted", false },
  range_mismatch = { "network_error", true },
  redirects = { "server_error", false },
}

--- Turn a transport failure into an error object.
-- @tparam table r the engine's result (ok == false)
-- @treturn seedance.Error
function M.transport_error(r)
  local kind = r.kind or "other"
  local k = KINDS[kind] or { "network_error", true }
  local msg = tostring(r.error or "transfer failed")
  if kind == "tls" then
    msg = "TLS verification failed (" .. msg .. "); check ca_file, or the host name in the URL"
  end
  return errors.new{ type = k[1], retryable = k[2], kind = kind, message = msg .. " (" .. kind .. ")" }
end

--- How an API call's answer is read in C (`engine:api`'s shape): not at all,
-- a submit's task id, or a poll's task fields.
M.RAW, M.SUBMIT, M.TASK = 0, 1, 2

--- What an API call's finished transfer comes to, from `engine:take`'s values:
-- true and what the engine read from a clean answer; else false, the error
-- and whether the call never went out (its window refused it), or (with
-- `decode`) the answer decoded here (an odd body: repaired strings, say).
-- @tparam table ctx the client's context
-- @tparam string method
-- @tparam string path
-- @tparam boolean decode the answer is JSON to decode here when the engine did not read it
-- @tparam number t0 when the attempt began (for the log line)
-- @param ok, ... what `engine:take` gave: true, HTTP status, seconds, the fields; or false, the
--   engine's result; or nil (the transfer was cancelled)
-- @treturn[1] true
-- @return[1] true and the fields (a shape's clean answer), the decoded object and the result
--   (decode), or the result
-- @treturn[2] false
-- @treturn[2] seedance.Error
-- @treturn[2] boolean|nil true when nothing was sent
function M.settle(ctx, method, path, decode, t0, ok, a, _, ...)
  if ok then
    if ctx.logs then
      ctx.log("info", "%s %s -> %s in %s s", method, path, a, numbers.format("%.3f", scheduler.now() - t0))
    end
    return true, true, ...
  end
  local r = a or scheduler.aborted_result(0)
  if ctx.logs then
    ctx.log("info", "%s %s -> %s in %s s", method, path, r.ok and r.status or r.kind,
      numbers.format("%.3f", scheduler.now() - t0))
  end
  local err
  if r.kind == "paused" then
    -- the client's window was paused past the deadline (a 429's pause) or stayed full until it came
    local wait = r.wait or 0
    return false, errors.new{ type = "rate_limit_error", retryable = false, retry_after = wait,
      message = string.format("the client is backing off from the service's rate limit for %s s more, "
        .. "past the deadline", numbers.format("%.3g", wait)) }, true
  elseif r.kind == "deadline" then
    return false, retry.timeout_error(method .. " " .. path), true
  elseif not r.ok then
    err = M.transport_error(r)
  elseif r.status >= 400 then
    err = M.answer_error(r)
  elseif decode then
    local obj
    obj, err = M.decode(r)
    if obj then return true, obj, r end
  else
    return true, r
  end
  return false, ctx.redact_error(err)
end

-- The error of a call whose owner was stopped (a task closed, a client closed) before it tried again.
-- `when`: default "before the call tried again".
local function stopped_error(why, when)
  return errors.new{ type = "aborted", retryable = false, message = (type(why) == "string" and why or "stopped")
    .. " " .. (when or "before the call tried again") .. ": nothing more was sent" }
end

-- One attempt of an API call: true and the results, or false and the error.
-- The engine sends it through the client's request window (the governor), within its deadline. An
-- attempt still waiting there (a 429's pause) when its owner's token is interrupted is withdrawn: it
-- ends as stopped, with nothing sent.
local function attempt(ctx, method, path, body, key, shape, task_id, deadline, opt)
  local eng = scheduler.engine()
  local t0 = scheduler.now()
  local id = eng:api(ctx.profile, method, path, body, key, opt and opt.timeout, deadline, shape)
  scheduler.wait_for(id, opt and (opt.track or opt.token) and opt)
  if opt and opt.token and scheduler.withdrawn(id) then
    return false, stopped_error(opt.stopped and opt.stopped(), "while the request waited to be sent"), true
  end
  return M.settle(ctx, method, path, shape ~= 0 or (opt ~= nil and opt.decode), t0, eng:take(id, task_id))
end

local call_from

-- After attempt n: its results, or (a failure) the pause the retry policy
-- asks for and attempt n + 1 (tail calls: any number of results, no table).
local function after(ctx, method, path, body, key, shape, task_id, deadline, opt, n, ok, a, ...)
  if ok then return a, ... end
  local unsent = ...
  if opt and not unsent and not (a.status and a.status >= 400 and a.status < 500) then opt.unanswered = true end
  local delay, err = ctx.policy:delay(a, n, deadline, opt and opt.retry == false and 0 or nil)
  if not delay then return nil, err end
  if opt and opt.nap then opt.nap(delay) else scheduler.sleep(delay, opt and opt.token) end
  return call_from(ctx, method, path, body, key, shape, task_id, deadline, opt, n + 1)
end

-- Attempt n of a call, and what follows (nothing when its owner was stopped meanwhile).
function call_from(ctx, method, path, body, key, shape, task_id, deadline, opt, n)
  local why = opt and opt.stopped and opt.stopped()
  if why then return nil, stopped_error(why) end
  return after(ctx, method, path, body, key, shape, task_id, deadline, opt, n,
    attempt(ctx, method, path, body, key, shape, task_id, deadline, opt))
end

--- Perform one API call under the client's retry and deadline policy (the
-- hot paths' form: no table per call). When an attempt ends without a 4xx
-- answer (a transport error, a 5xx, an answer that is not the service's
-- JSON), `opt.unanswered` is set: the service may have done the work behind
-- it (for a submit: made and billed a task).
-- @tparam table ctx the client's context (`seedance.context`)
-- @tparam string method "GET" or "POST"
-- @tparam string path under the base URL
-- @param body the JSON text, a `form_file` table, or nil
-- @tparam[opt] string key the call's Idempotency-Key
-- @tparam integer shape `RAW`, `SUBMIT`, `TASK`: what the engine reads from a clean answer
-- @tparam[opt] string task_id the task a `TASK` answer must be about
-- @tparam[opt] number deadline absolute `scheduler.now()` time
-- @tparam[opt] table opt `timeout`, `decode` (a `RAW` answer is JSON), `retry` (false: one attempt),
--   `track`, `nap` (the pause between attempts; default scheduler.sleep on `token`; it may end early when its
--   owner is stopped), `stopped` (a function: what stopped the call's owner, a task or client closed, as a
--   string, else nil; a stopped call sends nothing more and ends with an `aborted` error), `token` (the
--   owner's pause token: interrupting it withdraws an attempt not sent yet); gets `unanswered`
-- @return[1] `true` and the fields the engine read (a shape's clean answer); else the decoded
--   object and the engine's result (decode, or a shape), or the engine's result
-- @treturn[2] nil
-- @treturn[2] seedance.Error
function M.request(ctx, method, path, body, key, shape, task_id, deadline, opt)
  return call_from(ctx, method, path, body, key, shape, task_id, deadline, opt, 1)
end

--- Perform one API call under the client's retry and deadline policy.
-- @tparam table ctx the client's context (`seedance.context`)
-- @tparam table req `method`, `path`, `body`, `key` (Idempotency-Key), `form_file`, `timeout`,
--   `decode`, `shape`, `task_id`, `deadline`, `retry`, `track`, `nap`, `stopped`, `token` (see `request`)
-- @return what `request` returns
function M.call(ctx, req)
  return call_from(ctx, req.method or "GET", req.path, req.body or req.form_file, req.key, req.shape or 0,
    req.task_id, req.deadline, req, 1)
end

--- Perform an API call and decode its JSON answer (see `call`).
-- @treturn[1] table the decoded object
-- @treturn[1] table the engine's result
-- @treturn[2] nil
-- @treturn[2] seedance.Error
function M.json(ctx, req)
  req.decode = true
  return M.call(ctx, req)
end

return M

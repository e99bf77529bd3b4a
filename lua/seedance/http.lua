--- HTTP calls to the service: request building, answers to errors, retries.
-- Built on the scheduler's `transfer`, so every call blocks, yields or is
-- stepped the same way.
-- @module seedance.http

local cjson = require("cjson.safe")
local errors = require("seedance.errors")
local scheduler = require("seedance.scheduler")

local M = {}

-- Error type by HTTP status when the body does not say.
local STATUS_TYPES = {
  [400] = "invalid_request_error", [401] = "authentication_error", [402] = "payment_required",
  [403] = "permission_error", [404] = "invalid_request_error", [413] = "invalid_request_error",
  [429] = "rate_limit_error", [500] = "server_error", [502] = "bad_gateway",
  [503] = "service_unavailable", [504] = "gateway_timeout",
}

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

-- A short, printable excerpt of a body for messages.
local function excerpt(body)
  if not body or body == "" then return "an empty body" end
  local s = body:sub(1, 120):gsub("%s+", " "):gsub("[%c\128-\255]", "?")
  if #body > 120 then s = s .. "..." end
  return '"' .. s .. '"'
end

--- Decode a JSON answer; malformed JSON, HTML and truncated bodies become errors carrying the status.
-- @tparam table r the engine's result
-- @treturn[1] table the decoded object
-- @treturn[2] nil
-- @treturn[2] seedance.Error
function M.decode(r)
  local ctype = (r.headers and r.headers["content-type"]) or "no content type"
  local obj = cjson.decode(r.body or "")
  if type(obj) ~= "table" then
    return nil, errors.new{
      type = M.status_type(r.status >= 400 and r.status or 500), status = r.status,
      retryable = true,
      message = string.format("HTTP %d answer is not the service's JSON (%s): %s", r.status,
        ctype, excerpt(r.body)),
    }
  end
  return obj
end

--- Turn an HTTP error answer (status >= 400) into an error object.
-- @tparam table r the engine's result
-- @treturn seedance.Error
function M.answer_error(r)
  local obj = cjson.decode(r.body or "")
  local e = type(obj) == "table" and type(obj.error) == "table" and obj.error or nil
  local fields = {
    status = r.status,
    type = M.status_type(r.status),
    retryable = M.retryable_status(r.status),
  }
  if e then
    if type(e.type) == "string" and e.type ~= "" then fields.type = e.type end
    if type(e.message) == "string" then fields.message = e.message end
    if type(e.code) == "number" then fields.code = e.code end
  end
  if not fields.message then
    fields.message = string.format("HTTP %d with %s (%s)", r.status, excerpt(r.body),
      (r.headers and r.headers["content-type"]) or "no content type")
  end
  return errors.new(fields)
end

--- Turn a transport failure into an error object.
-- @tparam table r the engine's result (ok == false)
-- @treturn seedance.Error
function M.transport_error(r)
  local kind = r.kind or "other"
  return errors.new{
    type = kind == "timeout" and "timeout_error" or "network_error",
    message = tostring(r.error or "transfer failed") .. " (" .. kind .. ")",
    kind = kind,
    retryable = kind ~= "file" and kind ~= "too_large" and kind ~= "aborted",
  }
end

-- Unix time of an HTTP date ("Wed, 21 Oct 2015 07:28:00 GMT"), or nil.
local MONTHS = { Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6,
                 Jul = 7, Aug = 8, Sep = 9, Oct = 10, Nov = 11, Dec = 12 }
function M.parse_http_date(s)
  local d, mon, y, h, mi, sec = s:match("^%a+, (%d%d?) (%a%a%a) (%d%d%d%d) (%d%d):(%d%d):(%d%d) GMT$")
  if not d or not MONTHS[mon] then return nil end
  -- days from civil (proleptic Gregorian), so no local time zone is involved
  y, d = tonumber(y), tonumber(d)
  local m = MONTHS[mon]
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  local days = era * 146097 + doe - 719468
  return days * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(sec)
end

--- Seconds a Retry-After header asks for (delta seconds or an HTTP date), or nil.
-- @tparam string|nil value
-- @tparam[opt] number wall the current unix time (default os.time())
-- @treturn number|nil
function M.retry_after(value, wall)
  if type(value) ~= "string" then return nil end
  value = value:match("^%s*(.-)%s*$")
  if value:match("^%d+$") then return tonumber(value) end
  local at = M.parse_http_date(value)
  if at then return math.max(0, at - (wall or os.time())) end
  return nil
end

--- The delay before retry number `attempt` (1-based): exponential with full jitter.
-- @tparam table policy `backoff` (base seconds), `max_backoff`
-- @tparam integer attempt
-- @treturn number seconds
function M.backoff(policy, attempt)
  local base = policy.backoff * 2 ^ (attempt - 1)
  if base > policy.max_backoff then base = policy.max_backoff end
  return base / 2 + math.random() * base / 2
end

--- Perform one API call with retries.
-- @tparam table client the client (for base settings and the retry policy)
-- @tparam table req `method`, `path` (or `url`), `body`, `headers`, `form_file`, `output`,
--   `resume_from`, `auth` (default true), `retry` (default true), `max_body`, `timeout`
-- @treturn[1] table the engine's final result (status < 400), or with `req.decode` the decoded JSON and the result
-- @treturn[2] nil
-- @treturn[2] seedance.Error
function M.call(client, req)
  local policy = client._policy
  local attempts = (req.retry == false) and 0 or policy.max_retries
  local attempt = 0
  while true do
    local spec = client:_spec(req)
    local gov = client._gov
    gov:before_request()
    local r = scheduler.transfer(spec, req.transfer_opts)
    gov:after_request(r.ok and r.status or 0)
    local err, wait
    if not r.ok then
      err = M.transport_error(r)
    elseif r.status >= 400 then
      err = M.answer_error(r)
      if r.status == 429 or r.status == 503 then wait = M.retry_after(r.headers["retry-after"]) end
    elseif req.decode then
      local obj
      obj, err = M.decode(r)
      if obj then return obj, r end
    else
      return r
    end
    if r.kind == "aborted" or not err.retryable or attempt >= attempts then
      err.attempts = attempt + 1
      return nil, err
    end
    attempt = attempt + 1
    if wait and wait > policy.max_retry_after then
      err.message = string.format("%s; the service asked to wait %g s before retrying, "
        .. "more than max_retry_after (%g s)", err.message, wait, policy.max_retry_after)
      err.retry_after = wait
      err.attempts = attempt
      return nil, err
    end
    -- Retry-After is the server's wall clock; only our own backoff follows time_scale
    local delay = wait or M.backoff(policy, attempt) * policy.time_scale
    if r.status == 429 then gov:pause(delay) end
    if client._on_retry then client._on_retry(err, attempt, delay) end
    scheduler.sleep(delay)
  end
end

--- Perform an API call and decode its JSON answer.
-- @treturn[1] table the decoded object
-- @treturn[1] table the engine's result
-- @treturn[2] nil
-- @treturn[2] seedance.Error
function M.json(client, req)
  req.decode = true
  return M.call(client, req)
end

return M

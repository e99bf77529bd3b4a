--- Every error type seedance returns, in one table: whether a caller may
-- retry it, the HTTP status it stands for when the service's body does not
-- name a type, the exit code of the seedance command, and a line of doc.
-- `seedance.errors` (retryable), `seedance.http` (status to type), the
-- command's exit codes (`seedance.cli.exit`) and the LuaLS types
-- (`types/seedance.lua`, `seedance.ErrorType`; spec/packaging/docs_spec.lua
-- keeps that list the same) all read it. A new type is one row here.
-- @module seedance.error_types
-- @local

local M = {}

--- `{ name, doc, retryable = true (a transient failure), status = HTTP status it stands for,
-- exit = the command's exit code }`, in the order docs list them.
M.list = {
  { "validation_error", "the request breaks a rule of the service; `errors` lists every problem (no network)",
    exit = 3 },
  { "invalid_request_error", "the service refused the request's parameters (400), or the task id is unknown",
    status = 400, exit = 3 },
  { "authentication_error", "the key is missing or refused (401)", status = 401, exit = 4 },
  { "payment_required", "the balance is exhausted (402)", status = 402, exit = 5 },
  { "permission_error", "the key may not do this (403)", status = 403, exit = 4 },
  { "rate_limit_error", "too many requests (429), after Retry-After or the back-off ran out",
    status = 429, retryable = true, exit = 6 },
  { "server_error", "the service failed (500), or its answer could not be used", status = 500, retryable = true,
    exit = 7 },
  { "bad_gateway", "upstream trouble (502)", status = 502, retryable = true, exit = 7 },
  { "service_unavailable", "upstream trouble (503)", status = 503, retryable = true, exit = 7 },
  { "gateway_timeout", "upstream trouble (504)", status = 504, retryable = true, exit = 7 },
  { "network_error", "no answer: connection refused or cut, DNS, a proxy's refusal", retryable = true, exit = 8 },
  { "tls_error", "a certificate or host name that does not verify (never retried)", exit = 8 },
  { "timeout_error", "the caller's deadline passed", exit = 12 },
  { "task_failed", "the task ended failed or cancelled; the service's error is kept", exit = 9 },
  { "expired", "the result URL expired and a fresh one could not be had", exit = 11 },
  { "unsafe_url", "a URL the client will not fetch (plain http off loopback, link-local)", exit = 7 },
  { "too_large", "an answer or download larger than its cap", exit = 7 },
  { "io_error", "a local file or folder problem (never retried)", exit = 10 },
  { "callback_error", "a user callback raised", exit = 1 },
  { "aborted", "the task handle was closed while the call ran", exit = 1 },
  { "skipped", "a batch item that never ran (an earlier item stopped the batch, a spending cap, an interrupt) "
    .. "or was given up (`reason`)", exit = 1 },
  { "abandoned", "the task was abandoned (task:abandon(), seedance abandon): neither waited for nor downloaded",
    exit = 1 },
  { "interrupted", "Ctrl-C in a plain script: every task paid for and submit in flight is listed", exit = 1 },
}

--- The same rows by name.
M.by_name = {}
--- The type an HTTP error status stands for.
M.by_status = {}
for _, row in ipairs(M.list) do
  row.name, row.doc = row[1], row[2]
  M.by_name[row.name] = row
  if row.status then M.by_status[row.status] = row.name end
end
-- statuses the service uses for the same meaning as another
M.by_status[404] = "invalid_request_error" -- an unknown or expired task id
M.by_status[413] = "invalid_request_error" -- a body over the service's size limit

--- Whether errors of this type are worth retrying (false for a type no row names).
-- @tparam string name
-- @treturn boolean
function M.retryable(name)
  local row = M.by_name[name]
  return row ~= nil and row.retryable == true
end

return M

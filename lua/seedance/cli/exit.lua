--- The command's exit codes: one table from error type to exit code, which
-- also writes the list `seedance --help` shows.
-- @module seedance.cli.exit
-- @local

local M = {}

--- Every exit code, in the order help lists them: `{ code, name, what, types = { error types } }`.
-- A type is in exactly one row; a type in no row exits 1.
M.CODES = {
  { 0, "ok", "ok" },
  { 1, "failure", "other failure", types = { "callback_error", "skipped", "aborted", "internal_error", "abandoned",
                                            "interrupted" } },
  { 2, "usage", "usage or settings error", types = { "usage_error" } },
  { 3, "validation", "invalid request", types = { "validation_error", "invalid_request_error" } },
  { 4, "authentication", "key refused", types = { "authentication_error", "permission_error" } },
  { 5, "payment", "payment required", types = { "payment_required" } },
  { 6, "rate_limit", "rate limited", types = { "rate_limit_error" } },
  { 7, "server", "server error", types = { "server_error", "bad_gateway", "service_unavailable",
                                            "gateway_timeout", "unsafe_url", "too_large" } },
  { 8, "network", "network error", types = { "network_error", "tls_error" } },
  { 9, "task_failed", "task failed", types = { "task_failed" } },
  { 10, "io", "file error", types = { "io_error" } },
  { 11, "expired", "result expired", types = { "expired" } },
  { 12, "timeout", "timed out", types = { "timeout_error" } },
  { 130, "interrupted", "interrupted (SIGINT)", types = { "interrupted_INT" } },
  { 143, "terminated", "terminated (SIGTERM)", types = { "interrupted_TERM" } },
}

--- Exit codes by name (`M.EXIT.usage == 2`).
M.EXIT = {}
--- Exit codes by error type.
M.BY_TYPE = {}
for _, row in ipairs(M.CODES) do
  M.EXIT[row[2]] = row[1]
  for _, t in ipairs(row.types or {}) do
    assert(M.BY_TYPE[t] == nil, "error type in two rows: " .. t)
    M.BY_TYPE[t] = row[1]
  end
end

--- The exit code for an error object (1 for a type the table does not know).
-- @tparam table|nil err
-- @treturn integer
function M.code(err)
  return M.BY_TYPE[err and err.type] or M.EXIT.failure
end

--- The exit code of an interrupt.
-- @tparam string sig "INT" or "TERM"
-- @treturn integer 130 or 143
function M.for_signal(sig)
  return M.BY_TYPE["interrupted_" .. sig] or M.EXIT.interrupted
end

--- The "exit codes:" paragraph of help, three to a line.
-- @treturn string
function M.help()
  local cells = {}
  for _, row in ipairs(M.CODES) do cells[#cells + 1] = string.format("%3d %-20s", row[1], row[3]) end
  local lines = { "Exit codes:" }
  for i = 1, #cells, 3 do
    lines[#lines + 1] = "  " .. table.concat(cells, " ", i, math.min(i + 2, #cells)):gsub("%s+$", "")
  end
  return table.concat(lines, "\n")
end

return M

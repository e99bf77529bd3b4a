--- The command's exit codes: one table from error type to exit code, which
-- also writes the list `seedance --help` shows.
-- @module seedance.cli.exit
-- @local

local M = {}

local error_types = require("seedance.error_types")

--- Every exit code, in the order help lists them: `{ code, name, what, types = { error types } }`.
-- The library's error types take their code from `seedance.error_types` (its `exit`); the rows
-- here add the command's own (a usage error, an interrupt). A type is in exactly one row; a type
-- in no row exits 1.
M.CODES = {
  { 0, "ok", "ok" },
  { 1, "failure", "other failure", types = { "internal_error" } },
  { 2, "usage", "usage or settings error", types = { "usage_error" } },
  { 3, "validation", "invalid request" },
  { 4, "authentication", "key refused" },
  { 5, "payment", "payment required" },
  { 6, "rate_limit", "rate limited" },
  { 7, "server", "server error" },
  { 8, "network", "network error" },
  { 9, "task_failed", "task failed" },
  { 10, "io", "file error" },
  { 11, "expired", "result expired" },
  { 12, "timeout", "timed out" },
  { 129, "hangup", "hung up (SIGHUP)", types = { "interrupted_HUP" } },
  { 130, "interrupted", "interrupted (SIGINT)", types = { "interrupted_INT" } },
  { 143, "terminated", "terminated (SIGTERM)", types = { "interrupted_TERM" } },
}
do
  local row_of = {}
  for _, row in ipairs(M.CODES) do row_of[row[1]] = row; row.types = row.types or {} end
  for _, t in ipairs(error_types.list) do
    local row = assert(row_of[t.exit], "error type " .. t.name .. ": no exit code row " .. tostring(t.exit))
    table.insert(row.types, t.name)
  end
end

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
-- @tparam string sig "INT", "TERM" or "HUP"
-- @treturn integer 130, 143 or 129
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

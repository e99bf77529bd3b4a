--- What the command prints: valid UTF-8 whatever the server sent, numbers as
-- people write them, one line per error (JSON on standard output with --json).
-- @module seedance.cli.output
-- @local

local cjson = require("cjson.safe")
local core = require("seedance.core")
local exit = require("seedance.cli.exit")

local M = {}

--- A copy of v whose strings are valid UTF-8 (bad bytes replaced): what the
-- command prints is always valid UTF-8 (and valid JSON), whatever the server sent.
-- @param v any value
-- @return the cleaned copy
function M.clean(v, depth)
  depth = depth or 0
  if type(v) == "string" then return core.utf8_clean(v) end
  if type(v) ~= "table" or depth > 32 then return v end
  local out = {}
  for k, x in pairs(v) do out[M.clean(k, depth + 1)] = M.clean(x, depth + 1) end
  return out
end

--- A number as text: whole numbers without a fraction (`999873`, not `999873.0`).
-- @param n a number (anything else goes through tostring)
-- @treturn string
function M.number(n)
  if type(n) ~= "number" then return tostring(n) end
  if n == math.floor(n) and n > -2 ^ 53 and n < 2 ^ 53 then return string.format("%.0f", n) end
  return string.format("%.6g", n)
end

--- A task as a plain table for --json output.
-- @tparam seedance.Task t
-- @treturn table
function M.task_json(t)
  return M.clean{
    id = t.id, status = t.status, progress = t.progress, video_url = t.video_url,
    last_frame_url = t.last_frame_url, expires_at = t.expires_at, error = t.error,
    estimated_time = t.estimated_time,
  }
end

--- Write one JSON object and a newline.
-- @param stream
-- @tparam table obj
function M.json(stream, obj)
  stream:write(cjson.encode(M.clean(obj)), "\n")
end

-- The problems of a validation error worth listing under its message: all of
-- them when there are several, none when the message already says the only one.
local function extra_problems(err)
  local list = type(err.errors) == "table" and err.errors or {}
  if #list == 1 and tostring(err.message):find(tostring(list[1].message), 1, true) then return {} end
  return list
end

--- Report an error: one line on standard error (plus one line per problem of
-- a request with several), or a JSON object on standard output with --json.
-- @tparam table ctx the command's context (`out`, `err`, `json`)
-- @tparam table err a seedance error (or the command's own `usage_error`)
-- @treturn integer the exit code
function M.report(ctx, err)
  if ctx.json then
    M.json(ctx.out, { error = { type = err.type, message = err.message, status = err.status,
      errors = err.errors, task_id = err.task_id } })
  else
    local head = err.type == "usage_error" and tostring(err.message)
      or (err.type .. (err.status and (" (HTTP " .. M.number(err.status) .. ")") or "") .. ": "
          .. tostring(err.message))
    local lines = { "seedance: " .. head }
    for _, p in ipairs(extra_problems(err)) do
      lines[#lines + 1] = "  " .. tostring(p.field) .. ": " .. tostring(p.message)
    end
    if ctx.show then ctx.show:clear() end
    ctx.err:write(core.utf8_clean(table.concat(lines, "\n")), "\n")
  end
  return exit.code(err)
end

return M

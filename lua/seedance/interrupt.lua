--- Ctrl-C in a plain Lua script: the standalone interpreter's SIGINT hook
-- raises "interrupted!" on the main thread, wherever it runs Lua code; a
-- blocking seedance call (`scheduler.block_until`) turns it into the
-- `interrupted` error this module makes, which lists what is at stake: every
-- task paid for that has not ended and every submit in flight (reporters that
-- task.lua and client.lua register), and how to resume. On Lua 5.2 and later
-- the interpreter prints an error object through its `__tostring`, without a
-- traceback; PUC Lua 5.1 would print "(error object is not a string)", so there
-- it is raised as its text (`compat.prints_error_objects`).
-- @module seedance.interrupt
-- @local

local errors = require("seedance.errors")

local M = {}

local reporters = {} -- functions that add what is at stake to an interrupt's report

--- Have `fn(report)` add what is at stake when a plain script is interrupted:
-- `report.tasks` and `report.submits` are lists it appends to (`{ id,
-- idempotency_key, key }`, `{ idempotency_key, key }`; `key` is the journal's).
-- @tparam function fn
function M.on(fn)
  reporters[#reporters + 1] = fn
end

--- Whether an error is the standalone interpreter's Ctrl-C ("interrupted!").
-- @param err
-- @treturn boolean
function M.from_host(err)
  return type(err) == "string" and err:find("interrupted!$") ~= nil
end

--- Whether a raised value is the `interrupted` error `error` makes (or its text, on Lua 5.1).
-- @param e
-- @treturn boolean
function M.is(e)
  if errors.is(e) then return e.type == "interrupted" and e.signal ~= nil end
  return type(e) == "string" and e:find("^interrupted: Ctrl%-C %(SIGINT%)") ~= nil
end

--- Show at most this many tasks in an interrupted error's message (all are in its `tasks`).
M.LISTED = 20

--- The `interrupted` error a blocking call ends with when the script is
-- interrupted: every task paid for that has not ended (its id and
-- Idempotency-Key) and every submit in flight, and how to resume.
-- @treturn seedance.Error `type = "interrupted"`, `tasks`, `submits`
function M.error()
  local report = { tasks = {}, submits = {} }
  for _, fn in ipairs(reporters) do pcall(fn, report) end
  table.sort(report.tasks, function(a, b) return a.id < b.id end)
  local parts, journaled, n = {}, true, 0
  for _, t in ipairs(report.tasks) do
    n = n + 1
    if n <= M.LISTED then
      parts[#parts + 1] = t.id .. (t.idempotency_key and (" (Idempotency-Key " .. t.idempotency_key .. ")") or "")
    end
    if not t.key then journaled = false end
  end
  if n > M.LISTED then parts[#parts + 1] = (n - M.LISTED) .. " more" end
  local text = "Ctrl-C (SIGINT)" -- the error prints as "interrupted: Ctrl-C (SIGINT): ..."
  if n > 0 then
    text = text .. string.format(": %d task%s paid for keep%s running on the service: %s", n, n == 1 and "" or "s",
      n == 1 and "s" or "", table.concat(parts, ", "))
  end
  local subs = {}
  for _, sub in ipairs(report.submits) do
    subs[#subs + 1] = sub.idempotency_key
    if not sub.key then journaled = false end
  end
  if #subs > 0 then
    text = text .. string.format("; %d submit%s in flight (Idempotency-Key %s) may have made a task",
      #subs, #subs == 1 and " was" or "s were", table.concat(subs, ", "))
  end
  if n + #subs == 0 then
    text = text .. ": no task was paid for and none was being submitted"
  elseif journaled then
    text = text .. "; run the script again with the same journal to resume: it re-attaches to them and pays "
      .. "for none again"
  else
    text = text .. "; pick a task up with client:task(ID), a submit with generate(request, { idempotency_key "
      .. "= KEY }), without paying again (a journal, seedance.new{ journal = FILE }, makes a re-run do it)"
  end
  return errors.new{ type = "interrupted", signal = "INT", tasks = report.tasks, submits = report.submits,
                     message = text }
end

return M

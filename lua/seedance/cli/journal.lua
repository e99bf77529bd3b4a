--- The journal commands: `seedance abandon TASK_ID --journal FILE` records
-- that nobody wants a task any more (the service has no cancel: the task runs
-- on and is billed; a re-run neither waits for it nor downloads it), and
-- `seedance journal FILE` lists what a journal records, item by item. Neither
-- uses the network.
-- @module seedance.cli.journal
-- @local

local errors = require("seedance.errors")
local exit = require("seedance.cli.exit")
local journal = require("seedance.journal")
local output = require("seedance.cli.output")
local settings = require("seedance.cli.settings")
local urls = require("seedance.urls")

local M = {}

local report = output.report

local function io_error(fmt, ...)
  return errors.new{ type = "io_error", retryable = false, message = string.format(fmt, ...) }
end

-- The error of a journal that did not open: a usage error when its URL names no journal (why "usage",
-- exit 2, as batch and generate say it), else a file's.
local function open_error(why, fmt, ...)
  local err = io_error(fmt, ...)
  if why == "usage" then err.type = "usage_error" end
  return err
end

--- The status of a journal entry, in a word: submitting (no answer yet),
-- refused, running, completed, downloaded, failed, cancelled, abandoned,
-- expired (its result expired before it was saved).
-- @tparam table e
-- @treturn string
function M.status(e)
  if e.abandoned then return "abandoned" end
  if e.refused then return "refused" end
  if not e.task_id then return "submitting" end
  if e.expired then return "expired" end
  if e.status == "completed" then return next(e.downloads) and "downloaded" or "completed" end
  return e.status or "running"
end

--- `seedance abandon TASK_ID --journal FILE`.
-- @tparam table ctx
-- @tparam table args
-- @treturn integer exit code
function M.abandon(ctx, args)
  ctx.json = args.json
  if not args.journal then
    return report(ctx, settings.usage("abandon needs --journal FILE: the journal of the batch (or generate) that "
      .. "paid for the task; the service has no cancel, so abandoning is recorded there"))
  end
  if args.journal == "-" then return report(ctx, require("seedance.cli.request").no_dash("--journal")) end
  if not urls.task_id_ok(args.id) then
    return report(ctx, settings.usage("task id must be 1 to 128 letters, digits, '_' or '-', got '%s'",
      output.line(args.id):sub(1, 40)))
  end
  if not journal.is_url(args.journal) and not require("seedance.core").stat(args.journal) then
    return report(ctx, io_error("--journal %s: no such file", args.journal))
  end
  local shown = journal.shown(args.journal)
  local j, err, why = journal.open(args.journal, { ca_file = args.ca_file })
  if not j then
    return report(ctx, open_error(why, "--journal %s: %s%s", shown, err, tostring(err):find("held by another")
      and " (stop the batch that uses it first: Ctrl-C, then abandon, then run it again)" or ""))
  end
  local e = j:find_task(args.id)
  if not e then
    j:close()
    return report(ctx, settings.usage("task %s is not in --journal %s (seedance journal %s lists its tasks)",
      args.id, shown, shown))
  end
  local was = M.status(e)
  if not e.abandoned then
    local ok, aerr = j:append{ type = "abandon", key = e.key, task_id = args.id }
    if not ok then
      j:close()
      return report(ctx, io_error("--journal %s: %s", shown, aerr))
    end
  end
  j:close()
  local note = "the service has no cancel: the task runs on and is billed; a re-run with this journal neither "
    .. "waits for it nor downloads it"
  if ctx.json then
    output.json(ctx.out, { task_id = args.id, item = e.item, status = "abandoned", was = was, journal = shown,
      note = note })
  else
    ctx.out:write(string.format("abandoned task %s%s (it was %s): %s\n", args.id,
      e.item and (" (item " .. output.number(e.item) .. ")") or "", was, note))
  end
  return exit.EXIT.ok
end

--- `seedance journal FILE`: each item's number, task id, status, output and prompt excerpt.
-- @tparam table ctx
-- @tparam table args
-- @treturn integer exit code
function M.list(ctx, args)
  ctx.json = args.json
  if args.file == "-" then return report(ctx, require("seedance.cli.request").no_dash("journal")) end
  local j, err, why = journal.read(args.file, { ca_file = args.ca_file })
  local shown = journal.shown(args.file)
  if not j then return report(ctx, open_error(why, "%s", tostring(err))) end
  local rows = {}
  for _, key in ipairs(j.order) do
    local e = j.entries[key]
    local out = e.output
    if not out then -- a journal of generate or map: the file its download saved
      local saved = {}
      for path in pairs(e.downloads) do saved[#saved + 1] = path end
      table.sort(saved)
      out = saved[1]
    end
    rows[#rows + 1] = { item = e.item, task_id = e.task_id, status = M.status(e), output = out, prompt = e.prompt,
                        attempt = e.attempt > 1 and e.attempt or nil,
                        error = (e.refused or e.error) and output.advice((e.refused or e.error).message) or nil }
  end
  table.sort(rows, function(a, b)
    if (a.item ~= nil) ~= (b.item ~= nil) then return a.item ~= nil end
    if a.item and b.item and a.item ~= b.item then return a.item < b.item end
    return false
  end)
  if ctx.json then
    ctx.out:write(output.encode({ journal = shown, items = rows, skipped = j.skipped, torn = j.torn },
      { "items" }), "\n")
    return exit.EXIT.ok
  end
  local lines = { string.format("%-5s %-31s %-11s %-24s %s", "item", "task", "status", "output", "prompt") }
  for _, r in ipairs(rows) do
    lines[#lines + 1] = output.line(string.format("%-5s %-31s %-11s %-24s %s%s",
      r.item and output.number(r.item) or "-", r.task_id or "-", r.status, r.output or "-",
      r.prompt and ("\"" .. r.prompt .. "\"") or "-", r.error and ("  (" .. r.error .. ")") or ""))
  end
  if #rows == 0 then lines[#lines + 1] = "(no item recorded)" end
  ctx.out:write(table.concat(lines, "\n"), "\n")
  return exit.EXIT.ok
end

return M

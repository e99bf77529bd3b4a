--- `seedance batch FILE`: every request of FILE (JSON lines) generated, a few
-- at a time, by `seedance.map`'s engine (`seedance.pipeline.fanout`) on one
-- client: one journal, one shared rate limit. Everything is checked before the
-- first request (`seedance.cli.batch_input`); while it runs, one progress line
-- on a terminal, plain lines off one, or with `--json` one JSON object per
-- event on standard output; a summary at the end. Exit 0 when every item is
-- done (or abandoned), 9 when one failed or was skipped, 130/143 on an interrupt.
-- Ctrl-C stops submitting, lets a submit in flight finish, and prints the
-- command that resumes: the same one.
-- @module seedance.cli.batch
-- @local

local core = require("seedance.core")
local errors = require("seedance.errors")
local exit = require("seedance.cli.exit")
local fanout = require("seedance.pipeline.fanout")
local guard = require("seedance.cli.guard")
local hints = require("seedance.cli.hints")
local input = require("seedance.cli.batch_input")
local journal = require("seedance.journal")
local json = require("seedance.json")
local output = require("seedance.cli.output")
local progress = require("seedance.progress")
local request = require("seedance.cli.request")
local seedance = require("seedance")
local settings = require("seedance.cli.settings")
local text = require("seedance.cli.text")

local M = {}

local report = output.report

--- Wall-clock seconds each item's task is waited for when `--wait-timeout` is not given.
M.WAIT_TIMEOUT = 1800

--- Read `--model-rules FILE.json` and describe its models (`seedance.models`).
-- @tparam string path
-- @treturn[1] boolean true
-- @treturn[2] nil
-- @treturn[2] seedance.Error
function M.load_model_rules(path)
  if path == "-" then return nil, request.no_dash("--model-rules") end
  local body, err = text.read(path, { label = "--model-rules " .. path })
  if not body then return nil, err end
  local obj, jerr = json.decode(body)
  if type(obj) ~= "table" then
    return nil, errors.new{ type = "usage_error", retryable = false, message = string.format(
      "--model-rules %s is not a JSON object { \"NAME\": { rules }, ... }%s", path, jerr and (": " .. jerr) or "") }
  end
  local ok, why = seedance.models.add_all(obj)
  if not ok then
    return nil, errors.new{ type = "usage_error", retryable = false,
      message = string.format("--model-rules %s: %s", path, why) }
  end
  return true
end

-- The command that resumes this batch: the same command line (a password in a URL masked).
local function resume_command(ctx)
  local words = { "seedance" }
  for _, a in ipairs(ctx.argv or {}) do
    local flag, value = a:match("^(%-%-[%w-]+=)(.*)$")
    if flag then a = flag .. output.masked(value) elseif a:find("://", 1, true) then a = output.masked(a) end
    words[#words + 1] = output.shell_word(a)
  end
  return table.concat(words, " ")
end

-- One line about an item, for the log off a terminal (or above the bar on one).
local function item_line(ev, line)
  local id = ev.task_id and (" task " .. ev.task_id) or ""
  local e = ev.error
  -- a submit that went unanswered: the task it may have made (and billed) is named by its key
  local key = e and not ev.task_id and e.maybe_paid and e.idempotency_key
  local maybe = key and ("; the service may have made (and billed) its task under Idempotency-Key " .. key
    .. ": the same command again picks it up, paying nothing twice") or ""
  if ev.event == "submitted" then
    return string.format("line %d: %s%s", line, ev.reattached and "re-attached to" or "submitted", id)
  elseif ev.event == "done" then
    return string.format("line %d: done%s%s", line, id, ev.output and (": " .. ev.output) or "")
  elseif ev.event == "failed" then
    local kind = e.kind == "moderation" and (" [moderation" .. (e.input and (": " .. e.input) or "") .. "]") or ""
    local msg = output.advice(e.message)
    if ev.task_id and msg:find(ev.task_id, 1, true) then id = "" end -- the message names the task already
    return string.format("line %d: failed%s: %s%s%s", line, id, msg, kind, maybe)
  elseif ev.event == "skipped" then
    return string.format("line %d: skipped (%s)%s%s", line, ev.reason, id, maybe)
  end
end

-- The JSON form of an item's error (with the key of a submit that may have made a task: maybe_paid).
local function error_json(e)
  local key = e.maybe_paid and e.idempotency_key or nil
  return { type = e.type, message = output.advice(e.message), kind = e.kind, input = e.input, code = e.code,
           status = e.status, maybe_paid = key and true or nil, idempotency_key = key }
end

-- Counts by reason: a failure's type, or "moderation" for one refused for sensitive content; a skip's reason.
local function reason_of(ev)
  if ev.event == "skipped" then return ev.reason end
  return ev.error.kind == "moderation" and "moderation" or ev.error.type
end

-- The summary line's counts, as text: "moderation 1, task_failed 2".
local function by_reason(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  for i, k in ipairs(keys) do keys[i] = k .. " " .. t[k] end
  return table.concat(keys, ", ")
end

-- The dry run: the plan, and the balance when a key is set. Nothing is paid.
local function dry_run(ctx, copts, items, jrnl, args)
  local plan = input.plan(items, jrnl, args)
  local bal, berr
  local opts = {} -- the client for the balance: without the journal (a dry run opens, locks and writes nothing)
  for k, v in pairs(copts) do opts[k] = v end
  opts.journal = nil
  local client = opts.api_key and settings.client_from(opts, args, function(level, line) ctx.log(level, line) end)
  if client then
    local _, res = guard.run(function() return { client:balance() } end, { stop_now = function(sig)
      os.exit(exit.for_signal(sig)) end })
    bal, berr = res[1], res[2]
    client:close()
  end
  if ctx.json then
    output.json(ctx.out, { event = "plan", items = plan.items, seconds = plan.seconds, groups = plan.groups,
      journal = journal.shown(args.journal), done = plan.journal.done, running = plan.journal.running,
      failed = plan.journal.failed, abandoned = plan.journal.abandoned, to_pay = plan.journal.to_pay,
      to_pay_seconds = plan.to_pay_seconds, balance = bal and output.clean(bal) or json.null,
      balance_error = berr and berr.message or nil })
    return exit.EXIT.ok
  end
  -- (seconds as people write them: a duration --no-validate let through may be 5.5)
  local lines = { string.format("plan: %d item%s in %s, %s s of video", plan.items, plan.items == 1 and "" or "s",
    output.line(args.file), output.number(plan.seconds)) }
  for _, g in ipairs(plan.groups) do
    lines[#lines + 1] = string.format("  %3d x %s %s %s s", g.count, output.line(g.model), output.line(g.resolution),
      output.number(g.duration))
  end
  local j = plan.journal
  lines[#lines + 1] = string.format("journal %s: %d done, %d paid and running, %d failed%s, %d abandoned",
    output.line(journal.shown(args.journal)), j.done, j.running, j.failed, j.failed == 0 and "" or args.retry_failed
    and " (refused for sensitive content: not retried without --retry-moderated)"
    or " (not retried without --retry-failed)", j.abandoned)
  lines[#lines + 1] = string.format("to submit (paid): %d item%s, %s s of video", j.to_pay, j.to_pay == 1 and ""
    or "s", output.number(plan.to_pay_seconds))
  if bal then
    local remain = bal.remain_balance
    lines[#lines + 1] = string.format("balance: remaining %s, used %s", (remain == -1 or bal.unlimited_quota == true)
      and "unlimited" or output.value(remain), output.value(bal.used_balance))
  else
    lines[#lines + 1] = "balance: not read (" .. output.line(berr and berr.message or "no API key") .. ")"
  end
  lines[#lines + 1] = "nothing was sent (--dry-run)"
  ctx.out:write(table.concat(lines, "\n"), "\n")
  return exit.EXIT.ok
end

--- `seedance batch FILE`.
-- @tparam table ctx the command's context
-- @tparam table args the parsed flags
-- @treturn integer exit code
function M.run(ctx, args)
  ctx.json = args.json
  local t0 = core.now()
  for _, f in ipairs{ { "--journal", args.journal } } do
    if f[2] == "-" then return report(ctx, request.no_dash(f[1])) end
  end
  if args.file == "-" and not args.journal then
    return report(ctx, settings.usage("batch -: name the journal with --journal FILE (a batch read from standard "
      .. "input has no file to keep it beside)"))
  end
  args.journal = args.journal or (args.file .. ".journal")
  for _, f in ipairs{ { "-o", args.output }, { "--save-last-frame", args.save_last_frame } } do
    if f[2] then
      local ok, err = input.check_pattern(f[1], f[2])
      if not ok then return report(ctx, err) end
    end
  end
  if args.retry_moderated then args.retry_failed = true end -- (it retries failed items, moderated ones too)
  if args.model_rules then
    local ok, err = M.load_model_rules(args.model_rules)
    if not ok then return report(ctx, err) end
  end
  -- the settings (flags, environment, config file): the config file's request defaults go into every line
  local copts, info = settings.resolve(args)
  if not copts then return report(ctx, info) end
  ctx.settings, ctx.wait_timeout, ctx.time_scale = info, info.wait_timeout, copts.time_scale
  local items, rerr = input.read(args, info.defaults)
  if not items then return report(ctx, rerr) end
  local ok, verr = input.validate(items, args)
  if not ok then return report(ctx, verr) end
  local jrnl
  -- (a redis:// journal is read as it stands: other workers may be running the same batch)
  if journal.is_url(args.journal) or core.stat(args.journal) then
    local j, jerr, why = journal.read(args.journal, { ca_file = copts.ca_file })
    if not j then
      return report(ctx, errors.new{ type = why == "usage" and "usage_error" or "io_error", retryable = false,
        message = string.format("--journal %s: %s", journal.shown(args.journal), jerr) })
    end
    jrnl = j
  end
  local outs, frames = input.check_files(items, args, jrnl)
  if not outs then return report(ctx, frames) end
  if args.dry_run then return dry_run(ctx, copts, items, jrnl, args) end
  if not copts.api_key then
    return report(ctx, settings.usage("no API key: set SEEDANCE_API_KEY, or pass --api-key-file FILE (or name a key "
      .. "file with api_key_file in the config file %s)", info.config.path or ""))
  end
  local client, cerr = settings.client_from(copts, args, function(level, line) ctx.log(level, line) end)
  if not client then return report(ctx, cerr) end
  return M.go(ctx, args, client, items, outs, frames, t0)
end

--- Run the checked batch on the client (its journal open) and report it.
-- @local
function M.go(ctx, args, client, items, outs, frames, t0)
  local show = progress.new(ctx.err, { quiet = args.quiet or ctx.json, tty = ctx.tty, columns = ctx.columns })
  ctx.show = show
  local requests, lines = {}, {}
  for i, item in ipairs(items) do requests[i], lines[i] = item.request, item.line end
  local counts = { failed = {}, skipped = {}, earlier = 0, elsewhere = 0, again = {} }
  local saved, paid = {}, {} -- files saved, by index; task ids paid for, by index
  local function on_event(ev)
    local line = lines[ev.index]
    if ev.event == "submitted" then paid[ev.index] = ev.task_id end
    if ev.event == "skipped" and ev.reason == "done" then
      if ev.worker then counts.elsewhere = counts.elsewhere + 1 else counts.earlier = counts.earlier + 1 end
    end
    if ev.event == "failed" then
      local a = ev.again or "rerun"
      counts.again[a] = (counts.again[a] or 0) + 1
    end
    if ev.event == "failed" or (ev.event == "skipped" and ev.reason ~= "done") then
      local r = reason_of(ev)
      local t = ev.event == "failed" and counts.failed or counts.skipped
      t[r] = (t[r] or 0) + 1
    end
    local out = ev.path
    if ev.event == "done" or (ev.event == "skipped" and ev.reason == "done") then
      local f = {}
      if out then f[#f + 1] = out end
      if frames[ev.index] then f[#f + 1] = frames[ev.index] end
      saved[ev.index] = f
    end
    if ctx.json then
      output.json(ctx.out, { event = ev.event, item = line, task_id = ev.task_id or json.null,
        output = out, last_frame_output = (ev.event == "done" or ev.reason == "done") and frames[ev.index] or nil,
        reattached = ev.reattached, status = ev.status, progress = ev.progress, reason = ev.reason,
        earlier = ev.earlier, error = ev.error and error_json(ev.error) or nil })
      ctx.out:flush()
    elseif ev.event ~= "progress" and not args.quiet then
      local l = item_line({ event = ev.event, task_id = ev.task_id, output = out, error = ev.error,
                            reason = ev.reason, reattached = ev.reattached }, line)
      if ctx.tty then
        if ev.event == "failed" then show:log(output.line(l)) end
      else
        ctx.err:write(output.line(l), "\n")
      end
    end
  end
  local control = {}
  local wall = args.wait_timeout or ctx.wait_timeout or M.WAIT_TIMEOUT
  local opts = { concurrency = args.concurrency or 4, timeout = wall / (ctx.time_scale or 1),
    retry_failed = args.retry_failed or nil, retry_moderated = args.retry_moderated or nil,
    max_spend = args.max_spend, generate = { validate = not args.no_validate },
    on_progress = ctx.tty and function(stats) show:batch(stats) end or nil }
  local results, stats
  local g = guard.run(function(gd)
    gd:phase("batch")
    gd.on_interrupt = function() control.interrupt() end
    results, stats = fanout.run(client, requests, opts, outs, { on_event = on_event, items = lines,
      control = control, frames = frames })
    gd:phase("idle")
  end, { show = show, stop_now = function(sig)
    show:done()
    ctx.err:write("seedance: interrupted (SIG", sig, ")\n")
    os.exit(exit.for_signal(sig))
  end })
  client:close()
  show:done()
  local seconds = core.now() - t0
  local files = {}
  for i = 1, #items do
    for _, f in ipairs(saved[i] or {}) do files[#files + 1] = f end
  end
  local summary = { event = "summary", total = stats.total, done = stats.done, failed = stats.failed,
    skipped = stats.skipped, earlier = counts.earlier, failed_by_reason = counts.failed,
    skipped_by_reason = counts.skipped, seconds = math.floor(seconds * 10 + 0.5) / 10, files = files,
    spent = stats.spent, journal = journal.shown(args.journal), other_workers = counts.elsewhere > 0
    and counts.elsewhere or nil }
  local code = exit.EXIT.ok
  local abandoned = counts.skipped.abandoned or 0
  if g.signal then
    code = exit.for_signal(g.signal)
  elseif stats.failed > 0 or stats.skipped > abandoned then
    code = exit.EXIT.task_failed
  end
  local resume = resume_command(ctx)
  if g.signal then summary.resume = resume end
  if ctx.json then
    summary.exit = code
    ctx.out:write(output.encode(summary, { "files" }), "\n") -- (the file list is a list, empty or not)
  else
    M.print_summary(ctx, args, summary, results, lines)
  end
  -- the closing line on standard error: why the exit is not 0, and what to do
  local function say(s) ctx.err:write("seedance: ", output.line(s), "\n") end
  if g.signal then
    local running = {}
    for i, id in pairs(paid) do
      if results[i] and results[i].error and results[i].error.type == "interrupted" then running[#running + 1] = id end
    end
    table.sort(running)
    local unanswered = 0 -- submits that may have made a task nobody named (their keys are in the journal)
    for i = 1, #items do
      local e = results[i] and results[i].error
      if e and e.maybe_paid and not e.task_id and not (results[i].task) then unanswered = unanswered + 1 end
    end
    local left = #running > 0 and (#running .. " task" .. (#running == 1 and "" or "s") .. " keep"
      .. (#running == 1 and "s" or "") .. " running on the service (" .. table.concat(running, ", ") .. ")")
      or unanswered == 0 and "no task is left running" or nil
    if unanswered > 0 then
      left = (left and (left .. "; ") or "") .. unanswered .. " submit" .. (unanswered == 1 and "" or "s")
        .. " went unanswered and may have made a task (the journal keeps the key)"
    end
    say(string.format("interrupted (SIG%s): %s; run the same command again to resume (it re-attaches, pays for "
      .. "nothing twice): %s", g.signal, left, resume))
  elseif stats.stopped == "max_spend" then
    say(string.format("stopped at the spending cap (--max-spend %s): used_balance grew by %s; %d item%s not "
      .. "submitted (skipped)", output.number(args.max_spend), output.value(stats.spent), counts.skipped.max_spend
      or 0, (counts.skipped.max_spend or 0) == 1 and " was" or "s were"))
  elseif stats.error and code ~= exit.EXIT.ok then
    local e = stats.error
    say(string.format("the batch stopped: %s%s", hints.apply(e, output.advice(e.message), ctx),
      fanout.ACCOUNT[e.type] and "; once that is fixed, the same command again submits the lines not paid for"
      or ""))
  elseif stats.failed > 0 then
    say(M.failed_advice(stats.failed, counts.again))
  end
  return code
end

--- The closing line about failed items: what a run again does for each (`--retry-failed` pays for a
-- failed try again, `--retry-moderated` too for one refused for sensitive content; the others, an
-- expired download, a file in the way, a timeout, resume or fail as they did, paying nothing twice).
-- @tparam integer failed
-- @tparam table again counts by `fanout.again`'s answer
-- @treturn string
-- @local
function M.failed_advice(failed, again)
  local retry, moderated = again.retry_failed or 0, again.retry_moderated or 0
  local rest = failed - retry - moderated
  local head = string.format("%d item%s failed", failed, failed == 1 and "" or "s")
  local function of(n)
    if n == failed then return n == 1 and "it" or "them" end
    return n .. " of them"
  end
  local parts = {}
  if retry > 0 then parts[#parts + 1] = "run again with --retry-failed to pay for " .. of(retry) .. " again" end
  if moderated > 0 then
    parts[#parts + 1] = string.format("%s refused for sensitive content: paid for again only with "
      .. "--retry-moderated", moderated == failed and (moderated == 1 and "it was" or "they were")
      or (moderated .. (moderated == 1 and " was" or " were")))
  end
  if rest > 0 then
    parts[#parts + 1] = string.format("%s: see %s line above (the same command again pays for nothing twice)",
      rest == failed and (rest == 1 and "it" or "they") or ("the other " .. rest), rest == 1 and "its" or "each")
  end
  if rest == failed then
    return string.format("%s: see %s line above (the same command again pays for nothing twice)", head,
      rest == 1 and "its" or "each")
  end
  return head .. "; " .. table.concat(parts, "; ")
end

--- Print the summary as text on standard output.
-- @local
function M.print_summary(ctx, args, s, results, lines)
  local out = { string.format("batch %s: %d item%s: %d done%s, %d failed, %d skipped in %s s", output.line(args.file),
    s.total, s.total == 1 and "" or "s", s.done, s.earlier > 0 and (" (" .. s.earlier .. " in an earlier run)") or
    s.other_workers and (" (" .. s.other_workers .. " by other workers)") or "",
    s.failed, s.skipped, output.number(s.seconds)) }
  if next(s.failed_by_reason) then out[#out + 1] = "  failed: " .. by_reason(s.failed_by_reason) end
  for i, r in ipairs(results) do
    local e = r.error
    if e and e.type ~= "skipped" and e.type ~= "interrupted" then
      out[#out + 1] = "    " .. output.line(item_line({ event = "failed", task_id = e.task_id or (r.task and r.task.id),
        error = e }, lines[i]))
    end
  end
  if next(s.skipped_by_reason) then out[#out + 1] = "  skipped: " .. by_reason(s.skipped_by_reason) end
  if s.spent then out[#out + 1] = "  spent: " .. output.value(s.spent) .. " (used_balance since the start)" end
  local n = #s.files
  if n > 0 then
    out[#out + 1] = string.format("  files: %d (%s%s)", n, output.line(s.files[1]), n > 1 and (" ... "
      .. output.line(s.files[n])) or "")
  end
  out[#out + 1] = "  journal: " .. output.line(journal.shown(args.journal))
  ctx.out:write(table.concat(out, "\n"), "\n")
end

return M

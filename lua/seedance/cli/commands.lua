--- The subcommands. Each takes the command's context (`out`, `err`, `tty`,
-- `json`, `log`) and the parsed flags, and returns an exit code. Everything
-- that can be checked is checked before the first paid request: settings,
-- the request, local inputs, output paths, the key.
-- @module seedance.cli.commands
-- @local

local core = require("seedance.core")
local errors = require("seedance.errors")
local exit = require("seedance.cli.exit")
local guard = require("seedance.cli.guard")
local journal_mod = require("seedance.journal")
local json = require("seedance.json")
local output = require("seedance.cli.output")
local parser = require("seedance.cli.parser")
local progress = require("seedance.progress")
local request = require("seedance.cli.request")
local scheduler = require("seedance.scheduler")
local seedance = require("seedance")
local settings = require("seedance.cli.settings")

local M = {}

local report = output.report

--- The command that picks a task up again (`seedance.cli.output.resume_command`).
M.resume_command = output.resume_command

--- Seconds `--wait-timeout` stands for when neither it nor the config file is given (wall-clock seconds).
M.WAIT_TIMEOUT = settings.WAIT_TIMEOUT

-- Report an interrupt in one line: the task, where it stands, what picks it up.
local function interrupted(ctx, g, task, args, partial)
  local sig = g.signal
  local state = task.status == "completed"
    and "has completed on the service (its result stays there about 24 hours)"
    or "keeps running on the service"
  local resume = M.resume_command(task.id, args, ctx.paid and ctx.paid.saved)
  local kept = partial and ("the partial download " .. partial .. ".part is kept; ") or ""
  local journal = args.journal and ("; or run this command again (--journal " .. journal_mod.shown(args.journal)
    .. " re-attaches)")
    or ""
  if ctx.show then ctx.show:done() end
  output.tell(ctx, string.format("seedance: interrupted (SIG%s): task %s %s; %spick it up with: %s%s",
    sig, task.id, state, kept, resume, journal))
  if ctx.json then
    output.json(ctx.out, { error = { type = "interrupted", signal = sig, task_id = task.id, resume = resume } })
  end
  return exit.for_signal(sig)
end

-- Stop at once (an interrupt while nothing is at stake).
local function stop_now(ctx)
  return function(sig)
    if ctx.show then ctx.show:done() end
    ctx.err:write("seedance: interrupted (SIG", sig, ")\n")
    os.exit(exit.for_signal(sig))
  end
end

-- The settings of a command that talks to the service (flags, environment, config file), checked;
-- ctx learns where each came from, for the hints of its messages.
local function resolve(ctx, args)
  local opts, info = settings.resolve(args)
  if not opts then return nil, info end
  ctx.settings, ctx.wait_timeout, ctx.time_scale = info, info.wait_timeout, opts.time_scale
  return opts, info
end

-- The client for a command that talks to the service, with its settings checked and a key set.
local function client_for(ctx, args, opts)
  if not opts then
    local err
    opts, err = resolve(ctx, args)
    if not opts then return nil, err end
  end
  if not opts.api_key then
    return nil, settings.usage("no API key: set SEEDANCE_API_KEY, or pass --api-key-file FILE (or name a key file "
      .. "with api_key_file in the config file %s)", ctx.settings.config.path or "")
  end
  return settings.client_from(opts, args, function(level, line) ctx.log(level, line) end)
end

-- A progress display on standard error, as wide as the terminal.
local function display(ctx, args)
  ctx.show = progress.new(ctx.err, { quiet = args.quiet or ctx.json, tty = ctx.tty, columns = ctx.columns })
  return ctx.show
end

-- Print what a finished command has: the task, its URLs, the files saved.
local function print_result(ctx, task, saved)
  if ctx.json then
    local j = output.task_json(task)
    j.output, j.last_frame_output = saved.video, saved.last_frame
    output.json(ctx.out, j)
    return
  end
  local lines = { string.format("task %s %s", task.id, output.line(task.status)) }
  if task.video_url then lines[#lines + 1] = "video: " .. output.line(task.video_url) end
  if task.last_frame_url then lines[#lines + 1] = "last frame: " .. output.line(task.last_frame_url) end
  if saved.video then lines[#lines + 1] = "saved: " .. output.line(saved.video) end
  if saved.last_frame then lines[#lines + 1] = "saved last frame: " .. output.line(saved.last_frame) end
  ctx.out:write(table.concat(lines, "\n"), "\n")
end

-- The error of a completed task with no last frame to save (after its video, if asked for, was saved).
local function no_last_frame(task, args, saved)
  local kept = saved.video and ("; its video was saved to " .. saved.video) or ""
  if args.command == "generate" then
    -- this request asked for one (--save-last-frame sets return_last_frame): the service did not deliver
    return errors.new{ type = "server_error", retryable = false, resume = false, message = string.format(
      "task %s has no last frame: the service sent none, though the request asked for one%s", task.id, kept) }
  end
  return settings.usage("task %s has no last frame: it was generated without --return-last-frame "
    .. "(return_last_frame = true)%s", task.id, kept)
end

-- Wait for a task (showing progress), then save what the flags ask for: the
-- video first, so a missing last frame never costs the video paid for.
local function finish(ctx, g, task, args)
  local show = ctx.show
  if not g:phase("wait", task) then return interrupted(ctx, g, task, args) end
  -- --wait-timeout counts wall seconds; the library's timeout is on the service's clock
  local wall = args.wait_timeout or ctx.wait_timeout or M.WAIT_TIMEOUT
  local ok, err = task:wait{ timeout = wall / (ctx.time_scale or 1), on_progress = function(t) show:task(t) end }
  show:done()
  if g.signal then return interrupted(ctx, g, task, args) end
  if not ok then
    if err.type == "timeout_error" and err.task_id == task.id then
      local source = not args.wait_timeout and ctx.settings and ctx.settings.sources.wait_timeout
      source = (source and source ~= "default") and ("wait_timeout, " .. source) or "--wait-timeout"
      err.message = string.format("task %s still %s after %s s (%s)", task.id, tostring(task.status),
        output.number(wall), source)
    end
    return report(ctx, err)
  end
  local saved = {}
  if ctx.paid then ctx.paid.saved = saved end   -- a resume command asks only for what is still missing
  for _, want in ipairs{ { args.output, "video" }, { args.save_last_frame, "last_frame" } } do
    local path = want[1]
    if path then
      if want[2] == "last_frame" and not task.last_frame_url and task.video_url then
        return report(ctx, no_last_frame(task, args, saved))
      end
      if not g:phase("download", task) then return interrupted(ctx, g, task, args) end
      local done, derr = task:download(path, { source = want[2],
        on_progress = function(n, total) show:bytes(n, total) end })
      show:done()
      if g.signal then return interrupted(ctx, g, task, args, path) end
      if not done then return report(ctx, derr) end
      saved[want[2]] = done
    end
  end
  g:phase("idle")
  print_result(ctx, task, saved)
  return exit.EXIT.ok
end

--- The state of generate's submit and what an interrupt does to it: `key` (the journal's, when it
-- recorded one, wins), `sent` (the first attempt went out), `unanswered` (an attempt went without an
-- answer, or answered 5xx: the service may have made the task), `pause_until` (when the pause
-- before the next attempt ends, on the scheduler's clock), `signal`.
--
-- Not sent yet: stop at once, nothing paid. Pausing between attempts (a 429's Retry-After, a
-- backoff; `between`): stop at once, naming the key when an attempt went unanswered. Otherwise the
-- submit is on the wire, or its answer has come and is on its way to the command (no transfer is
-- in flight then, yet the task may be paid and is about to be named): the first signal prints the
-- key and the command that picks the task up, then lets the submit finish (its task is named when it
-- comes); a second one stops at once.
-- @tparam table ctx the command's context
-- @tparam string key the Idempotency-Key the submit goes under
-- @treturn table with `on_signal(sig, count)` (the guard's on_submit), `on_retry(err, attempt, delay)`
-- @local
function M.submit_state(ctx, key)
  local sub = { key = key, sent = false, unanswered = false }
  -- Stop the process now with one line (and the JSON error with --json).
  local function stop(sig, text)
    if ctx.show then ctx.show:done() end
    output.tell(ctx, output.line(text))
    if ctx.json then
      output.json(ctx.out, { error = { type = "interrupted", signal = sig, idempotency_key = sub.key,
        resume = sub.unanswered and output.generate_command(ctx.argv, sub.key) or nil } })
    end
    ctx.out:flush()
    ctx.err:flush()
    os.exit(exit.for_signal(sig))
  end
  -- Stop between two attempts: nothing is on the wire.
  function sub.between(sig)
    if sub.unanswered then
      stop(sig, string.format("seedance: interrupted (SIG%s) during the submit: %s", sig,
        (output.unanswered_note(ctx, sub.key))))
    end
    stop(sig, string.format("seedance: interrupted (SIG%s) while the submit waited to try again (the service had "
      .. "refused it: nothing was paid)", sig))
  end
  --- The guard's on_submit(sig, count).
  function sub.on_signal(sig, count)
    sub.signal = sub.signal or sig
    if not sub.sent then
      stop(sig, string.format("seedance: interrupted (SIG%s) before the submit was sent: nothing was paid", sig))
    end
    -- between two attempts only while the pause runs: once it ends the next attempt goes (or has gone) out,
    -- and an answer that has come but not yet reached the command is a task paid for, to be named
    if sub.pause_until and scheduler.now() < sub.pause_until then return sub.between(sig) end
    sub.unanswered = true -- on the wire: it may be made, whatever becomes of its answer
    if count >= 2 then
      stop(sig, string.format("seedance: interrupted (SIG%s) during the submit: %s", sig,
        (output.unanswered_note(ctx, sub.key, "it was stopped on its way, before its answer came"))))
    end
    if ctx.show then ctx.show:done() end
    output.tell(ctx, output.line(string.format("seedance: SIG%s: the submit is on its way; waiting for its answer "
      .. "to name the task. A second one stops now; then %s", sig,
      (output.unanswered_note(ctx, sub.key, "it was on its way")))))
  end
  --- The client's on_retry: an attempt failed, the next one goes after `delay` seconds; after a signal,
  -- stop before it.
  function sub.on_retry(err, _, delay)
    if sub.done then return end
    if not (err.status and err.status >= 400 and err.status < 500) then sub.unanswered = true end
    sub.pause_until = scheduler.now() + (delay or 0)
    if sub.signal then sub.between(sub.signal) end
  end
  return sub
end
local submit_state = M.submit_state

--- `seedance generate`: check everything, submit, then (with --wait, -o or
-- --save-last-frame) wait and save. The submit goes under an Idempotency-Key
-- chosen first (`--idempotency-key KEY` gives it): a submit whose answers were
-- lost, or that an interrupt cut off, prints the key and the exact command
-- that picks its task up without paying again.
-- @tparam table ctx
-- @tparam table args
-- @treturn integer exit code
function M.generate(ctx, args)
  ctx.json = args.json
  if args.journal == "-" then return report(ctx, request.no_dash("--journal")) end
  if args.model_rules then
    local ok, merr = require("seedance.cli.batch").load_model_rules(args.model_rules)
    if not ok then return report(ctx, merr) end
  end
  local opts, serr = resolve(ctx, args)
  if not opts then return report(ctx, serr) end
  ctx.settings.used = {}   -- the config file's request keys the request took (for the validator's messages)
  local req, rerr = request.build(args, ctx.settings.defaults, ctx.settings.used)
  if not req then return report(ctx, rerr) end
  local sub = submit_state(ctx, args.idempotency_key or core.random_hex(16))
  opts.on_retry = sub.on_retry
  local client, cerr = client_for(ctx, args, opts)
  if not client then return report(ctx, cerr) end
  -- a re-run with its journal re-attaches to the task whose result may stand at -o already
  local rerun = args.journal and (journal_mod.is_url(args.journal)
    or ((core.stat(args.journal) or {}).size or 0) > 0)
  local ok, perr = request.preflight(req, { ["-o"] = args.output, ["--save-last-frame"] = args.save_last_frame },
    not args.no_validate, args, rerun)
  if not ok then
    client:close()
    return report(ctx, perr)
  end
  local show = display(ctx, args)
  local _, code = guard.run(function(g)
    g:phase("submit")
    local task, err = client:generate(req, { idempotency_key = sub.key, output = args.output, -- (for the journal)
      before_submit = function(key)
      sub.key = key
      if g.signal then return false end -- an interrupt came while nothing was sent: send nothing
      sub.sent = true
      return true
    end })
    sub.done = true
    if not task then
      if g.signal and err.type == "aborted" and not sub.sent then
        if ctx.show then ctx.show:done() end
        output.tell(ctx, string.format("seedance: interrupted (SIG%s) before the submit was sent: nothing was paid",
          g.signal))
        return exit.for_signal(g.signal)
      end
      report(ctx, err)
      return g.signal and exit.for_signal(g.signal) or exit.code(err)
    end
    -- paid for: from here every failure names the task and the command that fetches its result, and the
    -- id reaches standard error in every mode, whatever becomes of standard output
    ctx.paid = { id = task.id, args = args }
    ctx.err:write(task.reattached and string.format("re-attached to task %s (from --journal %s): not paid again\n",
      task.id, output.line(journal_mod.shown(args.journal))) or string.format("submitted task %s\n", task.id))
    if g.signal then return interrupted(ctx, g, task, args) end
    if not (args.wait or args.output or args.save_last_frame) then
      g:phase("idle")
      if ctx.json then output.json(ctx.out, output.task_json(task)) else ctx.out:write(task.id, "\n") end
      return exit.EXIT.ok
    end
    return finish(ctx, g, task, args)
  end, { show = show, stop_now = stop_now(ctx), on_submit = sub.on_signal })
  client:close()
  return code
end

-- The handle of the task the user named, or a usage error that says what an id looks like: one
-- inside a URL or with blanks around it (a copy and paste) gets "did you mean task_...?".
local function task_of(client, id)
  local ok, task = pcall(client.task, client, id)
  if ok then return task end
  local inner = id:match("task_[%w_%-]+")
  return nil, settings.usage("%s; %s", tostring(task):match("%((.*)%)$") or tostring(task),
    inner and inner ~= id and string.format("did you mean %s?", inner)
      or "give the id as `seedance generate` printed it (task_...)")
end

--- `seedance wait ID` and `seedance download ID`: wait for the task, save what the flags ask for.
-- @tparam table ctx
-- @tparam table args
-- @treturn integer exit code
function M.wait(ctx, args)
  ctx.json = args.json
  if args.command == "download" and not (args.output or args.save_last_frame) then
    return report(ctx, settings.usage("download needs -o FILE (the video) or --save-last-frame FILE"))
  end
  ctx.task_arg = args.id
  local client, cerr = client_for(ctx, args)
  if not client then return report(ctx, cerr) end
  local ok, perr = request.check_outputs({ ["-o"] = args.output, ["--save-last-frame"] = args.save_last_frame },
    request.inputs(nil, args), args.force)
  if not ok then
    client:close()
    return report(ctx, perr)
  end
  local task, terr = task_of(client, args.id)
  if not task then
    client:close()
    return report(ctx, terr)
  end
  ctx.paid = { id = task.id, args = args }
  local show = display(ctx, args)
  local _, code = guard.run(function(g) return finish(ctx, g, task, args) end,
    { show = show, stop_now = stop_now(ctx) })
  return code
end
M.download = M.wait

--- `seedance status ID`: one poll, printed.
-- @tparam table ctx
-- @tparam table args
-- @treturn integer exit code
function M.status(ctx, args)
  ctx.json = args.json
  ctx.task_arg = args.id
  local client, cerr = client_for(ctx, args)
  if not client then return report(ctx, cerr) end
  local task, terr = task_of(client, args.id)
  if not task then
    client:close()
    return report(ctx, terr)
  end
  local _, code = guard.run(function()
    local ok, err = task:refresh()
    if not ok then return report(ctx, err) end
    if ctx.json then
      output.json(ctx.out, output.task_json(task))
      return exit.EXIT.ok
    end
    local lines = { string.format("%s  %s  %s%%", task.id, output.line(task.status), output.value(task.progress or 0)) }
    if task.video_url then lines[#lines + 1] = "video: " .. output.line(task.video_url) end
    if task.last_frame_url then lines[#lines + 1] = "last frame: " .. output.line(task.last_frame_url) end
    if type(task.expires_at) == "number" then
      lines[#lines + 1] = "expires: " .. os.date("!%Y-%m-%d %H:%M:%S UTC", task.expires_at)
    end
    if task.error then lines[#lines + 1] = "error: " .. output.line(output.advice(task.error.message)) end
    ctx.out:write(table.concat(lines, "\n"), "\n")
    return exit.EXIT.ok
  end, { stop_now = stop_now(ctx) })
  return code
end

--- `seedance balance`.
-- @tparam table ctx
-- @tparam table args
-- @treturn integer exit code
function M.balance(ctx, args)
  ctx.json = args.json
  local client, cerr = client_for(ctx, args)
  if not client then return report(ctx, cerr) end
  local _, code = guard.run(function()
    local bal, err = client:balance()
    if not bal then return report(ctx, err) end
    bal = output.clean(bal)
    if ctx.json then
      ctx.out:write(json.encode(bal), "\n")
    else
      local remain = bal.remain_balance
      ctx.out:write("remaining: ", (remain == -1 or bal.unlimited_quota == true) and "unlimited"
        or output.value(remain), "\nused: ", output.value(bal.used_balance), "\n")
    end
    return exit.EXIT.ok
  end, { stop_now = stop_now(ctx) })
  return code
end

--- `seedance validate FILE.json`: the validator, no network.
-- @tparam table ctx
-- @tparam table args
-- @treturn integer exit code
function M.validate(ctx, args)
  ctx.json = args.json
  if args.model_rules then
    local ok, merr = require("seedance.cli.batch").load_model_rules(args.model_rules)
    if not ok then return report(ctx, merr) end
  end
  local req, err = request.read(args.file)
  if not req then return report(ctx, err) end
  local ok, verr = seedance.validate(req)
  if not ok then return report(ctx, verr) end
  if ctx.json then
    output.json(ctx.out, { file = args.file, valid = true })
  else
    ctx.out:write(output.line(args.file), ": valid\n")
  end
  return exit.EXIT.ok
end

--- `seedance config`: the settings in effect, each with where it came from
-- (a flag, a variable, the config file's line, the default); the key masked.
-- @tparam table ctx
-- @tparam table args
-- @treturn integer exit code
function M.config(ctx, args)
  ctx.json = args.json
  local _, info = resolve(ctx, args)
  if not info or not info.values then return report(ctx, info) end
  local conf = info.config
  local names = { "base_url", "api_key", "api_key_file", "proxy", "ca_file", "model", "resolution", "timeout",
                  "wait_timeout" }
  if ctx.json then
    local list = {}
    for _, name in ipairs(names) do
      list[name] = { value = info.values[name] or json.null, source = info.sources[name] }
    end
    output.json(ctx.out, { config_file = { path = conf.path or json.null, exists = conf.exists }, settings = list })
    return exit.EXIT.ok
  end
  local none = { api_key = "not set", api_key_file = "none", proxy = "none", ca_file = "libcurl's CA bundle",
                 resolution = "the service's default (480p)" }
  local lines = { string.format("%-13s %s", "config file", conf.path and (conf.path .. (conf.exists and ""
    or " (there is none)")) or "none (no HOME)") }
  for _, name in ipairs(names) do
    local v = info.values[name]
    v = v == nil and none[name] or output.number(v)
    lines[#lines + 1] = output.line(string.format("%-13s %-32s %s", name, v, info.sources[name]))
  end
  ctx.out:write(table.concat(lines, "\n"), "\n")
  return exit.EXIT.ok
end

--- `seedance completion bash|zsh|fish`: the completion script, written from
-- the same parsers as help (`seedance.cli.parser.completion_script`).
-- @tparam table ctx
-- @tparam table args
-- @treturn integer exit code
function M.completion(ctx, args)
  ctx.out:write(parser.completion_script(args.shell))
  return exit.EXIT.ok
end

--- `seedance batch FILE` (`seedance.cli.batch`).
-- @function batch
M.batch = function(ctx, args) return require("seedance.cli.batch").run(ctx, args) end

--- `seedance abandon TASK_ID --journal FILE` (`seedance.cli.journal`).
-- @function abandon
M.abandon = function(ctx, args) return require("seedance.cli.journal").abandon(ctx, args) end

--- `seedance journal FILE` (`seedance.cli.journal`).
-- @function journal
M.journal = function(ctx, args) return require("seedance.cli.journal").list(ctx, args) end

--- `seedance version`.
-- @tparam table ctx
-- @treturn integer exit code
function M.version(ctx)
  ctx.out:write("seedance ", seedance._VERSION, "\n")
  return exit.EXIT.ok
end

return M

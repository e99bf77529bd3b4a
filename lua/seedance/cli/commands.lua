--- The subcommands. Each takes the command's context (`out`, `err`, `tty`,
-- `json`, `log`) and the parsed flags, and returns an exit code. Everything
-- that can be checked is checked before the first paid request: settings,
-- the request, local inputs, output paths, the key.
-- @module seedance.cli.commands
-- @local

local cjson = require("cjson.safe")
local exit = require("seedance.cli.exit")
local guard = require("seedance.cli.guard")
local output = require("seedance.cli.output")
local progress = require("seedance.progress")
local request = require("seedance.cli.request")
local seedance = require("seedance")
local settings = require("seedance.cli.settings")

local M = {}

local report = output.report

-- A word for the shell: quoted unless it is plainly safe.
local function shell_word(s)
  if s:match("^[%w%./_:=@%-]+$") then return s end
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

--- The command that picks a task up again: `seedance wait ID -o FILE`, with
-- the settings flags this run was given (never the key itself).
-- @tparam string id
-- @tparam table args the parsed flags
-- @treturn string
function M.resume_command(id, args)
  local words = { "seedance", "wait", id }
  local function add(flag, v)
    if v ~= nil and v ~= false then
      words[#words + 1] = flag
      if v ~= true then words[#words + 1] = shell_word(tostring(v)) end
    end
  end
  add("-o", args.output)
  add("--save-last-frame", args.save_last_frame)
  add("--base-url", args.base_url)
  add("--api-key-file", args.api_key_file)
  add("--allow-insecure-http", args.allow_insecure_http)
  add("--proxy", args.proxy)
  return table.concat(words, " ")
end

-- Report an interrupt in one line: the task, where it stands, what picks it up.
local function interrupted(ctx, g, task, args, partial)
  local sig = g.signal
  local state = task.status == "completed"
    and "has completed on the service (its result stays there about 24 hours)"
    or "keeps running on the service"
  local resume = M.resume_command(task.id, args)
  local kept = partial and ("the partial download " .. partial .. ".part is kept; ") or ""
  local journal = args.journal and ("; or run this command again (--journal " .. args.journal .. " re-attaches)")
    or ""
  if ctx.show then ctx.show:done() end
  ctx.err:write(string.format("seedance: interrupted (SIG%s): task %s %s; %spick it up with: %s%s\n",
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

-- The client for a command that talks to the service, with its settings checked and a key set.
local function client_for(ctx, args)
  local client, opts = settings.client(args, function(level, line) ctx.log(level, line) end)
  if not client then return nil, opts end
  if not opts.api_key then
    return nil, settings.usage("no API key: set SEEDANCE_API_KEY, or pass --api-key-file FILE")
  end
  return client
end

-- A progress display on standard error.
local function display(ctx, args, client)
  ctx.show = progress.new(ctx.err, { quiet = args.quiet or ctx.json, tty = ctx.tty,
                                     time_scale = client.settings.time_scale })
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
  local lines = { string.format("task %s %s", task.id, tostring(task.status)) }
  if task.video_url then lines[#lines + 1] = "video: " .. task.video_url end
  if task.last_frame_url then lines[#lines + 1] = "last frame: " .. task.last_frame_url end
  if saved.video then lines[#lines + 1] = "saved: " .. saved.video end
  if saved.last_frame then lines[#lines + 1] = "saved last frame: " .. saved.last_frame end
  ctx.out:write(output.clean(table.concat(lines, "\n")), "\n")
end

-- Wait for a task (showing progress), then save what the flags ask for.
local function finish(ctx, g, task, args)
  local show = ctx.show
  if not g:phase("wait", task) then return interrupted(ctx, g, task, args) end
  local ok, err = task:wait{ timeout = args.wait_timeout, on_progress = function(t) show:task(t) end }
  show:done()
  if g.signal then return interrupted(ctx, g, task, args) end
  if not ok then return report(ctx, err) end
  if args.save_last_frame and not task.last_frame_url and task.video_url then
    return report(ctx, settings.usage("task %s has no last frame: it was generated without --return-last-frame "
      .. "(return_last_frame = true)", task.id))
  end
  local saved = {}
  for _, want in ipairs{ { args.output, "video" }, { args.save_last_frame, "last_frame" } } do
    local path = want[1]
    if path then
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

--- `seedance generate`: check everything, submit, then (with --wait, -o or
-- --save-last-frame) wait and save.
-- @tparam table ctx
-- @tparam table args
-- @treturn integer exit code
function M.generate(ctx, args)
  ctx.json = args.json
  local req, rerr = request.build(args)
  if not req then return report(ctx, rerr) end
  local client, cerr = client_for(ctx, args)
  if not client then return report(ctx, cerr) end
  local ok, perr = request.preflight(req, { ["-o"] = args.output, ["--save-last-frame"] = args.save_last_frame },
    not args.no_validate)
  if not ok then return report(ctx, perr) end
  local show = display(ctx, args, client)
  local _, code = guard.run(function(g)
    g:phase("submit")
    local task, err = client:generate(req)
    if not task then
      report(ctx, err)
      return g.signal and exit.for_signal(g.signal) or exit.code(err)
    end
    if not ctx.json then
      ctx.err:write(task.reattached and string.format("re-attached to task %s (from --journal %s): not paid again\n",
        task.id, args.journal) or string.format("submitted task %s\n", task.id))
    end
    if g.signal then return interrupted(ctx, g, task, args) end
    if not (args.wait or args.output or args.save_last_frame) then
      g:phase("idle")
      if ctx.json then output.json(ctx.out, output.task_json(task)) else ctx.out:write(task.id, "\n") end
      return exit.EXIT.ok
    end
    return finish(ctx, g, task, args)
  end, { show = show, stop_now = stop_now(ctx) })
  client:close()
  return code
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
  local client, cerr = client_for(ctx, args)
  if not client then return report(ctx, cerr) end
  local ok, perr = request.check_outputs{ ["-o"] = args.output, ["--save-last-frame"] = args.save_last_frame }
  if not ok then return report(ctx, perr) end
  local tok, task = pcall(client.task, client, args.id)
  if not tok then
    return report(ctx, settings.usage("%s", tostring(task):match("%((.*)%)$") or tostring(task)))
  end
  local show = display(ctx, args, client)
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
  local client, cerr = client_for(ctx, args)
  if not client then return report(ctx, cerr) end
  local tok, task = pcall(client.task, client, args.id)
  if not tok then
    return report(ctx, settings.usage("%s", tostring(task):match("%((.*)%)$") or tostring(task)))
  end
  local _, code = guard.run(function()
    local ok, err = task:refresh()
    if not ok then return report(ctx, err) end
    if ctx.json then
      output.json(ctx.out, output.task_json(task))
      return exit.EXIT.ok
    end
    local lines = { string.format("%s  %s  %s%%", task.id, tostring(task.status), output.number(task.progress or 0)) }
    if task.video_url then lines[#lines + 1] = "video: " .. task.video_url end
    if task.last_frame_url then lines[#lines + 1] = "last frame: " .. task.last_frame_url end
    if task.expires_at then lines[#lines + 1] = "expires: " .. os.date("!%Y-%m-%d %H:%M:%S UTC", task.expires_at) end
    if task.error then lines[#lines + 1] = "error: " .. tostring(task.error.message) end
    ctx.out:write(output.clean(table.concat(lines, "\n")), "\n")
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
      ctx.out:write(cjson.encode(bal), "\n")
    else
      local remain = bal.remain_balance
      ctx.out:write("remaining: ", (remain == -1 or bal.unlimited_quota == true) and "unlimited"
        or output.number(remain), "\nused: ", output.number(bal.used_balance), "\n")
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
  local req, err = request.read(args.file)
  if not req then return report(ctx, err) end
  local ok, verr = seedance.validate(req)
  if not ok then return report(ctx, verr) end
  ctx.out:write(output.clean(args.file), ": valid\n")
  return exit.EXIT.ok
end

--- `seedance version`.
-- @tparam table ctx
-- @treturn integer exit code
function M.version(ctx)
  ctx.out:write("seedance ", seedance._VERSION, "\n")
  return exit.EXIT.ok
end

return M

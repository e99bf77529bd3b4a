-- mutants/cli.lua: mutations of the cli promises (mutants/catalogue.lua says how a row reads).
return {
  { name = "cli-advice-translated",
    promise = "the library's Lua advice reaches the command's user in the command's words",
    file = "lua/seedance/cli/output.lua",
    from = [[
  for _, pair in ipairs(M.ADVICE) do
]],
    to = [[
  for _, pair in ipairs({}) do
]] },
  { name = "cli-dash-not-a-file",
    promise = "'-' is refused where only a file can go (no file named '-')",
    file = "lua/seedance/cli/request.lua",
    from = [[
      if path == "-" then return nil, M.no_dash(flag) end
]],
    to = [[
]] },
  { name = "cli-dash-values",
    promise = "a value beginning with a dash (--seed -1) is the option's value, not an unknown option",
    file = "lua/seedance/cli/parser.lua",
    from = [[
  local ok, pok, result = pcall(p.pparse, p, M.attach_values(argv))
]],
    to = [[
  local ok, pok, result = pcall(p.pparse, p, argv)
]] },
  { name = "cli-interrupt-closes-task",
    promise = "an interrupt during a download aborts it at once and keeps the .part",
    file = "lua/seedance/cli/guard.lua",
    from = [[
    self.task:close()
]],
    to = [[
    self.noted = true
]] },
  { name = "cli-interrupt-submit-finishes",
    promise = "an interrupt during the submit lets it finish, so the task paid for is named",
    file = "lua/seedance/cli/commands.lua",
    from = [[
    if count >= 2 then
]],
    to = [[
    if count >= 1 then
]] },
  { name = "cli-interrupt-trap",
    promise = "SIGINT during a wait stops with one line naming the task and the command that picks it up (exit 130)",
    file = "lua/seedance/cli/guard.lua",
    from = [[
    core.trap_signals()
]],
    to = [[
]] },
  { name = "cli-journal-flag",
    promise = "generate --journal FILE makes a re-run re-attach instead of paying again",
    file = "lua/seedance/cli/settings.lua",
    from = [[
  opts.timeout, opts.journal = info.values.timeout, args.journal
]],
    to = [[
  opts.timeout = info.values.timeout
]] },
  { name = "cli-json-usage-errors",
    promise = "with --json a usage error is one JSON object on standard output",
    file = "lua/seedance/cli/parser.lua",
    from = [[
    if a == "--json" then return true end
]],
    to = [[
    if a == "--json" then return false end
]] },
  { name = "cli-last-frame-missing",
    promise = "download --save-last-frame of a task made without return_last_frame says so at once (exit 2)",
    file = "lua/seedance/cli/commands.lua",
    from = [[
      if want[2] == "last_frame" and not task.last_frame_url and task.video_url then
]],
    to = [[
      if false and want[2] == "last_frame" and not task.last_frame_url and task.video_url then
]] },
  { name = "cli-masked-without-scheme",
    promise = "user info is masked in a URL written without its scheme",
    file = "lua/seedance/cli/output.lua",
    from = [[
  if not scheme then scheme, rest = "", s end
]],
    to = [[
  if not scheme then return s end
]] },
  { name = "cli-one-line-no-escapes",
    promise = "a server's text reaches the terminal without control characters, on one line",
    file = "lua/seedance/cli/output.lua",
    from = [[
  s = s:gsub("\r\n", " "):gsub("[\r\n\t\v\f]", " "):gsub("[%z\1-\31\127]", "?"):gsub("\194[\128-\159]", "?")
]],
    to = [[
]] },
  { name = "cli-output-utf8",
    promise = "the command's output is valid UTF-8 whatever the server sent",
    file = "lua/seedance/cli/commands.lua",
    from = [[
    bal = output.clean(bal)
]],
    to = [[

]] },
  { name = "cli-paid-task-named",
    promise = "after paying, every failure names the task and the command that picks it up",
    file = "lua/seedance/cli/output.lua",
    from = [[
  local paid = ctx.paid
]],
    to = [[
  local paid = nil
]] },
  { name = "cli-preflight-outputs",
    promise = "the command checks its output paths before paying (a missing folder creates no task)",
    file = "lua/seedance/cli/request.lua",
    from = [[
  return M.check_outputs(outputs, M.inputs(req, args), args.force or rerun)
]],
    to = [[
  return true
]] },
  { name = "cli-settings-http-message",
    promise = "a plain-http base URL is refused in the command user's words (--allow-insecure-http)",
    edits = {
      { file = "lua/seedance/cli/output.lua",
        from = [[
  { "use https (or allow_insecure_http)", "use https, or pass --allow-insecure-http" },
  { "unless allow_insecure_media is set for a gateway of your own",
    "(the command fetches results only over https, or plain http from this machine)" },
  { "allow_insecure_http", "--allow-insecure-http" },
]],
        to = [[
  { "unless allow_insecure_media is set for a gateway of your own",
    "(the command fetches results only over https, or plain http from this machine)" },
]] },
      { file = "lua/seedance/cli/settings.lua",
        from = [[
  if p and p.scheme == "http" and not p.userinfo and not urls.is_link_local(p.host) then
]],
        to = [[
  if false and p and p.scheme == "http" and not p.userinfo and not urls.is_link_local(p.host) then
]] },
    } },
  { name = "cli-std-fds-open",
    promise = "descriptors 0-2 are open before the command opens a file (a journal never becomes stdout or stderr)",
    file = "lua/seedance/cli.lua",
    from = [[
  if out == nil and errout == nil then core.prepare_command() end
]],
    to = [[
]] },
  { name = "cli-stdout-checked",
    promise = "a standard output that cannot be written is a file error, not a success",
    file = "lua/seedance/cli.lua",
    from = [[
  local ok, why = ctx.out:flush()
]],
    to = [[
  local ok, why = true, nil
]] },
  { name = "cli-text-bom",
    promise = "a key or request file saved with a UTF-8 byte order mark is read",
    file = "lua/seedance/cli/text.lua",
    from = [[
  if text:sub(1, 3) == M.BOM then text = text:sub(4) end
]],
    to = [[
]] },
  { name = "cli-time-scale-local",
    promise = "SEEDANCE_TIME_SCALE applies only to a base URL on this machine",
    file = "lua/seedance/cli/settings.lua",
    from = [[
  opts.time_scale = scale ~= true and M.is_local(opts.base_url) and scale or 1
]],
    to = [[
  opts.time_scale = scale ~= true and scale or 1
]] },
  { name = "cli-video-before-frame",
    promise = "the paid video is saved before a missing last frame is reported",
    file = "lua/seedance/cli/commands.lua",
    from = [[
  local saved = {}
]],
    to = [[
  local saved = {}
  if args.save_last_frame and not task.last_frame_url and task.video_url then
    return report(ctx, no_last_frame(task, args, saved))
  end
]] },
  { name = "cli-wait-timeout-wall",
    promise = "--wait-timeout counts wall seconds, whatever SEEDANCE_TIME_SCALE",
    file = "lua/seedance/cli/commands.lua",
    from = [[
  local ok, err = task:wait{ timeout = wall / (ctx.time_scale or 1), on_progress = function(t) show:task(t) end }
]],
    to = [[
  local ok, err = task:wait{ timeout = wall, on_progress = function(t) show:task(t) end }
]] },
  { name = "cli-whole-numbers",
    promise = "whole numbers print as whole numbers (balance: 999873, not 999873.0)",
    file = "lua/seedance/cli/output.lua",
    from = [[
  if n == math.floor(n) and n > -2 ^ 53 and n < 2 ^ 53 then return numbers.format("%.0f", n) end
]],
    to = [[
]] },
  { name = "progress-bar-between-polls",
    promise = "the bar moves between polls (a ticker redraws from the estimate)",
    file = "lua/seedance/cli/guard.lua",
    from = [[
          opts.show:tick()
]],
    to = [[
]] },
  { name = "progress-draws-task-estimate",
    promise = "the command's bar and ETA are the task's own estimate (task:progress_at), read at every redraw",
    file = "lua/seedance/progress.lua",
    from = [[
  local shown, eta = self:estimate(now)
]],
    to = [[
  local shown, eta = self.reported, nil
]] },
  { name = "progress-fits-width",
    promise = "the progress line fits the terminal's width",
    file = "lua/seedance/progress.lua",
    from = [[
  if not columns then return M.bar(fraction) .. " " .. text end
]],
    to = [[
  do return M.bar(fraction) .. " " .. text end
]] },
  { name = "progress-speed-this-attempt",
    promise = "download speed counts only this attempt's bytes (a sliding window)",
    file = "lua/seedance/progress.lua",
    from = [[
  return (b.done - a.done) / span
]],
    to = [[
  return b.done / span
]] },
  { name = "cli-sigpipe-ignored",
    promise = "the command ignores SIGPIPE: a standard output or error whose reader went away is a file error "
      .. "(exit 10) and the video is still saved, never death by SIGPIPE",
    file = "src/signals.c",
    from = [[
        sigaction(SIGPIPE, &sa, NULL);
]],
    to = [[
]] },
  { name = "cli-stderr-checked",
    promise = "a standard error that could not be written is a file error (exit 10), said on standard output",
    file = "lua/seedance/cli.lua",
    from = [[
  local eok, ewhy = ctx.err:flush()
]],
    to = [[
  local eok, ewhy = true, nil
]] },
  { name = "cli-interrupt-between-attempts",
    promise = "an interrupt while the submit pauses between attempts (a 429's Retry-After) stops at once: no "
      .. "further attempt is sent",
    timeout = 90,
    file = "lua/seedance/cli/commands.lua",
    from = [[
    if sub.pause_until and scheduler.now() < sub.pause_until then return sub.between(sig) end
]],
    to = [[
]] },
  { name = "cli-second-signal-named",
    promise = "a second signal does not kill the command outright: it stops with the submit's key and the command "
      .. "that picks its task up (a third one does)",
    timeout = 90,
    file = "src/signals.c",
    from = [[
    sa.sa_flags = 0; /* no SA_RESTART: blocking calls return EINTR */
]],
    to = [[
    sa.sa_flags = SA_RESETHAND; /* no SA_RESTART: blocking calls return EINTR */
]] },
  { name = "cli-submit-key-first",
    promise = "the first signal during a submit on its way prints its Idempotency-Key and the command that picks "
      .. "its task up at once, before the answer",
    timeout = 90,
    file = "lua/seedance/cli/commands.lua",
    from = [[
    output.tell(ctx, output.line(string.format("seedance: SIG%s: the submit is on its way; waiting for its answer "
]],
    to = [[
    local _ = (output.line(string.format("seedance: SIG%s: the submit is on its way; waiting for its answer "
]] },
  { name = "cli-sighup",
    promise = "the command handles SIGHUP (a closed terminal) as SIGTERM: one line naming the task, exit 129",
    file = "src/signals.c",
    from = [[
    if (sd_trap(SIGHUP) != 0) return luaL_error(L, "cannot trap signals");
]],
    to = [[
]] },
  { name = "cli-unanswered-resume",
    promise = "a submit whose answers were lost (it may have paid) prints its Idempotency-Key and the exact command "
      .. "that picks its task up (--idempotency-key KEY); with --json the error carries both",
    file = "lua/seedance/cli/output.lua",
    from = [[
  if not ctx.paid and ctx.argv and M.maybe_paid(err) then
]],
    to = [[
  if false then
]] },
  { name = "cli-figures-locale-free",
    promise = "the command's figures (sizes, seconds, balances) read the same under any locale",
    edits = {
      { file = "lua/seedance/progress.lua",
        from = [[
  if n >= 1024 * 1024 then return numbers.format("%.1f", n / 1048576) .. " MiB" end
]],
        to = [[
  if n >= 1024 * 1024 then return string.format("%.1f", n / 1048576) .. " MiB" end
]] },
      { file = "lua/seedance/cli/output.lua",
        from = [[
  return numbers.format("%.6g", n)
]],
        to = [[
  return string.format("%.6g", n)
]] },
    } },
  { name = "progress-server-clock",
    promise = "a task's progress estimate (task:progress_at, the command's bar) reads its age (its created) on the "
      .. "service's clock, not this machine's",
    edits = {
      { file = "lua/seedance/task.lua",
        from = [[
  self._estimate:observe(now, self.status, self.progress, self.estimated_time, self.created, self:server_time())
]],
        to = [[
  self._estimate:observe(now, self.status, self.progress, self.estimated_time, self.created, os.time())
]] },
      { file = "lua/seedance/task.lua",
        from = [[
      e:observe(now, status, progress, self.estimated_time, self.created, self:server_time())
]],
        to = [[
      e:observe(now, status, progress, self.estimated_time, self.created, os.time())
]] },
    } },
  { name = "cli-submit-answer-pending",
    promise = "a signal during generate's submit stops at once only while the submit pauses before another "
      .. "attempt; once its answer has come (no transfer in flight) the task may be paid: the key is printed and "
      .. "the task is let be named",
    file = "lua/seedance/cli/commands.lua",
    from = [[
    if sub.pause_until and scheduler.now() < sub.pause_until then return sub.between(sig) end
]],
    to = [[
    if scheduler.stats().transfers == 0 then return sub.between(sig) end
]] },
  { name = "cli-help-argument-names",
    promise = "each command's help names its arguments (ID, FILE.json, COMMAND) as its usage line does",
    file = "lua/seedance/cli/parser.lua",
    from = [[
  if opts.id then c:argument("ID", "The task id."):target("id"):argname("ID") end
]],
    to = [[
  if opts.id then c:argument("id", "The task id."):argname("ID") end
]] },
  { name = "batch-validates-every-line",
    promise = "seedance batch validates every line before paying: every problem listed, exit 3, nothing sent",
    file = "lua/seedance/cli/batch_input.lua",
    from = [[
        problems[#problems + 1] = { line = item.line, field = p.field, message = p.message }
]],
    to = [[
]] },
  { name = "batch-journal-default",
    promise = "a batch is always journaled (FILE.journal beside FILE): the same command again pays for nothing",
    file = "lua/seedance/cli/batch.lua",
    from = [[
  local client, cerr = settings.client_from(copts, args, function(level, line) ctx.log(level, line) end)
]],
    to = [[
  copts.journal = nil
  local client, cerr = settings.client_from(copts, args, function(level, line) ctx.log(level, line) end)
]] },
  { name = "batch-line-numbers",
    promise = "an item is known by its line number: -o PATTERN takes it (blank lines count)",
    file = "lua/seedance/cli/batch_input.lua",
    from = [[
        local path = string.format(o[1], line)
]],
    to = [[
        local path = string.format(o[1], i)
]] },
  { name = "batch-dry-run",
    promise = "seedance batch --dry-run pays nothing and writes no journal",
    file = "lua/seedance/cli/batch.lua",
    from = [[
  if args.dry_run then return dry_run(ctx, copts, items, jrnl, args) end
]],
    to = [[
]] },
  { name = "batch-existing-output",
    promise = "seedance batch never overwrites a file it did not make: an output already there stops it before paying",
    file = "lua/seedance/cli/batch_input.lua",
    from = [[
          if files.size(path) and not (entry and (entry.downloads[path] or (this_line and not saved_by[path]))) then
]],
    to = [[
          if false then
]] },
  { name = "batch-exit-9",
    promise = "seedance batch exits 9 when any line failed (or was skipped), 0 only when every line is done",
    file = "lua/seedance/cli/batch.lua",
    from = [[
  elseif stats.failed > 0 or stats.skipped > abandoned then
]],
    to = [[
  elseif false then
]] },
  { name = "batch-interrupt",
    promise = "Ctrl-C in seedance batch stops submitting, lets a submit in flight finish and prints the command that resumes",
    file = "lua/seedance/cli/guard.lua",
    from = [[
  elseif self.name == "batch" and self.on_interrupt then
]],
    to = [[
  elseif false then
]] },
  { name = "batch-max-spend",
    promise = "seedance batch --max-spend stops submitting at the cap",
    file = "lua/seedance/cli/batch.lua",
    from = [[
    max_spend = args.max_spend, generate = { validate = not args.no_validate },
]],
    to = [[
    max_spend = nil, generate = { validate = not args.no_validate },
]] },
  { name = "batch-existing-output-this-task",
    promise = "an output already there is a batch line's own only when the journal saved it at that path from that line's task (a line removed or moved since never clobbers another's video)",
    file = "lua/seedance/cli/batch_input.lua",
    from = [[
          if files.size(path) and not (entry and (entry.downloads[path] or (this_line and not saved_by[path]))) then
]],
    to = [[
          if files.size(path) and not (entry and entry.status == "completed") then
]] },
  { name = "batch-output-renamed-unrecorded",
    promise = "a whole file a kill left between a download's rename and its journal record is taken for its line's own on the re-run",
    file = "lua/seedance/cli/batch_input.lua",
    from = [[
          if files.size(path) and not (entry and (entry.downloads[path] or (this_line and not saved_by[path]))) then
]],
    to = [[
          if files.size(path) and not (entry and entry.downloads[path]) then
]] },
  { name = "batch-failed-advice",
    promise = "the batch's closing line offers --retry-failed only for the failures it retries (not a changed file, a timeout)",
    file = "lua/seedance/cli/batch.lua",
    from = [[
      local a = ev.again or "rerun"
]],
    to = [[
      local a = "retry_failed"
]] },
  { name = "batch-dry-run-moderated",
    promise = "--retry-failed --dry-run says that a line refused for sensitive content waits for --retry-moderated",
    file = "lua/seedance/cli/batch.lua",
    from = [[
    and " (refused for sensitive content: not retried without --retry-moderated)"
]],
    to = [[
    and " (not retried without --retry-failed)"
]] },
  { name = "batch-pattern-whole-number",
    promise = "-o and --save-last-frame patterns write the line number as a whole number: %c (a control character or '/' in a name), floats and %q are refused",
    file = "lua/seedance/cli/batch_input.lua",
    from = [[
      if not spec:match("[diuoxXs]$") then bad = bad or ("%" .. spec) end
]],
    to = [[
]] },
  { name = "batch-every-problem-at-once",
    promise = "a batch lists every problem of its file at once: lines that are not JSON objects and the other lines' invalid fields",
    file = "lua/seedance/cli/batch_input.lua",
    from = [[
    for _, p in ipairs(validation_problems(items, args)) do problems[#problems + 1] = p end
]],
    to = [[
]] },
  { name = "batch-line-array",
    promise = "a batch line that is an empty JSON array is refused as one, not taken for an empty object",
    file = "lua/seedance/cli/batch_input.lua",
    from = [[
      if not is_object(obj) or raw:match("^%s*%[") then -- ([] decodes as an empty table, as {} does)
]],
    to = [[
      if not is_object(obj) then
]] },
  { name = "batch-folder-once",
    promise = "a missing output folder is said once for every line whose output it would hold",
    file = "lua/seedance/cli/batch_input.lua",
    from = [[
        if not wok and why and why:find("folder", 1, true) and folder_said[why] then
]],
    to = [[
        if false then
]] },
  { name = "cli-journal-items-list",
    promise = "seedance journal --json lists items as a JSON list, empty too",
    file = "lua/seedance/cli/journal.lua",
    from = [[
      { "items" }), "\n")
]],
    to = [[
      nil), "\n")
]] },
  { name = "cli-interrupt-before-guard",
    promise = "Ctrl-C before the command traps signals (reading, checking) is one line and exit 130, never an internal error",
    file = "lua/seedance/cli.lua",
    from = [[
  if require("seedance.interrupt").from_host(first_line(code)) then
]],
    to = [[
  if false then
]] },
  { name = "batch-maybe-paid-key",
    promise = "a batch's --json event of a line whose submit went unanswered carries the key the service may have "
      .. "made (and billed) its task under (error.idempotency_key, maybe_paid)",
    file = "lua/seedance/cli/batch.lua",
    from = [[
           status = e.status, maybe_paid = key and true or nil, idempotency_key = key }
]],
    to = [[
           status = e.status }
]] },
  { name = "batch-maybe-paid-line",
    promise = "a batch's line of an item whose submit went unanswered names the Idempotency-Key its task may have "
      .. "been made under",
    file = "lua/seedance/cli/batch.lua",
    from = [[
  local key = e and not ev.task_id and e.maybe_paid and e.idempotency_key
]],
    to = [[
  local key = nil
]] },
  { name = "batch-reason-by-type",
    promise = "a batch's summary groups failures by their type (moderation apart), not a transfer's kind",
    file = "lua/seedance/cli/batch.lua",
    from = [[
  return ev.error.kind == "moderation" and "moderation" or ev.error.type
]],
    to = [[
  return ev.error.kind or ev.error.type
]] },
  { name = "cli-journal-url-usage",
    promise = "seedance journal and abandon refuse a Redis URL that names no journal (or a bad lease) as a usage error, exit 2, as batch does",
    file = "lua/seedance/cli/journal.lua",
    from = [[
  if why == "usage" then err.type = "usage_error" end
]],
    to = [[
]] },
  { name = "journal-commands-ca-file",
    promise = "seedance journal (and abandon) verify a rediss:// journal against --ca-file",
    timeout = 90,
    file = "lua/seedance/cli/journal.lua",
    from = [[
  local j, err, why = journal.read(args.file, { ca_file = args.ca_file })
]],
    to = [[
  local j, err, why = journal.read(args.file)
]] },
}

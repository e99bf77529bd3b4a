-- mutants/client.lua: mutations of the client promises (mutants/catalogue.lua says how a row reads).
return {
  { name = "authorization-api-only",
    promise = "Authorization goes only to the API host, never to the media host",
    file = "lua/seedance/context.lua",
    from = [[
    local spec = spec_of(parts.url, timeout, parts.scheme)
]],
    to = [[
    local spec = spec_of(parts.url, timeout, parts.scheme); spec.headers = { spec.headers[1], "Authorization: Bearer " .. key }
]] },
  { name = "closed-client-refuses",
    promise = "a closed client makes no more calls, and its journal takes no more records",
    edits = {
      { file = "lua/seedance/client.lua",
        from = [[
  if self.closed then error("attempt to use a closed client", 3) end
]],
        to = [[

]] },
      { file = "lua/seedance/client.lua",
        from = [[
  if self.closed or token.interrupted then
    if slot then governor:release_task() end
    return nil, self.closed and "closed" or "stopped"
  end
]],
        to = [[

]] },
      { file = "lua/seedance/journal.lua",
        from = [[
  if self.closed then return nil, self.path .. ": journal closed" end
]],
        to = [[

]] },
    } },
  { name = "download-size-cap",
    promise = "a download stops at max_download",
    file = "lua/seedance/context.lua",
    from = [[
    spec.max_file = settings.max_download
]],
    to = [[

]] },
  { name = "env-options-checked",
    promise = "options from the environment are checked like options passed in",
    timeout = 30,
    file = "lua/seedance/options.lua",
    from = [[
      if why then return nil, string.format("%s (for option '%s') %s", o.env, o.name, why), o.name end
]],
    to = [[

]] },
  { name = "generate-sends-what-it-checked",
    promise = "generate sends the request it checked, whatever the caller changes while it waits for a slot",
    file = "lua/seedance/client.lua",
    from = [[
    sent = request.copy(req)
]],
    to = [[
    sent = req
]] },
  { name = "http-no-env-proxy",
    promise = "plain http never goes through a proxy from the environment (it would see the key)",
    file = "lua/seedance/context.lua",
    from = [[
    if proxy == nil and scheme == "http" then proxy = "" end
]],
    to = [[

]] },
  { name = "idempotency-key-same-every-retry",
    promise = "every retry of a submit carries the same Idempotency-Key",
    file = "lua/seedance/http.lua",
    from = [[
  return call_from(ctx, method, path, body, key, shape, task_id, deadline, opt, n + 1)
]],
    to = [[
  return call_from(ctx, method, path, body, key and key .. n, shape, task_id, deadline, opt, n + 1)
]] },
  { name = "journal-failed-try-keeps-occurrence",
    promise = "a try that paid for nothing does not use up its journal occurrence",
    file = "lua/seedance/client.lua",
    from = [[
  if not task and jkey and not opts.key then jrnl:release(jkey) end
]],
    to = [[

]] },
  { name = "journal-reattach",
    promise = "a re-run re-attaches to the tasks its journal paid for instead of paying again",
    file = "lua/seedance/client.lua",
    from = [[
    elseif entry and entry.task_id then
]],
    to = [[
    elseif false then
]] },
  { name = "journal-submit-before-send",
    promise = "the journal has the submit, with its Idempotency-Key, on disk before the submit is sent",
    file = "lua/seedance/client.lua",
    from = [[
    local ok, werr, why = jrnl:append{ type = "submit", key = jkey, hash = hash, idempotency_key = key,
      attempt = attempt, item = opts.item, output = opts.output, prompt = journal.excerpt(sent.prompt) }
]],
    to = [[
    local ok, werr, why = true, nil, nil
]] },
  { name = "key-masked-every-call",
    promise = "every public call masks the key in the error it returns (bodies quoted outside the HTTP layer too)",
    file = "lua/seedance/context.lua",
    from = [[
    if v == nil and errors.is(err) then return nil, ctx.redact_error(err) end
]],
    to = [[

]] },
  { name = "key-masked",
    promise = "the API key is masked wherever a server echoes it (errors, logs)",
    file = "lua/seedance/context.lua",
    from = [[
      s = s:gsub(key_pattern, "[key masked]")
      if #key > M.KEY_PREFIX and s:find(key_start, 1, true) then
]],
    to = [[
      if false and #key > M.KEY_PREFIX and s:find(key_start, 1, true) then
]] },
  { name = "key-not-in-tostring",
    promise = "tostring(client) never shows the key",
    file = "lua/seedance/client.lua",
    from = [[
  return string.format("seedance.client(%s, %s)", self.base_url, self._ctx.has_key() and "key set" or "no key")
]],
    to = [[
  return string.format("seedance.client(%s, %s)", self.base_url, self._ctx.redact("x") .. tostring(self.settings.api_key or os.getenv("SEEDANCE_API_KEY") or (self._ctx.api_spec{ path = "/" }.headers[2])))
]] },
  { name = "key-prefix-masked",
    promise = "a cut copy of the key (an excerpt ending inside it) is masked too",
    file = "lua/seedance/context.lua",
    from = [[
      if #key > M.KEY_PREFIX and s:find(key_start, 1, true) then
]],
    to = [[
      if false then
]] },
  { name = "log-utf8",
    promise = "log lines are one line of valid UTF-8",
    file = "lua/seedance/context.lua",
    from = [[
    line = core.utf8_clean(ctx.redact(line)):gsub("[%c]", " ")
]],
    to = [[
    line = ctx.redact(line)
]] },
  { name = "options-minimum",
    promise = "seedance.new refuses an option below its minimum",
    file = "lua/seedance/options.lua",
    from = [[
  if o.min and v < o.min then
]],
    to = [[
  if false then
]] },
  { name = "options-nul-refused",
    promise = "seedance.new refuses a string option holding a NUL byte",
    file = "lua/seedance/options.lua",
    from = [[
  if o.type == "string" and v:find("\0", 1, true) then return "must not contain NUL bytes" end
]],
    to = [[

]] },
  { name = "options-whole-numbers",
    promise = "seedance.new refuses a fraction for a whole-number option",
    file = "lua/seedance/options.lua",
    from = [[
  if o.integer and math.floor(v) ~= v then return "must be a whole number, got " .. numbers.text(v) end
]],
    to = [[
  if false then return "must be a whole number, got " .. numbers.text(v) end
]] },
  { name = "preflight-generate-inputs",
    promise = "generate checks every local image before uploading or paying",
    file = "lua/seedance/client.lua",
    from = [[
    local iok, ierr = files.check_inputs(sent)
]],
    to = [[
    local iok, ierr = true, nil
]] },
  { name = "response-size-cap",
    promise = "API answers have a size cap (max_body)",
    file = "lua/seedance/context.lua",
    from = [[
    timeout = settings.timeout, connect_timeout = settings.connect_timeout, max_body = settings.max_body,
]],
    to = [[
    timeout = settings.timeout, connect_timeout = settings.connect_timeout, max_body = 1e12,
]] },
  { name = "submit-closed-while-waiting",
    promise = "a submit that waited for a max_in_flight slot on a client closed meanwhile pays for nothing and sends nothing (no upload of its local images)",
    file = "lua/seedance/client.lua",
    from = [[
  if self.closed or token.interrupted then
    if slot then governor:release_task() end
    return nil, self.closed and "closed" or "stopped"
  end
]],
    to = [[

]] },
  { name = "submit-no-idempotency-key",
    promise = "a submit carries an Idempotency-Key, the same on every retry, so a retried submit never makes a second paid task",
    file = "lua/seedance/client.lua",
    from = [[
  local obj, a, b, c, d = http.request(ctx, "POST", "/v1/videos/generations", body, key, http.SUBMIT, nil, deadline,
]],
    to = [[
  local obj, a, b, c, d = http.request(ctx, "POST", "/v1/videos/generations", body, nil, http.SUBMIT, nil, deadline,
]] },
  { name = "task-id-safe",
    promise = "task ids from the service go into paths only when safe",
    file = "lua/seedance/client.lua",
    from = [[
  if not id or (obj ~= true and not urls.task_id_ok(id)) then -- (the engine reads only a usable id)
]],
    to = [[
  if not id then
]] },
  { name = "time-scale-loopback-only",
    promise = "SEEDANCE_TIME_SCALE applies only to a loopback base URL",
    file = "lua/seedance/client.lua",
    from = [[
    s.time_scale = 1
]],
    to = [[

]] },
  { name = "submit-error-carries-key",
    promise = "every error that ends a submit carries its Idempotency-Key (and maybe_paid when an attempt went "
      .. "unanswered), so the caller's retry picks up a task the service made instead of paying again",
    file = "lua/seedance/client.lua",
    from = [[
  err.idempotency_key = key
]],
    to = [[

]] },
  { name = "settings-copy",
    promise = "client.settings is a copy: changing it changes nothing the client does",
    file = "lua/seedance/client.lua",
    from = [[
  return setmetatable({ base_url = base.url, settings = copy, journal_path = jrnl and jrnl.file, _ctx = ctx }, Client)
]],
    to = [[
  return setmetatable({ base_url = base.url, settings = s, journal_path = jrnl and jrnl.file, _ctx = ctx }, Client)
]] },
  { name = "journal-notice-logger",
    promise = "the library writes nothing to stderr itself: a journal's skipped records go to the logger",
    file = "lua/seedance/client.lua",
    from = [[
    ctx.log("warn", "journal %s: skipped %d malformed and %d torn records", jrnl.path, jrnl.skipped, jrnl.torn)
]],
    to = [[
    io.stderr:write(string.format("seedance: journal %s: skipped %d malformed and %d torn records\n", jrnl.path, jrnl.skipped, jrnl.torn))
]] },
  { name = "cli-error-by-fields",
    promise = "the command tells a journal it cannot use (a file error, exit 10) from a bad setting by the error's fields, not its text",
    file = "lua/seedance/client.lua",
    from = [[
                              and "journal" or nil, journal = journal.shown(s.journal), reason = tostring(jerr),
]],
    to = [[
                              and "journal" or nil, reason = tostring(jerr),
]] },
  { name = "env-number-locale-free",
    promise = "Lua 5.1: a number option from the environment (SEEDANCE_TIME_SCALE=0.05) is read under a comma locale",
    lua = "lua5.1",
    file = "lua/seedance/options.lua",
    from = [[
  if o.type == "number" then return numbers.parse(v) or v end -- not a number: the caller's check says so
]],
    to = [[
  if o.type == "number" then return tonumber(v) or v end -- not a number: the caller's check says so
]] },
  { name = "before-submit-calls-off",
    promise = "a submit's before_submit(key) that returns false sends nothing: an aborted error carrying the key",
    file = "lua/seedance/client.lua",
    from = [[
    if not pok or go == false then
]],
    to = [[
    if not pok then
]] },
  { name = "client-retry-new-key",
    promise = "a retry of a failed try is submitted under a new Idempotency-Key (the old one would replay the failed task)",
    file = "lua/seedance/client.lua",
    from = [[
  local key = (not attempt and entry and entry.idempotency_key) or (not busy and opts.idempotency_key)
    or core.random_hex(16)
]],
    to = [[
  local key = (entry and entry.idempotency_key) or (not busy and opts.idempotency_key)
    or core.random_hex(16)
]] },
  { name = "messages-keys-locale-free",
    promise = "a caller mistake's message (an unknown option, a list's stray key) and a journal's version are "
      .. "written with a dot under any locale",
    edits = {
      { file = "lua/seedance/options.lua",
        from = [[
    if not o then return nil, "unknown option '" .. numbers.show(k) .. "'", numbers.show(k) end
]],
        to = [[
    if not o then return nil, "unknown option '" .. tostring(k) .. "'", tostring(k) end
]] },
      { file = "lua/seedance/preflight.lua",
        from = [[
        or numbers.show(k), n), 4)
]],
        to = [[
        or tostring(k), n), 4)
]] },
      { file = "lua/seedance/journal.lua",
        from = [[
    return nil, self.path .. ": journal version " .. numbers.text(rec.v) .. " is newer than this seedance understands"
]],
        to = [[
    return nil, self.path .. ": journal version " .. rec.v .. " is newer than this seedance understands"
]] },
    } },
  { name = "journal-key-one-occurrence",
    promise = "with a journal, an Idempotency-Key belongs to one occurrence of its request: a call bringing a key "
      .. "that another call of the same request holds submits under a key of its own (two items never share a task)",
    file = "lua/seedance/client.lua",
    from = [[
  local key = (not attempt and entry and entry.idempotency_key) or (not busy and opts.idempotency_key)
    or core.random_hex(16)
]],
    to = [[
  local key = (not attempt and entry and entry.idempotency_key) or opts.idempotency_key
    or core.random_hex(16)
]] },
  { name = "submit-stops-when-closed",
    promise = "a client closed while its submit pauses before another attempt (a 429's Retry-After) ends the "
      .. "submit at once with an aborted error carrying its key: nothing is sent, nothing paid, after close",
    timeout = 90,
    file = "lua/seedance/client.lua",
    from = [[
      stopped = function() return client.closed and "the client was closed" or nil end
]],
    to = [[
      stopped = function() return nil end
]] },
  { name = "journal-refusal-request-only",
    promise = "only a refusal of the request itself (400, 413, 422, sensitive content) is recorded as a journaled try; a refused key or balance is not, so a later run submits it",
    file = "lua/seedance/client.lua",
    from = [[
  return s == 400 or s == 413 or s == 422 or (r.kind == "moderation" and s ~= nil and s >= 400 and s < 500)
]],
    to = [[
  return s ~= nil and s >= 400 and s < 500 and s ~= 429 and s ~= 408
]] },
  { name = "submit-stops-when-run-stopped",
    promise = "a submit whose pipeline run was stopped (generate's cancel token interrupted: a batch's Ctrl-C) "
      .. "sends no further attempt once its pause ended",
    timeout = 120,
    file = "lua/seedance/client.lua",
    from = [[
      if cancel.interrupted then return "the run was stopped" end
]],
    to = [[
]] },
  { name = "submit-withdrawn-when-closed",
    promise = "a client closed while a submit's request waits in the client's window (a 429's pause every sender "
      .. "waits out) withdraws it unsent: it ends at once, aborted, not maybe paid, and is never sent",
    timeout = 90,
    file = "lua/seedance/http.lua",
    from = [[
  scheduler.wait_for(id, opt and (opt.track or opt.token) and opt)
]],
    to = [[
  scheduler.wait_for(id, opt and opt.track and opt)
]] },
  { name = "submit-withdrawn-when-run-stopped",
    promise = "a run stopped (generate's cancel token interrupted: a batch's Ctrl-C) while a submit's request "
      .. "waits in the client's window withdraws it unsent",
    timeout = 90,
    file = "lua/seedance/client.lua",
    from = [[
  scheduler.link(cancel, token)
]],
    to = [[
]] },
  { name = "withdrawn-is-unsent",
    promise = "a withdrawn submit says nothing was sent: it is not maybe paid",
    timeout = 90,
    file = "lua/seedance/http.lua",
    from = [[
  if opt and opt.token and scheduler.withdrawn(id) then
]],
    to = [[
  if false then
]] },
  { name = "park-gc-respects-stop",
    promise = "map paces the collector as it parks tasks only while the host lets the collector run",
    file = "lua/seedance/compat.lua",
    from = [[
  if ok and running == false then return end
]],
    to = [[
]] },
  { name = "park-gc-without-collectgarbage",
    promise = "map works in a sandbox without collectgarbage (its pacing is skipped, every item completes)",
    file = "lua/seedance/compat.lua",
    from = [[
  pcall(gc, "step", kib)
]],
    to = [[
  gc("step", kib)
]] },
  { name = "reattach-timeout-names-key",
    promise = "a re-attach whose max_in_flight slot wait reaches its deadline names the task and its Idempotency-Key",
    file = "lua/seedance/client.lua",
    from = [[
          idempotency_key = entry.idempotency_key, message = "no max_in_flight slot came free before the "
]],
    to = [[
          message = "no max_in_flight slot came free before the "
]] },
  { name = "reattach-slot-wait-stops",
    promise = "a re-attach to a journaled task waiting for a max_in_flight slot ends at close or when its run is "
      .. "stopped, aborted, naming the task paid for",
    timeout = 90,
    file = "lua/seedance/client.lua",
    from = [[
      if slot then _, why = take_slot(self, opts, deadline) end
]],
    to = [[
      if slot then why = not ctx.governor:acquire_task(deadline) and "timeout" or nil end
]] },
  { name = "slot-wait-ends-when-closed",
    promise = "a client closed while a submit waits for a max_in_flight slot (a running task holds it) ends that "
      .. "submit at once, aborted, nothing sent",
    timeout = 90,
    file = "lua/seedance/runner.lua",
    from = [[
      if token and token.interrupted then return false end
]],
    to = [[
]] },
  { name = "slot-wait-ends-when-run-stopped",
    promise = "a run stopped (generate's cancel token interrupted) while its submit waits for a max_in_flight slot "
      .. "ends that submit at once, aborted",
    timeout = 90,
    file = "lua/seedance/client.lua",
    from = [[
  local slot = governor:acquire_task(deadline, token)
]],
    to = [[
  local slot = governor:acquire_task(deadline)
]] },
}

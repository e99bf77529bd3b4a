-- mutants/pipeline.lua: mutations of the pipeline promises (mutants/catalogue.lua says how a row reads).
return {
  { name = "chain-error-names-task",
    promise = "a chain stopped at a paid clip names that clip's task in its error",
    file = "lua/seedance/pipeline.lua",
    from = [[
      if item.task and not item.error.task_id then item.error.task_id = item.task.id end
]],
    to = [[
]] },
  { name = "chain-first-frame-replaced",
    promise = "chain with frame_as = \"first_frame\": the previous last frame replaces a clip's own first_frame role, its other roles kept",
    file = "lua/seedance/pipeline.lua",
    from = [[
          if type(r) ~= "table" or r.role ~= "first_frame" then roles[#roles + 1] = r end
]],
    to = [[
          roles[#roles + 1] = r
]] },
  { name = "chain-keeps-images",
    promise = "chain puts the previous last frame before a clip's own images, keeping them",
    file = "lua/seedance/pipeline.lua",
    from = [[
        for _, u in ipairs(type(base.image_urls) == "table" and base.image_urls or {}) do list[#list + 1] = u end
]],
    to = [[
        
]] },
  { name = "chain-validates-clips",
    promise = "chain validates every clip as it will be sent before paying for the first",
    file = "lua/seedance/pipeline.lua",
    from = [[
  local paths, problems, given = preflight.items(client, requests, opts.output, validate, function(i, base)
]],
    to = [[
  local paths, problems, given = preflight.items(client, requests, opts.output, false, function(i, base)
]] },
  { name = "map-callbacks-typed",
    promise = "map's and chain's callbacks must be functions, refused before paying",
    file = "lua/seedance/preflight.lua",
    from = [[
    if not callable(v) then return "must be a function, got " .. type(v) end
]],
    to = [[
    if false then return "must be a function, got " .. type(v) end
]] },
  { name = "map-closed-client-stops",
    promise = "a client closed mid-map stops the submitters: the batch ends aborted, items never submitted are skipped",
    file = "lua/seedance/pipeline/fanout.lua",
    from = [[
      elseif client.closed then -- closed by a callback, say: no more submits
        stop = true
        stats.error = stats.error or errors.new{ type = "aborted", message = "the client was closed" }
]],
    to = [[
]] },
  { name = "map-concurrency-whole",
    promise = "map's concurrency is a whole number of at least 1 (2.5 is refused, never three items in flight)",
    file = "lua/seedance/preflight.lua",
    from = [[
    if v ~= v or v == math.huge or math.floor(v) ~= v or v < 1 then
]],
    to = [[
    if v ~= v or v == math.huge or v < 1 then
]] },
  { name = "map-distinct-outputs",
    promise = "map refuses, before paying, two items writing to one file",
    file = "lua/seedance/preflight.lua",
    from = [[
      local ok, why = set:add(string.format("item %d's output %s", i, path), full, { output = true })
]],
    to = [[
      local ok, why = true, nil
]] },
  { name = "map-images-kept",
    promise = "no map output names a local image a request of the batch reads, however spelled",
    file = "lua/seedance/preflight.lua",
    from = [[
      for _, image in ipairs(images(req)) do
]],
    to = [[
      for _, image in ipairs({}) do
]] },
  { name = "map-journal-kept",
    promise = "no map output names the client's journal, however spelled",
    file = "lua/seedance/preflight.lua",
    from = [[
  if client.settings.journal and not require("seedance.journal").is_url(client.settings.journal) then
]],
    to = [[
  if false then
]] },
  { name = "map-list-no-holes",
    promise = "map and chain refuse a request list with a hole (whichever border # gives) before paying",
    edits = {
      { file = "lua/seedance/preflight.lua",
        from = [[
  for k in pairs(requests) do
]],
        to = [[
  for k in pairs({}) do
]] },
      { file = "lua/seedance/preflight.lua",
        from = [[
    if type(requests[i]) ~= "table" then
]],
        to = [[
    if requests[i] ~= nil and type(requests[i]) ~= "table" then
]] },
    } },
  { name = "map-options-checked",
    promise = "map checks its options before anything starts, blaming 'map'",
    timeout = 120,
    file = "lua/seedance/pipeline.lua",
    from = [[
  opts = preflight.options(opts, preflight.MAP, "map")
]],
    to = [[
  opts = opts or {}
]] },
  { name = "map-output-companions",
    promise = "no map output is another item's download companion (.part, .part.meta)",
    file = "lua/seedance/preflight.lua",
    from = [[
      local ok, why = set:add(string.format("item %d's output %s", i, path), full, { output = true })
]],
    to = [[
      local ok, why = set:add(string.format("item %d's output %s", i, path), full, { writes = true })
]] },
  { name = "map-pool-call-protected",
    promise = "what a submit raises inside map is its item's aborted error, and ends the batch",
    file = "lua/seedance/pipeline/tries.lua",
    from = [[
  local ok, task, err = scheduler.protect(client.generate, client, request, gopts)
]],
    to = [[
  local ok, task, err = true, client:generate(request, gopts)
]] },
  { name = "map-pool-raise-ends-batch",
    promise = "a pool of map that raises ends the batch (no coroutine left parked), every paid task in its item",
    timeout = 120,
    file = "lua/seedance/pipeline/fanout.lua",
    from = [[
      local ok, err = scheduler.protect(body)
]],
    to = [[
      local ok, err = true, body()
]] },
  { name = "map-requests-tables",
    promise = "map and chain raise on a request that is not a table, before paying",
    file = "lua/seedance/preflight.lua",
    from = [[
    if type(requests[i]) ~= "table" then
]],
    to = [[
    if false then
]] },
  { name = "on-clip-protected",
    promise = "chain's on_clip that raises comes back as callback_error",
    file = "lua/seedance/pipeline.lua",
    from = [[
      local ok, err = scheduler.protect(opts.on_clip, i, item.task, item.path)
]],
    to = [[
      local ok, err = true, opts.on_clip(i, item.task, item.path)
]] },
  { name = "options-through-index",
    promise = "map and chain check the options a table gives through __index, and run with what they checked",
    file = "lua/seedance/preflight.lua",
    from = [[
    local v = opts[name]
]],
    to = [[
    local v = rawget(opts, name)
]] },
  { name = "preflight-chain",
    promise = "chain checks every output before the first clip is paid for",
    file = "lua/seedance/pipeline.lua",
    from = [[
  if not paths then return {}, problems[1][2] end
]],
    to = [[
  if not paths then
    paths, given = {}, {}
    for i, r in ipairs(requests) do paths[i] = preflight.output_path(opts.output, i, r); given[i] = paths[i] end
  end
]] },
  { name = "preflight-map",
    promise = "map checks every output and local input before the first submit",
    file = "lua/seedance/pipeline.lua",
    from = [[
  local paths, problems, given = preflight.items(client, requests, opts.output, false)
  if not paths then
]],
    to = [[
  local paths, problems, given = {}, nil, {}
  for i, r in ipairs(requests) do paths[i] = preflight.output_path(opts.output, i, r); given[i] = paths[i] end
  if false then
]] },
  { name = "pipeline-submit-rounds",
    promise = "map and chain submit an item again under its own key while its answers were lost, so a task the "
      .. "service made lands in its item",
    file = "lua/seedance/pipeline/tries.lua",
    from = [[
  for _ = 2, M.SUBMIT_ROUNDS do
]],
    to = [[
  for _ = 2, 1 do
]] },
  { name = "map-outputs-resolved",
    promise = "map and chain resolve every output when they are called: items are saved there whatever folder "
      .. "the host changes to meanwhile",
    file = "lua/seedance/preflight.lua",
    from = [[
    given[i], out[i], output_err[i] = path, path and files.absolute(path), err
]],
    to = [[
    given[i], out[i], output_err[i] = path, path, err
]] },
  { name = "preflight-sliced",
    promise = "map and chain check a batch of hundreds of items over several frames (a slice per step)",
    file = "lua/seedance/preflight.lua",
    from = [[
      scheduler.pass()
      slice_end = scheduler.now() + scheduler.budget
]],
    to = [[
      slice_end = scheduler.now() + scheduler.budget
]] },
  { name = "preflight-probe-once",
    promise = "a batch's checks make one probe file per output folder, not one per item, inside the host's frames",
    file = "lua/seedance/preflight.lua",
    from = [[
      local ok, oerr = files.check_output(full, not probed[dir], path)
]],
    to = [[
      local ok, oerr = files.check_output(full, true, path)
]] },
  { name = "preflight-slice-budget",
    promise = "a batch's checks yield to the host's frame once the scheduler's frame budget is spent, not only "
      .. "every SLICE items (file system calls cost what the disk decides)",
    file = "lua/seedance/preflight.lua",
    from = [[
    if i % M.SLICE == 0 or scheduler.now() > slice_end then
]],
    to = [[
    if i % M.SLICE == 0 then
]] },
  { name = "map-retry-failed",
    promise = "retry_failed submits the items whose journaled try failed again (and only them)",
    file = "lua/seedance/pipeline/fanout.lua",
    from = [[
    elseif failed and (other or not (opts.retry_failed and (opts.retry_moderated or not moderated))) then
]],
    to = [[
    elseif failed then
]] },
  { name = "map-retry-moderated",
    promise = "a moderation failure is retried only with retry_moderated, not by retry_failed alone",
    file = "lua/seedance/pipeline/fanout.lua",
    from = [[
    elseif failed and (other or not (opts.retry_failed and (opts.retry_moderated or not moderated))) then
]],
    to = [[
    elseif failed and (other or not opts.retry_failed) then
]] },
  { name = "map-failed-settled",
    promise = "a journaled re-run leaves a failed item failed, with its recorded error, sending nothing",
    file = "lua/seedance/pipeline/fanout.lua",
    from = [[
    elseif failed and (other or not (opts.retry_failed and (opts.retry_moderated or not moderated))) then
]],
    to = [[
    elseif false then
]] },
  { name = "map-abandoned-skipped",
    promise = "a journaled re-run skips an abandoned item: no request, reason abandoned",
    file = "lua/seedance/pipeline/fanout.lua",
    from = [[
    if e.abandoned then
]],
    to = [[
    if false then
]] },
  { name = "map-max-spend",
    promise = "max_spend: no item is submitted once used_balance has grown by more than the cap",
    file = "lua/seedance/pipeline/fanout.lua",
    from = [[
    if stats.spent > opts.max_spend then
]],
    to = [[
    if false then
]] },
  { name = "map-progress-on-change",
    promise = "map's on_progress fires on a change, never twice for the same counts and percent",
    file = "lua/seedance/pipeline/fanout.lua",
    from = [[
    if sig == last_report and not force then return end -- only on a change
]],
    to = [[
]] },
  { name = "map-progress-rerun-start",
    promise = "map's on_progress fires once at the start of a journaled re-run, before any request",
    file = "lua/seedance/pipeline/fanout.lua",
    from = [[
  if journaled then report(true) end -- a journaled re-run: where it stands, at once
]],
    to = [[
]] },
  { name = "map-not-its-output",
    promise = "a journaled re-run of map never overwrites a file the journal saved from another request's task (an item removed or moved since)",
    file = "lua/seedance/pipeline/fanout.lua",
    from = [[
      elseif clash then
]],
    to = [[
      elseif false then
]] },
  { name = "map-retry-expired",
    promise = "a result that expired before it was saved is recorded, so retry_failed (--retry-failed) pays for a new try",
    file = "lua/seedance/pipeline/fanout.lua",
    from = [[
      if jrnl and keys[i] and item.error.type == "expired" and item.task and not item.error.earlier then
]],
    to = [[
      if false then
]] },
  { name = "map-account-stops",
    promise = "a refusal of the key or the balance (401, 402, 403) stops the submits of map and seedance batch",
    file = "lua/seedance/pipeline/fanout.lua",
    from = [[
      if M.ACCOUNT[item.error.type] and not item.task then
]],
    to = [[
      if false then
]] },
  { name = "batch-interrupt-submit-pause",
    promise = "a batch's Ctrl-C ends its submits' pauses before another attempt (a 429's Retry-After, the "
      .. "client's shared pause) at once and sends nothing more: no line paid after Ctrl-C",
    timeout = 120,
    file = "lua/seedance/pipeline/fanout.lua",
    from = [[
          g.cancel = cancel
]],
    to = [[
]] },
}

-- mutants/download.lua: mutations of the download promises (mutants/catalogue.lua says how a row reads).
return {
  { name = "atomic-rename",
    promise = "the body streams to <target>.part and is renamed onto the target only when whole",
    file = "lua/seedance/download.lua",
    from = [[
  local part, meta = target .. ".part", target .. ".part.meta"
]],
    to = [[
  local part, meta = target, target .. ".part.meta"
]] },
  { name = "damaged-validator",
    promise = "a damaged validator file (control bytes) counts as none",
    file = "lua/seedance/download.lua",
    from = [[
    if validator and validator:find("%c") then validator = nil end -- damaged (a crash mid-write): none
]],
    to = [[

]] },
  { name = "download-callback-protected",
    promise = "a raising on_progress in download comes back as callback_error",
    file = "lua/seedance/download.lua",
    from = [[
        local cok, e = scheduler.protect(opts.on_progress, have + done,
          total and total > 0 and have + total or nil)
]],
    to = [[
        local cok, e = true, opts.on_progress(have + done, total and total > 0 and have + total or nil)
]] },
  { name = "download-deadline",
    promise = "a download ends at its overall deadline",
    timeout = 120,
    file = "lua/seedance/download.lua",
    from = [[
    local r = scheduler.transfer(ctx.media_spec(parts, part, meta, left, have > 0 and have or nil,
]],
    to = [[
    local r = scheduler.transfer(ctx.media_spec(parts, part, meta, 0, have > 0 and have or nil,
]] },
  { name = "download-progress-counts-part",
    promise = "a resumed download's on_progress counts the bytes already in .part (done from the part's size, total the whole file)",
    file = "lua/seedance/download.lua",
    from = [[
        local cok, e = scheduler.protect(opts.on_progress, have + done,
]],
    to = [[
        local cok, e = scheduler.protect(opts.on_progress, done,
]] },
  { name = "download-progress-total-whole",
    promise = "a resumed download's on_progress gives the whole file's size as its total, not what is left",
    file = "lua/seedance/download.lua",
    from = [[
          total and total > 0 and have + total or nil)
]],
    to = [[
          total and total > 0 and total or nil)
]] },
  { name = "expired-rereads-task",
    promise = "an expired result URL (403/404/410) re-reads the task for a fresh one before giving up",
    file = "lua/seedance/download.lua",
    from = [[
    if not o.refreshed then return { action = "refresh" } end
]],
    to = [[

]] },
  { name = "io-error-drops-part",
    promise = "a partial file that cannot be resumed (local failure) is removed",
    file = "lua/seedance/download.lua",
    from = [[
    if kind == "file" or kind == "too_large" then return { action = "fail", err = err, discard = true } end
]],
    to = [[
    if kind == "file" or kind == "too_large" then return { action = "fail", err = err } end
]] },
  { name = "journal-download-size",
    promise = "a journaled download is skipped only while its file is whole; a file gone is fetched again",
    file = "lua/seedance/download.lua",
    from = [[
    if bytes and size == bytes then return path end
]],
    to = [[
    if bytes then return path end
]] },
  { name = "length-check",
    promise = "the file's length is checked against the announced one before the rename",
    file = "lua/seedance/download.lua",
    from = [[
  if total == nil or size == total then return { action = "done" } end
]],
    to = [[
  do return { action = "done" } end
]] },
  { name = "media-redirect-checked",
    promise = "every redirect of a result URL is checked as a result URL (a proxy hides the address)",
    file = "lua/seedance/download.lua",
    from = [[
    local parts, perr = urls.check_media(hop or url, settings.allow_insecure_media)
]],
    to = [[
    local parts, perr = hop and urls.parse(hop) or urls.check_media(url, settings.allow_insecure_media)
]] },
  { name = "missing-url-reread",
    promise = "a task seen completed before its URL is re-read (bounded) before the download gives up",
    file = "lua/seedance/download.lua",
    from = [[
    if n > M.MISSING_URL_READS then
]],
    to = [[
    if n > 0 then
]] },
  { name = "range-416-validator",
    promise = "a 416 ends a download as done only with the part's own validator",
    file = "lua/seedance/download.lua",
    from = [[
    if total and o.have > 0 and total == o.have and same then return { action = "done" } end
]],
    to = [[
    if total and o.have > 0 and total == o.have then return { action = "done" } end
]] },
  { name = "range-resume",
    promise = "a retried download resumes the part with Range instead of fetching it all again",
    file = "lua/seedance/download.lua",
    from = [[
    local r = scheduler.transfer(ctx.media_spec(parts, part, meta, left, have > 0 and have or nil,
]],
    to = [[
    local r = scheduler.transfer(ctx.media_spec(parts, part, meta, left, nil,
]] },
  { name = "resume-needs-validator",
    promise = "a part is resumed only when its validator was kept; else the download starts over",
    file = "lua/seedance/download.lua",
    from = [[
    if have > 0 and not validator then
]],
    to = [[
    if false then
]] },
  { name = "expiry-server-clock",
    promise = "a result's expires_at is compared with the service's clock (its answers' Date), not this machine's",
    edits = {
      { file = "lua/seedance/download.lua",
        from = [[
  if task.expires_at and env.server_now() >= task.expires_at then
]],
        to = [[
  if task.expires_at and os.time() >= task.expires_at then
]] },
      { file = "lua/seedance/download.lua",
        from = [[
      if task[field] == url and (task.expires_at or 0) <= env.server_now() then
]],
        to = [[
      if task[field] == url and (task.expires_at or 0) <= os.time() then
]] },
    } },
  { name = "download-path-resolved",
    promise = "a download saves where its path named when download was called (the .part too), whatever folder "
      .. "the host changes to while it runs",
    file = "lua/seedance/download.lua",
    from = [[
  local target = files.absolute(path)
]],
    to = [[
  local target = path
]] },
  { name = "download-file-on-worker",
    promise = "a download's file (and its validator's) is made on the engine's worker thread while the transfer "
      .. "waits, paused, never on the thread that steps",
    file = "src/engine_output.c",
    from = [[
        id = sd_engine_output_job(t->eng, j, t);
]],
    to = [[
        sd_job_free(j);
        id = -1;
]] },
  { name = "download-rename-on-worker",
    promise = "a finished download's part is renamed onto its file (and its validator removed) on the engine's worker",
    file = "lua/seedance/download.lua",
    from = [[
      local rok, rerr = replace(part, target, meta)
]],
    to = [[
      local rok, rerr = files.replace(part, target)
      files.remove(meta)
]] },
  { name = "download-not-clobbered",
    promise = "a file a journaled download saved that has changed since is said, never overwritten",
    file = "lua/seedance/download.lua",
    from = [[
    if size then
]],
    to = [[
    if false then
]] },
  { name = "download-files-off-frame",
    promise = "a download removes a part it drops, and renames the whole part over a target already there, on "
      .. "the engine's worker: freeing a large file's blocks never runs inside step(0)",
    edits = {
      { file = "lua/seedance/download.lua",
        from = [[
  scheduler.job{ op = "remove", path = path }
]],
        to = [[
  files.remove(path)
]] },
      { file = "lua/seedance/download.lua",
        from = [[
  local r = scheduler.job{ op = "replace", path = from, to = to, remove = remove }
  if not r.ok then return nil, r.error end
]],
        to = [[
  local ok, err = files.replace(from, to)
  if not ok then return nil, err end
]] },
    } },
  { name = "download-stops-when-closed",
    promise = "a task closed (the command's Ctrl-C) while its download pauses before another attempt ends the "
      .. "download at once: nothing more is fetched",
    timeout = 90,
    file = "lua/seedance/download.lua",
    from = [[
    if env.closed() then return nil, err_of{ type = "aborted", message = "task closed during its download" } end
    local url, uerr = url_of(task, field, env, deadline)
]],
    to = [[
    local url, uerr = url_of(task, field, env, deadline)
]] },
}

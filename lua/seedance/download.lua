--- Resumable, verified downloads of a task's result: a pure decision
-- (`decide`: one attempt's outcome and what is on disk in, the next step out)
-- and a thin IO loop around it (`run`, behind `Task:download`).
--
-- On disk: the body streams (in C) to `<target>.part`, and the answer's
-- validator (ETag, else Last-Modified) is kept in `<target>.part.meta` as soon
-- as the answer's head arrives. A retry resumes the part with `Range` and
-- `If-Range` only when a validator is kept (else it starts over); the engine
-- appends a 206 only when it continues the part (same validator, right
-- offset), so two versions of a file are never spliced. The length is checked
-- before an atomic rename onto the target. Neither file is ever opened through
-- a symbolic link.
-- @module seedance.download

local errors = require("seedance.errors")
local files = require("seedance.files")
local http = require("seedance.http")
local numbers = require("seedance.numbers")
local retry = require("seedance.retry")
local scheduler = require("seedance.scheduler")
local urls = require("seedance.urls")

local M = {}

--- Re-reads of the task for a result URL that is missing (answers seen
-- `completed` before their URL) before giving up.
M.MISSING_URL_READS = 3

--- Redirects followed from one URL before giving up.
M.MAX_REDIRECTS = 5

local function err_of(fields)
  fields.retryable = fields.retryable or false
  return errors.new(fields)
end

--- Decide the next step after one download attempt. Pure: no IO.
-- @tparam table o `result` (the engine's result: `ok`, `kind`, `error`, `status`, `headers`),
--   `have` (bytes of the part before the attempt), `validator` (the part's, sent as If-Range),
--   `size` (bytes of the part after it),
--   `refreshed` (whether the URL was already re-read for an expiry), `task_id`
-- @treturn table `{ action = "done"|"retry"|"restart"|"refresh"|"redirect"|"fail", err = seedance.Error|nil,
--   discard = true when the part must go (restart, or a failure that leaves it useless),
--   location = the Location of a redirect }`.
--   "retry" keeps the part (the next attempt resumes it when it can); "restart" starts over;
--   "refresh" re-reads the task for a fresh URL; "redirect" fetches the Location (checked by the
--   caller as a result URL); retry and restart go through the retry policy.
function M.decide(o)
  local r = o.result
  if not r.ok then
    local err = http.transport_error(r)
    local kind = r.kind
    if kind == "aborted" then return { action = "fail", err = err } end
    if kind == "file" or kind == "too_large" then return { action = "fail", err = err, discard = true } end
    if kind == "range_mismatch" then return { action = "restart", err = err, discard = true } end
    if not err.retryable then return { action = "fail", err = err } end
    return { action = "retry", err = err }
  end
  local status = r.status
  if status == 403 or status == 404 or status == 410 then
    if not o.refreshed then return { action = "refresh" } end
    return { action = "fail", err = err_of{ type = "expired", status = status, task_id = o.task_id,
      message = string.format("the result URL of task %s answered HTTP %d: it has expired "
        .. "(results live about 24 hours); generate the video again", tostring(o.task_id), status) } }
  end
  if status == 416 then
    -- nothing left to send: the part is whole already (the answer names the part's length and
    -- carries the validator it was fetched under), or it is not of this file
    local h = r.headers or {}
    local total = tonumber((h["content-range"] or ""):match("^bytes %*/(%d+)$"))
    local etag = h["etag"]
    if etag and etag:match("^[Ww]/") then etag = nil end
    local same = o.validator ~= nil and (etag or h["last-modified"]) == o.validator
    if total and o.have > 0 and total == o.have and same then return { action = "done" } end
    return { action = "restart", discard = true,
             err = err_of{ type = "network_error", retryable = true, status = 416, message = "range not satisfiable" } }
  end
  if status >= 400 then
    local err = http.answer_error(r)
    return { action = err.retryable and "retry" or "fail", err = err }
  end
  local location = (r.headers or {}).location
  if (status == 301 or status == 302 or status == 303 or status == 307 or status == 308)
     and type(location) == "string" and location ~= "" and not location:find("\n") then
    return { action = "redirect", location = location }
  end
  if status < 200 or status >= 300 then
    return { action = "fail", err = err_of{ type = "server_error", status = status,
      message = string.format("the result URL answered HTTP %d (a redirect with no usable Location)", status) } }
  end
  local total
  if status == 206 then
    total = tonumber(((r.headers or {})["content-range"] or ""):match("/(%d+)$"))
  else
    total = tonumber((r.headers or {})["content-length"] or "")
  end
  local size = o.size
  if size == 0 then
    return { action = "restart", discard = true,
             err = err_of{ type = "network_error", retryable = true, status = status, message = "empty body" } }
  end
  if total == nil or size == total then return { action = "done" } end
  if size < total then
    return { action = "retry", err = err_of{ type = "network_error", retryable = true,
      message = string.format("download cut short: %d of %d bytes", size, total) } }
  end
  return { action = "restart", discard = true, err = err_of{ type = "network_error", retryable = true,
    message = string.format("partial file longer than the file (%d of %d bytes): starting over", size, total) } }
end

-- Remove a partial file on the engine's worker: freeing a large file's blocks takes as long as its
-- size, never a host's frame (in plain code it blocks, as every call does).
local function remove_part(path)
  scheduler.job{ op = "remove", path = path }
end

-- Move the whole part onto the target, on the worker too: a target that stands there already (a
-- download saved again, a re-run) is freed by the rename; then `remove` (its validator) goes. True, or
-- nil and the message.
local function replace(from, to, remove)
  local r = scheduler.job{ op = "replace", path = from, to = to, remove = remove }
  if not r.ok then return nil, r.error end
  return true
end

-- A task seen completed before its URL: re-read after the client's backoff (no server asked a wait).
local NO_URL_YET = {}

-- The URL to fetch, re-reading the task (bounded, with backoff) while it has none.
local function url_of(task, field, env, deadline)
  local policy = env.ctx.policy
  local n = 0
  while not task[field] do
    n = n + 1
    if n > M.MISSING_URL_READS then
      local why = field == "last_frame_url" and " (was the task made with return_last_frame = true?)" or ""
      return nil, err_of{ type = "server_error", task_id = task.id, missing_url = true,
        message = string.format("task %s is %s but has no %s after %d reads%s", task.id,
          tostring(task.status), (field:gsub("_", " ")), M.MISSING_URL_READS, why) }
    end
    if n > 1 then
      local delay = policy:pause(NO_URL_YET, n, deadline)
      if scheduler.now() + delay > deadline then return nil, retry.timeout_error("download of task " .. task.id) end
      env.nap(delay)
    end
    local ok, err = task:refresh{ timeout = retry.left(deadline) }
    if not ok then return nil, err end
  end
  return task[field]
end

--- Download a task's result (the loop behind `Task:download`).
-- @tparam seedance.Task task a completed task
-- @tparam string path the target
-- @tparam table opts `on_progress`, `source`, `timeout` (see `Task:download`)
-- @tparam table env from the task: `ctx`, `track` (its transfer set), `journal_key`, `closed()`,
--   `nap(seconds)` (a pause that ends early when the task is closed), `server_now()` (unix time on
--   the service's clock, which `expires_at` is written against)
-- @treturn[1] string path
-- @treturn[2] nil
-- @treturn[2] seedance.Error
function M.run(task, path, opts, env)
  local ctx = env.ctx
  local settings = ctx.settings
  local jrnl, jkey = ctx.journal, env.journal_key
  -- the file path names now: a host that changes folder during the download changes nothing
  local target = files.absolute(path)
  if jrnl and jkey then
    -- finished in an earlier run: nothing to fetch if the file is whole
    local e = jrnl:entry(jkey)
    local bytes = e and e.downloads[path]
    local size = bytes and files.size(target)
    if bytes and size == bytes then return path end
    if size then
      -- saved by an earlier run and changed since (edited, cut, replaced): the user's file now, never clobbered
      return nil, err_of{ type = "io_error", task_id = task.id, changed = true, message = string.format(
        "%s was saved from task %s by an earlier run (%d bytes, in the journal) and has changed since (%d bytes); "
        .. "not overwritten: move it away to download it again", path, task.id, bytes, size) }
    end
  end
  local ok, oerr = files.check_output(target, false, path) -- (no probe file: the download's own file is one)
  if not ok then return nil, oerr end
  local deadline = scheduler.now() + (opts.timeout or settings.download_timeout)
  local field = opts.source == "last_frame" and "last_frame_url" or "video_url"
  local part, meta = target .. ".part", target .. ".part.meta"
  local refreshed, attempt, cb_err = false, 0, nil
  local first_scheme
  if task.expires_at and env.server_now() >= task.expires_at then
    refreshed = true
    local rok, rerr = task:refresh{ timeout = retry.left(deadline) }
    if not rok then return nil, rerr end
  end
  local hop, hops = nil, 0 -- a redirect's target, and how many were followed from the task's URL
  while true do
    -- closed while it paused before this attempt (the command's Ctrl-C): nothing more is fetched
    if env.closed() then return nil, err_of{ type = "aborted", message = "task closed during its download" } end
    local url, uerr = url_of(task, field, env, deadline)
    if not url then return nil, uerr end
    local parts, perr = urls.check_media(hop or url, settings.allow_insecure_media)
    if not parts then return nil, err_of{ type = "unsafe_url", task_id = task.id, message = perr } end
    if hop and first_scheme == "https" and parts.scheme ~= "https" then
      return nil, err_of{ type = "unsafe_url", task_id = task.id,
        message = "the result URL redirected from https to " .. urls.redact(hop) .. "; refused" }
    end
    local have = files.size(part) or 0
    local validator = have > 0 and (files.read_small(meta) or ""):match("^([^\r\n]+)") or nil
    if validator and validator:find("%c") then validator = nil end -- damaged (a crash mid-write): none
    if have > 0 and not validator then
      -- a part without its validator cannot be resumed safely: start over
      remove_part(part)
      have = 0
    end
    local left = retry.left(deadline)
    if left <= 0 then return nil, retry.timeout_error("download of task " .. task.id) end
    local on_tick
    if opts.on_progress then
      on_tick = function(id)
        if cb_err then return end
        local done, total = scheduler.engine():progress(id)
        if not done then return end
        local cok, e = scheduler.protect(opts.on_progress, have + done,
          total and total > 0 and have + total or nil)
        if not cok then
          cb_err = errors.callback("on_progress", e)
          scheduler.cancel(id)
        end
      end
    end
    if not hop then first_scheme = parts.scheme end
    local t0 = scheduler.now()
    local r = scheduler.transfer(ctx.media_spec(parts, part, meta, left, have > 0 and have or nil,
      have > 0 and validator or nil), { track = env.track, tick = on_tick and 0.1 or nil, on_tick = on_tick })
    if ctx.logs then -- (its strings made only for a log that is written)
      ctx.log("info", "GET %s -> %s in %s s (%d bytes%s)", parts.host .. (parts.path or ""),
        r.ok and tostring(r.status) or r.kind, numbers.format("%.3f", scheduler.now() - t0), r.bytes or 0,
        have > 0 and ", resumed" or "")
    end
    if cb_err then return nil, cb_err end
    if env.closed() then return nil, err_of{ type = "aborted", message = "task closed during its download" } end
    local d = M.decide{ result = r, have = have, validator = validator, size = files.size(part) or 0,
                        refreshed = refreshed, task_id = task.id }
    if d.discard then
      remove_part(part)
      files.remove(meta)
    end
    if d.action ~= "redirect" then hop, hops = nil, 0 end
    if d.action == "redirect" then
      hops = hops + 1
      if hops > M.MAX_REDIRECTS then
        return nil, err_of{ type = "server_error", task_id = task.id,
          message = "the result URL redirected more than " .. M.MAX_REDIRECTS .. " times" }
      end
      local next_parts = urls.parse(d.location, parts.url)
      if not next_parts then
        return nil, err_of{ type = "server_error", task_id = task.id,
          message = "the result URL redirected to something that is not a URL: " .. http.excerpt(d.location) }
      end
      hop = next_parts.url
    elseif d.action == "done" then
      local size = files.size(part) or 0
      if opts.on_progress then
        local cok, e = scheduler.protect(opts.on_progress, size, size)
        if not cok then return nil, errors.callback("on_progress", e) end
      end
      -- the rename and the validator's removal on the engine's worker: a busy disk holds a folder's
      -- lock for milliseconds, too long for a host's frame
      local rok, rerr = replace(part, target, meta)
      if not rok then
        return nil, err_of{ type = "io_error",
          message = "cannot rename " .. path .. ".part: " .. part .. ": " .. tostring(rerr) }
      end
      if jrnl and jkey then
        local jok, jerr = jrnl:append{ type = "download", key = jkey, task_id = task.id, path = path, bytes = size }
        if not jok then ctx.log("info", "journal: %s", tostring(jerr)) end
      end
      return path
    elseif d.action == "fail" then
      return nil, d.err
    elseif d.action == "refresh" then
      refreshed = true
      local rok, rerr = task:refresh{ timeout = retry.left(deadline) }
      if not rok then return nil, rerr end
      if task[field] == url and (task.expires_at or 0) <= env.server_now() then
        return nil, M.decide{ result = r, have = have, size = 0, refreshed = true, task_id = task.id }.err
      end
    else
      attempt = attempt + 1
      local delay, derr = ctx.policy:delay(d.err, attempt, deadline)
      if not delay then return nil, derr end
      env.nap(delay)
    end
  end
end

return M

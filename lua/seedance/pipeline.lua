--- Pipelines: bounded fan-out over many requests, and chained clips.
-- Both work the three ways every seedance call does: blocking in plain code,
-- yielding under `seedance.run`/`spawn`, and stepped by `seedance.step(0)`.
-- @module seedance.pipeline

local compat = require("seedance.compat")
local core = require("seedance.core")
local errors = require("seedance.errors")
local files = require("seedance.files")
local heap = require("seedance.heap")
local scheduler = require("seedance.scheduler")

local M = {}

local generate_options -- defined below

-- The output path for item i: a function(i, request) or a format string
-- ("out/%03d.mp4"). Returns nil, err when the function raises or returns no string.
local function output_path(output, i, request)
  if output == nil then return nil end
  if type(output) == "string" then
    local ok, p = pcall(string.format, output, i)
    if not ok then
      return nil, errors.new{ type = "validation_error",
                              message = "output format '" .. output .. "': " .. tostring(p) }
    end
    return p
  end
  local ok, p = compat.xpcall(output, debug.traceback, i, request)
  if not ok then return nil, errors.callback("output", p) end
  if type(p) ~= "string" then
    return nil, errors.new{ type = "callback_error",
                            message = "output(" .. i .. ") returned " .. type(p) .. ", not a path" }
  end
  return p
end

-- A path with "." segments and repeated separators removed, for comparing outputs.
local function normalized(path)
  local abs = path:sub(1, 1) == "/"
  local out = {}
  for seg in path:gmatch("[^/\\]+") do
    if seg == ".." and #out > 0 and out[#out] ~= ".." then out[#out] = nil
    elseif seg ~= "." then out[#out + 1] = seg end
  end
  return (abs and "/" or "") .. table.concat(out, "/")
end

-- The identity of the file a path names, however spelled: its folder's identity (through
-- links) and its name; the normalized text where the folder cannot be read.
local function identity(path)
  local dir, name = files.dirname(path), path:match("([^/\\]*)$")
  local id = core.file_id and core.file_id(dir, true)
  return id and (id .. "/" .. name) or normalized(path)
end

-- Check before paying: every output can be written and names a file of its
-- own, every local input can be read, and (with `validate`, unless the client's
-- validation is off) every request is one the validator takes, as `shape(i, req)`
-- says it will be sent. Returns the output paths, or nil and a list of { index, error }.
local function preflight(client, requests, output, validate, shape)
  local paths, problems, seen = {}, {}, {}
  for i, req in ipairs(requests) do
    local path, err = output_path(output, i, req)
    if validate and client.settings.validate then
      local ok, verr = require("seedance").validate(shape(i, req))
      if not ok then err = err or verr end
    end
    if path and not err then
      local ok, oerr = files.check_output(path)
      if not ok then err = oerr end
      local id = identity(path)
      if not err and seen[id] then
        err = errors.new{ type = "io_error", message = string.format("%s: item %d writes to the same file as "
          .. "item %d; give every item its own output (\"out/%%03d.mp4\")", path, i, seen[id]) }
      end
      seen[id] = seen[id] or i
    end
    if not err then
      local ok, ierr = files.check_inputs(req)
      if not ok then err = ierr end
    end
    if err then problems[#problems + 1] = { i, err } end
    paths[i] = path
  end
  if #problems > 0 then return nil, problems end
  return paths
end

-- The error of an item not started because another failed its checks.
-- Requests must be tables: anything else is a caller mistake, raised before anything is paid.
-- The options of each submit: opts.generate, with opts.timeout as its deadline unless it has one.
function generate_options(opts)
  local g = {}
  for k, v in pairs(opts.generate or {}) do g[k] = v end
  if g.timeout == nil then g.timeout = opts.timeout end
  return g
end

local function check_requests(requests, fname)
  errors.checkarg(requests, "table", 2, fname)
  for i, req in ipairs(requests) do
    if type(req) ~= "table" then
      errors.argerror(2, fname, string.format("request %d is a %s, not a table", i, type(req)), 4)
    end
  end
end

local function not_started(first)
  return errors.new{ type = "skipped",
    message = string.format("not started: item %d failed its checks before paying (%s)", first[1], first[2].message) }
end

-- Submit, wait and (when a path is given) download one request (chain's clips).
local function run_one(client, request, path, opts, on_task_progress)
  local task, err = client:generate(request, generate_options(opts))
  if not task then return { error = err } end
  local item = { task = task }
  local ok
  ok, err = task:wait{ timeout = opts.timeout, on_progress = on_task_progress }
  if not ok then item.error = err; return item end
  if path then
    local saved
    saved, err = task:download(path, { on_progress = opts.on_download })
    if not saved then item.error = err; return item end
    item.path = saved
  end
  return item
end

--- Coroutines of each pool of `map`, at most: submitting, polling and downloading. The
-- items in flight (`concurrency`) are handles and small waiters, not a coroutine each.
M.POOLS = { submit = 16, poll = 32, download = 8 }

--- Generate every request, at most `concurrency` at a time. Results come back
-- in input order as `{ task = ..., path = ..., error = ... }`; one item's error
-- does not stop its siblings unless `fail_fast` is set (an invalid request is
-- its own item's `validation_error`, and is not paid for).
--
-- Before the first submit, every output path is checked (its folder exists
-- and takes a file, and no two items write to one file, however the paths are
-- spelled) and every local image read: if any check fails nothing is paid
-- for, the failing items carry their error and the others a `skipped` one.
-- A request that is not a table is a caller mistake, raised before anything is paid.
-- A callback that raises (`output`, `on_progress`) ends the batch like
-- `fail_fast`, with a `callback_error` (in the item, or in `stats.error`).
-- @tparam seedance.Client client
-- @tparam table requests a list of request tables
-- @tparam[opt] seedance.MapOptions opts
-- @treturn table results in input order
-- @treturn table stats `{ total, done, failed, skipped, error }`
function M.map(client, requests, opts)
  check_requests(requests, "map")
  errors.checkarg(opts, "table", 3, "map", true)
  opts = opts or {}
  local n = #requests
  local results, percent = {}, {}
  local stats = { total = n, done = 0, failed = 0, skipped = 0, running = 0, percent = 0 }
  -- (an invalid request is its own item's error, as its siblings go on: it is not paid for)
  local paths, problems = preflight(client, requests, opts.output, false)
  if not paths then
    for _, p in ipairs(problems) do results[p[1]] = { error = p[2] } end
    for i = 1, n do
      if results[i] then stats.failed = stats.failed + 1
      else
        stats.skipped = stats.skipped + 1
        results[i] = { error = not_started(problems[1]) }
      end
    end
    return results, stats
  end
  local concurrency = math.max(1, math.min(opts.concurrency or 4, n))
  local next_index, stop = 1, false
  local started, finished, in_flight, percent_sum = 0, 0, 0, 0
  local due, downloads = {}, {} -- waiters by their next poll; completed items to download
  local version = 0               -- bumped on every change the pools wait for
  local changed = scheduler.condition()
  local gopts = generate_options(opts)

  local function report()
    if not opts.on_progress or stats.error then return end
    stats.percent = n > 0 and math.floor(percent_sum / n) or 100
    local ok, err = compat.xpcall(opts.on_progress, debug.traceback, stats)
    if not ok then
      stats.error = errors.callback("on_progress", err)
      stop = true
    end
  end
  local function set_percent(i, p)
    percent_sum = percent_sum + p - (percent[i] or 0)
    percent[i] = p
  end
  local function poke()
    version = version + 1
    changed.notify()
  end
  local function finish(i, item)
    results[i] = item
    finished, in_flight = finished + 1, in_flight - 1
    stats.running = stats.running - 1
    set_percent(i, 100)
    if item.error then
      stats.failed = stats.failed + 1
      if opts.fail_fast then stop = true end
    else
      stats.done = stats.done + 1
    end
    report()
    poke()
  end
  -- every item started has finished, and no more will start
  local function over()
    return finished == started and (stop or next_index > n)
  end

  local function submitter()
    while not stop and next_index <= n do
      if in_flight >= concurrency then
        changed.wait(function() return in_flight < concurrency or stop end)
      else
        local i = next_index
        next_index, started, in_flight = i + 1, started + 1, in_flight + 1
        stats.running = stats.running + 1
        local task, err = client:generate(requests[i], gopts)
        if not task then
          finish(i, { error = err })
        else
          local w = task:waiter{ timeout = opts.timeout, on_progress = opts.on_progress and function(t)
            set_percent(i, t.progress or 0)
            report()
          end }
          w.at, w.i = scheduler.now(), i
          heap.push(due, w)
          poke()
        end
      end
    end
    poke() -- no more to submit: pools waiting on that may end
  end

  local function poller()
    while not over() do
      local w = due[1]
      if not w then
        local v = version
        changed.wait(function() return version ~= v end)
      elseif w.at > scheduler.now() then
        local v = version -- until it is due, or something earlier may have come
        changed.wait(function() return version ~= v end, w.at)
      else
        heap.pop(due)
        local what, x = w:step()
        if what == "again" then
          w.at = scheduler.now() + x
          heap.push(due, w)
        elseif what == "done" and paths[w.i] then
          downloads[#downloads + 1] = w
          poke()
        else
          finish(w.i, { task = w.task, error = what == "fail" and x or nil })
        end
      end
    end
  end

  local function downloader()
    while not over() do
      local w = table.remove(downloads, 1)
      if not w then
        local v = version
        changed.wait(function() return version ~= v end)
      else
        local item = { task = w.task }
        local saved, err = w.task:download(paths[w.i], { on_progress = opts.on_download })
        if saved then item.path = saved else item.error = err end
        finish(w.i, item)
      end
    end
  end

  local pool = {}
  for _, p in ipairs{ { submitter, M.POOLS.submit }, { poller, M.POOLS.poll }, { downloader, M.POOLS.download } } do
    for _ = 1, math.min(concurrency, p[2]) do pool[#pool + 1] = scheduler.spawn(p[1]) end
  end
  for _, h in ipairs(pool) do
    local _, err = h:wait()
    if err then error(err, 0) end
  end
  for i = 1, n do
    if not results[i] then
      stats.skipped = stats.skipped + 1
      results[i] = { error = errors.new{ type = "skipped", message = stats.error
        and "not started: on_progress raised" or "not started: an earlier item failed (fail_fast)" } }
    end
  end
  return results, stats
end

--- Generate clips one after another, each starting from the previous clip's
-- last frame (`return_last_frame = true` on every clip). The first request
-- is sent as given; later ones get the previous last frame as their first
-- image (or `first_frame` role). Every clip (as it will be sent), output and
-- local image is checked before the first clip is paid for, since a chain that
-- stops half-way has paid for clips it cannot use; a callback that raises stops
-- the chain with a `callback_error`.
-- @tparam seedance.Client client
-- @tparam table requests a list of request tables, one per clip
-- @tparam[opt] seedance.ChainOptions opts
-- @treturn table clips `{ task = ..., path = ... }` done so far
-- @treturn seedance.Error|nil the error that stopped the chain
function M.chain(client, requests, opts)
  check_requests(requests, "chain")
  errors.checkarg(opts, "table", 3, "chain", true)
  opts = opts or {}
  -- clip i as it will be sent: its request, with the previous clip's last frame for i > 1
  local function clip(base, previous)
    local req = {}
    for k, v in pairs(base) do req[k] = v end
    req.return_last_frame = true
    if previous then
      if opts.frame_as == "first_frame" then
        local roles = { { url = previous, role = "first_frame" } }
        for _, r in ipairs(type(base.image_with_roles) == "table" and base.image_with_roles or {}) do
          if type(r) ~= "table" or r.role ~= "first_frame" then roles[#roles + 1] = r end
        end
        req.image_with_roles = roles
      else
        local list = { previous }
        for _, u in ipairs(type(base.image_urls) == "table" and base.image_urls or {}) do list[#list + 1] = u end
        req.image_urls = list
      end
    end
    return req
  end
  local validate = not (opts.generate and opts.generate.validate == false)
  local paths, problems = preflight(client, requests, opts.output, validate, function(i, base)
    -- a stand-in for the frame clip i - 1 will return, so the check sees the request as it will go
    return clip(base, i > 1 and "https://seedance.invalid/previous-last-frame.png" or nil)
  end)
  if not paths then return {}, problems[1][2] end
  local clips, previous = {}, nil
  for i, base in ipairs(requests) do
    local req = clip(base, previous)
    local item = run_one(client, req, paths[i], opts,
      opts.on_progress and function(t) opts.on_progress(i, t) end)
    if item.error then return clips, item.error end
    clips[i] = item
    if opts.on_clip then
      local ok, err = compat.xpcall(opts.on_clip, debug.traceback, i, item.task, item.path)
      if not ok then return clips, errors.callback("on_clip", err) end
    end
    previous = item.task.last_frame_url
    if not previous and i < #requests then
      return clips, errors.new{ type = "server_error", task_id = item.task.id,
        message = "clip " .. i .. " (task " .. item.task.id .. ") came back without a last frame" }
    end
  end
  return clips
end

return M

--- Pipelines: bounded fan-out over many requests, and chained clips.
-- Both work the three ways every seedance call does: blocking in plain code,
-- yielding under `seedance.run`/`spawn`, and stepped by `seedance.step(0)`.
-- @module seedance.pipeline

local errors = require("seedance.errors")
local heap = require("seedance.heap")
local preflight = require("seedance.preflight")
local scheduler = require("seedance.scheduler")

local M = {}

-- The options of each submit: opts.generate, with opts.timeout as its deadline unless it has one.
local function generate_options(opts)
  local g = {}
  for k, v in pairs(opts.generate or {}) do g[k] = v end
  if g.timeout == nil then g.timeout = opts.timeout end
  return g
end

-- The error of an item not started because another failed its checks.
local function not_started(first)
  return errors.new{ type = "skipped",
    message = string.format("not started: item %d failed its checks before paying (%s)", first[1], first[2].message) }
end

-- Call task:method(...) or client:method(...) protected: what it raised is an `aborted` error.
local function call(obj, method, ...)
  local ok, a, b = scheduler.protect(obj[method], obj, ...)
  if not ok then return nil, errors.callback(method, a, "aborted") end
  return a, b
end

--- Rounds of an item's submit: a submit that ends with an error the service may have made a
-- task behind (`maybe_paid`: its answers were lost, or were 5xx) is tried again under that
-- same key (`idempotency_key`), up to this many times in all, so a task the service made and
-- billed lands in its item (the service answers the key with it) instead of being paid for
-- again by a later run. An item that still fails carries the key in its error.
M.SUBMIT_ROUNDS = 3

-- Whether an item's submit that ended with err is worth another round under its key.
local function again(err)
  return err ~= nil and err.idempotency_key ~= nil and err.maybe_paid == true
end

-- Submit one item: generate(request, gopts), and again under the same Idempotency-Key while
-- `again` says so (at most SUBMIT_ROUNDS in all; `stopped()` ends it early), with the client's
-- longest backoff between rounds. Returns as `scheduler.protect` does: ok (false: generate raised),
-- then the task or nil and the error (which carries the key).
local function submit_item(client, request, gopts, stopped)
  local ok, task, err = scheduler.protect(client.generate, client, request, gopts)
  for _ = 2, M.SUBMIT_ROUNDS do
    if not ok or task or not again(err) or client.closed or (stopped and stopped()) then break end
    local s = client.settings
    scheduler.sleep(math.min(s.max_backoff, s.backoff * 2 ^ s.max_retries) * s.time_scale)
    local g = {}
    for k, v in pairs(gopts) do g[k] = v end
    g.idempotency_key = err.idempotency_key
    ok, task, err = scheduler.protect(client.generate, client, request, g)
  end
  return ok, task, err
end

-- Submit, wait and (when a path is given) download one request (chain's clips).
-- Never raises: whatever a call raises (a client closed by a callback, say) is the item's error.
local function run_one(client, request, path, shown, opts, on_task_progress)
  local ok, task, err = submit_item(client, request, generate_options(opts))
  if not ok then return { error = errors.callback("generate", task, "aborted") } end
  if not task then return { error = err } end
  local item = { task = task }
  ok, err = call(task, "wait", { timeout = opts.timeout, on_progress = on_task_progress })
  if not ok then item.error = err; return item end
  if path then
    local saved
    saved, err = call(task, "download", path, { on_progress = opts.on_download })
    if not saved then item.error = err; return item end
    item.path = shown
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
-- Caller mistakes raise before anything starts: a client that is not one (or
-- is closed), requests that are not a list of tables (a hole in it too), an
-- unknown option or one of the wrong type (`concurrency` a whole number of at
-- least 1, `timeout` a number, callbacks functions, `output` a format string
-- without NUL bytes or a function, `generate` without a key that every item would share).
-- Then, before the first submit, every output path is checked (its folder exists
-- and takes a file, and no file of the batch is another's, however the paths are
-- spelled: two outputs, an output and another's download companion, an output and
-- an image a request reads or the client's journal) and every local image read:
-- if any check fails nothing is paid for, the failing items carry their error
-- and the others a `skipped` one.
-- A callback that raises (`output`, `on_progress`) ends the batch like
-- `fail_fast`, with a `callback_error` (in the item, or in `stats.error`); so
-- does the client closed mid-batch, or anything raised inside it, with an
-- `aborted` one: items not started are `skipped`, and every task paid for comes
-- back in its item.
-- @tparam seedance.Client client
-- @tparam table requests a list of request tables
-- @tparam[opt] seedance.MapOptions opts
-- @treturn table results in input order
-- @treturn table stats `{ total, done, failed, skipped, error }`
function M.map(client, requests, opts)
  preflight.client(client, "map")
  preflight.requests(requests, "map")
  opts = preflight.options(opts, preflight.MAP, "map")
  local n = #requests
  local results, percent, tasks = {}, {}, {}
  local stats = { total = n, done = 0, failed = 0, skipped = 0, running = 0, percent = 0 }
  -- (an invalid request is its own item's error, as its siblings go on: it is not paid for)
  -- (paths: each output as resolved now, what is downloaded to whatever folder the host is in later;
  -- given: as the output option named it, what the results say)
  local paths, problems, given = preflight.items(client, requests, opts.output, false)
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
  local fatal                     -- what a pool raised outside any item (a bug): the batch ends

  local function report()
    if not opts.on_progress or stats.error then return end
    stats.percent = n > 0 and math.floor(percent_sum / n) or 100
    local ok, err = scheduler.protect(opts.on_progress, stats)
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
  -- What a call of an item raised (a client closed under it, say): the item's error, and the batch ends.
  local function raised(what, err)
    local e = errors.callback(what, err, "aborted")
    stats.error = stats.error or e
    stop = true
    return e
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
  -- every item started has finished, and no more will start (or a pool broke)
  local function over()
    return fatal ~= nil or (finished == started and (stop or next_index > n))
  end

  local function submitter()
    while not stop and next_index <= n do
      if in_flight >= concurrency then
        changed.wait(function() return in_flight < concurrency or stop end)
      elseif client.closed then -- closed by a callback, say: no more submits
        stop = true
        stats.error = stats.error or errors.new{ type = "aborted", message = "the client was closed" }
      else
        local i = next_index
        next_index, started, in_flight = i + 1, started + 1, in_flight + 1
        stats.running = stats.running + 1
        local ok, task, err = submit_item(client, requests[i], gopts, function() return stop end)
        if not ok then
          finish(i, { error = raised("generate", task) })
        elseif not task then
          finish(i, { error = err })
        else
          tasks[i] = task
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
        local ok, what, x = scheduler.protect(w.step, w)
        if not ok then
          w.task:close() -- its max_in_flight slot back; the handle is the item's still
          finish(w.i, { task = w.task, error = raised("polling", what) })
        elseif what == "again" then
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
        local ok, saved, err = scheduler.protect(w.task.download, w.task, paths[w.i],
          { on_progress = opts.on_download })
        if not ok then item.error = raised("download", saved)
        elseif saved then item.path = given[w.i]
        else item.error = err end
        finish(w.i, item)
      end
    end
  end

  -- A pool's coroutine: whatever it raises ends the batch, and wakes the others to end too.
  local function worker(body)
    return scheduler.spawn(function()
      local ok, err = scheduler.protect(body)
      if not ok then
        fatal = fatal or err
        stop = true
        poke()
      end
    end)
  end
  local pool = {}
  for _, p in ipairs{ { submitter, M.POOLS.submit }, { poller, M.POOLS.poll }, { downloader, M.POOLS.download } } do
    for _ = 1, math.min(concurrency, p[2]) do pool[#pool + 1] = worker(p[1]) end
  end
  for _, h in ipairs(pool) do
    local _, err = h:wait()
    if err then fatal = fatal or err end
  end
  if fatal then stats.error = stats.error or errors.callback("map", fatal, "aborted") end
  for i = 1, n do
    if not results[i] and tasks[i] then -- paid for, and the batch ended under it: the handle is the caller's
      stats.failed = stats.failed + 1
      results[i] = { task = tasks[i], error = stats.error }
    elseif not results[i] then
      stats.skipped = stats.skipped + 1
      results[i] = { error = errors.new{ type = "skipped", message = "not started: " .. (stats.error
        and stats.error.message:match("[^\n]*") or "an earlier item failed (fail_fast)") } }
    end
  end
  stats.running = 0
  return results, stats
end

--- Generate clips one after another, each starting from the previous clip's
-- last frame (`return_last_frame = true` on every clip). The first request
-- is sent as given; later ones get the previous last frame as their first
-- image (or `first_frame` role). Every clip (as it will be sent), output and
-- local image is checked before the first clip is paid for, since a chain that
-- stops half-way has paid for clips it cannot use; caller mistakes (arguments,
-- options: as for `map`) raise before that. A callback that raises stops the
-- chain with a `callback_error`; the client closed under it, or a call that
-- raises, with an `aborted` one.
-- @tparam seedance.Client client
-- @tparam table requests a list of request tables, one per clip
-- @tparam[opt] seedance.ChainOptions opts
-- @treturn table clips `{ task = ..., path = ... }` done so far
-- @treturn seedance.Error|nil the error that stopped the chain; when the clip it stopped at
-- was paid for, its `task_id` names that clip's task
function M.chain(client, requests, opts)
  preflight.client(client, "chain")
  preflight.requests(requests, "chain")
  opts = preflight.options(opts, preflight.CHAIN, "chain")
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
  local paths, problems, given = preflight.items(client, requests, opts.output, validate, function(i, base)
    -- a stand-in for the frame clip i - 1 will return, so the check sees the request as it will go
    return clip(base, i > 1 and "https://seedance.invalid/previous-last-frame.png" or nil)
  end)
  if not paths then return {}, problems[1][2] end
  local clips, previous = {}, nil
  for i, base in ipairs(requests) do
    if client.closed then -- closed by a callback, say: no more clips
      return clips, errors.new{ type = "aborted", message = "the client was closed before clip " .. i }
    end
    local req = clip(base, previous)
    local item = run_one(client, req, paths[i], given[i], opts,
      opts.on_progress and function(t) opts.on_progress(i, t) end)
    if item.error then
      -- a clip paid for and not finished (its wait, download or a callback failed): the error
      -- names its task, which goes on on the service (client:task(id) picks it up)
      if item.task and not item.error.task_id then item.error.task_id = item.task.id end
      return clips, item.error
    end
    clips[i] = item
    if opts.on_clip then
      local ok, err = scheduler.protect(opts.on_clip, i, item.task, item.path)
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

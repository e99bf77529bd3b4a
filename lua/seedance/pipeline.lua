--- Pipelines: bounded fan-out over many requests, and chained clips.
-- Both work the three ways every seedance call does: blocking in plain code,
-- yielding under `seedance.run`/`spawn`, and stepped by `seedance.step(0)`.
-- @module seedance.pipeline

local errors = require("seedance.errors")
local fanout = require("seedance.pipeline.fanout")
local preflight = require("seedance.preflight")
local scheduler = require("seedance.scheduler")

local M = {}

local generate_options = fanout.generate_options

-- The error of an item not started because another failed its checks.
local function not_started(first)
  return errors.new{ type = "skipped", reason = "checks",
    message = string.format("not started: item %d failed its checks before paying (%s)", first[1], first[2].message) }
end

-- Call task:method(...) or client:method(...) protected: what it raised is an `aborted` error.
local function call(obj, method, ...)
  local ok, a, b = scheduler.protect(obj[method], obj, ...)
  if not ok then return nil, errors.callback(method, a, "aborted") end
  return a, b
end

local submit_item = fanout.submit_item

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
M.POOLS = fanout.POOLS

--- Generate every request, at most `concurrency` at a time. Results come back
-- in input order as `{ task = ..., path = ..., error = ... }`; one item's error
-- does not stop its siblings unless `fail_fast` is set (an invalid request is
-- its own item's `validation_error`, and is not paid for).
--
-- Caller mistakes raise before anything starts: a client that is not one (or
-- is closed), requests that are not a list of tables (a hole in it too), an
-- unknown option or one of the wrong type (`concurrency` a whole number of at
-- least 1, `timeout` a number, callbacks functions, `output` a format string
-- without NUL bytes or a function, `generate` without a key that every item would
-- share, `max_spend` a number of at least 0).
-- Then, before the first submit, every output path is checked (its folder exists
-- and takes a file, and no file of the batch is another's, however the paths are
-- spelled: two outputs, an output and another's download companion, an output and
-- an image a request reads or the client's journal) and every local image read:
-- if any check fails nothing is paid for, the failing items carry their error
-- and the others a `skipped` one.
--
-- With the client's journal a re-run pays for nothing twice: an item the
-- journal holds a task for is re-attached to (and not downloaded again when its
-- file is whole), an abandoned one (`Task:abandon`) is skipped, and one whose
-- try failed fails again with its recorded error, without a request, unless
-- `retry_failed` is set: then it is submitted again under a new key, recorded in
-- the journal (a moderation failure only with `retry_moderated` too). A file
-- saved by an earlier run that has changed since is said (an `io_error`), never
-- overwritten.
--
-- `max_spend` caps the spending: the balance is read before the first paying
-- submit and before each later one, and once `used_balance` has grown by more
-- than `max_spend` no more items are submitted; those in flight finish and the
-- rest are `skipped` with `reason = "max_spend"` (`stats.spent`, `stats.stopped`).
--
-- `on_progress(stats)` is called when the counts or the percent change (not
-- on every poll), and once at the start of a journaled re-run.
-- A callback that raises (`output`, `on_progress`) ends the batch like
-- `fail_fast`, with a `callback_error` (in the item, or in `stats.error`); so
-- does the client closed mid-batch, or anything raised inside it, with an
-- `aborted` one: items not started are `skipped`, and every task paid for comes
-- back in its item.
-- @tparam seedance.Client client
-- @tparam table requests a list of request tables
-- @tparam[opt] seedance.MapOptions opts
-- @treturn table results in input order
-- @treturn table stats `{ total, done, failed, skipped, running, percent, error, spent, stopped }`
function M.map(client, requests, opts)
  preflight.client(client, "map")
  preflight.requests(requests, "map")
  opts = preflight.options(opts, preflight.MAP, "map")
  local n = #requests
  -- (an invalid request is its own item's error, as its siblings go on: it is not paid for)
  -- (paths: each output as resolved now, what is downloaded to whatever folder the host is in later;
  -- given: as the output option named it, what the results say)
  local paths, problems, given = preflight.items(client, requests, opts.output, false)
  if not paths then
    local results, stats = {}, { total = n, done = 0, failed = 0, skipped = 0, running = 0, percent = 0 }
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
  return fanout.run(client, requests, opts, paths, { given = given })
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

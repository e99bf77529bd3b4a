--- Pipelines: bounded fan-out over many requests, and chained clips.
-- Both work the three ways every seedance call does: blocking in plain code,
-- yielding under `seedance.run`/`spawn`, and stepped by `seedance.step(0)`.
-- @module seedance.pipeline

local compat = require("seedance.compat")
local errors = require("seedance.errors")
local scheduler = require("seedance.scheduler")

local M = {}

-- The output path for item i: a function(i, request) or a format string ("out/%03d.mp4").
local function output_path(output, i, request)
  if type(output) == "function" then return output(i, request) end
  if type(output) == "string" then return string.format(output, i) end
  return nil
end

-- Submit, wait and (when a path is given) download one request.
local function run_one(client, request, path, opts, on_task_progress)
  local task, err = client:generate(request, opts.generate)
  if not task then return { error = err } end
  local item = { task = task }
  local wopts = { timeout = opts.timeout, on_progress = on_task_progress }
  local ok
  ok, err = task:wait(wopts)
  if not ok then item.error = err; return item end
  if path then
    local saved
    saved, err = task:download(path, { on_progress = opts.on_download })
    if not saved then item.error = err; return item end
    item.path = saved
  end
  return item
end

--- Generate every request, at most `concurrency` at a time. Results come back
-- in input order as `{ task = ..., path = ..., error = ... }`; one item's error
-- does not stop its siblings unless `fail_fast` is set.
-- @tparam seedance.Client client
-- @tparam table requests a list of request tables
-- @tparam[opt] seedance.MapOptions opts
-- @treturn table results in input order
-- @treturn table stats `{ total, done, failed, skipped }`
function M.map(client, requests, opts)
  if type(requests) ~= "table" then
    error("bad argument #2 to 'map' (table expected, got " .. type(requests) .. ")", 2)
  end
  opts = opts or {}
  local n = #requests
  local concurrency = math.max(1, math.min(opts.concurrency or 4, n))
  local results, percent = {}, {}
  local stats = { total = n, done = 0, failed = 0, skipped = 0, running = 0, percent = 0 }
  local next_index, stop = 1, false

  local function report()
    if not opts.on_progress then return end
    local sum = 0
    for i = 1, n do sum = sum + (percent[i] or 0) end
    stats.percent = n > 0 and math.floor(sum / n) or 100
    local ok, err = compat.xpcall(opts.on_progress, debug.traceback, stats)
    if not ok then io.stderr:write("seedance.map: on_progress raised: ", tostring(err), "\n") end
  end

  local function worker()
    while not stop and next_index <= n do
      local i = next_index
      next_index = next_index + 1
      stats.running = stats.running + 1
      local item = run_one(client, requests[i], output_path(opts.output, i, requests[i]), opts,
        function(t)
          percent[i] = t.progress or 0
          report()
        end)
      results[i] = item
      stats.running = stats.running - 1
      percent[i] = 100
      if item.error then
        stats.failed = stats.failed + 1
        if opts.fail_fast then stop = true end
      else
        stats.done = stats.done + 1
      end
      report()
    end
  end

  local workers = {}
  for w = 1, concurrency do workers[w] = scheduler.spawn(worker) end
  for w = 1, concurrency do
    local _, err = workers[w]:wait()
    if err then error(err, 0) end
  end
  for i = 1, n do
    if not results[i] then
      stats.skipped = stats.skipped + 1
      results[i] = { error = errors.new{ type = "skipped",
                                         message = "not started: an earlier item failed (fail_fast)" } }
    end
  end
  return results, stats
end

--- Generate clips one after another, each starting from the previous clip's
-- last frame (`return_last_frame = true` on every clip). The first request
-- is sent as given; later ones get the previous last frame as their first
-- image (or `first_frame` role).
-- @tparam seedance.Client client
-- @tparam table requests a list of request tables, one per clip
-- @tparam[opt] seedance.ChainOptions opts
-- @treturn table clips `{ task = ..., path = ... }` done so far
-- @treturn seedance.Error|nil the error that stopped the chain
function M.chain(client, requests, opts)
  if type(requests) ~= "table" then
    error("bad argument #2 to 'chain' (table expected, got " .. type(requests) .. ")", 2)
  end
  opts = opts or {}
  local clips, previous = {}, nil
  for i, base in ipairs(requests) do
    local req = {}
    for k, v in pairs(base) do req[k] = v end
    req.return_last_frame = true
    if previous then
      if opts.frame_as == "first_frame" then
        local roles = { { url = previous, role = "first_frame" } }
        for _, r in ipairs(base.image_with_roles or {}) do
          if r.role ~= "first_frame" then roles[#roles + 1] = r end
        end
        req.image_with_roles = roles
      else
        local urls = { previous }
        for _, u in ipairs(base.image_urls or {}) do urls[#urls + 1] = u end
        req.image_urls = urls
      end
    end
    local item = run_one(client, req, output_path(opts.output, i, req), opts,
      opts.on_progress and function(t) opts.on_progress(i, t) end)
    if item.error then return clips, item.error end
    clips[i] = item
    if opts.on_clip then opts.on_clip(i, item.task, item.path) end
    previous = item.task.last_frame_url
    if not previous and i < #requests then
      return clips, errors.new{ type = "server_error", task_id = item.task.id,
        message = "clip " .. i .. " (task " .. item.task.id .. ") came back without a last frame" }
    end
  end
  return clips
end

return M

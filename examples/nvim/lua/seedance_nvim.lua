--- A Neovim plugin driving seedance from the editor's own event loop.
-- `vim.loop` is luv: one poll handle per socket the engine wants
-- (`seedance.sockets()`) and one timer for its next deadline
-- (`seedance.timeout()`) wake `seedance.step(0)`; nothing polls in a busy
-- loop and nothing blocks, so typing, timers and other plugins go on.
--
--     :SeedanceGenerate a paper boat on a river
--
-- SEEDANCE_API_KEY (and SEEDANCE_BASE_URL for the emulator) come from the
-- environment, as everywhere in seedance.
-- @module seedance_nvim

local uv = vim.loop
local seedance = require("seedance")

local M = {}

local watched = {}    -- fd -> { poll = uv_poll, events = "r" | "w" | "rw" }
local timer           -- wakes the engine for its own deadlines
local pump            -- step, then re-arm the watchers (forward declaration)

--- Jobs started by this plugin: { prompt, text, done, ok, path }.
M.jobs = {}

--- Options for every job, set with `setup`: `output_dir` (where videos go,
-- default "."), `request` (fields added to every request), `on_done`
-- (function(job), called on the main loop when a job ends).
M.options = { output_dir = ".", request = {} }

--- Set options for the jobs `:SeedanceGenerate` starts (see `options`).
-- @tparam table opts
function M.setup(opts)
  for k, v in pairs(opts or {}) do M.options[k] = v end
end

--- How many times the plugin has called seedance.step (once per wake-up).
M.steps = 0

local function show(text)
  -- luv callbacks are "fast" contexts where the editor's API is off limits
  vim.schedule(function() vim.api.nvim_echo({ { "seedance: " .. text } }, false, {}) end)
end

local function sync_watchers()
  local want = {}
  for _, s in ipairs(seedance.sockets()) do want[s[1]] = s[2] end
  for fd, w in pairs(watched) do
    if want[fd] ~= w.events then
      w.poll:stop()
      w.poll:close()
      watched[fd] = nil
    end
  end
  for fd, events in pairs(want) do
    if not watched[fd] then
      local poll = uv.new_socket_poll(fd)
      poll:start(events, function() pump() end)
      watched[fd] = { poll = poll, events = events }
    end
  end
end

local function any_running()
  for _, job in ipairs(M.jobs) do
    if not job.done then return true end
  end
  return false
end

function pump()
  M.steps = M.steps + 1
  seedance.step(0)
  sync_watchers()
  timer:stop()
  if not any_running() then
    for fd, w in pairs(watched) do w.poll:stop(); w.poll:close(); watched[fd] = nil end
    return
  end
  local t = seedance.timeout()
  timer:start(math.max(0, math.floor((t or 0.25) * 1000 + 0.5)), 0, pump)
end

--- Generate a video from a prompt, in the background (what `:SeedanceGenerate` does).
-- @tparam string prompt
-- @tparam[opt] table opts `output` (default "<output_dir>/seedance-<n>.mp4"), `request`
--   (fields added to the request), `on_done` (function(job), called on the main loop);
--   each defaults to the one given to `setup`
-- @treturn table the job: `text`, `done`, `ok`, `path`
function M.generate(prompt, opts)
  opts = opts or {}
  local on_done = opts.on_done or M.options.on_done
  timer = timer or uv.new_timer()
  local job = { prompt = prompt, text = "submitting", done = false }
  M.jobs[#M.jobs + 1] = job
  local output = opts.output or string.format("%s/seedance-%d.mp4", M.options.output_dir, #M.jobs)
  local function finish(ok, text)
    job.ok, job.text, job.done = ok, text, true
    show(text)
    if on_done then vim.schedule(function() on_done(job) end) end
  end
  seedance.spawn(function()
    local client = seedance.new()
    local req = { model = "doubao-seedance-2.0", prompt = prompt }
    for k, v in pairs(M.options.request) do req[k] = v end
    for k, v in pairs(opts.request or {}) do req[k] = v end
    local task, err = client:generate(req)
    if not task then return finish(false, "failed: " .. tostring(err)) end
    show("submitted " .. task.id)
    local ok
    ok, err = task:wait{ on_progress = function(t)
      job.text = string.format("%s %d%%", t.status, t.progress or 0)
    end }
    if not ok then return finish(false, "failed: " .. tostring(err)) end
    job.text = "downloading"
    local path
    path, err = task:download(output)
    job.path = path
    finish(path ~= nil, path and ("saved " .. path) or ("failed: " .. tostring(err)))
  end)
  pump()    -- the spawned coroutine first runs at this step
  return job
end

--- Print the jobs started in this session, with where each stands.
function M.list()
  for i, job in ipairs(M.jobs) do print(i, job.prompt, job.text) end
end

return M

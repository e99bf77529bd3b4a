--- A Neovim plugin driving seedance from the editor's own event loop.
-- `vim.loop` is luv, so seedance's luv adapter (`seedance.adapters.luv`)
-- drives the engine: one poll handle per socket libcurl wants and one timer
-- for its next deadline wake `seedance.step(0)`; nothing polls in a busy
-- loop and nothing blocks, so typing, timers and other plugins go on.
--
--     :SeedanceGenerate a paper boat on a river
--
-- SEEDANCE_API_KEY (and SEEDANCE_BASE_URL for the emulator) come from the
-- environment, as everywhere in seedance.
-- @module seedance_nvim

local seedance = require("seedance")

local M = {}

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

--- The luv adapter driving seedance on the editor's loop, made by the
-- first job (`adapter:steps()` counts its seedance.step calls).
M.adapter = nil

local function show(text)
  -- luv callbacks are "fast" contexts where the editor's API is off limits
  vim.schedule(function() vim.api.nvim_echo({ { "seedance: " .. text } }, false, {}) end)
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
  M.adapter = M.adapter or require("seedance.adapters.luv").attach(vim.uv or vim.loop)
  local job = { prompt = prompt, text = "submitting", done = false }
  M.jobs[#M.jobs + 1] = job
  local output = opts.output or string.format("%s/seedance-%d.mp4", M.options.output_dir, #M.jobs)
  local function finish(ok, text)
    job.ok, job.text, job.done = ok, text, true
    show(text)
    if on_done then vim.schedule(function() on_done(job) end) end
  end
  M.adapter:spawn(function()    -- the spawned coroutine first runs at the adapter's next step
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
  return job
end

--- Print the jobs started in this session, with where each stands.
function M.list()
  for i, job in ipairs(M.jobs) do print(i, job.prompt, job.text) end
end

return M

-- Headless run of the Neovim example, for the spec and by hand:
--
--   build/seedance-emulator --speed 30 &          # prints "listening on http://127.0.0.1:PORT"
--   SEEDANCE_BASE_URL=http://127.0.0.1:PORT SEEDANCE_API_KEY=test SEEDANCE_TIME_SCALE=0.033 \
--   SEEDANCE_LUA_DIR=$PWD/lua SEEDANCE_CPATH="$PWD/build/luajit/?.so" \
--   SEEDANCE_OUT_DIR=out/nvim SEEDANCE_REPORT=out/nvim.report \
--     nvim --headless --clean --cmd "set rtp+=examples/nvim" -c "luafile examples/nvim/run.lua"
--
-- It runs :SeedanceGenerate, as a user would, and beside the job a 20 ms
-- editor timer that records how late each tick fires (the gap since the tick
-- before, less 20 ms). When the job ends it writes the report (with the
-- editor's CPU time and how many times seedance.step ran: no busy loop) and
-- quits, exit 0 when the video was saved; after 120 s it gives up.
local lua_dir = os.getenv("SEEDANCE_LUA_DIR")
if lua_dir then package.path = lua_dir .. "/?.lua;" .. lua_dir .. "/?/init.lua;" .. package.path end
if os.getenv("SEEDANCE_CPATH") then package.cpath = os.getenv("SEEDANCE_CPATH") .. ";" .. package.cpath end

local uv = vim.loop
local plugin = require("seedance_nvim")

local PERIOD = 20
local lateness = {}              -- ms each tick came after PERIOD had passed since the one before
local ticks = uv.new_timer()
local started = uv.hrtime()
local last = started
ticks:start(PERIOD, PERIOD, function()
  local t = uv.hrtime()
  lateness[#lateness + 1] = math.max(0, (t - last) / 1e6 - PERIOD)
  last = t
end)

local function report(job)
  ticks:stop()
  ticks:close()
  local sorted = {}
  for i, v in ipairs(lateness) do sorted[i] = v end
  table.sort(sorted)
  local function pct(p) return sorted[math.max(1, math.ceil(#sorted * p))] or 0 end
  local path = os.getenv("SEEDANCE_REPORT")
  if path then
    local f = assert(io.open(path, "w"))
    f:write(string.format("ok=%s\nstatus=%s\nticks=%d\nperiod_ms=%d\nlate_p50_ms=%.3f\nlate_p95_ms=%.3f\n"
      .. "late_max_ms=%.3f\nseconds=%.3f\ncpu_seconds=%.3f\nsteps=%d\npath=%s\n", tostring(job.ok), job.text,
      #sorted, PERIOD, pct(0.5), pct(0.95), sorted[#sorted] or 0, (uv.hrtime() - started) / 1e9, os.clock(),
      plugin.adapter:steps(), tostring(job.path)))
    f:close()
  end
  vim.cmd(job.ok and "qall!" or "cquit 1")
end

local dir = os.getenv("SEEDANCE_OUT_DIR") or "out"
vim.fn.mkdir(dir, "p")
plugin.setup{ output_dir = dir, on_done = report }
vim.cmd("SeedanceGenerate a heron in morning fog")   -- defined by plugin/seedance.lua
local job = plugin.jobs[#plugin.jobs]

vim.defer_fn(function()
  if not job.done then
    job.text = "gave up after 120 s: " .. job.text
    report(job)
  end
end, 120000)

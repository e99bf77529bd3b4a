-- B3 frame budget: seedance.step(0) from a 60 Hz host loop with TASKS
-- generations in flight (each: generate, wait, download).
--
--   lua5.4 bench/frame.lua URL TASKS TIME_SCALE OUTDIR
--
-- Every step(0) call is timed; prints p50/p99/max in ms as one JSON line.
package.path = "bench/?.lua;" .. package.path
local seedance = require("seedance")
local core = require("seedance.core")
local common = require("common")

local url, total, scale, dir = arg[1], tonumber(arg[2]), tonumber(arg[3]), arg[4]
assert(url and total and scale and dir, "usage: frame.lua URL TASKS TIME_SCALE OUTDIR")

local client = seedance.new{ base_url = url, api_key = "sk-bench", time_scale = scale }
local done, failed = 0, 0
for i = 1, total do
  seedance.spawn(function()
    local task, err = client:generate{ model = "doubao-seedance-2.0", prompt = "frame " .. i }
    if task then task, err = task:wait() end
    local path
    if task then path, err = task:download(string.format("%s/frame-%d.mp4", dir, i)) end
    if path then done = done + 1; os.remove(path) else failed = failed + 1 end
    if not path and failed < 5 then io.stderr:write(tostring(err), "\n") end
    if task then task:close() end
  end)
end

local times = {}
local deadline = core.now() + 300
while done + failed < total and core.now() < deadline do
  local t0 = core.now()
  seedance.step(0)
  times[#times + 1] = (core.now() - t0) * 1000
  core.sleep(1 / 60)   -- the rest of the frame
end
local max = 0
for _, v in ipairs(times) do if v > max then max = v end end
common.emit{ tasks = total, done = done, failed = failed, steps = #times, p50_ms = common.quantile(times, 0.5),
             p99_ms = common.quantile(times, 0.99), max_ms = max, first_ms = times[1] }
os.exit(failed == 0 and 0 or 1)

-- B4 polling: status requests per task and detection lag, seedance's adaptive
-- polling vs polling every second, on tasks of 32-120 s (the emulator's
-- clock sped up SPEED times; the client's pauses scaled to match).
--
--   lua5.4 bench/polling.lua URL TASKS SPEED adaptive|fixed
--
-- Lag: from when the task completed (its submit time plus estimated_time on
-- the emulator's clock) to when the client saw it, in unscaled seconds.
-- Requests: polls counted by the client. One JSON line.
package.path = "bench/?.lua;" .. package.path
local seedance = require("seedance")
local core = require("seedance.core")
local common = require("common")

local url, total, speed, mode = arg[1], tonumber(arg[2]), tonumber(arg[3]), arg[4]
assert(url and total and speed and (mode == "adaptive" or mode == "fixed"),
  "usage: polling.lua URL TASKS SPEED adaptive|fixed")

local client = seedance.new{ base_url = url, api_key = "sk-bench", time_scale = 1 / speed }
local models = { "doubao-seedance-2.0", "doubao-seedance-2.0-fast" }
local lags, polls, failed = {}, 0, 0

seedance.run(function()
  local jobs = {}
  for i = 1, total do
    jobs[i] = seedance.spawn(function()
      local req = { model = models[i % 2 + 1], prompt = "polling " .. i, duration = 4 + i % 12 }
      local task, err = client:generate(req)
      if not task then failed = failed + 1; io.stderr:write(tostring(err), "\n"); return end
      local submitted = core.now()
      local ok
      if mode == "adaptive" then
        local refresh = task.refresh
        task.refresh = function(t) polls = polls + 1; return refresh(t) end
        ok, err = task:wait()
      else
        repeat
          polls = polls + 1
          ok, err = task:refresh()
          if ok and task.status ~= "completed" then seedance.sleep(1 / speed) end
        until not ok or task.status == "completed" or task.status == "failed"
        ok = ok and task.status == "completed"
      end
      if not ok then failed = failed + 1; io.stderr:write(tostring(err), "\n"); return end
      local due = submitted + task.estimated_time / speed
      lags[#lags + 1] = (core.now() - due) * speed
    end)
  end
  for _, j in ipairs(jobs) do j:wait() end
end)

local sum = 0
for _, v in ipairs(lags) do sum = sum + v end
common.emit{ mode = mode, tasks = total, failed = failed, polls = polls, polls_per_task = polls / total,
             lag_p50_s = common.quantile(lags, 0.5), lag_p95_s = common.quantile(lags, 0.95),
             lag_mean_s = sum / #lags }
os.exit(failed == 0 and 0 or 1)

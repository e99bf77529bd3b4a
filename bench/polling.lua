-- B4 polling: status requests per task and detection lag, seedance's adaptive
-- polling (task:wait) vs polling every second, on tasks of 32-120 s (the
-- emulator's clock sped up SPEED times; the client's pauses scaled to match).
--
--   lua5.4 bench/polling.lua URL TASKS SPEED adaptive|fixed
--
-- Run it against an emulator with --estimate-factor F (estimated_time is F
-- times the real duration) and --progress-step N (progress in steps of N %).
-- Lag: from when the task completed on the emulator's clock (its submit time
-- plus its real duration, actual_time) to when the client saw it completed,
-- in unscaled seconds; allowed: max(2 s, 5% of the task's duration).
-- Requests: the client's GET /v1/tasks/{id} exchanges, counted by its logger
-- (every attempt, retries included). One JSON line.
package.path = "bench/?.lua;" .. package.path
local seedance = require("seedance")
local core = require("seedance.core")
local common = require("common")

local url, total, speed, mode = arg[1], tonumber(arg[2]), tonumber(arg[3]), arg[4]
assert(url and total and speed and (mode == "adaptive" or mode == "fixed"),
  "usage: polling.lua URL TASKS SPEED adaptive|fixed")

local polls = 0
local client = seedance.new{ base_url = url, api_key = "sk-bench", time_scale = 1 / speed, log_level = "info",
  logger = function(_, line) if line:find("^GET /v1/tasks/") then polls = polls + 1 end end }
local models = { "doubao-seedance-2.0", "doubao-seedance-2.0-fast" }
local lags, over, durations, seen, failed = {}, {}, {}, {}, 0

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
        ok, err = task:wait()
      else
        repeat
          ok, err = task:refresh()
          if ok and task.status ~= "completed" then seedance.sleep(1 / speed) end
        until not ok or task.status == "completed" or task.status == "failed"
        ok = ok and task.status == "completed"
      end
      if not ok or not task.actual_time then
        failed = failed + 1
        io.stderr:write(tostring(err or "completed without actual_time"), "\n")
        return
      end
      local lag = (core.now() - (submitted + task.actual_time / speed)) * speed
      lags[#lags + 1] = lag
      durations[#durations + 1] = task.actual_time
      over[#over + 1] = lag / math.max(2, 0.05 * task.actual_time)
      seen[#seen + 1] = { over = over[#over], lag = lag, duration = task.actual_time,
                          estimated = task.estimated_time }
    end)
  end
  for _, j in ipairs(jobs) do j:wait() end
end)

-- the tasks seen latest against their allowance: { duration, estimated_time, lag } each
table.sort(seen, function(a, b) return a.over > b.over end)
local worst = {}
for i = 1, math.min(5, #seen) do
  worst[i] = { duration = seen[i].duration, estimated = seen[i].estimated, lag = seen[i].lag }
end
local sum, dmin, dmax = 0, math.huge, 0
for _, v in ipairs(lags) do sum = sum + v end
for _, d in ipairs(durations) do dmin, dmax = math.min(dmin, d), math.max(dmax, d) end
common.emit{ mode = mode, tasks = total, failed = failed, polls = polls, polls_per_task = polls / total,
             lag_p50_s = common.quantile(lags, 0.5), lag_p95_s = common.quantile(lags, 0.95),
             lag_max_s = common.quantile(lags, 1), lag_mean_s = sum / math.max(1, #lags),
             -- p95 of lag / allowed lag: at most 1 when 95% of tasks were seen within their allowance
             lag_over_allowed_p95 = common.quantile(over, 0.95), duration_min_s = dmin, duration_max_s = dmax,
             worst = worst }
os.exit(failed == 0 and 0 or 1)

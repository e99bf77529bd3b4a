-- B1 fan-out and B2 memory: many generations through one seedance client.
--
--   lua5.4 bench/fanout.lua URL TASKS CONCURRENCY TIME_SCALE            (B1)
--   lua5.4 bench/fanout.lua URL TASKS 0 TIME_SCALE hold                 (B2)
--
-- B1: CONCURRENCY coroutines under seedance.run take tasks from a shared
-- counter: generate, wait until completed, close. Prints wall and CPU
-- seconds, tasks and peak RSS as one JSON line.
-- B2 (hold): TASKS submitted and polled once by 100 submitters, then left
-- in flight (the emulator's clock is slow), each held by a coroutine asleep
-- on a timer as task:wait is between polls; then RSS is read.
package.path = "bench/?.lua;" .. package.path
local seedance = require("seedance")
local core = require("seedance.core")
local common = require("common")

local url, total, conc, scale, mode = arg[1], tonumber(arg[2]), tonumber(arg[3]), tonumber(arg[4]), arg[5]
assert(url and total and conc and scale, "usage: fanout.lua URL TASKS CONCURRENCY TIME_SCALE [hold]")

local client = seedance.new{ base_url = url, api_key = "sk-bench", time_scale = scale, wait_timeout = 3600 }
local req = { model = "doubao-seedance-2.0", prompt = "bench fan-out", duration = 5 }

if mode == "hold" then
  local submitted, failed, next_i = 0, 0, 0
  seedance.run(function()
    local submitters = {}
    for w = 1, 100 do
      submitters[w] = seedance.spawn(function()
        while next_i < total do
          next_i = next_i + 1
          local task, err = client:generate(req)
          if not task then
            failed = failed + 1
            io.stderr:write(tostring(err), "\n")
          else
            task:refresh()
            submitted = submitted + 1
            -- between polls, as in task:wait: a coroutine asleep on a timer, holding its task
            seedance.spawn(function()
              seedance.sleep(3600)
              return task
            end)
          end
        end
      end)
    end
    for _, w in ipairs(submitters) do w:wait() end
    local t0 = core.now()
    while submitted + failed < total and core.now() - t0 < 300 do seedance.sleep(0.05) end
    collectgarbage("collect")
    local hwm, rss = common.rss()
    common.emit{ tasks = total, submitted = submitted, failed = failed, rss_kib = rss, hwm_kib = hwm,
                 lua_kib = collectgarbage("count") }
    os.exit(failed == 0 and 0 or 1)
  end)
  return
end

local next_i, done, failed = 0, 0, 0
local t0, c0 = core.now(), os.clock()
seedance.run(function()
  local workers = {}
  for w = 1, conc do
    workers[w] = seedance.spawn(function()
      while next_i < total do
        next_i = next_i + 1
        local task, err = client:generate(req)
        if task then task, err = task:wait() end
        if task then
          done = done + 1
          task:close()
        else
          failed = failed + 1
          if failed < 5 then io.stderr:write(tostring(err), "\n") end
        end
      end
    end)
  end
  for _, w in ipairs(workers) do w:wait() end
end)
local wall, cpu = core.now() - t0, os.clock() - c0
local hwm = common.rss()
common.emit{ tasks = total, done = done, failed = failed, wall = wall, cpu = cpu, hwm_kib = hwm,
             tasks_per_s = done / wall }
os.exit(failed == 0 and 0 or 1)

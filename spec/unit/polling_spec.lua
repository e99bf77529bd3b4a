-- seedance.polling: when to poll a task next. Pure: no network, no clock.
local polling = require("seedance.polling")

local function delay(s)
  return polling.delay(s, s.estimated_time, s.poll_min or 1, s.poll_max or 30)
end

describe("seedance.polling.delay", function()
  it("polls every LAG_FLOOR seconds while nothing says the end is later (short tasks) #m-poll-lag-bound", function()
    assert.equals(2, delay{ elapsed = 0 })
    assert.equals(2, delay{ elapsed = 30 })
  end)

  it("never sleeps more than 5% of what the task has run when it could be ending #m-poll-lag-bound", function()
    assert.is_near(5, delay{ elapsed = 100 }, 1e-9)
    assert.is_near(10, delay{ elapsed = 200, estimated_time = 100 }, 1e-9) -- past its estimate
  end)

  it("sleeps until the estimate allows the end, taking the estimate as up to 4x too long #m-poll-estimate-slack #m-poll-lag-bound", function()
    assert.equals(15, delay{ elapsed = 0, estimated_time = 60 })
    assert.equals(10, delay{ elapsed = 5, estimated_time = 60 })
    assert.equals(2, delay{ elapsed = 14, estimated_time = 60 })
  end)

  it("sleeps until the progress still missing could be done at the fastest rate seen #m-poll-lag-bound", function()
    -- 20% to 40% in 10 s with 10% steps: at most 3%/s, 50% left: at least 16.7 s more
    local d = delay{ elapsed = 40, progress = 40, prev_elapsed = 30, prev_progress = 20, progress_step = 10,
                     estimated_time = 100 }
    assert.is_near(50 / 3, d, 1e-9)
  end)

  it("reads no rate from a poll at 0% (a queued task starts late) nor before a step is known #m-poll-lag-bound #m-poll-rate-not-from-zero", function()
    assert.equals(2, delay{ elapsed = 10, progress = 10, prev_elapsed = 5, prev_progress = 0, progress_step = 10 })
    assert.equals(2, delay{ elapsed = 10, progress = 30, prev_elapsed = 5, prev_progress = 20 })
  end)

  it("keeps within poll_min and poll_max", function()
    assert.equals(30, delay{ elapsed = 0, estimated_time = 600 })
    assert.equals(5, delay{ elapsed = 0, poll_min = 5 })
  end)
end)

describe("seedance.polling.observe", function()
  it("remembers the poll before and the smallest progress step seen", function()
    local o = {}
    polling.observe(o, 1, 0)
    polling.observe(o, 5, 20)
    polling.observe(o, 9, 30)
    polling.observe(o, 12, 30)
    assert.equals(10, o.progress_step)
    assert.equals(9, o.prev_elapsed)
    assert.equals(30, o.prev_progress)
    assert.equals(12, o.elapsed)
  end)
end)

-- The engine applies the schedule to the tasks it polls (src/engine_sched.c,
-- sd_poll_delay): it must be polling.delay, whatever the observations.
describe("the engine's poll schedule #c", function()
  local core = require("seedance.core")
  local function engine_delay(o, est, lo, hi)
    return core.poll_delay(o.elapsed, o.progress, o.prev_elapsed, o.prev_progress, o.progress_step, est, lo, hi,
      polling.LAG_FLOOR, polling.LAG_SHARE, polling.ESTIMATE_SLACK)
  end

  it("is polling.delay on every state (elapsed, progress, the poll before, steps, estimates, bounds) #m-poll-lag-bound #m-poll-estimate-slack #m-poll-rate-not-from-zero #m-engine-poll-delay #m-engine-poll-rate", function()
    local progress = { nil, 0, 1, 10, 20, 35, 50, 90, 99, 100 }
    local n = 0
    for _, t in ipairs{ 0, 1, 5, 14, 30, 40, 100, 400, 1000 } do
      for pi = 1, 10 do
        for ppi = 1, 10 do
          for _, dt in ipairs{ 1, 10, 60 } do
            for _, step in ipairs{ false, 1, 5, 10 } do
              for _, est in ipairs{ false, 0, 60, 100, 600, 5000 } do
                for _, bounds in ipairs{ { 1, 30 }, { 0, 1e9 }, { 5, 100 } } do
                  local o = { elapsed = t, progress = progress[pi], prev_elapsed = t > dt and t - dt or nil,
                              prev_progress = progress[ppi], progress_step = step or nil }
                  local want = polling.delay(o, est or nil, bounds[1], bounds[2])
                  local got = engine_delay(o, est or nil, bounds[1], bounds[2])
                  n = n + 1
                  if math.abs(want - got) > 1e-9 * math.max(1, want) then
                    error(string.format("elapsed %s progress %s prev %s/%s step %s estimate %s bounds %s..%s: "
                      .. "polling.delay %s, the engine %s", t, tostring(o.progress), tostring(o.prev_elapsed),
                      tostring(o.prev_progress), tostring(o.progress_step), tostring(est), bounds[1], bounds[2],
                      want, got))
                  end
                end
              end
            end
          end
        end
      end
    end
    assert.is_true(n > 100000)
  end)
end)

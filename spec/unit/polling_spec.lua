-- seedance.polling: when to poll a task next. Pure: no network, no clock.
local polling = require("seedance.polling")
local seedance = require("seedance")
local scheduler = require("seedance.scheduler")

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

describe("Task:_poll_delay #c", function()
  local function task_at(elapsed, fields)
    local c = seedance.new{ api_key = "k", base_url = "http://127.0.0.1:9", poll_min = 1, poll_max = 100 }
    local t = c:task("task_x")
    for k, v in pairs(fields) do t[k] = v end
    return t, { start = scheduler.now() - elapsed } -- the task, and a waiter's state
  end
  it("counts from `created` for a task met after a restart #m-poll-lag-bound", function()
    -- created 1000 s ago, estimated 600: running past its estimate, so 5% of 1000 s
    local t, w = task_at(0, { estimated_time = 600, created = os.time() - 1000 })
    assert.is_near(50, t:_poll_delay(w), 1)
    local fresh, fw = task_at(0, { estimated_time = 600 })
    assert.equals(100, fresh:_poll_delay(fw)) -- 150 s until the earliest end, capped at poll_max
  end)
end)
